"""The undercomplete deep autoencoder."""

from keras_ae import _validation as v
from keras_ae._registry import register_model
from keras_ae.models import _blocks


@register_model(options={"hidden": v.IntTuple()}, input_rank=1)
def dense(
    *,
    input_shape,
    latent_dim,
    hidden=(256, 128),
    activation="relu",
    likelihood="bernoulli",
    learning_rate=1e-3,
    compile=True,
):
    """Deep undercomplete autoencoder with a mirrored Dense decoder.

    The encoder maps the (flattened) input through ``hidden`` to a linear code
    of ``latent_dim`` units; the decoder mirrors it. With
    ``input_shape=(784,), latent_dim=30, hidden=(1000, 500, 250)`` it is the
    MNIST network of Hinton & Salakhutdinov, "Reducing the Dimensionality of
    Data with Neural Networks", Science 2006 (trained end to end here,
    without RBM pretraining).

    Args:
        input_shape: Shape of one example, e.g. ``(784,)`` or ``(28, 28, 1)``.
        latent_dim: Positive integer, size of the code.
        hidden: Tuple of widths of the encoder's hidden layers (``()`` for a
            one-layer encoder); the decoder uses them reversed.
        activation: Activation of the hidden layers.
        likelihood: ``"bernoulli"`` (data in [0, 1], sigmoid output, summed
            cross-entropy) or ``"gaussian"`` (linear output, summed squared
            error).
        learning_rate: Adam's learning rate.
        compile: Whether to compile the model.

    Returns:
        A ``keras.Model`` named ``"dense"`` with sub-models ``"encoder"`` and
        ``"decoder"``.

    Example:

    ```python
    model = keras_ae.build("dense", input_shape=(64,), latent_dim=8)
    model.fit(x, x, epochs=20, batch_size=64)
    codes = model.get_layer("encoder").predict(x)
    ```
    """
    encoder = _blocks.dense_encoder(input_shape, latent_dim, hidden, activation)
    decoder = _blocks.dense_decoder(latent_dim, input_shape, hidden, activation, likelihood)
    model = _blocks.assemble(encoder, decoder, name="dense", likelihood=likelihood,
                             decoder_scale=None)
    if compile:
        _blocks.compile_model(model, learning_rate)
    return model
