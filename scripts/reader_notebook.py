"""Turn an executed MyST notebook into the notebook a Colab/Binder reader opens.

Colab and Jupyter render CommonMark, LaTeX and some HTML, not MyST. The launch buttons
open the page's ``.ipynb``, so its markdown must read like the site:

- ``{glue:text}`name``` → the value the executed cells glued (the site's numbers);
- ``{term}``, ``{doc}`` → the word / the linked page's title; ``{eq}`` → 식 (n), with the
  same per-page numbers Sphinx gives (``math_numfig`` off: labelled equations counted
  from 1 on each page), and ``\\tag{n}`` in the labelled display itself;
- ``{cite}`` → (저자, 연도), with the cited works listed in a last cell;
- a figure shown with a caption (``figures.show``, ``interactive_figure(caption=...)``) gets it in a
  markdown cell under its code cell, "**그림 N.** …", numbered as the site numbers it (Jupyter shows
  no output metadata); the site renders the caption from the metadata, so it is not doubled there;
- admonitions → quoted blocks; ``{exercise}`` → a headed section; the cells between
  ``{solution-start}`` and ``{solution-end}`` → collapsed (``<details>`` for markdown,
  ``jupyter.source_hidden``/``outputs_hidden`` and Colab's form view for code), so "Run all"
  does not put the answers in front of the reader unasked.

Code cells are left as they are (tests/test_notebook_outputs.py compares their outputs), except that a solution's
code cell and a cell the site hides (``remove-cell``, ``remove-input``: glue and claim
checks) gain a ``# @title`` line, which Colab needs for its form view.
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import nbformat

import sys as _sys

_sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "book" / "_ext"))
from korean_particles import resolve_particle  # noqa: E402  (the site's rule, shared)
from nb_figures import CAPTIONED_TYPES, figure_label  # noqa: E402  (the site's figure numbers, shared)

GLUE_PREFIX = "application/papermill.record/"
READER_NOTE = (
    "> 이 노트북은 웹사이트의 같은 페이지에서 만들었습니다. 본문에 적힌 숫자는 웹사이트를 빌드할 때 "
    "이 노트북을 실행해 얻은 값(`quick` 프로파일, CPU)이라, 직접 실행하면 출력되는 값이 조금 다를 수 있습니다."
)
SOLUTION_SUMMARY = "해답 보기 (클릭해서 펼치기)"
SOLUTION_CODE_TITLE = "# @title 해답 코드 (두 번 클릭하면 코드가 보입니다)"
HIDDEN_CODE_TITLE = "# @title 웹사이트에서 숨긴 셀: 본문에 숫자를 넣고 주장을 검사합니다 (두 번 클릭하면 보입니다)"
OUTPUT_ONLY_TITLE = "# @title 결과만 보여 주는 셀 (두 번 클릭하면 코드가 보입니다)"
ADDED_TITLES = (SOLUTION_CODE_TITLE, HIDDEN_CODE_TITLE, OUTPUT_ONLY_TITLE)
REFERENCES_HEADING = "## 참고 문헌"

ROLE = re.compile(r"\{(?P<name>[a-z:-]+)\}`(?P<body>[^`]*)`")
LABELLED_DISPLAY = re.compile(r"\$\$(?P<math>.*?)\$\$[ \t]*\((?P<label>[^)\s]+)\)", re.S)
TARGET_LINE = re.compile(r"^\([\w:.-]+\)=[ \t]*\n?", re.M)
FENCE_OPEN = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<name>[a-z-]+)\}[ \t]*(?P<arg>.*)$")


class ConversionError(ValueError):
    """The page uses MyST the reader notebook cannot express (named in the message)."""


@dataclass
class PageContext:
    """What the markdown of one page needs besides itself."""

    glue: Mapping[str, str]
    equations: Mapping[str, int]
    titles: Mapping[str, str]
    bibliography: Mapping[str, Mapping[str, str]]
    page: str = ""
    cited: list[str] = field(default_factory=list)


# ------------------------------------------------------------------ inputs
def glued_texts(nb: nbformat.NotebookNode) -> dict[str, str]:
    """name → the text ``{glue:text}`` shows, from the glue records in the executed outputs."""
    values: dict[str, str] = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            record = out.get("metadata", {}).get("scrapbook")
            if out.get("output_type") != "display_data" or not record:
                continue
            data = out.get("data", {})
            text = data.get(record.get("mime_prefix", "") + "text/plain")
            if text is not None:
                values[record["name"]] = plain_text(text)
    return values


def plain_text(text: str) -> str:
    """As myst-nb's ``{glue:text}``: a Python literal loses its quotes."""
    from ast import literal_eval

    try:
        return str(literal_eval(text))
    except (SyntaxError, ValueError):
        return text


