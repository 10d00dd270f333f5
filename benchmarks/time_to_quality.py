"""Time to quality: ``conv_vae`` against the keras.io VAE example.

What: the wall-clock training seconds each side needs to reach the MNIST test
loss that the keras.io example "Variational AutoEncoder" (fchollet) reaches
after its 30 epochs, at the same architecture and objective.

- Baseline: the example exactly as ``benchmarks/throughput.py``
  re-implements it (a subclassed ``VAE`` with a custom ``train_step``),
  trained as the example trains it: ``Adam()`` (learning rate 1e-3),
  ``fit`` on NumPy arrays with ``batch_size=128``, 30 epochs.
- Ours: ``keras_ae.build("conv_vae", input_shape=(28, 28, 1), latent_dim=2)``,
  whose defaults are the example's network (encoder 69,076 weights, decoder
  65,089; checked below), trained on the same negative ELBO with the levers
  that keep the architecture and the objective: the ``keras_ae.data.as_dataset``
  input pipeline, ``steps_per_execution``, a larger batch with a higher learning
  rate, a linear warm-up then cosine decay of the learning rate over the planned
  run (``--epochs``), optionally XLA.

Why: ``throughput.py`` shows the same network trains at about the same number
of samples per second on both sides (it does the same arithmetic), so a
faster library cannot come from the step alone. What a user waits for is a
model of a given quality; this script measures that time.

Test loss, the same estimator on both sides: the negative ELBO in nats per
test image, i.e. the summed binary cross-entropy over the 784 pixels at one
reparameterized posterior sample plus the analytic KL of q(z|x) to N(0, I),
averaged over the test images, with noise fixed by a seed (the same draws
after every epoch). Training uses the 60,000 MNIST training images, the loss
is measured on the 10,000 test images.

Protocol: one process; the two sides alternate epoch by epoch (baseline epoch
1, ours epoch 1, baseline epoch 2, ...) so that load from other processes
hits both alike. Each side's clock counts only its ``fit`` calls (the first
one includes tracing, on both sides); the test loss is evaluated after every
epoch, off the clock. The target is the baseline's test loss after its last
(30th) epoch; each side's time to quality is its cumulative training seconds
at the first epoch whose test loss is at most the target, and the ratio is
baseline seconds / ours seconds (target of the issue: at least 2).

Usage::

    python benchmarks/time_to_quality.py                       # full run
    python benchmarks/time_to_quality.py --batch-size 512 --learning-rate 4e-3 --epochs 12
    python benchmarks/time_to_quality.py --smoke --out /tmp/time_to_quality.md
    python benchmarks/time_to_quality.py --report-from benchmarks/results/time_to_quality.json

The page is printed and written as Markdown to ``--out``
(``benchmarks/results/time_to_quality.md`` by default), the raw numbers as
JSON next to it (same stem, ``.json``); ``--report-from`` writes the page
again from such a JSON file, without training.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
from throughput import BATCH_SIZE as BASELINE_BATCH_SIZE  # noqa: E402
from throughput import LATENT_DIM, build_baseline  # noqa: E402

import keras_ae  # noqa: E402
from keras_ae import data  # noqa: E402

from _common import machine_line, markdown_table, results_of, write_results  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "time_to_quality.md"
ENCODER_WEIGHTS, DECODER_WEIGHTS = 69_076, 65_089  # the keras.io network
BASELINE_EPOCHS = 30  # the keras.io example's training length
EVAL_SEED = 0
EVAL_BATCH_SIZE = 500
PROB_EPSILON = 1e-7  # keras.config.epsilon(), the clip of keras.losses.binary_crossentropy
TARGET_RATIO = 2.0
POLICY_NOTE = (" (16-bit arithmetic, float32 weights and optimizer; the test loss of each epoch is computed "
               "in float32, from a float32 copy of the weights)")
SMOKE_TRAIN, SMOKE_TEST, SMOKE_EPOCHS = 1000, 500, 2
TITLE = "Time to quality: `conv_vae` vs the keras.io VAE example"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=24,
                        help="planned length of our run, in epochs (the schedule decays over it)")
    parser.add_argument("--batch-size", type=int, default=128, help="our batch size")
    parser.add_argument("--learning-rate", type=float, default=2e-3,
                        help="our peak learning rate of Adam (after the warm-up)")
    parser.add_argument("--schedule", choices=("cosine", "constant"), default="cosine",
                        help="our learning rate after the warm-up: cosine decay over the rest of "
                        "the planned run, or constant")
    parser.add_argument("--warmup-epochs", type=float, default=1.0,
                        help="our linear warm-up of the learning rate from 0, in epochs (0: none)")
    parser.add_argument("--cosine-alpha", type=float, default=0.0,
                        help="our final learning rate of the cosine decay, as a fraction of the peak")
    parser.add_argument("--steps-per-execution", type=int, default=8, help="our steps_per_execution")
    parser.add_argument("--jit", action="store_true", help="compile ours with XLA (jit_compile)")
    parser.add_argument("--dtype-policy", choices=("float32", "mixed_bfloat16", "mixed_float16"),
                        default="mixed_bfloat16",
                        help="our Keras dtype policy in training (weights stay float32; the test loss is "
                        "always computed in float32)")
    parser.add_argument("--baseline-epochs", type=int, default=BASELINE_EPOCHS,
                        help="epochs of the baseline; the target is its test loss after the last")
    parser.add_argument("--limit", type=int, default=None,
                        help="train on a seeded subset of this many images (test: all 10 000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true",
                        help=f"quick check: {SMOKE_TRAIN} train / {SMOKE_TEST} test images, "
                        f"{SMOKE_EPOCHS} epochs per side")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="Markdown file to write")
    parser.add_argument("--report-from", type=Path, metavar="JSON", default=None,
                        help="write the page again from the .json of an earlier run (no training)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.limit = min(args.limit or SMOKE_TRAIN, SMOKE_TRAIN)
        args.epochs = args.baseline_epochs = SMOKE_EPOCHS
    for name in ("epochs", "batch_size", "steps_per_execution", "baseline_epochs"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be a positive integer")
    if args.limit is not None and args.limit < 1:
        parser.error("--limit must be a positive integer")
    if args.seed < 0:
        parser.error("--seed must be a non-negative integer")
    if not (math.isfinite(args.learning_rate) and args.learning_rate > 0):
        parser.error("--learning-rate must be a positive number")
    if not 0 <= args.warmup_epochs < args.epochs:
        parser.error("--warmup-epochs must be a number in [0, --epochs)")
    if not 0 <= args.cosine_alpha <= 1:
        parser.error("--cosine-alpha must be a number in [0, 1]")
    return args


# ---------------------------------------------------------------- data


def load(args):
    """Training images (all 60 000, or a seeded subset) and test images, (n, 28, 28, 1) in [0, 1]."""
    (x_train, _), _ = data.load("mnist", limit=args.limit, seed=args.seed)
    _, (x_test, _) = data.load("mnist", limit=SMOKE_TEST if args.smoke else None, seed=args.seed)
    return x_train, x_test


# ---------------------------------------------------------------- the two sides


def learning_rate(args, steps_per_epoch):
    """Our learning rate: linear warm-up from 0, then cosine decay (or constant) to the run's end."""
    total_steps = steps_per_epoch * args.epochs
    warmup_steps = min(int(round(args.warmup_epochs * steps_per_epoch)), total_steps - 1)
    alpha = args.cosine_alpha if args.schedule == "cosine" else 1.0  # alpha 1: no decay
    if warmup_steps == 0 and alpha == 1.0:
        return args.learning_rate
    if warmup_steps == 0:
        return keras.optimizers.schedules.CosineDecay(
            args.learning_rate, decay_steps=total_steps, alpha=alpha)
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0, decay_steps=total_steps - warmup_steps, alpha=alpha,
        warmup_target=args.learning_rate, warmup_steps=warmup_steps,
    )


