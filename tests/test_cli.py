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

# Small and fast: 200 training and 200 test digits, 2 epochs.
QUICK = ["--limit", "200", "--epochs", "2", "--iwae-k", "20", "--iwae-examples", "50"]
COMMON_FILES = {"model.keras", "history.json", "metrics.json", "loss.png",
                "reconstructions.png", "codes.png"}
VAE_FILES = COMMON_FILES | {"samples.png", "manifold.png"}


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


def test_python_dash_m_entry_point(tmp_path, keras_home):
    env = {**os.environ, "KERAS_HOME": str(keras_home), "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, "-m", "keras_ae", "list"], capture_output=True,
                            text=True, env=env, cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.strip().splitlines()) == len(keras_ae.list_models())


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
    assert set(history) == {"loss", "val_loss"} and len(history["loss"]) == 2
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["model"] == "dense" and metrics["dataset"] == "digits"
    assert metrics["options"] == {"hidden": [32]}
    assert metrics["epochs"] == 2 and metrics["n_train"] == 200 and metrics["n_test"] == 200
    assert metrics["latent_dim"] == 8 and metrics["input_shape"] == [64]
    assert metrics["train_time_seconds"] > 0
    assert 0 < metrics["reconstruction_error"] < 64
    assert "elbo" not in metrics
    assert "reconstruction error" in stdout
    model = keras.models.load_model(out / "model.keras", safe_mode=True)
    assert model.get_layer("encoder").get_layer("encoder_dense_1").units == 32


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
    model = keras.models.load_model(out / "model.keras", safe_mode=True)
    assert model.get_layer("encoder").get_layer("posterior") is not None


@pytest.mark.parametrize("fixture", ["dense_run", "vae_run"])
def test_evaluate_reproduces_metrics_json(request, capsys, fixture):
    out, _ = request.getfixturevalue(fixture)
    assert cli.main(["evaluate", str(out)]) == 0
    printed = json.loads(capsys.readouterr().out)
    recorded = json.loads((out / "metrics.json").read_text())
    assert printed["n_test"] == recorded["n_test"]
    keys = [k for k in ("reconstruction_error", "elbo", "iwae_nll") if k in recorded]
    assert keys == [k for k in ("reconstruction_error", "elbo", "iwae_nll") if k in printed]
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


def test_keyboard_interrupt_leaves_nothing(tmp_path, monkeypatch):
    def interrupted_fit(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(keras.Model, "fit", interrupted_fit)
    status, _, err = _run(["train", "dense", "--out", str(tmp_path / "runs" / "x"), *QUICK])
    assert status == 130 and "interrupted" in err and "Traceback" not in err
    _assert_nothing_left(tmp_path / "runs")


def test_parse_options_uses_the_builder_defaults():
    options = cli._parse_options(
        "denoising", ["noise=dropout", "noise_level=1", "hidden=64", "filters=(8,16)", "seed=none"]
    )
    assert options == {"noise": "dropout", "noise_level": 1.0, "hidden": (64,),
                       "filters": (8, 16), "seed": None}
    assert cli._parse_options("dense", ["hidden="]) == {"hidden": ()}


def test_mirrored_strategy_on_two_logical_cpus(tmp_path, keras_home):
    # A fresh process: the CPU can only be split before TensorFlow starts.
    env = {**os.environ, "KERAS_HOME": str(keras_home), "TF_CPP_MIN_LOG_LEVEL": "3"}
    out, backup = tmp_path / "run", tmp_path / "backup"
    result = subprocess.run(
        [sys.executable, "-m", "keras_ae", "train", "dense", "--strategy", "mirrored",
         "--devices", "2", "--backup-dir", str(backup), "--out", str(out),
         "--limit", "64", "--epochs", "1", "--batch-size", "32"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
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
