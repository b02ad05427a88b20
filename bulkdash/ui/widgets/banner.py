"""A one-line banner under the header for errors and waits ("Cannot reach …, retrying in 4 s")."""

from __future__ import annotations

from textual.widgets import Static


class Banner(Static):
    """Hidden until ``show``; ``severity`` picks the colour (``-error`` / ``-warning`` / ``-info``)."""

    DEFAULT_CLASSES = "banner"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)

    def show(self, message: str, severity: str = "error") -> None:
        # markup=False on purpose: server text (error bodies) must never be read as markup.
        self.update(message)
        self.set_class(severity == "error", "-error")
        self.set_class(severity == "warning", "-warning")
        self.set_class(severity == "info", "-info")
        self.add_class("-visible")

    def hide(self) -> None:
        self.remove_class("-visible")

    @property
    def visible_message(self) -> str | None:
        return str(self.content) if self.has_class("-visible") else None
