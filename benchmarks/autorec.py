"""AutoRec on MovieLens: RMSE of I-AutoRec and U-AutoRec against three baselines.

Sedhain, Menon, Sanner & Xie, "AutoRec: Autoencoders Meet Collaborative
Filtering", WWW 2015, Table 1: test RMSE on MovieLens 1M with a random 90/10
split, hidden layer of 500 sigmoid units, identity output. Published on
ML-1M: I-AutoRec 0.831, U-AutoRec 0.874, biased matrix factorisation 0.845.

Measured in one run, on the five official folds ``u1``..``u5`` of ML-100K
(80/20 each, disjoint test sets) and, where ``ml-1m.zip`` is in the cache,
on ML-1M's seeded 90/10 split (``load_movielens("ml-1m", fold="random")``):

* the global mean of the training ratings;
* item means (an item's mean training rating; the global mean for an item
  without one);
* biased matrix factorisation: scikit-surprise's ``SVD`` (``biased=True``,
  Funk's SGD with user and item biases);
* U-AutoRec and I-AutoRec: ``keras_ae.build("autorec", based="user"|"item")``,
  500 sigmoid hidden units, trained with Adam on the observed ratings only.

Tuning never sees a test fold: on each training fold a seeded random
``--validation-fraction`` of its ratings is held out as a validation split;
AutoRec's ``weight_decay`` (from ``--weight-decays``) and its number of epochs
(the epoch of lowest validation RMSE, up to ``--epochs``; a run stops
``--patience`` epochs after its best), and SVD's
``lr_all``, ``reg_all`` and ``n_epochs`` (``--svd-lrs`` x ``--svd-regs`` x ``--svd-epochs``) are
those of the lowest validation RMSE; the chosen setting is then trained on
the whole training fold and scored once on its test fold. A user or item
without a training rating gets 3 stars from AutoRec (as in the paper), the
global mean from the mean baselines, and SVD's estimate without its factors.

Usage::

    python benchmarks/autorec.py                 # full run (~7 min on 2 cores)
    python benchmarks/autorec.py --smoke --out /tmp/autorec.md
    python benchmarks/autorec.py --report-from benchmarks/results/autorec.json

Reads ``$KERAS_HOME/datasets/movielens/ml-100k.zip`` (and ``ml-1m.zip`` if
present; its absence is reported on the page, not an error). The tables are
printed and written as Markdown to ``--out``
(``benchmarks/results/autorec.md``), the raw results as JSON next to it.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402
from pathlib import Path  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
import scipy.sparse  # noqa: E402
from surprise import SVD, Trainset  # noqa: E402

import keras_ae  # noqa: E402
from keras_ae import data  # noqa: E402

from _common import machine_line, markdown_table, report_main  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "autorec.md"
FOLDS = ("u1", "u2", "u3", "u4", "u5")
SMOKE_FOLDS = ("u1", "u2")
METHODS = {
    "global_mean": "Global mean",
    "item_means": "Item means",
    "biased_mf": "Biased MF (Surprise `SVD`)",
    "u_autorec": "U-AutoRec",
    "i_autorec": "I-AutoRec",
}
# Test RMSE on ML-1M (random 90/10), Sedhain et al. (2015), Table 1.
PUBLISHED_1M = {"biased_mf": 0.845, "u_autorec": 0.874, "i_autorec": 0.831}
DEFAULT_RATING = 3.0  # AutoRec's prediction for a user or item without a training rating, as in the paper


def _floats(text):
    return tuple(float(v) for v in text.split(","))


def _ints(text):
    return tuple(int(v) for v in text.split(","))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=60,
                        help="epochs of each AutoRec tuning run (the refit trains the best epoch count)")
    parser.add_argument("--patience", type=int, default=8,
                        help="a tuning run stops this many epochs after its best validation RMSE")
    parser.add_argument("--batch-size", type=int, default=256, help="AutoRec rows per batch")
    parser.add_argument("--learning-rate", type=float, default=3e-3, help="AutoRec's Adam learning rate")
    parser.add_argument("--latent-dim", type=int, default=500, help="AutoRec's hidden units")
    parser.add_argument("--weight-decays", type=_floats, default=(0.03, 0.1, 0.3),
                        help="AutoRec's weight_decay grid, comma-separated")
    parser.add_argument("--svd-factors", type=int, default=100)
    parser.add_argument("--svd-lrs", type=_floats, default=(0.005, 0.01), help="SVD's lr_all grid")
    parser.add_argument("--svd-regs", type=_floats, default=(0.05, 0.1, 0.15), help="SVD's reg_all grid")
    parser.add_argument("--svd-epochs", type=_ints, default=(50, 100), help="SVD's n_epochs grid")
    parser.add_argument("--validation-fraction", type=float, default=0.1,
                        help="share of each training fold held out to tune on")
    parser.add_argument("--folds", type=lambda s: tuple(s.split(",")), default=FOLDS,
                        help="ML-100K folds, comma-separated")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true",
                        help=f"quick check: folds {','.join(SMOKE_FOLDS)}, 2 epochs, two weight decays, "
                             "one SVD setting")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="Markdown file to write")
    parser.add_argument("--report-from", type=Path, default=None,
                        help="write the page from this JSON of raw results, without training")
    args = parser.parse_args(argv)
    if args.smoke:
        args.folds = tuple(f for f in args.folds if f in SMOKE_FOLDS) or SMOKE_FOLDS
        args.epochs = min(args.epochs, 2)
        args.weight_decays = args.weight_decays[:2]
        args.svd_lrs, args.svd_regs = args.svd_lrs[:1], args.svd_regs[:1]
        args.svd_epochs = (min(args.svd_epochs[0], 5),)
    for name in ("epochs", "patience", "batch_size", "latent_dim", "svd_factors"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be a positive integer")
    if not all(f in FOLDS for f in args.folds) or len(set(args.folds)) != len(args.folds):
        parser.error(f"--folds must be distinct folds among {','.join(FOLDS)}")
    if not 0 < args.validation_fraction < 1:
        parser.error("--validation-fraction must be in (0, 1)")
    if min(args.weight_decays) < 0 or min(args.svd_regs) < 0 or min(args.svd_epochs) < 1 or min(args.svd_lrs) <= 0:
        parser.error("--weight-decays and --svd-regs must be non-negative, --svd-epochs and --svd-lrs positive")
    return args


# ----------------------------------------------------------------------
# Splits and scores


def carve(train, fraction, seed):
    """Splits the ratings of ``train`` at random: ``(rest, validation)``, ``round(fraction * nnz)`` held out."""
    coo = train.tocoo()
    held = np.zeros(coo.nnz, dtype=bool)
    held[np.random.default_rng(seed).permutation(coo.nnz)[:int(round(fraction * coo.nnz))]] = True

    def part(keep):
        matrix = scipy.sparse.csr_matrix((coo.data[keep], (coo.row[keep], coo.col[keep])), shape=train.shape)
        matrix.sort_indices()
        return matrix

    return part(~held), part(held)


def rmse(predictions, test):
    return float(np.sqrt(np.mean((np.asarray(predictions, dtype=float) - test.tocoo().data) ** 2)))


def global_mean(train, test):
    return rmse(np.full(test.nnz, train.data.mean(dtype=float)), test)


def item_means(train, test):
    mean = train.data.mean(dtype=float)
    counts = np.bincount(train.indices, minlength=train.shape[1])
    sums = np.bincount(train.indices, weights=train.data.astype(float), minlength=train.shape[1])
    means = np.where(counts > 0, sums / np.maximum(counts, 1), mean)
    return rmse(means[test.tocoo().col], test)


# ----------------------------------------------------------------------
# Biased matrix factorisation (scikit-surprise)


def surprise_trainset(train):
    """A ``surprise.Trainset`` of a sparse ratings matrix (raw ids: the row and column indices)."""
    coo = train.tocoo()
    users, items = np.unique(coo.row), np.unique(coo.col)
    user_id = {int(u): k for k, u in enumerate(users)}
    item_id = {int(i): k for k, i in enumerate(items)}
    ur, ir = defaultdict(list), defaultdict(list)
    for u, i, r in zip(coo.row.tolist(), coo.col.tolist(), coo.data.astype(float).tolist()):
        ur[user_id[u]].append((item_id[i], r))
        ir[item_id[i]].append((user_id[u], r))
    return Trainset(ur, ir, len(users), len(items), coo.nnz, (1, 5), user_id, item_id)


def svd_rmse(train, test, lr, reg, n_epochs, args, seed):
    """Fits Surprise's biased ``SVD`` on ``train``; returns ``(test RMSE, fit seconds)``."""
    algo = SVD(n_factors=args.svd_factors, n_epochs=n_epochs, biased=True, lr_all=lr, reg_all=reg,
               random_state=seed)
    trainset = surprise_trainset(train)
    start = time.perf_counter()
    algo.fit(trainset)
    seconds = time.perf_counter() - start
    coo = test.tocoo()
    predictions = [algo.predict(u, i).est for u, i in zip(coo.row.tolist(), coo.col.tolist())]
    return rmse(predictions, test), seconds


