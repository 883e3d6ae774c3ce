"""The kernel-free exercise checker in a real browser (headless Chromium from Debian).

The emitted HTML form is written to a file together with a small driver script that
fills in the inputs as a reader would (value + input event), presses '확인' (or Enter),
and records the feedback the page shows. ``chromium --dump-dom`` prints the page after
its scripts ran; the recorded feedback must equal the Python diagnosis line by line.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from dldna_helpers.widgets import diagnose, interactive_figure, momentum_checker_html

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]

CASES = [
    {"v1": "4", "w1": "1.6", "v2": "6.8", "w2": "0.92", "v3": "7.96", "w3": "0.124"},   # all right
    {"w1": "1,6", "w2": "0,92", "w3": "0,124"},                                          # weights only, commas
    {"v1": "0.4", "w1": "1.96"},                                                         # dampening
    {"v1": "4", "w1": "2", "v2": "7.6", "w2": "1.6"},                                    # w before v
    {"v1": "4", "w1": "1.24"},                                                           # Nesterov
    {"v1": "4", "w1": "2.4"},                                                            # sign
    {"w1": "1.6", "w2": "0.92", "w3": "0.12"},                                           # rounding
    {"w1": "1.6", "w2": "영점구"},                                                        # not a number
    {"v1": "−0.4"},                                                                      # v = μv − ηg, Unicode minus
    {},                                                                                  # empty form
]

DRIVER = """
<pre id="results"></pre>
<script>
(function () {
  var root = document.querySelector(".dldna-checker");
  var cases = %(cases)s, results = [];
  cases.forEach(function (answers, i) {
    root.querySelectorAll("input").forEach(function (input) {
      input.focus();
      input.value = answers[input.name] || "";
      input.dispatchEvent(new Event("input", {bubbles: true}));
    });
    if (i %% 2) root.querySelector("form").requestSubmit();      // Enter in a field
    else root.querySelector("button.dldna-check").click();      // the button
    var lines = Array.prototype.map.call(
      root.querySelectorAll(".dldna-feedback span, .dldna-feedback b"), function (el) { return el.textContent; });
    var invalid = Array.prototype.map.call(root.querySelectorAll("input[aria-invalid=true]"), function (el) { return el.name; });
    results.push({lines: lines, invalid: invalid});
  });
  %(extra)s
  document.getElementById("results").textContent = JSON.stringify(results);
})();
</script>
"""


def run_page(tmp_path: Path, body: str) -> list:
    page = tmp_path / "page.html"
    page.write_text(f"<!doctype html><html lang='ko'><head><meta charset='utf-8'></head><body>{body}</body></html>",
                    encoding="utf-8")
    proc = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000",
         "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    match = re.search(r'<pre id="results">(.*?)</pre>', proc.stdout, re.S)
    assert match and match.group(1), f"no results in the page (chromium exit {proc.returncode}): {proc.stderr[-2000:]}"
    import html

    return json.loads(html.unescape(match.group(1)))


def test_static_checker_gives_the_python_feedback(tmp_path):
    body = momentum_checker_html(form_id="ex1") + DRIVER % {"cases": json.dumps(CASES, ensure_ascii=False), "extra": ""}
    results = run_page(tmp_path, body)
    assert len(results) == len(CASES)
    for answers, got in zip(CASES, results):
        fb = diagnose(answers)
        assert got["lines"] == fb.lines, answers
        assert sorted(got["invalid"]) == sorted(k for k, s in fb.status.items() if s in ("wrong", "invalid"))
    assert "모두 맞았습니다" in results[0]["lines"][-1]
    assert "감쇠(dampening)" in results[2]["lines"][-2]
    assert "w를 v보다 먼저 갱신" in results[3]["lines"][-2]


def test_static_figure_slider_switches_frames(tmp_path):
    import matplotlib.pyplot as plt

    def draw(a):
        fig, ax = plt.subplots(figsize=(2, 2))
        ax.plot([0, 1], [0, a])
        return fig

    figure = interactive_figure(draw, {"a": [1, 2, 3]}, labels={"a": "기울기"})
    frames = json.loads(re.search(r"class='frames'>(.*?)</script>", figure.html, re.S).group(1))
    extra = """
      var fig = document.querySelector(".dldna-figure-slider"), slider = fig.querySelector("input[type=range]");
      var seen = [];
      [2, 0, 1].forEach(function (k) {
        slider.value = String(k);
        slider.dispatchEvent(new Event("input", {bubbles: true}));
        seen.push([fig.querySelector("img").src.slice(22), fig.querySelector("output").textContent]);
      });
      results.push(seen);
    """
    body = momentum_checker_html(form_id="ex1") + figure.html + DRIVER % {"cases": "[]", "extra": extra}
    seen = run_page(tmp_path, body)[-1]
    assert seen == [[frames[2], "3"], [frames[0], "1"], [frames[1], "2"]]
