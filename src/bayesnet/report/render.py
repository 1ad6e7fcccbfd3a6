"""Rendering content blocks (`bayesnet.report.blocks`) as HTML and Markdown.

HTML comes from the Jinja2 templates in `bayesnet/report/templates/` (package data),
rendered with autoescaping on: every text a block carries is HTML-escaped by default,
with no escaping call to remember. Figures are embedded as PNG data URIs and the page
has a Content-Security-Policy that allows no script but the what-if panel's own
(templates/whatif.js, by its hash; its grid is inert JSON), so report.html is one
self-contained file that runs nothing a data set or spec brings.

Markdown is written here too; its text passes through `md_escape` (or, for the
arm-level report, the stricter `md_escape_all`), which makes user text inert.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from .blocks import Bullets, Figure, Heading, Notes, Paragraph, Table, WhatIf

__all__ = ["CSS", "render_html", "render_markdown", "md_escape", "md_escape_all", "MarkdownStyle", "PANEL_MD",
           "ARM_MD", "template_files"]

TEMPLATES = "templates"


def template_files() -> list[str]:
    """Names of the template, style and script files shipped in bayesnet/report/templates/."""
    return sorted(f.name for f in resources.files(__package__).joinpath(TEMPLATES).iterdir()
                  if f.name.endswith((".html", ".css", ".js")))


@cache
def _environment():
    import jinja2

    # PackageLoader reads the templates through importlib.resources: they must be package data
    env = jinja2.Environment(loader=jinja2.PackageLoader("bayesnet.report", TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=False)
    env.filters["keep_numbers"] = keep_numbers
    env.globals["whatif_json"] = whatif_json
    env.globals["whatif_js"] = _markup(WHATIF_JS)
    return env


def _markup(s: str):
    from markupsafe import Markup

    return Markup(s)


# a word with a hyphen inside ("0.39-0.92", "(0.56-0.76)\u2020", "SEER-Medicare"): a browser may
# break after the hyphen
# break after the hyphen; and a short interval in parentheses ("(317 to 647)", "(11 more to 341 more)")
_HYPHENATED = re.compile(r"(?<!\S)\((?=[^()<>&]{0,30}\d)[^()<>&]{1,30}\)[^\s<>&]*|[^\s<>&]*[\w)%][-\u2013]-?[\w(][^\s<>&]*")


def keep_numbers(text):
    """A table cell's text, HTML-escaped, with every hyphenated word inside it (a numeric
    range such as "0.39-0.92", or "SEER-Medicare") and every short interval in parentheses
    ("(11 more to 341 more)") in a ``<span class="nw">`` so that it never breaks across lines; the rest of the text wraps at spaces. The spans wrap
    characters of the escaped text only (no ``<``, ``>`` or ``&``), so no user text
    becomes markup."""
    from markupsafe import Markup, escape

    esc = str(escape(text))
    return Markup(_HYPHENATED.sub(lambda m: f'<span class="nw">{m.group(0)}</span>', esc))


def _read_css() -> str:
    return resources.files(__package__).joinpath(TEMPLATES, "report.css").read_text(encoding="utf-8").rstrip("\n")


CSS = _read_css()


def _one_line(x) -> str:
    """Line breaks of any kind (\\r\\n, \\r, \\n, U+2028/2029, vertical tab, form feed) and
    other control characters become a space: user text cannot start a new Markdown block
    or split a table row."""
    return re.sub(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+", " ", str(x))


def _read_js() -> str:
    return resources.files(__package__).joinpath(TEMPLATES, "whatif.js").read_text(encoding="utf-8").rstrip("\n")


WHATIF_JS = _read_js()


def script_hash(js: str) -> str:
    """The Content-Security-Policy source that allows exactly the inline script `js`
    ('sha256-<base64 digest>', CSP Level 2)."""
    return "sha256-" + base64.b64encode(hashlib.sha256(js.encode("utf-8")).digest()).decode()


def whatif_json(data):
    """`data` as JSON that is inert inside ``<script type="application/json">``: ASCII
    only, with ``<``, ``>`` and ``&`` written as \\u escapes, so no text in it can close
    the element or start markup (HTML 4.12.1.3); JSON.parse reads the same values."""
    import json

    from markupsafe import Markup

    s = json.dumps(data, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    return Markup(s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def render_html(blocks, figures: dict[str, Path]) -> str:
    """The blocks as one self-contained HTML page (templates/report.html); every text is
    HTML-escaped by the template's autoescaping. `figures` maps a Figure's key to its PNG
    file; figures without a file are left out. A what-if panel (`WhatIf`) brings its
    script, the one the page's Content-Security-Policy allows (by hash); a page without
    one allows no script."""
    blocks = list(blocks)
    images = {b.key: base64.b64encode(Path(figures[b.key]).read_bytes()).decode()
              for b in blocks if isinstance(b, Figure) and b.key in figures}
    title = next((b.text for b in blocks if isinstance(b, Heading)), "")
    has_js = any(isinstance(b, WhatIf) for b in blocks)
    page = _environment().get_template("report.html").render(
        title=_one_line(title), css=CSS, blocks=blocks, images=images,
        script_hash=script_hash(WHATIF_JS) if has_js else "")
    return page


# ----------------------------------------------------------------------------- Markdown

_MD_ALWAYS = re.compile(r"([\\`*\[\]|#~])")
_MD_LEADING = re.compile(r"^(\s*)([-+=]|\d+[.)])(?=\s|$|[-=])")
_MD_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


_AMP_ENTITY = re.compile(r"&(?=[A-Za-z#])")
_LT_MARKUP = re.compile(r"<(?=[A-Za-z/!?])")


def _md_html_inert(s: str) -> str:
    """`s` with the ``&`` and ``<`` that a Markdown renderer could read as HTML escaped
    (CommonMark 6.6 raw HTML, 6.5 autolinks, 2.5 entity references); other ``<``, ``>``
    and ``&`` are plain text there and are kept."""
    return _LT_MARKUP.sub("&lt;", _AMP_ENTITY.sub("&amp;", s))


def md_escape(x) -> str:
    """Plain text -> inert Markdown: one line; every ``<`` that could open a tag, comment,
    declaration or autolink (followed by a letter, ``/``, ``!`` or ``?``) becomes ``&lt;``
    and every ``&`` that could start an entity (followed by a letter or ``#``) becomes
    ``&amp;``, so no tag or attribute (``<script>``, ``onerror=``) survives a Markdown
    renderer while text such as "P(HR < 1)" or "Smith & Jones" stays readable as written;
    Markdown punctuation backslash-escaped (CommonMark 6.1), including ``|`` for tables,
    ``[``/``]`` for links and images, emphasis and strike markers and a leading list, quote
    or heading marker."""
    s = _md_html_inert(_one_line(x))
    s = _MD_ALWAYS.sub(r"\\\1", s)
    s = _MD_UNDERSCORE.sub(r"\\_", s)
    return _MD_LEADING.sub(lambda m: m.group(1) + (m.group(2)[:-1] + "\\" + m.group(2)[-1] if m.group(2)[0].isdigit()
                                                   else "\\" + m.group(2)), s)


def md_escape_all(x) -> str:
    """Plain text -> inert Markdown, the arm-level report's rule: markup-starting ``<`` and
    entity-starting ``&`` as entities (as `md_escape`), \\r and \\n as spaces, and every one of \\ ` * _ [ ] # | backslash-escaped
    (also inside words, e.g. case\\_series)."""
    s = _md_html_inert(str(x)).replace("\r", " ").replace("\n", " ")
    for ch in "\\`*_[]#|":
        s = s.replace(ch, "\\" + ch)
    return s


@dataclass(frozen=True)
class MarkdownStyle:
    """How a report's Markdown is laid out.

    escape: plain text -> Markdown; escape_h2: escape second-level headings too (the panel
    report's section headings are bayesnet's own text and only made one line);
    caption_below: a table's caption after the table as a paragraph (else bold, above);
    figure_svg: link figures/<key>.svg for every figure (else the PNG file named in the
    figures mapping, and only when it exists); final_newline: end the file with an empty line."""
    escape: Callable[[object], str] = md_escape
    escape_h2: bool = False
    caption_below: bool = False
    figure_svg: bool = False
    final_newline: bool = False


PANEL_MD = MarkdownStyle()
MD_WHAT_IF_RATIOS = ("1.00", "0.90", "0.80", "0.70", "0.60", "0.50")  # the what-if grid points report.md shows
ARM_MD = MarkdownStyle(escape=md_escape_all, escape_h2=True, caption_below=True, figure_svg=True,
                       final_newline=True)


def render_markdown(blocks, figures: dict[str, Path] | None = None, style: MarkdownStyle = PANEL_MD) -> str:
    """The blocks as GitHub-flavoured Markdown; every text is escaped by `style.escape`
    (`md_escape` for the panel report)."""
    e, figures, out = style.escape, figures or {}, []
    for b in blocks:
        if isinstance(b, Heading):
            text = e(b.text) if (b.level == 1 or style.escape_h2) else _one_line(b.text)
            out.append(f"{'#' * b.level} {text}\n")
        elif isinstance(b, Paragraph):
            out.append(f"{e(b.text)}\n")
        elif isinstance(b, Bullets):
            out.append("\n".join(f"- {e(x)}" for x in b.items) + "\n")
        elif isinstance(b, Notes):
            out.append("\n".join(f"{e(x)}  " for x in b.items) + "\n")
        elif isinstance(b, Table):
            if not style.caption_below:
                out.append(f"**{e(b.caption)}**\n")
            out.append("| " + " | ".join(e(h) for h in b.header) + " |")
            out.append("|" + "---|" * len(b.header))
            out += ["| " + " | ".join(e(c) for c in r) + " |" for r in b.rows]
            out.append(f"\n{e(b.caption)}\n" if style.caption_below else "")
        elif isinstance(b, WhatIf):
            out.append(f"{e(b.caption)} (The slider is in report.html; the grid is summary.json's what_if; "
                       f"here, six of its points.)\n")
            ths = [b.default_threshold] + [t for t in ("0.8",) if t in b.thresholds and t != b.default_threshold]
            idx = [b.data["ratio_text"].index(r) for r in MD_WHAT_IF_RATIOS if r in b.data["ratio_text"]]
            head = ["R"] + [f"P(HR < {t}) {q}" for t in ths for q in ("pooled", "new study")]
            out.append("| " + " | ".join(e(h) for h in head) + " |")
            out.append("|" + "---|" * len(head))
            out += ["| " + " | ".join([b.data["ratio_text"][i]] + [e(b.data["p"][q][t][i]) for t in ths
                                                                   for q in ("pooled", "predictive")]) + " |"
                    for i in idx]
            out.append("")
        elif isinstance(b, Figure):
            if style.figure_svg:
                out.append(f"![{e(b.caption)}](figures/{b.key}.svg)\n")
            elif b.key in figures:
                out.append(f"![{e(b.caption)}](figures/{Path(figures[b.key]).name})\n")
        else:
            raise TypeError(f"not a report block: {b!r}")
    return "\n".join(out) + ("\n" if style.final_newline else "")
