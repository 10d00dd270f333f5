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
per example, on the first ``reconstruction_n`` test examples: all of them,
except 64 for a model whose decoder draws one pixel per pass) and, for the
VAEs, ``elbo`` (nats) and ``iwae_nll`` (the IWAE
negative log-likelihood with ``iwae_k`` samples on the first ``iwae_n`` test
examples); then the settings of the run (model, dataset, options, epochs,
seed...) and ``train_time_seconds``. ``evaluate`` recomputes the metrics
with the same seeds and prints them as JSON: the numbers are equal.

The figures are ``loss.png``, ``reconstructions.png``, ``codes.png`` (PCA
when the code has more than two dimensions) and, for the VAEs,
``samples.png`` and ``manifold.png`` (see :mod:`keras_ae.plots`).

Each model gets the images of the dataset in the rank it takes: as they are
(rank 3, ``(height, width, channels)``), as flat vectors (rank 1), or, for
the sequence models (rank 2, ``(timesteps, features)``), each image as a
window of ``height`` time steps of ``width * channels`` features (a digit is
8 steps of 8 features); ``reconstructions.png`` then shows each window as a
time-by-feature image.

With ``--strategy`` the model is built in the scope of
:func:`keras_ae.distribute.get_strategy`; ``--batch-size`` is then the
global batch. Under ``multi_worker`` every worker runs the same command and
only the chief writes the run directory.

Every mistake (unknown model or dataset, bad number, bad model option, data
with NaN, data outside [0, 1] for a Bernoulli model...) ends the command
with exit status 2 and one line on stderr, ``keras-ae: error: ...``. A
training run whose loss becomes NaN or infinite stops there, writes
nothing, and names the epoch and batch (exit status 1).

The models, their options and defaults come from the registry's snapshot
(:func:`keras_ae._registry.catalog`), so ``list``, ``--help`` and every
refusal of an argument answer without importing TensorFlow. Commands that
need TensorFlow import it with ``TF_CPP_MIN_LOG_LEVEL=3`` (unless set) and
without its native start-up log lines, so a command prints only its own
output.

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
import json
import logging
import math
import os
import re
import shutil
import sys
import tempfile
import time
import warnings

import numpy as np

from keras_ae._registry import jsonable
from keras_ae._validation import check_array, check_choice, check_int, invalid

__all__ = ["main"]

PROG = "keras-ae"

#: Default epochs and batch size per dataset: ``keras-ae train vae`` on the
#: 1437 digits takes well under a minute on two CPU cores. ``image`` is the
#: shape of one image, to check the options before the data are loaded.
DATASET_DEFAULTS = {
    "digits": {"epochs": 30, "batch_size": 64, "image": (8, 8, 1)},
    "mnist": {"epochs": 20, "batch_size": 128, "image": (28, 28, 1)},
    "fashion_mnist": {"epochs": 20, "batch_size": 128, "image": (28, 28, 1)},
    "binarized_mnist": {"epochs": 20, "batch_size": 128, "image": (28, 28, 1)},
}
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
#: Labelled training examples per class of a semi-supervised run (``--labels-per-class``).
LABELS_PER_CLASS = 10
STRATEGIES = ("auto", "default", "mirrored", "multi_worker")

