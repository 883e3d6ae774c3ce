"""Korean search (book/_ext/korean_search.py): index-time and query-time stemming agree,
and a small Sphinx site built with the extension finds words whatever particle follows.

The query-time side is checked by running the built site's own language_data.js in node
against its searchindex.js, mirroring what searchtools.js does with a query (split, drop
stopwords, stem, look up every term, keep the pages that contain all of them). The
browser test (tests/test_browser.py) exercises the real search page as well.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
EXT_DIR = ROOT / "book" / "_ext"
sys.path.insert(0, str(EXT_DIR))

from korean_search import SearchKorean, split_korean, stem_korean  # noqa: E402

# ----------------------------------------------------------------- the stemmer itself
STEMS = {
    "모멘텀은": "모멘텀", "모멘텀": "모멘텀", "진동을": "진동", "진동": "진동",
    "손실이": "손실", "손실": "손실", "학습률을": "학습률", "학습률의": "학습률",
    "감소한다": "감소", "감소합니다": "감소", "감소하는": "감소",
    "방향으로는": "방향", "에포크마다": "에포크", "함수입니다": "함수",
    "파라미터들을": "파라미터", "정확도가": "정확", "정확도": "정확",
    # two-syllable nouns whose last syllable looks like a particle stay whole
    "속도": "속도", "속도는": "속도", "정도": "정도", "차이": "차이", "차이가": "차이",
    "평가": "평가", "정의": "정의",
    # one-syllable nouns lose the subject marker that fits their sound (이 after 받침, 가 after a vowel)
    "값이": "값", "값": "값", "층이": "층", "해가": "해", "항이": "항",
    # ...so 길이 and 깊이 become 길 and 깊, with and without a particle alike
    "길이": "길", "길이가": "길", "깊이는": "깊",
}


@pytest.mark.parametrize("word,stem", sorted(STEMS.items()))
def test_stem_korean(word, stem):
    assert stem_korean(word) == stem


def test_particle_never_changes_the_stem_of_a_noun():
    """The property search relies on: stem(noun + particle) == stem(noun)."""
    nouns = ["모멘텀", "손실", "진동", "학습률", "헤세", "고윳값", "조건수", "기울기", "속도", "정확도",
             "깊이", "길이", "차이"]
    particles = ["은", "는", "이", "가", "을", "를", "의", "에서", "으로", "와", "과", "도", "까지", "보다", "처럼"]
    for noun in nouns:
        for p in particles:
            assert stem_korean(noun + p) == stem_korean(noun), (noun, p)


def test_one_syllable_nouns_lose_the_particles_that_fit_them():
    """값이/층이/해가: the subject marker that fits the final sound, and 은/는/을/를, come off.
    (Other particles after one syllable stay, to spare 속도, 정의, 각도 ...)"""
    for noun, subject in (("값", "이"), ("층", "이"), ("식", "이"), ("해", "가"), ("차", "가")):
        topic, obj = ("은", "을") if subject == "이" else ("는", "를")
        for particle in (subject, topic, obj):
            assert stem_korean(noun + particle) == noun, (noun, particle)


def test_split_separates_scripts():
    assert split_korean("Adam은 SGD보다 빠르다; L2-norm") == ["Adam", "은", "SGD", "보다", "빠르다", "L2", "norm"]


def test_language_stems_latin_like_english():
    lang = SearchKorean({})
    assert lang.stem("Optimizers") == lang.stem("optimizer") == "optim"
    assert lang.stem("Hessian") == "hessian"
    assert not lang.word_filter("은")  # a particle left alone by the splitter
    assert lang.word_filter("손실") and lang.word_filter("adam")


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is needed to run the search JavaScript (Debian: apt-get install nodejs)")
    return node


def test_js_stemmer_and_splitter_match_python(tmp_path):
    """The JavaScript generated for the query side gives the same tokens and stems."""
    lang = SearchKorean({})
    words = sorted(STEMS) + ["Adam", "Hessian", "optimizers", "Running"]
    script = tmp_path / "check.js"
    script.write_text(
        lang.js_stemmer_code + "\n" + lang.js_splitter_code + """
