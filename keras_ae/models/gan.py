"""A plain GAN, the background of the adversarial autoencoders (and their baseline on toy data).

It is not an autoencoder (nothing maps data to codes), so it is not in the
registry: build it with :func:`gan`.
"""

import math

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from keras_ae import _validation as v
from keras_ae.layers import ReplicaSeedGenerator, SeedStateMixin


@keras.saving.register_keras_serializable(package="keras_ae")
class GAN(SeedStateMixin, keras.Model):
    """Generator and discriminator trained against each other inside ``fit``.

    Each step draws ``z ~ N(0, I)`` per example, then updates both networks
    from one forward pass (simultaneous gradient descent): the discriminator
    on ``-log D(x) - log(1 - D(G(z)))`` and the generator on the
    non-saturating ``-log D(G(z))``, both in nats per example and reported
    as ``"discriminator"`` and ``"generator"`` (``"loss"`` is the
    generator's). ``compile(optimizer=..., discriminator_optimizer=...)``;
    both optimizers are saved in the ``.keras`` file. Under
    ``tf.distribute`` each replica's losses are divided by the number of
    replicas and its noise is its own.

    Args:
        generator: A model from ``(latent_dim,)`` codes to examples.
        discriminator: A model from examples to one logit per example.
        seed: Optional integer seed of the noise.
        **kwargs: ``keras.Model`` arguments (``name``).

    Reference: Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014.
    """

    def __init__(self, generator, discriminator, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.seed = v.check_int("seed", seed, minimum=0) if seed is not None else None
        self.seed_generator = ReplicaSeedGenerator(seed)
        self.latent_dim = int(generator.input_shape[-1])
        self.trackers = {name: keras.metrics.Mean(name=name) for name in ("loss", "generator", "discriminator")}
        self.built = True  # both networks are built models

    @property
    def metrics(self):
        return list(self.trackers.values())

    def call(self, z, training=False):
        return self.generator(z, training=training)

    def sample(self, n, seed=None):
        """Draws ``n`` examples ``G(z)``, ``z ~ N(0, I)``; returns a NumPy array."""
        n = v.check_int("n", n, minimum=1)
        z = keras.random.normal((n, self.latent_dim), seed=seed if seed is not None else self.seed_generator)
        return ops.convert_to_numpy(self.generator(z, training=False))

    def compile(self, optimizer="adam", discriminator_optimizer="adam", **kwargs):
        """Sets the generator's ``optimizer`` and the ``discriminator_optimizer``.

        Under ``mixed_float16`` both are wrapped in a
        ``keras.optimizers.LossScaleOptimizer``.

        Raises:
            ValueError: If an optimizer is ``None``, both are one object, or a
                ``loss`` is given (the GAN's losses are its own).
        """
        for name, value in (("optimizer", optimizer), ("discriminator_optimizer", discriminator_optimizer)):
            if value is None:
                raise v.invalid(name, "an optimizer (a name such as 'adam', or a keras.optimizers.Optimizer)", None)
        if optimizer is discriminator_optimizer and not isinstance(optimizer, str):
            raise v.invalid("discriminator_optimizer", "an optimizer object other than 'optimizer' (one optimizer "
                            "keeps the state of the weights it was built for)", discriminator_optimizer)
        if kwargs.get("loss") is not None:
            raise v.invalid("loss", "None: the GAN trains on its own adversarial losses", kwargs["loss"])
        kwargs.pop("loss", None)
        float16 = self.generator.dtype_policy.name == "mixed_float16"
        optimizers = []
        for value in (optimizer, discriminator_optimizer):
            value = keras.optimizers.get(value)
            if float16 and not isinstance(value, keras.optimizers.LossScaleOptimizer):
                value = keras.optimizers.LossScaleOptimizer(value)
            optimizers.append(value)
        super().compile(optimizer=optimizers[0], **kwargs)
        self.discriminator_optimizer = optimizers[1]
        # Slots created now, in the scope of compile (a tf.distribute strategy's).
        self.optimizer.build(self.generator.trainable_variables)
        self.discriminator_optimizer.build(self.discriminator.trainable_variables)

    def fit(self, x=None, y=None, *args, **kwargs):
        """``keras.Model.fit`` on examples ``x`` (``y`` is not used); arrays with NaN or infinite values are refused.

        Raises:
            ValueError: For non-finite data.
        """
        if isinstance(x, (np.ndarray, tf.Tensor)):
            v.check_array("x", x, finite=True)
        return super().fit(x, y, *args, **kwargs)

    def get_compile_config(self):
        config = super().get_compile_config()
        if config is not None and getattr(self, "discriminator_optimizer", None) is not None:
            config["discriminator_optimizer"] = keras.optimizers.serialize(self.discriminator_optimizer)
        return config

    def compile_from_config(self, config):
        config = keras.saving.deserialize_keras_object(config)
        self.compile(**{k: config[k] for k in ("optimizer", "discriminator_optimizer") if k in config})

    def train_step(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        z = keras.random.normal((ops.shape(x)[0], self.latent_dim), seed=self.seed_generator)
        with tf.GradientTape(persistent=True) as tape:
            real = ops.cast(self.discriminator(x, training=True), "float32")
            fake = ops.cast(self.discriminator(self.generator(z, training=True), training=True), "float32")
            losses = {
                "discriminator": ops.mean(ops.softplus(-real) + ops.softplus(fake)),
                "generator": ops.mean(ops.softplus(-fake)),
            }
            scaled = {"generator": self.optimizer.scale_loss(losses["generator"] / replicas),
                      "discriminator": self.discriminator_optimizer.scale_loss(losses["discriminator"] / replicas)}
        for name, optimizer, network in (("generator", self.optimizer, self.generator),
                                         ("discriminator", self.discriminator_optimizer, self.discriminator)):
            gradients = tape.gradient(scaled[name], network.trainable_variables)
            optimizer.apply_gradients(zip(gradients, network.trainable_variables))
        del tape
        batch = ops.shape(x)[0]
        for name in ("generator", "discriminator"):
            self.trackers[name].update_state(losses[name], sample_weight=batch)
        self.trackers["loss"].update_state(losses["generator"], sample_weight=batch)
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    def get_config(self):
        return {
            **super().get_config(),
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("generator", "discriminator"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)


def _mlp(input_dim, hidden, output_dim, name, output_activation=None, batchnorm=False):
    inputs = keras.Input((input_dim,), name=f"{name}_input")
    x = inputs
    for i, width in enumerate(hidden, start=1):
        x = layers.Dense(width, activation=None if batchnorm else "relu", name=f"{name}_dense_{i}")(x)
        if batchnorm:
            x = layers.BatchNormalization(name=f"{name}_batchnorm_{i}")(x)
            x = layers.ReLU(name=f"{name}_relu_{i}")(x)
    outputs = layers.Dense(output_dim, activation=output_activation, name=f"{name}_output", dtype="float32")(x)
    return keras.Model(inputs, outputs, name=name)


def gan(*, data_shape, latent_dim, hidden=(128, 128), discriminator_hidden=(128, 128), output="linear",
        batchnorm=False, learning_rate=1e-3, seed=None, compile=True):
    """Builds a :class:`GAN` of two ReLU multilayer perceptrons.

    Args:
        data_shape: Shape of one example (e.g. ``(2,)`` for points in the
            plane, ``(28, 28, 1)`` for images).
        latent_dim: Positive integer, size of the noise z.
        hidden: Hidden widths of the generator.
        discriminator_hidden: Hidden widths of the discriminator.
        output: ``"linear"`` (real-valued data) or ``"sigmoid"`` (data in [0, 1]).
        batchnorm: Whether the generator's hidden layers are batch normalized
            (Radford et al. 2016). Needed for images: on MNIST (784-256-512,
            2 epochs) the generator collapsed to one image without it (FID on
            MNIST features 359, recall 0) and reached FID 109 with it.
        learning_rate: Learning rate of both Adam optimizers (``beta_1=0.5``).
        seed: Optional integer seed of the noise.
        compile: Whether to compile the model.

    Returns:
        A :class:`GAN` with sub-models ``"generator"`` and ``"discriminator"``.

    Raises:
        ValueError: For a bad argument.

    Example:

    ```python
    points = keras_ae.sample_quality.ring_data(10_000)
    model = keras_ae.models.gan(data_shape=(2,), latent_dim=2, seed=0)
    model.fit(points, epochs=20, batch_size=256)
    keras_ae.sample_quality.ring_modes(model.sample(2_500))
    ```
    """
    data_shape = v.Shape().check("data_shape", data_shape)
    latent_dim = v.check_int("latent_dim", latent_dim, minimum=1)
    hidden = v.check_int_tuple("hidden", hidden)
    discriminator_hidden = v.check_int_tuple("discriminator_hidden", discriminator_hidden)
    output = v.check_choice("output", output, ("linear", "sigmoid"))
    batchnorm = v.Boolean().check("batchnorm", batchnorm)
    learning_rate = v.check_float("learning_rate", learning_rate, low=0, low_open=True)
    size = math.prod(data_shape)
    generator = _mlp(latent_dim, hidden, size, "generator", output, batchnorm)
    if len(data_shape) > 1:
        generator = keras.Sequential([generator, layers.Reshape(data_shape)], name="generator")
    inputs = keras.Input(data_shape, name="discriminator_input")
    flat = layers.Flatten(name="discriminator_flatten")(inputs) if len(data_shape) > 1 else inputs
    discriminator = keras.Model(inputs, _mlp(size, discriminator_hidden, 1, "discriminator_mlp")(flat),
                                name="discriminator")
    model = GAN(generator, discriminator, seed=seed, name="gan")
    if compile:
        model.compile(optimizer=keras.optimizers.Adam(learning_rate, beta_1=0.5),
                      discriminator_optimizer=keras.optimizers.Adam(learning_rate, beta_1=0.5))
    return model
