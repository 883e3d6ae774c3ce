"""The reader paths that are not the website: what a notebook imports is installed by the
package on Colab and Binder, the Colab set-up cell fails loudly, and widgets degrade to the
static form instead of an object repr (ipywidgets 7 on Colab, 8 elsewhere)."""
from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import tomllib
import warnings
from pathlib import Path

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

from dldna_helpers import widgets
from dldna_helpers.keys import _distributions_of_modules

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import sync_notebooks  # noqa: E402

# Modules every Jupyter kernel brings (Colab's, Binder's, a local one): the kernel itself.
KERNEL_MODULES = {"IPython", "ipykernel"}
PACKAGE = "dldna_helpers"


def _name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", re.split(r"[\s<>=!~\[;@,]", requirement.strip(), maxsplit=1)[0]).lower()


def _imports(source: str) -> set[str]:
    tree = ast.parse(TransformerManager().transform_cell(source))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def _third_party_imports() -> dict[str, set[str]]:
    """module → where it is imported: the launch notebooks' code cells and the package's sources."""
    where: dict[str, set[str]] = {}
    for page in sync_notebooks.notebook_pages():
        for cell in nbformat.read(page.with_suffix(".ipynb"), as_version=4).cells:
            if cell.cell_type == "code":
                for module in _imports(cell.source):
                    where.setdefault(module, set()).add(page.with_suffix(".ipynb").name)
    for py in sorted((ROOT / PACKAGE).rglob("*.py")):
        for module in _imports(py.read_text(encoding="utf-8")):
            where.setdefault(module, set()).add(py.relative_to(ROOT).as_posix())
    return {m: w for m, w in where.items()
            if m not in sys.stdlib_module_names and m != PACKAGE and m not in KERNEL_MODULES}


def _distribution(module: str) -> str:
    dists = _distributions_of_modules().get(module)   # the package's one cached scan
    assert dists, f"{module!r} is imported but no installed distribution provides it"
    return _name(dists[0])


def _requirement_names(path: Path) -> set[str]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return {_name(line) for line in lines if line and not line.startswith("-")}


def test_every_imported_module_is_a_declared_dependency():
    declared = {_name(d) for d in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]}
    binder = _requirement_names(ROOT / "binder" / "requirements.txt")
    imports = _third_party_imports()
    assert {"torch", "matplotlib", "numpy"} <= set(imports)  # the collector sees the notebooks
    missing = {m: sorted(w)[:3] for m, w in imports.items() if _distribution(m) not in declared}
    assert missing == {}, f"imported but not in pyproject.toml's dependencies (Colab would fail): {missing}"
    missing_binder = {m: sorted(w)[:3] for m, w in imports.items() if _distribution(m) not in binder}
    assert missing_binder == {}, f"imported but not installed by binder/requirements.txt: {missing_binder}"


def _pins(path: Path) -> dict[str, str]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return {_name(line): line.split("==", 1)[1].strip() for line in lines if "==" in line}


TOOL_FOLDERS = ("scripts", "tests", "bench", "book/_ext")


def _tool_imports() -> dict[str, set[str]]:
    """module → where it is imported, in the build and test tools (their own modules left out)."""
    own = {p.stem for folder in TOOL_FOLDERS for p in (ROOT / folder).rglob("*.py")}
    where: dict[str, set[str]] = {}
    for folder in TOOL_FOLDERS:
        for py in sorted((ROOT / folder).rglob("*.py")):
            for module in _imports(py.read_text(encoding="utf-8")):
                where.setdefault(module, set()).add(py.relative_to(ROOT).as_posix())
    return {m: w for m, w in where.items() if m not in sys.stdlib_module_names and m != PACKAGE and m not in own}


