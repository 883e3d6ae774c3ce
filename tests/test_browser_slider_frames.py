"""The static slider figure of ``interactive_figure`` with several parameters of different
sizes: for every combination of slider positions the JavaScript, in Chromium, must show the
frame Python drew for exactly those values (issue 18, item 7).

Each frame draws its own values as text, so the frames are all different and the shown
image says which combination it belongs to. Checked by planting a mixed-radix index with the
sizes in the wrong order (in the JavaScript) and a frame order that is not the sliders' order
(in Python). Each frame's alt text and each slider's ``aria-valuetext`` follow the values too.
The frames are PNG data URIs in the notebook; the site serves them as files (book/_ext/nb_figures.py)."""
from __future__ import annotations

import itertools
import json
import re

import pytest

from dldna_helpers.widgets import interactive_figure

from browser_utils import Browser, require_chromium, serve_folder

require_chromium()   # skipped without Chromium locally, a failure under CI=true

pytestmark = pytest.mark.browser

PARAMS = {"lr": [0.1, 0.3], "beta": ["0.9", "0.99", "0.999"], "epochs": [1, 2, 5, 10]}
LABELS = {"lr": "학습률 η", "beta": "β₂"}   # "epochs" keeps its name as its label


def draw_values(drawn: list[tuple], **values):
    import matplotlib.pyplot as plt

    drawn.append(tuple(values[n] for n in PARAMS))
    fig = plt.figure(figsize=(1.2, 0.4))
    fig.text(0.02, 0.3, " ".join(str(values[n]) for n in PARAMS), fontsize=7)
    return fig


@pytest.fixture(scope="module")
def slider_page(tmp_path_factory):
    drawn: list[tuple] = []
    figure = interactive_figure(lambda **v: draw_values(drawn, **v), PARAMS, labels=LABELS, live=False,
                               alt=lambda **v: "값 " + " ".join(str(v[n]) for n in PARAMS) + "인 그림")
    frames = json.loads(re.search(r"class='frames'>(.*?)</script>", figure.html, re.S).group(1))
    assert len(frames) == len(drawn) == 2 * 3 * 4 and len(set(frames)) == len(frames)
    frame_of = {values: frame for values, frame in zip(drawn, frames)}   # what Python drew, for which values
    folder = tmp_path_factory.mktemp("slider-site")
    (folder / "index.html").write_text(
        "<!doctype html><html lang='ko'><head><meta charset='utf-8'><title>슬라이더</title></head><body>"
        + figure.html + "</body></html>", encoding="utf-8")
    with serve_folder(folder) as base, Browser() as browser:
        visit = browser.open(base + "/index.html", wait_for_math=False)
        yield visit, frame_of
        assert visit.problems() == []


SET_AND_READ = """
(positions) => {
  const root = document.querySelector(".dldna-figure-slider");
  const inputs = [...root.querySelectorAll("input[type=range]")];
  // move the sliders in reverse order, each with an input event as a drag would send
  for (const i of [...positions.keys()].reverse()) {
    inputs[i].value = String(positions[i]);
    inputs[i].dispatchEvent(new Event("input", {bubbles: true}));
  }
  return {
    names: inputs.map((el) => el.name),
    src: root.querySelector("img").getAttribute("src"),
    alt: root.querySelector("img").getAttribute("alt"),
    shown: [...root.querySelectorAll("output")].map((o) => o.textContent),
    valuetext: inputs.map((el) => el.getAttribute("aria-valuetext")),
  };
}
"""


def test_every_combination_shows_the_frame_python_drew(slider_page):
    visit, frame_of = slider_page
    names = list(PARAMS)
    wrong = []
    for positions in itertools.product(*(range(len(v)) for v in PARAMS.values())):
        result = visit.page.evaluate(SET_AND_READ, list(positions))
        values = tuple(PARAMS[n][k] for n, k in zip(names, positions))
        assert result["names"] == names
        assert result["shown"] == [str(v) for v in values]
        assert result["valuetext"] == [f"{LABELS.get(n, n)} = {v}" for n, v in zip(names, values)]
        assert result["alt"] == "값 " + " ".join(str(v) for v in values) + "인 그림"
        if result["src"] != frame_of[values]:
            shown_for = next((v for v, f in frame_of.items() if result["src"].endswith(f)), None)
            wrong.append(f"{values} shows the frame of {shown_for}")
    assert wrong == [], f"{len(wrong)} of 24 combinations show another frame: " + "; ".join(wrong[:5])


def test_keyboard_moves_one_slider_and_keeps_the_others(slider_page):
    visit, frame_of = slider_page
    p = visit.page
    visit.page.evaluate(SET_AND_READ, [1, 2, 3])
    epochs = p.locator(".dldna-figure-slider input[name=epochs]")
    epochs.focus()
    p.keyboard.press("Home")
    src = p.locator(".dldna-figure-slider img").get_attribute("src")
    assert src.endswith(frame_of[(0.3, "0.999", 1)])
    p.keyboard.press("ArrowRight")
    assert p.locator(".dldna-figure-slider img").get_attribute("src").endswith(frame_of[(0.3, "0.999", 2)])
