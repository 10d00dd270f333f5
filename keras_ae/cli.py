"""The ``keras-ae`` command line: list, train and evaluate autoencoders.

```text
keras-ae list
keras-ae train MODEL [--dataset NAME] [--latent-dim N] [--epochs N]
                     [--batch-size N] [--learning-rate F] [--seed N] [--limit N]
                     [--option KEY=VALUE ...] [--out DIR] [--overwrite]
                     [--iwae-k K] [--iwae-examples N]
                     [--strategy KIND] [--devices D] [--backup-dir DIR]
keras-ae evaluate DIR [--dataset NAME] [--limit N] [--iwae-k K] [--iwae-examples N]
```

``train`` writes a run directory (default ``runs/MODEL-DATASET``) holding
``model.keras``, ``history.json``, ``metrics.json`` and PNG figures. The
directory appears only once everything in it was written: the run is
staged in a temporary sibling directory and renamed into place at the end,
so a failed or interrupted run leaves nothing behind, and an existing run
is replaced (with ``--overwrite``) only by a complete one.

``metrics.json`` holds the test metrics, computed on the saved model
reloaded in safe mode: ``reconstruction_error`` (mean summed squared error
per example) and, for the VAEs, ``elbo`` (nats) and ``iwae_nll`` (the IWAE
negative log-likelihood with ``iwae_k`` samples on the first ``iwae_n`` test
examples); then the settings of the run (model, dataset, options, epochs,
seed...) and ``train_time_seconds``. ``evaluate`` recomputes the metrics
with the same seeds and prints them as JSON: the numbers are equal.

The figures are ``loss.png``, ``reconstructions.png``, ``codes.png`` (PCA
when the code has more than two dimensions) and, for the VAEs,
``samples.png`` and ``manifold.png`` (see :mod:`keras_ae.plots`).

With ``--strategy`` the model is built in the scope of
:func:`keras_ae.distribute.get_strategy`; ``--batch-size`` is then the
global batch. Under ``multi_worker`` every worker runs the same command and
only the chief writes the run directory.

Every mistake (unknown model or dataset, bad number, bad model option, data
with NaN...) ends the command with exit status 2 and one line on stderr,
``keras-ae: error: ...``.

Example:

```text
$ keras-ae train vae                      # digits, 30 epochs, latent_dim=2
$ keras-ae train denoising --option noise=dropout --option hidden=256,128
$ keras-ae evaluate runs/vae-digits       # recomputes metrics.json
```

The same from Python: ``keras_ae.cli.main(["train", "vae"])`` returns the
exit status.
"""

import argparse
import contextlib
import difflib
import inspect
import json
import math
import os
import shutil
import sys
import tempfile
import time

import numpy as np

from keras_ae._validation import check_choice, check_float, check_int, invalid

__all__ = ["main"]

PROG = "keras-ae"

#: Default epochs and batch size per dataset: ``keras-ae train vae`` on the
#: 1437 digits takes well under a minute on two CPU cores.
DATASET_DEFAULTS = {
    "digits": {"epochs": 30, "batch_size": 64},
    "mnist": {"epochs": 20, "batch_size": 128},
    "fashion_mnist": {"epochs": 20, "batch_size": 128},
    "binarized_mnist": {"epochs": 20, "batch_size": 128},
}
#: Default code size: 2 for the VAEs (their latent space can be drawn), 16
#: otherwise.
LATENT_DEFAULTS = {"vae": 2, "beta_vae": 2, "conv_vae": 2}
DEFAULT_LATENT_DIM = 16
#: Models fed images ``(h, w, 1)``; every other model gets flat vectors.
IMAGE_MODELS = ("conv", "conv_vae")
#: Builder arguments set by the command line itself, not by ``--option``.
RESERVED_OPTIONS = {
    "input_shape": "it is read from the dataset",
    "latent_dim": "use --latent-dim",
    "learning_rate": "use --learning-rate",
    "compile": "the command always compiles",
}
#: Seed of the data split and of ``--limit`` subsets. It is fixed (not
#: ``--seed``) so that every run is tested on the same examples.
DATA_SEED = 0
STRATEGIES = ("auto", "default", "mirrored", "multi_worker")

_FILES = ("model.keras", "history.json", "metrics.json")


# --------------------------------------------------------------------------
# Entry point


