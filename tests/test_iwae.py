"""The IWAE objective of the VAE family: ``iwae_samples`` (Burda, Grosse & Salakhutdinov, ICLR 2016).

The exact checks use a linear-Gaussian VAE (no hidden layer, linear decoder,
Gaussian likelihood of known scale), whose marginal p(x) = N(b, W^T W + s^2 I)
is known in closed form. With decoder rows W orthogonal, the true posterior
p(z|x) is a diagonal Gaussian, which the encoder can represent exactly: then
every importance weight equals p(x), and the bound equals log p(x) for any k,
to float32 precision. With a wrong encoder the bound must grow with k and stay
below log p(x) on average.
"""

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

import keras_ae
from keras_ae.models.vae import ImportanceWeightedAutoencoder, VariationalAutoencoder

D, LATENT, SIGMA = 6, 2, 0.5


def _linear_gaussian(k, seed=0):
    """A linear-Gaussian VAE with an exact posterior; returns ``(model, x, log p(x))``."""
    rng = np.random.default_rng(seed)
    model = keras_ae.build("vae", input_shape=(D,), latent_dim=LATENT, hidden=(), activation="linear",
                           likelihood="gaussian", decoder_scale=SIGMA, iwae_samples=k, seed=seed)
    q, _ = np.linalg.qr(rng.normal(size=(D, LATENT)))
    w = (q * np.array([2.0, 0.7])).T  # (latent, D): orthogonal rows of norms 2 and 0.7
    b = rng.normal(size=D)
    model.get_layer("decoder").get_layer("decoder_logits").set_weights([w, b])
    # Posterior: cov S = (I + W W^T / s^2)^-1 (diagonal), mean (x - b) W^T S / s^2.
    s = np.linalg.inv(np.eye(LATENT) + w @ w.T / SIGMA**2)
    a = w.T @ s / SIGMA**2
    std = np.sqrt(np.diag(s))
    encoder = model.get_layer("encoder")
    encoder.get_layer("encoder_loc").set_weights([a, -b @ a])
    raw = np.log(np.expm1(std - 1e-4))  # softplus(raw) + 1e-4 = std
    encoder.get_layer("encoder_scale").set_weights([np.zeros((D, LATENT)), raw])
    z = rng.normal(size=(400, LATENT))
    x = (z @ w + b + SIGMA * rng.normal(size=(400, D))).astype("float32")
    cov = w.T @ w + SIGMA**2 * np.eye(D)
    diff = x - b
    log_px = -0.5 * (np.einsum("ni,ij,nj->n", diff, np.linalg.inv(cov), diff)
                     + np.linalg.slogdet(cov)[1] + D * np.log(2 * np.pi))
    return model, x, log_px


def _bound(model, x, training=True):
    """The k-sample bound per example, from the training objective's ``"iwae"`` term (float64)."""
    return -np.asarray(model.loss_terms(x, x, training=training)["iwae"], dtype="float64")


def _with_k(model, k):
    """A copy of ``model`` (same weights) whose objective uses ``k`` samples."""
    copy = ImportanceWeightedAutoencoder.from_config({**model.get_config(), "iwae_samples": k})
    copy.set_weights(model.get_weights())
    return copy


def test_the_default_is_the_elbo_vae():
    x = np.random.default_rng(0).uniform(size=(64, 16)).astype("float32")
    runs = []
    for options in ({}, {"iwae_samples": 1}):
        keras.utils.set_random_seed(0)
        model = keras_ae.build("vae", input_shape=(16,), latent_dim=2, hidden=(8,), seed=0, **options)
        assert type(model) is VariationalAutoencoder and model.options["iwae_samples"] == 1
        history = model.fit(x, epochs=2, batch_size=16, verbose=0, shuffle=False)
        runs.append(history.history)
    assert set(runs[0]) == {"loss", "reconstruction", "kl"}
    assert runs[0] == runs[1]  # the same class and the same objective: the same numbers


def test_one_sample_bound_estimates_the_elbo():
    """With k = 1 the objective is -log p(x|z) + log q(z|x) - log p(z): an unbiased estimate of -ELBO."""
    model, x, _ = _linear_gaussian(k=2)
    loc = model.get_layer("encoder").get_layer("encoder_loc")
    loc.set_weights([w + 0.3 for w in loc.get_weights()])  # a wrong posterior: the ELBO is below log p(x)
    one = _with_k(model, 1)
    draws, kl_gap = [], []
    for _ in range(100):
        terms = {n: np.asarray(t, dtype="float64") for n, t in one.loss_terms(x, x, training=True).items()}
        draws.append(-terms["iwae"])
        kl_gap.append(terms["iwae"] - terms["reconstruction"])  # log q(z|x) - log p(z) of the same draw
        kl = terms["kl"]
    draws, kl_gap = np.stack(draws), np.stack(kl_gap)
    # metrics.elbo: one draw for the reconstruction, the KL in closed form.
    elbos = np.stack([keras_ae.metrics.elbo(one, x, seed=s) for s in range(100)])
    se = np.hypot(draws.std() / np.sqrt(draws.size), elbos.std() / np.sqrt(elbos.size))
    assert abs(draws.mean() - elbos.mean()) < 4 * se, (draws.mean(), elbos.mean(), se)
    # The Monte Carlo KL of the draws averages to the closed-form KL reported beside it.
    assert abs(kl_gap.mean() - kl.mean()) < 4 * kl_gap.std() / np.sqrt(kl_gap.size)
    assert kl.mean() > 0.1


