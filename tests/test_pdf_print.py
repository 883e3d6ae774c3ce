"""How scripts/build_pdf.py hands Chromium's print over: a temporary folder on the build's disk,
checked for room first, and a failed print tried again, then reported with the free space.

CI once failed with nothing but "Page.pdf: Protocol error (IO.read): Read failed": Chromium
passes the printed PDF through a temporary file, and that message is all a failed write leaves.
These tests need no browser and no build.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import build_pdf  # noqa: E402


class FlakyPage:
    """A stand-in for a Playwright page whose first ``failures`` prints fail as Chromium's did."""

    def __init__(self, failures: int):
        self.failures = failures
        self.calls = 0

    def pdf(self, **options) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise PlaywrightError("Page.pdf: Protocol error (IO.read): Read failed")
        Path(options["path"]).write_bytes(b"%PDF-1.7\n")


def test_a_failed_print_is_tried_again(tmp_path, capsys):
    page = FlakyPage(failures=1)
    build_pdf.print_pdf(page, {"path": str(tmp_path / "book.pdf")}, tmp_path)
    assert page.calls == 2 and (tmp_path / "book.pdf").exists()
    assert "print attempt 1 of 2 failed" in capsys.readouterr().err


def test_a_print_that_keeps_failing_names_the_free_space(tmp_path):
    page = FlakyPage(failures=5)
    with pytest.raises(RuntimeError) as caught:
        build_pdf.print_pdf(page, {"path": str(tmp_path / "book.pdf")}, tmp_path)
    assert page.calls == build_pdf.PRINT_ATTEMPTS
    message = str(caught.value)
    assert "MB free" in message and str(tmp_path) in message and "Read failed" in message


def test_chromium_gets_an_empty_folder_of_the_build(tmp_path):
    tmp = tmp_path / "pdf" / "tmp"
    tmp.mkdir(parents=True)
    (tmp / "left-over").write_text("from an interrupted print")
    assert build_pdf.browser_tmp(tmp) == tmp and list(tmp.iterdir()) == []


def test_a_full_disk_is_named_before_printing(tmp_path, monkeypatch):
    monkeypatch.setattr(build_pdf, "free_mb", lambda folder: 12)
    with pytest.raises(OSError, match=r"only 12 MB free on the disk of .*tmp.*at least 200 MB"):
        build_pdf.browser_tmp(tmp_path / "tmp")
