"""Scenarios of tests/test_distribute.py, each run in a fresh process.

Logical CPU devices and ``MultiWorkerMirroredStrategy`` must be set up before
TensorFlow initializes its runtime, which a pytest worker may already have
done, so every scenario runs as::

    python tests/_distribute_worker.py <scenario> [options]

and prints one JSON object on its last line of stdout. Scenarios:

- ``mirrored``: single-device vs ``MirroredStrategy`` over 2 logical CPUs,
  for every case of ``MIRRORED_CASES``.
- ``worker``: one worker of a 2-worker ``MultiWorkerMirroredStrategy``
  cluster (``TF_CONFIG`` set by the caller): checks that Keras' ``fit`` is
  still broken without the shim, trains ``dense`` and ``vae``, saves weights
  and models; worker 0 also trains the single-process reference.
- ``backup``: one worker training ``dense`` with
  ``keras_ae.distribute.backup_and_restore``; with ``--pause-at E:B`` the
  worker with ``--pause-worker`` writes a marker and sleeps at batch B of
  epoch E, for the caller to kill it.
"""

import argparse
import json
import os
import sys
import time

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

N_EXAMPLES = 256
BATCH = 64  # global batch: 32 examples per replica with 2 replicas
EPOCHS = 2

# name -> (registered model, options, optimizer override, posterior noise).
MIRRORED_CASES = {
    "dense": ("dense", {"hidden": (32,)}, None, None),
    "sparse_l1": ("sparse", {"sparsity": "l1", "sparsity_weight": 1e-2}, None, None),
    "sparse_kl": ("sparse", {"sparsity": "kl", "sparsity_weight": 1.0}, None, None),
    "contractive_closed_form_sgd": (
        "contractive", {"jacobian": "closed_form", "contraction_weight": 1.0}, "sgd", None,
    ),
    "contractive_exact": ("contractive", {"jacobian": "exact", "hidden": (16,), "contraction_weight": 1.0}, None, None),
    "contractive_hutchinson": (
        "contractive", {"jacobian": "hutchinson", "hidden": (16,), "contraction_weight": 1.0, "seed": 3}, None, None,
    ),
    "vae": ("vae", {"hidden": (32,), "seed": 1}, None, "off"),
    "vae_noisy": ("vae", {"hidden": (32,), "seed": 1}, None, "on"),
    "conv1d": ("conv1d", {"filters": (8, 4), "dropout": 0.0}, None, None),
    # DFC-VAE: the perceptual term of a frozen (untrained) conv net, z at the posterior mean.
    "dfc_vae": ("dfc_vae", {"filters": (4, 8), "hidden": (16,), "feature_network": "random",
                            "feature_weights": (100.0, 100.0), "seed": 1}, None, "off"),
    # PixelVAE: the gated PixelCNN decoder, teacher-forced (no noise in training), z at the posterior mean.
    "pixelcnn_vae": ("pixelcnn_vae", {"filters": (4,), "pixelcnn_filters": 8, "pixelcnn_layers": 2,
                                      "condition_channels": 2, "seed": 1}, None, "off"),
    # VQ-VAE: the EMA codebook's counts and sums are summed over the replicas.
    "vq_vae": ("vq_vae", {"filters": (8, 16), "num_embeddings": 16, "decay": 0.9, "prior_filters": 8,
                          "prior_layers": 1}, None, None),
    # DEC refining (both terms on): the targets' cluster frequencies are summed over the replicas.
    "dec": ("dec", {"hidden": (32,), "n_clusters": 4}, None, None),
    # M2 on labelled and unlabelled examples (MIXED_LABELS), z at the posterior mean.
    "m2": ("m2", {"hidden": (32,), "classifier_hidden": (16,)}, None, "off"),
    # AutoRec: the squared error over the non-zero entries only, plus weight decay.
    # The digits are in [0, 1]: ratings on a 0-1 scale (0 = unobserved).
    "autorec": ("autorec", {"weight_decay": 1e-2, "min_rating": 0.0, "max_rating": 1.0, "default_rating": 0.5},
                None, None),
    # Semantic hashing: the multinomial NLL of the counts; no code noise (exact), then with it (noisy).
    "semantic_hashing": ("semantic_hashing", {"hidden": (32,), "noise_level": 0.0}, None, None),
    "semantic_hashing_noisy": ("semantic_hashing", {"hidden": (32,), "noise_level": 4.0, "seed": 1}, None, None),
    "conv1d_dropout": ("conv1d", {"filters": (8, 4), "dropout": 0.2, "seed": 1}, None, None),
    # Prior samples are drawn per replica: noisy. SGD, so that a loss (of the
    # model or of its discriminator) not divided by the replicas would show.
    "aae": ("aae", {"hidden": (32,), "discriminator_hidden": (16,), "seed": 1}, "sgd", "on"),
    "wae_mmd": ("wae_mmd", {"hidden": (32,), "seed": 1}, "sgd:0.005", "on"),
    # Its generator's batch normalization uses each replica's half batch; its
    # discriminator's dropout is off (conv1d_dropout tests per-replica masks).
    "ali": ("ali", {"hidden": (32,), "discriminator_hidden": (16,), "discriminator_dropout": 0.0, "seed": 1},
            "sgd", "on"),
    # Adam, as built: its slots for the discriminator exist before the first
    # distributed step (created by compile, in the strategy's scope).
    "aae_adam": ("aae", {"hidden": (32,), "discriminator_hidden": (16,), "seed": 1}, None, "on"),
    "gan_adam": ("gan", {"hidden": (32,), "discriminator_hidden": (16,), "output": "sigmoid", "seed": 1}, None,
                 "on"),
    # Not registered (not an autoencoder): keras_ae.models.gan.
    "gan": ("gan", {"hidden": (32,), "discriminator_hidden": (16,), "output": "sigmoid", "seed": 1}, "sgd", "on"),
}
# The shape of one digit for a model of each input rank: a vector, 8 time steps of 8 features, or an image.
SHAPES = {1: (64,), 2: (8, 8), 3: (8, 8, 1)}