def equation_numbers(markdown_cells: list[str]) -> dict[str, int]:
    """label → number: labelled displays counted from 1 in page order (Sphinx, math_numfig off)."""
    numbers: dict[str, int] = {}
    for source in markdown_cells:
        for match in LABELLED_DISPLAY.finditer(source):
            label = match.group("label")
            if label in numbers:
                raise ConversionError(f"equation label {label!r} is used twice on this page")
            numbers[label] = len(numbers) + 1
    return numbers


def page_titles(root: Path) -> dict[str, str]:
    """Document name (``book/optimizers``) → its first-level heading."""
    titles: dict[str, str] = {}
    for md in sorted([*root.glob("book/*.md"), *root.glob("exercises/*.md")]):
        match = re.search(r"^# (.+)$", md.read_text(encoding="utf-8"), re.M)
        if match:
            titles[md.relative_to(root).with_suffix("").as_posix()] = match.group(1).strip()
    return titles


def read_bibliography(path: Path) -> dict[str, dict[str, str]]:
    """key → {authors (last names), year, title, venue} from a BibTeX file."""
    from pybtex.database import parse_file

    entries: dict[str, dict[str, str]] = {}
    for key, entry in parse_file(str(path)).entries.items():
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        last = [_latex_plain(" ".join(p.last_names)) for p in people]
        fields = entry.fields
        venue = fields.get("journal") or fields.get("booktitle") or fields.get("publisher") \
            or fields.get("howpublished") or fields.get("note") or ""
        entries[key] = {
            "last_names": "\x1f".join(last) or _latex_plain(fields.get("organization", key)),
            "authors": ", ".join(_latex_plain(" ".join([*p.first_names, *p.middle_names, *p.prelast_names,
                                                        *p.last_names])) for p in people),
            "year": fields.get("year", "n.d."),
            "title": _latex_plain(fields.get("title", "")),
            "venue": _latex_plain(venue),
            "url": fields.get("url", ""),
        }
    return entries


def _latex_plain(text: str) -> str:
    """BibTeX field → plain text: accents as Unicode (latexcodec, which pybtex brings), no braces."""
    import codecs

    import latexcodec  # noqa: F401  (registers the "ulatex" codec)

    return re.sub(r"[{}]", "", codecs.decode(text, "ulatex")).strip()


# ------------------------------------------------------------------ roles
def citation(keys: str, ctx: PageContext) -> str:
    parts = []
    for key in (k.strip() for k in keys.split(",")):
        entry = ctx.bibliography.get(key)
        if entry is None:
            raise ConversionError(f"{ctx.page}: citation key {key!r} is not in references.bib")
        if key not in ctx.cited:
            ctx.cited.append(key)
        names = entry["last_names"].split("\x1f")
        who = names[0] if len(names) == 1 else (f"{names[0]} & {names[1]}" if len(names) == 2
                                                 else f"{names[0]} et al.")
        parts.append(f"{who}, {entry['year']}")
    return "(" + "; ".join(parts) + ")"


def _explicit_target(body: str) -> tuple[str | None, str]:
    """``text <target>`` → (text, target); ``target`` → (None, target)."""
    match = re.fullmatch(r"(.*?)\s*<([^>]+)>", body.strip(), re.S)
    return (match.group(1), match.group(2)) if match else (None, body.strip())


