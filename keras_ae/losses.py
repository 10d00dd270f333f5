"""Reconstruction losses: negative log-likelihoods per example.

Every loss here sums over the features of one example and is averaged over
the batch by Keras, so a reported loss is in nats (or squared-error units)
per example, the scale of the papers.
"""

import math

import keras
from keras import ops

from keras_ae import _compat
from keras_ae import _validation as v

__all__ = ["IMQ_SCALES", "LIKELIHOODS", "NegativeLogLikelihood", "log_likelihood", "logits_from_probs", "mmd"]

LIKELIHOODS = ("bernoulli", "gaussian")
#: Multiples of the base scale ``C = 2 d sigma^2`` summed by :func:`mmd`, as in
#: the code of Tolstikhin et al. (2018).
IMQ_SCALES = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)
_EPS = 1e-7


def logits_from_probs(probs):
    """Recovers the logits behind sigmoid probabilities, stably when possible.

    Keras' TensorFlow backend keeps the logits on the output of a sigmoid
    (read by :func:`keras_ae._compat.keras_logits`), and in a graph the
    producing op is a ``Sigmoid`` whose input are the logits: both give exact
    logits, so saturated outputs cost their true loss. Otherwise the logits
    are recomputed from the clipped probabilities.
    """
    logits = _compat.keras_logits(probs)
    if logits is not None:
        return logits
    op = getattr(probs, "op", None)
    if op is not None and getattr(op, "type", None) == "Sigmoid":
        return op.inputs[0]
    p = ops.clip(probs, _EPS, 1 - _EPS)
    return ops.log(p) - ops.log1p(-p)


def log_likelihood(x, params, likelihood, scale=None):
    """Returns log p(x | params) per example, summed over features.

    Args:
        x: Targets, shape ``(batch, ...)``.
        params: Decoder logits (``"bernoulli"``) or means (``"gaussian"``).
        likelihood: ``"bernoulli"`` or ``"gaussian"``.
        scale: Standard deviation of the Gaussian likelihood. ``None`` gives
            the negative summed squared error (a deterministic autoencoder).

    Returns:
        A tensor of shape ``(batch,)``.
    """
    x = ops.convert_to_tensor(x, dtype=params.dtype)
    axes = tuple(range(1, len(x.shape)))
    if likelihood == "gaussian" and scale is None:
        return -ops.sum(ops.square(x - params), axis=axes)
    from keras_ae._tfp import tfd

    if likelihood == "bernoulli":
        dist = tfd.Bernoulli(logits=params, dtype=params.dtype)
    else:
        dist = tfd.Normal(loc=params, scale=ops.cast(scale, params.dtype))
    return tfd.Independent(dist, reinterpreted_batch_ndims=len(axes)).log_prob(x)


@keras.saving.register_keras_serializable(package="keras_ae")
class NegativeLogLikelihood(keras.losses.Loss):
    """Negative log-likelihood of the data under the decoder, per example.

    - ``"bernoulli"``: the decoder outputs probabilities (a sigmoid); the loss
      is the binary cross-entropy summed over features, computed from the
      logits (see :func:`logits_from_probs`), for data in [0, 1].
    - ``"gaussian"`` with ``scale=None``: the summed squared error, the
      "average squared error per image" of Hinton & Salakhutdinov (2006).
    - ``"gaussian"`` with a ``scale``: the Gaussian negative log-likelihood
      with that fixed standard deviation (used by the VAEs).

    Args:
        likelihood: ``"bernoulli"`` or ``"gaussian"``.
        scale: Optional positive standard deviation for ``"gaussian"``.
        **kwargs: Base ``Loss`` arguments (``name``, ``reduction``).
    """

    def __init__(self, likelihood="bernoulli", scale=None, name="nll", **kwargs):
        super().__init__(name=name, **kwargs)
        self.likelihood = v.check_choice("likelihood", likelihood, LIKELIHOODS)
        if scale is not None:
            scale = v.check_float("decoder_scale", scale, low=0, low_open=True)
        self.scale = scale

    def call(self, y_true, y_pred):
        params = logits_from_probs(y_pred) if self.likelihood == "bernoulli" else y_pred
        return -log_likelihood(y_true, params, self.likelihood, self.scale)

    def get_config(self):
        return {**super().get_config(), "likelihood": self.likelihood, "scale": self.scale}


