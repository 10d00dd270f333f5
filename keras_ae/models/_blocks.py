"""Shared pieces of the builders: encoder/decoder stacks, assembly, compile.

Layer names follow the block they belong to (``encoder_dense_1``,
``decoder_conv_2``...) so ``summary()`` reads like the paper's diagram.
"""

import math

import keras
from keras import layers

from keras_ae import _validation as v
from keras_ae.models._base import Autoencoder


def check_image_shape(input_shape, filters):
    """Checks that image sides are divisible by the stride of ``filters``."""
    factor = 2 ** len(filters)
    if len(input_shape) != 3:
        raise v.invalid("input_shape", "a tuple of 3 positive integers (height, width, channels)", input_shape)
    height, width, _ = input_shape
    if height % factor or width % factor:
        raise v.invalid(
            "input_shape",
            f"image sides divisible by {factor} (2 ** len(filters) for filters={filters})",
            input_shape,
        )
    return input_shape, filters


def dense_stack(x, widths, activation, prefix):
    """Applies ``Dense`` layers named ``{prefix}_dense_{i}``."""
    for i, width in enumerate(widths, start=1):
        x = layers.Dense(width, activation=activation, name=f"{prefix}_dense_{i}")(x)
    return x


def dense_encoder_body(input_shape, hidden, activation):
    """Returns ``(inputs, features)``: flatten then the hidden ``Dense`` layers."""
    inputs = keras.Input(shape=input_shape, name="encoder_input")
    x = inputs
    if len(input_shape) > 1:
        x = layers.Flatten(name="encoder_flatten")(x)
    return inputs, dense_stack(x, hidden, activation, "encoder")


def conv_encoder_body(input_shape, filters, activation, kernel_size=3):
    """Returns ``(inputs, features)``: strided ``Conv2D`` blocks, then flatten."""
    inputs = keras.Input(shape=input_shape, name="encoder_input")
    x = inputs
    for i, width in enumerate(filters, start=1):
        x = layers.Conv2D(
            width, kernel_size, strides=2, padding="same", activation=activation,
            name=f"encoder_conv_{i}",
        )(x)
    return inputs, layers.Flatten(name="encoder_flatten")(x)


def output_head(logits, likelihood):
    """Ends a decoder: a sigmoid for Bernoulli data, the identity otherwise."""
    activation = "sigmoid" if likelihood == "bernoulli" else "linear"
    # float32 even under mixed precision: the loss recovers exact logits from it.
    return layers.Activation(activation, name="decoder_output", dtype="float32")(logits)


def dense_decoder(latent_dim, output_shape, hidden, activation, likelihood, batchnorm=False):
    """Mirror of the dense encoder: ``hidden`` reversed, then the output head.

    With ``batchnorm``, each hidden ``Dense`` is followed by a
    ``BatchNormalization`` (``decoder_batchnorm_{i}``) before its activation:
    what keeps the generator of an adversarially trained decoder from
    collapsing (Radford et al. 2016).
    """
    codes = keras.Input(shape=(latent_dim,), name="decoder_input")
    if batchnorm:
        x = codes
        for i, width in enumerate(reversed(hidden), start=1):
            x = layers.Dense(width, name=f"decoder_dense_{i}")(x)
            x = layers.BatchNormalization(name=f"decoder_batchnorm_{i}")(x)
            x = layers.Activation(activation, name=f"decoder_activation_{i}")(x)
    else:
        x = dense_stack(codes, tuple(reversed(hidden)), activation, "decoder")
    x = layers.Dense(math.prod(output_shape), name="decoder_logits")(x)
    if len(output_shape) > 1:
        x = layers.Reshape(output_shape, name="decoder_reshape")(x)
    return keras.Model(codes, output_head(x, likelihood), name="decoder")


def conv_decoder(latent_dim, output_shape, filters, hidden, activation, likelihood, kernel_size=3):
    """Mirror of the conv encoder: ``Dense`` layers, reshape, ``Conv2DTranspose``."""
    height, width, channels = output_shape
    factor = 2 ** len(filters)
    start = (height // factor, width // factor, filters[-1])
    codes = keras.Input(shape=(latent_dim,), name="decoder_input")
    x = dense_stack(codes, tuple(reversed(hidden)), activation, "decoder")
    x = layers.Dense(math.prod(start), activation=activation, name="decoder_project")(x)
    x = layers.Reshape(start, name="decoder_reshape")(x)
    for i, width_i in enumerate(reversed(filters), start=1):
        x = layers.Conv2DTranspose(
            width_i, kernel_size, strides=2, padding="same", activation=activation,
            name=f"decoder_deconv_{i}",
        )(x)
    x = layers.Conv2DTranspose(channels, kernel_size, padding="same", name="decoder_logits")(x)
    return keras.Model(codes, output_head(x, likelihood), name="decoder")


def assemble(encoder, decoder, name, corruption=None, model_class=Autoencoder, **model_kwargs):
    """Chains ``[corruption ->] encoder -> decoder`` into one Functional model."""
    inputs = keras.Input(shape=encoder.input_shape[1:], name="input")
    x = corruption(inputs) if corruption is not None else inputs
    outputs = decoder(encoder(x))
    return model_class(inputs, outputs, name=name, **model_kwargs)


def compile_model(model, learning_rate, jit_compile=False):
    """Compiles with Adam; the loss is the model's own objective.

    XLA is off by default: on CPU it speeds small dense models a little but
    slows convolutions and cannot compile ``batch_jacobian``; see
    ``benchmarks/``.
    """
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), jit_compile=jit_compile)
    return model


def dense_encoder(input_shape, latent_dim, hidden, activation, code_activation=None):
    """Dense encoder ending in the code layer ``encoder_code``."""
    inputs, x = dense_encoder_body(input_shape, hidden, activation)
    codes = layers.Dense(
        latent_dim, activation=code_activation,
        name="encoder_code",
    )(x)
    return keras.Model(inputs, codes, name="encoder")
