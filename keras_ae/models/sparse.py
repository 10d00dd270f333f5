"""The sparse autoencoder."""

import keras

from keras_ae import _validation as v
from keras_ae._registry import register_model
from keras_ae.layers import KLSparsity
from keras_ae.models import _blocks


@register_model
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
      (default weight 1.0). See :class:`~keras_ae.layers.KLSparsity` and
      Ng, "Sparse autoencoder", CS294A lecture notes, 2011.

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
    input_shape = _blocks.check_common(input_shape, latent_dim, activation, likelihood, learning_rate)
    hidden = v.check_int_tuple("hidden", hidden)
    v.check_choice("sparsity", sparsity, ("kl", "l1"))
    if sparsity_weight is None:
        sparsity_weight = 1.0 if sparsity == "kl" else 1e-3
    sparsity_weight = v.check_float("sparsity_weight", sparsity_weight, low=0)
    if sparsity == "kl":
        regularizer = KLSparsity(target=target, weight=sparsity_weight)
        code_activation = "sigmoid"
    else:
        regularizer = keras.regularizers.L1(sparsity_weight)
        code_activation = "relu"
    encoder = _blocks.dense_encoder(
        input_shape, latent_dim, hidden, activation, code_activation, activity_regularizer=regularizer
    )
    decoder = _blocks.dense_decoder(latent_dim, input_shape, hidden, activation, likelihood)
    model = _blocks.assemble(encoder, decoder, name="sparse")
    if compile:
        _blocks.compile_model(model, likelihood, learning_rate)
    return model
