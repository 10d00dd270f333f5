"""Sample quality of the generative autoencoders on MNIST, and mode coverage on a ring of Gaussians.

Two experiments, each measured in one run with the same budget for every model:

1. **MNIST.** ``vae``, ``beta_vae``, ``aae``, ``wae_mmd``, ``wae_gan``,
   ``ali`` and ``bigan`` (``keras_ae.build``), all dense MLPs on flattened
   images with the same encoder widths (``--hidden``, decoder mirrored), the
   same code size (``--latent-dim``, 8 as in the WAE paper's MNIST run), the
   same epochs, batch size and seed; every other option is the builder's
   default (likelihood or cost, learning rate, loss weights). Scored on the
   10 000 test images:

   * reconstruction error: ``keras_ae.metrics.reconstruction_error`` of
     ``decoder(encoder(x))`` (summed squared error per image, pixels in
     [0, 1]; the encoder gives its mean code);
   * "FID on MNIST features": ``keras_ae.sample_quality.frechet_distance``
     between the features of ``--samples`` samples (prior codes through the
     decoder, its mean output, clipped to [0, 1]) and those of the test
     images, on the in-project MNIST classifier
     (``sample_quality.load_feature_network``). Never comparable with an
     Inception FID;
   * precision and recall (Kynkäänniemi et al. 2019, k = 3) of the same
     samples against the test images, on the same features;
   * test NLL for the VAEs only: minus the IWAE estimate of log p(x)
     (``keras_ae.metrics.iwae_log_likelihood``) on the first ``--iwae-images``
     test images. MNIST is kept grey-level (not binarized), so this is the
     Bernoulli cross-entropy of grey levels, not the NLL of binarized MNIST
     quoted in papers (about 85-90 nats); the other models define no
     likelihood ("-").

   A reference row scores ``--samples`` training images in place of samples:
   the floor of the FID and the ceiling of precision and recall at this
   sample size.

2. **Ring of Gaussians** (``sample_quality.ring_data``: 8 modes, radius 2,
   std 0.02). A plain GAN (``keras_ae.models.gan``) and AAEs
   (``keras_ae.build("aae", input_shape=(2,), latent_dim=2, ...)``, squared
   error reconstruction) with a Gaussian prior and with an 8-component
   mixture prior (component scale 0.5, the default, and 0.05), all with
   128x128 ReLU MLPs (LeakyReLU in the AAE discriminator), Adam 1e-3
   (beta_1 0.5), batch 512, on ``--ring-seeds`` seeds. After each of
   ``--ring-steps`` training steps, ``--ring-samples`` samples are scored
   with ``sample_quality.ring_modes``: the modes covered (at least a fifth of
   a mode's share of high-quality samples) and the fraction of high-quality
   samples (within 3 std of the nearest centre).

Run: ``python benchmarks/generative.py`` (full, about 15 minutes on 2 CPU
cores), ``--parts mnist`` or ``--parts ring`` for one part, ``--smoke`` for a
tiny run (a slice of MNIST, one epoch, a feature network trained here for one
epoch on the slice, a few ring steps). MNIST is read from the Keras cache.
"""

import argparse
import json
import math
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))

import keras_ae  # noqa: E402
from keras_ae import data, metrics  # noqa: E402
from keras_ae import sample_quality as sq  # noqa: E402
from keras_ae.models import gan  # noqa: E402

from _common import machine_line, markdown_table, write_results  # noqa: E402