def biased_mf(train, test, args, seed):
    rest, validation = carve(train, args.validation_fraction, seed)
    start = time.perf_counter()
    grid = {(lr, reg, n): svd_rmse(rest, validation, lr, reg, n, args, seed)[0]
            for lr in args.svd_lrs for reg in args.svd_regs for n in args.svd_epochs}
    tuning = time.perf_counter() - start
    lr, reg, n_epochs = min(grid, key=grid.get)
    score, seconds = svd_rmse(train, test, lr, reg, n_epochs, args, seed)
    return {"rmse": score, "seconds": seconds, "tuning_seconds": tuning, "lr_all": lr, "reg_all": reg,
            "n_epochs": n_epochs, "validation_rmse": grid[lr, reg, n_epochs],
            "validation": [{"lr_all": a, "reg_all": r, "n_epochs": n, "rmse": v} for (a, r, n), v in grid.items()]}


# ----------------------------------------------------------------------
# AutoRec


class ValidationRMSE(keras.callbacks.Callback):
    """Records ``model.rmse(train, validation)`` after every epoch; stops ``patience`` epochs after the best."""

    def __init__(self, train, validation, patience):
        super().__init__()
        self.train, self.validation, self.patience, self.history = train, validation, patience, []

    def on_epoch_end(self, epoch, logs=None):
        self.history.append(self.model.rmse(self.train, self.validation))
        if len(self.history) - 1 - int(np.argmin(self.history)) >= self.patience:
            self.model.stop_training = True