_FILES = ("model.keras", "history.json", "metrics.json")
#: Models whose data are not images: ``keras-ae train`` refuses them (it trains on image datasets only).
NOT_FOR_IMAGES = {
    "autorec": "it learns from a scipy.sparse ratings matrix (users x items), e.g. "
               "keras_ae.data.load_movielens('ml-100k', fold='u1'); train it from Python (README, "
               "'Recommenders and documents'; tutorial 11; benchmarks/autorec.py)",
    "semantic_hashing": "it learns from word counts of documents, e.g. keras_ae.data.load_20newsgroups(); "
                        "train it from Python (README, 'Recommenders and documents'; tutorial 12; "
                        "benchmarks/retrieval.py)",
}


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
        with _quiet_python_logs():
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
    train.add_argument("--latent-dim", type=int, metavar="N", help=f"code size (default: {_latent_defaults()})")
    train.add_argument("--epochs", type=int, metavar="N",
                       help="training epochs (default: 30 on digits, 20 on the MNIST variants); for dec, the "
                       "pretraining epochs: its refinement then runs until fewer than 0.1%% of the assignments "
                       "change, at most 200 epochs")
    train.add_argument("--batch-size", type=int, metavar="N",
                       help="examples per step, split across the devices of a strategy "
                       "(default: 64 on digits, 128 otherwise)")
    train.add_argument("--learning-rate", type=float, default=None, metavar="F",
                       help="Adam's learning rate (default: the model's; 1e-3, or 2e-4 for the adversarial "
                            "models)")
    train.add_argument("--seed", type=int, default=0, metavar="N",
                       help="seed of the weights, the shuffling and the metric samples "
                       "(default: 0); the train/test split is fixed")
    train.add_argument("--limit", type=int, metavar="N",
                       help="use at most N training and N test examples")
    train.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                       help="a model option, e.g. --option noise=dropout --option hidden=256,128 "
                       "(repeatable; the options of MODEL are its builder's keyword arguments, "
                       "listed when one is misspelled)")
    train.add_argument("--labels-per-class", type=int, metavar="N",
                       help="for a semi-supervised model (m2): labelled training examples per class, the "
                       f"others unlabelled (default: {LABELS_PER_CLASS})")
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
# TensorFlow, loaded only by the commands that need it


#: A line TensorFlow's native code writes to stderr before its logging is
#: initialized (so ``TF_CPP_MIN_LOG_LEVEL`` cannot hide it): an absl/glog
#: record ``I0000 00:00:1700000000.123456   1234 port.cc:153] ...`` (or the
#: older ``2024-01-01 12:00:00.123456: I tensorflow/...cc:42] ...``), absl's
#: notice about those records, and the second line of ``cpu_feature_guard``.
_NATIVE_LOG_LINE = re.compile(
    r"^(?:[IWEF]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [\w.\-]+:\d+\] "
    r"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWEF] [\w./\-]+:\d+\] "
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|To enable the following instructions: .* rebuild TensorFlow with the appropriate compiler flags\.)"
)
#: Python loggers TensorFlow (and the libraries around it) write warnings to.
_QUIET_LOGGERS = ("tensorflow", "absl", "h5py")


def _load_tensorflow():
    """Imports TensorFlow and Keras without their start-up log lines; returns ``keras``.

    Sets ``TF_CPP_MIN_LOG_LEVEL=3`` unless the variable is set, which hides
    TensorFlow's native log records once it runs (e.g. ``failed call to
    cuInit`` when the first device is created). The records written while
    its shared libraries load (``oneDNN custom operations are on``, ``Could
    not find cuda drivers``...) come before TensorFlow reads that variable:
    they are caught by pointing file descriptor 2 to a temporary file during
    the import; any other line written meanwhile is passed on to stderr.
    ``KERAS_AE_DEBUG=1`` keeps every line (and TensorFlow's own log level).
    """
    if os.environ.get("KERAS_AE_DEBUG"):
        import keras

        return keras
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" not in sys.modules:
        with _native_stderr_filtered():
            import tensorflow  # noqa: F401
    import keras

    return keras