def _off_diagonal_mean(kernel):
    n = ops.cast(ops.shape(kernel)[0], kernel.dtype)
    return (ops.sum(kernel) - ops.trace(kernel)) / ops.maximum(n * (n - 1.0), 1.0)


def mmd(a, b, *, prior_variance=1.0, scales=IMQ_SCALES):
    """Squared maximum mean discrepancy between two samples, with inverse multiquadratic kernels.

    The unbiased estimate (Gretton et al., JMLR 2012)::

        MMD^2 = mean_{i != j} k(a_i, a_j) + mean_{i != j} k(b_i, b_j) - 2 mean_{i, j} k(a_i, b_j)

    with ``k(x, y) = sum_s C_s / (C_s + ||x - y||^2)``, ``C_s = s * 2 d
    prior_variance`` for each ``s`` in ``scales`` (``d`` the dimension): the
    kernel and scales of the Wasserstein autoencoder (Tolstikhin et al.,
    "Wasserstein Auto-Encoders", ICLR 2018), whose heavy tails keep a
    gradient for codes far from the prior. It is 0 in expectation when both
    samples come from one distribution, and can be slightly negative.

    Args:
        a: Tensor or array of shape ``(n, d)``, ``n >= 2`` (codes).
        b: Tensor or array of shape ``(m, d)``, ``m >= 2`` (prior samples).
        prior_variance: Positive variance ``sigma^2`` setting the base scale.
        scales: Positive multiples of the base scale, summed.

    Returns:
        A float32 scalar tensor (no unit: kernel values).

    Raises:
        ValueError: If the feature sizes differ, or a sample has fewer than 2 rows.

    Example:

    ```python
    codes = model.get_layer("encoder").predict(x)
    keras_ae.losses.mmd(codes, model.sample_prior(len(codes)))
    ```
    """
    a = ops.cast(ops.convert_to_tensor(a), "float32")
    b = ops.cast(ops.convert_to_tensor(b), "float32")
    for name, t in (("a", a), ("b", b)):
        if len(t.shape) != 2 or (t.shape[0] is not None and t.shape[0] < 2):
            shape = v.Shown(f"<tensor of shape {tuple(t.shape)}>")
            raise v.invalid(name, "an array of shape (n, d) with n >= 2", shape)
    if a.shape[1] != b.shape[1]:
        shape = v.Shown(f"<tensor of shape {tuple(b.shape)}>")
        raise v.invalid("b", f"samples of dimension {a.shape[1]} like 'a'", shape)
    prior_variance = v.check_float("prior_variance", prior_variance, low=0, low_open=True)
    if (not isinstance(scales, (tuple, list)) or not scales
            or not all(isinstance(s, (int, float)) and math.isfinite(s) and s > 0 for s in scales)):
        raise v.invalid("scales", "a non-empty tuple of positive numbers", scales)
    if a.shape[1] is None:
        raise v.invalid("a", "samples of a known dimension d", v.Shown(f"<tensor of shape {tuple(a.shape)}>"))

    def squared_distances(p, q):
        return ops.maximum(
            ops.sum(ops.square(p), axis=1)[:, None] + ops.sum(ops.square(q), axis=1)[None, :]
            - 2.0 * ops.matmul(p, ops.transpose(q)), 0.0)

    d_aa, d_bb, d_ab = squared_distances(a, a), squared_distances(b, b), squared_distances(a, b)
    base = 2.0 * float(a.shape[1]) * prior_variance
    total = 0.0
    for s in scales:
        c = base * float(s)
        total += (_off_diagonal_mean(c / (c + d_aa)) + _off_diagonal_mean(c / (c + d_bb))
                  - 2.0 * ops.mean(c / (c + d_ab)))
    return total