def build_autorec(train, based, weight_decay, args, seed):
    keras.utils.set_random_seed(seed)
    n_inputs = train.shape[0] if based == "item" else train.shape[1]
    return keras_ae.build("autorec", input_shape=(n_inputs,), latent_dim=args.latent_dim, based=based,
                          weight_decay=weight_decay, learning_rate=args.learning_rate,
                          default_rating=DEFAULT_RATING)


def autorec(train, test, based, args, seed):
    """Tunes weight decay and epochs on a validation split of ``train``, refits on ``train``, scores ``test``."""
    rest, validation = carve(train, args.validation_fraction, seed)
    start = time.perf_counter()
    curves = {}
    for weight_decay in args.weight_decays:
        model = build_autorec(rest, based, weight_decay, args, seed)
        tracker = ValidationRMSE(rest, validation, args.patience)
        model.fit(rest, epochs=args.epochs, batch_size=args.batch_size, seed=seed, callbacks=[tracker], verbose=0)
        curves[weight_decay] = tracker.history
    tuning = time.perf_counter() - start
    weight_decay, epochs = min(((wd, e + 1) for wd, curve in curves.items() for e in range(len(curve))),
                               key=lambda pair: curves[pair[0]][pair[1] - 1])
    model = build_autorec(train, based, weight_decay, args, seed)
    start = time.perf_counter()
    model.fit(train, epochs=epochs, batch_size=args.batch_size, seed=seed, verbose=0)
    seconds = time.perf_counter() - start
    return {"rmse": model.rmse(train, test), "seconds": seconds, "tuning_seconds": tuning,
            "weight_decay": weight_decay, "epochs": epochs, "validation_rmse": curves[weight_decay][epochs - 1],
            "validation": [{"weight_decay": wd, "curve": [round(v, 5) for v in curve]}
                           for wd, curve in curves.items()]}


