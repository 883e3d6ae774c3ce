"""Reusable pieces for tests that look at the built site in a real browser.

* :func:`serve_folder` serves a folder over HTTP on 127.0.0.1 (a free port) for the
  duration of a ``with`` block.
* :class:`Browser` drives Debian's headless Chromium through Playwright (no browser
  download: ``executable_path`` points at the system binary) with a fresh profile, and
  blocks every request that leaves 127.0.0.1, so a page that still needs a CDN shows up
  as a failed request instead of silently working online.
* :meth:`Browser.open` returns a :class:`PageVisit`: the Playwright page plus the
  JavaScript errors, console errors, failed and off-site requests seen while loading.

Example::

    with serve_folder(site) as base, Browser() as browser:
        visit = browser.open(base + "/book/pipeline.html")
        assert visit.problems() == []

A test module that needs the browser calls :func:`require_chromium` at import: without
Chromium or Playwright it is skipped on a developer's machine but fails when ``CI=true``.
"""
from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shutil
import socketserver
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
NOT_PAGES = {"_static", "_sources", "_images", "vendor", "_sphinx_design_static"}
AXE = ROOT / "_assets" / "test-vendor" / "axe-core" / "axe.min.js"   # scripts/fetch_assets.sh
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def chromium_path() -> str:
    """The Chromium binary: $DLDNA_CHROMIUM, else Debian's /usr/bin/chromium."""
    candidates = [os.environ.get("DLDNA_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")]
    for path in candidates:
        if path and Path(path).is_file():
            return path
    raise FileNotFoundError(
        "headless Chromium not found (looked at $DLDNA_CHROMIUM and /usr/bin/chromium); "
        "install it with `apt-get install chromium` (scripts/setup_env.sh does so as root)")


def running_in_ci() -> bool:
    """True under CI (GitHub Actions and most CI services set ``CI=true``)."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def require_chromium() -> str:
    """The Chromium binary, for a browser test module to call at import.

    Without Playwright or Chromium the module is skipped locally, but under CI it fails: a CI
    machine that lacks the browser must not pass by skipping the tests that need it.
    """
    try:
        import playwright.sync_api  # noqa: F401
        return chromium_path()
    except (ImportError, FileNotFoundError) as exc:
        import pytest

        if running_in_ci():
            pytest.fail(f"CI=true but the browser tests cannot run: {exc}", pytrace=False)
        pytest.skip(f"browser tests skipped (set CI=true to make this an error): {exc}",
                    allow_module_level=True)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 - signature of the base
        pass  # keep pytest output readable; failures are reported by the browser side


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


@contextlib.contextmanager
def serve_folder(folder: str | Path) -> Iterator[str]:
    """Serve ``folder`` on http://127.0.0.1:<free port>; yields the base URL (no slash)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"cannot serve {folder}: not a folder")
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def site_pages(site: Path) -> list[str]:
    """Every page of a built site (paths relative to it), not its assets nor the redirect at its
    root; an empty list when there is no built site."""
    if not (Path(site) / "search.html").is_file():
        return []
    pages = []
    for path in sorted(Path(site).rglob("*.html")):
        rel = path.relative_to(site)
        if rel.parts[0] in NOT_PAGES:
            continue
        if 'http-equiv="refresh"' in path.read_text(encoding="utf-8", errors="replace")[:2000].lower():
            continue
        pages.append(rel.as_posix())
    return pages


@dataclass
class PageVisit:
    """One loaded page and what went wrong while loading it."""

    url: str
    page: object  # playwright.sync_api.Page
    js_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    offsite_requests: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        """Everything a reader would notice or an offline reader would miss, as text."""
        return ([f"JS error: {e}" for e in self.js_errors]
                + [f"console error: {e}" for e in self.console_errors]
                + [f"failed request: {r}" for r in self.failed_requests]
                + [f"off-site request (blocked): {r}" for r in self.offsite_requests])


PHONE = (390, 844)   # the phone of DESIGN.md's reader paths (with touch, device scale 3)


