"""End-to-end tests of the ``keras-ae`` command line on the digits data."""

import contextlib
import io
import json
import math
import os
import subprocess
import sys

import keras
import matplotlib.image
import numpy as np
import pytest

import keras_ae
from keras_ae import cli, data
from keras_ae._registry import catalog

# Small and fast: 200 training and 200 test digits, 2 epochs.
QUICK = ["--limit", "200", "--epochs", "2", "--iwae-k", "20", "--iwae-examples", "50"]
COMMON_FILES = {"model.keras", "history.json", "metrics.json", "loss.png",
                "reconstructions.png", "codes.png"}
VAE_FILES = COMMON_FILES | {"samples.png", "manifold.png"}
# What TensorFlow's native log lines contain; no command prints them.
NATIVE_LOG_WORDS = ("cuda", "onednn", "cuinit", "absl::initializelog", "cpu_feature_guard")
NATIVE_LOG_PREFIXES = ("I0000", "W0000", "E0000", "F0000")


@pytest.fixture(scope="module", autouse=True)
def keras_home(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        home = tmp_path_factory.mktemp("keras_home")
        mp.setenv("KERAS_HOME", str(home))
        yield home


def _run(argv):
    """``main(argv)`` in-process; returns (status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(argv)
    return status, out.getvalue(), err.getvalue()


def _assert_one_line_error(status, err, *fragments):
    assert status == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("keras-ae: error: ")
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0]


def _assert_nothing_left(parent):
    """No run directory and no temporary directory remain in ``parent``."""
    assert not parent.exists() or os.listdir(parent) == []


def _assert_png(path):
    assert path.stat().st_size > 1024
    pixels = matplotlib.image.imread(path)
    assert pixels[..., :3].std() > 0.05


@pytest.fixture(scope="module")
def dense_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("dense") / "run"
    status, stdout, err = _run(["train", "dense", "--latent-dim", "8", "--out", str(out),
                                "--option", "hidden=32", *QUICK])
    assert status == 0, err
    return out, stdout


@pytest.fixture(scope="module")
def vae_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("vae") / "run"
    status, stdout, err = _run(["train", "vae", "--out", str(out), "--seed", "3", *QUICK])
    assert status == 0, err
    return out, stdout


def test_list_shows_every_model_with_its_summary(capsys):
    assert cli.main(["list"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[0] for line in lines] == keras_ae.list_models()
    assert all(len(line.split(maxsplit=1)) == 2 for line in lines)
    assert any(line.startswith("vae ") and "ariational" in line for line in lines)


def _assert_no_native_log_lines(text):
    for line in text.splitlines():
        lowered = line.lower()
        assert not any(word in lowered for word in NATIVE_LOG_WORDS), line
        assert not any(line.startswith(prefix) for prefix in NATIVE_LOG_PREFIXES), line


def _subprocess(args, tmp_path, keras_home, *, code=None):
    """Runs ``python -m keras_ae ARGS`` (or ``python -c CODE``) as a user would, without log settings."""
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "KERAS_AE_DEBUG")}
    env["KERAS_HOME"] = str(keras_home)
    command = [sys.executable, "-c", code] if code is not None else [sys.executable, "-m", "keras_ae", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)


@pytest.mark.parametrize(
    "args, status, stdout_fragment",
    [
        (["list"], 0, "vae "),
        (["--help"], 0, "COMMAND"),
        (["train", "--help"], 0, "--option KEY=VALUE"),
        (["evaluate", "--help"], 0, "DIR"),
        (["--version"], 0, "keras-ae "),
        (["train", "vea"], 2, None),
        (["train", "vae", "--option", "beta=-1"], 2, None),
        (["train", "vae", "--epochs", "0"], 2, None),
    ],
)
def test_python_dash_m_prints_only_its_own_output(tmp_path, keras_home, args, status, stdout_fragment):
    result = _subprocess(args, tmp_path, keras_home)
    assert result.returncode == status, result.stderr
    _assert_no_native_log_lines(result.stdout + result.stderr)
    if status == 0:
        assert result.stderr == ""
        assert stdout_fragment in result.stdout
    else:
        assert result.stdout == ""
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("keras-ae: error: "), result.stderr
    if args == ["list"]:
        assert len(result.stdout.strip().splitlines()) == len(keras_ae.list_models())


# Refusals decided by the arguments alone: each answers without TensorFlow.
REFUSALS = [
    ["train", "vea"],
    ["train", "vae", "--dataset", "digts"],
    ["train", "vae", "--epochs", "-3"],
    ["train", "vae", "--epochs", "x"],
    ["train", "vae", "--batch-size", "0"],
    ["train", "vae", "--learning-rate", "0"],
    ["train", "vae", "--option", "hiden=32"],
    ["train", "vae", "--option", "beta=-1"],
    ["train", "vae", "--option", "decoder_scale=0"],
    ["train", "sparse", "--option", "target=5"],
    ["train", "denoising", "--option", "base=dense", "--option", "filters=-1"],
    ["train", "denoising", "--option", "base=cnn"],
    ["train", "conv1d", "--option", "dropout=1"],
    ["train", "vae", "--devices", "0"],
    ["train", "vae", "--out", "existing"],
    ["evaluate", "no-such-dir"],
    *[["train", name, "--latent-dim", "0"] for name in sorted(catalog())],
]


def test_list_help_and_refusals_do_not_import_tensorflow(tmp_path, keras_home):
    (tmp_path / "existing").mkdir()
    (tmp_path / "existing" / "metrics.json").write_text("{}")
    code = f"""
import contextlib, io, json, sys
from keras_ae.cli import main
results = []
for argv in {[["list"], ["--help"], ["train", "--help"], *REFUSALS]!r}:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
    results.append([argv, status, err.getvalue()])
print(json.dumps({{"results": results, "imported": sorted(
    m for m in ("tensorflow", "keras", "tensorflow_probability", "sklearn") if m in sys.modules)}}))
"""
    result = _subprocess(None, tmp_path, keras_home, code=code)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    report = json.loads(result.stdout)
    assert report["imported"] == [], report["imported"]
    for argv, status, err in report["results"]:
        if argv[-1] == "--help" or argv == ["list"]:
            assert status == 0 and err == "", (argv, err)
        else:
            assert status == 2, (argv, status, err)
            assert len(err.splitlines()) == 1 and err.startswith("keras-ae: error: "), (argv, err)
    messages = {" ".join(argv): err for argv, _, err in report["results"]}
    assert "Received: latent_dim=0" in messages["train vae --latent-dim 0"]
    assert "'target'" in messages["train sparse --option target=5"]
    assert "'filters'" in messages["train denoising --option base=dense --option filters=-1"]
    assert "'decoder_scale'" in messages["train vae --option decoder_scale=0"]
    assert "Invalid value for 'dropout': expected a number in [0, 1)" in messages["train conv1d --option dropout=1"]
    assert "already exists" in messages["train vae --out existing"]


def test_native_log_lines_are_dropped_and_other_lines_kept(capfd):
    with cli._native_stderr_filtered():
        os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n")
        os.write(2, b"I0000 00:00:1795976485.248798   23159 port.cc:153] oneDNN custom operations are on.\n")
        os.write(2, b"E0000 00:00:1795976485.730423   23159 cuda_platform.cc:52] failed call to cuInit\n")
        os.write(2, b"2024-01-01 12:00:00.123456: I tensorflow/core/platform/cpu_feature_guard.cc:182] x\n")
        os.write(2, b"a line of someone else\n")
    captured = capfd.readouterr()
    assert captured.err == "a line of someone else\n"


def test_help_exits_zero(capsys):
    assert cli.main(["train", "--help"]) == 0
    assert "--option KEY=VALUE" in capsys.readouterr().out


def test_train_dense_writes_the_run(dense_run):
    out, stdout = dense_run
    assert set(os.listdir(out)) == COMMON_FILES
    assert not [p for p in os.listdir(out.parent) if ".tmp-" in p]
    for name in ("loss.png", "reconstructions.png", "codes.png"):
        _assert_png(out / name)
    history = json.loads((out / "history.json").read_text())
    assert set(history) == {"loss", "reconstruction", "val_loss", "val_reconstruction"}
    assert len(history["loss"]) == 2
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["model"] == "dense" and metrics["dataset"] == "digits"
    assert metrics["options"] == {"hidden": [32]}
    assert metrics["epochs"] == 2 and metrics["n_train"] == 200 and metrics["n_test"] == 200
    assert metrics["latent_dim"] == 8 and metrics["input_shape"] == [64]
    assert metrics["train_time_seconds"] > 0
    assert 0 < metrics["reconstruction_error"] < 64
    assert "elbo" not in metrics
    assert "reconstruction error" in stdout
    model = keras_ae.load_model(out / "model.keras")
    assert model.get_layer("encoder").get_layer("encoder_dense_1").units == 32
    assert model.options["model"] == "dense" and list(model.options["hidden"]) == [32]


def test_train_vae_writes_the_run(vae_run):
    out, stdout = vae_run
    assert set(os.listdir(out)) == VAE_FILES
    for name in VAE_FILES - {"model.keras", "history.json", "metrics.json"}:
        _assert_png(out / name)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["latent_dim"] == 2 and metrics["seed"] == 3
    assert metrics["iwae_k"] == 20 and metrics["iwae_n"] == 50
    assert metrics["elbo"] < 0 and math.isfinite(metrics["iwae_nll"])
    # IWAE with k = 20 is a tighter bound than the ELBO (on average).
    assert metrics["iwae_nll"] < -metrics["elbo"] + 1.0
    assert "ELBO" in stdout and "IWAE NLL" in stdout
    history = json.loads((out / "history.json").read_text())
    assert {"loss", "reconstruction", "kl", "val_loss", "val_reconstruction", "val_kl"} == set(history)
    model = keras_ae.load_model(out / "model.keras", compile=False)
    assert isinstance(model, keras_ae.models.VariationalAutoencoder)
    assert model.options["model"] == "vae" and model.likelihood == "bernoulli"


def test_train_conv1d_reads_each_digit_as_8_steps_of_8_features(tmp_path, capsys):
    out = tmp_path / "run"
    status, _, err = _run(["train", "conv1d", "--out", str(out), "--option", "filters=8", *QUICK])
    assert status == 0, err
    assert set(os.listdir(out)) == COMMON_FILES  # no prior: no samples.png, manifold.png
    for name in ("loss.png", "reconstructions.png", "codes.png"):
        _assert_png(out / name)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["input_shape"] == [8, 8] and metrics["options"] == {"filters": [8]}
    assert metrics["latent_dim"] == 16 and "elbo" not in metrics
    model = keras_ae.load_model(out / "model.keras")
    assert model.options["model"] == "conv1d" and model.likelihood == "gaussian"
    # The test windows are the rows of the test digits (the channel axis dropped).
    (_, _), (x_test, _) = data.load("digits", limit=200, seed=cli.DATA_SEED)
    windows = x_test[..., 0]
    error = np.mean(np.sum((model.predict(windows, verbose=0) - windows) ** 2, axis=(1, 2)))
    assert error == pytest.approx(metrics["reconstruction_error"], rel=1e-5)
    assert cli.main(["evaluate", str(out)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["reconstruction_error"] == pytest.approx(metrics["reconstruction_error"], rel=1e-6)


def test_train_aae_samples_its_own_prior_and_reports_no_likelihood_bound(tmp_path, capsys):
    out = tmp_path / "run"
    status, stdout, err = _run(["train", "aae", "--out", str(out), "--option", "prior=mixture",
                                "--option", "hidden=32", *QUICK])
    assert status == 0, err
    assert set(os.listdir(out)) == VAE_FILES  # a prior: samples.png and manifold.png too
    _assert_png(out / "samples.png")
    metrics = json.loads((out / "metrics.json").read_text())
    assert "elbo" not in metrics and "ELBO" not in stdout  # an AAE has no likelihood bound
    history = json.loads((out / "history.json").read_text())
    assert {"adversarial", "discriminator", "val_discriminator"} <= set(history)
    model = keras_ae.load_model(out / "model.keras")
    assert isinstance(model.discriminator_optimizer, keras.optimizers.Adam)
    assert metrics["learning_rate"] == pytest.approx(2e-4)  # the builder's default, not the command's 1e-3
    assert cli.main(["evaluate", str(out)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["reconstruction_error"] == pytest.approx(metrics["reconstruction_error"], rel=1e-6)


def test_train_a_conditional_aae_uses_the_labels(tmp_path):
    out = tmp_path / "run"
    status, _, err = _run(["train", "aae", "--out", str(out), "--option", "prior=mixture",
                           "--option", "conditional=true", "--option", "hidden=32", *QUICK])
    assert status == 0, err
    # Too few components for the ten digit classes: the labels reach the model, which refuses them.
    status, _, err = _run(["train", "aae", "--out", str(tmp_path / "run3"), "--option", "prior=mixture",
                           "--option", "conditional=true", "--option", "prior_components=3", *QUICK])
    _assert_one_line_error(status, err, "Invalid value for 'labels': expected integers from 0 to 2")


@pytest.fixture(scope="module")
def m2_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("m2") / "run"
    status, stdout, err = _run(["train", "m2", "--out", str(out), "--latent-dim", "4", "--labels-per-class", "5",
                                "--option", "hidden=32", "--option", "classifier_hidden=32", *QUICK])
    assert status == 0, err
    return out, stdout


@pytest.fixture(scope="module")
def dec_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("dec") / "run"
    status, stdout, err = _run(["train", "dec", "--out", str(out), "--option", "hidden=32", *QUICK])
    assert status == 0, err
    return out, stdout


def test_train_m2_learns_from_the_given_labels_and_reports_its_accuracy(m2_run):
    out, stdout = m2_run
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["labels_per_class"] == 5
    assert 0.0 <= metrics["test_accuracy"] <= 1.0
    assert f"test accuracy {metrics['test_accuracy']:.4g} (5 labels per class)" in stdout
    history = json.loads((out / "history.json").read_text())
    assert max(history["classification"]) > 0  # labelled examples reached the classifier term
    # Validated on labelled test examples: the classification term is measured, not 0.
    assert min(history["val_classification"]) > 0
    assert "elbo" not in metrics  # M2's bound is not the VAE's


def test_train_dec_pretrains_then_refines_its_clusters(dec_run):
    out, stdout = dec_run
    metrics = json.loads((out / "metrics.json").read_text())
    history = json.loads((out / "history.json").read_text())
    assert len(history["loss"]) == 2  # --epochs: the pretraining
    assert history["refinement_clustering"] and all(math.isfinite(v) for v in history["refinement_clustering"])
    assert 0.1 < metrics["cluster_accuracy"] <= 1.0 and 0.0 <= metrics["cluster_nmi"] <= 1.0
    assert "test clustering accuracy" in stdout
    # The summary and the record say how long the refinement ran, not only the pretraining.
    assert metrics["epochs"] == 2 and metrics["refinement_epochs"] == len(history["refinement_loss"]) >= 1
    assert f"2 epochs of pretraining and {metrics['refinement_epochs']} of refinement" in stdout
    model = keras_ae.load_model(out / "model.keras", compile=False)
    # Saved after the refinement, with the pretraining weights back: a later fit() pretrains.
    assert float(model.hyperparameters["clustering_weight"]) == 0.0
    assert float(model.hyperparameters["reconstruction_weight"]) == 1.0


@pytest.mark.parametrize("argv, fragments", [
    (["train", "vae", "--labels-per-class", "5"], ["'labels_per_class'", "no value for vae"]),
    (["train", "m2", "--labels-per-class", "0"], ["'labels_per_class'", "positive integer"]),
    (["train", "m2", "--labels-per-class", "40"], ["'labels_per_class'", "fewer than the training examples"]),
])
def test_labels_per_class_is_checked(tmp_path, monkeypatch, argv, fragments):
    monkeypatch.chdir(tmp_path)
    status, _, err = _run([*argv, "--limit", "200", "--epochs", "1"])
    _assert_one_line_error(status, err, *fragments)
    _assert_nothing_left(tmp_path / "runs")


@pytest.mark.parametrize("fixture", ["dense_run", "vae_run", "m2_run", "dec_run"])
def test_evaluate_reproduces_metrics_json(request, capsys, fixture):
    out, _ = request.getfixturevalue(fixture)
    assert cli.main(["evaluate", str(out)]) == 0
    printed = json.loads(capsys.readouterr().out)
    recorded = json.loads((out / "metrics.json").read_text())
    assert printed["n_test"] == recorded["n_test"]
    names = ("reconstruction_error", "elbo", "iwae_nll", "test_accuracy", "cluster_accuracy", "cluster_nmi",
             "cluster_ari")
    keys = [k for k in names if k in recorded]
    assert keys == [k for k in names if k in printed]
    for key in keys:
        assert printed[key] == pytest.approx(recorded[key], rel=1e-6)


def test_existing_run_is_kept_without_overwrite(dense_run):
    out, _ = dense_run
    before = {name: (out / name).read_bytes() for name in os.listdir(out)}
    status, _, err = _run(["train", "dense", "--out", str(out), *QUICK])
    _assert_one_line_error(status, err, "already exists", "--overwrite")
    assert {name: (out / name).read_bytes() for name in os.listdir(out)} == before
    assert sorted(os.listdir(out.parent)) == ["run"]


def test_overwrite_replaces_only_a_run_and_only_after_success(tmp_path, monkeypatch):
    out = tmp_path / "run"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    status, _, err = _run(["train", "dense", "--out", str(out), "--overwrite", *QUICK])
    _assert_one_line_error(status, err, "does not look like a keras-ae run")
    (out / "metrics.json").write_text("{}")

    def broken_fit(*args, **kwargs):
        raise RuntimeError("disk on fire")

    with monkeypatch.context() as mp:
        mp.setattr(keras.Model, "fit", broken_fit)
        status, _, err = _run(["train", "dense", "--out", str(out), "--overwrite", *QUICK])
    assert status == 1 and "disk on fire" in err and "Traceback" not in err
    assert sorted(os.listdir(out)) == ["metrics.json", "notes.txt"]  # old run untouched
    assert sorted(os.listdir(tmp_path)) == ["run"]

    status, _, err = _run(["train", "dense", "--out", str(out), "--overwrite",
                           "--limit", "50", "--epochs", "1"])
    assert status == 0, err
    assert set(os.listdir(out)) == COMMON_FILES
    assert sorted(os.listdir(tmp_path)) == ["run"]


@pytest.mark.parametrize(
    "argv, fragments",
    [
        (["train", "vea"], ["'model'", "Did you mean 'vae'?"]),
        (["train", "vae", "--dataset", "digts"], ["'dataset'", "Did you mean 'digits'?"]),
        (["train", "vae", "--epochs", "-3"], ["'epochs'", "positive integer", "-3"]),
        (["train", "vae", "--epochs", "x"], ["--epochs", "invalid int value"]),
        (["train", "vae", "--option", "hiden=32"], ["'option'", "Did you mean 'hidden'?"]),
        (["train", "vae", "--option", "hidden"], ["KEY=VALUE"]),
        (["train", "vae", "--option", "latent_dim=3"], ["--latent-dim"]),
        (["train", "denoising", "--option", "noise=gausian"], ["'noise'", "Did you mean 'gaussian'?"]),
        (["train", "vae", "--option", "hidden=0,4"], ["'hidden'", "positive integers"]),
        (["train", "conv", "--option", "filters=8,8,8,8"], ["'input_shape'", "divisible by 16"]),
        (["train", "conv1d", "--option", "filters=8,8,8,8"],
         ["'input_shape'", "timesteps divisible by 16", "filters=(8, 8, 8, 8)", "input_shape=(8, 8)"]),
        (["train", "vae", "--strategy", "bogus"], ["--strategy", "invalid choice"]),
        (["evaluate", "no-such-dir"], ["model.keras"]),
    ],
)
def test_bad_arguments_fail_in_one_line(tmp_path, monkeypatch, argv, fragments):
    monkeypatch.chdir(tmp_path)
    status, _, err = _run([*argv, "--limit", "50", "--epochs", "1"] if argv[0] == "train"
                          and "--epochs" not in argv else argv)
    _assert_one_line_error(status, err, *fragments)
    _assert_nothing_left(tmp_path / "runs")


def test_nan_data_fail_in_one_line(tmp_path, monkeypatch):
    real_load = data.load

    def load_with_nan(*args, **kwargs):
        (x_train, y_train), test = real_load(*args, **kwargs)
        x_train = x_train.copy()
        x_train[3, 5] = np.nan
        return (x_train, y_train), test

    monkeypatch.setattr(data, "load", load_with_nan)
    out = tmp_path / "runs" / "nan"
    status, _, err = _run(["train", "dense", "--out", str(out), *QUICK])
    _assert_one_line_error(status, err, "'x_train'", "finite", "1 NaN")
    _assert_nothing_left(tmp_path / "runs")


@pytest.mark.parametrize("model_name", ["dense", "conv_vae"])
def test_bernoulli_data_outside_unit_interval_fail_in_one_line(tmp_path, monkeypatch, model_name):
    real_load = data.load

    def load_0_255(*args, **kwargs):
        (x_train, y_train), (x_test, y_test) = real_load(*args, **kwargs)
        return (x_train * 255, y_train), (x_test * 255, y_test)

    monkeypatch.setattr(data, "load", load_0_255)
    out = tmp_path / "runs" / "bytes"
    status, _, err = _run(["train", model_name, "--out", str(out), *QUICK])
    _assert_one_line_error(status, err, "'x_train'", "[0, 1]", "Bernoulli", "[0.0, 255.0]", "x / 255")
    _assert_nothing_left(tmp_path / "runs")


def test_evaluate_refuses_bernoulli_data_outside_unit_interval(vae_run, monkeypatch):
    out, _ = vae_run
    real_load = data.load

    def load_0_255(*args, **kwargs):
        (x_train, y_train), (x_test, y_test) = real_load(*args, **kwargs)
        return (x_train * 255, y_train), (x_test * 255, y_test)

    monkeypatch.setattr(data, "load", load_0_255)
    status, stdout, err = _run(["evaluate", str(out)])
    _assert_one_line_error(status, err, "'x_test'", "[0, 1]", "x / 255")
    assert stdout == ""


def test_non_finite_loss_stops_training_names_the_epoch_and_writes_nothing(tmp_path, monkeypatch):
    from keras import ops

    from keras_ae.models import Autoencoder

    original = Autoencoder.loss_terms

    def poisoned(self, x, y, training=False):
        # NaN from the 6th optimizer step on: 200 examples in batches of 64
        # are 4 steps per epoch, so step 6 is batch 2 of epoch 2.
        terms = original(self, x, y, training=training)
        if not training:
            return terms
        nan = ops.where(self.optimizer.iterations >= 5, float("nan"), 0.0)
        return {name: term + nan for name, term in terms.items()}

    monkeypatch.setattr(Autoencoder, "loss_terms", poisoned)
    out = tmp_path / "runs" / "nan-loss"
    status, stdout, err = _run(["train", "dense", "--out", str(out), "--batch-size", "64", *QUICK])
    assert status == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("keras-ae: error: "), err
    assert "non-finite" in lines[0] and "epoch 2, batch 2" in lines[0] and "nothing was written" in lines[0]
    assert "Invalid loss" not in stdout  # Keras' own TerminateOnNaN message is not printed
    _assert_nothing_left(tmp_path / "runs")


def test_keyboard_interrupt_leaves_nothing(tmp_path, monkeypatch):
    def interrupted_fit(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(keras.Model, "fit", interrupted_fit)
    status, _, err = _run(["train", "dense", "--out", str(tmp_path / "runs" / "x"), *QUICK])
    assert status == 130 and "interrupted" in err and "Traceback" not in err
    _assert_nothing_left(tmp_path / "runs")


def test_the_command_line_keeps_no_tables_of_models():
    for name in ("IMAGE_MODELS", "LATENT_DEFAULTS", "DEFAULT_LATENT_DIM", "_is_vae"):
        assert not hasattr(cli, name), name
    assert "inspect" not in vars(cli)


def test_parse_options_uses_the_builder_defaults():
    options = cli._parse_options(
        "denoising", ["noise=dropout", "noise_level=1", "hidden=64", "filters=(8,16)", "seed=none"]
    )
    assert options == {"noise": "dropout", "noise_level": 1.0, "hidden": (64,),
                       "filters": (8, 16), "seed": None}
    assert cli._parse_options("dense", ["hidden="]) == {"hidden": ()}


def test_mirrored_strategy_on_two_logical_cpus(tmp_path, keras_home):
    # A fresh process: the CPU can only be split before TensorFlow starts.
    # TF_CPP_MIN_LOG_LEVEL is left unset: the command itself keeps
    # TensorFlow's log lines out of its output.
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "KERAS_AE_DEBUG")}
    env["KERAS_HOME"] = str(keras_home)
    out, backup = tmp_path / "run", tmp_path / "backup"
    result = subprocess.run(
        [sys.executable, "-m", "keras_ae", "train", "dense", "--strategy", "mirrored",
         "--devices", "2", "--backup-dir", str(backup), "--out", str(out),
         "--limit", "64", "--epochs", "1", "--batch-size", "32"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stderr == "", result.stderr[-2000:]
    _assert_no_native_log_lines(result.stdout)
    assert result.stdout.splitlines()[-1].startswith("Wrote ")
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["strategy"] == "mirrored" and metrics["strategy_class"] == "MirroredStrategy"
    assert metrics["replicas"] == 2
    assert set(os.listdir(out)) == COMMON_FILES
    # BackupAndRestore deletes its backup once training has finished.
    assert not backup.exists() or os.listdir(backup) == []


def test_backup_dir_must_be_outside_the_run(tmp_path):
    status, _, err = _run(["train", "dense", "--out", str(tmp_path / "run"),
                           "--backup-dir", str(tmp_path / "run" / "backup"), *QUICK])
    _assert_one_line_error(status, err, "'backup_dir'")
    _assert_nothing_left(tmp_path / "run")


@pytest.mark.parametrize("model_name, loader", [("autorec", "load_movielens"),
                                                 ("semantic_hashing", "load_20newsgroups")])
def test_models_of_ratings_and_documents_are_refused_with_where_to_train_them(tmp_path, model_name, loader):
    # They used to train on the digits (pixels as "ratings" or "word counts") and write a meaningless run.
    out = tmp_path / "run"
    status, stdout, err = _run(["train", model_name, "--epochs", "1", "--out", str(out)])
    _assert_one_line_error(status, err, "Invalid value for 'model': expected a model of images",
                           f"Received: model='{model_name}'", loader)
    assert stdout == ""
    _assert_nothing_left(tmp_path)


def test_train_pixelcnn_vae_reconstructs_only_the_first_test_examples(tmp_path, capsys):
    out = tmp_path / "run"
    status, stdout, err = _run(["train", "pixelcnn_vae", "--out", str(out), "--option", "pixelcnn_layers=2",
                                "--option", "pixelcnn_filters=8", "--option", "filters=8", *QUICK])
    assert status == 0, err
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n_test"] == 200 and metrics["reconstruction_n"] == cli.AUTOREGRESSIVE_RECONSTRUCTIONS
    assert f"first {cli.AUTOREGRESSIVE_RECONSTRUCTIONS} examples" in stdout
    assert "IWAE NLL" in stdout
    model = keras_ae.load_model(out / "model.keras")
    (_, _), (x_test, _) = data.load("digits", limit=200, seed=cli.DATA_SEED)
    x = x_test[: cli.AUTOREGRESSIVE_RECONSTRUCTIONS]
    error = np.mean(np.sum((model.predict(x, verbose=0) - x) ** 2, axis=(1, 2, 3)))
    assert error == pytest.approx(metrics["reconstruction_error"], rel=1e-5)
    assert cli.main(["evaluate", str(out)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["reconstruction_n"] == cli.AUTOREGRESSIVE_RECONSTRUCTIONS