@contextlib.contextmanager
def _native_stderr_filtered():
    """Captures what native code writes to fd 2 and re-emits all but TensorFlow's log lines."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, AttributeError, ValueError):  # no usable fd 2: nothing to filter
        yield
        return
    with tempfile.TemporaryFile(mode="w+b") as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(OSError, AttributeError, ValueError):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            text = capture.read().decode("utf-8", errors="replace")
            kept = [line for line in text.splitlines(keepends=True) if not _NATIVE_LOG_LINE.match(line)]
            if kept:
                sys.stderr.write("".join(kept))


@contextlib.contextmanager
def _quiet_python_logs():
    """Hides the Python warnings and log records TensorFlow and Keras print, for one command.

    The command's own output is its progress, its result and, on a
    mistake, one error line: TensorFlow's ``WARNING:tensorflow:...`` records
    and the Python warnings of TensorFlow, TensorFlow Probability and Keras
    are not. The previous logger levels and warning filters come back
    afterwards (``main`` can be called from Python).
    """
    loggers = {name: logging.getLogger(name) for name in _QUIET_LOGGERS}
    levels = {name: logger.level for name, logger in loggers.items()}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module=r"(tensorflow|tensorflow_probability|keras|absl|h5py)(\.|$)")
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        for logger in loggers.values():
            logger.setLevel(logging.ERROR)
        try:
            yield
        finally:
            for name, logger in loggers.items():
                logger.setLevel(levels[name])


# --------------------------------------------------------------------------
# keras-ae list


def _run_list(args):
    from keras_ae._registry import catalog

    specs = catalog()
    width = max(len(name) for name in specs)
    for name in sorted(specs):
        print(f"{name:<{width}}  {specs[name].summary.replace('``', '')}")  # no reST markup
    return 0


def _latent_defaults():
    """``"2 for beta_vae, conv_vae, vae; 16 for the other models"``, from the registry."""
    from keras_ae._registry import catalog

    by_size = {}
    for name, spec in sorted(catalog().items()):
        by_size.setdefault(spec.default_latent_dim, []).append(name)
    if not by_size:
        return "the model's"
    common = max(by_size, key=lambda size: len(by_size[size]))
    parts = [f"{size} for {', '.join(names)}" for size, names in sorted(by_size.items()) if size != common]
    return "; ".join([*parts, f"{common} for the other models" if parts else f"{common}"])


# --------------------------------------------------------------------------
# keras-ae train


def _run_train(args):
    from keras_ae import data
    from keras_ae._registry import catalog

    # 1. Check every argument before any work, without TensorFlow: the
    #    models, their options and defaults come from the registry's snapshot.
    specs = catalog()
    model_name = check_choice("model", args.model, specs)
    spec = specs[model_name]
    dataset = check_choice("dataset", args.dataset, data.DATASETS)
    defaults = DATASET_DEFAULTS.get(dataset, DATASET_DEFAULTS["mnist"])
    epochs = check_int("epochs", _default(args.epochs, defaults["epochs"]))
    batch_size = check_int("batch_size", _default(args.batch_size, defaults["batch_size"]))
    seed = check_int("seed", args.seed, minimum=0)
    limit = None if args.limit is None else check_int("limit", args.limit)
    iwae_k = check_int("iwae_k", args.iwae_k)
    iwae_examples = check_int("iwae_examples", args.iwae_examples)
    labels_per_class = None if args.labels_per_class is None else check_int("labels_per_class",
                                                                             args.labels_per_class)
    options = _parse_options(model_name, args.option)
    checked = _check_model_options(spec, defaults["image"], {
        "latent_dim": _default(args.latent_dim, spec.default_latent_dim),
        # The model's own default unless given (2e-4 for the adversarial families).
        "learning_rate": _default(args.learning_rate, spec.options["learning_rate"][1]),
        **options,
    })
    latent_dim, learning_rate = checked["latent_dim"], checked["learning_rate"]
    if model_name in NOT_FOR_IMAGES:
        raise invalid("model", f"a model of images ('{PROG} train' trains on {', '.join(data.DATASETS)})",
                      model_name, f"{model_name} cannot be trained by '{PROG} train': {NOT_FOR_IMAGES[model_name]}")
    options = {key: checked[key] for key in options}
    out = os.path.abspath(args.out or os.path.join("runs", f"{model_name}-{dataset}"))
    backup_dir = None if args.backup_dir is None else os.path.abspath(args.backup_dir)
    if backup_dir is not None and _is_within(backup_dir, out):
        raise invalid("backup_dir", "a directory outside the run directory", args.backup_dir)
    if args.devices is not None and args.devices.strip().isdigit():
        check_int("devices", int(args.devices))
    # Without a cluster this process is the chief: refuse an existing run now.
    single_process = not os.environ.get("TF_CONFIG", "").strip()
    if single_process:
        _check_output_dir(out, args.out, args.overwrite)

    # 2. The data (NumPy, no TensorFlow), refused if not finite or, for a
    #    Bernoulli likelihood, outside [0, 1].
    (x_train, y_train), (x_test, y_test) = _load_data(dataset, spec.rank_for(checked), limit, DATA_SEED)
    likelihood = checked.get("likelihood", spec.options.get("likelihood", (None, None))[1])
    for name, x in (("x_train", x_train), ("x_test", x_test)):
        check_array(name, x, finite=True, unit_interval=likelihood == "bernoulli")

    # 3. The strategy comes first in TensorFlow: some must exist before it starts.
    keras = _load_tensorflow()
    import keras_ae

    distribute, strategy = _strategy(args)
    # Under a multi-worker strategy every worker trains, the chief writes.
    chief = distribute is None or distribute.is_chief(strategy)
    if chief and not single_process:
        _check_output_dir(out, args.out, args.overwrite)

    # 4. The model: the builder checks what relates several options.
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        model = keras_ae.build(
            model_name, input_shape=x_train.shape[1:], latent_dim=latent_dim,
            learning_rate=learning_rate, **options,
        )

    # A semi-supervised model learns from a few labels (the others hidden);
    # a clustering model refines its clusters after pretraining.
    semi_supervised = hasattr(model, "predict_labels")
    if labels_per_class is not None and not semi_supervised:
        raise invalid("labels_per_class", f"no value for {model_name}, which does not learn from labels "
                      "(only semi-supervised models such as m2 take it)", labels_per_class)

    # 5. Train and write, in a staging directory renamed into place at the end.
    if semi_supervised:
        from keras_ae import evaluation

        labels_per_class = _default(labels_per_class, LABELS_PER_CLASS)
        counts = np.bincount(y_train)
        smallest = int(np.argmin(np.where(counts > 0, counts, counts.max() + 1)))
        if labels_per_class >= counts[smallest] or labels_per_class * np.count_nonzero(counts) >= len(y_train):
            raise invalid("labels_per_class", f"fewer than the training examples of every class (the smallest, "
                          f"class {smallest}, has {counts[smallest]} of {len(y_train)}), so that some stay "
                          "unlabelled", labels_per_class)
        labels = np.full(len(y_train), -1, dtype="int32")
        keep = evaluation.labelled_subset(y_train, labels_per_class, seed=seed)
        labels[keep] = y_train[keep]
        train_data = data.semi_supervised_dataset(x_train, labels, batch_size=batch_size, seed=seed)
    elif dataset == "binarized_mnist":
        train_data = data.binarized_dataset(x_train, batch_size=batch_size, seed=seed)
    elif getattr(model, "conditional", False):  # a label-conditioned AAE trains on the dataset's labels
        train_data = data.as_dataset(x_train, y_train.astype("int32"), batch_size=batch_size, seed=seed)
    else:
        train_data = data.as_dataset(x_train, batch_size=batch_size, seed=seed)
    guard = _non_finite_guard(keras)
    callbacks = [guard]
    if backup_dir is not None:
        if distribute is not None:  # backups written by the chief only
            callbacks.append(distribute.backup_and_restore(backup_dir, strategy=strategy))
        else:
            callbacks.append(keras.callbacks.BackupAndRestore(backup_dir))
    fit_options = dict(
        epochs=epochs, shuffle=False,  # train_data is shuffled already
        # A semi-supervised model is validated on labelled test examples (with x alone every one
        # would count as unlabelled, and its classification term would read 0).
        validation_data=(x_test, y_test.astype("int32")) if semi_supervised else (x_test, x_test),
        validation_batch_size=256,
        callbacks=callbacks, verbose=1 if _isatty(sys.stdout) else 2,
    )
    if not chief:
        model.fit(train_data, **fit_options)
        guard.raise_if_stopped()
        _refine_clusters(model, x_train, batch_size, fit_options)
        distribute.save_model(model, "model.keras", strategy)  # to a scratch directory
        print("Trained as a worker of a multi-worker cluster; the chief writes the run directory.")
        return 0
    with _staging(out, args.overwrite) as stage:
        start = time.perf_counter()
        history = model.fit(train_data, **fit_options)
        guard.raise_if_stopped()
        history = {key: [float(v) for v in values] for key, values in history.history.items()}
        history.update(_refine_clusters(model, x_train, batch_size, fit_options))
        train_time = time.perf_counter() - start
        if not all(math.isfinite(v) for v in history.get("loss", [math.nan])):
            raise _TrainingError(f"training stopped after {len(history.get('loss', []))} "
                                 "epochs because the loss is not finite; nothing was written. "
                                 "Try a smaller --learning-rate")
        model_path = os.path.join(stage, "model.keras")
        if distribute is not None:
            distribute.save_model(model, model_path, strategy)
        else:
            model.save(model_path)
        # Every number is computed from the saved file, reloaded in safe mode,
        # so that `keras-ae evaluate` reproduces it exactly.
        reloaded = keras_ae.load_model(model_path, compile=False)
        results, x_hat = _test_metrics(reloaded, x_test, y_test, has_prior=spec.has_prior, seed=seed,
                                       iwae_k=iwae_k, iwae_examples=iwae_examples)
        record = {
            "model": model_name,
            "dataset": dataset,
            "limit": limit,
            **results,
            "options": jsonable(options),
            "input_shape": list(x_train.shape[1:]),
            "latent_dim": latent_dim,
            "epochs": epochs,
            **({"refinement_epochs": len(history["refinement_loss"])} if "refinement_loss" in history else {}),
            "batch_size": batch_size,
            **({"labels_per_class": labels_per_class} if semi_supervised else {}),
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
        figures = _write_figures(stage, reloaded, history, x_test, y_test, x_hat, seed,
                                 has_prior=spec.has_prior)

    print(_summary_line(record, train_time))
    print(f"Wrote {_display(out)}/: {', '.join(_FILES + figures)}")
    return 0


def _default(value, default):
    return default if value is None else value


def _check_model_options(spec, image_shape, options):
    """Checks the builder options with the model's declarations; returns them as checked.

    ``input_shape`` stands for the dataset's (an image, a window or a flat
    vector, as the model's input rank asks, see :func:`_example_shape`); the
    builder, run once the data are loaded, then checks what relates several
    options.
    """
    try:
        rank = spec.rank_for(options)
    except (KeyError, TypeError):  # the option deciding the rank is invalid: check() says how
        rank = len(image_shape)
    shape = _example_shape(image_shape, rank)
    checked = spec.check({"input_shape": shape, **options})
    checked.pop("input_shape")
    return checked


def _example_shape(image_shape, rank):
    """The shape of one image given to a model of input ``rank``.

    The first ``rank - 1`` axes are kept and the others merged into the last:
    ``(8, 8, 1)`` is ``(64,)`` for rank 1, 8 time steps of 8 features
    ``(8, 8)`` for rank 2, and the image itself for rank 3.
    """
    image_shape = tuple(image_shape)
    return (*image_shape[: rank - 1], int(np.prod(image_shape[rank - 1:])))


def _load_data(dataset, rank, limit, seed):
    """``data.load(dataset)`` with each image shaped by :func:`_example_shape` for a model of input ``rank``."""
    from keras_ae import data

    (x_train, y_train), (x_test, y_test) = data.load(dataset, flatten=rank == 1, limit=limit, seed=seed)
    x_train, x_test = (x.reshape(len(x), *_example_shape(x.shape[1:], rank)) for x in (x_train, x_test))
    return (x_train, y_train), (x_test, y_test)


def _non_finite_guard(keras):
    """Returns a callback that stops training at the first non-finite loss and says where.

    It is a ``keras.callbacks.TerminateOnNaN`` (so the model's ``fit`` adds
    no other one) that prints nothing: :meth:`raise_if_stopped`, called
    after ``fit``, raises the error naming the epoch and batch.
    """

    class NonFiniteGuard(keras.callbacks.TerminateOnNaN):
        def __init__(self):
            super().__init__()
            self.epoch = 0
            self.where = None

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_batch_end(self, batch, logs=None):
            loss = (logs or {}).get("loss")
            if self.where is None and loss is not None and not math.isfinite(float(loss)):
                self.where = (self.epoch + 1, batch + 1)
                self.model.stop_training = True

        def raise_if_stopped(self):
            if self.where is not None:
                epoch, batch = self.where
                raise _TrainingError(
                    f"the training loss became non-finite (NaN or infinite) at epoch {epoch}, "
                    f"batch {batch}; training stopped and nothing was written. Try a smaller "
                    "--learning-rate, or check the data"
                )

    return NonFiniteGuard()


def _parse_options(model_name, items):
    """Turns ``["noise=dropout", "hidden=256,128"]`` into builder keywords.

    The option names and the type of each value come from the model's
    declarations in the registry (the type of the declared default); the
    values are checked by :meth:`keras_ae._registry.ModelSpec.check`.
    """
    from keras_ae._registry import catalog

    declared = catalog()[model_name].options
    settable = sorted(key for key in declared if key not in RESERVED_OPTIONS)
    options = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise invalid("option", "KEY=VALUE, e.g. --option noise=dropout", item)
        if key in RESERVED_OPTIONS:
            raise invalid("option", f"a model option other than '{key}' ({RESERVED_OPTIONS[key]})", item)
        if key not in declared:
            close = difflib.get_close_matches(key, settable, n=1)
            hint = f"Did you mean '{close[0]}'?" if close else ""
            raise invalid("option", f"one of the options of '{model_name}' {settable}", item, hint)
        if key in options:
            raise invalid("option", f"each option once ('{key}' is given twice)", item)
        options[key] = _parse_value(key, text.strip(), declared[key][1])
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


def _refine_clusters(model, x_train, batch_size, fit_options):
    """DEC's second phase after pretraining (a model without it: nothing); its history, keys prefixed."""
    if not hasattr(model, "fit_clusters"):
        return {}
    history = model.fit_clusters(x_train, batch_size=batch_size, verbose=fit_options["verbose"],
                                 callbacks=fit_options["callbacks"])
    return {f"refinement_{key}": [float(v) for v in values] for key, values in history.history.items()}


