"""Figures with words: every figure of the book is shown with a Korean caption and alt text.

A page ends a plotting cell with ``show(fig, caption=..., alt=...)`` instead of ``plt.show()``.
The figure is displayed as a PNG whose output metadata carries the caption and the alt text
(``{"image/png": {"caption": ..., "alt": ...}}``); the book's renderer turns that into a
numbered figure with its caption and an ``<img alt>`` a screen reader reads. The alt text says
what is plotted and what it shows — with the numbers the cell computed, not typed by hand.
"""
from __future__ import annotations

import base64
import io

__all__ = ["show", "FIGURE_DPI"]

FIGURE_DPI = 120   # sharp on a phone and on 2× screens, small enough for a page under 3 MB


def _check_text(value: object, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be a non-empty Korean sentence, got {value!r}")
    if not any("가" <= ch <= "힣" for ch in value):
        raise ValueError(f"{what} must be written in Korean, got {value!r}")
    if value.strip().lower().endswith((".png", ".svg", ".jpg")):
        raise ValueError(f"{what} must describe the figure, not name a file: {value!r}")
    return value.strip()


def show(fig, *, caption: str, alt: str, dpi: int = FIGURE_DPI) -> None:
    """Display ``fig`` (a matplotlib figure) with its ``caption`` (shown under it, numbered by the
    book) and ``alt`` (what a screen reader says: what is plotted and its main finding), then close
    it so the inline backend does not draw it a second time."""
    import matplotlib.pyplot as plt
    from IPython.display import display

    caption, alt = _check_text(caption, "caption"), _check_text(alt, "alt")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    display({"image/png": data, "text/plain": f"<그림: {caption}>"}, raw=True,
            metadata={"image/png": {"caption": caption, "alt": alt}})