def main(argv=None):
    """Runs the ``keras-ae`` command line.

    Args:
        argv: List of arguments without the program name; ``None`` reads
            ``sys.argv[1:]``.

    Returns:
        The exit status: 0 on success, 2 for a usage error (reported in one
        line on stderr), 1 for an unexpected failure, 130 when interrupted.

    Example:

    ```python
    from keras_ae.cli import main
    status = main(["train", "dense", "--epochs", "5", "--out", "runs/quick"])
    ```
    """
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help, --version
        return stop.code if isinstance(stop.code, int) else 0
    except _UsageError as error:
        return _fail(error, 2)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; nothing was written", file=sys.stderr)
        return 130
    except (_UsageError, ValueError, TypeError, OSError) as error:
        return _fail(error, 2)
    except _TrainingError as error:
        return _fail(error, 1)
    except Exception as error:  # noqa: BLE001 - reported in one line, see below
        if os.environ.get("KERAS_AE_DEBUG"):
            raise
        return _fail(f"{type(error).__name__}: {error} (set KERAS_AE_DEBUG=1 for the traceback)", 1)


class _UsageError(ValueError):
    """A mistake on the command line, reported as ``keras-ae: error: ...``."""


class _TrainingError(RuntimeError):
    """Training ran but produced no usable model (for example a NaN loss)."""


