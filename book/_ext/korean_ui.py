"""The site's interface in Korean, a description for every page, and Korean code-cell toggles.

With ``language: ko`` Sphinx, pydata-sphinx-theme and sphinx-book-theme still left many interface
strings in English ("Skip to main content", "Back to top", "Live Code", "Open issue", "Link to this
heading"...) or in awkward Korean ("전체 화면으로보기"): their Korean catalogs lack them. This
extension

* puts Korean translations in front of the loaded catalogs (``sphinx``, which pydata-sphinx-theme
  uses too, and ``booktheme``), by adding them to the very translator objects the templates and
  the theme's Python code read, once the theme has loaded its own (``builder-inited``);
* the few strings the theme templates write as they are (no ``_()``: "Toggle primary sidebar",
  the navigation labels, the launch buttons' titles) are replaced in the written pages
  (:data:`FIXED_STRINGS`, at ``build-finished``);
* labels the summaries of ``hide-input``/``hide-output`` cells in Korean ("코드 보기"), without
  myst-nb's English ``aria-label`` "Toggle hidden content" that hid the visible label from
  screen readers;
* gives every page a ``<meta name="description">``: its first paragraph, shortened.
"""
from __future__ import annotations

import gettext
import re
from html import escape
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform

# msgid → Korean, per catalog. Visible labels and the names screen readers announce.
TRANSLATIONS: dict[str, dict[str, str]] = {
    "sphinx": {
        "Skip to main content": "본문으로 건너뛰기",
        "Back to top": "맨 위로",
        "Site navigation": "사이트 탐색",
        "On this page": "이 페이지의 차례",
        "Section Navigation": "절 탐색",
        "Color mode": "색상 모드",
        "Light": "밝게",
        "Dark": "어둡게",
        "System Settings": "시스템 설정",
        "Version warning": "버전 안내",
        "Announcement": "알림",
        "Breadcrumb": "현재 위치",
        "Home": "처음",
        "previous page": "이전 페이지",
        "next page": "다음 페이지",
        "previous": "이전",
        "next": "다음",
        "Search": "검색",
        "Link to this heading": "이 제목으로 가는 링크",
        "Link to this equation": "이 식으로 가는 링크",
        "Link to this definition": "이 정의로 가는 링크",
        "Link to this term": "이 용어로 가는 링크",
        "Link to this table": "이 표로 가는 링크",
        "Link to this image": "이 그림으로 가는 링크",
        "Link to this code": "이 코드로 가는 링크",
        "© Copyright %(copyright)s.": "© %(copyright)s.",
    },
    "booktheme": {
        "Fullscreen mode": "전체 화면으로 보기",
        "Launch interactive content": "실행 환경에서 열기",
        "Live Code": "라이브 코드",
        "Launch Thebe": "이 페이지에서 바로 코드 실행(Binder)",
        "Source repositories": "소스 저장소",
        "Source repository": "소스 저장소",
        "Repository": "저장소",
        "Open issue": "이슈 열기",
        "Open an issue": "이 페이지에 대한 이슈 열기",
        "Show source": "소스 보기",
        "Suggest edit": "수정 제안",
        "Download this page": "이 페이지 다운로드",
        "Download notebook file": "실행 결과가 담긴 노트북 다운로드",
        "Download source file": "원본(MyST) 파일 다운로드",
        "Print to PDF": "PDF로 인쇄",
        "Contents": "차례",
        "Search": "검색",
        "Binder logo": "Binder 로고",
        "Colab logo": "Colab 로고",
    },
}

# Strings a theme template writes as they are (no _()), replaced in the written pages.
FIXED_STRINGS = {
    'title="Toggle primary sidebar"': 'title="목차 열기·닫기" aria-label="목차 열기·닫기"',
    'title="Toggle secondary sidebar"': 'title="이 페이지의 차례 열기·닫기" aria-label="이 페이지의 차례 열기·닫기"',
    '<nav class="bd-links bd-docs-nav" aria-label="Main">': '<nav class="bd-links bd-docs-nav" aria-label="책의 차례">',
    '<nav aria-label="Page">': '<nav aria-label="이 페이지의 차례">',
    'alt="Binder logo"': 'alt="Binder 로고"',
    'alt="Colab logo"': 'alt="Colab 로고"',
    'title="Launch on Binder"': 'title="Binder에서 실행"',
    'title="Launch on Colab"': 'title="Colab에서 실행"',
    # a name that differs from the visible text ("검색" vs "검색 Ctrl+K", "색상 모드" vs the icon's
    # title "밝게") is what speech-input users cannot say (axe: label-content-name-mismatch)
    'class="btn search-button-field search-button__button pst-js-only" title="검색" aria-label="검색"':
        'class="btn search-button-field search-button__button pst-js-only" title="검색"',
    'data-mode="light" title="밝게"': 'data-mode="light"',
    'data-mode="dark"  title="어둡게"': 'data-mode="dark"',
    'data-mode="auto"  title="시스템 설정"': 'data-mode="auto"',
}

