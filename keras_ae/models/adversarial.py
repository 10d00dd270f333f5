"""Adversarial and Wasserstein autoencoders: ``aae``, ``wae_mmd``, ``wae_gan``, ``ali`` and ``bigan``.

Each replaces the VAE's per-example KL by a match between distributions:

- ``aae`` and ``wae_gan``: a discriminator on codes tells the aggregate
  posterior q(z) from samples of a prior p(z) you choose; the encoder learns
  to fool it (Makhzani et al. 2016; Tolstikhin et al. 2018).
- ``wae_mmd``: the maximum mean discrepancy between a batch of codes and a
  batch of prior samples (Tolstikhin et al. 2018).
- ``ali`` / ``bigan``: a discriminator on pairs ``(x, z)`` tells
  ``(x, E(x))`` from ``(G(z), z)``; encoder and generator learn together to
  fool it, with no reconstruction term (Dumoulin et al. 2017; Donahue et
  al. 2017).

The discriminators are trained by their own optimizer, declared to the base
class as the ``"discriminator"`` group: ``compile(optimizer=...,
discriminator_optimizer=...)``. Both updates happen in one step, from one
forward pass (simultaneous gradient descent). Every adversarial loss is the
standard non-saturating GAN loss (Goodfellow et al. 2014) on logits:
``softplus(-D)`` for the side that should be called real and ``softplus(D)``
for the side that should be called fake, in nats.
"""

import math

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from keras_ae import _validation as v
from keras_ae._registry import register_model
from keras_ae.layers import GaussianPosterior, ReplicaSeedGenerator, SeededDropout, SeedStateMixin
from keras_ae.losses import mmd
from keras_ae.models import _blocks
from keras_ae.models._base import Autoencoder

PRIORS = ("gaussian", "mixture")
ENCODERS = ("deterministic", "gaussian")
#: Seed of the prior samples of evaluation steps: validation losses are
#: deterministic, like the VAE's.
EVALUATION_SEED = 1234


def _float32(x):
    return ops.cast(x, "float32")


def _mixture_means(components, latent_dim, radius):
    """Means of the mixture prior: ``components`` points on a circle in the first two coordinates."""
    angles = [2.0 * math.pi * k / components for k in range(components)]
    return [[radius * math.cos(a), radius * math.sin(a)] + [0.0] * (latent_dim - 2) for a in angles]


class _PriorMixin(SeedStateMixin):
    """A prior p(z) to sample from, and the model's seed generator (saved with its weights).

    ``"gaussian"`` is ``N(0, I)``; ``"mixture"`` has ``prior_components``
    equal-weight components ``N(m_k, prior_scale^2 I)`` with means on a
    circle of radius ``prior_radius`` in the plane of the first two code
    coordinates (the 10-component prior of Makhzani et al., Fig. 4).
    """

    def _init_prior(self, prior, prior_components, prior_radius, prior_scale, seed):
        self.prior = v.check_choice("prior", prior, PRIORS)
        self.prior_components = v.check_int("prior_components", prior_components, minimum=1)
        self.prior_radius = v.check_float("prior_radius", prior_radius, low=0)
        self.prior_scale = v.check_float("prior_scale", prior_scale, low=0, low_open=True)
        self.seed = v.check_int("seed", seed, minimum=0) if seed is not None else None
        self.seed_generator = ReplicaSeedGenerator(seed)
        if self.prior == "mixture" and self.latent_dim < 2:
            raise v.invalid("latent_dim", "at least 2 for prior='mixture' (its means lie on a circle)",
                            self.latent_dim)

    def _prior_config(self):
        return {"prior": self.prior, "prior_components": self.prior_components,
                "prior_radius": self.prior_radius, "prior_scale": self.prior_scale, "seed": self.seed}

    def sample_prior(self, n, labels=None, seed=None):
        """Draws ``n`` codes from the prior p(z).

        Args:
            n: Number of samples.
            labels: Optional integer components ``(n,)`` of a mixture prior
                (``-1``: any component, drawn at random).
            seed: ``None`` (the model's seed generator) or an integer (the
                same draws on every call).

        Returns:
            A float32 tensor of shape ``(n, latent_dim)``.

        Raises:
            ValueError: If ``n`` is not a positive integer, or ``labels`` are
                given for a Gaussian prior, are not ``n`` integers, or name
                no component.
        """
        if not tf.is_tensor(n):  # a number from a user (a training step may pass a tensor)
            n = v.check_int("n", n)
        if labels is not None and not tf.is_tensor(labels):  # a user's array (a training step checked its own)
            self._check_prior_labels(n, np.asarray(labels))
        if seed is not None and not tf.is_tensor(seed):  # a user's seed (a training step passes none)
            v.check_int("seed", seed, minimum=0)
        seed = self.seed_generator if seed is None else seed
        noise = keras.random.normal((n, self.latent_dim), seed=seed, dtype="float32")
        if self.prior == "gaussian":
            return noise
        random_components = keras.random.randint((n,), 0, self.prior_components, seed=seed)
        if labels is None:
            components = random_components
        else:
            labels = ops.cast(ops.reshape(labels, (-1,)), "int32")
            components = ops.where(labels >= 0, labels, random_components)
        means = ops.convert_to_tensor(
            _mixture_means(self.prior_components, self.latent_dim, self.prior_radius), dtype="float32")
        return ops.take(means, components, axis=0) + self.prior_scale * noise

    def _check_prior_labels(self, n, labels):
        if self.prior != "mixture":
            raise v.invalid("labels", "None for prior='gaussian' (labels pick components of a mixture)",
                            v.Shown(f"<array of shape {labels.shape}>"))
        if labels.shape != (n,) or labels.dtype.kind not in "iu":
            raise v.invalid("labels", f"{n} integers, shape ({n},)",
                            v.Shown(f"<{labels.dtype} array of shape {labels.shape}>"))
        if labels.size and (labels.min() < -1 or labels.max() >= self.prior_components):
            raise v.invalid("labels", f"integers from 0 to {self.prior_components - 1} (the components of the "
                            "prior), or -1 for any component",
                            v.Shown(f"<array with values from {labels.min()} to {labels.max()}>"))

    def _batch_prior(self, n, labels, training):
        return self.sample_prior(n, labels, seed=None if training else EVALUATION_SEED)


