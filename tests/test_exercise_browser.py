"""The kernel-free exercise checker in a real browser (headless Chromium from Debian).

The HTML that ``dldna_helpers.widgets`` emits for the static site is served locally and
driven the way a reader uses it (tests/browser_utils.py: Playwright on the system
Chromium, off-site requests blocked): answers are typed key by key into the inputs,
'확인' is clicked or Enter pressed, and the feedback the page shows must equal the
Python diagnosis line by line. The figure slider is moved with the keyboard.

The checkers of exercises 2–9 are tested the same way ON THE BUILT exercise pages
(``_build/html`` or $DLDNA_SITE_DIR; build the book first, as for tests/test_browser.py),
and the JavaScript reads the shared table of tricky inputs (tests/test_checkers.py) exactly
as Python does.
"""
from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from dldna_helpers.checkers import check
from dldna_helpers.widgets import diagnose, interactive_figure, momentum_checker_html, parse_js, read_number

from browser_utils import Browser, require_chromium, serve_folder

require_chromium()   # skipped without Chromium locally, a failure under CI=true

from test_checkers import TITLES, TRICKY  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SITE = Path(os.environ.get("DLDNA_SITE_DIR", ROOT / "_build" / "html"))

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
def browser():
    """One Chromium for the module: Playwright's sync API allows one instance per thread."""
    with Browser() as b:
        yield b


@pytest.fixture(scope="module")
def page(tmp_path_factory, browser):
    folder = tmp_path_factory.mktemp("exercise-site")
    figure = interactive_figure(draw, {"a": [1, 2, 3]}, labels={"a": "기울기"}, live=False)
    (folder / "index.html").write_text(
        "<!doctype html><html lang='ko'><head><meta charset='utf-8'><title>연습</title></head><body>"
        + momentum_checker_html(form_id="ex1") + figure.html + "</body></html>", encoding="utf-8")
    frames = json.loads(re.search(r"class='frames'>(.*?)</script>", figure.html, re.S).group(1))
    with serve_folder(folder) as base:
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


def test_javascript_reads_the_tricky_inputs_like_python(page):
    """The very reading code the forms embed, on every entry of the shared table."""
    visit, _ = page
    raws = [raw for raw, _, _ in TRICKY]
    got = visit.page.evaluate("(raws) => { " + parse_js()
                              + " return raws.map(function (r) { var x = dldnaRead(r); return [x.value, x.code]; }); }", raws)
    assert [tuple(g) for g in got] == [read_number(raw) for raw in raws]


# ---------------------------------------------------------------- the built exercise pages
@pytest.fixture(scope="module")
def site_checkers(browser):
    """Title → (page, form id, spec) of every general checker on the built exercise pages."""
    if not (SITE / "exercises" / "basic.html").is_file():
        pytest.fail(f"no built book at {SITE}: build it first with `bash scripts/build_book.sh`; "
                    "these browser tests do not build it")
    with serve_folder(SITE) as base:
        found, visits = {}, []
        for name in ("basic", "applied", "advanced"):
            visit = browser.open(f"{base}/exercises/{name}.html", wait_for_math=False)
            visits.append(visit)
            for form_id, blob in visit.page.eval_on_selector_all(
                    ".dldna-checker", "els => els.map(e => [e.id, e.querySelector(\"script[type='application/json']\").textContent])"):
                spec = json.loads(blob)
                if "title" in spec:
                    found[spec["title"]] = (visit.page, form_id, spec)
        yield found
        for visit in visits:
            assert visit.problems() == []


def submit(p, form_id, spec, answers, typed=True):
    """Type ``answers`` (key → text, option key for choices) into the form and return its lines;
    ``typed=False`` fills each input at once (faster, same value)."""
    p.bring_to_front()   # the pages share one browser: in a background tab every click waited ~2 s
    for f in spec["fields"]:
        if f["kind"] == "choice":
            p.evaluate("([id, k]) => document.querySelectorAll(`#${id} input[name='${k}']`).forEach(e => e.checked = false)",
                       [form_id, f["key"]])
            if answers.get(f["key"]):
                p.locator(f"#{form_id} input[name='{f['key']}'][value='{answers[f['key']]}']").check()
            continue
        box = p.locator(f"#{form_id} input[name='{f['key']}']")
        box.fill("")
        if answers.get(f["key"]):
            box.press_sequentially(answers[f["key"]]) if typed else box.fill(answers[f["key"]])
    p.locator(f"#{form_id} button.dldna-check").click()
    return p.eval_on_selector_all(f"#{form_id} .dldna-feedback span, #{form_id} .dldna-feedback b",
                                  "els => els.map(e => e.textContent)")


