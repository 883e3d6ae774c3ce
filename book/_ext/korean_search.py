"""Korean full-text search for the Sphinx HTML builder.

Sphinx ships no Korean search language, so with ``language: ko`` every word is indexed
with its particle attached ("모멘텀은", "진동을") and a query for "진동" finds nothing.
This extension registers a search language for ``ko`` that

* splits text into Hangul runs and runs of other letters/digits, so that "Adam은"
  gives the tokens "Adam" and "은";
* strips common particles (조사) and predicate endings (어미) from Hangul tokens:
  "모멘텀은" -> "모멘텀", "감소한다" -> "감소", "학습률을" -> "학습률";
* stems Latin tokens with the Porter stemmer Sphinx uses for English, so "Adam",
  "Hessian" and "optimizers" match as they do on an English site.

The same rules run at index time (Python, :func:`stem_korean`) and at query time
(JavaScript generated from the same ending table, see :data:`JS_CODE`), so they cannot
drift apart.

Design choice: stripping is iterated until nothing more comes off ("정확도가" ->
"정확도" -> "정확"), because the index and the query must reach the same form whether or
not a particle is present. To spare two-syllable nouns whose last syllable looks like a
particle (속도, 정도, 차이, 평가), a one-syllable ending is removed only when at least
two syllables remain; the unambiguous object/topic markers 은/는/을/를 and all longer
endings need one remaining syllable. The subject marker also comes off a one-syllable noun
when the sound allows it: 이 after a final consonant (값이 -> 값, 층이 -> 층), 가 after a
vowel (해가 -> 해), so 차이 and 평가 stay whole. Nouns such as 길이 and 깊이 then become 길 and
깊 at index and query time alike, which keeps every search for them working.
"""
from __future__ import annotations

import json
import re
from typing import Any

from sphinx.application import Sphinx
from sphinx.search import languages
from sphinx.search.en import SearchEnglish, english_stopwords, js_porter_stemmer

__all__ = ["SearchKorean", "stem_korean", "split_korean", "ENDINGS", "SUBJECT_MARKERS", "setup"]

# Particles and predicate endings, each with the number of syllables that must remain
# after it is removed. Longer endings are tried first.
_LONG_ENDINGS = (
    # particles made of several syllables, and particle chains
    "에서는", "에서도", "에서의", "으로는", "으로도", "으로서", "으로써", "에게서", "이라는",
    "에서", "에게", "에는", "에도", "으로", "로는", "로도", "로서", "로써", "와의", "과의",
    "까지", "부터", "보다", "처럼", "마다", "만큼", "조차", "이나", "이며", "이고", "이란",
    "라는",
    # copula and 하다/되다 predicate endings
    "입니다", "합니다", "됩니다", "했습니다", "됐습니다", "이다", "한다", "된다", "하는",
    "되는", "하여", "되어", "하고", "하면", "하며", "해서", "했다", "됐다", "하지", "하게",
)
_FREE_SHORT = ("은", "는", "을", "를")  # unambiguous: one remaining syllable is enough
_GUARDED_SHORT = ("이", "가", "의", "에", "로", "와", "과", "도", "만", "한", "된", "할", "인", "들")

ENDINGS: dict[str, int] = {e: 1 for e in _LONG_ENDINGS}
ENDINGS.update({e: 1 for e in _FREE_SHORT})
ENDINGS.update({e: 2 for e in _GUARDED_SHORT})
_ORDERED = sorted(ENDINGS, key=len, reverse=True)
# Subject markers that may leave a single syllable: does the syllable before need a final consonant?
SUBJECT_MARKERS = {"이": True, "가": False}

# Tokens never worth indexing or searching for on their own.
KOREAN_STOPWORDS = frozenset(ENDINGS) | {"것", "수", "및", "등", "또는", "그리고", "그", "이런", "그런"}

_HANGUL = "\uac00-\ud7a3"
_TOKEN_RE = re.compile(rf"[{_HANGUL}]+|[^\W{_HANGUL}]+")
_HAS_HANGUL = re.compile(rf"[{_HANGUL}]")


