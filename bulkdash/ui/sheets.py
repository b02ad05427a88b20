"""Which style sheets (``styles/*.tcss``) load when.

The app loads only the first screen's sheets (``FIRST``): every rule loaded is matched against every widget
the first frame styles, and the other screens' rules made that frame ~10 ms later (issue 16,
``benchmarks/dash_cold``). Every other screen names ``LATER`` as its ``CSS_PATH``; Textual reads a sheet once,
so the first of them to open loads them all, appended in this order after ``FIRST`` — the same sheets in the
same order as one list would give, hence the same cascade.

Left to Textual, that first opening (a bulk's run page, most often while it runs) also re-parsed every sheet
and widget default from scratch and restyled the whole app: ~45 ms of one handler, with keys waiting behind
it. So once the first screen is connected and drawn, :func:`preload_later` reads ``LATER`` itself, in the
same order, parsing only what is new (~5 ms), and restyles the app in a second turn of the loop (~5 ms);
the first screen to name ``LATER`` then finds every sheet read and loads nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import App

STYLES = Path(__file__).parent / "styles"
FIRST = [STYLES / f"{name}.tcss" for name in ("app", "home")]
LATER = [STYLES / f"{name}.tcss" for name in ("run", "dialogs", "webhooks", "api_log", "connect", "training")]

#: The dialogs' ``VERTICAL_BREAKPOINTS``: in a terminal of fewer than 36 lines (80×24) a dialog has the class
#: ``-short`` and tightens up (``dialogs.tcss``). Only the screens those rules style name it: on any screen a
#: breakpoint class is set as it first gets its size, and that restyles every widget on it (~18 ms for a
#: bulk's run page as it opened; on the home screen, before the first frame).
SHORT_TERMINAL: list[tuple[int, str]] = [(0, "-short"), (36, "-tall")]
#: The checklist's ``HORIZONTAL_BREAKPOINTS``: under 100 columns (80×24) its question list narrows, so the
#: chosen question's choices and verdict get the width (``training.tcss``).
NARROW_TERMINAL: list[tuple[int, str]] = [(0, "-narrow"), (100, "-wide")]


def unread(app: App[Any]) -> list[Path]:
    """The ``LATER`` sheets ``app``'s stylesheet has not read yet, in order."""
    # The key Textual checks before reading a screen's sheet (``App._load_screen_css``): the path as a string.
    return [path for path in LATER if not app.stylesheet.has_source(str(path))]


def preload_later(app: App[Any]) -> None:
    """Read the ``LATER`` sheets into ``app``'s stylesheet now, then restyle the app on the next turn of the
    loop: what Textual does when the first screen naming them opens, without its full re-parse, and at a
    moment chosen by the caller (after the first screen is drawn, not as a bulk opens)."""
    paths = unread(app)
    if not paths:
        return  # a screen naming them has opened already
    stylesheet = app.stylesheet
    for path in paths:
        stylesheet.read(path)
    # Parses the new sheets only: the others' rules come from the stylesheet's cache (keyed by their text,
    # origin and the theme's variables, so they are what a re-parse would give).
    stylesheet.parse()
    # Rules for other screens may match a widget on this one too (as they do once Textual has loaded them).
    app.call_later(stylesheet.update, app)
