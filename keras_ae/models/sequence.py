"""The 1-D convolutional autoencoder of windows of a multivariate time series."""

import math

import keras
from keras import layers

from keras_ae import _validation as v
from keras_ae._registry import register_model
from keras_ae.layers import SeededDropout
from keras_ae.models import _blocks


def check_sequence_shape(input_shape, filters):
    """Checks that the number of time steps is divisible by the stride of ``filters``."""
    factor = 2 ** len(filters)
    timesteps, _ = input_shape
    if timesteps % factor:
        raise v.invalid(
            "input_shape",
            f"(timesteps, features) with timesteps divisible by {factor} "
            f"(2 ** len(filters) for filters={filters})",
            input_shape,
        )
    return input_shape, filters


def _dropout(x, rate, seed, name):
    """``SeededDropout`` named ``name``, or nothing when ``rate`` is 0."""
    if rate == 0:
        return x
    return SeededDropout(rate, seed=seed, name=name)(x)


def _seeds(seed, count):
    """One seed per dropout layer: ``seed, seed + 1...``, or ``None`` for each."""
    return [None if seed is None else seed + i for i in range(count)]


def conv1d_encoder(input_shape, latent_dim, filters, kernel_size, dropout, activation, seeds):
    """Strided ``Conv1D`` blocks (dropout between them), flatten, linear code ``encoder_code``."""
    inputs = keras.Input(shape=input_shape, name="encoder_input")
    x = inputs
    for i, width in enumerate(filters, start=1):
        if i > 1:
            x = _dropout(x, dropout, seeds[i - 2], f"encoder_dropout_{i - 1}")
        x = layers.Conv1D(
            width, kernel_size, strides=2, padding="same", activation=activation,
            name=f"encoder_conv_{i}",
        )(x)
    x = layers.Flatten(name="encoder_flatten")(x)
    codes = layers.Dense(latent_dim, name="encoder_code")(x)
    return keras.Model(inputs, codes, name="encoder")


def conv1d_decoder(latent_dim, output_shape, filters, kernel_size, dropout, activation, likelihood, seeds):
    """Mirror of the encoder: ``Dense``, reshape, strided ``Conv1DTranspose`` blocks, output head."""
    timesteps, features = output_shape
    start = (timesteps // 2 ** len(filters), filters[-1])
    codes = keras.Input(shape=(latent_dim,), name="decoder_input")
    x = layers.Dense(math.prod(start), activation=activation, name="decoder_project")(codes)
    x = layers.Reshape(start, name="decoder_reshape")(x)
    for i, width in enumerate(reversed(filters), start=1):
        if i > 1:
            x = _dropout(x, dropout, seeds[i - 2], f"decoder_dropout_{i - 1}")
        x = layers.Conv1DTranspose(
            width, kernel_size, strides=2, padding="same", activation=activation,
            name=f"decoder_deconv_{i}",
        )(x)
    x = layers.Conv1DTranspose(features, kernel_size, padding="same", name="decoder_logits")(x)
    return keras.Model(codes, _blocks.output_head(x, likelihood), name="decoder")


@register_model(
    options={
        "input_shape": v.Shape(ndim=2),
        "filters": v.IntTuple(allow_empty=False),
        "kernel_size": v.Integer(1),
        "dropout": v.Real(low=0, high=1, high_open=True),
    },
    input_rank=2,
)
def conv1d(
    *,
    input_shape,
    latent_dim,
    filters=(32, 16),
    kernel_size=7,
    dropout=0.2,
    activation="relu",
    likelihood="gaussian",
    learning_rate=1e-3,
    seed=None,
    compile=True,
):
    """Convolutional autoencoder of time-series windows: strided Conv1D down, Conv1DTranspose up.

    The network of the keras.io example "Timeseries anomaly detection using
    an Autoencoder" (Pavithra Vijay, 2020,
    https://keras.io/examples/timeseries/timeseries_anomaly_detection/),
    with a code layer: each of ``filters`` is a ``Conv1D`` of
    ``kernel_size`` with stride 2 and ``padding="same"``, which halves the
    time axis, with dropout between them; the last feature map,
    ``(timesteps / 2 ** len(filters), filters[-1])``, is flattened and a
    Dense layer maps it to a linear code of ``latent_dim`` units. The
    decoder mirrors it: a Dense layer and a reshape back to that feature
    map, one ``Conv1DTranspose`` with stride 2 per filter (reversed, dropout
    between them), and a last ``Conv1DTranspose`` to ``features`` channels.

    One example is a window ``(timesteps, features)`` of a multivariate
    series (a batch is ``(batch, timesteps, features)``); ``timesteps`` must
    be divisible by ``2 ** len(filters)``. The reconstruction has the shape
    of the input. With ``input_shape=(288, 1)`` and the defaults the
    convolutions are those of keras.io, whose code is the ``(72, 16)``
    feature map itself (it has no Dense layers).

    The default likelihood is ``"gaussian"``: time series are standardized
    (zero mean, unit variance per feature), not in [0, 1], and the loss is the
    summed squared error (keras.io uses its mean). With ``"bernoulli"`` (data
    in [0, 1]) the decoder ends in a sigmoid and the loss is the summed
    cross-entropy, as for the other models.

    Args:
        input_shape: ``(timesteps, features)``.
        latent_dim: Positive integer, size of the code.
        filters: Non-empty tuple of channel counts of the strided
            convolutions; the decoder uses them reversed.
        kernel_size: Positive integer, length of every convolution kernel.
        dropout: Dropout rate in [0, 1) between consecutive convolutions of
            the encoder and of the decoder (no dropout layer when 0).
        activation: Activation of the hidden layers.
        likelihood: ``"gaussian"`` (standardized data, linear output, summed
            squared error) or ``"bernoulli"`` (data in [0, 1]).
        learning_rate: Adam's learning rate.
        seed: Optional integer seed of the dropout masks (the dropout layers,
            counted from 0 through the encoder then the decoder, use
            ``seed + k``).
        compile: Whether to compile the model.

    Returns:
        A ``keras.Model`` named ``"conv1d"`` with sub-models ``"encoder"``
        (``(batch, timesteps, features) -> (batch, latent_dim)``) and
        ``"decoder"`` (``(batch, latent_dim) -> (batch, timesteps, features)``).

    Raises:
        ValueError: If ``timesteps`` is not divisible by ``2 ** len(filters)``.

    Example:

    ```python
    # series: (T, 3) readings of 3 sensors. Standardize each, cut windows of 288 steps.
    series = (series - series.mean(axis=0)) / series.std(axis=0)
    windows = np.stack([series[i : i + 288] for i in range(len(series) - 287)])  # (n, 288, 3)
    model = keras_ae.build("conv1d", input_shape=(288, 3), latent_dim=16)
    model.fit(windows, epochs=50, batch_size=128)
    errors = ((model.predict(windows) - windows) ** 2).sum(axis=(1, 2))
    ```
    """
    check_sequence_shape(input_shape, filters)
    seeds = _seeds(seed, 2 * (len(filters) - 1))
    encoder = conv1d_encoder(input_shape, latent_dim, filters, kernel_size, dropout, activation,
                             seeds[: len(filters) - 1])
    decoder = conv1d_decoder(latent_dim, input_shape, filters, kernel_size, dropout, activation, likelihood,
                             seeds[len(filters) - 1:])
    model = _blocks.assemble(encoder, decoder, name="conv1d", likelihood=likelihood)
    if compile:
        _blocks.compile_model(model, learning_rate)
    return model
