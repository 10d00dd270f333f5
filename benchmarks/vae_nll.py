"""Test NLL of the VAE and the IWAE on dynamically binarized MNIST (Burda, Grosse & Salakhutdinov, ICLR 2016).

Burda, Grosse & Salakhutdinov, "Importance Weighted Autoencoders", ICLR 2016,
Table 1 (MNIST, one stochastic layer: 784-200-200-50, tanh hidden units, a
Bernoulli decoder, dynamically binarized training images, 3,280 passes over
the data with Adam): test negative log-likelihood, in nats, estimated with
k = 5000 importance samples. Published: VAE 86.76 (trained with k = 1),
IWAE 85.54 (k = 5) and 84.78 (k = 50); pythae's reproduction of the VAE,
89.78.

Measured in one run, with the same network, data protocol and estimator:

* ``vae`` trained on the ELBO (``iwae_samples=1``), and on the IWAE bound with
  ``iwae_samples=5`` and ``50`` (:class:`keras_ae.models.vae.ImportanceWeightedAutoencoder`);
  tanh units, Adam with the learning rate decayed by a cosine from
  ``--learning-rate`` to 0 over each row's epochs, batches of 100;
* training images: MNIST intensities, each drawn afresh as Bernoulli pixels every
  epoch (``keras_ae.data.binarized_dataset``: ``tf.data`` with a seeded stateless
  RNG); test images: one fixed Bernoulli draw (``load("binarized_mnist", seed=0)``);
* test NLL: ``-keras_ae.metrics.iwae_log_likelihood(model, x, k=--final-k)`` on
  ``--final-images`` test images (a seeded random subset; 10,000 is the whole test set),
  with its bounded memory (``--max-elements``); also the ELBO and the active units (the
  latent dimensions whose posterior mean varies over the test images by a variance
  above 0.01, Burda et al.'s criterion);
* a learning curve: the NLL with ``--curve-k`` samples on the first ``--curve-images``
  of the same subset after epochs 1, 2, 4, 8... and the last;
* ``pixelcnn_vae`` (a VAE with an autoregressive decoder), when the registry has it;
  otherwise its row says why it was not run.

Usage::

    python benchmarks/vae_nll.py                 # full run (about 65 min on 2 cores)
    python benchmarks/vae_nll.py --smoke --out /tmp/vae_nll.md
    python benchmarks/vae_nll.py --report-from benchmarks/results/vae_nll.json

Reads ``$KERAS_HOME/datasets/mnist.npz``. Prints the tables and writes them as
Markdown to ``--out`` (``benchmarks/results/vae_nll.md``), the raw results as
JSON and the learning curves as PNG next to it.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_ae  # noqa: E402
from keras_ae import data, metrics  # noqa: E402

from _common import machine_line, markdown_table, results_of, write_results  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "vae_nll.md"
TITLE = "Test NLL on dynamically binarized MNIST: VAE and IWAE (Burda et al. 2016)"
# Burda, Grosse & Salakhutdinov (2016), Table 1, MNIST, one stochastic layer, k = 5000.
PUBLISHED = {1: "86.76", 5: "85.54", 50: "84.78"}
PYTHAE_VAE = "89.78"
PUBLISHED_EPOCHS = 3280
TARGET = 86.0
ACTIVE_THRESHOLD = 1e-2

#: The reading of the full run of 2026-12-06, written after it; shown only on the page of that run
#: (recognized by its VAE NLL), so a new run never carries an old interpretation.
NOTES_RUN_VAE_NLL = "90.29"
NOTES = """\
- **The target is missed by 4.3 nats, and the cause is the budget.** The VAE reached 90.29 on the
  10,000 test images after 100 epochs (8.9 minutes of training), 3% of the paper's 3,280 epochs; 3,280
  epochs of this VAE would take about 5 hours here. Its learning curve was still falling by about 3.5
  nats per doubling of the epochs (98.7 at 16, 96.2 at 32, 92.6 at 64, 91.4 at 100); the last points
  are flattered by the cosine decay ending at 0, so the curve gives no honest extrapolation to 86.
  pythae's longer reproduction of the same VAE, 89.78, is 0.5 nats below ours.