def _discriminator(input_dim, hidden, name="discriminator", dropout=0.0, seed=None):
    """LeakyReLU MLP to one logit; with ``dropout``, on its input and after each hidden layer."""
    inputs = keras.Input((input_dim,), name=f"{name}_input")
    x = inputs

    def drop(x, i):
        if not dropout:
            return x
        return SeededDropout(dropout, seed=None if seed is None else seed + i, name=f"{name}_dropout_{i}")(x)

    x = drop(x, 0)
    for i, width in enumerate(hidden, start=1):
        x = layers.Dense(width, name=f"{name}_dense_{i}")(x)
        x = drop(layers.LeakyReLU(0.2, name=f"{name}_leaky_relu_{i}")(x), i)
    logits = layers.Dense(1, name=f"{name}_logit", dtype="float32")(x)
    return keras.Model(inputs, logits, name=name)


def _real_fake(real_logits, fake_logits):
    """The discriminator's loss per example: ``-log D(real) - log(1 - D(fake))``."""
    return ops.softplus(-real_logits) + ops.softplus(fake_logits)


@keras.saving.register_keras_serializable(package="keras_ae")
class AdversarialAutoencoder(_PriorMixin, Autoencoder):
    """Autoencoder whose codes are matched to a prior by a discriminator.

    Terms per example, in nats: ``"reconstruction"``, ``-log p(x|z)``;
    ``"adversarial"``, ``-log D(z)`` for the code ``z`` of ``x`` (the
    encoder's non-saturating loss for fooling the discriminator); and
    ``"discriminator"``, ``-log D(z~) - log(1 - D(z))`` for a prior sample
    ``z~``, the discriminator's own loss (its optimizer group, so not part of
    the reported ``loss``, which is ``reconstruction + adversarial_weight *
    adversarial``).

    With ``conditional=True`` and a mixture prior, ``fit(x, labels)``
    (integer labels, ``-1`` for an unlabelled example) draws the prior
    sample of a labelled example from the component of its label, and
    the discriminator also sees the label (one-hot, with one more slot for
    "unlabelled"): the supervised and semi-supervised variants of Makhzani
    et al., Sec. 2.3.

    Args:
        *args: ``inputs`` and ``outputs`` of the Functional model.
        prior: ``"gaussian"`` or ``"mixture"``.
        prior_components: Components of the mixture prior.
        prior_radius: Distance of the mixture means from the origin.
        prior_scale: Standard deviation of each mixture component.
        discriminator_hidden: Widths of the discriminator's hidden layers.
        conditional: Whether labels condition the prior and the discriminator.
        seed: Optional integer seed of the prior samples.
        **kwargs: :class:`~keras_ae.models.Autoencoder` arguments.

    Reference: Makhzani et al., "Adversarial Autoencoders", ICLR workshop 2016.
    """

    HYPERPARAMETERS = ("adversarial_weight",)
    TERM_WEIGHTS = {"adversarial": "adversarial_weight"}
    TERMS = ("reconstruction", "adversarial", "discriminator")
    OPTIMIZER_GROUPS = {"discriminator": ("discriminator",)}
    TERM_GROUPS = {"discriminator": "discriminator"}
    USES_LABELS = True

    def __init__(self, *args, prior="gaussian", prior_components=10, prior_radius=4.0, prior_scale=0.5,
                 discriminator_hidden=(256, 256), conditional=False, seed=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._init_prior(prior, prior_components, prior_radius, prior_scale, seed)
        self.discriminator_hidden = v.check_int_tuple("discriminator_hidden", discriminator_hidden)
        self.conditional = v.Boolean().check("conditional", conditional)
        if self.conditional and self.prior != "mixture":
            raise v.invalid("conditional", "False unless prior='mixture' (labels pick its components)",
                            conditional)
        extra = self.prior_components + 1 if self.conditional else 0
        self.discriminator = _discriminator(self.latent_dim + extra, self.discriminator_hidden)

    def discriminate(self, codes, labels=None, training=False):
        """The discriminator's logits ``(batch,)`` (float32) that ``codes`` come from the prior."""
        codes = ops.cast(codes, self.discriminator.compute_dtype)
        if self.conditional:
            if labels is None:
                labels = -ops.ones((ops.shape(codes)[0],), dtype="int32")
            slot = ops.where(ops.cast(labels, "int32") >= 0, ops.cast(labels, "int32"), self.prior_components)
            codes = ops.concatenate(
                [codes, ops.one_hot(slot, self.prior_components + 1, dtype=codes.dtype)], axis=-1)
        return _float32(ops.reshape(self.discriminator(codes, training=training), (-1,)))

    def _check_labels(self, labels):
        if not self.conditional:
            return []
        if not tf.as_dtype(labels.dtype).is_integer:
            raise v.invalid("labels", "integers (the components of the prior, -1 for unlabelled)",
                            v.Shown(f"<{tf.as_dtype(labels.dtype).name} labels>"))
        labels = ops.cast(labels, "int32")
        ok = ops.logical_and(ops.min(labels) >= -1, ops.max(labels) < self.prior_components)
        return [tf.debugging.Assert(ok, [
            f"Invalid value for 'labels': expected integers from 0 to {self.prior_components - 1} (the "
            "components of the prior), or -1 for an unlabelled example. Received a batch with labels in",
            ops.min(labels), ops.max(labels),
        ])]

    def loss_terms(self, x, y, training=False, labels=None):
        codes = self.encode(x, training=training)
        reconstruction = self.reconstruction_nll(y, self.decoder_params(codes, training))
        if not self.conditional:
            labels = None
        elif labels is not None:
            labels = ops.cast(labels, "int32")
        prior = self._batch_prior(ops.shape(codes)[0], labels, training)
        fake = self.discriminate(codes, labels, training=training)
        # One forward pass serves both groups: each optimizer takes the
        # gradient of its own group's terms with respect to its own weights.
        return {
            "reconstruction": reconstruction,
            "adversarial": ops.softplus(-fake),
            "discriminator": _real_fake(self.discriminate(prior, labels, training=training), fake),
        }

    def get_config(self):
        return {**super().get_config(), **self._prior_config(),
                "discriminator_hidden": list(self.discriminator_hidden), "conditional": self.conditional}


@keras.saving.register_keras_serializable(package="keras_ae")
class WassersteinAutoencoder(_PriorMixin, Autoencoder):
    """WAE-MMD: an autoencoder whose batch of codes is pulled towards the prior by the MMD.

    Terms: ``"reconstruction"``, the cost ``c(x, G(z))`` per example (the
    summed squared error with ``likelihood="gaussian"`` and no
    ``decoder_scale``, the paper's choice), and ``"mmd"``, the squared
    maximum mean discrepancy between the batch's codes and as many prior
    samples (:func:`keras_ae.losses.mmd`, inverse multiquadratic kernels). The
    MMD is a property of the whole batch: every example of the batch carries
    it (so with sample weights it is scaled by their mean, and under
    ``tf.distribute`` each replica computes it on its own part of the
    batch). The loss is ``reconstruction + mmd_weight * mmd``.

    Reference: Tolstikhin et al., "Wasserstein Auto-Encoders", ICLR 2018,
    Algorithm 2.
    """

    HYPERPARAMETERS = ("mmd_weight",)
    TERM_WEIGHTS = {"mmd": "mmd_weight"}
    TERMS = ("reconstruction", "mmd")

    def __init__(self, *args, prior="gaussian", prior_components=10, prior_radius=4.0, prior_scale=0.5,
                 seed=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._init_prior(prior, prior_components, prior_radius, prior_scale, seed)

    def loss_terms(self, x, y, training=False):
        codes = _float32(self.encode(x, training=training))
        reconstruction = self.reconstruction_nll(y, self.decoder_params(codes, training))
        prior = self._batch_prior(ops.shape(codes)[0], None, training)
        variance = 1.0 if self.prior == "gaussian" else self.prior_scale ** 2 + self.prior_radius ** 2 / 2
        # The estimate needs two codes: a batch of one (the last of an epoch) carries no MMD.
        if codes.shape[0] is not None and codes.shape[0] < 2:
            divergence = ops.zeros((), dtype="float32")
        else:
            divergence = ops.where(ops.shape(codes)[0] >= 2, mmd(codes, prior, prior_variance=variance), 0.0)
        return {"reconstruction": reconstruction, "mmd": ops.ones_like(reconstruction) * divergence}

    def get_config(self):
        return {**super().get_config(), **self._prior_config()}


@keras.saving.register_keras_serializable(package="keras_ae")
class AdversarialInference(_PriorMixin, Autoencoder):
    """ALI / BiGAN: a discriminator on pairs ``(x, z)``; encoder and generator fool it together.

    Terms per example, in nats: ``"adversarial"``, ``-log(1 - D(x, E(x)))
    - log D(G(z~), z~)`` for a prior sample ``z~`` (the encoder's and the
    generator's non-saturating loss, labels swapped); ``"discriminator"``,
    ``-log D(x, E(x)) - log(1 - D(G(z~), z~))`` (its own optimizer group);
    and ``"reconstruction"``, ``-log p(x | E(x))``, weighted by
    ``reconstruction_weight``: 0 by default, so it is only reported (ALI
    reconstructs through the joint distribution it learns, not a loss; a
    positive weight adds one, as ALICE does, Li et al. 2017). The
    discriminator takes the flattened image (the decoder's mean for
    generated pairs) concatenated with the code.

    Reference: Dumoulin et al., "Adversarially Learned Inference", ICLR
    2017; Donahue et al., "Adversarial Feature Learning", ICLR 2017.
    """

    HYPERPARAMETERS = ("reconstruction_weight",)
    TERM_WEIGHTS = {"reconstruction": "reconstruction_weight"}
    TERMS = ("reconstruction", "adversarial", "discriminator")
    OPTIMIZER_GROUPS = {"discriminator": ("discriminator",)}
    TERM_GROUPS = {"discriminator": "discriminator"}

    def __init__(self, *args, discriminator_hidden=(256, 256), discriminator_dropout=0.0, seed=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._init_prior("gaussian", 1, 0.0, 1.0, seed)
        self.discriminator_hidden = v.check_int_tuple("discriminator_hidden", discriminator_hidden)
        self.discriminator_dropout = v.check_float("discriminator_dropout", discriminator_dropout, low=0, high=1,
                                                   high_open=True)
        features = math.prod(self.input_shape[1:])
        self.discriminator = _discriminator(features + self.latent_dim, self.discriminator_hidden,
                                            dropout=self.discriminator_dropout,
                                            seed=None if seed is None else seed + 10)

    def discriminate(self, x, codes, training=False):
        """The discriminator's logits ``(batch,)`` (float32) that ``(x, codes)`` is an encoded pair."""
        dtype = self.discriminator.compute_dtype
        flat = ops.reshape(ops.cast(x, dtype), (ops.shape(x)[0], -1))
        pair = ops.concatenate([flat, ops.cast(codes, dtype)], axis=-1)
        return _float32(ops.reshape(self.discriminator(pair, training=training), (-1,)))

    def loss_terms(self, x, y, training=False):
        codes = self.encode(x, training=training)
        reconstruction = self.reconstruction_nll(y, self.decoder_params(codes, training))
        prior = self._batch_prior(ops.shape(codes)[0], None, training)
        generated = self.get_layer("decoder")(prior, training=training)
        encoded_logits = self.discriminate(x, codes, training=training)
        generated_logits = self.discriminate(generated, prior, training=training)
        return {
            "reconstruction": reconstruction,
            "adversarial": _real_fake(generated_logits, encoded_logits),
            "discriminator": _real_fake(encoded_logits, generated_logits),
        }

    def get_config(self):
        return {**super().get_config(), "discriminator_hidden": list(self.discriminator_hidden),
                "discriminator_dropout": self.discriminator_dropout, "seed": self.seed}


# ---------------------------------------------------------------------------
# Builders


def _encoder(input_shape, latent_dim, hidden, activation, encoder, seed):
    if encoder == "deterministic":
        return _blocks.dense_encoder(input_shape, latent_dim, hidden, activation)
    inputs, features = _blocks.dense_encoder_body(input_shape, hidden, activation)
    loc = layers.Dense(latent_dim, name="encoder_loc")(features)
    raw_scale = layers.Dense(latent_dim, name="encoder_scale")(features)
    codes = GaussianPosterior(seed=seed, name="posterior", dtype="float32")([loc, raw_scale])
    return keras.Model(inputs, codes, name="encoder")


def _build(model_class, name, input_shape, latent_dim, hidden, activation, encoder, likelihood,
           decoder_scale, learning_rate, seed, compile, hyperparameters, decoder_batchnorm=False, **model_kwargs):
    encoder_model = _encoder(input_shape, latent_dim, hidden, activation, encoder,
                             None if seed is None else seed + 1)
    decoder = _blocks.dense_decoder(latent_dim, input_shape, hidden, activation, likelihood, decoder_batchnorm)
    model = _blocks.assemble(
        encoder_model, decoder, name=name, model_class=model_class, likelihood=likelihood,
        decoder_scale=decoder_scale if likelihood == "gaussian" else None,
        hyperparameters=hyperparameters, seed=seed, **model_kwargs,
    )
    if compile and model_class.OPTIMIZER_GROUPS:
        groups = {f"{g}_optimizer": _adam(learning_rate) for g in model_class.OPTIMIZER_GROUPS}
        model.compile(optimizer=_adam(learning_rate), **groups)
    elif compile:  # no discriminator: Keras' default Adam
        _blocks.compile_model(model, learning_rate)
    return model


def _adam(learning_rate):
    # beta_1 = 0.5: the usual choice for adversarial training (Radford et al. 2016).
    return keras.optimizers.Adam(learning_rate, beta_1=0.5)


PRIOR_OPTIONS = {
    "hidden": v.IntTuple(),
    "encoder": v.OneOf(*ENCODERS),
    "prior": v.OneOf(*PRIORS),
    "prior_components": v.Integer(1),
    "prior_radius": v.Real(low=0),
    "prior_scale": v.Real(low=0, low_open=True),
    "decoder_scale": v.OrNone(v.Real(low=0, low_open=True)),
}
ADVERSARIAL_OPTIONS = {
    **PRIOR_OPTIONS,
    "discriminator_hidden": v.IntTuple(),
    "adversarial_weight": v.Real(low=0),
    "conditional": v.Boolean(),
}


@register_model(options=ADVERSARIAL_OPTIONS, default_latent_dim=2, has_prior=True)
def aae(
    *,
    input_shape,
    latent_dim,
    hidden=(256, 128),
    activation="relu",
    encoder="deterministic",
    prior="gaussian",
    prior_components=10,
    prior_radius=4.0,
    prior_scale=0.5,
    conditional=False,
    discriminator_hidden=(256, 256),
    adversarial_weight=1.0,
    likelihood="bernoulli",
    decoder_scale=0.1,
    learning_rate=2e-4,
    seed=None,
    compile=True,
):
    """Adversarial autoencoder: a discriminator on codes matches q(z) to a chosen prior.

    Where the VAE pulls each posterior q(z|x) towards p(z) with a KL term,
    the AAE makes the aggregate posterior ``q(z) = E_x q(z|x)`` match p(z):
    a discriminator ``D`` learns to tell codes from prior samples and the
    encoder learns to fool it. Per example, the encoder and decoder minimize
    ``-log p(x | z) + adversarial_weight * (-log D(z))``; the discriminator
    minimizes ``-log D(z~) - log(1 - D(z))`` with ``z~ ~ p(z)``. Any prior
    you can sample works: a mixture of Gaussians on a circle fills its
    components with the classes (Makhzani et al., Fig. 4). See Makhzani et
    al., "Adversarial Autoencoders", ICLR workshop 2016.

    Args:
        input_shape: Shape of one example (images are flattened).
        latent_dim: Positive integer, size of z (at least 2 for a mixture).
        hidden: Hidden widths of the encoder (reversed in the decoder).
        activation: Activation of the hidden layers.
        encoder: ``"deterministic"`` (z = E(x)) or ``"gaussian"`` (z sampled
            from q(z|x) in training, its mean otherwise).
        prior: ``"gaussian"`` (N(0, I)) or ``"mixture"``.
        prior_components: Number of components of the mixture.
        prior_radius: Distance of the mixture means from the origin.
        prior_scale: Standard deviation of each mixture component.
        conditional: With a mixture prior, whether ``fit(x, labels)`` draws
            each labelled example's prior sample from the component of its
            label (``-1``: unlabelled), the paper's supervised variant.
        discriminator_hidden: Widths of the discriminator's hidden layers.
        adversarial_weight: Non-negative weight of the encoder's adversarial
            term (a variable: see :mod:`keras_ae.callbacks`). The
            reconstruction term is summed over features (about 100 nats per
            MNIST image) and the adversarial term is about 1 nat, so large
            images need a larger weight: tutorial 07 uses 10 on MNIST (with
            1, a label-conditioned AAE put 28% of the codes in their label's
            component after 20 epochs; with 10, 85% after 5).
        likelihood: ``"bernoulli"`` (data in [0, 1]) or ``"gaussian"``.
        decoder_scale: Standard deviation of the Gaussian likelihood, or
            ``None`` for the summed squared error.
        learning_rate: Learning rate of both Adam optimizers (``beta_1=0.5``).
        seed: Optional integer seed of the prior samples.
        compile: Whether to compile the model.

    Returns:
        An :class:`AdversarialAutoencoder` named ``"aae"`` with sub-models
        ``"encoder"`` and ``"decoder"`` (``get_layer``), and its
        discriminator in ``model.discriminator``.

    Raises:
        ValueError: For a bad option, ``prior="mixture"`` with
            ``latent_dim=1``, or ``conditional=True`` without a mixture.

    Example:

    ```python
    model = keras_ae.build("aae", input_shape=(28, 28, 1), latent_dim=2, prior="mixture",
                           conditional=True)
    model.fit(x_train, labels, epochs=20)         # labels: integers, -1 for unlabelled
    z = model.sample_prior(16)
    images = model.get_layer("decoder").predict(z)
    ```
    """
    return _build(
        AdversarialAutoencoder, "aae", input_shape, latent_dim, hidden, activation, encoder, likelihood,
        decoder_scale, learning_rate, seed, compile, {"adversarial_weight": adversarial_weight},
        prior=prior, prior_components=prior_components, prior_radius=prior_radius, prior_scale=prior_scale,
        discriminator_hidden=discriminator_hidden, conditional=conditional,
    )


@register_model(options=ADVERSARIAL_OPTIONS, default_latent_dim=8, has_prior=True)
def wae_gan(
    *,
    input_shape,
    latent_dim,
    hidden=(256, 128),
    activation="relu",
    encoder="deterministic",
    prior="gaussian",
    prior_components=10,
    prior_radius=4.0,
    prior_scale=0.5,
    conditional=False,
    discriminator_hidden=(256, 256),
    adversarial_weight=1.0,
    likelihood="gaussian",
    decoder_scale=None,
    learning_rate=2e-4,
    seed=None,
    compile=True,
):
    """WAE-GAN: the Wasserstein autoencoder whose latent penalty is a GAN on codes.

    Tolstikhin et al. derive it from optimal transport: minimizing
    ``E[c(x, G(z))] + lambda * D_Z(q(z), p(z))`` over deterministic (or
    stochastic) encoders bounds the Wasserstein distance between the data
    and the model for the cost ``c``. With ``D_Z`` estimated by a
    discriminator on codes the training step is the AAE's (Makhzani et
    al.): this builder is :func:`aae` with the paper's defaults, the squared
    error as the cost (``likelihood="gaussian"``, ``decoder_scale=None``) and
    ``adversarial_weight`` as ``lambda`` (1 in the paper's MNIST run, with
    ``latent_dim=8``). Arguments as in :func:`aae`. See Tolstikhin et al.,
    "Wasserstein Auto-Encoders", ICLR 2018, Algorithm 1.

    Example:

    ```python
    model = keras_ae.build("wae_gan", input_shape=(28, 28, 1), latent_dim=8)
    ```
    """
    return _build(
        AdversarialAutoencoder, "wae_gan", input_shape, latent_dim, hidden, activation, encoder, likelihood,
        decoder_scale, learning_rate, seed, compile, {"adversarial_weight": adversarial_weight},
        prior=prior, prior_components=prior_components, prior_radius=prior_radius, prior_scale=prior_scale,
        discriminator_hidden=discriminator_hidden, conditional=conditional,
    )


@register_model(options={**PRIOR_OPTIONS, "mmd_weight": v.Real(low=0)}, default_latent_dim=8, has_prior=True)
def wae_mmd(
    *,
    input_shape,
    latent_dim,
    hidden=(256, 128),
    activation="relu",
    encoder="deterministic",
    prior="gaussian",
    prior_components=10,
    prior_radius=4.0,
    prior_scale=0.5,
    mmd_weight=10.0,
    likelihood="gaussian",
    decoder_scale=None,
    learning_rate=1e-3,
    seed=None,
    compile=True,
):
    """WAE-MMD: the Wasserstein autoencoder whose latent penalty is the MMD to the prior.

    Minimizes ``E[c(x, G(E(x)))] + mmd_weight * MMD^2(q(z), p(z))`` per
    batch, with the squared error as the cost ``c`` (``likelihood="gaussian"``,
    ``decoder_scale=None``) and the unbiased MMD estimate with inverse
    multiquadratic kernels (:func:`keras_ae.losses.mmd`). Unlike the VAE's
    KL, the penalty acts on the codes of the whole batch, not on each
    posterior, so nothing pushes individual codes to be noisy. No
    discriminator: one optimizer. See Tolstikhin et al., "Wasserstein
    Auto-Encoders", ICLR 2018, Algorithm 2 (``lambda = 10``, ``latent_dim =
    8`` on MNIST).

    Args:
        input_shape: Shape of one example (images are flattened).
        latent_dim: Positive integer, size of z.
        hidden: Hidden widths of the encoder (reversed in the decoder).
        activation: Activation of the hidden layers.
        encoder: ``"deterministic"`` or ``"gaussian"``.
        prior: ``"gaussian"`` or ``"mixture"`` (as in :func:`aae`).
        prior_components: Number of components of the mixture.
        prior_radius: Distance of the mixture means from the origin.
        prior_scale: Standard deviation of each mixture component.
        mmd_weight: Non-negative ``lambda`` (a variable).
        likelihood: ``"gaussian"`` (the squared-error cost) or ``"bernoulli"``.
        decoder_scale: ``None`` for the squared error, or a Gaussian scale.
        learning_rate: Adam's learning rate.
        seed: Optional integer seed of the prior samples.
        compile: Whether to compile the model.

    Returns:
        A :class:`WassersteinAutoencoder` named ``"wae_mmd"``.

    Example:

    ```python
    model = keras_ae.build("wae_mmd", input_shape=(28, 28, 1), latent_dim=8)
    model.fit(x_train, epochs=20, batch_size=100)
    ```
    """
    return _build(
        WassersteinAutoencoder, "wae_mmd", input_shape, latent_dim, hidden, activation, encoder, likelihood,
        decoder_scale, learning_rate, seed, compile, {"mmd_weight": mmd_weight},
        prior=prior, prior_components=prior_components, prior_radius=prior_radius, prior_scale=prior_scale,
    )


ALI_OPTIONS = {
    "hidden": v.IntTuple(),
    "encoder": v.OneOf(*ENCODERS),
    "decoder_batchnorm": v.Boolean(),
    "discriminator_hidden": v.IntTuple(),
    "discriminator_dropout": v.Real(low=0, high=1, high_open=True),
    "reconstruction_weight": v.Real(low=0),
    "decoder_scale": v.OrNone(v.Real(low=0, low_open=True)),
}


def _adversarial_inference(name, input_shape, latent_dim, hidden, activation, encoder, decoder_batchnorm,
                           discriminator_hidden, discriminator_dropout, reconstruction_weight, likelihood,
                           decoder_scale, learning_rate, seed, compile):
    return _build(
        AdversarialInference, name, input_shape, latent_dim, hidden, activation, encoder, likelihood,
        decoder_scale, learning_rate, seed, compile, {"reconstruction_weight": reconstruction_weight},
        decoder_batchnorm=decoder_batchnorm, discriminator_hidden=discriminator_hidden,
        discriminator_dropout=discriminator_dropout,
    )


@register_model(options=ALI_OPTIONS, default_latent_dim=8, has_prior=True)
def ali(
    *,
    input_shape,
    latent_dim,
    hidden=(256, 128),
    activation="relu",
    encoder="gaussian",
    decoder_batchnorm=True,
    discriminator_hidden=(256, 256),
    discriminator_dropout=0.2,
    reconstruction_weight=0.0,
    likelihood="bernoulli",
    decoder_scale=0.1,
    learning_rate=2e-4,
    seed=None,
    compile=True,
):
    """ALI: adversarially learned inference, a discriminator on (x, z) pairs.

    The encoder ``E`` and the generator ``G`` (the decoder's mean) define two
    joint distributions, ``q(x, z) = p_data(x) q(z|x)`` and ``p(x, z) = p(z)
    p(x|z)``; a discriminator ``D(x, z)`` tells pairs ``(x, E(x))`` from
    pairs ``(G(z~), z~)`` and both networks learn to fool it. At the optimum
    the two joints match, so ``E`` inverts ``G``: reconstructions
    ``G(E(x))`` come without a reconstruction loss (reported as the
    ``"reconstruction"`` term, weighted by ``reconstruction_weight``, 0 by
    default). See Dumoulin et al., "Adversarially Learned Inference", ICLR
    2017; :func:`bigan` is the same model with a deterministic encoder.

    Args:
        input_shape: Shape of one example (images are flattened).
        latent_dim: Positive integer, size of z.
        hidden: Hidden widths of the encoder (reversed in the generator).
        activation: Activation of the hidden layers.
        encoder: ``"gaussian"`` (ALI) or ``"deterministic"`` (BiGAN).
        decoder_batchnorm: Whether the generator's hidden layers are batch
            normalized. Measured on MNIST (dense 784-512-256-8, 2 epochs): a
            plain GAN of the same shape without it collapsed to one image
            (FID on MNIST features 359, recall 0), with it reached FID 109.
        discriminator_hidden: Widths of the joint discriminator's layers.
        discriminator_dropout: Dropout rate in [0, 1) of the discriminator's
            input and hidden layers during training (0.2 as in Dumoulin et
            al.): without it the discriminator wins from the first epoch on
            MNIST and the generator collapses.
        reconstruction_weight: Non-negative weight of a reconstruction term
            added to the adversarial one (0: pure ALI).
        likelihood: ``"bernoulli"`` or ``"gaussian"``: the output head and
            the reported reconstruction term.
        decoder_scale: Standard deviation of the Gaussian likelihood, or
            ``None`` for the summed squared error.
        learning_rate: Learning rate of both Adam optimizers (``beta_1=0.5``).
        seed: Optional integer seed of the prior samples.
        compile: Whether to compile the model.

    Returns:
        An :class:`AdversarialInference` named ``"ali"`` with sub-models
        ``"encoder"`` and ``"decoder"`` (the generator; ``get_layer``), and
        its joint discriminator in ``model.discriminator``.

    Example:

    ```python
    model = keras_ae.build("ali", input_shape=(28, 28, 1), latent_dim=8)
    model.fit(x_train, epochs=20)
    reconstructions = model.predict(x_test)      # G(E(x))
    ```
    """
    return _adversarial_inference("ali", input_shape, latent_dim, hidden, activation, encoder, decoder_batchnorm,
                                  discriminator_hidden, discriminator_dropout, reconstruction_weight, likelihood,
                                  decoder_scale, learning_rate, seed, compile)


@register_model(options=ALI_OPTIONS, default_latent_dim=8, has_prior=True)
def bigan(
    *,
    input_shape,
    latent_dim,
    hidden=(256, 128),
    activation="relu",
    encoder="deterministic",
    decoder_batchnorm=True,
    discriminator_hidden=(256, 256),
    discriminator_dropout=0.2,
    reconstruction_weight=0.0,
    likelihood="bernoulli",
    decoder_scale=0.1,
    learning_rate=2e-4,
    seed=None,
    compile=True,
):
    """BiGAN: ALI with a deterministic encoder.

    Donahue et al. proposed the same joint discriminator at the same time
    as Dumoulin et al.; their encoder is deterministic, ``z = E(x)``.
    Arguments as in :func:`ali`. See Donahue, Krähenbühl & Darrell,
    "Adversarial Feature Learning", ICLR 2017.

    Example:

    ```python
    model = keras_ae.build("bigan", input_shape=(28, 28, 1), latent_dim=8)
    ```
    """
    return _adversarial_inference("bigan", input_shape, latent_dim, hidden, activation, encoder, decoder_batchnorm,
                                  discriminator_hidden, discriminator_dropout, reconstruction_weight, likelihood,
                                  decoder_scale, learning_rate, seed, compile)