def _fail(error, status):
    message = " ".join(str(error).split())  # one line, whatever the source
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return status


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line, without the usage."""

    def error(self, message):
        raise _UsageError(f"{message} (see '{self.prog} --help')")


def _build_parser():
    from keras_ae import __version__

    parser = _Parser(
        prog=PROG,
        description="Train, evaluate and plot the autoencoders of keras_ae.",
        epilog="Run 'keras-ae COMMAND --help' for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.set_defaults(command=None)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    listing = commands.add_parser("list", help="list the models, one line each")
    listing.set_defaults(command="list", run=_run_list)

    train = commands.add_parser(
        "train",
        help="train a model and write a run directory",
        description="Train MODEL on a dataset and write model.keras, history.json, "
        "metrics.json and PNG figures to a new run directory.",
    )
    train.set_defaults(command="train", run=_run_train)
    train.add_argument("model", metavar="MODEL", help="a model name, see 'keras-ae list'")
    train.add_argument("--dataset", default="digits",
                       help="digits (default, no download), mnist, fashion_mnist or binarized_mnist")
    train.add_argument("--latent-dim", type=int, metavar="N",
                       help=f"code size (default: 2 for the VAEs, {DEFAULT_LATENT_DIM} otherwise)")
    train.add_argument("--epochs", type=int, metavar="N",
                       help="training epochs (default: 30 on digits, 20 on the MNIST variants)")
    train.add_argument("--batch-size", type=int, metavar="N",
                       help="examples per step, split across the devices of a strategy "
                       "(default: 64 on digits, 128 otherwise)")
    train.add_argument("--learning-rate", type=float, default=1e-3, metavar="F",
                       help="Adam's learning rate (default: 1e-3)")
    train.add_argument("--seed", type=int, default=0, metavar="N",
                       help="seed of the weights, the shuffling and the metric samples "
                       "(default: 0); the train/test split is fixed")
    train.add_argument("--limit", type=int, metavar="N",
                       help="use at most N training and N test examples")
    train.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                       help="a model option, e.g. --option noise=dropout --option hidden=256,128 "
                       "(repeatable; the options of MODEL are its builder's keyword arguments, "
                       "listed when one is misspelled)")
    train.add_argument("--out", metavar="DIR", help="run directory (default: runs/MODEL-DATASET)")
    train.add_argument("--overwrite", action="store_true",
                       help="replace an existing run directory once the new run has succeeded")
    _add_iwae_arguments(train)
    group = train.add_argument_group("distributed training")
    group.add_argument("--strategy", choices=STRATEGIES,
                       help="tf.distribute strategy (see keras_ae.distribute.get_strategy)")
    group.add_argument("--devices", metavar="D",
                       help="devices of the strategy: a number N (the first N GPUs, or the CPU "
                       "split into N logical devices when there is no GPU) or comma-separated "
                       "device names such as /gpu:0,/gpu:1")
    group.add_argument("--backup-dir", metavar="DIR",
                       help="keras.callbacks.BackupAndRestore directory: rerun the same "
                       "command after an interruption to resume training")

    evaluate = commands.add_parser(
        "evaluate",
        help="recompute the test metrics of a run directory",
        description="Reload DIR/model.keras (safe mode), recompute its test metrics with "
        "the settings recorded in DIR/metrics.json and print them as JSON.",
    )
    evaluate.set_defaults(command="evaluate", run=_run_evaluate)
    evaluate.add_argument("dir", metavar="DIR", help="a run directory written by 'keras-ae train'")
    evaluate.add_argument("--dataset", help="dataset to test on (default: the run's)")
    evaluate.add_argument("--limit", type=int, metavar="N",
                          help="use at most N test examples (default: the run's)")
    _add_iwae_arguments(evaluate, defaults_from_run=True)
    return parser


def _add_iwae_arguments(parser, defaults_from_run=False):
    suffix = "the run's" if defaults_from_run else "%(default)s"
    parser.add_argument("--iwae-k", type=int, default=None if defaults_from_run else 100,
                        metavar="K", help=f"importance samples of the VAE log-likelihood "
                        f"estimate (default: {suffix})")
    parser.add_argument("--iwae-examples", type=int, default=None if defaults_from_run else 1000,
                        metavar="N", help=f"test examples used by that estimate (default: {suffix})")


# --------------------------------------------------------------------------
# keras-ae list


def _run_list(args):
    import keras_ae
    from keras_ae._registry import summary

    names = keras_ae.list_models()
    width = max(len(name) for name in names)
    for name in names:
        print(f"{name:<{width}}  {summary(name).replace('``', '')}")  # no reST markup
    return 0


# --------------------------------------------------------------------------
# keras-ae train


def _run_train(args):
    import keras

    import keras_ae
    from keras_ae import data

    # 1. Check everything that can be checked before any work.
    model_name = check_choice("model", args.model, keras_ae.list_models())
    dataset = check_choice("dataset", args.dataset, data.DATASETS)
    defaults = DATASET_DEFAULTS.get(dataset, DATASET_DEFAULTS["mnist"])
    epochs = check_int("epochs", _default(args.epochs, defaults["epochs"]))
    batch_size = check_int("batch_size", _default(args.batch_size, defaults["batch_size"]))
    latent_dim = check_int(
        "latent_dim", _default(args.latent_dim, LATENT_DEFAULTS.get(model_name, DEFAULT_LATENT_DIM))
    )
    learning_rate = check_float("learning_rate", args.learning_rate, low=0, low_open=True)
    seed = check_int("seed", args.seed, minimum=0)
    limit = None if args.limit is None else check_int("limit", args.limit)
    iwae_k = check_int("iwae_k", args.iwae_k)
    iwae_examples = check_int("iwae_examples", args.iwae_examples)
    options = _parse_options(model_name, args.option)
    out = os.path.abspath(args.out or os.path.join("runs", f"{model_name}-{dataset}"))
    backup_dir = None if args.backup_dir is None else os.path.abspath(args.backup_dir)
    if backup_dir is not None and _is_within(backup_dir, out):
        raise invalid("backup_dir", "a directory outside the run directory", args.backup_dir)

    # 2. The strategy comes first: some must exist before TensorFlow starts.
    distribute, strategy = _strategy(args)
    # Under a multi-worker strategy every worker trains, the chief writes.
    chief = distribute is None or distribute.is_chief(strategy)
    if chief:
        _check_output_dir(out, args.out, args.overwrite)

    # 3. Data and model: the model builder validates the options.
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    images = model_name in IMAGE_MODELS or (model_name == "denoising" and options.get("base") == "conv")
    (x_train, y_train), (x_test, y_test) = data.load(
        dataset, flatten=not images, limit=limit, seed=DATA_SEED
    )
    _check_finite(dataset, x_train=x_train, x_test=x_test)
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        model = keras_ae.build(
            model_name, input_shape=x_train.shape[1:], latent_dim=latent_dim,
            learning_rate=learning_rate, **options,
        )

    # 4. Train and write, in a staging directory renamed into place at the end.
    if dataset == "binarized_mnist":
        train_data = data.binarized_dataset(x_train, batch_size=batch_size, seed=seed)
    else:
        train_data = data.as_dataset(x_train, batch_size=batch_size, seed=seed)
    callbacks = [keras.callbacks.TerminateOnNaN()]
    if backup_dir is not None:
        if distribute is not None:  # backups written by the chief only
            callbacks.append(distribute.backup_and_restore(backup_dir, strategy=strategy))
        else:
            callbacks.append(keras.callbacks.BackupAndRestore(backup_dir))
    fit_options = dict(
        epochs=epochs, shuffle=False,  # train_data is shuffled already
        validation_data=(x_test, x_test), validation_batch_size=256,
        callbacks=callbacks, verbose=1 if _isatty(sys.stdout) else 2,
    )
    if not chief:
        model.fit(train_data, **fit_options)
        distribute.save_model(model, "model.keras", strategy)  # to a scratch directory
        print("Trained as a worker of a multi-worker cluster; the chief writes the run directory.")
        return 0
    with _staging(out, args.overwrite) as stage:
        start = time.perf_counter()
        history = model.fit(train_data, **fit_options)
        train_time = time.perf_counter() - start
        history = {key: [float(v) for v in values] for key, values in history.history.items()}
        if not all(math.isfinite(v) for v in history.get("loss", [math.nan])):
            raise _TrainingError(f"training stopped after {len(history.get('loss', []))} "
                                 "epochs because the loss is not finite; try a smaller "
                                 "--learning-rate")
        model_path = os.path.join(stage, "model.keras")
        if distribute is not None:
            distribute.save_model(model, model_path, strategy)
        else:
            model.save(model_path)
        # Every number is computed from the saved file, reloaded in safe mode,
        # so that `keras-ae evaluate` reproduces it exactly.
        reloaded = keras.models.load_model(model_path, safe_mode=True)
        results, x_hat = _test_metrics(reloaded, x_test, seed=seed, iwae_k=iwae_k,
                                       iwae_examples=iwae_examples)
        record = {
            "model": model_name,
            "dataset": dataset,
            "limit": limit,
            **results,
            "options": _jsonable(options),
            "input_shape": list(x_train.shape[1:]),
            "latent_dim": latent_dim,
            "epochs": epochs,
            "batch_size": batch_size,
            "learning_rate": learning_rate,
            "seed": seed,
            "data_seed": DATA_SEED,
            "n_train": len(x_train),
            "train_time_seconds": round(train_time, 3),
            "strategy": args.strategy or ("auto" if strategy is not None else None),
            "strategy_class": None if strategy is None else type(strategy).__name__,
            "replicas": strategy.num_replicas_in_sync if strategy is not None else 1,
            "versions": _versions(),
        }
        _write_json(os.path.join(stage, "history.json"), history)
        _write_json(os.path.join(stage, "metrics.json"), record)
        figures = _write_figures(stage, reloaded, history, x_test, y_test, x_hat, seed)

    print(_summary_line(record, train_time))
    print(f"Wrote {_display(out)}/: {', '.join(_FILES + figures)}")
    return 0


def _default(value, default):
    return default if value is None else value


def _parse_options(model_name, items):
    """Turns ``["noise=dropout", "hidden=256,128"]`` into builder keywords."""
    from keras_ae import get_builder

    params = inspect.signature(get_builder(model_name)).parameters
    settable = sorted(key for key in params if key not in RESERVED_OPTIONS)
    options = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise invalid("option", "KEY=VALUE, e.g. --option noise=dropout", item)
        if key in RESERVED_OPTIONS:
            raise invalid("option", f"a model option other than '{key}' ({RESERVED_OPTIONS[key]})", item)
        if key not in params:
            close = difflib.get_close_matches(key, settable, n=1)
            hint = f"Did you mean '{close[0]}'?" if close else ""
            raise invalid("option", f"one of the options of '{model_name}' {settable}", item, hint)
        if key in options:
            raise invalid("option", f"each option once ('{key}' is given twice)", item)
        options[key] = _parse_value(key, text.strip(), params[key].default)
    return options


def _parse_value(key, text, default):
    """Reads an option value with the type of the builder's default."""
    if isinstance(default, tuple):
        inner = text.strip("()[] ")
        return tuple(_scalar(part.strip()) for part in inner.split(",")) if inner else ()
    if isinstance(default, bool):
        lowered = text.lower()
        if lowered in ("true", "yes", "1", "false", "no", "0"):
            return lowered in ("true", "yes", "1")
        raise invalid(key, "true or false", text)
    if "," in text:
        return tuple(_scalar(part.strip()) for part in text.strip("()[] ").split(","))
    value = _scalar(text)
    if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _scalar(text):
    lowered = text.lower()
    if lowered in ("none", "null"):
        return None
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _check_output_dir(out, path, overwrite):
    """Refuses ``out`` if it exists and is not empty, unless overwriting a run."""
    path = path or _display(out)
    if _is_within(os.getcwd(), out):
        raise invalid("out", "a new directory, not the current directory or one of its parents", path)
    if os.path.lexists(out) and not os.path.isdir(out):
        raise invalid("out", "a directory path (this is an existing file)", path)
    if os.path.isdir(out) and os.listdir(out):
        if not overwrite:
            raise _UsageError(
                f"the run directory {path} already exists and is not empty; pass --overwrite "
                "to replace it once the new run has succeeded, or choose another --out"
            )
        if not os.path.isfile(os.path.join(out, "metrics.json")):
            raise _UsageError(
                f"refusing to overwrite {path}: it does not look like a keras-ae run "
                "directory (no metrics.json); choose another --out"
            )


