"""Which style sheets (``styles/*.tcss``) load when.

The app loads only the first screen's sheets (``FIRST``): every rule loaded is matched against every widget
the first frame styles, and the other screens' rules made that frame ~10 ms later (issue 16,
``benchmarks/dash_cold``). Every other screen names ``LATER`` as its ``CSS_PATH``; Textual reads a sheet once,
so the first of them to open loads them all, appended in this order after ``FIRST`` — the same sheets in the
same order as one list would give, hence the same cascade.
"""

from __future__ import annotations

from pathlib import Path

STYLES = Path(__file__).parent / "styles"
FIRST = [STYLES / f"{name}.tcss" for name in ("app", "home")]
LATER = [STYLES / f"{name}.tcss" for name in ("run", "dialogs", "webhooks", "api_log", "connect", "training")]
