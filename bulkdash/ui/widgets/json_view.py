"""A payload shown as highlighted, pretty-printed JSON (Rich's Pygments highlighter), scrollable."""

from __future__ import annotations

import json

from rich.syntax import Syntax
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from bulkdash.ui.guard import Guarded


def pretty_json(payload: str | bytes | None) -> str | None:
    """Indented JSON, or the text as it is when it is not JSON; None for no payload."""
    if payload is None or payload == "" or payload == b"":
        return None
    text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else payload
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


class JsonView(Guarded, VerticalScroll):
    DEFAULT_CLASSES = "json-view"

    def __init__(
        self, payload: str | bytes | None, *, empty: str = "(no body)", id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.text = pretty_json(payload)
        self._empty = empty

    def compose(self):  # type: ignore[no-untyped-def]
        if self.text is None:
            yield Static(Text(self._empty, style="dim italic"), classes="json-body")
        else:
            syntax = Syntax(self.text, "json", theme="monokai", background_color="default", word_wrap=True)
            yield Static(syntax, classes="json-body")
