"""The kernel-free exercise checker in a real browser (headless Chromium from Debian).

The HTML that ``dldna_helpers.widgets`` emits for the static site is served locally and
driven the way a reader uses it (tests/browser_utils.py: Playwright on the system
Chromium, off-site requests blocked): answers are typed key by key into the inputs,
'확인' is clicked or Enter pressed, and the feedback the page shows must equal the
Python diagnosis line by line. The figure slider is moved with the keyboard.
"""
from __future__ import annotations

import json
import re

import pytest

from dldna_helpers.widgets import diagnose, interactive_figure, momentum_checker_html

from browser_utils import Browser, require_chromium, serve_folder

require_chromium()   # skipped without Chromium locally, a failure under CI=true

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
KEYS = ["v1", "w1", "v2", "w2", "v3", "w3"]


def draw(a):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [0, a])
    return fig


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    folder = tmp_path_factory.mktemp("exercise-site")
    figure = interactive_figure(draw, {"a": [1, 2, 3]}, labels={"a": "기울기"}, live=False)
    (folder / "index.html").write_text(
        "<!doctype html><html lang='ko'><head><meta charset='utf-8'><title>연습</title></head><body>"
        + momentum_checker_html(form_id="ex1") + figure.html + "</body></html>", encoding="utf-8")
    frames = json.loads(re.search(r"class='frames'>(.*?)</script>", figure.html, re.S).group(1))
    with serve_folder(folder) as base, Browser() as browser:
        visit = browser.open(base + "/index.html", wait_for_math=False)
        yield visit, frames
        assert visit.problems() == []


@pytest.mark.parametrize("i", range(len(CASES)))
def test_typed_answers_get_the_python_feedback(page, i):
    visit, _ = page
    p, answers = visit.page, CASES[i]
    for key in KEYS:
        box = p.locator(f"#ex1 input[name='{key}']")
        box.fill("")
        if answers.get(key):
            box.press_sequentially(answers[key])          # typed key by key, as a reader would
    if i % 2:
        p.locator("#ex1 input[name='w1']").press("Enter")  # Enter in a field submits
    else:
        p.locator("#ex1 button.dldna-check").click()
    shown = p.eval_on_selector_all("#ex1 .dldna-feedback span, #ex1 .dldna-feedback b",
                                   "els => els.map(e => e.textContent)")
    marked = p.eval_on_selector_all("#ex1 input[aria-invalid=true]", "els => els.map(e => e.name)")
    fb = diagnose(answers)
    assert shown == fb.lines
    assert sorted(marked) == sorted(k for k, s in fb.status.items() if s in ("wrong", "invalid"))


def test_hints_name_the_slips(page):
    visit, _ = page
    p = visit.page
    for key in KEYS:
        p.locator(f"#ex1 input[name='{key}']").fill("")
    p.locator("#ex1 input[name='v1']").press_sequentially("0.4")
    p.locator("#ex1 button.dldna-check").click()
    assert "감쇠(dampening)" in p.locator("#ex1 .dldna-feedback").inner_text()


def test_figure_slider_moves_between_saved_frames(page):
    visit, frames = page
    p = visit.page
    slider = p.locator(".dldna-figure-slider input[type=range]")
    image = p.locator(".dldna-figure-slider img")
    label = p.locator(".dldna-figure-slider output")
    assert image.get_attribute("src").endswith(frames[0]) and label.inner_text() == "1"
    slider.focus()
    p.keyboard.press("End")
    assert image.get_attribute("src").endswith(frames[2]) and label.inner_text() == "3"
    p.keyboard.press("ArrowLeft")
    assert image.get_attribute("src").endswith(frames[1]) and label.inner_text() == "2"