#: Test examples reconstructed by a model whose decoder is autoregressive (``pixelcnn_vae``: H * W passes).
AUTOREGRESSIVE_RECONSTRUCTIONS = 64


def _test_metrics(model, x_test, y_test, *, has_prior, seed, iwae_k, iwae_examples):
    """Returns ``(metrics dict, reconstructions)`` of the test set.

    The ELBO and IWAE bounds are computed for the VAEs (the models with a
    prior and a posterior q(z|x); an adversarial autoencoder has a prior but
    no likelihood bound); :mod:`keras_ae.metrics` reads the likelihood and
    decoder scale from the model itself.
    """
    from keras_ae import metrics
    from keras_ae.models import VariationalAutoencoder

    # An autoregressive decoder reconstructs with one network pass per pixel: its error is measured on the
    # first AUTOREGRESSIVE_RECONSTRUCTIONS test examples (recorded as reconstruction_n).
    n_rec = len(x_test)
    if getattr(model, "AUTOREGRESSIVE_DECODER", False):
        n_rec = min(n_rec, AUTOREGRESSIVE_RECONSTRUCTIONS)
    x_hat = model.predict(x_test[:n_rec], batch_size=256, verbose=0)
    results = {
        "n_test": len(x_test),
        "reconstruction_error": float(np.mean(metrics.reconstruction_error(x_test[:n_rec], x_hat))),
        "reconstruction_n": n_rec,
    }
    if has_prior and isinstance(model, VariationalAutoencoder):
        n = min(iwae_examples, len(x_test))
        results["elbo"] = float(np.mean(metrics.elbo(model, x_test, seed=seed)))
        results["iwae_nll"] = float(-np.mean(
            metrics.iwae_log_likelihood(model, x_test[:n], k=iwae_k, seed=seed)
        ))
        results["iwae_k"] = iwae_k
        results["iwae_n"] = n
    if hasattr(model, "predict_labels"):  # a classifier inside the model (m2)
        results["test_accuracy"] = float(np.mean(model.predict_labels(x_test) == y_test))
    if hasattr(model, "predict_clusters"):  # clusters (dec), matched to the classes
        from keras_ae import evaluation

        scores = evaluation.clustering_scores(y_test, model.predict_clusters(x_test))
        results.update({f"cluster_{key}": float(value) for key, value in scores.items()})
    return results, x_hat