def _emit(result):
    sys.stdout.write("\n" + json.dumps(result) + "\n")
    sys.stdout.flush()


def _data():
    from keras_ae import data

    (x, _), _ = data.load("digits", flatten=True, seed=0)
    return x[:N_EXAMPLES].astype("float32")


def _deterministic_posterior(enabled):
    """Makes the posterior return its mean (still adding the KL term)."""
    from keras_ae.layers import GaussianPosterior

    if not hasattr(GaussianPosterior, "_original_call"):
        GaussianPosterior._original_call = GaussianPosterior.call
    original = GaussianPosterior._original_call
    if enabled:
        def call(self, inputs, training=False):
            return original(self, inputs, training=False)

        GaussianPosterior.call = call
    else:
        GaussianPosterior.call = original


def _shape(model_name, options):
    import keras_ae

    if model_name == "gan":
        return SHAPES[1]
    return SHAPES[keras_ae.get_spec(model_name).rank_for(options)]


def _build(model_name, options, optimizer):
    import keras

    import keras_ae

    if model_name == "gan":
        model = keras_ae.models.gan(data_shape=_shape(model_name, options), latent_dim=8, **options)
        groups = ("discriminator",)
    else:
        model = keras_ae.build(model_name, input_shape=_shape(model_name, options), latent_dim=8, **options)
        groups = type(model).OPTIMIZER_GROUPS
    if model_name == "dec":  # the refinement phase: the clustering term on
        model.hyperparameters["clustering_weight"].assign(1.0)
    if optimizer is not None and optimizer.startswith("sgd"):  # "sgd" or "sgd:<learning rate>"
        rate = float(optimizer.partition(":")[2] or 0.05)
        groups = {f"{g}_optimizer": keras.optimizers.SGD(rate) for g in groups}
        model.compile(optimizer=keras.optimizers.SGD(rate), **groups)
    return model


def _reference_and_distributed(strategy, case):
    """One-device model, the same model built in ``strategy``'s scope, and the shared initial weights."""
    import keras

    model_name, options, optimizer, _ = MIRRORED_CASES[case]
    keras.utils.set_random_seed(0)
    reference = _build(model_name, options, optimizer)
    with strategy.scope():
        distributed = _build(model_name, options, optimizer)
    return reference, distributed, reference.get_weights()


def _labels(model, n):
    """For M2: the classes 0-9 and -1 (unlabelled) in turn; ``None`` (targets x) for the others."""
    import numpy as np

    if type(model).__name__ != "SemiSupervisedVAE":
        return None
    return (np.arange(n) % 11 - 1).astype("int32")


def _train(model, x, initial, epochs=EPOCHS, callbacks=None, initial_epoch=0):
    model.set_weights(initial)
    labels = _labels(model, len(x))
    history = model.fit(x, x if labels is None else labels, batch_size=BATCH, epochs=epochs, shuffle=False,
                        verbose=0, callbacks=callbacks)
    return history.history


def _max_abs_diff(a, b):
    import numpy as np

    return float(max(np.max(np.abs(np.asarray(p) - np.asarray(q))) for p, q in zip(a, b)))


