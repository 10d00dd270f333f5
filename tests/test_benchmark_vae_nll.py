"""Smoke test of ``benchmarks/vae_nll.py`` (VAE and IWAE test NLL on dynamically binarized MNIST).

The script runs with ``--smoke`` (2,000 training images, one epoch a row, k = 50
on 100 test images) on the official ``mnist.npz`` in a temporary ``KERAS_HOME``:
the page must hold every row with finite NLLs that obey the bounds (positive,
below the one-sample -ELBO of the same model), the published column, the curve
and its figure, and ``--report-from`` must write the page again byte for byte.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from _benchmark_pages import finite, import_benchmark, table_rows
from _shared import SHARED

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "benchmarks" / "vae_nll.py"
MNIST = SHARED / "mnist.npz"
ROWS = ("VAE (ELBO, k = 1)", "IWAE (k = 5)", "IWAE (k = 50)")


@pytest.fixture(scope="module")
def keras_home(tmp_path_factory):
    if not MNIST.is_file():
        pytest.skip(f"official mnist.npz not found at {MNIST} (set KERAS_AE_SHARED_DATA)")
    home = tmp_path_factory.mktemp("keras_home")
    (home / "datasets").mkdir()
    shutil.copyfile(MNIST, home / "datasets" / "mnist.npz")
    return home


def _run(*arguments, keras_home, check=True):
    env = {**os.environ, "KERAS_HOME": str(keras_home), "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run([sys.executable, str(SCRIPT), *map(str, arguments)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600)
    if check:
        assert proc.returncode == 0, f"vae_nll.py failed:\n{proc.stdout}\n{proc.stderr[-3000:]}"
    return proc


def test_checkpoints_double_and_end_at_the_last_epoch():
    module = import_benchmark("vae_nll")
    assert module.checkpoints(1) == [1]
    assert module.checkpoints(4) == [1, 2, 4]
    assert module.checkpoints(60) == [1, 2, 4, 8, 16, 32, 60]


def test_vae_nll_smoke(tmp_path, keras_home):
    out = tmp_path / "vae_nll.md"
    stdout = _run("--smoke", "--out", out, keras_home=keras_home).stdout
    text = out.read_text()
    raw = json.loads(out.with_suffix(".json").read_text())
    assert raw["smoke"] and raw["n_train"] == 2000 and raw["args"]["final_k"] == 50
    main, rest = text.split("## All rows with the cheaper estimator")
    small, rest = rest.split("## Learning curves")

    rows = table_rows(main)
    assert [rows[r][0] for r in ROWS] == ["86.76 (pythae: 89.78)", "85.54", "84.78"]
    for name, row in zip(ROWS, raw["rows"]):
        nll, se = rows[name][1].split(" ± ")
        nll = finite(nll.strip("*"))
        # Binary images: every probability is at most 1, so the NLL is positive; one epoch on
        # 2,000 images is far from the published ~85 but far better than 784 ln 2 = 543 (p = 1/2 everywhere).
        assert 85 < nll < 543 and 0 < finite(se) < 20, (name, rows[name])
        assert nll == pytest.approx(row["nll"], abs=0.005)
        # The one-sample ELBO is a looser bound than the IWAE estimate of the same model (by nats here).
        assert finite(rows[name][2]) > nll + 1, (name, rows[name])
        active, total = rows[name][3].split(" / ")
        assert total == "50" and 0 <= int(active) <= 50
        assert rows[name][4] == "1" and finite(rows[name][5]) > 0 and finite(rows[name][6]) >= 0
        assert [c["epoch"] for c in row["curve"]] == [1]
        assert finite(table_rows(small)[name][0]) > 0
    assert "`pixelcnn_vae`" in " ".join(rows)
    pixel = next(cells for name, cells in rows.items() if name.startswith("`pixelcnn_vae`"))
    assert pixel[1].startswith("not run: ") or raw["pixelcnn_vae"]["run"], pixel

    curve = table_rows(rest)
    assert curve["Epoch"] == list(ROWS) and len(curve["1"]) == 3
    assert (tmp_path / "vae_nll.png").stat().st_size > 10_000  # the figure of the curves
    assert "**Smoke run**" in text and "Target (VAE ≤ 86.0 nats): **missed**" in text
    assert "iwae_samples=50: test NLL" in stdout

    # The page again from the raw results, without training, byte for byte.
    again = tmp_path / "again" / "vae_nll.md"
    _run("--report-from", out.with_suffix(".json"), "--out", again, keras_home=keras_home)
    assert again.read_bytes() == out.read_bytes()


def test_vae_nll_rejects_bad_arguments(tmp_path, keras_home):
    proc = _run("--k", "1,5", "--epochs", "3", "--out", tmp_path / "x.md", keras_home=keras_home, check=False)
    assert proc.returncode == 2 and "--epochs needs one value per --k" in proc.stderr
    proc = _run("--final-images", "2000", "--curve-images", "3000", "--out", tmp_path / "x.md",
                keras_home=keras_home, check=False)
    assert proc.returncode == 2 and "--curve-images and --pixelcnn-images at most --final-images" in proc.stderr
    assert not (tmp_path / "x.md").exists()
