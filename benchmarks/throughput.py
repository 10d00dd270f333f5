"""Training throughput: ``conv_vae`` against the keras.io VAE example.

The baseline is a re-implementation of the keras.io example "Variational
AutoEncoder" (fchollet): a subclassed ``VAE(keras.Model)`` with a
``Sampling`` layer and a custom ``train_step`` (``tf.GradientTape``), trained
as the example trains it, ``vae.fit(mnist_digits, epochs, batch_size=128)``
on NumPy arrays after ``vae.compile(optimizer=keras.optimizers.Adam())``.

Ours is ``keras_ae.build("conv_vae", input_shape=(28, 28, 1), latent_dim=2)``,
the same network (Conv 32/64 stride 2, Dense 16, latent 2; Dense 7x7x64 from z
and Conv2DTranspose 64/32/1: 69,076 + 65,089 weights on both sides, checked
before timing) and the same loss terms (summed binary cross-entropy
plus the analytic KL, both averaged over the batch), recompiled with the same
optimizer (Adam, learning rate 1e-3) but fed by a prefetched ``tf.data``
pipeline, with ``steps_per_execution=8`` and, optionally, XLA.

Both models train on the same images (MNIST train + test, 70 000, as in the
example, or a subset with ``--limit``) in one process, alternating for
``--rounds`` rounds (``ours, baseline`` then ``baseline, ours``...), so CPU
load from other processes hits both alike. One warm-up epoch per side
(tracing) is not timed; each round then times ``--epochs`` steady-state
epochs per side. The reported ratio is the median of the per-round ratios
ours / baseline of samples per second.

Usage::

    python benchmarks/throughput.py                   # 70 000 images, 4 rounds
    python benchmarks/throughput.py --limit 10000 --rounds 6
    python benchmarks/throughput.py --smoke --out /tmp/throughput.md
    python benchmarks/throughput.py --profile-layers  # where a step's time goes

The table is printed and written as Markdown to ``--out``
(``benchmarks/results/throughput.md`` by default).
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import layers, ops  # noqa: E402

import keras_ae  # noqa: E402
from keras_ae import data  # noqa: E402

from _common import machine_line, markdown_table, write_results  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "throughput.md"
BATCH_SIZE = 128
LATENT_DIM = 2
SMOKE_LIMIT = 512


# ---------------------------------------------------------------- baseline
# The keras.io "Variational AutoEncoder" example, written from its
# description: same layers, same loss, same training call.


class Sampling(layers.Layer):
    """Uses (z_mean, z_log_var) to sample z, the vector encoding a digit."""

    def __init__(self, seed=1337, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        batch = ops.shape(z_mean)[0]
        dim = ops.shape(z_mean)[1]
        epsilon = keras.random.normal(shape=(batch, dim), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon


def keras_io_encoder(latent_dim=LATENT_DIM):
    """The example's encoder: x -> (z_mean, z_log_var, z)."""
    encoder_inputs = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(32, 3, activation="relu", strides=2, padding="same")(encoder_inputs)
    x = layers.Conv2D(64, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(16, activation="relu")(x)
    z_mean = layers.Dense(latent_dim, name="z_mean")(x)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
    z = Sampling()([z_mean, z_log_var])
    return keras.Model(encoder_inputs, [z_mean, z_log_var, z], name="encoder")


def keras_io_decoder(latent_dim=LATENT_DIM):
    """The example's decoder: z -> pixel probabilities."""
    latent_inputs = keras.Input(shape=(latent_dim,))
    x = layers.Dense(7 * 7 * 64, activation="relu")(latent_inputs)
    x = layers.Reshape((7, 7, 64))(x)
    x = layers.Conv2DTranspose(64, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Conv2DTranspose(32, 3, activation="relu", strides=2, padding="same")(x)
    decoder_outputs = layers.Conv2DTranspose(1, 3, activation="sigmoid", padding="same")(x)
    return keras.Model(latent_inputs, decoder_outputs, name="decoder")


class VAE(keras.Model):
    """The example's subclassed VAE with its custom ``train_step``."""

    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.total_loss_tracker = keras.metrics.Mean(name="total_loss")
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")

    @property
    def metrics(self):
        return [self.total_loss_tracker, self.reconstruction_loss_tracker, self.kl_loss_tracker]

    def train_step(self, data):
        with tf.GradientTape() as tape:
            z_mean, z_log_var, z = self.encoder(data)
            reconstruction = self.decoder(z)
            reconstruction_loss = ops.mean(
                ops.sum(keras.losses.binary_crossentropy(data, reconstruction), axis=(1, 2))
            )
            kl_loss = -0.5 * (1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))
            kl_loss = ops.mean(ops.sum(kl_loss, axis=1))
            total_loss = reconstruction_loss + kl_loss
        grads = tape.gradient(total_loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        self.total_loss_tracker.update_state(total_loss)
        self.reconstruction_loss_tracker.update_state(reconstruction_loss)
        self.kl_loss_tracker.update_state(kl_loss)
        return {
            "loss": self.total_loss_tracker.result(),
            "reconstruction_loss": self.reconstruction_loss_tracker.result(),
            "kl_loss": self.kl_loss_tracker.result(),
        }


def build_baseline():
    vae = VAE(keras_io_encoder(), keras_io_decoder())
    vae.compile(optimizer=keras.optimizers.Adam())
    return vae


# ---------------------------------------------------------------- ours


def build_ours(steps_per_execution, jit_compile, dtype_policy="float32"):
    """``conv_vae`` recompiled with the same Adam and loss, plus the levers."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(dtype_policy)
    try:
        model = keras_ae.build("conv_vae", input_shape=(28, 28, 1), latent_dim=LATENT_DIM)
    finally:
        keras.config.set_dtype_policy(previous)
    model.compile(
        optimizer=keras.optimizers.Adam(),
        loss=model.loss,
        steps_per_execution=steps_per_execution,
        jit_compile=jit_compile,
    )
    return model


# ---------------------------------------------------------------- timing


def layer_profile(model, batch_size=BATCH_SIZE, repeats=20):
    """Times the forward and backward pass of each weighted layer of ``model``.

    Every layer with weights in the encoder and decoder runs alone inside a
    ``tf.function`` on a batch of random inputs of its input shape, with
    gradients for its weights and, except for the first layer (whose input,
    the images, needs none), for its input, as in a training step.

    Returns:
        A list of ``(layer name, class name, input shape, milliseconds)``.
    """
    rows = []
    for block in (model.get_layer("encoder"), model.get_layer("decoder")):
        for layer in block.layers:
            if not layer.trainable_weights:
                continue
            x = tf.random.uniform((batch_size, *layer.input.shape[1:]))
            input_grad = not (block.name == "encoder" and layer.input is block.inputs[0])

            @tf.function
            def step(x, layer=layer, input_grad=input_grad):
                with tf.GradientTape() as tape:
                    tape.watch(x)
                    y = layer(x)
                    loss = tf.reduce_sum(y * y)
                return tape.gradient(loss, [*layer.trainable_weights, *([x] if input_grad else [])])

            for _ in range(3):
                step(x)
            start = time.perf_counter()
            for _ in range(repeats):
                step(x)
            ms = (time.perf_counter() - start) / repeats * 1e3
            rows.append((layer.name, type(layer).__name__, tuple(layer.input.shape[1:]), ms))
    return rows


def print_layer_profile(args):
    model = build_ours(1, False)
    rows = layer_profile(model)
    total = sum(ms for *_, ms in rows)
    images = load_images(min(args.limit or 12_800, 12_800), args.seed)
    model.fit(images, images, batch_size=BATCH_SIZE, epochs=1, verbose=0)  # warm-up
    start = time.perf_counter()
    model.fit(images, images, batch_size=BATCH_SIZE, epochs=1, verbose=0)
    step_ms = (time.perf_counter() - start) / -(-len(images) // BATCH_SIZE) * 1e3
    table = markdown_table(
        [[name, kind, "x".join(map(str, shape)), f"{ms:.2f}", f"{ms / step_ms:.0%}"]
         for name, kind, shape, ms in rows],
        ["Layer", "Class", "Input", "Forward + backward (ms)", "Share of a training step"],
    )
    print(table)
    print(f"\nSum over layers: {total:.1f} ms; a whole training step of `fit` "
          f"(batch {BATCH_SIZE}, forward, backward, loss, Adam): {step_ms:.1f} ms "
          f"({total / step_ms:.0%} in these layers).")
    return 0


class EpochTimer(keras.callbacks.Callback):
    """Records the wall time of every epoch (from its first to last step)."""

    def __init__(self):
        super().__init__()
        self.seconds = []
        self.cpu_seconds = []
        self.last_loss = float("nan")
        self._start = self._cpu_start = None

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()
        self._cpu_start = time.process_time()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)
        self.cpu_seconds.append(time.process_time() - self._cpu_start)
        self.last_loss = float((logs or {}).get("loss", float("nan")))


class Side:
    """One contender: a model and how it is fed."""

    def __init__(self, name, model, fit_kwargs):
        self.name = name
        self.model = model
        self.fit_kwargs = fit_kwargs
        self.samples_per_second = []
        self.samples_per_cpu_second = []
        self.loss = float("nan")

    def run(self, epochs, n, record=True):
        timer = EpochTimer()
        self.model.fit(**self.fit_kwargs, epochs=epochs, verbose=0, callbacks=[timer])
        self.loss = timer.last_loss
        if record:
            self.samples_per_second.append(epochs * n / sum(timer.seconds))
            self.samples_per_cpu_second.append(epochs * n / sum(timer.cpu_seconds))


def load_images(limit, seed):
    """MNIST train + test as (n, 28, 28, 1) float32 in [0, 1], as in the example."""
    (x_train, _), (x_test, _) = data.load("mnist")
    images = np.concatenate([x_train, x_test], axis=0)
    if limit is not None and limit < len(images):
        rng = np.random.default_rng(seed)
        images = images[np.sort(rng.choice(len(images), size=limit, replace=False))]
    return images


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=None,
                        help="number of MNIST images (default: all 70 000)")
    parser.add_argument("--rounds", type=int, default=4, help="alternating timed rounds (even: ABBA)")
    parser.add_argument("--epochs", type=int, default=1, help="timed epochs per side per round")
    parser.add_argument("--steps-per-execution", type=int, default=8,
                        help="steps_per_execution of ours")
    parser.add_argument("--jit", action="store_true", help="compile ours with XLA")
    parser.add_argument("--dtype-policy", choices=("float32", "mixed_bfloat16", "mixed_float16"),
                        default="float32", help="Keras dtype policy of ours (mixed precision)")
    parser.add_argument("--feed", choices=("tfdata", "numpy"), default="tfdata",
                        help="how ours is fed: keras_ae.data.as_dataset or NumPy arrays")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile-layers", action="store_true",
                        help="only print the time of each layer's forward and backward pass")
    parser.add_argument("--smoke", action="store_true",
                        help=f"quick check: {SMOKE_LIMIT} images, 1 round of 1 epoch")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="Markdown file to write")
    args = parser.parse_args(argv)
    if args.smoke:
        args.limit = min(args.limit or SMOKE_LIMIT, SMOKE_LIMIT)
        args.rounds, args.epochs = 1, 1
    for name in ("rounds", "epochs", "steps_per_execution"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be a positive integer")
    return args


def main(argv=None):
    args = parse_args(argv)
    warnings.filterwarnings("ignore", module="keras")
    if args.profile_layers:
        return print_layer_profile(args)
    images = load_images(args.limit, args.seed)
    n = len(images)

    keras.utils.set_random_seed(args.seed)
    ours_model = build_ours(args.steps_per_execution, args.jit, args.dtype_policy)
    if args.feed == "tfdata":
        ours_fit = {"x": data.as_dataset(images, batch_size=BATCH_SIZE, seed=args.seed)}
    else:
        ours_fit = {"x": images, "y": images, "batch_size": BATCH_SIZE}
    keras.utils.set_random_seed(args.seed)
    baseline_model = build_baseline()
    for name in ("encoder", "decoder"):  # identical networks, or no comparison
        theirs, mine = getattr(baseline_model, name), ours_model.get_layer(name)
        if [w.shape for w in mine.weights] != [w.shape for w in theirs.weights]:
            raise SystemExit(f"The {name}s differ: {mine.count_params()} vs {theirs.count_params()} weights")
    ours = Side("ours", ours_model, ours_fit)
    baseline = Side("baseline", baseline_model, {"x": images, "batch_size": BATCH_SIZE})
    sides = (ours, baseline)

    print(f"Warm-up: one untimed epoch per side on {n} images (tracing, compilation)", flush=True)
    for side in sides:
        side.run(1, n, record=False)
    ratios = []
    for r in range(1, args.rounds + 1):
        # ABBA order (ours first in odd rounds): a steady drift of the load
        # from other processes does not favour either side.
        for side in sides if r % 2 else sides[::-1]:
            side.run(args.epochs, n)
        ratios.append(ours.samples_per_second[-1] / baseline.samples_per_second[-1])
        print(
            f"round {r}/{args.rounds}: ours {ours.samples_per_second[-1]:.0f} samples/s, "
            f"baseline {baseline.samples_per_second[-1]:.0f} samples/s, ratio {ratios[-1]:.3f}",
            flush=True,
        )

    ours_settings = (
        f"`conv_vae`, {'tf.data (as_dataset)' if args.feed == 'tfdata' else 'NumPy arrays'}, "
        f"steps_per_execution={args.steps_per_execution}, jit_compile={args.jit}"
        + (f", dtype policy {args.dtype_policy}" if args.dtype_policy != "float32" else "")
    )

    def cells(side):
        return [
            f"{statistics.median(side.samples_per_second):.0f}",
            " / ".join(f"{q:.0f}" for q in side.samples_per_second),
            f"{statistics.median(side.samples_per_cpu_second):.0f}",
            f"{side.loss:.2f}",
        ]

    rows = [
        ["ours: " + ours_settings, *cells(ours)],
        ["baseline: keras.io `VAE` subclass, `fit(numpy, batch_size=128)`", *cells(baseline)],
    ]
    median_ratio = statistics.median(ratios)
    cpu_ratio = statistics.median(
        o / b for o, b in zip(ours.samples_per_cpu_second, baseline.samples_per_cpu_second)
    )
    table = markdown_table(
        rows,
        ["Model", "Median samples/s", "Samples/s per round", "Median samples per CPU-second",
         "Last loss (nats)"],
    )
    ratio_line = (
        f"**Ratio ours / baseline (median of per-round ratios of samples/s): {median_ratio:.3f}** "
        f"(per round: {', '.join(f'{q:.3f}' for q in ratios)}; "
        f"by samples per CPU-second: {cpu_ratio:.3f})"
    )
    print()
    print(table)
    print()
    print(ratio_line)

    setup = [
        machine_line(),
        f"- Data: {n} MNIST images (train + test{'' if args.limit is None else ', seeded subset'}), "
        f"batch size {BATCH_SIZE}, Adam (learning rate 1e-3) on both sides, seed {args.seed}.",
        f"- Timing: one untimed warm-up epoch per side, then {args.rounds} alternating round(s) "
        f"of {args.epochs} timed epoch(s) per side (ours first in odd rounds, the baseline in "
        "even ones). Samples/s is wall time; samples per CPU-second (process CPU time) is "
        "less sensitive to other processes on the machine.",
        "- Identical networks: Conv 32/64 stride 2, Dense 16, latent 2 (encoder, "
        f"{ours_model.get_layer('encoder').count_params():,} weights on our side, "
        f"{baseline_model.encoder.count_params():,} on the baseline's); Dense 7x7x64 from z, "
        f"Conv2DTranspose 64/32/1 (decoder, {ours_model.get_layer('decoder').count_params():,} and "
        f"{baseline_model.decoder.count_params():,}); loss = summed binary cross-entropy + analytic KL, "
        "averaged over the batch. One difference: ours parameterizes the posterior scale with a "
        "softplus (the example with a log-variance).",
    ]
    if args.smoke:
        setup.insert(0, "- **Smoke run** (a slice, one round of one epoch): not a measurement.")
    write_results(args.out, "Training throughput: `conv_vae` vs the keras.io VAE example",
                  table, ratio_line, "\n".join(setup))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