def _rel_diff(a, b):
    import numpy as np

    a, b = np.asarray(a, dtype="float64"), np.asarray(b, dtype="float64")
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-12)))


def scenario_mirrored(args):
    from keras_ae import distribute

    devices = distribute.configure_logical_cpus(2)
    import keras
    import numpy as np
    import tensorflow as tf

    strategy = distribute.get_strategy("mirrored", devices=devices)
    digits = _data()
    cases = args.cases.split(",") if args.cases else list(MIRRORED_CASES)
    result = {"replicas": strategy.num_replicas_in_sync, "cases": {}}
    for case in cases:
        model_name, options, optimizer, noise = MIRRORED_CASES[case]
        x = digits.reshape(len(digits), *_shape(model_name, options))
        _deterministic_posterior(noise == "off")
        single, mirrored, initial = _reference_and_distributed(strategy, case)
        start = time.perf_counter()
        h_single = _train(single, x, initial)
        h_mirrored = _train(mirrored, x, initial)
        entry = {
            "loss_single": h_single["loss"],
            "loss_mirrored": h_mirrored["loss"],
            "loss_rel_diff": _rel_diff(h_mirrored["loss"], h_single["loss"]),
            "weight_max_abs_diff": _max_abs_diff(mirrored.get_weights(), single.get_weights()),
            "seconds": time.perf_counter() - start,
        }
        if model_name == "contractive":
            entry["contraction_rel_diff"] = _rel_diff(h_mirrored["contraction"], h_single["contraction"])
        if "discriminator" in h_single:
            entry["discriminator_single"] = h_single["discriminator"]
            entry["discriminator_rel_diff"] = _rel_diff(h_mirrored["discriminator"], h_single["discriminator"])
        if case == "contractive_closed_form_sgd":
            # What a missing 1/replicas on the penalty would look like: each
            # replica's penalty gradient counted twice = weight doubled.
            doubled = _build(model_name, {**options, "contraction_weight": 2 * options["contraction_weight"]},
                             optimizer)
            _train(doubled, x, initial)
            entry["unscaled_penalty_weight_diff"] = _max_abs_diff(doubled.get_weights(), single.get_weights())
        if (noise == "on" or options.get("jacobian") == "hutchinson" or options.get("dropout", 0) > 0
                or options.get("noise_level", 0) > 0):
            # Seed-to-seed spread of single-device training, the yardstick of
            # the noisy comparison.
            other = _build(model_name, {**options, "seed": options["seed"] + 1}, optimizer)
            h_other = _train(other, x, initial)
            entry["seed_spread_rel"] = _rel_diff(h_other["loss"], h_single["loss"])
            if "discriminator" in h_single:
                entry["discriminator_seed_spread_rel"] = _rel_diff(h_other["discriminator"], h_single["discriminator"])
        result["cases"][case] = entry
    _deterministic_posterior(False)

    # Noise per replica: a plain (mirrored) SeedGenerator gives every replica
    # the same numbers; keras_ae's ReplicaSeedGenerator gives each its own,
    # and replica 0 the plain generator's. Then the same through a layer: the
    # VAE posterior sampling identical inputs on both replicas.
    from keras_ae.layers import GaussianPosterior, ReplicaSeedGenerator, SeededDropout

    with strategy.scope():
        plain, ours = keras.random.SeedGenerator(0), ReplicaSeedGenerator(0)
        posterior = GaussianPosterior(beta=0.0, seed=0)
        dropout = SeededDropout(0.5, seed=0)

    @tf.function
    def draw():
        def replica_fn():
            loc = tf.zeros((3, 2))
            return (keras.random.normal((4,), seed=plain), keras.random.normal((4,), seed=ours),
                    posterior([loc, loc], training=True), dropout(tf.ones((3, 8)), training=True))

        return strategy.run(replica_fn)

    plain_draws, our_draws, samples, masks = (
        [np.asarray(t) for t in strategy.experimental_local_results(part)] for part in draw()
    )
    result["noise"] = {
        "plain_replicas_identical": bool(np.array_equal(plain_draws[0], plain_draws[1])),
        "ours_replicas_identical": bool(np.array_equal(our_draws[0], our_draws[1])),
        "ours_replica0_equals_plain": bool(np.array_equal(our_draws[0], plain_draws[0])),
        "posterior_replicas_identical": bool(np.array_equal(samples[0], samples[1])),
        "dropout_replicas_identical": bool(np.array_equal(masks[0], masks[1])),
    }
    _emit(result)


def _worker_index():
    return json.loads(os.environ["TF_CONFIG"])["task"]["index"]