def build_ours(args, steps_per_epoch, dtype_policy=None):
    """``conv_vae`` at its defaults (the keras.io network), recompiled with our training levers.

    Built under ``dtype_policy`` (default ``args.dtype_policy``); the global policy is restored after.
    """
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(dtype_policy or args.dtype_policy)
    try:
        model = keras_ae.build("conv_vae", input_shape=(28, 28, 1), latent_dim=LATENT_DIM)
    finally:
        keras.config.set_dtype_policy(previous)
    encoder, decoder = model.get_layer("encoder"), model.get_layer("decoder")
    assert encoder.count_params() == ENCODER_WEIGHTS, encoder.count_params()
    assert decoder.count_params() == DECODER_WEIGHTS, decoder.count_params()
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate(args, steps_per_epoch)),
        loss=model.loss,
        steps_per_execution=args.steps_per_execution,
        jit_compile=args.jit,
    )
    return model


def baseline_test_loss(vae, x, seed=EVAL_SEED):
    """Negative ELBO in nats per image of the keras.io ``VAE``, one fixed posterior sample each.

    ``-log p(x|z)`` is the binary cross-entropy of the decoder's pixel
    probabilities (clipped to [1e-7, 1 - 1e-7], as ``keras.losses.
    binary_crossentropy`` does) summed over the pixels, at
    ``z = z_mean + exp(z_log_var / 2) * eps`` with ``eps`` drawn with ``seed``;
    the KL to N(0, I) is the closed form of the example's loss. The same
    quantity as :func:`ours_test_loss`; only the posterior's parameterization
    (a log-variance here, a softplus scale in ``conv_vae``) differs.
    """
    z_mean, z_log_var, _ = vae.encoder.predict(x, batch_size=EVAL_BATCH_SIZE, verbose=0)
    z_mean, z_log_var = z_mean.astype("float64"), z_log_var.astype("float64")
    eps = np.random.default_rng(seed).standard_normal(z_mean.shape)
    z = (z_mean + np.exp(0.5 * z_log_var) * eps).astype("float32")
    p = vae.decoder.predict(z, batch_size=EVAL_BATCH_SIZE, verbose=0).astype("float64")
    p = np.clip(p, PROB_EPSILON, 1.0 - PROB_EPSILON)
    x = x.astype("float64")
    cross_entropy = -(x * np.log(p) + (1.0 - x) * np.log1p(-p)).reshape(len(x), -1).sum(axis=1)
    kl = -0.5 * (1.0 + z_log_var - np.square(z_mean) - np.exp(z_log_var)).sum(axis=1)
    return float(np.mean(cross_entropy + kl))