- **Per epoch, the IWAE's claim holds; per second of training, it does not here.** At equal epochs the
  k-sample bound gives a better model at every checkpoint: after 32 epochs IWAE k = 5 is at 92.2
  against the VAE's 96.2, and after 4 epochs IWAE k = 50 is at 104.0 against 109.7, the ordering of
  Burda et al.'s Table 1. But an epoch costs about twice as much with k = 5 and about 10 times as much
  with k = 50 on these 2 cores (the decoder runs k times per image), so at about the same training
  time the VAE and IWAE k = 5 end within 0.3 nats of each other (90.29 after 535 s and 90.58 after
  421 s, about one standard error; the per-image differences were not recorded, so we read it as a
  tie), and the 5 epochs that k = 50 could afford leave it 11.6 nats behind. The paper's gains (2 nats
  for k = 50) come after 3,280 epochs, where the objective, not the optimization budget, decides.
- **`pixelcnn_vae` has the lowest NLL of the run.** A small PixelCNN decoder (3 gated blocks of 16
  channels) trained for 3 epochs (430 s) scores 89.21 ± 0.68 nats with k = 100 on the first 1,000
  test images, where the VAE trained for 100 epochs scores 91.68 with the same estimator on the same
  images: 2.5 nats lower in less training time, because the decoder models the dependencies between
  pixels that the VAE's independent Bernoulli pixels leave to z. Its k = 5000 estimate on the 10,000
  images was not attempted: every importance sample runs the PixelCNN over the whole image (72 s for
  100,000 samples here), so it would take about 10 hours. Both figures are k = 100 upper bounds in
  expectation; which of the two is looser was not measured.
- **The ELBO of an IWAE-trained model is a loose summary of it.** The gap between the one-sample
  -ELBO and the NLL is 4.0 nats for the VAE, 7.0 for IWAE k = 5 and 15.2 for k = 50: the IWAE does
  not ask q(z|x) to match the posterior, only to propose useful samples, as Burda et al. observe.
- **Active units**: 15 of 50 latent dimensions carry information in the VAE, 18 with IWAE k = 5
  (Burda et al. report the same: the IWAE uses more of its code). The 50 of 50 of IWAE k = 50 is a
  model after 5 epochs, before the unused dimensions collapse to the prior, not a finding.
- **Protocol deviations, all for the CPU budget**: the rows got between 4.5 and 9 minutes of
  training, not the same epochs; `pixelcnn_vae` is scored with k = 100 on 1,000 images; one seed. The
  learning-rate recipe (3e-3, cosine to 0, batches of 100) was chosen on one 8-epoch trial against
  1e-3 (105.0 against 116.4 nats with k = 500 on 1,000 images), not tuned further. The VAE row's
  evaluation seconds (728) overlapped for about 8 minutes with another job on the same cores; the
  training seconds did not.
