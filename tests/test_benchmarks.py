"""Smoke tests of the paper-table benchmarks in ``benchmarks/``.

Each benchmark runs as a subprocess with ``--smoke`` (one epoch on a small
slice of MNIST) and must exit 0 and write its Markdown table with the
expected rows holding finite numbers. The real measurements are not run in
CI; see ``benchmarks/README.md``.

MNIST is read from a temporary ``KERAS_HOME`` seeded with the official
``mnist.npz`` from the shared data directory (``../shared/data`` next to
the repository, or ``$KERAS_AE_SHARED_DATA``); the tests are skipped when that
file is absent.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from _benchmark_pages import finite as _finite
from _benchmark_pages import import_benchmark as _import_benchmark
from _benchmark_pages import table_rows as _table_rows
from _shared import SHARED

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = REPO / "benchmarks"


MNIST = SHARED / "mnist.npz"
pytestmark = pytest.mark.skipif(
    not MNIST.is_file(),
    reason=f"official mnist.npz not found at {MNIST} "
    "(set KERAS_AE_SHARED_DATA to the directory holding it)",
)


@pytest.fixture(scope="module")
def keras_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("keras_home")
    (home / "datasets").mkdir()
    shutil.copyfile(MNIST, home / "datasets" / "mnist.npz")
    return home


def _run(script, out, keras_home):
    env = {**os.environ, "KERAS_HOME": str(keras_home), "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--smoke", "--out", str(out)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, f"{script} failed:\n{proc.stdout}\n{proc.stderr[-3000:]}"
    assert out.is_file(), f"{script} did not write {out}"
    return proc.stdout, out.read_text()


def test_hinton2006_smoke(tmp_path, keras_home):
    stdout, text = _run("hinton2006.py", tmp_path / "hinton2006.md", keras_home)
    rows = _table_rows(text)
    ae = rows["Autoencoder 784-1000-500-250-30 (no pretraining)"]
    pca = rows["PCA (30 components)"]
    lpca = rows["Logistic PCA (30 components)"]
    assert lpca[0] == "8.01" and ae[0] == "3.00" and pca[0] == "13.87"  # published column
    ae_error, pca_error, lpca_error = _finite(ae[1]), _finite(pca[1]), _finite(lpca[1])
    _finite(ae[2]), _finite(pca[2]), _finite(lpca[2])  # train seconds
    # A logit-linear model fits MNIST's near-binary pixels far better than PCA, even on the slice.
    assert 0 < lpca_error < pca_error / 2
    assert 0 < ae_error < 784 and 0 < pca_error < 784
    # PCA's error does not depend on training length: even on the smoke slice
    # it is near the published 13.87 (the slice adds a little).
    assert 10 < pca_error < 20
    assert "Smoke run" in text
    assert "Autoencoder 784-1000-500-250-30" in stdout

    # The curves rows (Fig. 2A) go to the page beside --out, with their raw numbers as JSON.
    curves_text = (tmp_path / "hinton2006_curves.md").read_text()
    curves = {name: cells for name, cells in _table_rows(curves_text).items() if name != "Method"}
    published = {"Autoencoder 784-400-200-100-50-25-6 (no pretraining)": "1.44",
                 "Logistic PCA (6 components)": "7.64", "Logistic PCA (18 components)": "2.45",
                 "PCA (18 components)": "5.90", "PCA (6 components)": "not published"}
    assert {name: cells[0] for name, cells in curves.items()} == published
    measured = {name: _finite(cells[1]) for name, cells in curves.items()}
    for name, cells in curves.items():
        _finite(cells[4])  # train seconds
        # The ratio column is the measured error over the measured PCA (18) error.
        assert abs(_finite(cells[3]) - measured[name] / measured["PCA (18 components)"]) < 0.01
    assert all(0 < error < 784 for error in measured.values())
    # More components fit better, for PCA and logistic PCA alike; PCA's error is
    # set by the data, not the training length, so it holds on the smoke slice.
    assert measured["PCA (18 components)"] < measured["PCA (6 components)"]
    assert measured["Logistic PCA (18 components)"] < measured["Logistic PCA (6 components)"]
    # A logit-linear model fits the thin strokes better than PCA with as many components.
    assert measured["Logistic PCA (18 components)"] < measured["PCA (18 components)"]
    raw = json.loads((tmp_path / "hinton2006_curves.json").read_text())
    assert raw["smoke"] is True and raw["n_test"] == 500
    assert abs(raw["pca_18"]["error"] - measured["PCA (18 components)"]) < 0.01
    assert "Smoke run" in curves_text and "synthetic_curves" in curves_text


def test_hinton2006_datasets_option_and_curves_page(tmp_path):
    hinton = _import_benchmark("hinton2006")
    args = hinton.parse_args(["--datasets", "curves", "--out", str(tmp_path / "page.md")])
    assert args.datasets == ["curves"]
    assert hinton.curves_out(args.out) == tmp_path / "page_curves.md"
    assert hinton.parse_args([]).datasets == ["mnist", "curves"]
    with pytest.raises(SystemExit):
        hinton.parse_args(["--datasets", "faces"])
    with pytest.raises(SystemExit):
        hinton.parse_args(["--curves-epochs", "0"])


def test_throughput_smoke(tmp_path, keras_home):
    _, text = _run("throughput.py", tmp_path / "throughput.md", keras_home)
    rows = _table_rows(text)
    ours = next(cells for name, cells in rows.items() if name.startswith("ours:"))
    baseline = next(cells for name, cells in rows.items() if name.startswith("baseline:"))
    for cells in (ours, baseline):
        assert _finite(cells[0]) > 0  # median samples/s
        assert _finite(cells[2]) > 0  # median samples per CPU-second
        assert _finite(cells[3]) > 0  # last loss, nats per image
    # Same objective on both sides: after one epoch from similar
    # initializations the losses are of the same size.
    assert 0.5 < _finite(ours[3]) / _finite(baseline[3]) < 2
    ratio = re.search(r"median of per-round ratios of samples/s\): ([0-9.]+)", text)
    assert ratio and _finite(ratio.group(1)) > 0
    assert "Smoke run" in text


@pytest.mark.parametrize("shift", [0, 1, 2])
def test_hinton2006_shift_augmentation(shift):
    hinton = _import_benchmark("hinton2006")
    args = hinton.parse_args(["--shift", str(shift), "--batch-size", "50", "--seed", "3"])
    # One lit pixel in the middle of each image: its position after the
    # augmentation is the shift, which must be whole, within +-shift and
    # reach every offset.
    images = np.zeros((400, 28, 28), np.float32)
    images[:, 14, 14] = 1.0
    offsets = []
    for x, y in hinton.training_data(images.reshape(400, 784), args):
        x = x.numpy().reshape(-1, 28, 28)
        np.testing.assert_array_equal(x, y.numpy().reshape(-1, 28, 28))  # target = input
        lit = [np.argwhere(image) for image in x]
        assert all(len(p) == 1 for p in lit), "a shift must move the pixel whole"
        assert np.all(x.sum(axis=(1, 2)) == 1.0)
        offsets += [tuple(p[0] - 14) for p in lit]
    assert len(offsets) == 400
    assert max(abs(o) for pair in offsets for o in pair) == shift
    assert len(set(offsets)) == (2 * shift + 1) ** 2


def test_hinton2006_rejects_bad_shift():
    hinton = _import_benchmark("hinton2006")
    with pytest.raises(SystemExit):
        hinton.parse_args(["--shift", "-1"])


def test_throughput_layer_profile_times_every_weighted_layer():
    throughput = _import_benchmark("throughput")
    model = throughput.build_ours(1, False)
    rows = throughput.layer_profile(model, batch_size=4, repeats=1)
    weighted = [
        layer.name
        for block in ("encoder", "decoder")
        for layer in model.get_layer(block).layers
        if layer.trainable_weights
    ]
    assert [name for name, *_ in rows] == weighted
    assert dict((name, shape) for name, _, shape, _ in rows)["decoder_deconv_2"] == (14, 14, 64)
    assert all(ms > 0 for *_, ms in rows)


def test_scaling_smoke_writes_its_table(tmp_path):
    out = tmp_path / "scaling.md"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("TF_CONFIG", None)
    proc = subprocess.run(
        [sys.executable, str(BENCHMARKS / "scaling.py"), "--steps", "3", "--epochs", "1",
         "--batch-size", "32", "--skip-multi-worker", "--out", str(out)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = _table_rows(out.read_text())
    one, two = rows["1 replica (default strategy)"], rows["2 replicas (MirroredStrategy)"]
    assert one[0] == "1" and two[0] == "2"  # replicas
    assert _finite(one[2]) > 0 and _finite(two[2]) > 0  # samples/s
    assert _finite(one[4]) == 1.0 and _finite(two[4]) > 0  # ratio to 1 replica


def test_anomaly_smoke(tmp_path, keras_home):
    shared = MNIST.parent
    for folder in ("odds", "nab", "telemanom", "fashion-mnist"):
        if not (shared / folder).is_dir():
            pytest.skip(f"{shared / folder} not found")
    home = tmp_path / "home"
    shutil.copytree(keras_home, home)
    for folder in ("odds", "nab", "fashion-mnist"):
        shutil.copytree(shared / folder, home / "datasets" / folder)
    (home / "datasets" / "telemanom").mkdir()
    for name in ("labeled_anomalies.csv", "data.zip"):
        shutil.copyfile(shared / "telemanom" / name, home / "datasets" / "telemanom" / name)
    stdout, text = _run("anomaly.py", tmp_path / "anomaly.md", home)
    assert "Skipped" not in text
    detectors = ["AE", "VAE", "PCA", "KPCA", "IForest", "OCSVM"]
    rows = _table_rows(text)
    assert rows["set"] == detectors and rows["spacecraft"] == detectors
    labels = ("cardio (contaminated)", "cardio (clean)", "mnist 0", "fashion_mnist 0", "SMAP", "MSL", "NAB jumpsup")
    for label in labels:
        for cell in rows[label]:
            assert 0 <= _finite(cell.strip("*")) <= 1, (label, cell)
    # Point adjustment can only raise F1 at a fixed threshold.
    for line in stdout.splitlines():
        m = re.search(r" F1 ([0-9.]+) pa-F1 ([0-9.]+)", line)
        if m:
            assert float(m.group(2)) >= float(m.group(1)), line
    assert "AE vs PCA" in text and "AE vs KPCA" in text


def test_generative_smoke(tmp_path, keras_home):
    # keras_home holds mnist.npz only: the smoke run must train its own
    # feature network, not read a cached one.
    assert not (keras_home / "datasets" / "feature_networks").exists()
    _, text = _run("generative.py", tmp_path / "generative.md", keras_home)
    assert not (keras_home / "datasets" / "feature_networks").exists()  # nothing saved
    mnist_part, ring_part = text.split("## Ring of Gaussians")
    rows = _table_rows(mnist_part)
    assert rows["Model"][:6] == ["Reconstruction error", "FID on MNIST features", "Precision", "Recall",
                                 "Test NLL (nats, IWAE k=10)", "Train seconds"]
    models = ["vae", "beta_vae", "aae", "wae_mmd", "wae_gan", "ali", "bigan"]
    for model in models:
        cells = rows[model]
        assert 0 < _finite(cells[0]) < 784, (model, cells)  # summed squared error, pixels in [0, 1]
        assert _finite(cells[1]) >= 0  # FID on MNIST features
        assert 0 <= _finite(cells[2]) <= 1 and 0 <= _finite(cells[3]) <= 1  # precision, recall
        if model in ("vae", "beta_vae"):
            assert _finite(cells[4]) > 0  # test NLL, nats
        else:
            assert cells[4] == "-"  # no likelihood
        assert _finite(cells[5]) >= 0  # train seconds
    reference = rows["test images vs training images"]
    assert _finite(reference[1]) >= 0 and 0 <= _finite(reference[2]) <= 1 and 0 <= _finite(reference[3]) <= 1
    assert reference[0] == reference[4] == "-"
    ring = ["GAN", "AAE, Gaussian prior", "AAE, 8-component mixture prior, scale 0.5",
            "AAE, 8-component mixture prior, scale 0.05"]
    ring_rows = _table_rows(ring_part)
    assert ring_rows["Model"] == ["20 steps", "40 steps"]
    for label in ring:
        cells = ring_rows[label]
        assert len(cells) == 2  # the two smoke checkpoints
        for cell in cells:
            _finite(cell.split(" ")[0])  # the mean over seeds, per seed in parentheses
    assert "smoke run" in text
    raw = json.loads((tmp_path / "generative.json").read_text())
    assert [r["model"] for r in raw["mnist"]["rows"]] == models
    assert {(r["model"], r["steps"]) for r in raw["ring"]} == {
        (m, s) for m in ("gan", "aae_gaussian", "aae_mixture", "aae_mixture_narrow") for s in (20, 40)}
    for r in raw["ring"]:
        assert 0 <= r["modes_covered"] <= 8 and 0 <= r["high_quality"] <= 1 and sum(r["per_mode"]) <= 500
    # The page can be written again from the raw results, without training.
    again = tmp_path / "again.md"
    proc = subprocess.run(
        [sys.executable, str(BENCHMARKS / "generative.py"), "--report-from", str(tmp_path / "generative.json"),
         "--out", str(again)],
        cwd=REPO, env={**os.environ, "KERAS_HOME": str(keras_home), "TF_CPP_MIN_LOG_LEVEL": "3"},
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert again.read_text() == text


def test_representations_smoke(tmp_path, keras_home):
    _, text = _run("representations.py", tmp_path / "representations.md", keras_home)
    classification, clustering = text.split("## Clustering of the 70,000 MNIST images")
    rows = _table_rows(classification)
    assert rows["Features"] == ["100 labels: linear probe", "100 labels: 1-NN",
                                "1000 labels: linear probe", "1000 labels: 1-NN"]
    for name in ("pixels", "PCA-50", "AE codes", "VAE (M1) codes"):
        for cell in rows[name]:  # mean ± sd over the label subsets, errors in %
            mean, sd = cell.split(" ± ")
            assert 0 <= _finite(mean) <= 100 and _finite(sd) >= 0, (name, cell)
    m2 = rows["M2 (its own classifier)"]
    assert 0 <= _finite(m2[0]) <= 100 and 0 <= _finite(m2[2]) <= 100 and m2[1] == m2[3] == "-"
    assert rows["published: M2"] == ["11.97", "-", "3.60", "-"]
    stacked = rows["AE codes + M2 (stacked, as M1+M2)"]
    assert 0 <= _finite(stacked[0]) <= 100 and 0 <= _finite(stacked[2]) <= 100
    # Pixels need no training: even on the smoke slice, 1000 labels beat 100.
    assert _finite(rows["pixels"][2].split(" ± ")[0]) < _finite(rows["pixels"][0].split(" ± ")[0])
    rows = _table_rows(clustering)
    for name in ("k-means on pixels", "k-means on PCA-10", "k-means on AE codes",
                 "DEC's start (k-means, 20 restarts)", "DEC"):
        acc, nmi, ari = (cell.split(" ± ")[0] for cell in rows[name])
        assert 10 <= _finite(acc) <= 100 and 0 <= _finite(nmi) <= 1 and -1 <= _finite(ari) <= 1, name
    # k-means on pixels does not depend on training: near the published 53.49%.
    assert 40 < _finite(rows["k-means on pixels"][0].split(" ± ")[0]) < 65
    assert rows["published: DEC"][0] == "84.30"
    assert "Smoke run" in text and "## Targets and budget" in text
    raw = json.loads((tmp_path / "representations.json").read_text())
    assert [r["labels"] for r in raw["m2"]] == [r["labels"] for r in raw["stacked_m2"]] == [100, 1000]
    assert len(raw["m2"][0]["curve"]) == 1 and raw["dec"]["steps"] > 0
    again = tmp_path / "again.md"
    proc = subprocess.run(
        [sys.executable, str(BENCHMARKS / "representations.py"), "--report-from",
         str(tmp_path / "representations.json"), "--out", str(again)],
        cwd=REPO, env={**os.environ, "KERAS_HOME": str(keras_home), "TF_CPP_MIN_LOG_LEVEL": "3"},
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert again.read_text() == text
    # On a slow or busy machine the time cap can stop DEC before its first check of the assignments.
    raw["dec"]["last_change"] = None
    (tmp_path / "unchecked.json").write_text(json.dumps(raw))
    proc = subprocess.run(
        [sys.executable, str(BENCHMARKS / "representations.py"), "--report-from",
         str(tmp_path / "unchecked.json"), "--out", str(tmp_path / "unchecked.md")],
        cwd=REPO, env={**os.environ, "KERAS_HOME": str(keras_home), "TF_CPP_MIN_LOG_LEVEL": "3"},
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "last fraction of changed assignments none checked" in (tmp_path / "unchecked.md").read_text()


def test_throughput_compares_identical_networks():
    throughput = _import_benchmark("throughput")
    baseline, ours = throughput.build_baseline(), throughput.build_ours(1, False)
    for name in ("encoder", "decoder"):
        theirs = getattr(baseline, name)
        mine = ours.get_layer(name)
        assert mine.count_params() == theirs.count_params(), name
        assert [w.shape for w in mine.weights] == [w.shape for w in theirs.weights], name
    assert ours.count_params() == baseline.encoder.count_params() + baseline.decoder.count_params() == 134_165


def test_time_to_quality_smoke(tmp_path, keras_home):
    out = tmp_path / "time_to_quality.md"
    _, text = _run("time_to_quality.py", out, keras_home)
    rows = _table_rows(text)
    assert rows["Epoch"] == ["Baseline: cumulative s", "Baseline: test loss", "Ours: cumulative s",
                             "Ours: test loss"]
    curve = {epoch: [_finite(cell) for cell in rows[epoch]] for epoch in ("1", "2")}
    for epoch, (base_s, base_loss, ours_s, ours_loss) in curve.items():
        assert base_s > 0 and ours_s > 0, epoch
        # Negative ELBO in nats per MNIST image: an untrained decoder (p = 0.5
        # everywhere) scores 784 ln 2 = 543; 2 epochs on 1000 images get part of the way down.
        assert 100 < base_loss < 700 and 100 < ours_loss < 700, (epoch, base_loss, ours_loss)
    assert curve["2"][0] > curve["1"][0] and curve["2"][2] > curve["1"][2]  # cumulative clocks
    assert curve["2"][1] < curve["1"][1] and curve["2"][3] < curve["1"][3]  # both sides learn
    # The target is the baseline's loss after its last epoch, which it reaches there.
    target = re.search(r"\*\*Target: ([0-9.]+) nats\*\*", text)
    assert target and _finite(target.group(1)) == curve["2"][1]
    baseline, ours = rows["baseline (keras.io example)"], rows["ours (`conv_vae`)"]
    assert baseline[0] == ours[0] == "2"  # epochs
    assert baseline[4] == "2" and _finite(baseline[5]) == curve["2"][0]  # epoch and seconds to target
    if ours[4] == "not reached":
        assert "**Ours did not reach the target**" in text and ours[5] == "-"
    else:
        ratio = re.search(r"\*\*Ratio baseline seconds / ours seconds to the target: ([0-9.]+)\*\*", text)
        assert ratio and _finite(ratio.group(1)) > 0
    assert "Smoke run" in text and "69,076" in text and "65,089" in text
    raw = json.loads((tmp_path / "time_to_quality.json").read_text())
    for side in ("baseline", "ours"):
        assert len(raw[side]["test_loss"]) == 2 and all(s > 0 for s in raw[side]["fit_seconds"])
        assert all(0 < loop <= fit for loop, fit in zip(raw[side]["loop_seconds"], raw[side]["fit_seconds"]))
    # The page can be written again from the raw results, without training, byte for byte.
    again = tmp_path / "again.md"
    proc = subprocess.run(
        [sys.executable, str(BENCHMARKS / "time_to_quality.py"), "--report-from",
         str(tmp_path / "time_to_quality.json"), "--out", str(again)],
        cwd=REPO, env={**os.environ, "KERAS_HOME": str(keras_home), "TF_CPP_MIN_LOG_LEVEL": "3"},
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert again.read_bytes() == out.read_bytes()