def _is_within(path, directory):
    path, directory = os.path.abspath(path), os.path.abspath(directory)
    return os.path.commonpath([path, directory]) == directory


def _strategy(args):
    """Returns ``(keras_ae.distribute, strategy)``, or ``(None, None)`` if none was asked for.

    ``--devices N`` means the first ``N`` GPUs, or, on a machine without
    GPUs, the CPU split into ``N`` logical devices (same cores: this checks
    distributed training, it does not speed it up).
    """
    if args.strategy is None and args.devices is None:
        return None, None
    import tensorflow as tf

    from keras_ae import distribute

    devices = args.devices
    if devices is not None and devices.strip().isdigit():
        count = check_int("devices", int(devices))
        gpus = tf.config.list_physical_devices("GPU")
        if not gpus:
            devices = distribute.configure_logical_cpus(count)
        elif count <= len(gpus):
            devices = [f"/gpu:{i}" for i in range(count)]
        else:
            raise invalid("devices", f"at most the {len(gpus)} visible GPUs", count)
    return distribute, distribute.get_strategy(args.strategy or "auto", devices)


def _check_finite(dataset, **arrays):
    for name, x in arrays.items():
        bad = int(np.size(x) - np.count_nonzero(np.isfinite(x)))
        if bad:
            raise ValueError(
                f"Invalid value for '{name}': expected finite values (dataset '{dataset}'). "
                f"Received: {name}=<array of shape {np.shape(x)} with {bad} NaN or infinite values>"
            )