"""


def _ints(text):
    return tuple(int(v) for v in text.split(","))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--k", type=_ints, default=(1, 5, 50),
                        help="iwae_samples of the rows, comma-separated (1 is the VAE on the ELBO)")
    parser.add_argument("--epochs", type=_ints, default=(100, 40, 5),
                        help="epochs of each row, comma-separated, in the order of --k")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--learning-rate", type=float, default=3e-3, help="Adam's initial learning rate")
    parser.add_argument("--hidden", type=_ints, default=(200, 200))
    parser.add_argument("--latent-dim", type=int, default=50)
    parser.add_argument("--activation", default="tanh")
    parser.add_argument("--final-k", type=int, default=5000, help="importance samples of the test NLL")
    parser.add_argument("--final-images", type=int, default=10000, help="test images of the test NLL")
    parser.add_argument("--curve-k", type=int, default=500, help="importance samples of the learning curve")
    parser.add_argument("--curve-images", type=int, default=1000, help="test images of the learning curve")
    parser.add_argument("--max-elements", type=int, default=2**24,
                        help="memory bound of iwae_log_likelihood (floats in one decoded batch)")
    parser.add_argument("--limit", type=int, default=None, help="training images (default: all 60,000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-pixelcnn", action="store_true", help="do not run the pixelcnn_vae row")
    parser.add_argument("--pixelcnn-epochs", type=int, default=3)
    parser.add_argument("--pixelcnn-limit", type=int, default=60000, help="training images of pixelcnn_vae")
    parser.add_argument("--pixelcnn-filters", type=int, default=16, help="channels of its PixelCNN")
    parser.add_argument("--pixelcnn-layers", type=int, default=3, help="gated blocks of its PixelCNN")
    parser.add_argument("--pixelcnn-k", type=int, default=100,
                        help="importance samples of its NLL (and of the other rows' NLL on the same images)")
    parser.add_argument("--pixelcnn-images", type=int, default=1000, help="test images of its NLL")
    parser.add_argument("--smoke", action="store_true",
                        help="quick check: 2,000 training images, 1 epoch a row, k 50 on 100 test images")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="Markdown file to write")
    parser.add_argument("--report-from", type=Path, default=None,
                        help="write the page from this JSON of raw results, without training")
    args = parser.parse_args(argv)
    if args.smoke:
        args.epochs = tuple(1 for _ in args.k)
        args.limit = min(args.limit or 2000, 2000)
        args.final_k, args.final_images = min(args.final_k, 50), min(args.final_images, 100)
        args.curve_k, args.curve_images = min(args.curve_k, 10), min(args.curve_images, 50)
        args.pixelcnn_limit, args.pixelcnn_k, args.pixelcnn_images, args.pixelcnn_epochs = 200, 5, 10, 1
    if len(args.epochs) != len(args.k):
        parser.error("--epochs needs one value per --k")
    for name in ("batch_size", "latent_dim", "final_k", "final_images", "curve_k", "curve_images", "max_elements",
                 "pixelcnn_epochs", "pixelcnn_limit", "pixelcnn_filters", "pixelcnn_layers", "pixelcnn_k",
                 "pixelcnn_images"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be a positive integer")
    if min(args.k) < 1 or min(args.epochs) < 1 or len(set(args.k)) != len(args.k):
        parser.error("--k must be distinct positive integers and --epochs positive integers")
    if not args.final_images <= 10000 or max(args.curve_images, args.pixelcnn_images) > args.final_images:
        parser.error("--final-images must be at most 10000, --curve-images and --pixelcnn-images at most "
                     "--final-images")
    if args.learning_rate <= 0:
        parser.error("--learning-rate must be positive")
    return args


# ----------------------------------------------------------------------
# Measurements


def checkpoints(epochs):
    """Epochs 1, 2, 4, 8... up to ``epochs``, and ``epochs`` itself."""
    points, e = [], 1
    while e < epochs:
        points.append(e)
        e *= 2
    return points + [epochs]


class Curve(keras.callbacks.Callback):
    """Test NLL at the checkpoints; training seconds counted without the time spent here."""

    def __init__(self, x, k, epochs, args):
        super().__init__()
        self.x, self.k, self.args = x, k, args
        self.points = set(checkpoints(epochs))
        self.train_seconds, self.rows = 0.0, []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.train_seconds += time.perf_counter() - self._start
        if epoch + 1 in self.points:
            start = time.perf_counter()
            nll = -metrics.iwae_log_likelihood(self.model, self.x, k=self.k, max_elements=self.args.max_elements,
                                               seed=self.args.seed).mean()
            self.rows.append({"epoch": epoch + 1, "train_seconds": self.train_seconds, "nll": float(nll),
                              "loss": float(logs["loss"]), "eval_seconds": time.perf_counter() - start})
            print(f"  epoch {epoch + 1}: loss {logs['loss']:.2f}, test NLL (k={self.k}) {nll:.2f}, "
                  f"{self.train_seconds:.0f} s of training", flush=True)


def active_units(model, x):
    """Latent dimensions whose posterior mean has a variance above 0.01 over ``x`` (Burda et al.'s criterion)."""
    loc = model.predict_codes(x, batch_size=500)
    return int(np.sum(np.var(loc, axis=0) > ACTIVE_THRESHOLD))


def train_row(k, epochs, x_train, x_final, x_curve, args):
    keras.utils.set_random_seed(args.seed)
    model = keras_ae.build("vae", input_shape=(784,), latent_dim=args.latent_dim, hidden=args.hidden,
                           activation=args.activation, iwae_samples=k, seed=args.seed, compile=False)
    steps = -(-len(x_train) // args.batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(args.learning_rate, decay_steps=epochs * steps)
    model.compile(optimizer=keras.optimizers.Adam(schedule))
    train = data.binarized_dataset(x_train, batch_size=args.batch_size, seed=args.seed)
    curve = Curve(x_curve, args.curve_k, epochs, args)
    print(f"iwae_samples={k}: {epochs} epochs", flush=True)
    history = model.fit(train, epochs=epochs, callbacks=[curve], verbose=0)
    start = time.perf_counter()
    nll = -metrics.iwae_log_likelihood(model, x_final, k=args.final_k, max_elements=args.max_elements,
                                       seed=args.seed)
    eval_seconds = time.perf_counter() - start
    elbo = metrics.elbo(model, x_final, seed=args.seed)
    # The estimator of the pixelcnn_vae row, on its images: the rows compared like for like.
    small = -metrics.iwae_log_likelihood(model, x_final[:args.pixelcnn_images], k=args.pixelcnn_k,
                                         max_elements=args.max_elements, seed=args.seed)
    row = {"k": k, "epochs": epochs, "train_seconds": curve.train_seconds, "eval_seconds": eval_seconds,
           "nll_small": float(small.mean()), "nll": float(nll.mean()),
           "nll_se": float(nll.std(ddof=1) / np.sqrt(len(nll))),
           "neg_elbo": float(-elbo.mean()), "active_units": active_units(model, x_final),
           "curve": curve.rows, "loss": [float(v) for v in history.history["loss"]]}
    print(f"iwae_samples={k}: test NLL {row['nll']:.2f} ± {row['nll_se']:.2f} (k={args.final_k}), "
          f"-ELBO {row['neg_elbo']:.2f}, {row['active_units']} active units, train {row['train_seconds']:.0f} s, "
          f"eval {eval_seconds:.0f} s", flush=True)
    return row


def pixelcnn_row(x_train, x_final, args):
    """Trains and scores ``pixelcnn_vae`` (small network, short budget), or says why it was not run."""
    if "pixelcnn_vae" not in keras_ae.list_models():
        return {"run": False, "reason": "keras_ae has no `pixelcnn_vae` model (not in `keras_ae.list_models()` "
                                        "when this ran)"}
    if args.skip_pixelcnn:
        return {"run": False, "reason": "skipped (`--skip-pixelcnn`)"}
    try:
        keras.utils.set_random_seed(args.seed)
        model = keras_ae.build("pixelcnn_vae", input_shape=(28, 28, 1), latent_dim=args.latent_dim,
                               pixelcnn_filters=args.pixelcnn_filters, pixelcnn_layers=args.pixelcnn_layers,
                               seed=args.seed, compile=False)
        images = x_train[:args.pixelcnn_limit].reshape(-1, 28, 28, 1)
        steps = -(-len(images) // args.batch_size)
        schedule = keras.optimizers.schedules.CosineDecay(1e-3, decay_steps=args.pixelcnn_epochs * steps)
        model.compile(optimizer=keras.optimizers.Adam(schedule))
        train = data.binarized_dataset(images, batch_size=args.batch_size, seed=args.seed)
        print(f"pixelcnn_vae: {args.pixelcnn_epochs} epoch(s) on {len(images):,} images", flush=True)
        start = time.perf_counter()
        history = model.fit(train, epochs=args.pixelcnn_epochs, verbose=0)
        train_seconds = time.perf_counter() - start
        start = time.perf_counter()
        nll = -metrics.iwae_log_likelihood(model, x_final[:args.pixelcnn_images].reshape(-1, 28, 28, 1),
                                           k=args.pixelcnn_k, max_elements=args.max_elements, seed=args.seed)
        eval_seconds = time.perf_counter() - start
    except Exception as error:  # noqa: BLE001 - another helper's model: its failure is reported, not fatal
        return {"run": False, "reason": f"it failed here: {type(error).__name__}: {str(error).splitlines()[0]}"}
    row = {"run": True, "n_train": len(images), "epochs": args.pixelcnn_epochs, "train_seconds": train_seconds,
           "eval_seconds": eval_seconds, "nll_small": float(nll.mean()),
           "nll_small_se": float(nll.std(ddof=1) / np.sqrt(len(nll))),
           "loss": [float(v) for v in history.history["loss"]], "params": int(model.count_params())}
    print(f"pixelcnn_vae: test NLL {row['nll_small']:.2f} (k={args.pixelcnn_k}, {args.pixelcnn_images} images), "
          f"train {train_seconds:.0f} s, eval {eval_seconds:.0f} s", flush=True)
    return row


def run(args):
    t0 = time.perf_counter()
    (x_train, _), (x_test, _) = data.load("binarized_mnist", flatten=True, limit=args.limit, seed=args.seed)
    # The same test binarization whatever --limit; a seeded random subset of it.
    if args.limit is not None:
        (_, _), (x_test, _) = data.load("binarized_mnist", flatten=True, seed=args.seed)
    order = np.random.default_rng([args.seed, 1]).permutation(len(x_test))
    x_final = x_test[order[:args.final_images]]
    x_curve = x_final[:args.curve_images]
    results = {"smoke": args.smoke, "machine": machine_line(), "n_train": len(x_train), "args": {
        k: (str(v) if isinstance(v, Path) else list(v) if isinstance(v, tuple) else v)
        for k, v in vars(args).items()}}
    results["rows"] = [train_row(k, e, x_train, x_final, x_curve, args) for k, e in zip(args.k, args.epochs)]
    results["pixelcnn_vae"] = pixelcnn_row(x_train, x_final, args)
    results["total_seconds"] = time.perf_counter() - t0
    return results


# ----------------------------------------------------------------------
# The page


def label(k):
    return "VAE (ELBO, k = 1)" if k == 1 else f"IWAE (k = {k})"


def plot_curves(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    a = results["args"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for row in results["rows"]:
        epochs = [c["epoch"] for c in row["curve"]]
        nll = [c["nll"] for c in row["curve"]]
        axes[0].plot(epochs, nll, marker="o", label=label(row["k"]))
        axes[1].plot([c["train_seconds"] / 60 for c in row["curve"]], nll, marker="o", label=label(row["k"]))
    for ax in axes:
        for value, text in ((86.76, "VAE, 3,280 epochs"), (84.78, "IWAE k = 50, 3,280 epochs")):
            ax.axhline(value, color="grey", linestyle=":", linewidth=1)
            ax.text(ax.get_xlim()[0], value, f" published {text}", fontsize=7, va="bottom", color="grey")
        ax.grid(alpha=0.3)
    axes[0].set_xscale("log", base=2)
    axes[0].set_xlabel("epochs (log scale)")
    axes[1].set_xlabel("training minutes (2 CPU cores)")
    axes[0].set_ylabel(f"test NLL, nats (k = {a['curve_k']}, {a['curve_images']} images)")
    axes[0].legend()
    fig.suptitle("Dynamically binarized MNIST, 784-200-200-50: test NLL during training")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def report(results):
    a = results["args"]
    rows = results["rows"]
    png = figure_name(results)
    n_final, n_curve = a["final_images"], a["curve_images"]
    table = []
    for row in rows:
        published = PUBLISHED.get(row["k"], "-")
        if row["k"] == 1:
            published += f" (pythae: {PYTHAE_VAE})"
        table.append([label(row["k"]), published, f"**{row['nll']:.2f}** ± {row['nll_se']:.2f}",
                      f"{row['neg_elbo']:.2f}", f"{row['active_units']} / {a['latent_dim']}", f"{row['epochs']}",
                      f"{row['train_seconds']:.0f}", f"{row['eval_seconds']:.0f}"])
    pix = results["pixelcnn_vae"]
    if pix["run"]:
        table.append([f"`pixelcnn_vae` (ELBO; PixelCNN decoder, {a['pixelcnn_layers']} gated blocks of "
                      f"{a['pixelcnn_filters']} channels)", "-",
                      f"not measured at k = {a['final_k']} (see the next table)", "-", "-", f"{pix['epochs']} "
                      f"(on {pix['n_train']:,} images)", f"{pix['train_seconds']:.0f}", f"{pix['eval_seconds']:.0f}"])
    else:
        table.append(["`pixelcnn_vae`", "-", f"not run: {pix['reason']}", "-", "-", "-", "-", "-"])
    header = ["Model (training objective)", f"Published NLL ({PUBLISHED_EPOCHS:,} epochs)",
              f"Measured NLL (k = {a['final_k']}, {n_final:,} test images, ± s.e.)", "Test -ELBO",
              "Active units", "Epochs", "Train s", "NLL eval s"]
    main = markdown_table(table, header)

    small_rows = [[label(row["k"]), f"{row['nll_small']:.2f}"] for row in rows]
    if pix["run"]:
        small_rows.append(["`pixelcnn_vae`", f"{pix['nll_small']:.2f} ± {pix['nll_small_se']:.2f}"])
    small = markdown_table(small_rows, ["Model", f"NLL (k = {a['pixelcnn_k']}, first {a['pixelcnn_images']} "
                                                 "images of the subset)"])

    all_epochs = sorted({c["epoch"] for row in rows for c in row["curve"]})
    curve_rows = []
    for e in all_epochs:
        cells = [str(e)]
        for row in rows:
            point = next((c for c in row["curve"] if c["epoch"] == e), None)
            cells.append("-" if point is None else f"{point['nll']:.2f} ({point['train_seconds']:.0f} s)")
        curve_rows.append(cells)
    curve = markdown_table(curve_rows, ["Epoch"] + [label(row["k"]) for row in rows])

    vae = next((row for row in rows if row["k"] == 1), None)
    findings = []
    if vae is not None:
        findings.append(
            f"- Target (VAE ≤ {TARGET:.1f} nats): **{'met' if vae['nll'] <= TARGET else 'missed'}**: "
            f"{vae['nll']:.2f} after {vae['epochs']} epochs ({vae['epochs'] / PUBLISHED_EPOCHS:.1%} of the "
            f"paper's {PUBLISHED_EPOCHS:,}), {vae['train_seconds'] / 60:.1f} min of training.")
        if len(vae["curve"]) >= 3:
            (e0, n0), (e1, n1) = [(c["epoch"], c["nll"]) for c in vae["curve"][-3:-1]]
            last = vae["curve"][-1]
            findings.append(
                f"- The VAE was still improving: its curve NLL fell from {n0:.2f} (epoch {e0}) to {n1:.2f} "
                f"(epoch {e1}) and {last['nll']:.2f} (epoch {last['epoch']}).")
    for row in rows:
        if row["k"] > 1 and vae is not None:
            common = [c for c in row["curve"] if any(d["epoch"] == c["epoch"] for d in vae["curve"])]
            if common:
                c = common[-1]
                d = next(d for d in vae["curve"] if d["epoch"] == c["epoch"])
                findings.append(
                    f"- {label(row['k'])} against the VAE after the same {c['epoch']} epoch(s): {c['nll']:.2f} "
                    f"against {d['nll']:.2f} (curve estimate), in {c['train_seconds']:.0f} s against "
                    f"{d['train_seconds']:.0f} s of training. At the end of its own budget: {row['nll']:.2f} "
                    f"against {vae['nll']:.2f}.")
    for row in rows:
        findings.append(
            f"- {label(row['k'])}: -ELBO minus NLL = {row['neg_elbo'] - row['nll']:.2f} nats (the looseness of "
            f"the one-sample bound on this model), {row['active_units']} of {a['latent_dim']} latent units active.")

    recipe = [
        f"- Network: {784}-{'-'.join(map(str, a['hidden']))}-{a['latent_dim']} encoder (Gaussian q(z|x)) and its "
        f"mirror as decoder (Bernoulli p(x|z)), {a['activation']} hidden units, "
        f"`keras_ae.build(\"vae\", input_shape=(784,), latent_dim={a['latent_dim']}, "
        f"hidden={tuple(a['hidden'])}, activation=\"{a['activation']}\", iwae_samples=k)`.",
        f"- Training: {results['n_train']:,} MNIST training images, each re-binarized at every epoch "
        f"(`keras_ae.data.binarized_dataset`, seed {a['seed']}); Adam (Keras defaults but the learning rate), "
        f"learning rate {a['learning_rate']:g} decayed by a cosine to 0 over each row's epochs, batches of "
        f"{a['batch_size']}; no KL warm-up, no early stopping. Burda et al.: Adam (epsilon 1e-4), learning rate "
        "1e-3 x 10^(-i/7) for 3^i epochs, i = 0..7 (3,280 epochs in all), batches of 20.",
        f"- Test data: the MNIST test images binarized once (`load(\"binarized_mnist\", seed={a['seed']})`); "
        + ("the NLL on all 10,000, in a seeded random order (± is the standard error over images); "
           if n_final == 10000 else
           f"the NLL on a seeded random subset of {n_final:,} of the 10,000 (± is the standard error over images); ")
        + f"the curve on the first {n_curve:,} of that subset with k = {a['curve_k']}.",
        f"- Estimator: `-keras_ae.metrics.iwae_log_likelihood(model, x, k={a['final_k']}, "
        f"max_elements={a['max_elements']})`, whose expectation is an upper bound on -log p(x) that "
        "tightens as k grows.",
        f"- Train s: the epochs only (the curve's evaluations excluded); NLL eval s: the final k = "
        f"{a['final_k']} estimate. Seed {a['seed']}; one run; whole run {results['total_seconds'] / 60:.1f} min.",
    ]
    blocks = [
        results["machine"],
        ("**Smoke run** (1 epoch a row on 2,000 training images, small k): the numbers check the script, "
         "not the methods." if results["smoke"] else "Full run."),
        "## Test NLL (nats; lower is better)",
        main,
        f"## All rows with the cheaper estimator of `pixelcnn_vae` (k = {a['pixelcnn_k']})",
        small,
        f"## Learning curves (test NLL with k = {a['curve_k']} on {n_curve:,} test images; training seconds)",
        curve,
        f"![Test NLL against epochs and training time]({png.name})",
        "## What the figures say",
        "\n".join(findings),
        *(["## Reading of this run", NOTES.rstrip()]
          if not results["smoke"] and vae is not None and f"{vae['nll']:.2f}" == NOTES_RUN_VAE_NLL else []),
        "## Recipe and budget",
        "\n".join(recipe),
    ]
    return blocks


def figure_name(results):
    """The learning curves' PNG, named after the page of the run (``vae_nll.png``)."""
    return Path(Path(results["args"]["out"]).stem + ".png")


def main(argv=None):
    args = parse_args(argv)
    results = results_of(args, lambda: run(args))
    blocks = report(results)
    print("\n\n".join(blocks))
    write_results(args.out, TITLE, *blocks)
    plot_curves(results, Path(args.out).parent / figure_name(results))


if __name__ == "__main__":
    main()
