"""Codes as features on MNIST: classification with few labels, and clustering.

Two uses of a learned representation, measured in one run against the same
baselines:

* **Semi-supervised classification** (Kingma, Rezende, Mohamed & Welling,
  "Semi-Supervised Learning with Deep Generative Models", NeurIPS 2014,
  Table 1): test error with 100 and 1,000 labelled training images (10 and
  100 per class, the rest unlabelled) of a linear probe (logistic
  regression) and a 1-nearest-neighbour classifier on pixels, on PCA-50, on
  the codes of an autoencoder (the one DEC pretrains) and on the posterior
  means of a VAE (their M1), and of M2 trained on the labelled and unlabelled
  images together. Published: M2 alone 11.97% at 100 labels and 3.60% at
  1,000; M1+M2 3.33% and 2.40%; a neural network on the labels alone 25.81%
  and 8.73%.
* **Clustering** (Xie, Girshick & Farhadi, "Unsupervised Deep Embedding for
  Clustering Analysis", ICML 2016, Table 2): clustering accuracy (Hungarian
  matching), NMI and ARI on all 70,000 MNIST images of k-means on pixels, on
  PCA-10, on the autoencoder's codes, and of DEC. Published: k-means on
  pixels 53.49%, DEC 84.30%.

Every label subset is drawn by ``keras_ae.evaluation.labelled_subset``;
errors of the probes are the mean +- standard deviation over ``--label-seeds``
subsets; k-means scores the mean +- standard deviation over
``--kmeans-seeds`` single-start runs. For the probes, the autoencoder (DEC's
``d-500-500-2000-10``, pretraining only) and the VAE are trained on the 60,000
training images without labels. For clustering, as in the paper, DEC's
autoencoder is pretrained on all 70,000 images and refines its clusters on them,
without labels; k-means on its codes is DEC's starting point.

Usage::

    python benchmarks/representations.py                 # full run (~40 min, 2 cores)
    python benchmarks/representations.py --smoke --out /tmp/representations.md
    python benchmarks/representations.py --report-from benchmarks/results/representations.json

The tables are printed and written as Markdown to ``--out``
(``benchmarks/results/representations.md``), the raw results as JSON next
to it.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402

import keras_ae  # noqa: E402
from keras_ae import data, evaluation  # noqa: E402

from _common import machine_line, markdown_table, report_main  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "representations.md"
N_CLASSES = 10
LABEL_COUNTS = (100, 1000)
# Test error (%), Kingma et al. (2014), Table 1.
PUBLISHED_ERROR = {
    100: {"nn": 25.81, "m2": 11.97, "m1m2": 3.33},
    1000: {"nn": 8.73, "m2": 3.60, "m1m2": 2.40},
}
# Clustering accuracy (%) on MNIST, Xie et al. (2016), Table 2.
PUBLISHED_ACC = {"kmeans_pixels": 53.49, "dec": 84.30}
TARGETS = {"dec_acc": 84.3, "m2_error_100": 10.0}
SMOKE_TRAIN, SMOKE_TEST = 2000, 500


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ae-epochs", type=int, default=16, help="pretraining epochs of DEC's autoencoder")
    parser.add_argument("--vae-epochs", type=int, default=16, help="training epochs of the VAE (M1)")
    parser.add_argument("--m2-epochs", type=int, default=24, help="training epochs of M2, per label count")
    parser.add_argument("--stacked-m2-epochs", type=int, default=20,
                        help="training epochs of M2 on the autoencoder's codes, per label count")
    parser.add_argument("--m2-learning-rate", type=float, default=3e-3)
    parser.add_argument("--m2-alpha", type=float, default=50.0)
    parser.add_argument("--m2-batch-size", type=int, default=200)
    parser.add_argument("--m2-labelled-per-batch", type=int, default=20)
    parser.add_argument("--refine-seconds", type=float, default=180.0,
                        help="wall-time cap of DEC's refinement (it also stops when assignments settle)")
    parser.add_argument("--label-seeds", type=int, default=3, help="label subsets per probe")
    parser.add_argument("--kmeans-seeds", type=int, default=5, help="single-start k-means runs per input")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true",
                        help=f"quick check: 1 epoch on {SMOKE_TRAIN} train / {SMOKE_TEST} test images")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="Markdown file to write")
    parser.add_argument("--report-from", type=Path, default=None,
                        help="write the page from this JSON of raw results, without training")
    args = parser.parse_args(argv)
    if args.smoke:
        args.ae_epochs = args.vae_epochs = args.m2_epochs = args.stacked_m2_epochs = 1
        args.refine_seconds = min(args.refine_seconds, 10.0)
        args.label_seeds, args.kmeans_seeds = min(args.label_seeds, 2), min(args.kmeans_seeds, 2)
    for name in ("ae_epochs", "vae_epochs", "m2_epochs", "stacked_m2_epochs", "m2_batch_size", "label_seeds",
                 "kmeans_seeds"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be a positive integer")
    if not 1 <= args.m2_labelled_per_batch < args.m2_batch_size:
        parser.error("--m2-labelled-per-batch must be an integer in [1, --m2-batch-size - 1]")
    if args.refine_seconds <= 0:
        parser.error("--refine-seconds must be positive")
    return args


class TimeLimit(keras.callbacks.Callback):
    """Stops training once ``seconds`` of wall time have passed (checked after each batch)."""

    def __init__(self, seconds):
        super().__init__()
        self.seconds = seconds
        self.stopped = False

    def on_train_begin(self, logs=None):
        self._start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        if time.perf_counter() - self._start > self.seconds:
            self.model.stop_training = self.stopped = True


def load(args):
    (x_train, y_train), (x_test, y_test) = data.load("mnist", flatten=True)
    if args.smoke:
        x_train, y_train = x_train[:SMOKE_TRAIN], y_train[:SMOKE_TRAIN]
        x_test, y_test = x_test[:SMOKE_TEST], y_test[:SMOKE_TEST]
    return x_train, y_train.astype("int64"), x_test, y_test.astype("int64")


def probe_errors(name, train, y_train, test, y_test, args):
    """Linear-probe and 1-NN test error (%) per label count, over the label subsets."""
    rows = []
    for n_labels in LABEL_COUNTS:
        per_class = n_labels // N_CLASSES
        linear, nearest = [], []
        for s in range(args.label_seeds):
            seed = args.seed + s
            linear.append(100 * (1 - evaluation.linear_probe_accuracy(
                train, y_train, test, y_test, n_per_class=per_class, seed=seed)))
            nearest.append(100 * (1 - evaluation.knn_accuracy(
                train, y_train, test, y_test, n_per_class=per_class, k=1, seed=seed)))
        rows.append({"features": name, "labels": n_labels, "linear": linear, "nearest": nearest})
        print(f"{name:>18} {n_labels:5d} labels: linear {np.mean(linear):.2f}%  1-NN {np.mean(nearest):.2f}%",
              flush=True)
    return rows


def kmeans_scores(name, codes, y, args):
    runs = [evaluation.clustering_scores(y, evaluation.kmeans_clusters(codes, N_CLASSES, seed=args.seed + s,
                                                                       n_init=1))
            for s in range(args.kmeans_seeds)]
    row = {"method": name,
           "acc": [100 * r["accuracy"] for r in runs], "nmi": [r["nmi"] for r in runs],
           "ari": [r["ari"] for r in runs]}
    print(f"{name:>18}: ACC {np.mean(row['acc']):.2f}%  NMI {np.mean(row['nmi']):.3f}", flush=True)
    return row


def train_m2(x_train, y_train, x_test, y_test, n_labels, args, *, stacked=False):
    """M2 on pixels, or (``stacked``) on standardized autoencoder codes, as Kingma et al.'s M1+M2."""
    keras.utils.set_random_seed(args.seed)
    labels = np.full(len(y_train), -1, dtype="int32")
    keep = evaluation.labelled_subset(y_train, n_labels // N_CLASSES, seed=args.seed)
    labels[keep] = y_train[keep]
    if stacked:  # codes of about unit scale, a Gaussian likelihood
        model = keras_ae.build("m2", input_shape=x_train.shape[1:], latent_dim=x_train.shape[1], hidden=(256,),
                               classifier_hidden=(256,), alpha=args.m2_alpha, likelihood="gaussian",
                               decoder_scale=0.5, learning_rate=args.m2_learning_rate, seed=args.seed)
        epochs, name = args.stacked_m2_epochs, "AE codes + M2"
    else:
        model = keras_ae.build("m2", input_shape=(784,), latent_dim=50, alpha=args.m2_alpha,
                               learning_rate=args.m2_learning_rate, seed=args.seed)
        epochs, name = args.m2_epochs, "M2"
    train = data.semi_supervised_dataset(x_train, labels, batch_size=args.m2_batch_size,
                                         labelled_per_batch=args.m2_labelled_per_batch, seed=args.seed)
    curve = []
    start = time.perf_counter()
    for _ in range(epochs):
        model.fit(train, epochs=1, shuffle=False, verbose=0)
        curve.append(100 * float(np.mean(model.predict_labels(x_test) != y_test)))
    seconds = time.perf_counter() - start  # includes the per-epoch test evaluation
    print(f"{name:>18} {n_labels:5d} labels: error {curve[-1]:.2f}% after {epochs} epochs "
          f"({seconds:.0f} s); by epoch {[round(c, 2) for c in curve]}", flush=True)
    return {"labels": n_labels, "error": curve[-1], "curve": curve, "seconds": seconds, "epochs": epochs}


def run(args):
    keras.utils.set_random_seed(args.seed)
    t0 = time.perf_counter()
    x_train, y_train, x_test, y_test = load(args)
    x_all, y_all = np.concatenate([x_train, x_test]), np.concatenate([y_train, y_test])
    results = {"smoke": args.smoke, "machine": machine_line(), "args": {
        k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}}
    seconds = {}

    # Representations, learnt without labels on the training images.
    pca50 = PCA(50, random_state=args.seed).fit(x_train)
    start = time.perf_counter()
    keras.utils.set_random_seed(args.seed)
    ae = keras_ae.build("dec", input_shape=(784,), latent_dim=10, n_clusters=N_CLASSES, seed=args.seed)
    ae.fit(x_train, epochs=args.ae_epochs, batch_size=256, verbose=0)  # DEC's autoencoder, pretraining only
    seconds["ae_pretraining"] = time.perf_counter() - start
    start = time.perf_counter()
    keras.utils.set_random_seed(args.seed)
    vae = keras_ae.build("vae", input_shape=(784,), latent_dim=50, hidden=(600, 600), activation="softplus")
    vae.fit(x_train, epochs=args.vae_epochs, batch_size=100, verbose=0)
    seconds["vae_training"] = time.perf_counter() - start

    features = {
        "pixels": (x_train, x_test),
        "PCA-50": (pca50.transform(x_train), pca50.transform(x_test)),
        "AE codes": (ae.predict_codes(x_train), ae.predict_codes(x_test)),
        "VAE (M1) codes": (vae.predict_codes(x_train), vae.predict_codes(x_test)),
    }
    results["probes"] = [row for name, (train, test) in features.items()
                         for row in probe_errors(name, train, y_train, test, y_test, args)]
    results["m2"] = [train_m2(x_train, y_train, x_test, y_test, n, args) for n in LABEL_COUNTS]
    codes_train, codes_test = features["AE codes"]
    mean, scale = codes_train.mean(axis=0), codes_train.std(axis=0) + 1e-8
    results["stacked_m2"] = [train_m2((codes_train - mean) / scale, y_train, (codes_test - mean) / scale, y_test,
                                      n, args, stacked=True) for n in LABEL_COUNTS]

    # Clustering on all 70,000 images, as Xie et al.: DEC's autoencoder pretrained on all of them
    # (without labels), then its codes clustered and refined.
    start = time.perf_counter()
    keras.utils.set_random_seed(args.seed)
    dec = keras_ae.build("dec", input_shape=(784,), latent_dim=10, n_clusters=N_CLASSES, seed=args.seed)
    dec.fit(x_all, epochs=args.ae_epochs, batch_size=256, verbose=0)
    seconds["dec_pretraining"] = time.perf_counter() - start
    pca10 = PCA(10, random_state=args.seed).fit(x_all)
    ae_codes = dec.predict_codes(x_all)
    results["clustering"] = [
        kmeans_scores("k-means on pixels", x_all, y_all, args),
        kmeans_scores("k-means on PCA-10", pca10.transform(x_all), y_all, args),
        kmeans_scores("k-means on AE codes", ae_codes, y_all, args),
    ]
    dec.initialize_clusters(x_all)  # k-means (20 restarts) on the pretrained codes: DEC's start
    start_scores = evaluation.clustering_scores(y_all, dec.predict_clusters(x_all))
    results["clustering"].append({"method": "DEC's start (k-means, 20 restarts)",
                                  "acc": [100 * start_scores["accuracy"]], "nmi": [start_scores["nmi"]],
                                  "ari": [start_scores["ari"]]})
    steps_before = int(dec.optimizer.iterations.numpy())
    start = time.perf_counter()
    limit = TimeLimit(args.refine_seconds)
    history = dec.fit_clusters(x_all, batch_size=256, callbacks=[limit], initialize=False, verbose=0)
    seconds["dec_refinement"] = time.perf_counter() - start
    scores = evaluation.clustering_scores(y_all, dec.predict_clusters(x_all))
    changes = [float(c) for c in history.changes]
    results["clustering"].append({"method": "DEC", "acc": [100 * scores["accuracy"]], "nmi": [scores["nmi"]],
                                  "ari": [scores["ari"]]})
    results["dec"] = {"steps": int(dec.optimizer.iterations.numpy()) - steps_before, "changes": changes,
                      "stopped_by_time": limit.stopped, "last_change": changes[-1] if changes else None}
    print(f"{'DEC':>18}: ACC {100 * scores['accuracy']:.2f}%  NMI {scores['nmi']:.3f}  "
          f"({seconds['dec_refinement']:.0f} s, last change {results['dec']['last_change']})", flush=True)
    seconds["total"] = time.perf_counter() - t0
    results["seconds"] = seconds
    return results


def _pm(values, digits=2):
    values = np.asarray(values, dtype=float)
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{values.mean():.{digits}f} ± {values.std(ddof=1):.{digits}f}"


def report(results):
    """The Markdown page of the raw ``results``."""
    probes = {(r["features"], r["labels"]): r for r in results["probes"]}
    m2 = {r["labels"]: r for r in results["m2"]}
    rows = []
    for name in dict.fromkeys(r["features"] for r in results["probes"]):
        cells = [name]
        for n in LABEL_COUNTS:
            cells += [_pm(probes[name, n]["linear"]), _pm(probes[name, n]["nearest"])]
        rows.append(cells)
    rows.append(["M2 (its own classifier)"] + sum(([f"{m2[n]['error']:.2f}", "-"] for n in LABEL_COUNTS), []))
    stacked = {r["labels"]: r for r in results.get("stacked_m2", [])}
    if stacked:
        rows.append(["AE codes + M2 (stacked, as M1+M2)"]
                    + sum(([f"{stacked[n]['error']:.2f}", "-"] for n in LABEL_COUNTS), []))
    for key, label in (("nn", "published: NN on the labels alone"), ("m2", "published: M2"),
                       ("m1m2", "published: M1+M2")):
        rows.append([label] + sum(([f"{PUBLISHED_ERROR[n][key]:.2f}", "-"] for n in LABEL_COUNTS), []))
    header = ["Features"] + sum(([f"{n} labels: linear probe", f"{n} labels: 1-NN"] for n in LABEL_COUNTS), [])
    classification = markdown_table(rows, header)

    clustering_rows = [[r["method"], _pm(r["acc"]), _pm(r["nmi"], 3), _pm(r["ari"], 3)]
                       for r in results["clustering"]]
    clustering_rows += [["published: k-means on pixels", f"{PUBLISHED_ACC['kmeans_pixels']:.2f}", "-", "-"],
                        ["published: DEC", f"{PUBLISHED_ACC['dec']:.2f}", "-", "-"]]
    clustering = markdown_table(clustering_rows, ["Method", "ACC (%)", "NMI", "ARI"])

    dec_acc = results["clustering"][-1]["acc"][0]
    m2_100 = m2[100]["error"]
    s = results["seconds"]
    d = results["dec"]
    a = results["args"]
    targets = (
        f"- DEC clustering accuracy {dec_acc:.2f}% against the target of ≥ {TARGETS['dec_acc']}%: "
        f"**{'met' if dec_acc >= TARGETS['dec_acc'] else 'missed'}**.\n"
        f"- M2 test error at 100 labels {m2_100:.2f}% against the target of ≤ {TARGETS['m2_error_100']}%: "
        f"**{'met' if m2_100 <= TARGETS['m2_error_100'] else 'missed'}** "
        f"(error by epoch: {', '.join(f'{c:.2f}' for c in m2[100]['curve'])})."
    )
    if stacked:
        targets += (
            f"\n- M2 stacked on the autoencoder's standardized 10-D codes (Gaussian likelihood, scale 0.5, "
            f"z of 10, hidden 256; like Kingma et al.'s M1+M2 with an autoencoder as M1): "
            f"{stacked[100]['error']:.2f}% at 100 labels after {stacked[100]['epochs']} epochs "
            f"({stacked[100]['seconds']:.0f} s), {stacked[1000]['error']:.2f}% at 1,000."
        )
    # None when the time cap came before the first check of the assignments (a slow or busy machine).
    change = "none checked" if d["last_change"] is None else f"{d['last_change']:.4f}"
    stop = (f"stopped by the {a['refine_seconds']:g} s cap" if d["stopped_by_time"]
            else "stopped when fewer than 0.1% of the assignments changed")
    budget = (
        f"- CPU budget: autoencoder {a['ae_epochs']} epochs on the 60,000 training images "
        f"({s['ae_pretraining']:.0f} s) for the probes, and again on all 70,000 images for DEC "
        f"({s['dec_pretraining']:.0f} s); "
        f"VAE {a['vae_epochs']} epochs ({s['vae_training']:.0f} s); M2 {a['m2_epochs']} epochs per label count "
        f"({m2[100]['seconds']:.0f} s and {m2[1000]['seconds']:.0f} s, batches of {a['m2_batch_size']} with "
        f"{a['m2_labelled_per_batch']} labelled, alpha {a['m2_alpha']}, learning rate {a['m2_learning_rate']}); "
        f"DEC refinement {d['steps']} steps ({s['dec_refinement']:.0f} s, {stop}, last fraction of changed "
        f"assignments {change}); whole run {s['total'] / 60:.1f} min.\n"
        f"- Probes: mean ± standard deviation over {a['label_seeds']} label subsets; k-means: over "
        f"{a['kmeans_seeds']} single-start runs."
    )
    blocks = [
        results["machine"],
        ("**Smoke run** (1 epoch on a slice of MNIST): the numbers check the script, "
         "not the methods." if results["smoke"] else "Full run."),
        "## Classification error (%) with few labels (MNIST test set)",
        classification,
        "## Clustering of the 70,000 MNIST images",
        clustering,
        "## Targets and budget",
        targets,
        budget,
    ]
    return blocks


def main(argv=None):
    report_main(argv, parse_args, run, report, "Codes as features: few labels and clustering on MNIST")


if __name__ == "__main__":
    main()