def evaluate_split(name, train, test, args, seed):
    """All five methods on one (train, test) split."""
    row = {"split": name, "n_train": int(train.nnz), "n_test": int(test.nnz)}
    for key, method in (("global_mean", global_mean), ("item_means", item_means)):
        start = time.perf_counter()
        row[key] = {"rmse": method(train, test)}
        row[key]["seconds"] = time.perf_counter() - start
    row["biased_mf"] = biased_mf(train, test, args, seed)
    row["u_autorec"] = autorec(train, test, "user", args, seed)
    row["i_autorec"] = autorec(train, test, "item", args, seed)
    print(f"{name}: " + "  ".join(f"{METHODS[k].split(' (')[0]} {row[k]['rmse']:.4f}" for k in METHODS)
          + f"  (MF reg {row['biased_mf']['reg_all']}, {row['biased_mf']['n_epochs']} epochs; "
          f"U wd {row['u_autorec']['weight_decay']}, {row['u_autorec']['epochs']} epochs; "
          f"I wd {row['i_autorec']['weight_decay']}, {row['i_autorec']['epochs']} epochs)", flush=True)
    return row


def run(args):
    t0 = time.perf_counter()
    results = {"smoke": args.smoke, "machine": machine_line(), "args": {
        k: (str(v) if isinstance(v, Path) else list(v) if isinstance(v, tuple) else v)
        for k, v in vars(args).items()}}
    results["ml100k"] = []
    for fold in args.folds:
        train, test = data.load_movielens("ml-100k", fold=fold)
        results["ml100k"].append(evaluate_split(fold, train, test, args, args.seed))
    try:
        train, test = data.load_movielens("ml-1m", fold="random", seed=args.seed)
    except FileNotFoundError:
        results["ml1m"] = None
        print("ML-1M: ml-1m.zip not in the cache, not run", flush=True)
    else:
        results["ml1m"] = evaluate_split("ml-1m", train, test, args, args.seed)
    results["total_seconds"] = time.perf_counter() - t0
    return results


# ----------------------------------------------------------------------
# The page


def _pm(values, digits=3):
    values = np.asarray(values, dtype=float)
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{values.mean():.{digits}f} ± {values.std(ddof=1):.{digits}f}"


def _mean(rows, key, field):
    return float(np.mean([r[key][field] for r in rows]))


