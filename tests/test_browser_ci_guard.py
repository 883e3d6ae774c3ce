"""Without Chromium the browser tests skip on a developer's machine but fail under CI=true,
and no browser test module skips by itself (issue 18, item 9). Checked by planting a guard
that always skips."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

import browser_utils

TESTS = Path(__file__).resolve().parent


def _no_chromium(monkeypatch):
    def missing() -> str:
        raise FileNotFoundError("headless Chromium not found (planted for this test)")

    monkeypatch.setattr(browser_utils, "chromium_path", missing)


def _outcome() -> BaseException | None:
    """What require_chromium raised: caught here, because a skip escaping a test would only
    mark it skipped (never failed), which would let a guard that always skips pass."""
    try:
        browser_utils.require_chromium()
    except BaseException as exc:  # noqa: BLE001 - pytest's skip and fail are BaseExceptions
        return exc
    return None


@pytest.mark.parametrize("value", ["true", "1", "TRUE"])
def test_missing_chromium_fails_under_ci(monkeypatch, value):
    _no_chromium(monkeypatch)
    monkeypatch.setenv("CI", value)
    outcome = _outcome()
    assert isinstance(outcome, pytest.fail.Exception), f"under CI={value} the guard gave {outcome!r}"
    assert "CI=true but the browser tests cannot run" in str(outcome)


@pytest.mark.parametrize("value", [None, "", "false"])
def test_missing_chromium_skips_outside_ci(monkeypatch, value):
    _no_chromium(monkeypatch)
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    outcome = _outcome()
    assert isinstance(outcome, pytest.skip.Exception), f"with CI={value!r} the guard gave {outcome!r}"
    assert "Chromium not found" in str(outcome)


def test_browser_modules_use_the_guard_and_never_skip_themselves():
    modules = sorted(TESTS.glob("test_*browser*.py"))
    assert len(modules) >= 3
    for path in modules:
        if path.name == Path(__file__).name:
            continue
        text = path.read_text(encoding="utf-8")
        assert "require_chromium()" in text, f"{path.name} does not call require_chromium()"
        assert not re.search(r"pytest\.skip\(|importorskip\(", text), f"{path.name} skips by itself"
