"""The course: notebook pairs in sync, and the documentation site builds strictly.

The notebooks themselves run under ``pytest --nbval-lax`` (quick mode, set in
the root ``conftest.py``); these tests check what nbval cannot: that each
committed ``.ipynb`` matches its jupytext source and carries a full run, and
that ``mkdocs build --strict`` renders the notebooks (with their plots, without
TensorFlow log noise) and not the ``.py`` sources, and that their math shows as
rendered math in a real browser (headless Chromium, offline).
"""

import html
import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TUTORIALS = ROOT / "tutorials"

# Lines TensorFlow's C++ runtime writes to stderr; none may reach a page.
NOISE = [
    "oneDNN custom operations",
    "TF_ENABLE_ONEDNN_OPTS",
    "WARNING: All log messages before absl::InitializeLog",
    "Could not find cuda drivers",
    "Unable to register cuDNN",
    "Unable to register cuFFT",
    "Unable to register cuBLAS",
    "failed call to cuInit",
    "cuda_executor.cc",
    "cpu_feature_guard.cc",
    "I0000 00:00:",
    "W0000 00:00:",
    "E0000 00:00:",
]


def _load_notebooks_tool():
    spec = importlib.util.spec_from_file_location("notebooks_tool", ROOT / "tools" / "notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _notebooks():
    return sorted(TUTORIALS.glob("[0-9][0-9]_*.ipynb"))


def test_every_tutorial_pair_is_in_sync_and_executed():
    pytest.importorskip("jupytext")
    tool = _load_notebooks_tool()
    problems = tool.check(ROOT)
    assert not problems, "\n".join(problems)
    assert list(TUTORIALS.glob("[0-9][0-9]_*.py")), "no tutorials found"


def test_check_reports_a_pair_out_of_sync(tmp_path):
    pytest.importorskip("jupytext")
    import nbformat

    tool = _load_notebooks_tool()
    tutorials = tmp_path / "tutorials"
    tutorials.mkdir()
    (tutorials / "01_x.py").write_text("# %% [markdown]\n# # Title\n\n# %%\nx = 1\n")
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Title"),
        nbformat.v4.new_code_cell("x = 2", execution_count=1, outputs=[
            nbformat.v4.new_output("stream", name="stderr", text="I0000 00:00:1.0 1 port.cc:1] noise\n"),
        ]),
    ]
    nbformat.write(nb, str(tutorials / "01_x.ipynb"))
    (tutorials / "02_y.py").write_text("# %%\ny = 1\n")
    problems = "\n".join(tool.check(tmp_path))
    assert "cells differ" in problems
    assert "stderr" in problems
    assert "02_y.py: no paired notebook" in problems


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Builds the site once with ``mkdocs build --strict`` into a temporary directory."""
    for module in ("mkdocs", "mkdocs_jupyter", "mkdocstrings_handlers.python", "material"):
        pytest.importorskip(module)
    site_dir = tmp_path_factory.mktemp("site")
    cache_before = (ROOT / ".cache").exists()
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--clean", "-d", str(site_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        env={**__import__("os").environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stdout}\n{result.stderr}"
    assert cache_before or not (ROOT / ".cache").exists(), "the docs build left a .cache/ in the repository"
    return site_dir


def _page(site_dir, notebook):
    return site_dir / "tutorials" / notebook.stem / "index.html"


def test_site_renders_every_notebook_with_plots_and_no_log_noise(site):
    notebooks = _notebooks()
    assert notebooks
    for notebook in notebooks:
        page = _page(site, notebook)
        assert page.exists(), f"no page for {notebook.name}"
        html = page.read_text(encoding="utf-8")
        noise = [marker for marker in NOISE if marker in html]
        assert not noise, f"{page}: TensorFlow log noise on the page: {noise}"
        assert re.search(r"<img[^>]+src=\"data:image/png;base64,", html), f"{page}: no plot"


def test_site_does_not_render_the_py_sources(site):
    rendered = {p.parent.name for p in (site / "tutorials").glob("*/index.html")}
    assert rendered == {nb.stem for nb in _notebooks()}
    leaked = [p.name for p in (site / "tutorials").rglob("*.py")]
    assert not leaked, f"tutorial sources published: {leaked}"


def test_benchmarks_page_includes_every_results_table(site):
    html = (site / "benchmarks" / "index.html").read_text(encoding="utf-8")
    for table in sorted((ROOT / "benchmarks" / "results").glob("*.md")):
        header = next((line for line in table.read_text().splitlines() if line.startswith("|")), None)
        if header is None:
            continue
        first_cell = header.strip("|").split("|")[0].strip()
        assert f"<th>{first_cell}</th>" in html or first_cell in html, (
            f"{table.name} is not included in docs/benchmarks.md"
        )


def test_api_reference_documents_every_builder(site):
    import keras_ae

    html = (site / "api" / "index.html").read_text(encoding="utf-8")
    for name in keras_ae.list_models():
        assert re.search(rf"id=\"keras_ae\.models\.\w+\.{name}\"", html), f"builder {name} missing from api.md"


COVERAGE_STATUSES = ("taught", "mentioned", "not covered")


def _coverage_rows():
    text = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    table = text[text.index("| source | section | status | where |"):].split("\n\n")[0].splitlines()[2:]
    return [[cell.strip() for cell in row.strip().strip("|").split(" | ")] for row in table]


def test_coverage_table_states_how_each_source_section_is_covered():
    rows = _coverage_rows()
    assert len(rows) > 40, f"the coverage table has {len(rows)} rows"
    for source, section, status, where in rows:
        assert status in COVERAGE_STATUSES, (section, status)
        links = re.findall(r"\]\((tutorials/[^)]+)\)", where)
        if status == "not covered":
            assert not links, f"{section!r} is 'not covered' but links to {links}"
        else:
            assert links, f"{section!r} is {status!r} but links to no tutorial section"
    tutorials_linked = {re.match(r"tutorials/(\d\d)_", link).group(1)
                        for *_, where in rows for link in re.findall(r"\]\((tutorials/[^)]+)\)", where)}
    assert tutorials_linked >= {path.name[:2] for path in _notebooks()} - {"06"}, tutorials_linked


def test_coverage_table_links_point_to_existing_sections(site):
    html = (site / "index.html").read_text(encoding="utf-8")
    links = set(re.findall(r'href="(tutorials/[^"#/]+)/#([^"]+)"', html))
    assert links, "the coverage table in docs/index.md links to no tutorial section"
    missing = [
        f"{page}#{anchor}"
        for page, anchor in sorted(links)
        if f'id="{anchor}"' not in (site / page / "index.html").read_text(encoding="utf-8")
    ]
    assert not missing, f"docs/index.md links to sections that do not exist: {missing}"


# The pages whose math is checked in a browser: the math-heavy tutorials and a markdown page.
MATH_PAGES = [
    "tutorials/01_what_is_an_autoencoder",
    "tutorials/02_regularized_autoencoders",
    "tutorials/04_variational_autoencoders",
    "tutorials/07_adversarial_autoencoders",
    "distributed",
]
# Runs when the page has loaded its stylesheets: drops code (which may hold a
# literal "$"), then records what the reader sees and how many formulas are laid out.
_PROBE = """<script>
for (const element of document.querySelectorAll("pre, code")) element.remove();
const formulas = [...document.querySelectorAll("math")];
document.body.setAttribute("data-probe", JSON.stringify({
  text: document.querySelector("article").innerText,
  math: formulas.length,
  shown: formulas.filter((m) => m.getBoundingClientRect().width > 0 && m.getBoundingClientRect().height > 0).length,
  mathml: formulas.filter((m) => m.namespaceURI === "http://www.w3.org/1998/Math/MathML").length,
  fractions: document.querySelectorAll("mfrac").length,
}));
</script>"""
# TeX left as text: an inline or display delimiter pair, \\( \\) \\[ \\], or a command.
_RAW_TEX = re.compile(r"\$[^$\s][^$]*\$|\$\$|\\[()\[\]]|\\(?:[A-Za-z]{2,})")


def _source_formulas(page):
    """The number of formulas in the page's source (markdown cells or markdown file), code spans excluded."""
    if page.startswith("tutorials/"):
        cells = json.loads((ROOT / f"{page}.ipynb").read_text(encoding="utf-8"))["cells"]
        text = "\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown")
    else:
        text = (ROOT / "docs" / f"{page}.md").read_text(encoding="utf-8")
    text = re.sub(r"```.*?```|`[^`\n]*`", "", text, flags=re.DOTALL)
    return len(re.findall(r"\$\$.+?\$\$|\$[^$]+?\$", text, flags=re.DOTALL))


