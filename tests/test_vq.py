"""The VQ-VAE (``vq_vae``): nearest codes, straight-through gradient, EMA codebook, distribution, prior, saving.

The equivalence under ``MirroredStrategy`` needs 2 logical CPUs, which must
be configured before TensorFlow starts: it runs this file as a script in a
fresh process (``python tests/test_vq.py mirrored``), which prints one JSON
line.

Tolerances and measured values (float32; 2-core CPU machine shared with
other jobs, TensorFlow 2.21, Keras 3.15, 2026-12-06):

- nearest codes: equal, index by index, to the float64 NumPy brute force (the
  data's smallest gap between the best and the second-best distance is
  checked to be above 1e-4 first, so float32 rounding cannot flip one);
- the EMA update on a hand case (weighted examples, one code chosen by
  nobody): counts, sums and smoothed codebook within ``rtol=1e-6`` of the
  formula computed in float64 (measured: at most 1.4e-7);
- 2 replicas vs one device, same global batches of 64, 8 Adam steps:
  codebook, EMA counts and sums, every weight within ``MIRRORED_ATOL =
  1e-5`` and the losses within 1e-5 relative (measured: codebook 3.0e-8,
  counts 0, sums and weights 4.8e-7, losses 1.7e-7; the codebook moved by
  0.23). Without the all-reduce of the counts and sums (each replica
  averaging its own half batch) the codebook differs by 3.1e-2, above
  ``100 * MIRRORED_ATOL``: the test can fail;
- the reconstruction term on 512 digits, 8 epochs: 43.7 -> 27.0 nats
  (asserted: below 0.8 times the first epoch's); the commitment term after 3
  epochs is 0.011 with ``commitment_cost=2`` vs 0.43 with 0 (asserted: smaller);
- the prior on grids ruled by ``(i + j + s) % 4``: 1.10 -> 0.16 nats per code
  in 8 epochs (asserted: halved; the floor is ``log(4) / 9 = 0.15``),
  ``prior_nll`` within 0.4% of ``9 *`` the last loss (asserted: 25%), and
  64 of 64 sampled grids follow the rule (asserted: more than half; by chance
  ``4 ** -8`` each).
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

MIRRORED_ATOL = 1e-5
TIMEOUT = 600


def _digits(n=256):
    from sklearn.datasets import load_digits

    return (load_digits().data[:n] / 16.0).astype("float32").reshape(n, 8, 8, 1)


def _model(seed=0, **options):
    import keras

    import keras_ae

    keras.utils.set_random_seed(seed)
    settings = {"input_shape": (8, 8, 1), "latent_dim": 4, "filters": (8, 16), "num_embeddings": 16,
                "prior_filters": 8, "prior_layers": 2, "seed": seed}
    settings.update(options)
    return keras_ae.build("vq_vae", **settings)


# ---------------------------------------------------------------------------
# The quantizer


def test_nearest_code_is_the_numpy_brute_force():
    from keras_ae.models import VectorQuantizer

    rng = np.random.default_rng(0)
    quantizer = VectorQuantizer(16, seed=0)
    z = rng.normal(size=(50, 3, 2, 3)).astype("float32")
    quantizer.build(z.shape)
    codebook = rng.normal(size=(16, 3)).astype("float32")
    quantizer.codebook.assign(codebook)
    quantized, indices = quantizer(z)
    flat = z.reshape(-1, 3).astype("float64")
    distances = ((flat[:, None, :] - codebook[None].astype("float64")) ** 2).sum(-1)
    expected = distances.argmin(axis=1)
    ordered = np.sort(distances, axis=1)
    assert (ordered[:, 1] - ordered[:, 0]).min() > 1e-4  # no near tie that float32 could flip
    assert indices.dtype == "int32" and tuple(indices.shape) == (50, 3, 2)
    np.testing.assert_array_equal(np.asarray(indices).ravel(), expected)
    np.testing.assert_array_equal(np.asarray(quantized), codebook[expected].reshape(z.shape))


def test_the_gradient_passes_the_quantizer_straight_through_to_the_encoder():
    import keras
    import tensorflow as tf

    from keras_ae.models import VectorQuantizer

    quantizer = VectorQuantizer(8, seed=0)
    z = tf.constant(np.random.default_rng(1).normal(size=(4, 2, 2, 3)).astype("float32"))
    weights = tf.constant(np.random.default_rng(2).normal(size=(4, 2, 2, 3)).astype("float32"))
    with tf.GradientTape() as tape:
        tape.watch(z)
        quantized, _ = quantizer(z)
        value = tf.reduce_sum(quantized * weights)
    np.testing.assert_array_equal(tape.gradient(value, z).numpy(), weights.numpy())  # identity

    model = _model()
    x = _digits(32)
    encoder_kernel = model.get_layer("encoder").get_layer("encoder_conv_1").kernel
    with tf.GradientTape() as tape:
        reconstruction = keras.ops.mean(model.loss_terms(x, x)["reconstruction"])
    gradient = tape.gradient(reconstruction, encoder_kernel)
    assert gradient is not None and float(tf.reduce_max(tf.abs(gradient))) > 0


def _ema_numpy(cluster_size, embedding_sum, flat, indices, weights, decay, epsilon):
    k = len(cluster_size)
    onehot = np.eye(k)[indices] * weights[:, None]
    counts, sums = onehot.sum(0), onehot.T @ flat
    n = decay * cluster_size + (1 - decay) * counts
    m = decay * embedding_sum + (1 - decay) * sums
    smoothed = (n + epsilon) / (n.sum() + k * epsilon) * n.sum()
    return n, m, m / smoothed[:, None]


def test_the_ema_update_is_the_formula_and_happens_only_in_training():
    from keras_ae.models import VectorQuantizer

    decay, epsilon = 0.9, 1e-2
    quantizer = VectorQuantizer(3, decay=decay, epsilon=epsilon)
    z = np.array([[[0.1, 0.0], [0.9, 1.1]], [[1.0, 0.9], [0.2, -0.1]], [[1.1, 1.0], [0.0, 0.2]]], "float32")
    quantizer.build(z.shape)
    codebook = np.array([[0.0, 0.0], [1.0, 1.0], [5.0, 5.0]], "float32")  # code 2 is chosen by nobody
    cluster_size = np.array([2.0, 1.0, 0.5], "float32")
    embedding_sum = codebook * cluster_size[:, None]
    for variable, value in ((quantizer.codebook, codebook), (quantizer.cluster_size, cluster_size),
                            (quantizer.embedding_sum, embedding_sum)):
        variable.assign(value)
    sample_weight = np.array([1.0, 0.5, 2.0], "float32")
    quantizer(z, training=False, sample_weight=sample_weight)
    np.testing.assert_array_equal(quantizer.codebook.numpy(), codebook)  # no update at inference
    _, indices = quantizer(z, training=True, sample_weight=sample_weight)
    np.testing.assert_array_equal(np.asarray(indices), [[0, 1], [1, 0], [1, 0]])
    flat = z.reshape(-1, 2).astype("float64")
    weights = np.repeat(sample_weight, 2).astype("float64")
    n, m, e = _ema_numpy(cluster_size.astype("float64"), embedding_sum.astype("float64"), flat,
                         np.asarray(indices).ravel(), weights, decay, epsilon)
    np.testing.assert_allclose(quantizer.cluster_size.numpy(), n, rtol=1e-6)
    np.testing.assert_allclose(quantizer.embedding_sum.numpy(), m, rtol=1e-6)
    np.testing.assert_allclose(quantizer.codebook.numpy(), e, rtol=1e-6)
    # The unchosen code keeps its vector up to the smoothing (it decays as m / N).
    np.testing.assert_allclose(quantizer.codebook.numpy()[2], codebook[2], rtol=0.05)


def test_fit_updates_the_codebook_and_evaluate_does_not():
    model = _model()
    x = _digits(64)
    before = model.quantizer.codebook.numpy().copy()
    model.evaluate(x, verbose=0)
    model.predict(x, verbose=0)
    np.testing.assert_array_equal(model.quantizer.codebook.numpy(), before)
    model.fit(x, epochs=1, batch_size=32, verbose=0)
    assert not np.allclose(model.quantizer.codebook.numpy(), before)
    assert not any(w is model.quantizer.codebook for w in model.trainable_weights)


def test_quantizes_in_float32_under_mixed_precision():
    import keras

    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = _model()
        history = model.fit(_digits(64), epochs=1, batch_size=32, verbose=0)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert np.isfinite(history.history["loss"]).all()
    assert model.get_layer("encoder").get_layer("encoder_code").compute_dtype == "float16"
    assert model.quantizer.compute_dtype == "float32"
    assert all(w.dtype == "float32" for w in model.quantizer.weights)


# ---------------------------------------------------------------------------
# The model


def test_encode_and_decode_indices_round_trip_the_model():
    model = _model()
    x = _digits(40)
    indices = model.encode_indices(x, batch_size=16)
    assert indices.shape == (40, 2, 2) and indices.dtype == np.int32
    assert indices.min() >= 0 and indices.max() < 16
    np.testing.assert_array_equal(model.decode_indices(indices, batch_size=16), model.predict(x, verbose=0))
    assert model.code_shape == (2, 2, 4) and model.predict_codes(x).shape == (40, 16)
    usage = model.codebook_usage(x)
    assert 1.0 <= usage["perplexity"] <= usage["used"] <= 16 and usage["counts"].sum() == 40 * 4


def test_reconstruction_loss_goes_down_and_codes_are_used():
    model = _model(learning_rate=5e-3)
    x = _digits(512)
    history = model.fit(x, epochs=8, batch_size=64, verbose=0).history
    assert history["reconstruction"][-1] < 0.8 * history["reconstruction"][0], history["reconstruction"]
    assert model.codebook_usage(x)["perplexity"] > 2.0


def test_a_larger_commitment_cost_pulls_the_encoder_to_its_codes():
    x = _digits(256)
    runs = {}
    for beta in (0.0, 2.0):
        model = _model(commitment_cost=beta)
        runs[beta] = model.fit(x, epochs=3, batch_size=32, verbose=0).history["commitment"][-1]
    assert runs[2.0] < runs[0.0], runs


# ---------------------------------------------------------------------------
# The prior


def _structured_grids(n=512, k=4, side=3, seed=0):
    """Grids whose codes follow a rule: ``grid[i, j] = (i + j + s) % k``, ``s`` random per grid."""
    s = np.random.default_rng(seed).integers(0, k, size=n)
    i, j = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    return ((i[None] + j[None] + s[:, None, None]) % k).astype("int32")


def _follows_rule(grids, k=4):
    i, j = np.meshgrid(np.arange(grids.shape[1]), np.arange(grids.shape[2]), indexing="ij")
    return np.all((grids - i[None] - j[None] - grids[:, :1, :1]) % k == 0, axis=(1, 2))


def test_the_prior_learns_structured_codes_and_samples_them():
    import keras_ae

    model = keras_ae.build("vq_vae", input_shape=(24, 24, 1), latent_dim=2, filters=(4, 4, 4), num_embeddings=4,
                           prior_filters=16, prior_layers=3, seed=0)
    grids = _structured_grids()
    with pytest.raises(RuntimeError, match="has not been fitted: call model.fit_prior"):
        model.sample(2, seed=0)
    history = model.fit_prior(indices=grids, epochs=8, batch_size=64, learning_rate=1e-2).history
    # From log 4 = 1.39 nats per code towards log(4) / 9 = 0.15 (only the first code is free).
    assert history["loss"][-1] < 0.5 * history["loss"][0], history["loss"]
    nll = model.prior_nll(grids[:64])
    np.testing.assert_allclose(nll.mean(), 9 * history["loss"][-1], rtol=0.25)
    samples = model.sample_indices(64, seed=1)
    assert samples.shape == (64, 3, 3) and samples.dtype == np.int32
    assert samples.min() >= 0 and samples.max() < 4
    assert _follows_rule(samples).mean() > 0.5  # by chance: 4 ** -8
    np.testing.assert_array_equal(model.sample_indices(64, seed=1), samples)
    images = model.sample(3, seed=0)
    assert images.shape == (3, 24, 24, 1) and images.min() >= 0 and images.max() <= 1


def test_save_and_load_in_safe_mode_keep_codebook_and_prior(tmp_path):
    import keras

    import keras_ae

    x = _digits(64)
    model = _model()
    model.fit(x, epochs=1, batch_size=32, verbose=0)
    unfitted = tmp_path / "unfitted.keras"
    model.save(unfitted)
    loaded = keras_ae.load_model(unfitted)
    assert not loaded.prior_fitted
    with pytest.raises(RuntimeError, match="not been fitted"):
        loaded.sample_indices(2)

    model.fit_prior(x, epochs=1, batch_size=32)
    path = tmp_path / "vq.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    assert type(loaded) is type(model) and loaded.prior_fitted
    for name in ("codebook", "cluster_size", "embedding_sum"):
        np.testing.assert_array_equal(getattr(loaded.quantizer, name).numpy(), getattr(model.quantizer, name).numpy())
    for a, b in zip(loaded.prior.weights, model.prior.weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    np.testing.assert_array_equal(loaded.encode_indices(x), model.encode_indices(x))
    np.testing.assert_array_equal(loaded.sample(4, seed=3), model.sample(4, seed=3))
    assert loaded.options == model.options and loaded.prior_options == model.prior_options
    assert float(loaded.hyperparameters["commitment_cost"]) == 0.25


# ---------------------------------------------------------------------------
# Bad input


@pytest.mark.parametrize("option, value, expected", [
    ("num_embeddings", 1, "an integer >= 2"),
    ("decay", 1.0, r"a number in \[0, 1\)"),
    ("commitment_cost", -0.5, "a non-negative number"),
    ("epsilon", 0.0, "a positive number"),
    ("prior_layers", 0, "a positive integer"),
])
def test_bad_options_get_the_house_error(option, value, expected):
    import keras_ae

    with pytest.raises(ValueError, match=f"Invalid value for '{option}': expected {expected}. "
                                         f"Received: {option}={value}"):
        keras_ae.build("vq_vae", input_shape=(8, 8, 1), latent_dim=2, **{option: value})


def test_bad_code_grids_and_prior_arguments_are_refused():
    model = _model()
    with pytest.raises(ValueError, match=r"Invalid value for 'indices': expected codes in \[0, 16\)"):
        model.decode_indices(np.full((2, 2, 2), 16))
    with pytest.raises(ValueError, match=r"Invalid value for 'indices': expected an integer array of shape"):
        model.decode_indices(np.zeros((2, 3, 3), "int32"))
    with pytest.raises(ValueError, match="Invalid value for 'indices': expected exactly one of x"):
        model.fit_prior()
    with pytest.raises(ValueError, match="Invalid value for 'epochs'"):
        model.fit_prior(indices=np.zeros((4, 2, 2), "int32"), epochs=0)


# ---------------------------------------------------------------------------
# MirroredStrategy on 2 logical CPUs vs one device (run in a fresh process)


def _mirrored_scenario():
    from keras_ae import distribute

    devices = distribute.configure_logical_cpus(2)
    from keras_ae.models import vq

    strategy = distribute.get_strategy("mirrored", devices=devices)
    x = _digits(256)

    def run(model, initial):
        model.set_weights(initial)
        history = model.fit(x, batch_size=64, epochs=2, shuffle=False, verbose=0).history
        return model, history

    options = {"decay": 0.9}
    single = _model(**options)
    initial = single.get_weights()
    start = single.quantizer.codebook.numpy().copy()
    single, h_single = run(single, initial)
    with strategy.scope():
        mirrored = _model(**options)
    mirrored, h_mirrored = run(mirrored, initial)
    result = {"replicas": strategy.num_replicas_in_sync}
    for name in ("codebook", "cluster_size", "embedding_sum"):
        a, b = getattr(mirrored.quantizer, name).numpy(), getattr(single.quantizer, name).numpy()
        result[f"{name}_max_abs_diff"] = float(np.max(np.abs(a - b)))
    result["weight_max_abs_diff"] = max(float(np.max(np.abs(a - b)))
                                        for a, b in zip(mirrored.get_weights(), single.get_weights()))
    result["loss_rel_diff"] = float(np.max(np.abs(np.subtract(h_mirrored["loss"], h_single["loss"]))
                                           / np.abs(h_single["loss"])))
    result["codebook_moved"] = float(np.max(np.abs(single.quantizer.codebook.numpy() - start)))

    # The counterfactual: each replica averages its own half batch (no all-reduce).
    original = vq.tf.distribute.get_replica_context
    vq.tf.distribute.get_replica_context = lambda: None
    try:
        with strategy.scope():
            unreduced = _model(**options)
        unreduced, _ = run(unreduced, initial)
    finally:
        vq.tf.distribute.get_replica_context = original
    result["unreduced_codebook_max_abs_diff"] = float(np.max(np.abs(unreduced.quantizer.codebook.numpy()
                                                                    - single.quantizer.codebook.numpy())))
    sys.stdout.write("\n" + json.dumps(result) + "\n")


@pytest.fixture(scope="module")
def mirrored():
    env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    env.update(TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="", KERAS_BACKEND="tensorflow")
    proc = subprocess.run([sys.executable, __file__, "mirrored"], env=env, capture_output=True, text=True,
                          timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stderr[-4000:]
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    assert lines, proc.stderr[-4000:]
    return json.loads(lines[-1])


def test_two_replicas_update_the_codebook_as_one_device(mirrored):
    assert mirrored["replicas"] == 2
    assert mirrored["codebook_moved"] > 100 * MIRRORED_ATOL, mirrored  # the comparison is not vacuous
    for name in ("codebook", "cluster_size", "embedding_sum", "weight"):
        assert mirrored[f"{name}_max_abs_diff"] <= MIRRORED_ATOL, mirrored
    assert mirrored["loss_rel_diff"] <= MIRRORED_ATOL, mirrored
    assert mirrored["unreduced_codebook_max_abs_diff"] > 100 * MIRRORED_ATOL, mirrored


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if sys.argv[1:] == ["mirrored"]:
        _mirrored_scenario()


def test_fit_prior_refuses_empty_data_and_encode_indices_takes_lists():
    import keras_ae

    model = keras_ae.build("vq_vae", input_shape=(8, 8, 1), latent_dim=4, num_embeddings=8, seed=0)
    with pytest.raises(ValueError, match=r"Invalid value for 'indices': expected at least one code grid"):
        model.fit_prior(indices=np.zeros((0, 2, 2), "int32"), epochs=1)
    with pytest.raises(ValueError, match=r"Invalid value for 'x': expected at least one example\. "
                                         r"Received: x=<empty array"):
        model.fit_prior(np.zeros((0, 8, 8, 1), "float32"), epochs=1)
    assert not model.prior_fitted
    x = np.random.default_rng(0).uniform(size=(3, 8, 8, 1)).astype("float32")
    np.testing.assert_array_equal(model.encode_indices(x.tolist()), model.encode_indices(x))


def test_fit_prior_on_images_warns_when_the_vq_vae_was_never_trained():
    import warnings

    import keras_ae

    model = keras_ae.build("vq_vae", input_shape=(8, 8, 1), latent_dim=4, num_embeddings=8, prior_filters=8,
                           prior_layers=1, seed=0)
    x = np.random.default_rng(0).uniform(size=(16, 8, 8, 1)).astype("float32")
    with pytest.warns(UserWarning, match=r"this VQ-VAE has not been trained .* Train it first with model.fit\(x\)"):
        model.fit_prior(x, epochs=1)
    with pytest.warns(UserWarning, match=r"prior was fitted on the codes of the model before this training"):
        model.fit(x, epochs=1, batch_size=8, verbose=0)  # the prior just fitted is now stale
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        model.fit_prior(x, epochs=1)  # trained: no warning
        model.fit_prior(indices=model.encode_indices(x), epochs=1)  # code grids given: the user's choice
    with pytest.warns(UserWarning, match=r"prior was fitted on the codes of the model before this training.* "
                                         r"call model.fit_prior\(x\) again"):
        model.fit(x, epochs=1, batch_size=8, verbose=0)
