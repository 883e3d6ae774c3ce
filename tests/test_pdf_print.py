"""How scripts/build_pdf.py hands Chromium's print over: a temporary folder on the build's disk,
checked for room first, and a failed print tried again, then reported with the free space.

CI once failed with nothing but "Page.pdf: Protocol error (IO.read): Read failed": Chromium
passes the printed PDF through a temporary file, and that message is all a failed write leaves.
These tests need no browser and no build.
"""
from __future__ import annotations

import os
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


def test_chromium_gets_a_new_folder_beside_the_report_and_nothing_else_is_touched(tmp_path):
    (tmp_path / "tmp").mkdir()
    (tmp_path / "tmp" / "mine").write_text("a folder the script does not own")
    folder = build_pdf.browser_tmp(tmp_path)
    assert folder.parent == tmp_path and folder.name.startswith("chromium-tmp-") and list(folder.iterdir()) == []
    assert (tmp_path / "tmp" / "mine").exists()


def test_a_full_disk_is_named_before_printing(tmp_path, monkeypatch):
    monkeypatch.setattr(build_pdf, "free_mb", lambda folder: 12)
    with pytest.raises(OSError, match=r"only 12 MB free on the disk of .*at least 200 MB"):
        build_pdf.browser_tmp(tmp_path / "pdf")


def test_the_driver_and_browser_get_the_folder_and_it_is_removed_even_when_printing_fails(tmp_path, monkeypatch):
    site, report = tmp_path / "site", tmp_path / "pdf" / "report.json"
    site.mkdir()
    seen = {}

    def failing_print(pw, base, source, config, out, width, tmp, timings):
        seen.update(tmpdir=os.environ.get("TMPDIR"), tmp=tmp, exists=tmp.is_dir())
        raise RuntimeError("Chromium could not print the book")

    monkeypatch.setattr(build_pdf, "prepare_source", lambda site: site / "pdf-book.html")
    monkeypatch.setattr(build_pdf, "book_config", lambda book: {})
    monkeypatch.setattr(build_pdf, "_print", failing_print)
    monkeypatch.setenv("TMPDIR", "/tmp")
    with pytest.raises(RuntimeError, match="could not print"):
        build_pdf.print_book(site, tmp_path / "book.pdf", report)
    assert seen["exists"] and seen["tmpdir"] == str(seen["tmp"]) and seen["tmp"].parent == report.parent
    assert not seen["tmp"].exists() and os.environ["TMPDIR"] == "/tmp"
