"""The site's math hook (tools/mkdocs_math.py): TeX in page text becomes MathML at build time.

The browser check of the built pages is in test_tutorials.py (it reuses that
module's site build); these tests pin the conversion rules on small pages.
"""

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytest.importorskip("latex2mathml")
pytest.importorskip("mkdocs")


def _hook():
    spec = importlib.util.spec_from_file_location("mkdocs_math", ROOT / "tools" / "mkdocs_math.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hook = _hook()


def _annotations(page_html):
    return re.findall(r'<annotation encoding="application/x-tex">(.*?)</annotation>', page_html, re.DOTALL)


def test_every_delimiter_becomes_mathml_inline_or_display():
    page = (
        "<p>inline $k &lt; D$ and \\(x_i\\), display</p><p>$$\\frac{a}{b}$$</p>"
        '<div class="arithmatex">\\[\\sum_j h_j\\]</div>'
    )
    out = hook.render_math(page, "page.md")
    assert _annotations(out) == ["k &lt; D", "x_i", "\\frac{a}{b}", "\\sum_j h_j"]
    displays = re.findall(r'<math [^>]*display="(\w+)"', out)
    assert displays == ["inline", "inline", "block", "block"]
    assert "<mo>&#x0003C;</mo>" in out  # the escaped "<" reached TeX as "<"
    assert "<mfrac>" in out
    assert "$" not in out and "\\(" not in out and "\\[" not in out


def test_code_scripts_and_currency_are_left_alone():
    page = (
        "<p>It costs $5 and $10 a month.</p>"
        "<p><code>f\"MMD$^2$\"</code></p><pre>x = '$a$'</pre>"
        "<script>var s = '$b$ \\\\(c\\\\)';</script><style>.a:before{content:\"$\"}</style>"
        '<div class="clipboard-copy-txt" id="cell-1">title="$d$"</div>'
        '<a title="$e$" href="#">link</a><!-- $f$ -->'
    )
    assert hook.render_math(page, "page.md") == page


def test_unknown_command_fails_the_build_naming_the_page_and_formula():
    # latex2mathml copies a command it does not know as text: the hook refuses it.
    with pytest.raises(hook.MathError, match=r"tutorials/x\.ipynb: unsupported TeX command .*\\foo"):
        hook.render_math("<p>$\\foo x$</p>", "tutorials/x.ipynb")


@pytest.mark.parametrize(
    "page, message",
    [
        ("<p>$\\frac{a}{b$</p>", "unbalanced braces"),
        ("<p>$x^{$</p>", "unbalanced braces"),
        ("<p>$$ $$</p>", "empty formula"),
        # Markdown broke a formula across tags (a "+" that opened a list item).
        ("<li>$-\\mathbb{E}<em>{q}\\left[x\\right]</em></li><li>\\mathrm{KL}$</li>", "left unrendered"),
        ("<p>\\(x</p><p>y\\)</p>", "left unrendered"),
    ],
)
def test_broken_math_fails_the_build(page, message):
    with pytest.raises(hook.MathError, match=message):
        hook.render_math(page, "page.md")


def test_arg_min_and_function_spacing():
    out = hook.tex_to_mathml("\\arg\\min_{A} \\log p", display=False)
    assert "\\" not in re.sub(r"<annotation.*?</annotation>", "", out)
    assert "<mi>arg</mi>" in out or "<mo>arg</mo>" in out
    assert '<mi>log</mi><mspace width="0.1667em" />' in out
    assert '<mi>log</mi><mspace' not in hook.tex_to_mathml("\\log(x)", display=False)


def test_a_page_with_math_gets_the_math_font_and_one_without_does_not(tmp_path):
    class Page:
        class file:
            src_uri = "tutorials/x.ipynb"

        url = "tutorials/x/"

    html = "<html><head></head><body><p>$x$</p></body></html>"
    out = hook.on_post_page(html, Page, {})
    assert 'src:url("../../assets/fonts/STIXTwoMath-Regular.ttf")' in out
    plain = "<html><head></head><body><p>no math</p></body></html>"
    assert hook.on_post_page(plain, Page, {}) == plain
    hook.on_post_build({"site_dir": str(tmp_path)})
    font = tmp_path / hook.FONT
    assert font.read_bytes()[:4] == b"\x00\x01\x00\x00"  # a TrueType font
