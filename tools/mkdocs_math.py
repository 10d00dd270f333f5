"""MkDocs hook: render TeX math to MathML at build time.

The site is read offline, so no math renderer is fetched from a CDN: every
formula is converted to MathML (``latex2mathml``) while the site is built, and
browsers render MathML Core natively, without JavaScript.

Converted, in the text of every built page (outside ``<code>``, ``<pre>``,
``<script>``, ``<style>``, ``<textarea>`` and existing ``<math>`` elements):

- ``$$...$$`` and ``\\[...\\]`` as display math, ``$...$`` and ``\\(...\\)`` as
  inline math. The notebook pages (mkdocs-jupyter) keep their markdown cells'
  ``$`` math verbatim; ``pymdownx.arithmatex`` (``generic: true``) writes the
  markdown pages' math as ``\\(...\\)`` and ``\\[...\\]``.
- An inline ``$`` opens math only when followed by a non-space character and
  closes it only when not followed by a digit, so ``$5 and $10`` stays text.

The pages use STIX Two Math (an OpenType MATH font, SIL Open Font License,
shipped by the ``ziamath`` package), copied into the site, so that stretchy
brackets, braces and big operators look the same on every reader's machine.

A formula that cannot be converted (a TeX syntax error, an unknown command that
would be shown as its raw name, unbalanced braces) or a TeX delimiter left over
in a page's text fails the build with the page and the formula named.
"""

from __future__ import annotations

import html
import importlib.util
import re
import shutil
from pathlib import Path

from latex2mathml.converter import convert
from mkdocs.exceptions import PluginError
from mkdocs.utils import get_relative_url

FONT = "assets/fonts/STIXTwoMath-Regular.ttf"
_FONT_STYLE = (
    '<style>@font-face{{font-family:"STIX Two Math";src:url("{url}") format("truetype")}}'
    'math{{font-family:"STIX Two Math",math}}'
    # Material scrolls display math that is too wide; MathML's ink would also make it scroll vertically.
    ".md-typeset div.arithmatex{{overflow-y:hidden;padding:0.1em 0}}</style>"
)

# Elements whose content is never math: matched whole, copied unchanged.
# mkdocs-jupyter keeps each code cell's source, as text, in a hidden
# ``clipboard-copy-txt`` div for its copy button.
_SKIP = re.compile(
    r"<!--.*?-->|<(script|style|pre|code|textarea|math|svg)\b[^>]*>.*?</\1\s*>"
    r"|<div\b[^>]*\bclass=\"clipboard-copy-txt\"[^>]*>.*?</div\s*>",
    re.DOTALL | re.IGNORECASE,
)
_TAG = re.compile(r"<[^>]*>")

# Display math first, so that ``$$`` is never read as two empty inline formulas.
_MATH = re.compile(
    r"\$\$(?P<dd>.+?)\$\$"
    r"|\\\[(?P<bd>.+?)\\\]"
    r"|\\\((?P<bi>.+?)\\\)"
    r"|(?<![\\$])\$(?P<di>[^\s$](?:[^$]*?[^\\$])?)\$(?!\d)",
    re.DOTALL,
)
# What may not survive in a page's visible text once its math is converted.
_LEFTOVER = re.compile(r"\$\$|\\[()\[\]]|(?<!\\)\$(?!\d)")
# A TeX command that latex2mathml did not know: it is copied as its raw name.
_RAW_COMMAND = re.compile(r">[^<]*\\[A-Za-z]+[^<]*<")
# Standard TeX commands latex2mathml does not know, as commands it does.
_MACROS = {"arg": r"\operatorname{arg}"}
_MACRO = re.compile(r"\\(" + "|".join(_MACROS) + r")(?![A-Za-z])")
# TeX puts a thin space between a function name and an argument not in parentheses.
_FUNCTION = re.compile(
    r"(<mi>(?:arg|cos|det|dim|exp|inf|ln|log|max|min|sin|sup|tanh)</mi>)(?!<mo[^>]*>(?:\(|&#x0*28;))"
)
# MathML named spaces are not part of MathML Core: give their widths.
_NAMED_SPACES = {
    "negativethinmathspace": "-0.1667em",
    "negativemediummathspace": "-0.2222em",
    "negativethickmathspace": "-0.2778em",
}