class Float32Twin:
    """Our test loss in float32 whatever the training policy: the weights copied into a float32 copy.

    Under a mixed policy the weights are float32 variables and only the
    arithmetic is in 16 bits; evaluating the copy measures the trained
    weights with the baseline's float32 arithmetic.
    """

    def __init__(self, args, steps_per_epoch):
        self.twin = build_ours(args, steps_per_epoch, dtype_policy="float32")

    def __call__(self, model, x, seed=EVAL_SEED):
        self.twin.set_weights(model.get_weights())
        return ours_test_loss(self.twin, x, seed)


def ours_test_loss(model, x, seed=EVAL_SEED):
    """Negative ELBO in nats per image of ``conv_vae``, one fixed posterior sample each.

    ``keras_ae.metrics.elbo`` gives, per image, ``log p(x|z) - KL(q(z|x) ||
    N(0, I))`` with ``log p(x|z)`` the Bernoulli log-likelihood of the pixels
    (minus the summed binary cross-entropy, computed from the decoder's
    logits) at one reparameterized sample ``z`` drawn with ``seed``, and the
    KL in closed form: the same quantity as :func:`baseline_test_loss`.
    """
    return float(-np.mean(keras_ae.metrics.elbo(model, x, batch_size=EVAL_BATCH_SIZE, seed=seed)))


