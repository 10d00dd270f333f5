"""Smoke test of ``benchmarks/retrieval.py`` (TF-IDF, LSA and semantic hashing on documents).

The script runs as a subprocess with ``--smoke``: synthetic topic documents
(``keras_ae.data.synthetic_documents``, 8 topics), one epoch per autoencoder,
and an empty ``KERAS_HOME``, so it must not need the 20 Newsgroups archive.
The full run is not part of CI; see ``benchmarks/README.md``.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from _benchmark_pages import finite as _finite
from _benchmark_pages import import_benchmark as _import_benchmark
from _benchmark_pages import table_rows as _table_rows

from keras_ae import retrieval

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "benchmarks" / "retrieval.py"
N_TOPICS = 8


def _run(*arguments, keras_home, timeout):
    env = {**os.environ, "KERAS_HOME": str(keras_home), "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run([sys.executable, str(SCRIPT), *arguments], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=timeout)
    assert proc.returncode == 0, f"retrieval.py failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("retrieval")
    home = tmp / "keras_home"  # empty: no 20 Newsgroups archive, no MNIST
    home.mkdir()
    out = tmp / "retrieval.md"
    stdout = _run("--smoke", "--out", str(out), keras_home=home, timeout=300)
    return {"dir": tmp, "home": home, "out": out, "stdout": stdout, "text": out.read_text(),
            "raw": json.loads(out.with_suffix(".json").read_text())}


def _rows_between(text, start, end):
    return _table_rows(text.split(start)[1].split(end)[0])


def test_retrieval_table(smoke):
    text = smoke["text"]
    assert "Smoke run" in text
    assert not (smoke["home"] / "datasets").exists()  # no data set was read or downloaded
    table = text.split("## Retrieval:")[1].split("## Precision at fixed recall")[0]
    lines = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| ---")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    assert header == ["Representation", "Size", "Distance", "P@1", "P@10", "P@100", "Search µs/query",
                      "Encode µs/doc", "Bytes/doc"]
    body = [[c.strip() for c in line.strip("|").split("|")] for line in lines[1:]]
    rows = [(r[0], r[1]) for r in body]
    sizes = (2, 32, 128)
    expected = ([("TF-IDF", "400 (sparse)")] + [("LSA", f"{d} dims") for d in sizes]
                + [row for d in sizes for row in (("AE real-valued", f"{d} dims"), ("AE binary", f"{d} bits"))]
                + [("chance (random ranking)", "-"), ("published (Salakhutdinov & Hinton 2009, Fig. 6)", "-")])
    assert rows == expected
    precision = {}
    for cells in body[:-2]:
        assert cells[2] == ("hamming" if cells[0] == "AE binary" else "cosine")
        values = [_finite(c) for c in cells[3:6]]
        assert all(0 <= p <= 1 for p in values), cells
        assert _finite(cells[6]) > 0 and _finite(cells[7]) >= 0 and _finite(cells[8]) > 0, cells
        precision[cells[0], cells[1]] = values
    # Packed bits: 128 bits take 16 bytes a document, a float32 128-vector 512.
    assert body[rows.index(("AE binary", "128 bits"))][8] == "16"
    assert body[rows.index(("AE real-valued", "128 dims"))][8] == "512"
    chance = _finite(body[-2][3])
    assert abs(chance - 1 / N_TOPICS) < 0.03  # topics are drawn uniformly
    assert body[-1][3:6] == ["not quoted"] * 3
    # TF-IDF needs no training: even in the smoke run, its nearest document shares the query's topic
    # far more often than chance.
    assert precision["TF-IDF", "400 (sparse)"][0] > max(0.6, 4 * chance)


def test_precision_recall_curves(smoke):
    raw = smoke["raw"]
    n_train = raw["n_train"]
    assert len(raw["retrieval"]) == 10
    for row in raw["retrieval"]:
        curve = row["curve"]
        sizes, recall, precision = (np.asarray(curve[key]) for key in ("sizes", "recall", "precision"))
        assert sizes[0] == 1 and sizes[-1] == n_train and np.all(np.diff(sizes) > 0), row["name"]
        assert np.all(np.diff(recall) >= -1e-12) and np.all((precision >= 0) & (precision <= 1)), row["name"]
        # Retrieving the whole database finds every relevant document, at the base rate.
        assert recall[-1] == pytest.approx(1.0), row["name"]
        assert precision[-1] == pytest.approx(raw["chance"]), row["name"]
        # The first point of the curve is precision at 1.
        assert precision[0] == pytest.approx(row["precision_at"]["1"]), row["name"]
    figure = smoke["out"].with_name("retrieval_pr.png")
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "![Precision-recall curves](retrieval_pr.png)" in smoke["text"]
    rows = _rows_between(smoke["text"], "## Precision at fixed recall", "## Classification")
    assert rows["Representation"] == ["recall 0.01", "recall 0.05", "recall 0.1", "recall 0.2", "recall 0.5",
                                      "recall 0.8"]
    for cell in rows["TF-IDF (400 (sparse))"]:
        assert 0 <= _finite(cell) <= 1


def test_classification_table(smoke):
    rows = _rows_between(smoke["text"], "## Classification accuracy", "## Autoencoders")
    n_train = smoke["raw"]["n_train"]
    assert rows["Features"] == ["10 labels/group (80)", "100 labels/group (800)", f"all {n_train} labels"]
    assert len(rows) == 11
    for name, cells in rows.items():
        if name == "Features":
            continue
        for cell in cells[:2]:
            mean, sd = cell.split(" ± ")
            assert 0 <= _finite(mean) <= 100 and _finite(sd) >= 0, (name, cell)
        assert 0 <= _finite(cells[2]) <= 100, name
    # TF-IDF separates the synthetic topics well above chance (12.5%) with 10 labels per topic.
    assert _finite(rows["TF-IDF (400 (sparse))"][0].split(" ± ")[0]) > 50
    raw = smoke["raw"]
    assert all(len(r["few"]["10"]) == len(r["few"]["100"]) == 2 for r in raw["classification"])
    training = _rows_between(smoke["text"], "## Autoencoders", "## What the numbers say")
    assert [training[b][0] for b in ("2", "32", "128")] == ["1", "1", "1"]  # epochs
    assert "Claim 1 of source 003" in smoke["text"] and "Claim 2" in smoke["text"]


def test_report_from_reproduces_the_page(smoke):
    again = smoke["dir"] / "again.md"
    _run("--report-from", str(smoke["out"].with_suffix(".json")), "--out", str(again), keras_home=smoke["home"],
         timeout=120)
    assert again.read_bytes() == smoke["out"].read_bytes()
    assert (smoke["dir"] / "retrieval_pr.png").is_file()


def test_packed_hamming_search_matches_the_library():
    """The timed search (packed bits, XOR, popcount) finds the documents ``keras_ae.retrieval`` ranks first."""
    script = _import_benchmark("retrieval")
    rng = np.random.default_rng(0)
    for bits in (2, 13, 64, 128):
        database = rng.integers(0, 2, size=(300, bits)).astype("uint8")
        query = rng.integers(0, 2, size=(20, bits)).astype("uint8")
        packed_q, packed_d = script._packed(query), script._packed(database)
        distances = np.bitwise_count(packed_q[:, None, :] ^ packed_d[None, :, :]).sum(axis=2)
        np.testing.assert_array_equal(distances, retrieval.hamming_distances(query, database))
        assert script.search_seconds(query, database, "hamming", 1) > 0
    assert script.bytes_per_document(np.zeros((4, 128), "uint8"), "hamming") == 16
