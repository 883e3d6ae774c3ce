"""What can be checked here of deploy and launch (none of them can reach the internet):
the GitHub Pages workflow, the Colab set-up cell and the Binder environment."""
from __future__ import annotations

import importlib.util
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BUILD_COMMAND = "bash scripts/build_book.sh"


def _name(requirement: str) -> str:
    """Normalised distribution name of a requirement line (PEP 503)."""
    name = re.split(r"[\s<>=!~\[;@]", requirement.strip(), maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            name, _, version = line.partition("==")
            pins[_name(name)] = version.strip()
    return pins


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


# ---------------------------------------------------------------- GitHub Pages
def _workflow() -> dict:
    return yaml.safe_load((ROOT / ".github/workflows/deploy.yml").read_text(encoding="utf-8"))


def _readme_build_command() -> str:
    """The build command the README documents."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.findall(r"^\s*(bash scripts/build_book\.sh[^\n`#]*)", readme, re.M)
    assert found, f"README.md documents no build command ({BUILD_COMMAND!r} expected)"
    return found[0].strip()


def test_workflow_builds_with_the_readme_command_and_publishes_pages():
    wf = _workflow()
    triggers = wf.get("on", wf.get(True))  # YAML 1.1 reads a bare `on` as True
    assert "push" in triggers and "workflow_dispatch" in triggers
    assert wf["permissions"]["pages"] == "write" and wf["permissions"]["id-token"] == "write"

    build = wf["jobs"]["build"]["steps"]
    runs = [s.get("run", "") for s in build]
    command = _readme_build_command()
    assert any(command in r for r in runs), f"no step runs the README's build command {command!r}"
    upload = [s for s in build if s.get("uses", "").startswith("actions/upload-pages-artifact@")]
    assert upload and upload[0]["with"]["path"] == "_build/html"
    # the artifact is uploaded after the build step
    assert runs.index(next(r for r in runs if command in r)) < build.index(upload[0])

    # MPLBACKEND=Agg would reach the notebook kernels and make plt.show() draw nothing:
    # the published book would have no figures.
    assert "MPLBACKEND" not in (ROOT / ".github/workflows/deploy.yml").read_text(encoding="utf-8")

    deploy = wf["jobs"]["deploy"]
    assert deploy["needs"] == "build"
    assert deploy["environment"]["name"] == "github-pages"
    assert any(s.get("uses", "").startswith("actions/deploy-pages@") for s in deploy["steps"])


def test_build_script_exists_and_builds_with_warnings_as_errors():
    script = (ROOT / "scripts/build_book.sh").read_text(encoding="utf-8")
    assert "jupyter-book build -W" in script


# ------------------------------------------------------------ Colab set-up cell
def _sync_module():
    spec = importlib.util.spec_from_file_location("sync_notebooks", ROOT / "scripts/sync_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_colab_cell_installs_the_package_whose_dependencies_pyproject_lists():
    """Colab installs `dldna_helpers @ git+<repository.url>`: pip then takes the dependency
    list from pyproject.toml, so the cell must name nothing else."""
    sync = _sync_module()
    url = sync.repository_url()
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert url == config["repository"]["url"].rstrip("/")
    source = sync.setup_cell_source(url)
    specs = re.findall(r'^\s*package = "([^"]+)"$', source, re.M)
    package = _pyproject()["project"]["name"]
    assert specs == [f"{package} @ git+{url}"], source
    assert '"pip", "install", "-q", package]' in source  # the one thing pip installs
    assert 'if "google.colab" in sys.modules' in source  # local and Binder runs install nothing


def test_pyproject_dependencies_are_pinned_in_requirements():
    """The Colab install (pyproject) and the local/CI environment (requirements.txt) list
    the same packages; torch stays unpinned in pyproject so Colab keeps its own build."""
    deps = _pyproject()["project"]["dependencies"]
    pinned = _pins(ROOT / "requirements.txt")
    missing = [d for d in deps if _name(d) not in pinned]
    assert missing == [], f"in pyproject.toml but not pinned in requirements.txt: {missing}"
    torch_spec = next(d for d in deps if _name(d) == "torch")
    assert "==" not in torch_spec


def test_pages_carry_the_generated_colab_cell():
    sync = _sync_module()
    expected = sync.setup_cell_source(sync.repository_url())
    for page in sync.notebook_pages():
        text = page.read_text(encoding="utf-8")
        cell = re.search(r"```\{code-cell\} ipython3\n:tags: \[colab-setup, remove-cell\]\n\n(.*?)```", text, re.S)
        assert cell, f"{page.relative_to(ROOT)}: no colab-setup cell"
        assert cell.group(1) == expected, f"{page.relative_to(ROOT)}: run scripts/sync_notebooks.py"


# -------------------------------------------------------------------- Binder
def test_binder_installs_cpu_torch_with_the_project_pins():
    req = (ROOT / "binder/requirements.txt").read_text(encoding="utf-8")
    assert re.search(r"^--extra-index-url https://download\.pytorch\.org/whl/cpu\s*$", req, re.M)
    binder = _pins(ROOT / "binder/requirements.txt")
    project = _pins(ROOT / "requirements.txt")
    assert {"torch", "torchvision"} <= set(binder)
    differing = {n: (v, project.get(n)) for n, v in binder.items() if project.get(n) != v}
    assert differing == {}, f"binder pins differ from requirements.txt: {differing}"
    # every run-time dependency of the helper package is installed on Binder
    deps = {_name(d) for d in _pyproject()["project"]["dependencies"]}
    assert deps <= set(binder), f"missing on Binder: {sorted(deps - set(binder))}"
    post = (ROOT / "binder/postBuild").read_text(encoding="utf-8")
    assert "pip install" in post and "-e ." in post