class LoopClock(keras.callbacks.Callback):
    """Wall seconds of ``fit``'s training loop, from ``on_train_begin`` to ``on_train_end``.

    That is the ``fit`` call without the set-up it does before the loop
    (wrapping the data in an adapter: about half a second for the 60 000
    NumPy images of the baseline). A single 30-epoch ``fit`` pays that set-up
    once; one-epoch calls pay it every epoch, so this clock is a check of
    the main one (the whole ``fit`` call).
    """

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()

    def on_train_end(self, logs=None):
        self.seconds = time.perf_counter() - self.start


class Side:
    """One contender: its model, how ``fit`` feeds it, and its curve."""

    def __init__(self, name, model, fit_kwargs, test_loss, epochs):
        self.name, self.model, self.fit_kwargs, self.test_loss = name, model, fit_kwargs, test_loss
        self.epochs = epochs
        self.curve = {"fit_seconds": [], "loop_seconds": [], "cpu_seconds": [], "train_loss": [],
                      "test_loss": [], "eval_seconds": []}

    def run_epoch(self, x_test):
        """Trains one epoch (timed: the ``fit`` call only), then measures the test loss (untimed)."""
        clock = LoopClock()
        wall, cpu = time.perf_counter(), time.process_time()
        history = self.model.fit(**self.fit_kwargs, epochs=1, verbose=0, callbacks=[clock])
        self.curve["fit_seconds"].append(time.perf_counter() - wall)
        self.curve["loop_seconds"].append(clock.seconds)
        self.curve["cpu_seconds"].append(time.process_time() - cpu)
        self.curve["train_loss"].append(float(history.history["loss"][-1]))
        start = time.perf_counter()
        self.curve["test_loss"].append(self.test_loss(self.model, x_test))
        self.curve["eval_seconds"].append(time.perf_counter() - start)
        epoch = len(self.curve["test_loss"])
        print(f"{self.name:>8} epoch {epoch:2d}/{self.epochs}: {self.curve['fit_seconds'][-1]:6.1f} s, "
              f"cumulative {sum(self.curve['fit_seconds']):7.1f} s, train loss "
              f"{self.curve['train_loss'][-1]:7.2f}, test loss {self.curve['test_loss'][-1]:7.2f}",
              flush=True)


