"""The convolutional autoencoder."""

import keras
from keras import layers

from keras_ae import _validation as v
from keras_ae._registry import register_model
from keras_ae.models import _blocks


def conv_encoder(input_shape, latent_dim, filters, activation):
    """Strided-conv encoder ending in a linear code layer ``encoder_code``."""
    inputs, x = _blocks.conv_encoder_body(input_shape, filters, activation)
    codes = layers.Dense(latent_dim, name="encoder_code")(x)
    return keras.Model(inputs, codes, name="encoder")


@register_model(options={"input_shape": v.Shape(ndim=3), "filters": v.IntTuple(allow_empty=False)},
                input_rank=3)
def conv(
    *,
    input_shape,
    latent_dim,
    filters=(32, 64),
    activation="relu",
    likelihood="bernoulli",
    learning_rate=1e-3,
    compile=True,
):
    """Convolutional autoencoder: strided Conv2D down, Conv2DTranspose up.

    Each of ``filters`` is a 3x3 convolution with stride 2, so image sides
    must be divisible by ``2 ** len(filters)``. A Dense layer maps the last
    feature map to the code; the decoder mirrors the encoder. See Masci et
    al., "Stacked Convolutional Auto-Encoders for Hierarchical Feature
    Extraction", ICANN 2011.

    Args:
        input_shape: ``(height, width, channels)``.
        latent_dim: Positive integer, size of the code.
        filters: Tuple of channel counts of the strided convolutions.
        activation: Activation of the hidden layers.
        likelihood: ``"bernoulli"`` (data in [0, 1]) or ``"gaussian"``.
        learning_rate: Adam's learning rate.
        compile: Whether to compile the model.

    Returns:
        A ``keras.Model`` named ``"conv"`` with sub-models ``"encoder"`` and
        ``"decoder"``.

    Example:

    ```python
    model = keras_ae.build("conv", input_shape=(28, 28, 1), latent_dim=16)
    model.fit(x, x, epochs=5)
    ```
    """
    _blocks.check_image_shape(input_shape, filters)
    encoder = conv_encoder(input_shape, latent_dim, filters, activation)
    decoder = _blocks.conv_decoder(latent_dim, input_shape, filters, (), activation, likelihood)
    model = _blocks.assemble(encoder, decoder, name="conv", likelihood=likelihood)
    if compile:
        _blocks.compile_model(model, learning_rate)
    return model