MODELS = ("vae", "beta_vae", "aae", "wae_mmd", "wae_gan", "ali", "bigan")
#: What each builder's defaults make of the model (checked against the built model in ``describe``).
PENALTIES = {
    "vae": "KL to N(0, I), weight 1",
    "beta_vae": "KL to N(0, I), weight 4",
    "aae": "GAN on codes (deterministic encoder), weight 1",
    "wae_mmd": "MMD to N(0, I) (IMQ kernels), weight 10",
    "wae_gan": "GAN on codes (deterministic encoder), weight 1",
    "ali": "GAN on (x, z) pairs, Gaussian encoder; no reconstruction loss",
    "bigan": "GAN on (x, z) pairs, deterministic encoder; no reconstruction loss",
}
VAES = ("vae", "beta_vae")
REFERENCE = "test images vs training images"
RING_MODELS = ("gan", "aae_gaussian", "aae_mixture", "aae_mixture_narrow")
RING_LABELS = {
    "gan": "GAN",
    "aae_gaussian": "AAE, Gaussian prior",
    "aae_mixture": "AAE, 8-component mixture prior, scale 0.5",
    "aae_mixture_narrow": "AAE, 8-component mixture prior, scale 0.05",
}
#: The centres of ``sample_quality.ring_data()`` (8 modes on a circle of radius 2), for the median distance.
RING_CENTRES = 2.0 * np.stack([np.cos(2 * np.pi * np.arange(8) / 8), np.sin(2 * np.pi * np.arange(8) / 8)], axis=1)
RING_OPTIONS = {
    "aae_gaussian": {"prior": "gaussian"},
    "aae_mixture": {"prior": "mixture", "prior_components": 8},
    "aae_mixture_narrow": {"prior": "mixture", "prior_components": 8, "prior_scale": 0.05},
}


def _fmt(value, digits=2):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}f}"


# ---------------------------------------------------------------------------
# MNIST


def describe(name, model):
    """The loss of ``name`` as built: decoder cost, latent penalty, optimizer."""
    if name in ("ali", "bigan"):
        cost = "decoder Bernoulli (sigmoid output)"
    elif model.likelihood == "bernoulli":
        cost = "Bernoulli cross-entropy"
    elif model.decoder_scale is None:
        cost = "squared error"
    else:
        cost = f"Gaussian, scale {model.decoder_scale:g}"
    lr = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
    beta_1 = float(keras.ops.convert_to_numpy(model.optimizer.beta_1))
    return f"{cost}; {PENALTIES[name]}; Adam {lr:g}" + (f" (beta_1 {beta_1:g})" if beta_1 != 0.9 else "")


def prior_codes(name, model, n, latent_dim, seed):
    if name in VAES:
        return keras.random.normal((n, latent_dim), seed=seed)
    return model.sample_prior(n, seed=seed)


def decode(decoder, codes, batch_size=1000):
    return np.asarray(decoder.predict(codes, batch_size=batch_size, verbose=0), dtype="float32")


def quality(network, real_features, images):
    """FID on MNIST features, precision and recall of ``images`` (clipped to [0, 1]) against the real features."""
    fake = sq.features(network, np.clip(images, 0.0, 1.0))
    pr = sq.precision_recall(real_features, fake, k=3)
    return {"fid": sq.frechet_distance(real_features, fake), "precision": pr["precision"], "recall": pr["recall"]}


def feature_network(args, x_train, y_train, x_test, y_test):
    """The MNIST classifier whose features score the samples, and its test accuracy.

    Full run: the cached network (trained and saved first if missing). Smoke
    run: a network trained here for one epoch on the slice, never saved.
    """
    if args.smoke:
        trained = sq.train_feature_network(
            data=((x_train.reshape(-1, 28, 28, 1), y_train), (x_test.reshape(-1, 28, 28, 1), y_test)),
            epochs=1, seed=args.seed)
        return trained.network, trained.test_accuracy, "trained in this run on the smoke slice (1 epoch), not saved"
    network = sq.load_feature_network("mnist", train=True)
    probabilities = network.predict(x_test.reshape(-1, 28, 28, 1), batch_size=1000, verbose=0)
    accuracy = float(np.mean(probabilities.argmax(axis=1) == y_test))
    return network, accuracy, "`sample_quality.load_feature_network(\"mnist\", train=True)` (the cached network)"


