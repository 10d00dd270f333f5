"""Evaluation metrics: reconstruction error, ELBO, IWAE log-likelihood and reconstruction probability.

All functions return one value per example (NumPy ``float64`` arrays), so a
table reports their mean and can also show their spread.
"""

import math

import numpy as np
import tensorflow as tf

from keras_ae import _validation as v
from keras_ae.losses import log_likelihood

__all__ = ["elbo", "iwae_log_likelihood", "reconstruction_error", "reconstruction_probability"]


def reconstruction_error(x, x_hat):
    """Squared error per example, summed over features.

    Its mean over a test set is the "average squared error per image" of
    Hinton & Salakhutdinov (Science 2006): 3.00 for their 30-D MNIST
    autoencoder, 13.87 for 30-component PCA, with pixels in [0, 1].

    Args:
        x: Array of inputs, shape ``(n, ...)``.
        x_hat: Reconstructions, same shape.

    Returns:
        Array of shape ``(n,)``.

    Raises:
        ValueError: If ``x`` is empty, either array has NaN or infinite
            values, or the shapes differ.

    Example:

    ```python
    err = keras_ae.metrics.reconstruction_error(x_test, model.predict(x_test))
    print(err.mean())
    ```
    """
    x = np.asarray(v.check_array("x", x, finite=True), dtype="float64")
    x_hat = np.asarray(v.check_array("x_hat", x_hat, finite=True), dtype="float64")
    if x.ndim == 0 or len(x) == 0:
        raise v.invalid("x", "at least one example", v.Shown(f"<array of shape {x.shape}>"))
    if x.shape != x_hat.shape:
        raise v.invalid("x_hat", f"an array of the shape of x {x.shape}", f"array of shape {x_hat.shape}")
    return np.sum(np.square(x - x_hat).reshape(len(x), -1), axis=1)


class _VAEParts:
    """The pieces of a built or loaded VAE that the likelihood bounds need."""

    def __init__(self, model, x):
        from keras_ae.models import VariationalAutoencoder

        if not isinstance(model, VariationalAutoencoder):
            raise v.invalid("model", "a VAE built by keras_ae (a keras_ae.models.VariationalAutoencoder)",
                            getattr(model, "name", model))
        self.model = model
        self.posterior = model.posterior
        self.likelihood = model.likelihood
        self.scale = model.decoder_scale
        self.latent_dim = model.latent_dim
        v.check_array("x", x, finite=True, unit_interval=self.likelihood == "bernoulli")
        if len(x) == 0:
            raise v.invalid("x", "at least one example", f"array of shape {np.shape(x)}")
        expected = tuple(model.inputs[0].shape[1:])
        if tuple(np.shape(x)[1:]) != expected:
            raise v.invalid("x", f"an array of examples of the model's input shape {expected}",
                            f"array of shape {np.shape(x)}")

    def encode(self, x):
        return self.model.posterior_params(x, training=False)

    def draws(self, x, k, batch_size, seed, common_noise):
        """Yields ``(batch, q(z|batch), z)``, batch by batch, with ``k`` draws ``z`` per example."""
        for i, xb in _batches(np.asarray(x, dtype="float32"), batch_size):
            q = self.posterior.distribution(*self.encode(xb))
            yield xb, q, _draw(q, k, seed, i, common_noise)

    def log_px(self, x, z):
        """log p(x | z) for z of shape (k, b, d) and x of shape (b, ...)."""
        k, b = z.shape[0], z.shape[1]
        z = tf.reshape(z, (k * b, self.latent_dim))
        x = tf.cast(x, "float32")
        x_rep = tf.reshape(tf.broadcast_to(x[None], (k, *x.shape)), (k * b, *x.shape[1:]))
        if hasattr(self.model, "log_prob"):
            # A decoder that reads x too (autoregressive: pixelcnn_vae) gives log p(x|z) itself.
            return tf.reshape(tf.cast(self.model.log_prob(x_rep, z), "float32"), (k, b))
        params = self.model.decoder_params(z)
        x_rep = tf.cast(x_rep, params.dtype)
        return tf.reshape(log_likelihood(x_rep, params, self.likelihood, self.scale), (k, b))