def test_bound_is_exact_with_the_true_posterior():
    built, x, log_px = _linear_gaussian(k=2)
    for k in (1, 5, 50):
        model = _with_k(built, k)
        for training in (True, False):
            np.testing.assert_allclose(_bound(model, x, training), log_px, rtol=0, atol=2e-3)
    # keras_ae.metrics agrees: the same weights give the same value, draw by draw.
    np.testing.assert_allclose(keras_ae.metrics.iwae_log_likelihood(model, x, k=7), log_px, atol=2e-3)


def test_bound_grows_with_k_and_stays_below_log_px():
    model, x, log_px = _linear_gaussian(k=2)
    enc = model.get_layer("encoder")
    loc_w, loc_b = enc.get_layer("encoder_loc").get_weights()
    enc.get_layer("encoder_loc").set_weights([loc_w * 0.6, loc_b + 0.4])  # a wrong posterior
    gaps = {}
    for k in (1, 5, 50):
        bounds = np.stack([_bound(_with_k(model, k), x) for _ in range(5)])
        gap = log_px[None] - bounds  # >= 0 in expectation
        gaps[k] = (gap.mean(), gap.std(ddof=1) / np.sqrt(gap.size))
    (g1, s1), (g5, s5), (g50, s50) = gaps[1], gaps[5], gaps[50]
    assert g1 > g5 + 3 * np.hypot(s1, s5) and g5 > g50 + 3 * np.hypot(s5, s50), gaps
    assert g50 > -3 * s50, gaps  # not above log p(x)
    assert g1 > 0.5  # the wrong posterior costs the ELBO something measurable
    # The model's k-sample bound and keras_ae.metrics' estimate agree on average.
    ours = np.mean([_bound(_with_k(model, 5), x).mean() for _ in range(5)])
    theirs = np.mean([keras_ae.metrics.iwae_log_likelihood(model, x, k=5, seed=s).mean() for s in range(5)])
    assert abs(ours - theirs) < 6 * s5 + 0.05, (ours, theirs)


def test_iwae_trains_and_reports_its_terms(tmp_path):
    keras.utils.set_random_seed(0)
    (x, _), (x_test, _) = keras_ae.data.load("digits", flatten=True)
    model = keras_ae.build("vae", input_shape=(64,), latent_dim=4, hidden=(32,), iwae_samples=5, seed=0)
    assert isinstance(model, ImportanceWeightedAutoencoder) and isinstance(model, VariationalAutoencoder)
    h = model.fit(x, epochs=6, batch_size=64, validation_data=(x_test,), verbose=0).history
    assert set(h) == {"loss", "iwae", "reconstruction", "kl", "val_loss", "val_iwae", "val_reconstruction",
                      "val_kl"}
    np.testing.assert_allclose(h["loss"], h["iwae"], rtol=1e-6)  # the objective is the bound alone
    assert h["loss"][-1] < h["loss"][0] - 3 and h["val_loss"][-1] < h["val_loss"][0]
    # The bound is tighter than the ELBO: -L_5 below the estimate of -ELBO, every epoch.
    assert all(i < r + kl for i, r, kl in zip(h["iwae"], h["reconstruction"], h["kl"]))
    # Evaluation draws from a fixed seed: the same value twice.
    first, second = (model.evaluate(x_test, verbose=0, return_dict=True) for _ in range(2))
    assert first == second

    path = tmp_path / "iwae.keras"
    model.save(path)
    loaded = keras_ae.load_model(path)
    assert type(loaded) is ImportanceWeightedAutoencoder and loaded.iwae_samples == 5
    assert loaded.options["iwae_samples"] == 5
    assert loaded.evaluate(x_test, verbose=0, return_dict=True) == first
    more = loaded.fit(x, epochs=1, batch_size=64, verbose=0).history  # the optimizer state came back too
    assert np.isfinite(more["loss"]).all() and more["loss"][0] < h["loss"][0]