def run_mnist(args):
    limit = 1000 if args.smoke else None
    (x_train, y_train), (x_test, y_test) = data.load("mnist", flatten=True, limit=limit, seed=0)
    n = min(args.samples, len(x_test), len(x_train))
    print(f"MNIST: {len(x_train)} training and {len(x_test)} test images; {n} samples per model", flush=True)
    start = time.perf_counter()
    network, accuracy, network_note = feature_network(args, x_train, y_train, x_test, y_test)
    real = sq.features(network, x_test)
    print(f"feature network: test accuracy {accuracy:.4f} ({time.perf_counter() - start:.0f} s)", flush=True)
    # The reference: as many training images as samples, against the same test images.
    subset = np.random.default_rng(args.seed).choice(len(x_train), n, replace=False)
    reference = {"model": REFERENCE, **quality(network, real, x_train[subset])}
    print(f"  {REFERENCE}: FID {reference['fid']:.3f} precision {reference['precision']:.3f} "
          f"recall {reference['recall']:.3f}", flush=True)

    rows = []
    for name in args.models:
        keras.utils.set_random_seed(args.seed)
        model = keras_ae.build(name, input_shape=(784,), latent_dim=args.latent_dim, hidden=tuple(args.hidden),
                               seed=args.seed)
        start = time.perf_counter()
        history = model.fit(x_train, epochs=args.epochs, batch_size=args.batch_size, shuffle=True, verbose=0)
        seconds = time.perf_counter() - start
        encoder, decoder = model.get_layer("encoder"), model.get_layer("decoder")
        reconstructions = decode(decoder, encoder.predict(x_test, batch_size=1000, verbose=0))
        samples = decode(decoder, prior_codes(name, model, n, args.latent_dim, args.seed))
        row = {
            "model": name, "options": describe(name, model), "train_seconds": seconds,
            "reconstruction_error": float(metrics.reconstruction_error(x_test, reconstructions).mean()),
            **quality(network, real, samples),
            "samples_outside_unit_interval": float(np.mean((samples < 0) | (samples > 1))),
            "nll": None,
            "final_terms": {k: float(v[-1]) for k, v in history.history.items()},
        }
        if name in VAES:
            iwae = metrics.iwae_log_likelihood(model, x_test[: args.iwae_images], k=args.iwae_k, seed=args.seed)
            row["nll"] = float(-iwae.mean())
        rows.append(row)
        print(f"  {name:<9} recon {row['reconstruction_error']:.2f}  FID {row['fid']:.3f}  precision "
              f"{row['precision']:.3f}  recall {row['recall']:.3f}  NLL {_fmt(row['nll'])}  "
              f"({seconds:.0f} s training)  {row['final_terms']}", flush=True)
    return {"rows": rows, "reference": reference, "feature_network": {"test_accuracy": accuracy, "how": network_note},
            "train_images": len(x_train), "test_images": len(x_test), "samples": n}


def mnist_blocks(result, args):
    rows, ref, n = result["rows"], result["reference"], result["samples"]
    header = ["Model", "Reconstruction error", "FID on MNIST features", "Precision", "Recall",
              f"Test NLL (nats, IWAE k={args.iwae_k})", "Train seconds", "Loss as built"]
    lines = [[r["model"], _fmt(r["reconstruction_error"]), _fmt(r["fid"], 3), _fmt(r["precision"], 3),
              _fmt(r["recall"], 3), _fmt(r["nll"]), f"{r['train_seconds']:.0f}", r["options"]] for r in rows]
    lines.append([REFERENCE, "-", _fmt(ref["fid"], 3), _fmt(ref["precision"], 3), _fmt(ref["recall"], 3),
                  "-", "-", f"{n} training images in place of samples"])
    notes = [
        f"- Budget, the same for every model: dense MLPs 784-{'-'.join(map(str, args.hidden))}-{args.latent_dim} "
        f"(decoder mirrored), {args.epochs} epoch{'s' if args.epochs != 1 else ''} at batch {args.batch_size} "
        f"on {result['train_images']} "
        f"training images, seed {args.seed}; every other option is the builder's default (column \"Loss as "
        "built\").",
        f"- Reconstruction error: summed squared error per test image (pixels in [0, 1]), mean over the "
        f"{result['test_images']} test images, of `decoder(encoder(x))` (mean codes).",
        f"- Samples: {n} prior codes (seed {args.seed}) through the decoder; its mean output (sigmoid "
        "probabilities, or the linear output of a squared-error decoder clipped to [0, 1]); no pixel noise.",
        f"- FID on MNIST features, precision and recall (k = 3): against the {result['test_images']} test images, "
        f"on the 128 features of the in-project MNIST classifier ({result['feature_network']['how']}; test "
        f"accuracy {result['feature_network']['test_accuracy']:.4f}). Not comparable with an Inception FID.",
        f"- Test NLL: VAEs only, minus the IWAE bound (k = {args.iwae_k}) on the first {args.iwae_images} test "
        "images, of grey-level MNIST under the Bernoulli decoder (the cross-entropy of grey levels, not the NLL "
        "of binarized MNIST); the others define no likelihood.",
    ]
    return ["## MNIST: sample quality at the same budget", markdown_table(lines, header), "\n".join(notes),
            mnist_verdict(rows, ref)]