def test_every_import_of_the_build_and_test_tools_is_pinned():
    """scripts/, tests/, bench/ and book/_ext/ import packages that may arrive only indirectly
    (PyYAML, docutils, pybtex, jupyter-cache): constraints.txt pins each of them (and sphinx-thebe,
    whose bug book/_ext/page_scripts.py works around), and agrees with requirements.txt."""
    constraints = _pins(ROOT / "constraints.txt")
    imports = {**_tool_imports(), **_third_party_imports()}
    assert {"yaml", "docutils", "pybtex", "jupyter_cache", "pytest"} <= set(imports)  # the collector sees them
    unpinned = {m: sorted(w)[:3] for m, w in imports.items() if _distribution(m) not in constraints}
    assert unpinned == {}, f"imported but not pinned in constraints.txt: {unpinned}"
    assert "sphinx-thebe" in constraints
    requirements = _pins(ROOT / "requirements.txt")
    differing = {n: (v, constraints.get(n)) for n, v in requirements.items() if constraints.get(n) != v}
    assert differing == {}, f"requirements.txt and constraints.txt pin differently: {differing}"
    setup = (ROOT / "scripts" / "setup_env.sh").read_text(encoding="utf-8")
    assert "-r requirements.txt -c constraints.txt" in setup


def test_test_only_packages_are_a_test_extra_not_a_reader_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = {_name(d) for d in project["dependencies"]}
    assert "ripser" not in runtime and "ripser" in {_name(d) for d in project["optional-dependencies"]["test"]}
    assert "ripser" not in _third_party_imports()   # no notebook or package module needs it
    assert "ripser" in _tool_imports()


def test_no_page_imports_the_book_toolchain():
    """myst-nb (and with it Sphinx) exists only where the book is built."""
    imports = _third_party_imports()
    assert not {"myst_nb", "sphinx", "jupyter_book", "docutils"} & set(imports), imports


def test_colab_setup_cell_stops_with_a_korean_message_when_pip_fails(tmp_path):
    source = sync_notebooks.setup_cell_source(f"file://{tmp_path}/no-such-repository")
    script = "import sys, types\nsys.modules['google.colab'] = types.ModuleType('google.colab')\n" + source
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert run.returncode != 0
    assert "RuntimeError: 도우미 패키지(dldna_helpers)를 설치하지 못했습니다" in run.stderr
    assert "no-such-repository" in run.stderr  # pip's own reason follows the message


def test_setup_cell_outside_colab_installs_nothing():
    run = subprocess.run([sys.executable, "-c", sync_notebooks.setup_cell_source("file:///nowhere")],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and run.stdout == "" and run.stderr == ""


class _Widget7:
    """What an ipywidgets 7 widget offers IPython: a model id and _ipython_display_, no mimebundle."""

    model_id = "abc123"

    def _ipython_display_(self) -> None:  # pragma: no cover - never called by LiveOrStatic
        raise AssertionError


class _BrokenWidget:
    def _repr_mimebundle_(self, **kwargs):
        raise AttributeError("'VBox' object has no attribute '_repr_mimebundle_'")


def test_widget_view_for_ipywidgets_7_and_8():
    import ipywidgets

    bundle = widgets.LiveOrStatic(_Widget7(), "<b>form</b>")._repr_mimebundle_()
    assert bundle[widgets.WIDGET_VIEW] == {"version_major": 2, "version_minor": 0, "model_id": "abc123"}
    assert bundle["text/html"] == "<b>form</b>"
    live = widgets.LiveOrStatic(ipywidgets.HTML("x"), "<b>form</b>")._repr_mimebundle_()
    assert live[widgets.WIDGET_VIEW]["model_id"] and live["text/html"] == "<b>form</b>"


def test_a_broken_widget_frontend_still_shows_the_static_form():
    bundle = widgets.LiveOrStatic(_BrokenWidget(), "<b>form</b>")._repr_mimebundle_()
    assert bundle == {"text/html": "<b>form</b>", "text/plain": bundle["text/plain"]}
    assert "object at 0x" not in bundle["text/plain"]


def test_without_ipywidgets_the_checker_is_the_static_form(monkeypatch):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import fails as if not installed
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        checker = widgets.momentum_checker(live=True)
    assert checker.widget is None and "dldna-checker" in checker.html
    assert any("정적 양식" in str(w.message) for w in caught)
    assert widgets.WIDGET_VIEW not in checker._repr_mimebundle_()


def test_full_profile_pages_say_their_estimated_time_up_front():
    from dldna_helpers.env import FULL_PROFILE_T4_MINUTES, PROFILES, full_profile_notice

    notice = full_profile_notice(PROFILES["full"], "optimizers")
    minutes = round(FULL_PROFILE_T4_MINUTES["optimizers"])
    assert f"약 {minutes}분(추정치)" in notice and "%env DLDNA_PROFILE=quick" in notice
    assert "1분 안쪽" in full_profile_notice(PROFILES["full"], "basic")
    assert full_profile_notice(PROFILES["quick"], "optimizers") is None
    pages = {p.stem for p in sync_notebooks.notebook_pages()} - {"intro"}
    assert set(FULL_PROFILE_T4_MINUTES) == pages


def test_full_profile_estimates_are_the_readme_table():
    """The minutes a page announces are the estimate the README documents (bench/estimate_full_profile.py)."""
    from dldna_helpers.env import FULL_PROFILE_T4_MINUTES

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("### `full` 프로파일의 GPU 시간 추정"):]
    rows = dict(re.findall(r"^\| ([^|]+?) \| ([\d./ ]+) \|", table, re.M))
    titles = {"pipeline": "실습 환경과 학습 파이프라인", "initialization": "5.1 파라미터 초기화",
              "optimizers": "5.2 최적화 알고리즘", "loss_landscape": "5.3 손실 표면 시각화",
              "gaussian_paths": "5.4 가우시안 근사와 최적화 경로", "training_dynamics": "5.5 학습 동역학"}
    for page, title in titles.items():
        assert float(rows[title]) == FULL_PROFILE_T4_MINUTES[page], page
    basic, applied, advanced = (float(x) for x in rows["연습 문제 (기초 / 응용 / 심화)"].split("/"))
    assert (basic, applied, advanced) == tuple(FULL_PROFILE_T4_MINUTES[p] for p in ("basic", "applied", "advanced"))


