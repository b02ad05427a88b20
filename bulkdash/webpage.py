"""textual-serve's page without the internet: used by ``bulkdash serve`` and ``bulkdash classroom``.

The page textual-serve renders links a Google Fonts stylesheet; :func:`offline_page_loader` swaps that for
the copy of the same font textual-serve ships, so the page needs nothing from outside. jinja2 is imported when
a server builds its page, never at start-up.
"""

from __future__ import annotations

import re
from typing import Any


def offline_page_loader(templates_path: Any) -> Any:
    """A jinja2 loader of textual-serve's page, its Google Fonts link replaced by the font file textual-serve
    serves itself (the page then loads nothing from the internet)."""
    import jinja2

    class _OfflinePageLoader(jinja2.FileSystemLoader):
        _FONTS_LINK = re.compile(r"<link[^>]*fonts\.googleapis\.com[^>]*>", re.DOTALL)
        _LOCAL_FONT = (
            "<style>@font-face { font-family: 'Roboto Mono'; "
            "src: url('{{ config.static.url }}fonts/RobotoMono-VariableFont_wght.ttf'); }</style>"
        )

        def get_source(self, environment: jinja2.Environment, template: str) -> Any:
            source, filename, uptodate = super().get_source(environment, template)
            return self._FONTS_LINK.sub(lambda _: self._LOCAL_FONT, source), filename, uptodate

    return _OfflinePageLoader(templates_path)


__all__ = ["offline_page_loader"]