const s = new Stemmer();
const words = JSON.parse(process.argv[2]);
console.log(JSON.stringify({
  stems: words.map((w) => s.stemWord(w.toLowerCase())),
  split: splitQuery(process.argv[3]),
}));
""", encoding="utf-8")
    text = "Adam은 SGD보다 빠르다; L2-norm"
    out = subprocess.run([_node(), str(script), json.dumps(words), text],
                         capture_output=True, text=True, check=True).stdout
    got = json.loads(out)
    assert got["stems"] == [lang.stem(w).lower() for w in words]
    assert got["split"] == split_korean(text)


# ------------------------------------------------------------- a small built site
PAGES = {
    "momentum": ("첫째 쪽", "모멘텀은 진동을 줄입니다. 속도는 빨라집니다."),
    "loss": ("둘째 쪽", "손실이 감소한다. 헤세 행렬(Hessian)의 고윳값이 크면 표면이 날카롭습니다."),
    "lr": ("셋째 쪽", "학습률을 낮추면 안정적으로 수렴합니다. Adam은 적응적인 방법입니다. 이 값이 너무 크면 발산합니다."),
}
# query -> pages that must be found (and no others)
EXPECTED = {
    "손실": {"loss"}, "진동": {"momentum"}, "학습률": {"lr"}, "모멘텀": {"momentum"},
    "Adam": {"lr"}, "adam": {"lr"}, "Hessian": {"loss"}, "모멘텀은": {"momentum"},
    "감소": {"loss"}, "속도": {"momentum"}, "고윳값": {"loss"}, "학습률 Adam": {"lr"},
    "손실 진동": set(), "값": {"lr"}, "값이": {"lr"},
}


@pytest.fixture(scope="module")
def built_site(tmp_path_factory) -> Path:
    """Build a four-page MyST site with ``language = "ko"`` and the extension."""
    from sphinx.application import Sphinx

    src = tmp_path_factory.mktemp("ko_site")
    (src / "conf.py").write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(EXT_DIR)!r})\n"
        "extensions = ['myst_parser', 'korean_search']\n"
        "language = 'ko'\n"
        "project = '검색 시험'\n",
        encoding="utf-8")
    toc = "\n".join(PAGES)
    (src / "index.md").write_text(f"# 목차\n\n```{{toctree}}\n{toc}\n```\n", encoding="utf-8")
    for name, (title, body) in PAGES.items():
        (src / f"{name}.md").write_text(f"# {title}\n\n{body}\n", encoding="utf-8")
    out = src / "_build"
    app = Sphinx(str(src), str(src), str(out), str(src / "_doctrees"), "html",
                 status=None, warning=None, freshenv=True, warningiserror=True)
    app.build()
    return out


def _index(site: Path) -> dict:
    text = (site / "searchindex.js").read_text(encoding="utf-8")
    return json.loads(re.fullmatch(r"Search\.setIndex\((.*)\)\s*", text, re.S).group(1))


def test_index_holds_stripped_words(built_site):
    index = _index(built_site)
    terms = index["terms"]
    docs = index["docnames"]

    def pages(word: str) -> set[str]:
        found = terms.get(word, [])
        return {docs[i] for i in ([found] if isinstance(found, int) else found)}

    assert pages("모멘텀") == {"momentum"}
    assert pages("진동") == {"momentum"}
    assert pages("손실") == {"loss"}
    assert pages("학습률") == {"lr"}
    assert pages("adam") == {"lr"}
    # the particle forms themselves are not in the index: that was the bug
    for raw in ("모멘텀은", "진동을", "손실이", "학습률을", "은", "을"):
        assert raw not in terms, raw


def test_query_side_finds_pages(built_site, tmp_path):
    """Run the site's language_data.js on queries as searchtools.js does."""
    script = tmp_path / "query.js"
    script.write_text(r"""
const fs = require("fs"), vm = require("vm");
const [site, queries] = [process.argv[2], JSON.parse(process.argv[3])];
const ctx = { Search: { setIndex: (i) => { ctx.index = i; } } };
vm.createContext(ctx);
vm.runInContext(fs.readFileSync(site + "/_static/language_data.js", "utf8"), ctx);
vm.runInContext(fs.readFileSync(site + "/searchindex.js", "utf8"), ctx);
const ix = ctx.index, stemmer = new ctx.Stemmer(), out = {};
const files = (m, w) => (m[w] === undefined ? [] : [].concat(m[w]));
for (const q of queries) {
  const words = ctx.splitQuery(q.trim())
    .map((t) => t.toLowerCase())
    .filter((t) => ctx.stopwords.indexOf(t) === -1 && !/^\d+$/.test(t))
    .map((t) => stemmer.stemWord(t));
  let hit = null;
  for (const w of words) {
    const f = new Set([...files(ix.terms, w), ...files(ix.titleterms, w)]);
    hit = hit === null ? f : new Set([...hit].filter((x) => f.has(x)));
  }
  out[q] = [...(hit || [])].map((i) => ix.docnames[i]).sort();
}
console.log(JSON.stringify(out));
""", encoding="utf-8")
    res = subprocess.run([_node(), str(script), str(built_site), json.dumps(list(EXPECTED))],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    found = {q: set(v) for q, v in json.loads(res.stdout).items()}
    assert found == EXPECTED


# ------------------------------------------------------- the book is configured to use it
def test_book_config_loads_the_extension():
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    sphinx = config["sphinx"]
    assert sphinx["config"]["language"] == "ko"
    path = sphinx["local_extensions"]["korean_search"]
    assert (ROOT / path / "korean_search.py").is_file()