def _write_figures(stage, model, history, x_test, y_test, x_hat, seed, *, has_prior):
    from keras_ae import plots

    def save(name, fig):
        fig.savefig(os.path.join(stage, name))
        figures.append(name)

    figures = []
    save("loss.png", plots.plot_history(history))
    save("reconstructions.png", plots.plot_reconstructions(x_test[: len(x_hat)], x_hat, n=10))
    codes = model.predict_codes(x_test, batch_size=256)
    save("codes.png", plots.plot_codes(codes, y_test))
    if has_prior:
        decoder = model.get_layer("decoder")
        latent_dim = codes.shape[-1]
        # A model with a prior of its own (a mixture, for an AAE) samples it.
        z = model.sample_prior(25, seed=seed) if hasattr(model, "sample_prior") else None
        save("samples.png", plots.plot_samples(decoder, latent_dim, n=25, seed=seed, z=z))
        save("manifold.png", plots.plot_manifold(decoder, n=15, codes=codes, seed=seed))
    return tuple(figures)


def _model_spec(model, path):
    """The registry's spec of a loaded model, from the options it was built with."""
    from keras_ae._registry import get_spec, list_models

    name = (getattr(model, "options", None) or {}).get("model")
    if name not in list_models():
        raise invalid("DIR", "a run directory whose model.keras was built by keras_ae "
                      "(its options name a registered model)", path)
    return get_spec(name)