# Summaries of hidden cell parts, by the part myst-nb hides ({type} in its prompt).
CELL_PROMPTS = {"source": ("코드 보기", "코드 숨기기"), "content": ("셀 보기", "셀 숨기기"),
                "output": ("출력 보기", "출력 숨기기"), "outputs": ("출력 보기", "출력 숨기기")}
DESCRIPTION_CHARS = 150


class _Overrides(gettext.NullTranslations):
    """A catalog of our own in front of a theme's missing or Null catalog."""

    def __init__(self, messages: dict[str, str]) -> None:
        super().__init__()
        self._messages = messages

    def gettext(self, message: str) -> str:
        if message in self._messages:
            return self._messages[message]
        return self._fallback.gettext(message) if self._fallback else message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        if self._fallback:
            return self._fallback.ngettext(singular, plural, n)
        return singular if n == 1 else plural


def install_translations(app: Sphinx) -> None:
    """Put :data:`TRANSLATIONS` in front of the loaded catalogs (only for Korean pages)."""
    from sphinx import locale

    if (app.config.language or "").split("_")[0] != "ko":
        return
    for catalog, messages in TRANSLATIONS.items():
        key = ("general", catalog)
        translator = locale.translators.get(key)
        catalog_dict = getattr(translator, "_catalog", None)
        if isinstance(catalog_dict, dict):
            # the very object the templates hold (app.translator for "sphinx"): add in place
            catalog_dict.update(messages)
        else:
            override = _Overrides(messages)
            if translator is not None:
                override.add_fallback(translator)
            locale.translators[key] = override


def korean_strings(html: str) -> str:
    """``html`` with the theme templates' fixed English strings in Korean (:data:`FIXED_STRINGS`)."""
    for english, korean in FIXED_STRINGS.items():
        html = html.replace(english, korean)
    return html


def replace_fixed_strings(app: Sphinx, exception: Exception | None) -> None:
    """Korean for the strings theme templates write as they are, in every written page."""
    from page_scripts import rewrite_pages   # a sibling local extension

    if exception is None:
        rewrite_pages(app, lambda html, path: korean_strings(html))


class KoreanCellPrompts(SphinxPostTransform):
    """Korean summaries for the hidden parts of ``hide-input``/``hide-output``/``hide-cell`` cells
    (after myst-nb's ``HideInputCells``, priority 199, has made them)."""

    default_priority = 200
    formats = ("html",)

    def run(self, **kwargs: Any) -> None:
        from myst_nb.sphinx_ import HideCodeCellNode

        default_show = "Show code cell {type}"
        for node in self.document.findall(HideCodeCellNode):
            for part, (show, hide) in CELL_PROMPTS.items():
                if node["prompt_show"] == default_show.replace("{type}", part):
                    node["prompt_show"], node["prompt_hide"] = show, hide
                    break


def visit_hidden_cell(self: Any, node: nodes.Element) -> None:
    """myst-nb's summary without its English aria-label: the visible Korean text names it."""
    classes = " ".join(node["classes"])
    self.body.append(f'<details class="admonition hide {classes}">\n<summary>\n')
    self.body.append(f'<p class="collapsed admonition-title">{escape(node["prompt_show"])}</p>\n')
    self.body.append(f'<p class="expanded admonition-title">{escape(node["prompt_hide"])}</p>\n')
    self.body.append("</summary>\n")


def depart_hidden_cell(self: Any, node: nodes.Element) -> None:
    self.body.append("</details>\n")


def page_description(doctree: nodes.document | None, fallback: str) -> str:
    """The page's first paragraph of prose, cut at a word near :data:`DESCRIPTION_CHARS`."""
    if doctree is not None:
        for paragraph in doctree.findall(nodes.paragraph):
            if paragraph.get("classes") or any(isinstance(a, (nodes.admonition, nodes.Admonition, nodes.container,
                                                                nodes.table, nodes.figure, nodes.caption))
                                               for a in _ancestors(paragraph)):
                continue
            text = re.sub(r"\s+", " ", paragraph.astext()).strip()
            if len(text) < 40:
                continue
            if len(text) > DESCRIPTION_CHARS:
                cut = text.rfind(" ", 0, DESCRIPTION_CHARS)
                text = text[:cut if cut > 60 else DESCRIPTION_CHARS].rstrip(",.;:") + "…"
            return text
    return fallback


def _ancestors(node: nodes.Node):
    parent = node.parent
    while parent is not None:
        yield parent
        parent = parent.parent


def add_description(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any],
                    doctree: Any) -> None:
    title = app.config.html_title or app.config.project
    description = page_description(doctree, f"{title}: 딥러닝 최적화와 시각화를 실행하며 배우는 한국어 교재")
    context["metatags"] = context.get("metatags", "") + \
        f'\n    <meta name="description" content="{escape(description, quote=True)}" />'


def setup(app: Sphinx) -> dict[str, Any]:
    from myst_nb.sphinx_ import HideCodeCellNode

    app.connect("builder-inited", install_translations)
    app.connect("build-finished", replace_fixed_strings)
    app.connect("html-page-context", add_description)
    app.add_post_transform(KoreanCellPrompts)
    app.add_node(HideCodeCellNode, override=True, html=(visit_hidden_cell, depart_hidden_cell))
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