class MathError(PluginError):
    """A formula could not be rendered."""


def _balanced(tex: str) -> bool:
    depth = 0
    for char in re.sub(r"\\[{}\\]", "", tex):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def tex_to_mathml(tex: str, display: bool, where: str = "") -> str:
    """Returns ``tex`` as a MathML element, or raises ``MathError`` naming ``where``."""
    tex = tex.strip()
    context = f"{where}: " if where else ""
    if not tex:
        raise MathError(f"{context}empty formula")
    if not _balanced(tex):
        raise MathError(f"{context}unbalanced braces in formula {tex!r}")
    try:
        source = _MACRO.sub(lambda match: _MACROS[match.group(1)], tex)
        mathml = convert(source, display="block" if display else "inline")
    except Exception as error:  # latex2mathml raises a family of its own exceptions
        raise MathError(f"{context}cannot convert formula {tex!r}: {type(error).__name__} {error}") from error
    unknown = _RAW_COMMAND.search(mathml)
    if unknown:
        raise MathError(f"{context}unsupported TeX command {unknown.group(0)[1:-1]!r} in formula {tex!r}")
    mathml = _FUNCTION.sub(r'\1<mspace width="0.1667em" />', mathml)
    # A bare \lVert or \| is a fixed-size fence in TeX; only \left\| stretches.
    mathml = mathml.replace("<mo>&#x02016;</mo>", '<mo stretchy="false">&#x02016;</mo>')
    for name, width in _NAMED_SPACES.items():
        mathml = mathml.replace(f'width="{name}"', f'width="{width}"')
    # Keep the source as an annotation (not displayed): it is what a reader copies.
    start, inner = mathml[: -len("</math>")].split(">", 1)
    annotation = html.escape(tex, quote=False)
    return (
        f'{start}><semantics><mrow>{inner}</mrow><annotation encoding="application/x-tex">{annotation}</annotation>'
        "</semantics></math>"
    )


def _render_text(text: str, where: str) -> str:
    def replace(match: re.Match) -> str:
        display = match.group("dd") is not None or match.group("bd") is not None
        tex = next(group for group in match.group("dd", "bd", "bi", "di") if group is not None)
        return tex_to_mathml(html.unescape(tex), display, where)

    rendered = _MATH.sub(replace, text)
    leftover = _LEFTOVER.search(_TAG.sub("", rendered))
    if leftover:
        raw = _TAG.sub("", rendered)
        start = max(leftover.start() - 60, 0)
        raise MathError(f"{where}: TeX delimiter {leftover.group(0)!r} left unrendered near {raw[start:start + 120]!r}")
    return rendered


def render_math(page_html: str, where: str = "") -> str:
    """Converts the TeX math in the text of ``page_html`` to MathML."""
    # Math never spans a tag (the markdown renderers keep it verbatim), so each
    # run of text between two tags, outside the skipped elements, is converted on its own.
    return _between(_SKIP, page_html, lambda segment: _between(_TAG, segment, lambda text: _render_text(text, where)))


def _between(pattern, text, convert):
    """``text`` with ``convert`` applied to every run between two matches of ``pattern`` (matches kept as is)."""
    pieces = []
    position = 0
    for match in pattern.finditer(text):
        pieces.append(convert(text[position:match.start()]))
        pieces.append(match.group(0))
        position = match.end()
    pieces.append(convert(text[position:]))
    return "".join(pieces)


def _font_source() -> Path:
    spec = importlib.util.find_spec("ziamath")
    if spec is None or not spec.submodule_search_locations:
        raise PluginError("the math font comes from the ziamath package: pip install -e '.[docs]'")
    return Path(next(iter(spec.submodule_search_locations))) / "fonts" / "STIXTwoMath-Regular.ttf"


def on_post_page(output: str, page, config) -> str:
    output = render_math(output, page.file.src_uri)
    if "<math" in output:
        style = _FONT_STYLE.format(url=get_relative_url(FONT, page.url))
        output = output.replace("</head>", style + "</head>", 1)
    return output


def on_post_build(config) -> None:
    target = Path(config["site_dir"]) / FONT
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_font_source(), target)
