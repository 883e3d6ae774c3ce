"""book/_ext/page_scripts.py: identical script entries are kept once, in order."""
from __future__ import annotations

import sys
from pathlib import Path

from sphinx.builders.html._assets import _JavaScript

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "book" / "_ext"))

from page_scripts import drop_duplicate_scripts, drop_icon_script  # noqa: E402


def test_duplicate_inline_scripts_are_dropped():
    thebe = "const THEBE_JS_URL = 'x'"
    scripts = [
        _JavaScript("_static/doctools.js"),
        _JavaScript(None, body=thebe),
        _JavaScript("_static/sphinx-thebe.js"),
        _JavaScript("", body=thebe),          # the copy that threw "already declared"
        _JavaScript("", body="var other = 1"),
        _JavaScript("_static/doctools.js"),
    ]
    context = {"script_files": scripts}
    drop_duplicate_scripts(None, "page", "page.html", context, None)
    kept = [(js.filename, js.attributes.get("body")) for js in context["script_files"]]
    assert kept == [("_static/doctools.js", None), (None, thebe), ("_static/sphinx-thebe.js", None),
                    ("", "var other = 1")]
    assert context["script_files"] is scripts  # edited in place: Sphinx renders this list


def test_page_without_scripts_is_left_alone():
    context: dict = {}
    drop_duplicate_scripts(None, "page", "page.html", context, None)
    assert context == {}


def test_the_icon_script_is_dropped_and_nothing_else():
    head = ('<script defer src="../_static/scripts/fontawesome.js?digest=55c26ed414f5f8a31ebb"></script>\n'
            '<link rel="preload" as="script" href="../_static/scripts/bootstrap.js?digest=5" />')
    assert drop_icon_script(head) == '\n<link rel="preload" as="script" href="../_static/scripts/bootstrap.js?digest=5" />'
    assert drop_icon_script('<script src="x.js"></script>') == '<script src="x.js"></script>'
    assert drop_icon_script('<i class="fab fa-github"></i>') == '<i class="fa-solid fa-code-branch"></i>'


def test_search_scripts_stay_only_on_the_search_page():
    head = ('<script src="../_static/searchtools.js"></script>\n<script src="../_static/language_data.js"></script>\n'
            '<script src="../searchindex.js"></script>\n<script src="../_static/doctools.js"></script>')
    assert drop_icon_script(head) == '\n<script src="../_static/doctools.js"></script>'
    assert drop_icon_script(head, search_page=True) == head
