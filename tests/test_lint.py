"""Static checks of the sources: ruff, and private Keras/TensorFlow API only in ``_compat.py``."""

import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
#: What ruff checks (its rules are in pyproject.toml, [tool.ruff]); the
#: tutorials are checked in their jupytext .py form, not as notebooks.
LINTED = ["keras_ae", "tests", "benchmarks", "tools", *sorted(
    str(p.relative_to(ROOT)) for p in (ROOT / "tutorials").glob("*.py")
)]
#: Private Keras and TensorFlow API: allowed in keras_ae/_compat.py only.
PRIVATE_API = re.compile(r"keras\.src\b|from keras import src\b|_keras_logits|tensorflow\.python\b"
                         r"|_in_multi_worker_mode|sklearn\.datasets\._twenty_newsgroups|_twenty_newsgroups\b")


def test_ruff_finds_nothing():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", *LINTED],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert "No module named ruff" not in result.stderr, (
        "ruff is not installed: pip install -e '.[test]' (it is in the test extra)"
    )
    assert result.returncode == 0, (
        f"ruff check {' '.join(LINTED)} found problems (fix them, or `ruff check --fix` for the "
        f"ones marked [*]):\n{result.stdout}{result.stderr}"
    )


def test_private_api_only_in_compat():
    offenders = []
    for path in sorted((ROOT / "keras_ae").rglob("*.py")):
        if path.name == "_compat.py" and path.parent.name == "keras_ae":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if PRIVATE_API.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, (
        "Private Keras/TensorFlow/scikit-learn API outside keras_ae/_compat.py (move it there, version-guarded, "
        "with a check in tests/test_compat.py):\n" + "\n".join(offenders)
    )