@contextlib.contextmanager
def _staging(out, overwrite):
    """Yields a temporary sibling of ``out``, renamed to ``out`` on success.

    On any exception (or ``KeyboardInterrupt``) the temporary directory, and
    any parent directory created for it, is removed. An existing ``out`` is
    deleted only after the new directory is in place.
    """
    parent = os.path.dirname(out)
    created = []
    probe = parent
    while not os.path.isdir(probe):
        created.append(probe)
        probe = os.path.dirname(probe)
    os.makedirs(parent, exist_ok=True)
    stage = tempfile.mkdtemp(prefix=f"{os.path.basename(out)}.tmp-", dir=parent)
    try:
        yield stage
        # mkdtemp makes the directory private; give it the usual permissions.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(stage, 0o777 & ~umask)
        _commit(stage, out, overwrite)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        for directory in created:  # deepest first
            with contextlib.suppress(OSError):
                os.rmdir(directory)
        raise


def _commit(stage, out, overwrite):
    if not os.path.lexists(out):
        os.rename(stage, out)
        return
    if os.listdir(out) and not overwrite:  # appeared while we were training
        raise _UsageError(f"the run directory {out} appeared during training; nothing was replaced")
    old = f"{stage}.old"
    os.rename(out, old)
    try:
        os.rename(stage, out)
    except BaseException:
        os.rename(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _isatty(stream):
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


# --------------------------------------------------------------------------
# Metrics and figures (shared by train and evaluate)


def _is_vae(model):
    try:
        model.get_layer("encoder").get_layer("posterior")
    except ValueError:
        return False
    return True


def _test_metrics(model, x_test, *, seed, iwae_k, iwae_examples):
    """Returns ``(metrics dict, reconstructions)`` of the test set."""
    from keras_ae import metrics

    x_hat = model.predict(x_test, batch_size=256, verbose=0)
    results = {
        "n_test": len(x_test),
        "reconstruction_error": float(np.mean(metrics.reconstruction_error(x_test, x_hat))),
    }
    if _is_vae(model):
        n = min(iwae_examples, len(x_test))
        results["elbo"] = float(np.mean(metrics.elbo(model, x_test, seed=seed)))
        results["iwae_nll"] = float(-np.mean(
            metrics.iwae_log_likelihood(model, x_test[:n], k=iwae_k, seed=seed)
        ))
        results["iwae_k"] = iwae_k
        results["iwae_n"] = n
    return results, x_hat


def _write_figures(stage, model, history, x_test, y_test, x_hat, seed):
    from keras_ae import plots

    def save(name, fig):
        fig.savefig(os.path.join(stage, name))
        figures.append(name)

    figures = []
    save("loss.png", plots.plot_history(history))
    save("reconstructions.png", plots.plot_reconstructions(x_test, x_hat, n=10))
    codes = model.get_layer("encoder").predict(x_test, batch_size=256, verbose=0)
    save("codes.png", plots.plot_codes(codes, y_test))
    if _is_vae(model):
        decoder = model.get_layer("decoder")
        latent_dim = codes.shape[-1]
        save("samples.png", plots.plot_samples(decoder, latent_dim, n=25, seed=seed))
        save("manifold.png", plots.plot_manifold(decoder, n=15, codes=codes, seed=seed))
    return tuple(figures)


def _summary_line(record, train_time):
    parts = [f"test reconstruction error {record['reconstruction_error']:.4g}"]
    if "elbo" in record:
        parts.append(f"ELBO {record['elbo']:.4g} nats")
        parts.append(f"IWAE NLL {record['iwae_nll']:.4g} nats "
                     f"(k={record['iwae_k']}, {record['iwae_n']} examples)")
    return (f"Trained {record['model']} on {record['dataset']} ({record['n_train']} examples, "
            f"{record['epochs']} epochs) in {train_time:.1f} s: " + ", ".join(parts) + ".")


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _write_json(path, value):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=2, allow_nan=True)
        f.write("\n")


