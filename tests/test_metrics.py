"""Metrics: squared error, ELBO and IWAE against closed-form answers."""

import keras
import numpy as np
import pytest
from scipy.stats import multivariate_normal

import keras_ae
from keras_ae import metrics

D, SIGMA = 5, 0.5


def test_reconstruction_error_is_summed_per_example():
    x = np.zeros((2, 2, 2, 1))
    x_hat = np.ones((2, 2, 2, 1)) * np.array([0.5, 1.0]).reshape(2, 1, 1, 1)
    np.testing.assert_allclose(metrics.reconstruction_error(x, x_hat), [1.0, 4.0])
    with pytest.raises(ValueError, match="Invalid value for 'x_hat'"):
        metrics.reconstruction_error(x, x_hat[:1])


@pytest.fixture(scope="module")
def linear_gaussian():
    """A 1-D linear-Gaussian VAE whose encoder is the exact posterior."""
    keras.utils.set_random_seed(0)
    model = keras_ae.build("vae", input_shape=(D,), latent_dim=1, hidden=(), likelihood="gaussian",
                           decoder_scale=SIGMA)
    rng = np.random.default_rng(0)
    w, b = rng.normal(size=(1, D)), rng.normal(size=D)
    decoder = model.get_layer("decoder").get_layer("decoder_logits")
    decoder.set_weights([w.astype("float32"), b.astype("float32")])
    var = 1.0 / (1.0 + (w @ w.T).item() / SIGMA**2)  # posterior variance
    encoder = model.get_layer("encoder")
    a = var * w.T / SIGMA**2  # (D, 1): posterior mean is a^T (x - b)
    encoder.get_layer("encoder_loc").set_weights([a.astype("float32"), (-(b @ a)).astype("float32")])
    raw = np.log(np.expm1(np.sqrt(var) - 1e-4))  # softplus^-1
    encoder.get_layer("encoder_scale").set_weights([np.zeros((D, 1), "float32"), np.array([raw], "float32")])
    x = (rng.normal(size=(200, 1)) @ w + b + SIGMA * rng.normal(size=(200, D))).astype("float32")
    exact = multivariate_normal(b, w.T @ w + SIGMA**2 * np.eye(D)).logpdf(x)
    return model, x, exact


def test_iwae_is_exact_with_the_true_posterior(linear_gaussian):
    model, x, exact = linear_gaussian
    for k in (1, 50):
        np.testing.assert_allclose(metrics.iwae_log_likelihood(model, x, k=k), exact, rtol=1e-4, atol=1e-4)


def test_elbo_is_unbiased_and_terms_add_up(linear_gaussian):
    model, x, exact = linear_gaussian
    elbo, expected_ll, kl = metrics.elbo(model, x, return_terms=True)
    np.testing.assert_allclose(elbo, expected_ll - kl)
    assert np.all(kl > 0)
    # With the exact posterior the ELBO equals log p(x) on average.
    np.testing.assert_allclose(elbo.mean(), exact.mean(), rtol=0.02)


def test_iwae_tightens_with_k_for_a_poor_posterior(linear_gaussian):
    model, x, exact = linear_gaussian
    clone = type(model).from_config(model.get_config())
    clone.set_weights(model.get_weights())
    loc = clone.get_layer("encoder").get_layer("encoder_loc")
    kernel, bias = loc.get_weights()
    loc.set_weights([kernel * 0.5, bias + 0.3])
    elbo = metrics.elbo(clone, x).mean()
    k1 = metrics.iwae_log_likelihood(clone, x, k=1).mean()
    k100 = metrics.iwae_log_likelihood(clone, x, k=100).mean()
    assert elbo < k100 and k1 < k100 <= exact.mean() + 1e-3
    # A tiny memory bound processes one example at a time, same estimator.
    small = metrics.iwae_log_likelihood(clone, x[:4], k=100, max_elements=100 * D)
    assert small.shape == (4,) and np.all(small < exact[:4] + 1.0)


def test_iwae_decodes_at_most_max_elements_whatever_k(linear_gaussian):
    model, x, _ = linear_gaussian
    decoded, decoder_params = [], model.decoder_params

    def recording(codes, training=False):
        params = decoder_params(codes, training)
        decoded.append(int(np.prod(params.shape)))
        return params

    model.decoder_params = recording
    try:
        # One example's 100 draws need 100 * D floats: a bound of 7 * D decodes them 7 at a time.
        chunked = metrics.iwae_log_likelihood(model, x[:3], k=100, max_elements=7 * D, seed=4)
        assert decoded and max(decoded) <= 7 * D and len(decoded) == 3 * 15  # ceil(100 / 7) chunks an example
        decoded.clear()
        whole = metrics.iwae_log_likelihood(model, x[:3], k=100, max_elements=100 * D, seed=4)  # one at a time
        assert max(decoded) == 100 * D
    finally:
        del model.decoder_params
    np.testing.assert_allclose(chunked, whole, rtol=1e-6)  # the same draws, the same estimate


def test_metrics_reject_non_vae_models():
    model = keras_ae.build("dense", input_shape=(4,), latent_dim=2)
    with pytest.raises(ValueError, match="Invalid value for 'model'"):
        metrics.elbo(model, np.zeros((2, 4), "float32"))
    with pytest.raises(ValueError, match="Invalid value for 'k'"):
        metrics.iwae_log_likelihood(model, np.zeros((2, 4), "float32"), k=0)


def test_reconstruction_probability_is_a_log_mean_of_likelihoods(linear_gaussian):
    model, x, _ = linear_gaussian
    _, expected_ll, _ = metrics.elbo(model, x, return_terms=True, seed=3)
    # One sample: the log-likelihood of the ELBO's own draw.
    np.testing.assert_allclose(metrics.reconstruction_probability(model, x, samples=1, seed=3), expected_ll,
                               rtol=1e-5)
    # Averaging probabilities (not logs) over samples can only raise the mean (Jensen).
    many = metrics.reconstruction_probability(model, x, samples=64)
    assert many.shape == (200,) and many.mean() > expected_ll.mean()
    with pytest.raises(ValueError, match="Invalid value for 'samples'"):
        metrics.reconstruction_probability(model, x, samples=0)


def test_reconstruction_error_refuses_empty_and_non_finite_arrays():
    x = np.zeros((2, 3))
    np.testing.assert_array_equal(metrics.reconstruction_error(x, x + 1.0), [3.0, 3.0])
    with pytest.raises(ValueError, match=r"Invalid value for 'x': expected finite values"):
        metrics.reconstruction_error(np.full((2, 3), np.nan), x)
    with pytest.raises(ValueError, match=r"Invalid value for 'x_hat': expected finite values"):
        metrics.reconstruction_error(x, np.full((2, 3), np.inf))
    with pytest.raises(ValueError, match=r"Invalid value for 'x': expected at least one example"):
        metrics.reconstruction_error(x[:0], x[:0])