def replace_role(match: re.Match[str], ctx: PageContext) -> str:
    name, body = match.group("name"), match.group("body")
    if name in ("glue:text", "glue", "glue:any"):
        key, _, fmt = body.partition(":")
        if key not in ctx.glue:
            raise ConversionError(f"{ctx.page}: no glued value named {key!r} in the executed notebook")
        value = ctx.glue[key]
        return _format_glued(value, fmt) if fmt else value
    if name == "term":
        text, target = _explicit_target(body)
        return text if text is not None else target
    if name == "eq":
        if body not in ctx.equations:
            raise ConversionError(f"{ctx.page}: {{eq}} refers to {body!r}, which is not a labelled equation here")
        return f"식 ({ctx.equations[body]})"
    if name in ("cite", "cite:p", "cite:t"):
        return citation(body, ctx)
    if name == "doc":
        text, target = _explicit_target(body)
        if text is not None:
            return text
        doc = (Path(ctx.page).parent / target).as_posix() if not target.startswith("/") else target.lstrip("/")
        doc = _normpath(doc)
        if doc not in ctx.titles:
            raise ConversionError(f"{ctx.page}: {{doc}} target {target!r} is not a page of the book")
        return f"‘{ctx.titles[doc]}’"
    if name in ("math",):
        return f"${body}$"
    raise ConversionError(f"{ctx.page}: the role {{{name}}} has no reader-notebook form; add one in "
                          "scripts/reader_notebook.py")


def _format_glued(value: str, fmt: str) -> str:
    from myst_nb.core.variables import format_plain_text  # same formatting as the site

    return format_plain_text(repr(value), fmt)


def _normpath(path: str) -> str:
    parts: list[str] = []
    for part in path.split("/"):
        if part == "..":
            if parts:
                parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return "/".join(parts)


ROLE_OR_CODE = re.compile(ROLE.pattern + r"|(?P<code>(?<![`}])`[^`]+`(?!`))")


def _replace_roles(text: str, ctx: PageContext) -> str:
    """Roles replaced; inline code spans (`{eq}` written as an example) stay verbatim. A generic
    particle after a glued value ("(으)로") becomes the one that fits the value, as on the site."""
    out = []
    while (m := ROLE_OR_CODE.search(text)) is not None:
        out.append(text[:m.start()])
        rest = text[m.end():]
        if m.group("code"):
            out.append(m.group(0))
        else:
            value = replace_role(m, ctx)
            out.append(value)
            if m.group("name").startswith("glue"):
                rest = resolve_particle(value, rest) or rest
        text = rest
    out.append(text)
    return "".join(out)


# ------------------------------------------------------------------ blocks
DISPLAY_MATH = re.compile(r"\$\$(.*?)\$\$", re.S)


def _quote(text: str) -> str:
    """A block quote. Display math goes on one line first: a "> " inside $$…$$ would reach MathJax."""
    text = DISPLAY_MATH.sub(lambda m: "$$" + " ".join(m.group(1).split()) + "$$", text.strip("\n"))
    return "\n".join(("> " + line).rstrip() for line in text.split("\n"))


def _directive_blocks(source: str) -> list[tuple[str, str, dict[str, str], str] | str]:
    """Split markdown into plain text and (name, argument, options, body) directive blocks."""
    lines = source.split("\n")
    out: list[Any] = []
    plain: list[str] = []
    i = 0
    while i < len(lines):
        match = FENCE_OPEN.match(lines[i])
        if not match:
            plain.append(lines[i])
            i += 1
            continue
        fence, name, arg = match.group("fence"), match.group("name"), match.group("arg").strip()
        j = i + 1
        options: dict[str, str] = {}
        while j < len(lines) and re.match(r"^:[\w-]+:", lines[j]):
            key, _, value = lines[j][1:].partition(":")
            options[key] = value.strip()
            j += 1
        depth, k = 1, j
        while k < len(lines):
            inner = FENCE_OPEN.match(lines[k])
            if inner and inner.group("fence")[0] == fence[0] and len(inner.group("fence")) == len(fence):
                depth += 1
            elif lines[k].strip() == fence:
                depth -= 1
                if depth == 0:
                    break
            k += 1
        if k == len(lines):
            raise ConversionError(f"unclosed directive {{{name}}} (fence {fence!r})")
        if plain:
            out.append("\n".join(plain))
            plain = []
        out.append((name, arg, options, "\n".join(lines[j:k]).strip("\n")))
        i = k + 1
    if plain:
        out.append("\n".join(plain))
    return out