def _summary_line(record, train_time):
    parts = [f"test reconstruction error {record['reconstruction_error']:.4g}"]
    if record.get("reconstruction_n", record.get("n_test")) != record.get("n_test"):
        parts[0] += f" (first {record['reconstruction_n']} examples: an autoregressive decoder)"
    if "test_accuracy" in record:
        parts.append(f"test accuracy {record['test_accuracy']:.4g} ({record['labels_per_class']} labels per class)")
    if "cluster_accuracy" in record:
        parts.append(f"test clustering accuracy {record['cluster_accuracy']:.4g}, NMI {record['cluster_nmi']:.4g}")
    if "elbo" in record:
        parts.append(f"ELBO {record['elbo']:.4g} nats")
        parts.append(f"IWAE NLL {record['iwae_nll']:.4g} nats "
                     f"(k={record['iwae_k']}, {record['iwae_n']} examples)")
    epochs = f"{record['epochs']} epochs"
    if "refinement_epochs" in record:
        epochs += f" of pretraining and {record['refinement_epochs']} of refinement"
    return (f"Trained {record['model']} on {record['dataset']} ({record['n_train']} examples, "
            f"{epochs}) in {train_time:.1f} s: " + ", ".join(parts) + ".")


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

    _load_tensorflow()
    import keras_ae

    model = keras_ae.load_model(model_path, compile=False)  # safe mode
    spec = _model_spec(model, args.dir)
    input_shape = tuple(model.inputs[0].shape[1:])
    (_, _), (x_test, y_test) = _load_data(dataset, len(input_shape), limit, record.get("data_seed", DATA_SEED))
    if x_test.shape[1:] != input_shape:
        raise invalid("dataset", f"a dataset of the model's input shape {input_shape}",
                      dataset, f"Its examples have the shape {x_test.shape[1:]}")
    check_array("x_test", x_test, finite=True, unit_interval=model.likelihood == "bernoulli")
    results, _ = _test_metrics(model, x_test, y_test, has_prior=spec.has_prior, seed=seed, iwae_k=iwae_k,
                               iwae_examples=iwae_examples)
    print(json.dumps({"dataset": dataset, "limit": limit, **results}, indent=2))
    return 0
