"""The Textual dashboard: ``BulkdashApp`` (app.py), one module per screen and per widget, styles in .tcss.

Nothing here awaits the network in an event handler: I/O runs in workers that post messages
(``bulkdash.ui.messages``), and the handlers only apply what the messages carry.
"""
