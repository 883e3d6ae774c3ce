"""bench/estimate_full_profile.py never reuses stale quick page times: page_times.json carries a
stamp (commit, notebooks, helpers, quick sizes, pages) and a file whose stamp does not match,
or that has none, is rejected with the reason (issue 18, item 10). Checked by planting a
loader that ignores the stamp."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import estimate_full_profile as est  # noqa: E402

PAGES = ["book/intro", "book/pipeline"]
TIMES = {"book/intro": 6.0, "book/pipeline": 12.5}


def test_round_trip_with_a_matching_stamp(tmp_path):
    path = tmp_path / "page_times.json"
    stamp = est.page_times_stamp(PAGES)
    assert stamp["helpers"] and stamp["notebooks"] and stamp["quick_sizes"]["name"] == "quick"
    est.save_page_times(path, stamp, TIMES)
    times, why = est.load_page_times(path, stamp)
    assert times == TIMES and "measured at commit" in why


@pytest.mark.parametrize("field, value", [
    ("notebooks", "0" * 16),
    ("helpers", "edited-helpers"),
    ("pages", ["book/intro"]),
    ("sizes_env", "pipeline_epochs=1"),
])
def test_a_changed_stamp_field_makes_the_file_stale(tmp_path, field, value):
    path = tmp_path / "page_times.json"
    stamp = est.page_times_stamp(PAGES)
    est.save_page_times(path, dict(stamp, **{field: value}), TIMES)
    times, why = est.load_page_times(path, stamp)
    assert times is None and "stale" in why and field in why


def test_other_quick_sizes_make_the_file_stale(tmp_path):
    path = tmp_path / "page_times.json"
    stamp = est.page_times_stamp(PAGES)
    sizes = dict(stamp["quick_sizes"], pipeline_epochs=stamp["quick_sizes"]["pipeline_epochs"] + 1)
    est.save_page_times(path, dict(stamp, quick_sizes=sizes), TIMES)
    times, why = est.load_page_times(path, stamp)
    assert times is None and "quick_sizes" in why


def test_an_edited_notebook_changes_the_stamp(tmp_path, monkeypatch):
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "intro.ipynb").write_text("{}")
    monkeypatch.setattr(est, "ROOT", tmp_path)
    before = est.page_times_stamp(["book/intro"])
    (tmp_path / "book" / "intro.ipynb").write_text('{"edited": 1}')
    assert est.page_times_stamp(["book/intro"])["notebooks"] != before["notebooks"]


def test_unstamped_missing_and_broken_files_are_not_reused(tmp_path):
    stamp = est.page_times_stamp(PAGES)
    legacy = tmp_path / "legacy.json"
    legacy.write_text(json.dumps(TIMES))      # the format before stamps: page -> seconds
    assert est.load_page_times(legacy, stamp) == (None, "legacy.json has no stamp (written by an older version of this script)")
    assert est.load_page_times(tmp_path / "absent.json", stamp)[0] is None
    broken = tmp_path / "broken.json"
    broken.write_text('{"stamp": ')
    times, why = est.load_page_times(broken, stamp)
    assert times is None and "unreadable" in why


def test_stale_times_are_measured_again_and_fresh_ones_reused(tmp_path, monkeypatch):
    runs = []

    def fake_time_pages(pages):
        runs.append(list(pages))
        return {p: 1.0 + len(runs) for p in pages}

    monkeypatch.setattr(est, "time_pages", fake_time_pages)
    path = tmp_path / "page_times.json"
    stamp = est.page_times_stamp(PAGES)
    est.save_page_times(path, dict(stamp, helpers="older-helpers"), TIMES)    # stale
    first = est.quick_page_times(path, PAGES)
    assert runs == [PAGES] and first == {p: 2.0 for p in PAGES}
    assert json.loads(path.read_text())["stamp"] == stamp                   # re-stamped
    assert est.quick_page_times(path, PAGES) == first and len(runs) == 1    # now fresh: reused
    assert est.quick_page_times(path, PAGES, force=True) == {p: 3.0 for p in PAGES} and len(runs) == 2
