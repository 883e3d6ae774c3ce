"""The notebook a reader downloads is the reader notebook, with its outputs.

sphinx-book-theme's ".ipynb" download button points at ``_sources/<page>.ipynb``, which it
converts from the MyST source: no outputs, MyST markup Jupyter cannot show. The page's committed
``.ipynb`` is the notebook Colab and Binder open (``scripts/sync_notebooks.py``: outputs of the
last execution, glued values written into the prose, solutions folded); it replaces that file
when the build finishes.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx


def copy_reader_notebooks(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    sources = Path(app.outdir) / "_sources"
    for docname in app.env.found_docs:
        reader = Path(app.srcdir) / f"{docname}.ipynb"
        target = sources / f"{docname}.ipynb"
        if reader.is_file() and target.parent.is_dir():
            shutil.copyfile(reader, target)


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("build-finished", copy_reader_notebooks)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
