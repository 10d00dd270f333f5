"""Reconstruction losses: negative log-likelihoods per example.

Every loss here sums over the features of one example and is averaged over
the batch by Keras, so a reported loss is in nats (or squared-error units)
per example, the scale of the papers.
"""

import keras
from keras import ops

from keras_ae import _compat
from keras_ae import _validation as v

__all__ = ["LIKELIHOODS", "NegativeLogLikelihood", "log_likelihood", "logits_from_probs"]

LIKELIHOODS = ("bernoulli", "gaussian")
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
