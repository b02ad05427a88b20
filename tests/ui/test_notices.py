"""Notifications: toasts about one thing replace each other (a topic ``key``) instead of stacking, every toast
is kept (the last 200), and the Notifications screen lists them — time, severity, message."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.notifications import Notification
from textual.widgets import Static
from textual.widgets._toast import Toast

from bulkdash.ui.notices import HISTORY, NoticesMixin
from bulkdash.ui.screens.notifications import NotificationsScreen, NotificationsTable
from tests.ui.helpers import SIZE, connected, make_app, until


class NoticeApp(NoticesMixin, App[None]):
    """Just the mixin: ``-`` halves a speed and says so, like the presenter's control."""

    BINDINGS = [
        Binding("minus", "slower", "Slower"),
        Binding("N", "notifications", "Notifications"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.speed = 1.0

    def compose(self) -> ComposeResult:
        yield Static("world")

    def action_slower(self) -> None:
        self.speed /= 2
        self.notify(f"World paused · speed {self.speed}×", title="Presenter", timeout=30, key="presenter")


def toasts(app: App[object]) -> list[str]:
    return [str(toast._notification.message) for toast in app.screen.query(Toast)]


async def test_twelve_presses_leave_one_toast_the_last_and_twelve_notices() -> None:
    app = NoticeApp()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        for _ in range(12):
            await pilot.press("minus")
        last = f"World paused · speed {1 / 2**12}×"
        await until(pilot, lambda: len(app.notices) == 12, what="twelve notices")
        await until(pilot, lambda: toasts(app) == [last], what="one toast, the last")
        assert [n.message for n in app._notifications] == [last]
        assert all(n.key == "presenter" and n.title == "Presenter" for n in app.notices)


async def test_toasts_without_a_key_or_with_other_keys_still_stack() -> None:
    app = NoticeApp()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        app.notify("one")
        app.notify("two")
        app.notify("fault", key="fault")
        app.notify("speed", key="presenter")
        await until(pilot, lambda: len(toasts(app)) == 4, what="four toasts")
        app.notify("speed again", key="presenter")
        await until(pilot, lambda: "speed" not in toasts(app), what="the old speed toast to go")
        assert sorted(toasts(app)) == ["fault", "one", "speed again", "two"]


async def test_the_history_keeps_the_last_200_as_plain_text() -> None:
    app = NoticeApp()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        app.notify("[b]Bold[/b] words", severity="warning")
        for n in range(HISTORY + 4):
            app.notify(f"notice {n}", timeout=0.1)
        await until(pilot, lambda: app.notices and app.notices[-1].message == f"notice {HISTORY + 3}")
        assert len(app.notices) == HISTORY == 200
        assert app.notices[0].message == "notice 4"
        app.notify("[b]Bold[/b] words", severity="warning")
        await until(pilot, lambda: app.notices[-1].message == "Bold words")
        assert app.notices[-1].severity == "warning"


async def test_the_notifications_screen_lists_every_toast_and_follows_new_ones() -> None:
    app = NoticeApp()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        app.notify("Bulk 1000001 COMPLETED: 10 completed", severity="information")
        # A widget's toast (Textual's ``Widget.notify`` calls the app's) is kept too.
        app.screen.query_one(Static).notify("Cannot pause bulk 7", title="Refused", severity="error")
        await until(pilot, lambda: len(app.notices) == 2)

        await pilot.press("N")
        await until(pilot, lambda: isinstance(app.screen, NotificationsScreen), what="the screen")
        screen = app.screen
        table = screen.query_one(NotificationsTable)
        await until(pilot, lambda: table.row_count == 2)
        rows = [[str(cell) for cell in table.get_row_at(i)] for i in range(2)]
        assert [row[1:] for row in rows] == [
            ["information", "Bulk 1000001 COMPLETED: 10 completed"],
            ["error", "Refused: Cannot pause bulk 7"],
        ]
        assert all(row[0].count(":") == 2 for row in rows)  # a time of day
        assert table.cursor_row == 1  # on the newest
        detail = screen.query_one("#notices-detail", Static)
        await until(pilot, lambda: "Cannot pause bulk 7" in str(detail.content))

        await pilot.press("minus")  # a toast while the screen is shown: appended, and followed
        await until(pilot, lambda: table.row_count == 3)
        assert "Presenter: World paused" in str(table.get_row_at(2)[2]) and table.cursor_row == 2

        await pilot.press("N")  # not stacked over itself
        await pilot.pause()
        assert sum(isinstance(s, NotificationsScreen) for s in app.screen_stack) == 1
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, NotificationsScreen))
        assert app._notice_listeners == []


# --- the dashboard (once ``NoticesMixin``, the ``N`` binding and the presenter's key are wired in) ---------


async def test_dashboard_keeps_its_toasts_and_n_lists_them() -> None:
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await connected(pilot)
        app.notify("from the dashboard", key="test")
        notices = app.notices  # type: ignore[attr-defined]
        await until(pilot, lambda: any(n.message == "from the dashboard" for n in notices))
        await pilot.press("N")
        await until(pilot, lambda: isinstance(app.screen, NotificationsScreen), what="the notifications")
        table = app.screen.query_one(NotificationsTable)

        def listed() -> list[str]:
            return [str(table.get_row_at(i)[2]) for i in range(table.row_count)]

        await until(pilot, lambda: "from the dashboard" in listed(), what="the toast listed")


async def test_dashboard_presenter_toasts_replace_each_other() -> None:
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await connected(pilot)
        for _ in range(3):
            await pilot.press("minus")

        def presenter() -> list[object]:
            return [n for n in app.notices if n.title == "Presenter"]  # type: ignore[attr-defined]

        await until(pilot, lambda: len(presenter()) == 3, what="three presenter notices")
        await until(
            pilot, lambda: [n.title for n in app._notifications].count("Presenter") == 1, what="one toast"
        )
        shown = next(n.message for n in app._notifications if n.title == "Presenter")
        assert shown == presenter()[-1].message  # type: ignore[attr-defined]  # the last one


async def test_a_toast_whose_time_ran_out_before_it_was_shown_does_not_hang_the_app() -> None:
    # Textual's timer loops forever on a negative delay; a toast built just after its notification ran out
    # (a garbage collection between ToastRack's check and the toast) had one. It now expires at once.
    app = NoticeApp()
    async with app.run_test(size=SIZE) as pilot:
        late = Notification("late", timeout=1.0)
        late.raised_at -= 1.05  # its time ran out 50 ms ago
        await app.mount(Toast(late))
        await pilot.pause(0.1)
        assert not app.query(Toast)  # expired at once, and the app went on