def mnist_verdict(rows, ref):
    by = {r["model"]: r for r in rows}
    # Recall near 0 means the samples cover none of the test digits: the model collapsed or failed,
    # and its precision says nothing (one sample repeated can lie inside the real manifold).
    working = [r for r in rows if r["recall"] >= 0.01] or rows
    failed = [r for r in rows if r not in working]
    out = []
    best = min(rows, key=lambda r: r["fid"])
    out.append(f"- Lowest FID on MNIST features: `{best['model']}` ({best['fid']:.2f}; the reference floor at this "
               f"sample size is {ref['fid']:.2f}).")
    for key, word in (("precision", "precision (samples that look like test digits)"),
                      ("recall", "recall (test digits the samples cover)")):
        top = max(working, key=lambda r: r[key])
        out.append(f"- Highest {word}: `{top['model']}` ({top[key]:.3f}; reference {ref[key]:.3f})"
                   + (" among the models with a recall of at least 0.01." if failed and key == "precision" else "."))
    faithful = min(rows, key=lambda r: r["reconstruction_error"])
    out.append(f"- Lowest reconstruction error: `{faithful['model']}` ({faithful['reconstruction_error']:.2f}).")
    for r in failed:
        out.append(f"- `{r['model']}` failed: recall {r['recall']:.3f} (no test digit is near its samples), FID "
                   f"{r['fid']:.1f}; its precision ({r['precision']:.3f}) is meaningless there.")
    if "vae" in by:
        for wae in ("wae_mmd", "wae_gan"):
            if wae in by:
                holds = by[wae]["fid"] < by["vae"]["fid"]
                out.append(f"- Published ordering (Tolstikhin et al. 2018: WAE samples sharper than the VAE's) for "
                           f"`{wae}` vs `vae`: FID {by[wae]['fid']:.2f} vs {by['vae']['fid']:.2f}, precision "
                           f"{by[wae]['precision']:.3f} vs {by['vae']['precision']:.3f}: "
                           f"{'holds' if holds else 'does not hold'} on FID at this budget.")
    return "What the table says (computed from the numbers above):\n\n" + "\n".join(out)


# ---------------------------------------------------------------------------
# Ring of Gaussians


def build_ring_model(kind, seed, learning_rate):
    keras.utils.set_random_seed(seed)
    if kind == "gan":
        return gan(data_shape=(2,), latent_dim=2, hidden=(128, 128), discriminator_hidden=(128, 128),
                   learning_rate=learning_rate, seed=seed)
    return keras_ae.build("aae", input_shape=(2,), latent_dim=2, hidden=(128, 128), discriminator_hidden=(128, 128),
                          likelihood="gaussian", decoder_scale=None, learning_rate=learning_rate, seed=seed,
                          **RING_OPTIONS[kind])


