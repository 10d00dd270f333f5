"""The sparse autoencoder."""

import keras
from keras import ops

from keras_ae import _validation as v
from keras_ae._registry import register_model
from keras_ae.layers import kl_sparsity
from keras_ae.models import _blocks
from keras_ae.models._base import Autoencoder


@keras.saving.register_keras_serializable(package="keras_ae")
class SparseAutoencoder(Autoencoder):
    """Autoencoder with a sparsity penalty on its code, weighted by ``sparsity_weight``.

    Terms: ``"reconstruction"`` and ``"sparsity"``, either ``sum_j |h_j|``
    per example (``sparsity="l1"``) or ``sum_j KL(rho || rho_hat_j)``
    (``sparsity="kl"``, the same batch-level value for every example of the
    batch; under ``tf.distribute`` ``rho_hat`` is each replica's batch mean).
    The penalty is computed in float32, so it trains under mixed precision.

    Args:
        *args: Functional model arguments.
        sparsity: ``"l1"`` or ``"kl"``.
        target: ``rho`` of ``"kl"``.
        **kwargs: :class:`~keras_ae.models.Autoencoder` arguments.
    """

    HYPERPARAMETERS = ("sparsity_weight",)
    TERM_WEIGHTS = {"sparsity": "sparsity_weight"}
    TERMS = ("reconstruction", "sparsity")

    def __init__(self, *args, sparsity="kl", target=0.05, **kwargs):
        super().__init__(*args, **kwargs)
        self.sparsity = v.check_choice("sparsity", sparsity, ("kl", "l1"))
        self.target = v.check_float("target", target, low=0, high=1, low_open=True, high_open=True)

    def loss_terms(self, x, y, training=False):
        codes = self.encode(x, training=training)
        reconstruction = self.reconstruction_nll(y, self.decoder_params(codes, training))
        if self.sparsity == "l1":
            penalty = ops.sum(ops.abs(ops.cast(codes, "float32")), axis=-1)
        else:
            penalty = ops.ones_like(reconstruction) * kl_sparsity(codes, self.target)
        return {"reconstruction": reconstruction, "sparsity": penalty}

    def get_config(self):
        return {**super().get_config(), "sparsity": self.sparsity, "target": self.target}


@register_model(
    options={
        "sparsity": v.OneOf("kl", "l1"),
        "sparsity_weight": v.OrNone(v.Real(low=0)),
        "target": v.Real(low=0, high=1, low_open=True, high_open=True),
        "hidden": v.IntTuple(),
    },
)
def sparse(
    *,
    input_shape,
    latent_dim,
    sparsity="kl",
    sparsity_weight=None,
    target=0.05,
    hidden=(),
    activation="relu",
    likelihood="bernoulli",
    learning_rate=1e-3,
    compile=True,
):
    """Sparse autoencoder: an activity regularizer on the code layer.

    - ``sparsity="l1"``: ReLU code units and the penalty
      ``sparsity_weight * sum_j |h_j|`` per example (default weight 1e-3).
    - ``sparsity="kl"``: sigmoid code units and the penalty
      ``sparsity_weight * sum_j KL(rho || rho_hat_j)``, ``rho_hat_j`` the
      mean activation of unit ``j`` over the batch and ``rho = target``
      (default weight 1.0). See :class:`SparseAutoencoder` and Ng, "Sparse autoencoder", CS294A lecture notes, 2011.

    The code may be wider than the input (an overcomplete model): the
    penalty, not the size, stops it from learning the identity.

    Args:
        input_shape: Shape of one example.
        latent_dim: Positive integer, number of code units.
        sparsity: ``"l1"`` or ``"kl"``.
        sparsity_weight: Non-negative weight of the penalty (``None`` for
            the default of ``sparsity``).
        target: Target mean activation ``rho`` in (0, 1) for ``"kl"``.
        hidden: Hidden widths before the code layer.
        activation: Activation of the hidden layers.
        likelihood: ``"bernoulli"`` or ``"gaussian"``.
        learning_rate: Adam's learning rate.
        compile: Whether to compile the model.

    Returns:
        A ``keras.Model`` named ``"sparse"`` with sub-models ``"encoder"`` and
        ``"decoder"``.

    Example:

    ```python
    model = keras_ae.build("sparse", input_shape=(64,), latent_dim=128,
                           sparsity="kl", target=0.05)
    model.fit(x, x, epochs=30)
    ```
    """
    if sparsity_weight is None:
        sparsity_weight = 1.0 if sparsity == "kl" else 1e-3
    code_activation = "sigmoid" if sparsity == "kl" else "relu"
    encoder = _blocks.dense_encoder(input_shape, latent_dim, hidden, activation, code_activation)
    decoder = _blocks.dense_decoder(latent_dim, input_shape, hidden, activation, likelihood)
    model = _blocks.assemble(
        encoder, decoder, name="sparse", model_class=SparseAutoencoder, likelihood=likelihood,
        sparsity=sparsity, target=target, hyperparameters={"sparsity_weight": sparsity_weight},
    )
    if compile:
        _blocks.compile_model(model, learning_rate)
    return model
