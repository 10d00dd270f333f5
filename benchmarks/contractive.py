"""Step time of the contractive penalty paths against a plain step.

Model: a 784-64 sigmoid encoder with its mirrored decoder, batch 128,
Bernoulli loss, no XLA (``batch_jacobian`` does not compile under XLA).
The baseline is the same Functional graph trained by Keras' own
``train_step`` (no penalty). Models are timed in alternating rounds in one
process, and the median ratio over rounds is reported, so a busy machine
slows every candidate alike.

Run: ``python benchmarks/contractive.py [--rounds 5] [--steps 50]``.
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_ae  # noqa: E402
from keras_ae.losses import NegativeLogLikelihood  # noqa: E402

PATHS = ("closed_form", "hutchinson", "exact")


def build_models():
    keras.utils.set_random_seed(0)
    models = {}
    for path in PATHS:
        models[path] = keras_ae.build(
            "contractive", input_shape=(784,), latent_dim=64, hidden=(), activation="sigmoid",
            jacobian=path, contraction_weight=0.1, seed=0,
        )
    reference = models["closed_form"]
    plain = keras.Model(reference.input, reference.output, name="plain")
    plain.compile(optimizer=keras.optimizers.Adam(1e-3), loss=NegativeLogLikelihood("bernoulli"),
                  jit_compile=False)
    models = {"plain": plain, **models}
    for model in models.values():
        model.set_weights(reference.get_weights())
    return models


def time_steps(model, x, steps, batch_size):
    model.fit(x[: batch_size * 2], x[: batch_size * 2], batch_size=batch_size, epochs=1, verbose=0)  # trace
    start = time.perf_counter()
    model.fit(x[: batch_size * steps], x[: batch_size * steps], batch_size=batch_size, epochs=1,
              shuffle=False, verbose=0)
    return (time.perf_counter() - start) / steps


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results", "contractive.md"))
    args = parser.parse_args(argv)

    x = np.random.default_rng(0).uniform(size=(args.batch_size * args.steps, 784)).astype("float32")
    models = build_models()
    times = {name: [] for name in models}
    for _ in range(args.rounds):
        for name, model in models.items():
            times[name].append(time_steps(model, x, args.steps, args.batch_size))
    ratios = {
        name: statistics.median(t / p for t, p in zip(times[name], times["plain"])) for name in models
    }
    lines = [
        "| path | step time (ms, median) | ratio to plain step (median of rounds) |",
        "|---|---|---|",
    ]
    for name in models:
        lines.append(f"| {name} | {1000 * statistics.median(times[name]):.2f} | {ratios[name]:.2f}x |")
    table = "\n".join(lines)
    header = (
        "Contractive penalty step time, 784-64 sigmoid encoder, batch "
        f"{args.batch_size}, {args.rounds} alternating rounds of {args.steps} steps.\n\n"
    )
    print(header + table)
    if args.out:
        os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
        with open(args.out, "w") as f:
            f.write(header + table + "\n")
    return ratios


if __name__ == "__main__":
    main()
