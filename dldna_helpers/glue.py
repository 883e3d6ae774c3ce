"""``glue``: hand a cell's value to the prose of the page, without depending on myst-nb.

myst-nb's ``glue`` only writes a display output in a documented format (the "scrapbook"
record): a mimebundle whose keys carry the prefix ``application/papermill.record/`` when
the value is not to be shown, and the metadata ``{"scrapbook": {"name", "mime_prefix"}}``.
Importing it, however, pulls in Sphinx and docutils, which Colab and Binder do not have.
This module writes the same record with IPython alone, so the book build reads the values
exactly as before, and a reader's notebook runs with the package's own dependencies. In a
notebook the hidden record renders as nothing; outside IPython ``glue`` does nothing.
"""
from __future__ import annotations

from typing import Any

__all__ = ["glue", "GLUE_PREFIX"]

GLUE_PREFIX = "application/papermill.record/"


def glue(name: str, variable: Any, display: bool = True) -> None:
    """Record ``variable`` under ``name`` for ``{glue:text}`name``` (and friends) in the prose.

    ``display=False`` stores the value without showing it in the cell's output.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"glue name must be a non-empty string, got {name!r}")
    try:
        from IPython import get_ipython
        from IPython.display import display as ipython_display
    except ImportError:  # plain Python: nothing to record into
        return
    shell = get_ipython()
    if shell is None:
        return
    mimebundle, metadata = shell.display_formatter.format(variable)
    mime_prefix = "" if display else GLUE_PREFIX
    metadata = dict(metadata or {})
    metadata["scrapbook"] = {"name": name, "mime_prefix": mime_prefix}
    ipython_display({mime_prefix + key: value for key, value in mimebundle.items()},
                    raw=True, metadata=metadata)
