"""Result tables as readers should see them: no pandas row numbers, a header for every column.

``pandas`` shows a DataFrame with its index: on a result table that is a column of row numbers
0…n with an empty header cell, which readers take for data and screen readers announce as an
unnamed column (axe-core: ``empty-table-header``). A page ends a table cell with
``show_table(df, caption="…")`` instead of ``df``:

- a default 0…n index is dropped; a meaningful index (optimizer names, learning rates) becomes the
  first column, headed by the index's name (an unnamed one is an error: say what it holds);
- every column header must be non-empty;
- the HTML is a plain ``<table>`` (``DataFrame.to_html``, deterministic, so a stored output can be compared)
  with the caption as ``<caption>``, in a box that scrolls sideways on a phone and can be reached
  with the keyboard; the plain-text form (terminals, output comparisons) is ``to_string`` without the index.
"""
from __future__ import annotations

import html
from typing import Any

__all__ = ["Table", "show_table", "prepare"]


def prepare(df: Any) -> Any:
    """``df`` with its index turned into a column (or dropped when it only counts rows)."""
    import pandas as pd

    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"show_table needs a pandas DataFrame, got {type(df).__name__}")
    out = df.copy()
    index = out.index
    is_row_numbers = isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1 \
        and all(name is None for name in index.names)
    if is_row_numbers:
        out = out.reset_index(drop=True)
    else:
        if any(name is None or str(name).strip() == "" for name in index.names):
            raise ValueError("the table's index has no name: name it (df.index.name = '최적화기') or "
                             "reset it (df.reset_index(drop=True)) so that its column has a header")
        out = out.reset_index()
    empty = [i for i, c in enumerate(out.columns)
             if (c is None or str(c).strip() == "" or str(c).startswith("Unnamed:"))]
    if empty:
        raise ValueError(f"column(s) at position {empty} have no header: every column needs a name")
    return out


class Table:
    """A DataFrame shown without row numbers, with an optional caption (see module docstring)."""

    def __init__(self, df: Any, caption: str | None = None, float_format: Any = None) -> None:
        if caption is not None and (not isinstance(caption, str) or not caption.strip()):
            raise ValueError(f"caption must be a non-empty sentence or None, got {caption!r}")
        self.df = prepare(df)
        self.caption = caption.strip() if caption else None
        self.float_format = float_format

    def to_html(self) -> str:
        table = self.df.to_html(index=False, border=0, classes=["dldna-table"], na_rep="–",
                                float_format=self.float_format, escape=True)
        if self.caption:
            table = table.replace(">", f">\n  <caption>{html.escape(self.caption)}</caption>", 1)
        label = html.escape(self.caption or "결과 표")
        # a box that scrolls sideways on a phone; focusable so that a keyboard can scroll it too
        return f'<div class="dldna-table-wrap" role="region" aria-label="{label}" tabindex="0">{table}</div>'

    def to_text(self) -> str:
        text = self.df.to_string(index=False, na_rep="–", float_format=self.float_format)
        return f"{self.caption}\n{text}" if self.caption else text

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, str]:
        return {"text/html": self.to_html(), "text/plain": self.to_text()}


def show_table(df: Any, *, caption: str | None = None, float_format: Any = None) -> None:
    """Display ``df`` as a result table: no row numbers, ``caption`` above it (e.g.
    "최적화기별 시험 오차율 (평균 ± 표준편차, 시드 3개)")."""
    from IPython.display import display

    display(Table(df, caption=caption, float_format=float_format))