def _probe_upstream(strategy):
    """Runs Keras' own fit (no shim, then half the shim) on a throwaway model."""
    import keras
    import numpy as np

    from keras_ae import _compat

    probes = {}
    x = np.zeros((16, 4), "float32")
    for label, parts in (("no_shim", ()), ("build_fix_only", ("symbolic_build",))):
        with _compat.multi_worker_shim_parts(*parts):
            with strategy.scope():
                model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4)])
                model.compile("sgd", "mse")
            try:
                model.fit(x, x, batch_size=8, epochs=1, verbose=0)
                probes[label] = "ok"
            except Exception as error:  # noqa: BLE001 - we report whatever Keras raises
                probes[label] = f"{type(error).__name__}: {str(error)[:300]}"
    return probes


def scenario_worker(args):
    import tensorflow as tf

    # The strategy first: it starts this worker's server.
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    import numpy as np

    from keras_ae import distribute

    index = _worker_index()
    result = {"index": index, "replicas": strategy.num_replicas_in_sync, "is_chief": distribute.is_chief(strategy)}
    if args.probe:
        result["upstream"] = _probe_upstream(strategy)
    result["shim_enabled"] = distribute.enable_multi_worker_fit()
    x = _data()
    result["models"] = {}
    for name in args.models.split(","):
        model_name, options, optimizer, _ = MIRRORED_CASES[name]
        _deterministic_posterior(model_name == "vae")
        reference, model, initial = _reference_and_distributed(strategy, name)
        start = time.perf_counter()
        history = _train(model, x, initial)
        entry = {"loss": history["loss"], "seconds": time.perf_counter() - start}
        np.savez(os.path.join(args.out, f"{name}_worker{index}.npz"), *model.get_weights())
        entry["saved"] = distribute.save_model(model, os.path.join(args.out, f"{name}.keras"), strategy)
        if index == 0:
            h_ref = _train(reference, x, initial)
            np.savez(os.path.join(args.out, f"{name}_single.npz"), *reference.get_weights())
            entry["loss_single"] = h_ref["loss"]
        result["models"][name] = entry
    _emit(result)


class _PauseAt:
    """Keras callback writing a marker, then sleeping, at one batch of one epoch."""

    def __new__(cls, epoch, batch, marker):
        import keras

        class Pause(keras.callbacks.Callback):
            def on_epoch_begin(self, e, logs=None):
                self.epoch = e

            def on_train_batch_end(self, b, logs=None):
                if self.epoch == epoch and b == batch:
                    with open(marker, "w") as f:
                        f.write(f"{epoch}:{batch}")
                    time.sleep(600)  # killed by the test long before

        return Pause()


def scenario_backup(args):
    import tensorflow as tf

    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    import keras
    import numpy as np

    from keras_ae import distribute

    index = _worker_index()
    distribute.enable_multi_worker_fit()
    x = _data()
    model_name, options, optimizer, _ = MIRRORED_CASES["dense"]
    keras.utils.set_random_seed(0)
    reference = _build(model_name, options, optimizer)
    initial = reference.get_weights()
    with strategy.scope():
        model = _build(model_name, options, optimizer)
    model.set_weights(initial)
    callbacks = [distribute.backup_and_restore(args.backup_dir)]
    if args.pause_at and index == args.pause_worker:
        epoch, batch = (int(v) for v in args.pause_at.split(":"))
        callbacks.append(_PauseAt(epoch, batch, os.path.join(args.out, f"paused_worker{index}")))
    history = model.fit(x, x, batch_size=BATCH, epochs=args.epochs, shuffle=False, verbose=0, callbacks=callbacks)
    np.savez(os.path.join(args.out, f"backup_worker{index}.npz"), *model.get_weights())
    _emit({"index": index, "epochs_run": len(history.history["loss"]), "loss": history.history["loss"]})


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", choices=["mirrored", "worker", "backup"])
    parser.add_argument("--cases", default="", help="comma-separated MIRRORED_CASES (mirrored)")
    parser.add_argument("--models", default="dense,vae", help="comma-separated cases (worker)")
    parser.add_argument("--out", default=".", help="output directory (worker, backup)")
    parser.add_argument("--probe", action="store_true", help="check that Keras' fit still fails without the shim")
    parser.add_argument("--backup-dir", default="backup")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--pause-at", default="", help="EPOCH:BATCH at which to pause (backup)")
    parser.add_argument("--pause-worker", type=int, default=1)
    args = parser.parse_args(argv)
    {"mirrored": scenario_mirrored, "worker": scenario_worker, "backup": scenario_backup}[args.scenario](args)


if __name__ == "__main__":
    main()
