"""Autoencoder anomaly detectors against PCA, kernel PCA, Isolation Forest and one-class SVM.

The claim tested (source 003, after Bank et al., "Autoencoders", 2020): anomaly
detection in spacecraft telemetry with autoencoders beats PCA and kernel PCA.
Every detector sees the same splits and the same scaling, in one run:

* ``AE``: ``keras_ae.anomaly.AutoencoderDetector`` with a ``dense`` model
  (``conv1d`` on telemetry and NAB windows), reconstruction error;
* ``VAE``: the same with a ``vae`` and the IWAE estimate of ``-log p(x)``;
* ``PCA``: ``sklearn.decomposition.PCA`` reconstruction error, as many
  components as the AE's code;
* ``KPCA``: ``sklearn.decomposition.KernelPCA`` (RBF, same number of
  components, ``fit_inverse_transform=True``) reconstruction error in input
  space, fitted on at most ``--kpca-fit`` training examples (its memory is
  quadratic in them);
* ``IForest``: ``sklearn.ensemble.IsolationForest`` (200 trees);
* ``OCSVM``: ``sklearn.svm.OneClassSVM`` (RBF, ``gamma="scale"``), fitted
  on at most ``--ocsvm-fit`` training examples.

Protocols:

* ODDS (cardio, satellite, shuttle): a stratified 60/40 split, as in PyOD's
  benchmark; two protocols on the same split: "contaminated" fits on the
  whole training part, anomalies included (unsupervised, PyOD's protocol),
  "clean" fits on its normal examples only (semi-supervised novelty
  detection). Features are standardized on the data fitted on; the F1
  threshold uses the training anomaly rate as contamination.
* MNIST and Fashion-MNIST novelty: one class normal, trained on that
  class's training images only, tested on the whole test set (90% anomalies);
  pixels in [0, 1]; contamination 0.05 for the F1 threshold.
* NASA SMAP/MSL telemetry (Hundman et al., KDD 2018): per channel, fitted on
  the training series, scored on the test series; the telemetry value
  (column 0; ``--telemanom-columns all`` adds the one-hot command flags)
  standardized on the training series; windows of ``--window`` steps; a step's score is
  the mean score of its windows (for every detector); contamination 0.01 of
  the training steps for F1. F1 is reported plain (point-wise) and with the
  literature's point adjustment (``keras_ae.anomaly.point_adjust``, which
  counts a whole labelled segment as found when one of its steps is).
* NAB: fitted on ``art_daily_small_noise``, scored on ``art_daily_jumpsup``
  (the keras.io example), windows of 288 steps, NAB's labelled window.

Metrics on the test data: ROC-AUC, average precision (AP) and F1 at the
contamination threshold set on the training scores.

Run: ``python benchmarks/anomaly.py`` (full) or ``--smoke`` (a few seconds
per part: one ODDS set, one class, two channels). Needs the datasets in the
Keras cache (see ``data/README.md``); a missing set is reported and skipped.
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.decomposition import PCA, KernelPCA  # noqa: E402
from sklearn.ensemble import IsolationForest  # noqa: E402
from sklearn.metrics import average_precision_score, f1_score, roc_auc_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.svm import OneClassSVM  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))

from keras_ae import anomaly, data  # noqa: E402

from _common import machine_line, markdown_table, write_results  # noqa: E402

DETECTORS = ("AE", "VAE", "PCA", "KPCA", "IForest", "OCSVM")


# ---------------------------------------------------------------------------
# Detectors: each returns anomaly scores (higher = more anomalous) of train and test


def _reconstruction(model, x):
    return np.sum(np.square(x - model.inverse_transform(model.transform(x))), axis=1)


def _subset(x, n, seed):
    if len(x) <= n:
        return x
    return x[np.random.default_rng(seed).choice(len(x), n, replace=False)]


def score(name, x_train, x_test, *, latent, hidden, args, seed, ae_model="dense", ae_options=None):
    """Fits detector ``name`` on ``x_train``; returns anomaly scores of train and test.

    The VAE and the scikit-learn detectors see flattened examples; the AE
    sees them as given (windows for ``conv1d``).
    """
    flat_train, flat_test = x_train.reshape(len(x_train), -1), x_test.reshape(len(x_test), -1)
    if name in ("AE", "VAE"):
        if name == "AE":
            model, options, score_name = ae_model, {"latent_dim": latent, **(ae_options or {})}, "reconstruction_error"
        else:
            model, options, score_name = "vae", {"latent_dim": latent, "hidden": hidden}, "iwae"
            x_train, x_test = flat_train, flat_test
        detector = anomaly.AutoencoderDetector(
            model, options, anomaly_score=score_name, epochs=args.epochs, batch_size=args.batch_size,
            patience=args.patience, samples=16, seed=seed,
        ).fit(x_train)
        return detector.decision_scores_, detector.anomaly_scores(x_test)
    if name == "PCA":
        pca = PCA(latent, random_state=seed).fit(flat_train)
        return _reconstruction(pca, flat_train), _reconstruction(pca, flat_test)
    if name == "KPCA":
        kpca = KernelPCA(latent, kernel="rbf", fit_inverse_transform=True, eigen_solver="dense")
        kpca.fit(_subset(flat_train, args.kpca_fit, seed))
        return _reconstruction(kpca, flat_train), _reconstruction(kpca, flat_test)
    if name == "IForest":
        forest = IsolationForest(n_estimators=200, random_state=seed).fit(flat_train)
        return -forest.score_samples(flat_train), -forest.score_samples(flat_test)
    svm = OneClassSVM(gamma="scale").fit(_subset(flat_train, args.ocsvm_fit, seed))
    return -svm.score_samples(flat_train), -svm.score_samples(flat_test)


FAILURES = []


def safe_score(det, label, *args, **kwargs):
    """``score(...)``, or ``None`` when the detector fails on this data (recorded in ``FAILURES``)."""
    try:
        return score(det, *args, **kwargs)
    except Exception as error:  # noqa: BLE001 - reported in the results, never hidden
        FAILURES.append(f"{det} on {label}: {type(error).__name__}: {str(error).splitlines()[0][:160]}")
        print(f"  {label:<16} {det:<8} FAILED: {FAILURES[-1]}", flush=True)
        return None


def evaluate(y_test, scores, contamination, adjust=False):
    """ROC-AUC, AP and F1 (and point-adjusted F1) at the contamination threshold; NaN for a failure."""
    keys = ("roc_auc", "ap", "f1", "pa_f1") if adjust else ("roc_auc", "ap", "f1")
    if scores is None:
        return dict.fromkeys(keys, float("nan"))
    train_scores, test_scores = scores
    flagged = test_scores > anomaly.threshold(train_scores, contamination=contamination)
    out = {
        "roc_auc": roc_auc_score(y_test, test_scores),
        "ap": average_precision_score(y_test, test_scores),
        "f1": f1_score(y_test, flagged, zero_division=0),
    }
    if adjust:
        out["pa_f1"] = f1_score(y_test, anomaly.point_adjust(y_test, flagged), zero_division=0)
    return out


# ---------------------------------------------------------------------------
# Datasets


def run_odds(args, names):
    rows = []
    for name in names:
        x, y = data.load_odds(name)
        for seed in args.odds_seeds:
            x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.4, stratify=y, random_state=seed)
            contamination = float(y_train.mean())
            latent = max(2, x.shape[1] // 4)
            for protocol in args.odds_protocols:
                fit_on = x_train if protocol == "contaminated" else x_train[y_train == 0]
                scaler = StandardScaler().fit(fit_on)
                for det in args.detectors:
                    start = time.perf_counter()
                    keras.utils.set_random_seed(seed)
                    scores = safe_score(det, name, scaler.transform(fit_on), scaler.transform(x_test),
                                        latent=latent, hidden=(64,), args=args, seed=seed,
                                        ae_options={"hidden": (64,)})
                    m = evaluate(y_test, scores, contamination)
                    rows.append({"set": f"{name} ({protocol})", "seed": seed, "detector": det,
                                 "seconds": time.perf_counter() - start, **m})
                    _log(rows[-1])
    return rows


def run_novelty(args, name, classes):
    rows = []
    for cls in classes:
        x_train, (x_test, y_test) = data.load_novelty(name, cls, flatten=True, limit=args.image_limit, seed=0)
        for seed in args.seeds:
            for det in args.detectors:
                start = time.perf_counter()
                keras.utils.set_random_seed(seed)
                scores = safe_score(det, f"{name} {cls}", x_train, x_test, latent=16, hidden=(256, 64),
                                    args=args, seed=seed, ae_options={"hidden": (256, 64)})
                m = evaluate(y_test, scores, 0.05)
                rows.append({"set": f"{name} {cls}", "seed": seed, "detector": det,
                             "seconds": time.perf_counter() - start, **m})
                _log(rows[-1])
    return rows


def run_series(args, label, x_train, x_test, y_test, window, conv_filters, contamination):
    """One series: every detector on the same standardized windows, step scores by the mean."""
    scaler = StandardScaler().fit(x_train)
    x_train, x_test = scaler.transform(x_train), scaler.transform(x_test)
    w_train, s_train = anomaly.sliding_windows(x_train, window, args.stride)
    w_test, s_test = anomaly.sliding_windows(x_test, window, 1)
    features = x_train.shape[1]
    latent = 8
    rows = []
    for seed in args.seeds:
        for det in args.detectors:
            start = time.perf_counter()
            keras.utils.set_random_seed(seed)
            scores = safe_score(det, label, w_train, w_test, latent=latent, hidden=(64,), args=args, seed=seed,
                                ae_model="conv1d", ae_options={"filters": conv_filters})
            if scores is not None:
                scores = (anomaly.step_scores(scores[0], s_train, window, len(x_train)),
                          anomaly.step_scores(scores[1], s_test, window, len(x_test)))
            m = evaluate(y_test, scores, contamination, adjust=True)
            rows.append({"set": label, "seed": seed, "detector": det, "features": features,
                         "seconds": time.perf_counter() - start, **m})
            _log(rows[-1])
    return rows


def run_telemanom(args, channels):
    rows = []
    for channel in channels:
        x_train, x_test, y_test = data.load_telemanom(channel)
        if args.telemanom_columns == "value":
            x_train, x_test = x_train[:, :1], x_test[:, :1]
        rows += run_series(args, channel, x_train, x_test, y_test, args.window, (16, 16), 0.01)
    return rows


def run_nab(args):
    _, normal, _ = data.load_nab("art_daily_small_noise")
    _, values, labels = data.load_nab("art_daily_jumpsup")
    return run_series(args, "NAB jumpsup", normal[:, None], values[:, None], labels, 288, (32, 16), 0.01)


def _log(row):
    extra = f" pa-F1 {row['pa_f1']:.3f}" if "pa_f1" in row else ""
    print(f"  {row['set']:<16} seed {row['seed']} {row['detector']:<8} ROC-AUC {row['roc_auc']:.3f} "
          f"AP {row['ap']:.3f} F1 {row['f1']:.3f}{extra} ({row['seconds']:.1f} s)", flush=True)


# ---------------------------------------------------------------------------
# Tables


def _mean(rows, key):
    values = [r[key] for r in rows if not np.isnan(r[key])]
    return float(np.mean(values)) if values else float("nan")


def complete(rows):
    """The rows of the sets (or channels) on which every detector produced scores."""
    failed = {r["set"] for r in rows if np.isnan(r["roc_auc"])}
    return [r for r in rows if r["set"] not in failed]


def compact(rows, key, by="set"):
    """Mean of ``key`` per group (set, or spacecraft over its channels) and detector; best in bold."""
    detectors = [d for d in DETECTORS if any(r["detector"] == d for r in rows)]
    groups = list(dict.fromkeys(r[by] for r in rows))
    lines = []
    for group in groups:
        values = {d: _mean([r for r in rows if r[by] == group and r["detector"] == d], key) for d in detectors}
        best = max(values.values())
        lines.append([group] + [f"**{values[d]:.3f}**" if values[d] == best else f"{values[d]:.3f}"
                                for d in detectors])
    return markdown_table(lines, [by] + detectors)


def wins(rows, a, b, key="roc_auc", by="set"):
    """``a`` against ``b`` on ``key`` over groups (sets or channels), paired.

    Returns the counts of groups where ``a`` is higher, tied (within 0.005)
    and lower, the mean difference, and the p-value of the two-sided
    Wilcoxon signed-rank test of the paired values (``None`` below 6 groups).
    """
    from scipy.stats import wilcoxon

    groups = list(dict.fromkeys(r[by] for r in rows))
    diffs = np.array([_mean([r for r in rows if r[by] == g and r["detector"] == a], key)
                      - _mean([r for r in rows if r[by] == g and r["detector"] == b], key) for g in groups])
    tie = int(np.sum(np.abs(diffs) < 0.005))
    win, lose = int(np.sum(diffs >= 0.005)), int(np.sum(diffs <= -0.005))
    p = float(wilcoxon(diffs).pvalue) if len(diffs) >= 6 and np.any(diffs != 0) else None
    return win, tie, lose, float(diffs.mean()), p


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", nargs="+", default=["odds", "mnist", "fashion_mnist", "telemanom", "nab"])
    parser.add_argument("--detectors", nargs="+", default=list(DETECTORS), choices=DETECTORS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0], help="seeds of the image and series parts")
    parser.add_argument("--odds-seeds", nargs="+", type=int, default=[0, 1, 2],
                        help="seeds of the ODDS splits and detectors (the tables give the mean)")
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--patience", type=int, default=5)
    parser.add_argument("--odds-protocols", nargs="+", choices=("contaminated", "clean"),
                        default=["contaminated", "clean"])
    parser.add_argument("--classes", nargs="+", type=int, default=list(range(10)))
    parser.add_argument("--image-limit", type=int, default=2000, help="examples per image split")
    parser.add_argument("--channels", nargs="+", default=None, help="telemanom channels (default: all)")
    parser.add_argument("--window", type=int, default=32)
    parser.add_argument("--telemanom-columns", choices=("value", "all"), default="value",
                        help="the telemetry value (column 0) only, or also the command flags")
    parser.add_argument("--stride", type=int, default=4)
    parser.add_argument("--kpca-fit", type=int, default=2000)
    parser.add_argument("--ocsvm-fit", type=int, default=10000)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results", "anomaly.md"))
    args = parser.parse_args(argv)
    odds_sets = ["cardio", "satellite", "shuttle"]
    if args.smoke:
        args.epochs, args.classes, args.image_limit, args.kpca_fit, args.ocsvm_fit = 2, [0], 1000, 300, 1000
        odds_sets, args.odds_seeds = ["cardio"], [0]
        args.channels = args.channels or ["P-1", "M-1"]

    start = time.perf_counter()
    parts, skipped = {}, []
    for part in args.parts:
        print(f"== {part}", flush=True)
        try:
            if part == "odds":
                parts[part] = run_odds(args, odds_sets)
            elif part in ("mnist", "fashion_mnist"):
                parts[part] = run_novelty(args, part, args.classes)
            elif part == "telemanom":
                parts[part] = run_telemanom(args, args.channels or data.telemanom_channels())
            elif part == "nab":
                parts[part] = run_nab(args)
            else:
                parser.error(f"unknown part {part!r}")
        except FileNotFoundError as error:
            print(f"   skipped: {error}", flush=True)
            skipped.append(f"{part}: {str(error).splitlines()[0]}")
    total = time.perf_counter() - start

    blocks = [
        machine_line(),
        f"- Seeds: ODDS {args.odds_seeds} (split and detector; tables give the mean), other parts "
        f"{args.seeds}; epochs at most {args.epochs} (early stopping, patience {args.patience}), "
        f"batch {args.batch_size}; total time {total / 60:.1f} min; command: "
        f"`{' '.join(['python benchmarks/anomaly.py', *(argv if argv is not None else sys.argv[1:])])}`.",
        "Bold marks the best detector of a row. Protocols and detectors: see the docstring of "
        "`benchmarks/anomaly.py` and `benchmarks/README.md`.",
    ]
    if skipped:
        blocks.append("Skipped (data not in the cache): " + "; ".join(skipped))
    verdict = []
    if FAILURES:
        blocks.append("Failures (the set or channel is left out of every column of its table):\n\n"
                      + "\n".join(f"- {f}" for f in FAILURES))
    for part, rows in parts.items():
        rows = complete(rows)
        by = "spacecraft" if part == "telemanom" else "set"
        if part == "telemanom":
            spacecraft = {c: "SMAP" for c in data.telemanom_channels("SMAP")}
            for r in rows:
                r["spacecraft"] = spacecraft.get(r["set"], "MSL")
        keys = ("roc_auc", "ap", "f1", "pa_f1") if part in ("telemanom", "nab") else ("roc_auc", "ap", "f1")
        blocks.append(f"## {part}")
        for key in keys:
            name = {"roc_auc": "ROC-AUC", "ap": "average precision", "f1": "F1 at the contamination threshold",
                    "pa_f1": "point-adjusted F1 at the same threshold"}[key]
            blocks.append(f"{name}{' (mean over channels)' if part == 'telemanom' else ''}:\n\n"
                          + compact(rows, key, by=by))
        if "AE" in args.detectors:
            for other in ("PCA", "KPCA"):
                if other in args.detectors:
                    w, t, lo, mean_diff, p = wins(rows, "AE", other, by="set")
                    unit = "channels" if part == "telemanom" else "sets"
                    test = f"; Wilcoxon signed-rank p = {p:.2g}" if p is not None else ""
                    verdict.append(f"- {part}: ROC-AUC of AE vs {other}: AE higher on {w} {unit}, "
                                   f"tied (within 0.005) on {t}, lower on {lo}; mean difference "
                                   f"{mean_diff:+.3f}{test}.")
    if verdict:
        blocks.append("## Does the autoencoder beat PCA and kernel PCA?\n\n" + "\n".join(verdict))
    report = "\n\n".join(blocks)
    print("\n" + report)
    if args.out:
        raw = os.path.splitext(args.out)[0] + ".json"
        with open(raw, "w") as f:  # every row, for re-analysis
            json.dump({part: rows for part, rows in parts.items()}, f, indent=1)
        write_results(args.out, "Anomaly detection: autoencoders vs PCA, kernel PCA, Isolation Forest, OC-SVM",
                      *blocks)
    return parts


if __name__ == "__main__":
    main()
