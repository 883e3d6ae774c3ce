"""The answer grammar and the checker engine on the shared table (tests/answer_table.py), in Python.

The same rows run through the exercise pages' JavaScript in tests/test_exercise_browser.py.
Also: reading is linear in the length and capped, so a 10⁵-character answer is refused at once.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import time

import pytest

from answer_table import GRAMMAR, all_rows, exercise_rows, grammar_rows, page_specs, verdict_matches
from dldna_helpers import answers
from dldna_helpers.checkers import check, engine_js

ROWS = all_rows()


def test_the_table_is_large_and_covers_every_exercise():
    assert len(ROWS) >= 150
    assert len(GRAMMAR) >= 150
    titles = {spec["title"] for spec, *_ in exercise_rows()}
    assert titles == {f"문제 {n} 확인" for n in range(1, 10)}
    statuses = {row[3] for row in ROWS}
    assert statuses == {"correct", "wrong", "invalid", "missing"}


@pytest.mark.parametrize("i", range(len(ROWS)))
def test_python_gives_the_expected_verdict(i):
    spec, key, raw, status, hint = ROWS[i]
    result = check({key: raw}, spec)
    assert verdict_matches(spec, key, result.status[key], result.hints[key], status, hint), \
        (spec["title"], key, raw, result.status[key], result.hints[key], status, hint)


def test_ten_to_the_five_characters_are_answered_at_once():
    spec = grammar_rows()[0][0]
    for raw in ("1" + " " * 100_000 + "2", "(" * 100_000, "1" * 100_000, "√" * 100_000):
        start = time.process_time()   # this process's CPU time: other processes on the cores do not count
        result = check({"quarter": raw}, spec)
        elapsed = time.process_time() - start
        assert result.status["quarter"] == "invalid" and "너무 깁니다" in result.hints["quarter"]
        assert elapsed < 0.05, f"{elapsed * 1000:.1f} ms"


@pytest.mark.parametrize("make", [
    lambda n: "1" + " " * n + "2",        # the quadratic edge-trim of the old reader
    lambda n: "1" + "\u200b" * n,
    lambda n: "(" * n + "1",
    lambda n: "2" + "^2" * n,
    lambda n: "1" + "/1" * n,
    lambda n: "1" + "요" * n,
    lambda n: "1," * n,
    lambda n: "1" * n,
], ids=["spaces", "zero-width", "parens", "powers", "fractions", "filler", "commas", "digits"])
def test_reading_time_grows_linearly_with_the_length(monkeypatch, make):
    """With the cap lifted, 10× longer input takes about 10× longer (quadratic would be 100×)."""
    monkeypatch.setattr(answers, "MAX_CHARS", 10**7)

    def seconds(n):
        """The least of five CPU times of this process: other processes sharing the cores (CI runs
        pages beside the tests) neither add to it nor, through a slow first or last run, skew a ratio
        of wall times (it failed at 32× once that way)."""
        times = []
        for _ in range(5):
            text = make(n)
            start = time.process_time()
            answers.read_many(text, 2)
            times.append(time.process_time() - start)
        return min(times)

    small, large = seconds(5_000), seconds(50_000)
    assert large / max(small, 1e-4) < 30, (small, large)     # measured ≈ 10–17; quadratic would be ≈ 100


def test_the_grammar_reads_values_and_digits():
    assert answers.read("4.32×10⁻⁵").values == pytest.approx((4.32e-5,)) and answers.read("4.32×10⁻⁵").digits == (3,)
    assert answers.read("1/√2").digits == (None,) and answers.read("0.250").digits == (3,)
    assert answers.read_many("(1,1)", 2).values == (1.0, 1.0) and answers.read_many("0,5; 1,5", 2).values == (0.5, 1.5)
    assert answers.read("25%", units=["%"]).values == (25.0,) and answers.read("25%").values == (0.25,)
    assert answers.read(None).empty and answers.read("  ").empty


def test_messages_name_what_was_typed():
    reading = answers.read("35 바이트", units=["스텝"])
    assert reading.code == "unit"
    assert answers.message(reading, "35 바이트", ["스텝"]) == "'바이트'은(는) 이 답의 단위가 아닙니다. 쓸 수 있는 단위: 스텝"
    long = answers.read("9" * 500)
    assert answers.message(long, "9" * 500) == f"답이 너무 깁니다(500자). {answers.MAX_CHARS}자 안으로 적으세요."


def test_every_exercise_field_states_its_precision_on_the_form():
    for title, spec in page_specs().items():
        for f in spec["fields"]:
            if f["kind"] != "choice":
                assert f["precision_text"] in f["prompt"], (title, f["prompt"])


NODE = shutil.which("node") or shutil.which("nodejs")


@pytest.mark.skipif(NODE is None, reason="Node.js is not installed (the Chromium test runs the same rows)")
def test_node_runs_the_same_javascript_and_agrees_with_python(tmp_path):
    """The checker's JavaScript (the exact text the pages embed) on every row of the table, in Node:
    the same lines as Python. A quick parity check; tests/test_exercise_browser.py does it in Chromium."""
    cases = [{"spec": spec, "key": key, "raw": raw} for spec, key, raw, _, _ in ROWS]
    script = tmp_path / "parity.js"
    script.write_text(
        answers.answer_js() + engine_js() + "\nconst fs = require('fs');\n"
        "const cases = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));\n"
        "console.log(JSON.stringify(cases.map(c => { const a = {}; a[c.key] = c.raw; "
        "return DLDNA_CHECKER.check(c.spec, a).lines; })));\n", encoding="utf-8")
    data = tmp_path / "cases.json"
    data.write_text(json.dumps(cases, ensure_ascii=False), encoding="utf-8")
    done = subprocess.run([NODE, str(script), str(data)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    shown = json.loads(done.stdout)
    disagree = [(spec["title"], key, raw[:40], js) for (spec, key, raw, _, _), js in zip(ROWS, shown)
                if js != check({key: raw}, spec).lines]
    assert disagree == []