def test_glue_writes_exactly_what_myst_nb_glue_writes(tmp_path):
    """The book build reads our glue records as its own: same data, same metadata."""
    from nbclient import NotebookClient

    value = "import pandas as pd\nvalue = pd.DataFrame({'a': [1.5, 2.0]})\n"
    cells = [value + f"from {module} import glue\nglue('x', value, display={shown})\nglue('y', '0.92', display={shown})"
             for module in ("myst_nb", "dldna_helpers.glue") for shown in (False, True)]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [[{k: o[k] for k in ("output_type", "data", "metadata")} for o in c.outputs] for c in nb.cells]
    assert outputs[0] == outputs[2] and outputs[1] == outputs[3]
    assert outputs[0][0]["metadata"]["scrapbook"] == {"name": "x", "mime_prefix": "application/papermill.record/"}


def test_glue_outside_ipython_does_nothing_and_checks_its_name():
    from dldna_helpers.glue import glue

    assert glue("x", 1) is None
    with pytest.raises(ValueError, match="non-empty string"):
        glue("", 1)


def test_reader_notebooks_number_equations_as_the_site_does():
    """식 (n) in a reader notebook is the number the built page shows next to that equation."""
    html_root = ROOT / "_build" / "html"
    if not (html_root / "index.html").exists():
        if os.environ.get("CI"):
            pytest.fail("the built site is missing: scripts/run_tests.sh builds it before the tests")
        pytest.skip("build the book first (bash scripts/build_book.sh)")
    import reader_notebook

    checked = 0
    for page in sync_notebooks.notebook_pages():
        html = (html_root / page.relative_to(ROOT).with_suffix(".html")).read_text(encoding="utf-8")
        site = {label: int(n) for label, n in
                re.findall(r'id="equation-([^"]+)">\s*<span class="eqno">\((\d+)\)', html)}
        markdown = [c.source for c in sync_notebooks.source_notebook(page).cells if c.cell_type == "markdown"]
        ours = reader_notebook.equation_numbers(markdown)
        assert ours == site, page.name
        checked += len(ours)
    assert checked > 30


def test_without_ipywidgets_every_exercise_checker_is_the_static_form(monkeypatch):
    from dldna_helpers import checkers

    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        form = checkers.checker([checkers.number("x", "x", 1.5, exact=True)], title="t", live=True)
    assert form.widget is None and "<form" in form.html