class Browser:
    """Headless Chromium with a fresh profile; use as a context manager.

    ``mobile=True`` emulates a phone or tablet as Chromium's device mode does: ``is_mobile``
    (the meta viewport applies, the page may be zoomed), ``has_touch`` (taps, not clicks, and
    no hover) and ``device_scale``."""

    def __init__(self, viewport: tuple[int, int] = (1280, 900), timeout_ms: int = 30_000, *,
                 mobile: bool = False, device_scale: float = 3) -> None:
        self.viewport = viewport
        self.timeout_ms = timeout_ms
        self.mobile = mobile
        self.device_scale = device_scale
        self._pw = None
        self._context = None
        self._profile: str | None = None
        self._current: PageVisit | None = None  # the tab loading now: off-site requests go to it

    def __enter__(self) -> "Browser":
        try:
            from playwright.sync_api import sync_playwright
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("the browser tests need `playwright` (pinned in requirements.txt); "
                              "run scripts/setup_env.sh") from exc
        executable = chromium_path()
        self._profile = tempfile.mkdtemp(prefix="dldna-chromium-")
        self._pw = sync_playwright().start()
        device = ({"is_mobile": True, "has_touch": True, "device_scale_factor": self.device_scale}
                  if self.mobile else {})
        try:
            self._context = self._pw.chromium.launch_persistent_context(
                self._profile, executable_path=executable, headless=True, args=CHROMIUM_FLAGS,
                viewport={"width": self.viewport[0], "height": self.viewport[1]},
                locale="ko-KR", service_workers="block", **device)
        except Exception:
            self._pw.stop()
            raise
        self._context.set_default_timeout(self.timeout_ms)
        self._context.route("**/*", self._only_local)
        return self

    def __exit__(self, *exc) -> None:
        try:
            if self._context is not None:
                self._context.close()
        finally:
            if self._pw is not None:
                self._pw.stop()
            if self._profile:
                shutil.rmtree(self._profile, ignore_errors=True)

    def _only_local(self, route) -> None:
        url = route.request.url
        if url.startswith(("data:", "blob:", "about:")) or urlsplit(url).hostname in LOCAL_HOSTS:
            route.continue_()
            return
        if self._current is not None:
            self._current.offsite_requests.append(url)
        route.abort()

    def open(self, url: str, *, color_scheme: str | None = None, wait_for_math: bool = True,
             init_script: str | None = None) -> PageVisit:
        """Load ``url`` in a new tab; wait for the load event and for MathJax to finish.
        ``init_script`` runs in the page before its own scripts (e.g. to set a timeout)."""
        if self._context is None:
            raise RuntimeError("use Browser() as a context manager before open()")
        page = self._context.new_page()
        if init_script:
            page.add_init_script(init_script)
        if color_scheme:
            page.emulate_media(color_scheme=color_scheme)
        visit = PageVisit(url=url, page=page)
        self._current = visit
        page.on("pageerror", lambda exc: visit.js_errors.append(str(exc)))
        page.on("console", lambda msg: visit.console_errors.append(msg.text) if msg.type == "error" else None)
        page.on("requestfailed", lambda req: visit.failed_requests.append(
            f"{req.url} ({req.failure})") if urlsplit(req.url).hostname in LOCAL_HOSTS else None)
        page.on("response", lambda resp: visit.failed_requests.append(
            f"{resp.url} (HTTP {resp.status})") if resp.status >= 400 else None)
        page.goto(url, wait_until="load")
        if wait_for_math:
            # MathJax 3 exposes a promise that settles after the first typesetting pass.
            page.evaluate("""async () => {
                if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
                    await MathJax.startup.promise;
                }
            }""")
        return visit

    def evaluate(self, url: str, function, *args, **open_options):
        """Open ``url``, call ``function(page, *args)`` and close the tab; returns (result, problems)."""
        visit = self.open(url, **open_options)
        try:
            return function(visit.page, *args), visit.problems()
        finally:
            self.close_page(visit)

    def close_page(self, visit: PageVisit) -> None:
        if self._current is visit:
            self._current = None
        visit.page.close()


def run_axe(page, *, context: str = "document") -> list[dict]:
    """axe-core's violations on the loaded ``page`` (the vendored, pinned copy, injected as a
    script tag), each ``{id, impact, help, nodes: [target selectors]}``."""
    if not AXE.is_file():
        raise FileNotFoundError(f"{AXE} missing: run `bash scripts/fetch_assets.sh` (scripts/setup_env.sh does)")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    return page.evaluate("""async (context) => {
        const result = await axe.run(context === "document" ? document : document.querySelector(context),
                                     {resultTypes: ["violations"]});
        return result.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map((n) => n.target.join(" "))}));
    }""", context)
