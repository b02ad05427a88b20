"""The app's notifications: every toast kept in a history, and toasts about one thing replacing each other.

``NoticesMixin`` goes before Textual's ``App`` in an app's bases. Its ``notify`` is Textual's, plus ``key``:
a topic. A toast with a key takes the place of the one shown before with the same key instead of stacking
under it (twelve presses of ``-`` left twelve "World paused · speed 0.1×" toasts; now the last one shows).
Every toast, from the app, a screen or a widget (theirs call the app's ``notify``), is also kept as a
``Notice`` — the last ``HISTORY`` of them — which the Notifications screen (``action_notifications``) lists.

Textual's ``notify`` may be called from any thread: it only posts ``Notify``. So the topic is noted by the
notification's identity there, and acted on in the app's own handler of ``Notify``, which runs before
Textual's (Textual calls each class's handler, the subclass's first).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.content import Content
from textual.events import Mount
from textual.notifications import Notification, Notify, SeverityLevel
from textual.widgets._toast import Toast

if TYPE_CHECKING:
    from textual.app import App

#: How many notices the history keeps (the oldest go first).
HISTORY = 200
#: The time a toast whose notification has already run out is shown (``_toast_expires_at_once_when_late``).
LATE_TOAST_S = 0.001


def _toast_expires_at_once_when_late() -> None:
    """Textual (8.2) times a toast with ``set_timer(notification.time_left)``, and its ``Timer`` spins in a
    loop that never yields when the delay is negative: the app hangs at 100 % CPU. ``ToastRack.show`` checks
    that a notification has not expired just before it builds the toast, but a garbage collection between the
    two is enough (seen twice in the UI suite, with a timer at -0.054 s); at 0 it divides by zero. A late
    toast now expires after a millisecond."""
    on_mount = Toast._on_mount

    def _on_mount(self: Toast, event: Mount) -> None:
        self._timeout = max(LATE_TOAST_S, self._timeout)
        on_mount(self, event)

    Toast._on_mount = _on_mount  # type: ignore[method-assign]


_toast_expires_at_once_when_late()


@dataclass(frozen=True, slots=True)
class Notice:
    """One toast as it was shown: when (Unix time), how severe, its title and its message as plain text."""

    at: float
    severity: SeverityLevel
    title: str
    message: str
    key: str | None = None

    @property
    def line(self) -> str:
        """Title and message on one line (a table cell)."""
        text = f"{self.title}: {self.message}" if self.title else self.message
        return " ".join(text.split())


def _plain(notification: Notification) -> str:
    if not notification.markup:
        return notification.message
    try:
        return Content.from_markup(notification.message).plain
    except Exception:  # markup the toast could not parse either: the words as they came
        return notification.message


class NoticesMixin:
    """For a Textual ``App``: keyed toasts that replace each other, and the history of every toast."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.notices: deque[Notice] = deque(maxlen=HISTORY)
        self._notice_topics: dict[str, str] = {}  # identity of a notification not yet shown -> its key
        self._topic_toasts: dict[str, Notification] = {}  # key -> the toast last shown with it
        self._notice_listeners: list[Callable[[Notice], None]] = []

    @property
    def _app(self) -> App[Any]:
        return self  # type: ignore[return-value]

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
        key: str | None = None,
    ) -> None:
        """Textual's ``App.notify``; ``key`` names what the toast is about: a later toast with the same key
        replaces this one on screen (both stay in the history)."""
        app = self._app
        if timeout is None:
            timeout = app.NOTIFICATION_TIMEOUT
        notification = Notification(message, title, severity, timeout, markup=markup)
        if key is not None:
            self._notice_topics[notification.identity] = key
        app.post_message(Notify(notification))

    def _on_notify(self, event: Notify) -> None:
        # Runs before ``App._on_notify`` (which adds the toast and redraws the toasts): the previous toast of
        # the same topic is dropped here without a redraw of its own.
        notification = event.notification
        key = self._notice_topics.pop(notification.identity, None)
        if key is not None:
            previous = self._topic_toasts.get(key)
            if previous is not None:
                self._app._unnotify(previous, refresh=False)
            self._topic_toasts[key] = notification
        notice = Notice(
            notification.raised_at, notification.severity, notification.title, _plain(notification), key
        )
        self.notices.append(notice)
        for listener in list(self._notice_listeners):
            listener(notice)

    def add_notice_listener(self, listener: Callable[[Notice], None]) -> None:
        """Call ``listener`` with each notice from now on (the Notifications screen, while it is mounted)."""
        self._notice_listeners.append(listener)

    def remove_notice_listener(self, listener: Callable[[Notice], None]) -> None:
        if listener in self._notice_listeners:
            self._notice_listeners.remove(listener)

    def action_notifications(self) -> None:
        """Show the Notifications screen (once: not over itself)."""
        from bulkdash.ui.screens.notifications import NotificationsScreen  # not on the start-up path

        app = self._app
        if not isinstance(app.screen, NotificationsScreen):
            app.push_screen(NotificationsScreen())