def _draw(q, k, seed, batch_index, common_noise):
    """``k`` draws from each row's q(z|x): independent, or the same ``eps`` for every row."""
    if common_noise:
        eps = tf.random.stateless_normal((k, 1, q.event_shape[-1]), seed=tf.constant([seed, 0], dtype=tf.int32))
        return q.mean()[None] + q.stddev()[None] * eps
    return q.sample(k, seed=tf.constant([seed, batch_index], dtype=tf.int32))


def _batches(x, batch_size):
    for start in range(0, len(x), batch_size):
        yield start // batch_size, x[start : start + batch_size]


def elbo(model, x, *, batch_size=256, seed=0, return_terms=False, common_noise=False):
    """Evidence lower bound per example, in nats, with one posterior sample.

    ``ELBO(x) = E_q[log p(x|z)] - KL(q(z|x) || p(z))`` with the KL in closed
    form and the expectation estimated by one reparameterized sample. This
    is the bound with ``beta = 1``, whatever ``beta`` the model trained with.

    Args:
        model: A VAE built by :func:`keras_ae.build` (or loaded).
        x: Array of inputs.
        batch_size: Examples per forward pass.
        seed: Integer seed of the posterior samples.
        return_terms: Also return ``E_q[log p(x|z)]`` and the KL.
        common_noise: If ``True``, the same draw for every example (see
            :func:`reconstruction_probability`).

    Returns:
        Array ``(n,)``, or a tuple ``(elbo, expected_log_likelihood, kl)``.

    Raises:
        ValueError: If ``model`` is not a keras_ae VAE, or ``x`` has
            non-finite values, values outside [0, 1] for a Bernoulli
            likelihood, or another shape than the model's input.

    Example:

    ```python
    print(keras_ae.metrics.elbo(model, x_test).mean())
    ```
    """
    from keras_ae._tfp import tfd

    v.check_int("batch_size", batch_size)
    v.check_int("seed", seed, minimum=0)
    v.Boolean().check("common_noise", common_noise)
    parts = _VAEParts(model, x)
    rec, kls = [], []
    for xb, q, z in parts.draws(x, 1, batch_size, seed, common_noise):
        rec.append(parts.log_px(xb, z)[0].numpy())
        kls.append(tfd.kl_divergence(q, parts.posterior.prior(parts.latent_dim)).numpy())
    rec = np.concatenate(rec).astype("float64")
    kl = np.concatenate(kls).astype("float64")
    return (rec - kl, rec, kl) if return_terms else rec - kl