def report(results):
    """The Markdown blocks of the page of the raw ``results``."""
    folds = results["ml100k"]
    ml1m = results["ml1m"]
    a = results["args"]
    names = [r["split"] for r in folds]
    rows = []
    for key, label in METHODS.items():
        tuning = f"{_mean(folds, key, 'tuning_seconds'):.1f}" if "tuning_seconds" in folds[0][key] else "-"
        cells = [label, _pm([r[key]["rmse"] for r in folds]), f"{_mean(folds, key, 'seconds'):.1f}", tuning]
        if ml1m is None:
            cells += ["not run (no data)", "-"]
        else:
            cells += [f"{ml1m[key]['rmse']:.3f}", f"{ml1m[key]['seconds']:.1f}"]
        cells.append(f"{PUBLISHED_1M[key]:.3f}" if key in PUBLISHED_1M else "-")
        rows.append(cells)
    main = markdown_table(rows, ["Method", f"ML-100K RMSE ({names[0]}-{names[-1]}, mean ± sd)",
                                 "ML-100K train s / fold", "ML-100K tuning s / fold", "ML-1M RMSE (90/10)",
                                 "ML-1M train s", "Published ML-1M RMSE"])
    per_fold = markdown_table([[label] + [f"{r[key]['rmse']:.4f}" for r in folds] for key, label in METHODS.items()],
                              ["Method"] + names)
    splits = folds + ([ml1m] if ml1m is not None else [])
    chosen = markdown_table(
        [[r["split"], f"{r['n_train']:,} / {r['n_test']:,}",
          f"lr_all {r['biased_mf']['lr_all']:g}, reg_all {r['biased_mf']['reg_all']:g}, "
          f"{r['biased_mf']['n_epochs']} epochs (val. {r['biased_mf']['validation_rmse']:.4f})",
          f"weight_decay {r['u_autorec']['weight_decay']:g}, {r['u_autorec']['epochs']} epochs "
          f"(val. {r['u_autorec']['validation_rmse']:.4f})",
          f"weight_decay {r['i_autorec']['weight_decay']:g}, {r['i_autorec']['epochs']} epochs "
          f"(val. {r['i_autorec']['validation_rmse']:.4f})"] for r in splits],
        ["Split", "Train / test ratings", "Biased MF", "U-AutoRec", "I-AutoRec"])

    i_mean = np.mean([r["i_autorec"]["rmse"] for r in folds])
    mf_mean = np.mean([r["biased_mf"]["rmse"] for r in folds])
    wins = sum(r["i_autorec"]["rmse"] < r["biased_mf"]["rmse"] for r in folds)
    targets = [
        f"- ML-100K: I-AutoRec {i_mean:.4f} against biased MF {mf_mean:.4f} (mean over {len(folds)} folds; "
        f"I-AutoRec lower on {wins} of {len(folds)}): target (I-AutoRec beats biased MF) "
        f"**{'met' if i_mean < mf_mean else 'missed'}**."
    ]
    if ml1m is None:
        targets.append(
            "- ML-1M: **not run**: the archive `ml-1m.zip` was not in `$KERAS_HOME/datasets/movielens/` on this "
            "machine (no network; GroupLens forbids redistribution). The targets on ML-1M (I-AutoRec beats "
            "biased MF, and ≤ 0.831) are **not checked**; run `load_movielens(\"ml-1m\", download=True)` once, "
            "then this script, to check them."
        )
    else:
        i1, mf1 = ml1m["i_autorec"]["rmse"], ml1m["biased_mf"]["rmse"]
        targets.append(
            f"- ML-1M: I-AutoRec {i1:.4f} against biased MF {mf1:.4f}: "
            f"**{'met' if i1 < mf1 else 'missed'}**; against the published 0.831: "
            f"**{'met' if i1 <= 0.831 else 'missed'}**."
        )
    budget = [
        f"- AutoRec: {a['latent_dim']} sigmoid hidden units, identity output, masked squared error + "
        f"weight_decay x (‖W‖² + ‖V‖²)/2 per batch (the paper's λ = weight_decay x rows), Adam at learning "
        f"rate {a['learning_rate']:g}, batches of {a['batch_size']} rows; tuning: weight_decay in "
        f"{{{', '.join(f'{w:g}' for w in a['weight_decays'])}}}, each trained for up to {a['epochs']} epochs "
        f"(stopped {a['patience']} epochs after its best) on "
        f"{1 - a['validation_fraction']:.0%} of the training fold, scored every epoch on the other "
        f"{a['validation_fraction']:.0%}; the best (weight_decay, epochs) is retrained on the whole fold. "
        f"Unseen users or items get {DEFAULT_RATING:g} stars; predictions are clipped to [1, 5].",
        f"- Biased MF: `surprise.SVD(n_factors={a['svd_factors']}, biased=True, init_std_dev=0.1)` (SGD on "
        f"the squared error with user and item biases), lr_all in {{{', '.join(f'{r:g}' for r in a['svd_lrs'])}}}"
        f" x reg_all in {{{', '.join(f'{r:g}' for r in a['svd_regs'])}}} x n_epochs in "
        f"{{{', '.join(str(n) for n in a['svd_epochs'])}}}, chosen on the same validation split.",
        "- Train s: the final fit on the whole training fold (data preparation excluded); tuning s: all the "
        "tuning fits of that method on that fold, with their validation scoring.",
        f"- Seed {a['seed']} (weights, shuffles, validation split, SVD); whole run "
        f"{results['total_seconds'] / 60:.1f} min.",
    ]
    blocks = [
        results["machine"],
        (f"**Smoke run** ({a['epochs']} epochs, folds {', '.join(names)}, on the data in the cache): the numbers "
         "check the script, not the methods." if results["smoke"] else "Full run."),
        "## Test RMSE (stars; lower is better)",
        main,
        "## ML-100K test RMSE per fold",
        per_fold,
        "## Settings chosen on the validation split of each training set",
        chosen,
        "## Targets",
        "\n".join(targets),
        "## Recipe and budget",
        "\n".join(budget),
    ]
    return blocks


def main(argv=None):
    report_main(argv, parse_args, run, report, "AutoRec on MovieLens: I-AutoRec and U-AutoRec against biased MF")


if __name__ == "__main__":
    main()