def run(args, argv):
    start = time.perf_counter()
    x_train, x_test = load(args)
    print(f"Train images: {len(x_train)}, test images: {len(x_test)}", flush=True)

    keras.utils.set_random_seed(args.seed)
    baseline_model = build_baseline()
    baseline = Side("baseline", baseline_model, {"x": x_train, "batch_size": BASELINE_BATCH_SIZE},
                    baseline_test_loss, args.baseline_epochs)
    keras.utils.set_random_seed(args.seed)
    steps_per_epoch = -(-len(x_train) // args.batch_size)
    ours_model = build_ours(args, steps_per_epoch)
    train = data.as_dataset(x_train, batch_size=args.batch_size, seed=args.seed)
    ours = Side("ours", ours_model, {"x": train}, Float32Twin(args, steps_per_epoch), args.epochs)

    for epoch in range(1, max(args.baseline_epochs, args.epochs) + 1):
        for side in (baseline, ours):
            if epoch <= side.epochs:
                side.run_epoch(x_test)
    command = " ".join(["python benchmarks/time_to_quality.py",
                        *(sys.argv[1:] if argv is None else argv)])
    return {
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "command": command,
        "machine": machine_line(),
        "n_train": len(x_train),
        "n_test": len(x_test),
        "steps_per_epoch": {"baseline": -(-len(x_train) // BASELINE_BATCH_SIZE), "ours": steps_per_epoch},
        "baseline": baseline.curve,
        "ours": ours.curve,
        "total_seconds": time.perf_counter() - start,
    }


# ---------------------------------------------------------------- report


def time_to_target(curve, target):
    """The first epoch whose test loss is <= ``target`` and the cumulative clocks there, or ``None``."""
    for i, loss in enumerate(curve["test_loss"]):
        if loss <= target:
            return {"epoch": i + 1, **{clock: sum(curve[clock][: i + 1])
                                       for clock in ("fit_seconds", "loop_seconds", "cpu_seconds")}}
    return None


def describe_schedule(config):
    """Our learning rate, in words."""
    peak = f"{config['learning_rate']:g}"
    if config["warmup_epochs"]:
        text = f"a {config['warmup_epochs']:g}-epoch linear warm-up of the learning rate from 0 to {peak}, then "
    else:
        text = f"learning rate {peak}, "
    if config["schedule"] == "constant":
        return text + "constant"
    end = "0" if config["cosine_alpha"] == 0 else f"{config['cosine_alpha']:g} x the peak"
    return text + f"cosine decay to {end} at the end of the planned {config['epochs']} epochs"


def report(results):
    """The blocks of the page, computed from the raw results only (so ``--report-from`` matches)."""
    config, base, ours = results["config"], results["baseline"], results["ours"]
    target = base["test_loss"][-1]
    reached = {"baseline": time_to_target(base, target), "ours": time_to_target(ours, target)}

    rows = []
    for i in range(max(len(base["test_loss"]), len(ours["test_loss"]))):
        cells = [str(i + 1)]
        for curve in (base, ours):
            if i < len(curve["test_loss"]):
                cells += [f"{sum(curve['fit_seconds'][: i + 1]):.1f}", f"{curve['test_loss'][i]:.2f}"]
            else:
                cells += ["-", "-"]
        rows.append(cells)
    curves = markdown_table(rows, ["Epoch", "Baseline: cumulative s", "Baseline: test loss",
                                   "Ours: cumulative s", "Ours: test loss"])

    def summary_row(label, curve, hit):
        best = int(np.argmin(curve["test_loss"]))
        return [label, str(len(curve["test_loss"])), f"{sum(curve['fit_seconds']):.1f}",
                f"{curve['test_loss'][-1]:.2f}", f"{curve['test_loss'][best]:.2f} (epoch {best + 1})",
                str(hit["epoch"]) if hit else "not reached",
                f"{hit['fit_seconds']:.1f}" if hit else "-", f"{hit['cpu_seconds']:.1f}" if hit else "-"]

    summary = markdown_table(
        [summary_row("baseline (keras.io example)", base, reached["baseline"]),
         summary_row("ours (`conv_vae`)", ours, reached["ours"])],
        ["Side", "Epochs", "Training s", "Final test loss", "Best test loss", "Epoch reaching target",
         "Seconds to target", "CPU seconds to target"],
    )

    target_line = (f"**Target: {target:.2f} nats**, the baseline's test loss after its epoch "
                   f"{len(base['test_loss'])} (negative ELBO per test image).")
    if reached["ours"] is None:
        best = int(np.argmin(ours["test_loss"]))
        verdict = (f"**Ours did not reach the target** in its {len(ours['test_loss'])} epochs "
                   f"(best test loss {ours['test_loss'][best]:.2f} at epoch {best + 1}, "
                   f"{ours['test_loss'][best] - target:+.2f} nats from the target): no ratio; "
                   f"the target ratio >= {TARGET_RATIO:g} is missed.")
    else:
        base_hit, ours_hit = reached["baseline"], reached["ours"]
        ratio, loop_ratio, cpu_ratio = (base_hit[clock] / ours_hit[clock]
                                        for clock in ("fit_seconds", "loop_seconds", "cpu_seconds"))
        verdict = (f"**Ratio baseline seconds / ours seconds to the target: {ratio:.2f}** "
                   f"({base_hit['fit_seconds']:.1f} s / {ours_hit['fit_seconds']:.1f} s). Target ratio "
                   f">= {TARGET_RATIO:g}: **{'met' if ratio >= TARGET_RATIO else 'missed'}**. Checks: by "
                   f"process CPU seconds {cpu_ratio:.2f}; by the seconds of `fit`'s training loop alone "
                   f"(without the data set-up that each one-epoch `fit` call repeats and a single "
                   f"multi-epoch call would do once) {loop_ratio:.2f}.")

    eval_seconds = sum(base["eval_seconds"]) + sum(ours["eval_seconds"])
    steps = results["steps_per_epoch"]
    setup = [
        results["machine"],
        f"- Command: `{results['command']}`; whole run {results['total_seconds'] / 60:.1f} min "
        f"(of which {eval_seconds:.0f} s of test-loss evaluation, off both clocks).",
        f"- Data: {results['n_train']} MNIST training images"
        f"{' (seeded subset)' if config['limit'] else ''}, {results['n_test']} test images"
        f"{' (seeded subset)' if config['smoke'] else ''}; seed {config['seed']}.",
        "- Baseline: the keras.io example \"Variational AutoEncoder\" as `benchmarks/throughput.py` "
        "re-implements it (subclassed `VAE` with a custom `train_step`, `Sampling` layer, log-variance "
        "posterior), `compile(optimizer=keras.optimizers.Adam())` (learning rate 1e-3, constant), "
        f"`fit(x_train, epochs=1, batch_size={BASELINE_BATCH_SIZE})` on NumPy arrays once per epoch "
        f"({steps['baseline']} steps per epoch), {config['baseline_epochs']} epochs.",
        "- Ours: `keras_ae.build(\"conv_vae\", input_shape=(28, 28, 1), latent_dim=2)` at its defaults, "
        f"the same network (encoder {ENCODER_WEIGHTS:,} and decoder {DECODER_WEIGHTS:,} weights, as "
        "keras.io; the posterior scale is a softplus instead of a log-variance) and the same objective "
        "(summed binary cross-entropy + analytic KL, averaged over the batch); recompiled with Adam, "
        f"{describe_schedule(config)}; batch size {config['batch_size']} ({steps['ours']} steps per "
        "epoch) fed by `keras_ae.data.as_dataset` (a new shuffle each epoch, prefetched), "
        f"`steps_per_execution={config['steps_per_execution']}`, `jit_compile={config['jit']}`, "
        f"dtype policy `{config.get('dtype_policy', 'float32')}`"
        f"{POLICY_NOTE if config.get('dtype_policy', 'float32') != 'float32' else ''}; "
        f"`fit(dataset, epochs=1)` once per epoch, {config['epochs']} epochs.",
        "- Test loss: negative ELBO in nats per test image, summed binary cross-entropy over the 784 "
        "pixels at one reparameterized posterior sample (noise fixed by seed "
        f"{EVAL_SEED}, the same after every epoch) + the analytic KL to N(0, I). Ours: "
        f"`-keras_ae.metrics.elbo(model, x_test, seed={EVAL_SEED}).mean()`; baseline: the same from "
        "its encoder's (z_mean, z_log_var) and its decoder's probabilities (clipped to "
        "[1e-7, 1 - 1e-7] as `keras.losses.binary_crossentropy` does).",
        "- Protocol: one process, the sides alternate epoch by epoch (baseline first); each clock "
        "counts only that side's `fit` calls (the first includes tracing), the test loss is evaluated "
        "after every epoch off the clock. Seconds to target: cumulative training seconds at the first "
        "epoch whose test loss is at most the target.",
    ]
    if config["smoke"]:
        setup.insert(0, f"- **Smoke run** ({SMOKE_EPOCHS} epochs per side on a slice): not a measurement.")
    return [curves, target_line, summary, verdict, "\n".join(setup)]


def main(argv=None):
    args = parse_args(argv)
    warnings.filterwarnings("ignore", module="keras")
    results = results_of(args, lambda: run(args, argv))
    blocks = report(results)
    print()
    print("\n\n".join(blocks))
    write_results(args.out, TITLE, *blocks)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