def scenarios(spec):
    """Right answers, wrong ones, a slip in each field that has one, and an empty form.

    Slips of chained fields are computed from the right previous values, so in the chain only
    the first (``slip``) or the last (``slip_late``) field gets its slip, the others the answer.
    """
    right, wrong = {}, {}
    slip, slip_late = {}, {}
    chains = {}
    for f in spec["fields"]:
        if f.get("chain"):
            chains.setdefault(f["chain"], []).append(f["key"])
    for f in spec["fields"]:
        k = f["key"]
        if f["kind"] == "choice":
            right[k] = next(o["key"] for o in f["options"] if o["correct"])
            wrong[k] = next(o["key"] for o in f["options"] if not o["correct"])
            slip[k] = slip_late[k] = wrong[k]
            continue
        if f["kind"] == "values":
            fmt = lambda vs: "; ".join(f"{v:.6g}" for v in vs)   # noqa: E731
            right[k], wrong[k] = fmt(f["value"]), fmt([v * 1.37 + 0.7 for v in f["value"]])
            first = fmt(f["slips"][0]["value"]).replace("; ", ", ") if f["slips"] else right[k]
        else:
            fmt = (lambda v: str(int(round(v)))) if f["kind"] == "integer" else (lambda v: f"{v:.6g}")
            right[k] = fmt(f["value"]).replace(".", ",", 1) if k == "eta_osc" else fmt(f["value"])   # a decimal comma once
            wrong[k] = fmt(f["value"] * 1.37 + 7)
            first = fmt(f["slips"][0]["value"]) if f["slips"] else right[k]
        chain = chains.get(f.get("chain"), [k])
        slip[k] = first if k == chain[0] else right[k]
        slip_late[k] = first if k == chain[-1] else right[k]
    return {"right": right, "wrong": wrong, "slip": slip, "slip_late": slip_late, "empty": {}}


@pytest.mark.browser
@pytest.mark.parametrize("title", TITLES)
def test_built_exercise_checker_gives_the_python_feedback(site_checkers, title):
    p, form_id, spec = site_checkers[title]
    for name, answers in scenarios(spec).items():
        shown = submit(p, form_id, spec, answers, typed=name in ("right", "slip"))
        expected = check(answers, spec)
        assert shown == expected.lines, name
        if name == "right":
            assert expected.all_correct
        elif name == "wrong":
            assert all(s == "wrong" for s in expected.status.values()) and all(expected.hints.values())
        elif name.startswith("slip"):
            slipped = [f for f in spec["fields"] if f["kind"] != "choice" and f["slips"] and expected.status[f["key"]] != "correct"]
            assert slipped and all(expected.hints[f["key"]] == f["slips"][0]["hint"] for f in slipped)


@pytest.mark.browser
def test_built_page_reads_the_tricky_inputs_like_python(site_checkers):
    p, form_id, spec = site_checkers["문제 2 확인"]
    p.bring_to_front()
    for raw, _, _ in TRICKY:
        if "\n" in raw:
            continue                      # a text input drops line breaks before any script sees them
        box = p.locator(f"#{form_id} input[name='eta_osc']")
        for f in spec["fields"]:
            if f["kind"] != "choice":
                p.locator(f"#{form_id} input[name='{f['key']}']").fill("")
        box.fill(raw)
        p.locator(f"#{form_id} button.dldna-check").click()
        shown = p.eval_on_selector_all(f"#{form_id} .dldna-feedback span, #{form_id} .dldna-feedback b",
                                       "els => els.map(e => e.textContent)")
        assert shown == check({"eta_osc": raw}, spec).lines, repr(raw)


@pytest.mark.browser
def test_built_momentum_checker_uses_the_corrected_hint(site_checkers):
    p = site_checkers["문제 2 확인"][0]             # exercise 1 is on the same page
    p.bring_to_front()
    root = p.locator(".dldna-checker[id^='dldna-momentum-']")
    form_id = root.get_attribute("id")
    p.locator(f"#{form_id} input[name='v1']").press_sequentially("4")
    p.locator(f"#{form_id} input[name='w1']").press_sequentially("1,6")
    p.locator(f"#{form_id} input[name='v2']").press_sequentially("123")
    p.locator(f"#{form_id} button.dldna-check").click()
    shown = p.eval_on_selector_all(f"#{form_id} .dldna-feedback span, #{form_id} .dldna-feedback b",
                                   "els => els.map(e => e.textContent)")
    assert shown == diagnose({"v1": "4", "w1": "1,6", "v2": "123"}).lines
    assert any("v₂ = μ·v₁ + g₂이고 g₂ = 2·w₁" in line for line in shown)
