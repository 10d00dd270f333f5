"""Variational autoencoders: ``vae``, ``beta_vae`` and ``conv_vae``."""

import keras
from keras import layers

from keras_ae import _validation as v
from keras_ae._registry import register_model
from keras_ae.layers import GaussianPosterior
from keras_ae.models import _blocks


def _gaussian_encoder(inputs, features, latent_dim, beta, seed):
    loc = layers.Dense(latent_dim, name="encoder_loc")(features)
    raw_scale = layers.Dense(latent_dim, name="encoder_scale")(features)
    codes = GaussianPosterior(beta=beta, seed=seed, name="posterior", dtype="float32")([loc, raw_scale])
    return keras.Model(inputs, codes, name="encoder")


def _finish(encoder, decoder, name, likelihood, decoder_scale, learning_rate, compile):
    if likelihood == "gaussian":
        decoder_scale = v.check_float("decoder_scale", decoder_scale, low=0, low_open=True)
    model = _blocks.assemble(encoder, decoder, name=name)
    if compile:
        scale = decoder_scale if likelihood == "gaussian" else None
        _blocks.compile_model(model, likelihood, learning_rate, scale=scale)
    return model


def _dense_vae(name, input_shape, latent_dim, hidden, activation, likelihood, beta,
               decoder_scale, learning_rate, seed, compile):
    input_shape = _blocks.check_common(input_shape, latent_dim, activation, likelihood, learning_rate)
    hidden = v.check_int_tuple("hidden", hidden)
    inputs, features = _blocks.dense_encoder_body(input_shape, hidden, activation)
    encoder = _gaussian_encoder(inputs, features, latent_dim, beta, seed)
    decoder = _blocks.dense_decoder(latent_dim, input_shape, hidden, activation, likelihood)
    return _finish(encoder, decoder, name, likelihood, decoder_scale, learning_rate, compile)


@register_model
def vae(
    *,
    input_shape,
    latent_dim,
    hidden=(256, 128),
    activation="relu",
    likelihood="bernoulli",
    beta=1.0,
    decoder_scale=0.1,
    learning_rate=1e-3,
    seed=None,
    compile=True,
):
    """Variational autoencoder with a diagonal Gaussian posterior.

    The encoder outputs the mean and scale of q(z|x) (a
    ``tfp.distributions.MultivariateNormalDiag`` inside
    :class:`~keras_ae.layers.GaussianPosterior`), samples ``z`` with the
    reparameterization trick during training and returns the mean
    otherwise; the decoder gives p(x|z), Bernoulli or Gaussian. The
    training loss is the negative ELBO per example,
    ``-E_q[log p(x|z)] + beta * KL(q(z|x) || N(0, I))``. See Kingma &
    Welling, "Auto-Encoding Variational Bayes", ICLR 2014.

    Args:
        input_shape: Shape of one example.
        latent_dim: Positive integer, size of z.
        hidden: Hidden widths of the encoder (reversed in the decoder).
        activation: Activation of the hidden layers.
        likelihood: ``"bernoulli"`` (data in [0, 1]) or ``"gaussian"``.
        beta: Non-negative weight of the KL term.
        decoder_scale: Standard deviation of the Gaussian likelihood.
        learning_rate: Adam's learning rate.
        seed: Optional integer seed of the posterior samples.
        compile: Whether to compile the model.

    Returns:
        A ``keras.Model`` named ``"vae"`` with sub-models ``"encoder"``
        (x -> posterior mean at inference) and ``"decoder"`` (z -> mean of
        p(x|z)).

    Example:

    ```python
    model = keras_ae.build("vae", input_shape=(64,), latent_dim=2)
    model.fit(x, x, epochs=30, batch_size=64)
    z = keras.random.normal((16, 2))
    samples = model.get_layer("decoder").predict(z)
    ```
    """
    return _dense_vae("vae", input_shape, latent_dim, hidden, activation, likelihood, beta,
                      decoder_scale, learning_rate, seed, compile)


@register_model
def beta_vae(
    *,
    input_shape,
    latent_dim,
    beta=4.0,
    hidden=(256, 128),
    activation="relu",
    likelihood="bernoulli",
    decoder_scale=0.1,
    learning_rate=1e-3,
    seed=None,
    compile=True,
):
    """β-VAE: the VAE with the KL term weighted by ``beta`` (default 4).

    A larger ``beta`` trades reconstruction for a posterior closer to the
    prior (less information in z, often more disentangled factors). See
    Higgins et al., "beta-VAE: Learning Basic Visual Concepts with a
    Constrained Variational Framework", ICLR 2017. Arguments as in
    :func:`vae`.

    Example:

    ```python
    model = keras_ae.build("beta_vae", input_shape=(64,), latent_dim=4, beta=8.0)
    ```
    """
    return _dense_vae("beta_vae", input_shape, latent_dim, hidden, activation, likelihood, beta,
                      decoder_scale, learning_rate, seed, compile)


@register_model
def conv_vae(
    *,
    input_shape,
    latent_dim,
    filters=(32, 64),
    hidden=(16,),
    activation="relu",
    likelihood="bernoulli",
    beta=1.0,
    decoder_scale=0.1,
    learning_rate=1e-3,
    seed=None,
    compile=True,
):
    """Convolutional VAE, shaped like the keras.io "Variational AutoEncoder".

    Encoder: strided 3x3 Conv2D layers (``filters``), flatten, Dense layers
    (``hidden``), then the Gaussian posterior; the decoder mirrors it with
    Conv2DTranspose. Defaults reproduce the keras.io example for MNIST
    (Conv 32/64 stride 2, Dense 16) with ``latent_dim=2``. Arguments as in
    :func:`vae`, plus ``filters`` as in :func:`conv`.

    Example:

    ```python
    model = keras_ae.build("conv_vae", input_shape=(28, 28, 1), latent_dim=2)
    ```
    """
    input_shape, filters = _blocks.check_image_shape(input_shape, filters)
    _blocks.check_common(input_shape, latent_dim, activation, likelihood, learning_rate)
    hidden = v.check_int_tuple("hidden", hidden)
    inputs, features = _blocks.conv_encoder_body(input_shape, filters, activation)
    features = _blocks.dense_stack(features, hidden, activation, "encoder")
    encoder = _gaussian_encoder(inputs, features, latent_dim, beta, seed)
    decoder = _blocks.conv_decoder(latent_dim, input_shape, filters, hidden, activation, likelihood)
    return _finish(encoder, decoder, "conv_vae", likelihood, decoder_scale, learning_rate, compile)