def iwae_log_likelihood(model, x, *, k=100, max_elements=2**22, seed=0, common_noise=False):
    """Importance-weighted estimate of log p(x) per example, in nats.

    ``log p(x) ~= log (1/k) sum_i p(x, z_i) / q(z_i|x)``, ``z_i ~ q(z|x)``:
    a lower bound that tightens as ``k`` grows (Burda, Grosse &
    Salakhutdinov, "Importance Weighted Autoencoders", ICLR 2016). Examples
    are processed in batches sized so that ``k * batch * features`` stays
    below ``max_elements``; when one example's ``k`` draws alone exceed it,
    they are decoded in chunks, so the decoded tensor stays under
    ``max_elements`` floats whatever ``k`` (the draws themselves take
    ``k * latent_dim`` floats per example).

    For a model with a ``log_prob(x, z)`` method (``pixelcnn_vae``, whose
    autoregressive decoder reads ``x`` too), ``log p(x|z)`` is that method's
    exact, teacher-forced value.

    Args:
        model: A VAE built by :func:`keras_ae.build` (or loaded).
        x: Array of inputs.
        k: Positive number of importance samples.
        max_elements: Memory bound on the decoded tensor, in floats.
        seed: Integer seed of the samples.
        common_noise: If ``True``, the same draws for every example (see
            :func:`reconstruction_probability`).

    Returns:
        Array of shape ``(n,)``.

    Raises:
        ValueError: If ``model`` is not a keras_ae VAE, or ``x`` has
            non-finite values, values outside [0, 1] for a Bernoulli
            likelihood, or another shape than the model's input.

    Example:

    ```python
    nll = -keras_ae.metrics.iwae_log_likelihood(model, x_test, k=100).mean()
    ```
    """
    v.check_int("k", k)
    v.check_int("max_elements", max_elements)
    v.check_int("seed", seed, minimum=0)
    v.Boolean().check("common_noise", common_noise)
    parts = _VAEParts(model, x)
    features = math.prod(np.shape(x)[1:])
    batch_size = max(1, max_elements // (k * features))
    chunk = max(1, max_elements // features)  # draws decoded at once when one example's k draws exceed the bound
    prior = parts.posterior.prior(parts.latent_dim)
    out = []
    for xb, q, z in parts.draws(x, k, batch_size, seed, common_noise):
        log_w = tf.concat([parts.log_px(xb, zc) + prior.log_prob(zc) - q.log_prob(zc)
                           for zc in (z[s : s + chunk] for s in range(0, k, chunk))], axis=0)
        out.append((tf.reduce_logsumexp(log_w, axis=0) - math.log(k)).numpy())
    return np.concatenate(out).astype("float64")


def reconstruction_probability(model, x, *, samples=16, batch_size=256, seed=0, common_noise=False):
    """Log reconstruction probability per example, in nats (An & Cho, 2015).

    ``log (1/L) sum_l p(x | z_l)`` with ``z_l ~ q(z|x)``, ``L = samples``:
    how probable the decoder finds ``x`` when it is given codes drawn from
    the encoder's posterior for ``x``. An & Cho score anomalies by this
    probability (low means anomalous); unlike a squared error, it accounts
    for the variability the decoder expects (through the Gaussian scale or
    the Bernoulli means) and for the spread of the posterior. The average
    over samples is taken of the probabilities, in log space
    (``logsumexp``), as in the paper's Algorithm 4; it has no KL term, so
    it is not a bound on ``log p(x)`` (see :func:`iwae_log_likelihood`).

    J. An and S. Cho, "Variational Autoencoder based Anomaly Detection using
    Reconstruction Probability", SNU Data Mining Center, 2015.

    Args:
        model: A VAE built by :func:`keras_ae.build` (or loaded).
        x: Array of inputs, shape ``(n, ...)`` the model's input shape.
        samples: Positive number ``L`` of posterior samples per example.
        batch_size: Examples per forward pass.
        seed: Integer seed of the samples.
        common_noise: If ``True``, every example uses the same standard-normal
            draws ``eps`` (``z = loc + scale * eps``, common random numbers):
            an example's estimate then depends only on the example and
            ``seed``, not on its position or batch, and differences between
            examples are not blurred by independent noise, which is what
            ranking examples (anomaly scores) needs. The mean over a dataset
            is less precise than with independent draws (the default).

    Returns:
        Array of shape ``(n,)``, in nats (higher means more normal).

    Raises:
        ValueError: If ``model`` is not a keras_ae VAE, or ``x`` has
            non-finite values, values outside [0, 1] for a Bernoulli
            likelihood, or another shape than the model's input.

    Example:

    ```python
    log_prob = keras_ae.metrics.reconstruction_probability(model, x_test, samples=16)
    anomalies = log_prob < np.quantile(log_prob, 0.05)
    ```
    """
    v.check_int("samples", samples)
    v.check_int("batch_size", batch_size)
    v.check_int("seed", seed, minimum=0)
    v.Boolean().check("common_noise", common_noise)
    parts = _VAEParts(model, x)
    out = []
    for xb, _, z in parts.draws(x, samples, batch_size, seed, common_noise):
        log_px = parts.log_px(xb, z)
        out.append((tf.reduce_logsumexp(log_px, axis=0) - math.log(samples)).numpy())
    return np.concatenate(out).astype("float64")