def ring_samples(kind, model, n, seed):
    if kind == "gan":
        return model.sample(n, seed=seed)
    codes = model.sample_prior(n, seed=seed)
    return np.asarray(model.get_layer("decoder")(codes, training=False))


def run_ring(args):
    steps = sorted(args.ring_steps)
    chunk = math.gcd(*steps)  # steps per pass over the training points
    rows = []
    for seed in args.ring_seeds:
        points = sq.ring_data(args.ring_batch * chunk, seed=seed)
        for kind in args.ring_models:
            model = build_ring_model(kind, seed, args.ring_learning_rate)
            start, done = time.perf_counter(), 0
            for target in steps:
                model.fit(points, epochs=target // chunk, initial_epoch=done // chunk, batch_size=args.ring_batch,
                          shuffle=True, verbose=0)
                done = target
                samples = ring_samples(kind, model, args.ring_samples, seed=1000 + seed)
                found = sq.ring_modes(samples)
                nearest = np.sqrt(((samples[:, None, :] - RING_CENTRES[None]) ** 2).sum(-1)).min(axis=1)
                rows.append({"model": kind, "seed": seed, "steps": target, "modes_covered": found["modes_covered"],
                             "high_quality": found["high_quality"], "per_mode": found["per_mode"],
                             "median_distance": float(np.median(nearest)),
                             "seconds": time.perf_counter() - start})
                r = rows[-1]
                print(f"  ring {RING_LABELS[kind]:<44} seed {seed} {target:>5} steps: {r['modes_covered']} modes, "
                      f"high quality {r['high_quality']:.3f}, median distance {r['median_distance']:.3f} "
                      f"per mode {r['per_mode']} ({r['seconds']:.0f} s)", flush=True)
    return rows


def ring_blocks(rows, args):
    steps = sorted(args.ring_steps)
    header = ["Model"] + [f"{s} steps" for s in steps]
    tables = []
    for key, title, digits in (
        ("modes_covered", "Modes covered (of 8)", 1),
        ("high_quality", "Fraction of high-quality samples (within 3 std = 0.06 of a centre)", 2),
        ("median_distance", "Median distance of a sample to the nearest centre (3 std = 0.06)", 3),
    ):
        lines = []
        for kind in args.ring_models:
            cells = [RING_LABELS[kind]]
            for s in steps:
                values = [r[key] for r in rows if r["model"] == kind and r["steps"] == s]
                per_seed = ", ".join(str(v) if key == "modes_covered" else f"{v:.{digits}f}" for v in values)
                cells.append(f"{np.mean(values):.{digits}f} ({per_seed})")
            lines.append(cells)
        tables.append(f"{title}; mean over seeds {args.ring_seeds} (per seed in parentheses):\n\n"
                      + markdown_table(lines, header))
    notes = (
        f"- Data: `sample_quality.ring_data` (8 modes, radius 2, std 0.02), {args.ring_batch * math.gcd(*steps)} "
        f"points per seed, reshuffled every {math.gcd(*steps)} steps; batch {args.ring_batch}; Adam "
        f"{args.ring_learning_rate:g} (beta_1 0.5) for both networks of every model; 128x128 MLPs; code and "
        "noise size 2.\n"
        "- GAN: `keras_ae.models.gan(data_shape=(2,), latent_dim=2)`, samples `model.sample(n)`. AAE: "
        "`keras_ae.build(\"aae\", input_shape=(2,), latent_dim=2, likelihood=\"gaussian\", decoder_scale=None)` "
        "(squared-error reconstruction, deterministic encoder, adversarial weight 1), samples "
        "`decoder(model.sample_prior(n))`; mixture prior: 8 components on a circle of radius 4 in code space.\n"
        f"- {args.ring_samples} samples per model and checkpoint, scored by `sample_quality.ring_modes` "
        f"(a mode is covered with at least {math.ceil(0.2 * args.ring_samples / 8)} high-quality samples)."
    )
    last = steps[-1]
    verdict = []
    for kind in args.ring_models:
        final = [r for r in rows if r["model"] == kind and r["steps"] == last]
        peak = max((r for r in rows if r["model"] == kind), key=lambda r: r["modes_covered"])
        verdict.append(f"- {RING_LABELS[kind]}: after {last} steps {np.mean([r['modes_covered'] for r in final]):.1f} "
                       f"modes and {np.mean([r['high_quality'] for r in final]):.2f} high-quality on average; best "
                       f"checkpoint of any seed {peak['modes_covered']} modes (seed {peak['seed']}, {peak['steps']} "
                       "steps).")
    return ["## Ring of Gaussians: mode coverage", *tables, notes,
            "What the tables say (computed from the numbers above):\n\n" + "\n".join(verdict)]