@pytest.mark.parametrize("value", [0, -1, 2.5, "5", True, None, 5001, 10**7])
def test_bad_iwae_samples_are_refused(value):
    with pytest.raises(ValueError, match=r"Invalid value for 'iwae_samples': expected a positive integer at most "
                                         rf"5000\. Received: iwae_samples={value!r}"):
        keras_ae.build("vae", input_shape=(8,), latent_dim=2, iwae_samples=value)


def test_the_largest_iwae_samples_builds():
    model = keras_ae.build("vae", input_shape=(8,), latent_dim=2, iwae_samples=5000)
    assert model.iwae_samples == 5000


def test_free_bits_need_the_elbo():
    for name, shape in (("vae", (8,)), ("beta_vae", (8,)), ("conv_vae", (8, 8, 1))):
        with pytest.raises(ValueError, match=r"Invalid value for 'free_bits': expected 0 when iwae_samples > 1 .*"
                                             r"Received: free_bits=0\.5"):
            keras_ae.build(name, input_shape=shape, latent_dim=2, iwae_samples=3, free_bits=0.5)
        keras_ae.build(name, input_shape=shape, latent_dim=2, iwae_samples=1, free_bits=0.5)  # the ELBO: fine


def test_beta_vae_and_conv_vae_take_the_option():
    x = np.random.default_rng(0).uniform(size=(32, 8, 8, 1)).astype("float32")
    for name, options in (("beta_vae", {"hidden": (8,)}), ("conv_vae", {"filters": (4, 8), "hidden": (8,)})):
        model = keras_ae.build(name, input_shape=(8, 8, 1), latent_dim=2, iwae_samples=3, **options)
        assert isinstance(model, ImportanceWeightedAutoencoder)
        h = model.fit(x, epochs=1, batch_size=16, verbose=0).history
        assert np.isfinite(h["iwae"]).all()
    # The keras.io network keeps its weight counts.
    model = keras_ae.build("conv_vae", input_shape=(28, 28, 1), latent_dim=2, iwae_samples=4)
    assert model.get_layer("decoder").count_params() == 65089
    assert model.get_layer("encoder").count_params() == 69076


def test_beta_weighs_the_prior_to_posterior_ratio():
    model, x, log_px = _linear_gaussian(k=5)
    model.hyperparameters["beta"].assign(0.0)
    terms = model.loss_terms(x, x, training=False)
    # beta = 0: the weights are p(x|z) alone, so the bound is log mean_i p(x|z_i) >= its ELBO-like mean.
    np.testing.assert_array_less(np.asarray(terms["iwae"]) - 1e-4, np.asarray(terms["reconstruction"]))


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_iwae_under_mixed_precision(policy, tmp_path):
    x = np.random.default_rng(0).uniform(size=(64, 16)).astype("float32")
    keras.mixed_precision.set_global_policy(policy)
    try:
        model = keras_ae.build("vae", input_shape=(16,), latent_dim=2, hidden=(8,), iwae_samples=5, seed=0)
        h = model.fit(x, epochs=3, batch_size=16, verbose=0).history
        model.save(tmp_path / "m.keras")
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert np.isfinite(h["loss"]).all()
    loaded = keras_ae.load_model(tmp_path / "m.keras")
    assert loaded.iwae_samples == 5
    np.testing.assert_allclose(loaded.evaluate(x, verbose=0), model.evaluate(x, verbose=0), rtol=1e-5)


DISTRIBUTED = textwrap.dedent("""
    import json, os
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras, numpy as np, keras_ae
    x = np.random.default_rng(0).uniform(size=(256, 16)).astype("float32")
    losses = {}
    for name, strategy in (("one", tf.distribute.get_strategy()),
                           ("mirrored", tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))):
        keras.utils.set_random_seed(0)
        with strategy.scope():
            model = keras_ae.build("vae", input_shape=(16,), latent_dim=2, hidden=(8,), iwae_samples=5, seed=1,
                                   compile=False)
            model.compile(optimizer=keras.optimizers.SGD(0.01))
        history = model.fit(x, epochs=3, batch_size=64, verbose=0, shuffle=False)
        losses[name] = history.history["loss"]
        losses[name + "_replicas"] = strategy.num_replicas_in_sync
    print(json.dumps(losses))
""")


def test_iwae_under_mirrored_strategy():
    """Two replicas: each loss divided by the replicas, so the run follows the one-device run (SGD)."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.run([sys.executable, "-c", DISTRIBUTED], capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    losses = json.loads(proc.stdout.strip().splitlines()[-1])
    assert losses["mirrored_replicas"] == 2 and losses["one_replicas"] == 1
    one, mirrored = np.array(losses["one"]), np.array(losses["mirrored"])
    assert np.isfinite(mirrored).all() and mirrored[-1] < mirrored[0]
    # The posterior draws differ per replica (noise), the objective is the same: within 1%
    # (measured: 0.4% in the first epoch, 0.15% and 0.01% after).
    np.testing.assert_allclose(mirrored, one, rtol=1e-2)
