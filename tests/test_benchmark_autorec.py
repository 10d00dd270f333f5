"""Smoke test of ``benchmarks/autorec.py`` on a tiny ml-100k archive written by the test.

The GroupLens terms forbid redistributing MovieLens, so the test writes an
archive in the exact official ml-100k layout (``ml-100k/u.data``,
``u1.base``..``u5.test``, ``ua``/``ub``, tab-separated lines) from a small
low-rank ratings matrix into a temporary ``KERAS_HOME``, with no ``ml-1m.zip``
beside it, and runs the benchmark with ``--smoke`` on it: the page must hold
every method on every fold with finite RMSEs, the global-mean row must be the
RMSE computed here from the fixture, the absent ML-1M must be reported as not
run, and ``--report-from`` must write the page again byte for byte.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from _benchmark_pages import finite, table_rows
from test_data_movielens import _lines, _write_zip

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "benchmarks" / "autorec.py"
FOLDS = ("u1", "u2", "u3", "u4", "u5")
METHODS = ("Global mean", "Item means", "Biased MF (Surprise `SVD`)", "U-AutoRec", "I-AutoRec")


def _fixture_ratings(seed=0):
    """About 2,400 distinct (user, item, stars) on 1-based ids, with the largest ids of ml-100k.

    Stars are rounded from item biases (sd 0.8, as films differ in MovieLens) plus a rank-2 interaction.
    """
    rng = np.random.default_rng(seed)
    users, items = 120, 100
    scores = 3 + 0.8 * rng.normal(size=(1, items)) + 0.7 * rng.normal(size=(users, 2)) @ rng.normal(size=(2, items))
    stars = np.clip(np.round(scores + 0.3 * rng.normal(size=scores.shape)), 1, 5).astype(int)
    observed = rng.uniform(size=stars.shape) < 0.2
    ratings = [(u + 1, i + 1, int(stars[u, i])) for u, i in zip(*np.nonzero(observed))]
    ratings += [(943, 1682, 4), (943, 1, 2), (1, 1682, 5), (500, 800, 3)]  # the id range's corners
    order = rng.permutation(len(ratings))
    return [ratings[k] for k in order]


def _write_ml100k(path, ratings):
    """``ml-100k.zip`` in the official layout: u1..u5 a 5-fold partition, ua/ub hold out 1 rating per user."""
    members = {"ml-100k/": b"", "ml-100k/u.data": _lines(ratings), "ml-100k/u.info": f"{len(ratings)} ratings\n"
               .encode()}
    folds = {f"u{k + 1}": ratings[k::5] for k in range(5)}
    firsts = {}
    for r in ratings:
        firsts.setdefault(r[0], r)
    folds["ua"] = list(firsts.values())
    in_ua = set(folds["ua"])
    folds["ub"] = [r for r in ratings if r not in in_ua][:50]
    for fold, test in folds.items():
        held = set(test)
        members[f"ml-100k/{fold}.base"] = _lines([r for r in ratings if r not in held])
        members[f"ml-100k/{fold}.test"] = _lines(test)
    _write_zip(path, members)
    return folds


@pytest.fixture(scope="module")
def keras_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("keras_home")
    (home / "datasets" / "movielens").mkdir(parents=True)
    ratings = _fixture_ratings()
    folds = _write_ml100k(home / "datasets" / "movielens" / "ml-100k.zip", ratings)
    return home, ratings, folds


def _run(*arguments, keras_home):
    env = {**os.environ, "KERAS_HOME": str(keras_home), "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run([sys.executable, str(SCRIPT), *map(str, arguments)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"autorec.py failed:\n{proc.stdout}\n{proc.stderr[-3000:]}"
    return proc.stdout


def _global_mean_rmse(ratings, test):
    """The RMSE of predicting every held-out rating by the mean of the others."""
    held = set(test)
    mean = np.mean([r for u, i, r in ratings if (u, i, r) not in held])
    return float(np.sqrt(np.mean([(r - mean) ** 2 for _, _, r in test])))


def test_autorec_smoke(tmp_path, keras_home):
    home, ratings, folds = keras_home
    out = tmp_path / "autorec.md"
    stdout = _run("--smoke", "--out", out, keras_home=home)
    text = out.read_text()
    main, rest = text.split("## ML-100K test RMSE per fold")
    per_fold, rest = rest.split("## Settings chosen")

    rows = table_rows(main)
    assert rows["Method"] == ["ML-100K RMSE (u1-u2, mean ± sd)", "ML-100K train s / fold", "ML-100K tuning s / fold",
                              "ML-1M RMSE (90/10)", "ML-1M train s", "Published ML-1M RMSE"]
    assert list(rows)[1:] == list(METHODS)
    raw = json.loads((tmp_path / "autorec.json").read_text())
    assert [r["split"] for r in raw["ml100k"]] == ["u1", "u2"] and raw["ml1m"] is None
    for method in METHODS:
        mean, sd = rows[method][0].split(" ± ")
        # Stars on a 1-5 scale: a predictor clipped to the scale is off by less than 4;
        # any of these, even after 2 epochs, is far better than that on a rank-2 matrix.
        assert 0.2 < finite(mean) < 2.0 and 0 <= finite(sd) < 1, (method, rows[method])
        assert finite(rows[method][1]) >= 0
        # No ML-1M archive in this KERAS_HOME: reported, not failed.
        assert rows[method][3:5] == ["not run (no data)", "-"], method
    assert [rows[m][5] for m in METHODS] == ["-", "-", "0.845", "0.874", "0.831"]
    assert [rows[m][2] == "-" for m in METHODS] == [True, True, False, False, False]  # only tuned methods tune

    # The global-mean row, computed here from the fixture's ratings.
    expected = [_global_mean_rmse(ratings, folds[f]) for f in ("u1", "u2")]
    np.testing.assert_allclose([r["global_mean"]["rmse"] for r in raw["ml100k"]], expected, rtol=1e-6)
    mean, sd = rows["Global mean"][0].split(" ± ")
    assert abs(finite(mean) - np.mean(expected)) <= 5e-4 + 1e-9
    assert abs(finite(sd) - np.std(expected, ddof=1)) <= 5e-4 + 1e-9
    fold_rows = table_rows(per_fold)
    assert fold_rows["Method"] == ["u1", "u2"]
    assert [finite(c) for c in fold_rows["Global mean"]] == pytest.approx(expected, abs=5e-5 + 1e-9)
    # Item means use more of the training data than one global number: lower on both folds.
    assert all(finite(i) < finite(g) for i, g in zip(fold_rows["Item means"], fold_rows["Global mean"]))

    # Tuning chose from the grids the smoke run uses, never more epochs than it ran.
    for fold in raw["ml100k"]:
        for key in ("u_autorec", "i_autorec"):
            assert fold[key]["weight_decay"] in raw["args"]["weight_decays"] and 1 <= fold[key]["epochs"] <= 2
            assert len(fold[key]["validation"]) == len(raw["args"]["weight_decays"])
        assert fold["n_test"] == len(folds[fold["split"]])
    assert "**Smoke run**" in text and "ML-1M: **not run**" in text and "target (I-AutoRec beats biased MF)" in text
    assert "u1: Global mean" in stdout

    # The page again from the raw results, without training, byte for byte.
    again = tmp_path / "again.md"
    _run("--report-from", tmp_path / "autorec.json", "--out", again, keras_home=home)
    assert again.read_bytes() == out.read_bytes()


def test_autorec_rejects_bad_arguments(tmp_path, keras_home):
    proc = subprocess.run([sys.executable, str(SCRIPT), "--folds", "u1,u9", "--out", str(tmp_path / "x.md")],
                          cwd=REPO, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "KERAS_HOME": str(keras_home[0]), "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert proc.returncode == 2 and "--folds must be distinct folds among u1,u2,u3,u4,u5" in proc.stderr
    assert not (tmp_path / "x.md").exists()