def _versions():
    import keras
    import tensorflow as tf

    from keras_ae import __version__

    return {"keras_ae": __version__, "keras": keras.__version__, "tensorflow": tf.__version__}


def _display(path):
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


# --------------------------------------------------------------------------
# keras-ae evaluate


def _run_evaluate(args):
    import keras

    from keras_ae import data

    run = os.path.abspath(args.dir)
    model_path = os.path.join(run, "model.keras")
    if not os.path.isfile(model_path):
        raise invalid("DIR", "a run directory holding model.keras", args.dir)
    record = {}
    metrics_path = os.path.join(run, "metrics.json")
    if os.path.isfile(metrics_path):
        with open(metrics_path, encoding="utf-8") as f:
            record = json.load(f)
    dataset = args.dataset or record.get("dataset")
    if dataset is None:
        raise _UsageError(f"{args.dir} has no metrics.json naming its dataset; pass --dataset")
    dataset = check_choice("dataset", dataset, data.DATASETS)
    same_data = dataset == record.get("dataset")
    limit = args.limit if args.limit is not None else (record.get("limit") if same_data else None)
    limit = None if limit is None else check_int("limit", limit)
    seed = check_int("seed", record.get("seed", 0), minimum=0)
    iwae_k = check_int("iwae_k", _default(args.iwae_k, record.get("iwae_k", 100)))
    iwae_examples = check_int("iwae_examples", _default(args.iwae_examples, record.get("iwae_n", 1000)))

    import keras_ae  # noqa: F401 - registers the custom objects for safe-mode loading

    model = keras.models.load_model(model_path, safe_mode=True)
    input_shape = tuple(model.inputs[0].shape[1:])
    (_, _), (x_test, _) = data.load(
        dataset, flatten=len(input_shape) == 1, limit=limit, seed=record.get("data_seed", DATA_SEED)
    )
    if x_test.shape[1:] != input_shape:
        raise invalid("dataset", f"a dataset of the model's input shape {input_shape}",
                      dataset, f"Its examples have the shape {x_test.shape[1:]}")
    _check_finite(dataset, x_test=x_test)
    results, _ = _test_metrics(model, x_test, seed=seed, iwae_k=iwae_k, iwae_examples=iwae_examples)
    print(json.dumps({"dataset": dataset, "limit": limit, **results}, indent=2))
    return 0