def _has_final_consonant(syllable: str) -> bool:
    """True when a precomposed Hangul syllable ends in a consonant (받침)."""
    return (ord(syllable) - 0xAC00) % 28 != 0


def _strippable(word: str, ending: str) -> bool:
    remaining = len(word) - len(ending)
    if remaining >= ENDINGS[ending]:
        return True
    return (remaining == 1 and ending in SUBJECT_MARKERS
            and _has_final_consonant(word[0]) == SUBJECT_MARKERS[ending])


def stem_korean(word: str) -> str:
    """Strip particles and predicate endings from a Hangul token, repeatedly."""
    while True:
        for ending in _ORDERED:
            if word.endswith(ending) and _strippable(word, ending):
                word = word[: -len(ending)]
                break
        else:
            return word


def split_korean(text: str) -> list[str]:
    """Split text into Hangul runs and runs of other word characters."""
    return _TOKEN_RE.findall(text)


# Query-time twin of split_korean/stem_korean. The English Porter stemmer Sphinx ships
# is renamed so the Korean Stemmer can delegate Latin words to it.
_PORTER_DEF = "var Stemmer = function"
if _PORTER_DEF not in js_porter_stemmer:  # pragma: no cover - guards a Sphinx upgrade
    raise ImportError("korean_search: sphinx.search.en.js_porter_stemmer changed; update the extension")

JS_CODE = js_porter_stemmer.replace(_PORTER_DEF, "var PorterStemmer = function", 1) + """
var KoreanEndings = %(endings)s;
var KoreanEndingsOrdered = Object.keys(KoreanEndings).sort(function (a, b) { return b.length - a.length; });
var KoreanSubjectMarkers = %(subject)s;
function koreanStrippable(word, e) {
  var remaining = word.length - e.length;
  if (remaining >= KoreanEndings[e]) return true;
  if (remaining !== 1 || !(e in KoreanSubjectMarkers)) return false;
  var hasFinal = (word.charCodeAt(0) - 0xAC00) %% 28 !== 0;
  return hasFinal === KoreanSubjectMarkers[e];
}
function stemKorean(word) {
  for (;;) {
    var stripped = false;
    for (var i = 0; i < KoreanEndingsOrdered.length; i++) {
      var e = KoreanEndingsOrdered[i];
      if (word.endsWith(e) && koreanStrippable(word, e)) {
        word = word.slice(0, word.length - e.length);
        stripped = true;
        break;
      }
    }
    if (!stripped) return word;
  }
}
var Stemmer = function () {
  var porter = new PorterStemmer();
  this.stemWord = function (w) {
    return /[%(hangul)s]/.test(w) ? stemKorean(w) : porter.stemWord(w);
  };
};
""" % {"endings": json.dumps(ENDINGS, ensure_ascii=False), "hangul": _HANGUL,
       "subject": json.dumps(SUBJECT_MARKERS, ensure_ascii=False)}

JS_SPLITTER = r"""
function splitQuery(query) {
  return query.match(/[%(hangul)s]+|(?:(?![%(hangul)s])[\p{L}\p{N}_])+/gu) || [];
}
""" % {"hangul": _HANGUL}


class SearchKorean(SearchEnglish):
    """Search language ``ko``: Korean particles stripped, Latin words Porter-stemmed."""

    lang = "ko"
    language_name = "Korean"
    js_stemmer_code = JS_CODE
    js_splitter_code = JS_SPLITTER
    stopwords = set(english_stopwords) | KOREAN_STOPWORDS

    def split(self, input: str) -> list[str]:
        return split_korean(input)

    def stem(self, word: str) -> str:
        if _HAS_HANGUL.search(word):
            return stem_korean(word)
        return super().stem(word)

    def word_filter(self, word: str) -> bool:
        # The base filter checks stopwords only for Latin-1 words; Korean particles that
        # stand alone after splitting ("Adam은" -> "은") must be dropped too.
        return bool(word) and word not in self.stopwords


def setup(app: Sphinx) -> dict[str, Any]:
    languages["ko"] = SearchKorean
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