def convert_markdown(source: str, ctx: PageContext) -> str:
    """One markdown cell of the page, as plain Jupyter markdown."""
    source = TARGET_LINE.sub("", source)
    source = LABELLED_DISPLAY.sub(
        lambda m: f"$${m.group('math').rstrip()} \\tag{{{ctx.equations[m.group('label')]}}}\n$$", source)
    parts = []
    for block in _directive_blocks(source):
        if isinstance(block, str):
            parts.append(_replace_roles(block, ctx))
            continue
        name, arg, options, body = block
        inner = convert_markdown(body, ctx)
        if name == "admonition":
            title = _replace_roles(arg, ctx)
            parts.append(_quote(f"**{title}**\n\n{inner}"))
        elif name in ("note", "warning", "tip", "important", "caution", "attention", "hint", "seealso"):
            label = {"note": "참고", "warning": "주의", "tip": "도움말", "important": "중요",
                     "caution": "주의", "attention": "주의", "hint": "힌트", "seealso": "함께 보기"}[name]
            parts.append(_quote(f"**{label}**\n\n{inner}"))
        elif name == "exercise":
            title = _replace_roles(arg, ctx)
            parts.append(_quote(f"**문제: {title}**\n\n{inner}" if title else f"**문제**\n\n{inner}"))
        elif name in ("solution-start", "solution-end"):
            raise ConversionError(f"{ctx.page}: {{{name}}} must be split off before conversion")
        elif name in ("glossary", "bibliography"):
            raise ConversionError(f"{ctx.page}: {{{name}}} belongs on a non-notebook page")
        else:
            raise ConversionError(f"{ctx.page}: the directive {{{name}}} has no reader-notebook form; add one "
                                  "in scripts/reader_notebook.py")
    return "\n\n".join(p.strip("\n") for p in parts if p.strip()).strip("\n")


SOLUTION_MARK = re.compile(r"^(`{3,})\{(solution-start|solution-end)\}[^\n]*\n(?::[\w-]+:[^\n]*\n)*\1[ \t]*$", re.M)


def _solution_segments(source: str) -> list[tuple[str, str]]:
    """Split a markdown cell at its solution markers: [("text", ...), ("solution-start", ""), ...]."""
    out: list[tuple[str, str]] = []
    pos = 0
    for match in SOLUTION_MARK.finditer(source):
        out.append(("text", source[pos:match.start()]))
        out.append((match.group(2), ""))
        pos = match.end()
    out.append(("text", source[pos:]))
    return out


def _collapsed(text: str, first: bool) -> str:
    summary = SOLUTION_SUMMARY if first else "해답 이어서 보기"
    return f"<details>\n<summary>{summary}</summary>\n\n{text}\n\n</details>"


def references_cell(ctx: PageContext) -> str:
    lines = [REFERENCES_HEADING, ""]
    for key in sorted(ctx.cited, key=lambda k: (ctx.bibliography[k]["last_names"].lower(), ctx.bibliography[k]["year"])):
        e = ctx.bibliography[key]
        line = f"- {e['authors'] or e['last_names']} ({e['year']}). {e['title']}."
        if e["venue"]:
            line += f" *{e['venue']}*."
        if e["url"]:
            line += f" <{e['url']}>"
        lines.append(line)
    return "\n".join(lines)