# ---------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", nargs="+", choices=("mnist", "ring"), default=["mnist", "ring"])
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--latent-dim", type=int, default=8)
    parser.add_argument("--hidden", nargs="+", type=int, default=[512, 256])
    parser.add_argument("--samples", type=int, default=10000, help="samples per model (and reference images)")
    parser.add_argument("--iwae-k", type=int, default=1000)
    parser.add_argument("--iwae-images", type=int, default=1000, help="test images of the IWAE estimate")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ring-models", nargs="+", choices=RING_MODELS, default=list(RING_MODELS))
    parser.add_argument("--ring-steps", nargs="+", type=int, default=[1000, 2000, 4000, 6000])
    parser.add_argument("--ring-seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--ring-batch", type=int, default=512)
    parser.add_argument("--ring-samples", type=int, default=2500)
    parser.add_argument("--ring-learning-rate", type=float, default=1e-3)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results", "generative.md"))
    parser.add_argument("--report-from", metavar="JSON", default=None,
                        help="write the page again from the .json of an earlier run (no training)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.epochs, args.samples, args.iwae_k, args.iwae_images = 1, 1000, 10, 100
        args.ring_steps, args.ring_seeds, args.ring_samples = [20, 40], [0], 500
    if min(args.ring_steps) < 1 or args.epochs < 1 or args.samples < 4:
        parser.error("--ring-steps and --epochs must be positive and --samples at least 4")
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.report_from:  # the tables and verdicts of an earlier run, from its raw results
        with open(args.report_from) as f:
            saved = json.load(f)
        out = args.out
        args = argparse.Namespace(**saved["config"])
        args.out, args.report_from = out, None
        result = {part: saved[part] for part in ("mnist", "ring") if part in saved}
        total, command, machine = saved["total_seconds"], saved["command"], saved["machine"]
    else:
        start = time.perf_counter()
        result = {}
        if "mnist" in args.parts:
            print("== mnist", flush=True)
            result["mnist"] = run_mnist(args)
        if "ring" in args.parts:
            print("== ring", flush=True)
            result["ring"] = run_ring(args)
        total = time.perf_counter() - start
        command = " ".join(["python benchmarks/generative.py", *(argv if argv is not None else sys.argv[1:])])
        machine = machine_line()
    blocks = [
        machine,
        f"- Total time {total / 60:.1f} min; command: `{command}`"
        + (" (**smoke run**: tiny budget, numbers meaningless)" if args.smoke else "") + ".",
    ]
    if "mnist" in result:
        blocks += mnist_blocks(result["mnist"], args)
    if "ring" in result:
        blocks += ring_blocks(result["ring"], args)
    report = "\n\n".join(blocks)
    print("\n" + report)
    if args.out:
        raw = os.path.splitext(args.out)[0] + ".json"
        os.makedirs(os.path.dirname(os.path.abspath(raw)), exist_ok=True)
        with open(raw, "w") as f:
            json.dump({"config": vars(args), "machine": machine, "command": command, "total_seconds": total, **result},
                      f, indent=1)
        write_results(args.out, "Generative autoencoders: sample quality on MNIST, mode coverage on a ring", *blocks)
    return result


if __name__ == "__main__":
    main()
