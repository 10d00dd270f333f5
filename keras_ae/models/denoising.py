"""The denoising autoencoder."""

from keras_ae import _validation as v
from keras_ae._registry import register_model
from keras_ae.layers import NOISE_KINDS, Corruption
from keras_ae.models import _blocks
from keras_ae.models.conv import conv_encoder


@register_model(
    options={
        "base": v.OneOf("conv", "dense"),
        "noise": v.OneOf(*NOISE_KINDS),
        "noise_level": v.Real(low=0),
        "hidden": v.IntTuple(),
        "filters": v.IntTuple(allow_empty=False),
    },
    input_rank=("base", {"dense": 1, "conv": 3}),
)
def denoising(
    *,
    input_shape,
    latent_dim,
    base="dense",
    noise="gaussian",
    noise_level=0.3,
    hidden=(256, 128),
    filters=(32, 64),
    activation="relu",
    likelihood="bernoulli",
    learning_rate=1e-3,
    seed=None,
    compile=True,
):
    """Denoising autoencoder: corrupt the input in training, rebuild it clean.

    A :class:`~keras_ae.layers.Corruption` layer in front of the encoder acts
    only when ``training=True``, so ``model.fit(x, x)`` trains on fresh noise
    every step while ``predict`` and the encoder see clean data. For a fixed
    corruption, use :func:`keras_ae.corrupt` and ``fit(x_noisy, x)``. See
    Vincent et al., "Extracting and Composing Robust Features with Denoising
    Autoencoders", ICML 2008.

    Args:
        input_shape: Shape of one example.
        latent_dim: Positive integer, size of the code.
        base: ``"dense"`` or ``"conv"``.
        noise: ``"gaussian"`` (additive), ``"dropout"`` (masking) or
            ``"salt_and_pepper"``.
        noise_level: Standard deviation for ``"gaussian"``, fraction of
            corrupted inputs in [0, 1) otherwise.
        hidden: Hidden widths (``base="dense"``).
        filters: Channels of the strided convolutions (``base="conv"``).
        activation: Activation of the hidden layers.
        likelihood: ``"bernoulli"`` or ``"gaussian"``.
        learning_rate: Adam's learning rate.
        seed: Optional integer seed of the corruption.
        compile: Whether to compile the model.

    Returns:
        A ``keras.Model`` named ``"denoising"`` with sub-models ``"encoder"``
        and ``"decoder"``.

    Example:

    ```python
    model = keras_ae.build("denoising", input_shape=(64,), latent_dim=16,
                           noise="dropout", noise_level=0.25)
    model.fit(x, x, epochs=20)
    ```
    """
    corruption = Corruption(noise, noise_level, seed=seed, name="corruption")
    if base == "conv":
        _blocks.check_image_shape(input_shape, filters)
        encoder = conv_encoder(input_shape, latent_dim, filters, activation)
        decoder = _blocks.conv_decoder(latent_dim, input_shape, filters, (), activation, likelihood)
    else:
        encoder = _blocks.dense_encoder(input_shape, latent_dim, hidden, activation)
        decoder = _blocks.dense_decoder(latent_dim, input_shape, hidden, activation, likelihood)
    model = _blocks.assemble(encoder, decoder, name="denoising", corruption=corruption,
                             likelihood=likelihood)
    if compile:
        _blocks.compile_model(model, learning_rate)
    return model