def _browse(chromium, page_file, profile):
    """Loads ``page_file`` in headless Chromium with the network unreachable; returns the probe's record."""
    probe = page_file.with_name("probe.html")
    probe.write_text(page_file.read_text(encoding="utf-8").replace("</body>", _PROBE + "</body>", 1), encoding="utf-8")
    result = subprocess.run(
        [
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
            "--host-resolver-rules=MAP * ~NOTFOUND",  # nothing is fetched from outside the site
            f"--user-data-dir={profile}", "--dump-dom", probe.as_uri(),
        ],
        capture_output=True, text=True, timeout=120,
    )
    found = re.search(r'data-probe="([^"]*)"', result.stdout)
    assert found, f"Chromium gave no probe for {page_file} (exit {result.returncode}):\n{result.stderr[-2000:]}"
    return json.loads(html.unescape(found.group(1)))


def test_math_renders_in_a_browser_without_network(site, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("Chromium is not installed (.ci/run installs Debian's chromium package)")
    fractions = 0
    for page in MATH_PAGES:
        record = _browse(chromium, site / page / "index.html", tmp_path / "profile")
        expected = _source_formulas(page)
        assert expected > 10, f"{page}: the source has only {expected} formulas; is the page list stale?"
        raw = sorted(set(match.group(0)[:60] for match in _RAW_TEX.finditer(record["text"])))
        assert not raw, f"{page}: raw TeX visible in the browser: {raw[:10]}"
        assert record["mathml"] == record["math"] >= expected, f"{page}: {record} for {expected} formulas"
        assert record["shown"] == record["math"], f"{page}: some formulas are not laid out: {record}"
        fractions += record["fractions"]
    assert fractions > 0, "no \\frac became a MathML fraction"
