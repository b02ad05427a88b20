"""The Textual dashboard: ``BulkdashApp`` (app.py), one module per screen and per widget, styles in .tcss.

Nothing here does I/O: the dashboard service (``bulkdash.service``) does, and its events reach the screens
as messages (``bulkdash.ui.messages``) whose handlers only apply what they carry.
"""