def output_captions(cell: nbformat.NotebookNode) -> list[str]:
    """The captions of the figures a code cell shows, in order (none if the site removes its output)."""
    if {"remove-cell", "remove-output"} & set(cell.metadata.get("tags", [])):
        return []
    captions = []
    for output in cell.get("outputs", []):
        if output.get("output_type") not in ("display_data", "execute_result"):
            continue
        for mime in CAPTIONED_TYPES:
            caption = (output.get("metadata", {}).get(mime) or {}).get("caption")
            if caption and mime in output.get("data", {}):
                captions.append(str(caption))
                break
    return captions


def reader_notebook(executed: nbformat.NotebookNode, ctx: PageContext) -> nbformat.NotebookNode:
    """The executed notebook with every markdown cell converted and the solutions collapsed."""
    nb = copy.deepcopy(executed)
    nb.metadata.pop("jupytext", None)  # no pairing: this file is generated, never a source
    cells = []
    in_solution, first_piece = False, True
    note_added = False
    figures = 0
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            pieces = []
            for kind, segment in _solution_segments(cell.source):
                if kind == "solution-start":
                    if in_solution:
                        raise ConversionError(f"{ctx.page}: a solution starts inside another")
                    in_solution, first_piece = True, True
                    pieces.append("#### 해답")
                elif kind == "solution-end":
                    if not in_solution:
                        raise ConversionError(f"{ctx.page}: a {{solution-end}} without a start")
                    in_solution = False
                else:
                    converted = convert_markdown(segment, ctx)
                    if converted and in_solution:
                        converted, first_piece = _collapsed(converted, first_piece), False
                    pieces.append(converted)
            text = "\n\n".join(p for p in pieces if p.strip())
            if not note_added and re.search(r"^# ", text, re.M):
                text = re.sub(r"^(# .*)$", lambda m: m.group(1) + "\n\n" + READER_NOTE, text, count=1, flags=re.M)
                note_added = True
            if not text.strip():
                continue
            cell.source = text
            cell.pop("attachments", None)
        elif cell.cell_type == "code":
            tags = cell.metadata.get("tags", [])
            hidden = {"remove-cell", "remove-input", "hide-input", "hide-cell"} & set(tags)
            if in_solution:
                if not cell.source.lstrip().startswith("# @title"):
                    cell.source = SOLUTION_CODE_TITLE + "\n" + cell.source
                cell.metadata["cellView"] = "form"
                cell.metadata["jupyter"] = {"source_hidden": True, "outputs_hidden": True}
            elif hidden:
                # plumbing the site hides: collapsed in JupyterLab, a titled form in Colab
                title = HIDDEN_CODE_TITLE if {"remove-cell", "hide-cell"} & set(tags) else OUTPUT_ONLY_TITLE
                if not cell.source.lstrip().startswith("# @title"):
                    cell.source = title + "\n" + cell.source
                cell.metadata["cellView"] = "form"
                cell.metadata["jupyter"] = {"source_hidden": True}
            captions = []
            for caption in output_captions(cell):
                figures += 1
                captions.append(f"**{figure_label(figures)}** {caption}")
            if captions:
                text = "\n\n".join(captions)
                cells.append(cell)
                cells.append(nbformat.v4.new_markdown_cell(_collapsed(text, False) if in_solution else text))
                continue
        cells.append(cell)
    if in_solution:
        raise ConversionError(f"{ctx.page}: a {{solution-start}} has no {{solution-end}}")
    if not note_added:
        raise ConversionError(f"{ctx.page}: no first-level heading to put the reader note under")
    if ctx.cited:
        cells.append(nbformat.v4.new_markdown_cell(references_cell(ctx)))
    nb.cells = cells
    return nb


def strip_added_title(source: str) -> str:
    """The code of a reader-notebook cell without the Colab title line the conversion added."""
    for title in ADDED_TITLES:
        if source.startswith(title + "\n"):
            return source[len(title) + 1:]
    return source
