"""Variational autoencoders: ``vae``, ``beta_vae`` and ``conv_vae``, trained on the ELBO or the IWAE bound."""

import math

import keras
from keras import layers, ops

from keras_ae import _validation as v
from keras_ae._registry import register_model
from keras_ae.layers import GaussianPosterior
from keras_ae.models import _blocks
from keras_ae.models._base import Autoencoder


@keras.saving.register_keras_serializable(package="keras_ae")
class VariationalAutoencoder(Autoencoder):
    """VAE: an autoencoder whose encoder gives q(z|x) and whose objective is the negative ELBO.

    Terms, per example, in nats: ``"reconstruction"``, ``-log p(x|z)`` with
    ``z`` sampled from q(z|x) in training (the posterior mean in evaluation,
    so validation losses are deterministic; :func:`keras_ae.metrics.elbo`
    gives the sampled bound), and ``"kl"``, ``KL(q(z|x) || N(0, I))`` in
    closed form. The loss is ``reconstruction + beta * kl``.

    With ``free_bits = lambda > 0`` the KL of each latent dimension counts
    at least ``lambda`` nats, averaged over the batch:
    ``sum_j max(lambda, mean_batch KL_j)`` (Kingma et al., "Improved
    Variational Inference with Inverse Autoregressive Flow", NeurIPS 2016);
    the ``"kl"`` term reports that value. ``beta`` and ``free_bits`` are
    variables: :mod:`keras_ae.callbacks` schedules them.

    Reference: Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014.
    """

    HYPERPARAMETERS = ("beta", "free_bits")
    TERM_WEIGHTS = {"kl": "beta"}
    TERMS = ("reconstruction", "kl")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        encoder = self.get_layer("encoder")
        self._views.posterior_params = keras.Model(
            encoder.input, [encoder.get_layer("encoder_loc").output, encoder.get_layer("encoder_scale").output]
        )

    @property
    def posterior(self):
        """The :class:`~keras_ae.layers.GaussianPosterior` layer of the encoder."""
        return self.get_layer("encoder").get_layer("posterior")

    def sample_prior(self, n, seed=None):
        """Draws ``n`` codes from the prior N(0, I): a float32 tensor ``(n, latent_dim)``.

        Args:
            n: Positive number of samples.
            seed: Optional non-negative integer seed (the same draws on
                every call).

        Raises:
            ValueError: If ``n`` is not a positive integer or ``seed`` not a
                non-negative integer.
        """
        n = v.check_int("n", n)
        if seed is not None:
            v.check_int("seed", seed, minimum=0)
        return keras.random.normal((n, self.latent_dim), seed=seed, dtype="float32")

    def posterior_params(self, x, training=False):
        """Returns ``(loc, raw_scale)`` of q(z|x), float32, shapes ``(batch, latent_dim)``."""
        loc, raw_scale = self._views.posterior_params(x, training=training)
        return ops.cast(loc, "float32"), ops.cast(raw_scale, "float32")

    def loss_terms(self, x, y, training=False):
        loc, raw_scale = self.posterior_params(x, training=training)
        z = self.posterior([loc, raw_scale], training=training)
        reconstruction = self.reconstruction_nll(y, self.decoder_params(z, training))
        kl = GaussianPosterior.kl_per_dimension(loc, raw_scale)
        free_bits = self.hyperparameters["free_bits"]
        clamped = ops.where(ops.mean(kl, axis=0, keepdims=True) > free_bits, kl, free_bits)
        return {"reconstruction": reconstruction, "kl": ops.sum(clamped, axis=-1)}


#: Seed of the posterior draws of the IWAE bound outside training (validation, ``evaluate``): the same
#: draws on every call, so validation losses do not move with the noise.
EVALUATION_SEED = 0


@keras.saving.register_keras_serializable(package="keras_ae")
class ImportanceWeightedAutoencoder(VariationalAutoencoder):
    """A VAE trained on the importance-weighted bound with ``k = iwae_samples`` posterior draws.

    The objective per example, in nats, is the term ``"iwae"``:
    ``-log (1/k) sum_i w_i`` with ``w_i = p(x|z_i) [p(z_i) / q(z_i|x)] ** beta``
    and ``z_i = mu(x) + sigma(x) * eps_i`` (reparameterized, ``eps_i ~ N(0, I)``).
    With ``beta = 1`` it is minus the bound ``L_k`` of Burda, Grosse &
    Salakhutdinov, which never decreases with ``k`` and tends to ``log p(x)``;
    ``L_1`` is the ELBO (with a one-sample estimate of the KL). ``beta`` is
    kept as the exponent of the prior-to-posterior ratio so that
    :class:`keras_ae.callbacks.KLWarmup` still warms it up; ``free_bits`` does
    not apply (the bound has no separate KL term) and the builders refuse it.

    Two more terms are reported and **not** optimized (weight 0), to compare
    with an ELBO-trained VAE: ``"reconstruction"``, ``-log p(x|z)`` averaged
    over the ``k`` draws, and ``"kl"``, ``KL(q(z|x) || N(0, I))`` in closed
    form; their sum estimates minus the ELBO, which is above ``"iwae"``.
    The reported ``loss`` is ``"iwae"``. Outside training (validation data,
    ``evaluate``) the draws come from a fixed seed, so the value is
    deterministic and is still the bound (not the posterior mean's value).

    Reference: Burda, Grosse & Salakhutdinov, "Importance Weighted
    Autoencoders", ICLR 2016.

    Args:
        *args: As :class:`VariationalAutoencoder`.
        iwae_samples: Positive integer ``k``, the posterior draws per example.
        **kwargs: As :class:`VariationalAutoencoder`.
    """

    TERMS = ("iwae", "reconstruction", "kl")
    #: Terms reported in the progress bar and ``history`` but left out of the objective.
    DIAGNOSTIC_TERMS = ("reconstruction", "kl")

    def __init__(self, *args, iwae_samples=5, **kwargs):
        super().__init__(*args, **kwargs)
        self.iwae_samples = v.check_int("iwae_samples", iwae_samples, maximum=MAX_IWAE_SAMPLES)

    def log_weights(self, x, y, training=False):
        """Returns ``(log_w, log_px)``, both ``(iwae_samples, batch)`` in float32.

        ``log_w = log p(y|z) + beta * (log p(z) - log q(z|x))`` and
        ``log_px = log p(y|z)``, for ``iwae_samples`` reparameterized draws
        ``z ~ q(z|x)`` per example (from the posterior layer's seed generator
        in training, from a fixed seed otherwise).
        """
        return self._log_weights(*self.posterior_params(x, training=training), y, training)

    def _log_weights(self, loc, raw_scale, y, training):
        k = self.iwae_samples
        scale = GaussianPosterior.scale(raw_scale)
        batch, latent_dim = ops.shape(loc)[0], ops.shape(loc)[1]
        seed = self.posterior.seed_generator if training else EVALUATION_SEED
        eps = keras.random.normal((k, batch, latent_dim), seed=seed, dtype="float32")
        z = loc[None] + scale[None] * eps
        params = self.decoder_params(ops.reshape(z, (k * batch, latent_dim)), training)
        y = ops.cast(y, "float32")
        y_rep = ops.tile(y, (k,) + (1,) * (len(y.shape) - 1))  # row i * batch + j is y[j], as for z
        log_px = -ops.reshape(self.reconstruction_nll(y_rep, params), (k, batch))
        # log N(z; 0, I) - log N(z; loc, scale): the (2 pi) constants cancel.
        log_ratio = ops.sum(0.5 * ops.square(eps) + ops.log(scale)[None] - 0.5 * ops.square(z), axis=-1)
        return log_px + self.hyperparameters["beta"] * log_ratio, log_px

    def loss_terms(self, x, y, training=False):
        loc, raw_scale = self.posterior_params(x, training=training)
        log_w, log_px = self._log_weights(loc, raw_scale, y, training)
        bound = ops.logsumexp(log_w, axis=0) - math.log(self.iwae_samples)
        return {
            "iwae": -bound,
            "reconstruction": -ops.mean(log_px, axis=0),
            "kl": ops.sum(GaussianPosterior.kl_per_dimension(loc, raw_scale), axis=-1),
        }

    def _objectives(self, terms, sample_weight):
        optimized = {n: t for n, t in terms.items() if n not in self.DIAGNOSTIC_TERMS}
        losses, means = super()._objectives(optimized, sample_weight)
        _, reported = super()._objectives({n: terms[n] for n in self.DIAGNOSTIC_TERMS}, sample_weight)
        return losses, {**means, **reported}

    def get_config(self):
        return {**super().get_config(), "iwae_samples": self.iwae_samples}


def _gaussian_encoder(inputs, features, latent_dim, seed):
    loc = layers.Dense(latent_dim, name="encoder_loc")(features)
    raw_scale = layers.Dense(latent_dim, name="encoder_scale")(features)
    codes = GaussianPosterior(seed=seed, name="posterior", dtype="float32")([loc, raw_scale])
    return keras.Model(inputs, codes, name="encoder")


def _check_iwae(iwae_samples, free_bits):
    if iwae_samples > 1 and free_bits > 0:
        raise v.invalid(
            "free_bits", "0 when iwae_samples > 1 (free bits clamp the KL term of the ELBO; the "
            "importance-weighted bound has no separate KL term)", free_bits,
        )


def _finish(encoder, decoder, name, likelihood, beta, free_bits, decoder_scale, learning_rate, compile,
            iwae_samples=1):
    iwae = {} if iwae_samples == 1 else {"iwae_samples": iwae_samples}
    model = _blocks.assemble(
        encoder, decoder, name=name,
        model_class=ImportanceWeightedAutoencoder if iwae else VariationalAutoencoder, likelihood=likelihood,
        decoder_scale=decoder_scale if likelihood == "gaussian" else None,
        hyperparameters={"beta": beta, "free_bits": free_bits}, **iwae,
    )
    if compile:
        _blocks.compile_model(model, learning_rate)
    return model


def _dense_vae(name, input_shape, latent_dim, hidden, activation, likelihood, beta, free_bits,
               decoder_scale, learning_rate, seed, compile, iwae_samples):
    _check_iwae(iwae_samples, free_bits)
    inputs, features = _blocks.dense_encoder_body(input_shape, hidden, activation)
    encoder = _gaussian_encoder(inputs, features, latent_dim, seed)
    decoder = _blocks.dense_decoder(latent_dim, input_shape, hidden, activation, likelihood)
    return _finish(encoder, decoder, name, likelihood, beta, free_bits, decoder_scale, learning_rate, compile,
                   iwae_samples)


#: Upper bound of ``iwae_samples``: each training step decodes ``k`` times the batch, so k = 5000 (Burda et
#: al.'s evaluation estimator) already needs 1.6 GB for each float32 tensor of the decoded batch (100 MNIST
#: images), several of which the gradient keeps; evaluate
#: with large k through ``keras_ae.metrics.iwae_log_likelihood``, whose memory is bounded.
MAX_IWAE_SAMPLES = 5000

VAE_OPTIONS = {
    "hidden": v.IntTuple(),
    "beta": v.Real(low=0),
    "free_bits": v.Real(low=0),
    "decoder_scale": v.Real(low=0, low_open=True),
    "iwae_samples": v.Integer(1, maximum=MAX_IWAE_SAMPLES),
}


@register_model(options=VAE_OPTIONS, default_latent_dim=2, has_prior=True)
def vae(
    *,
    input_shape,
    latent_dim,
    hidden=(256, 128),
    activation="relu",
    likelihood="bernoulli",
    beta=1.0,
    free_bits=0.0,
    decoder_scale=0.1,
    iwae_samples=1,
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
        beta: Non-negative weight of the KL term (a variable: see
            :class:`keras_ae.callbacks.KLWarmup`).
        free_bits: Non-negative nats per latent dimension below which the
            KL is not pushed down (0 turns it off).
        decoder_scale: Standard deviation of the Gaussian likelihood.
        iwae_samples: Positive integer ``k``. 1 (the default) trains on
            the ELBO; ``k > 1`` on the importance-weighted bound with ``k``
            posterior draws per example (Burda, Grosse & Salakhutdinov,
            "Importance Weighted Autoencoders", ICLR 2016): the model is an
            :class:`ImportanceWeightedAutoencoder`, whose ``loss`` is the
            term ``"iwae"`` (``"reconstruction"`` and ``"kl"`` are reported,
            not optimized). Each step decodes ``k`` times the batch, so
            ``k`` is at most 5000 (``MAX_IWAE_SAMPLES``). Needs
            ``free_bits=0``.
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
    return _dense_vae("vae", input_shape, latent_dim, hidden, activation, likelihood, beta, free_bits,
                      decoder_scale, learning_rate, seed, compile, iwae_samples)


@register_model(options=VAE_OPTIONS, default_latent_dim=2, has_prior=True)
def beta_vae(
    *,
    input_shape,
    latent_dim,
    beta=4.0,
    free_bits=0.0,
    hidden=(256, 128),
    activation="relu",
    likelihood="bernoulli",
    decoder_scale=0.1,
    iwae_samples=1,
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
    return _dense_vae("beta_vae", input_shape, latent_dim, hidden, activation, likelihood, beta, free_bits,
                      decoder_scale, learning_rate, seed, compile, iwae_samples)


@register_model(
    options={**VAE_OPTIONS, "input_shape": v.Shape(ndim=3), "filters": v.IntTuple(allow_empty=False),
             "decoder_hidden": v.IntTuple()},
    input_rank=3, default_latent_dim=2, has_prior=True,
)
def conv_vae(
    *,
    input_shape,
    latent_dim,
    filters=(32, 64),
    hidden=(16,),
    decoder_hidden=(),
    activation="relu",
    likelihood="bernoulli",
    beta=1.0,
    free_bits=0.0,
    decoder_scale=0.1,
    iwae_samples=1,
    learning_rate=1e-3,
    seed=None,
    compile=True,
):
    """Convolutional VAE, shaped like the keras.io "Variational AutoEncoder".

    Encoder: strided 3x3 Conv2D layers (``filters``), flatten, Dense layers
    (``hidden``), then the Gaussian posterior. Decoder: Dense layers
    (``decoder_hidden``, none by default), a Dense projection to the first
    feature map, then Conv2DTranspose layers mirroring ``filters``. With
    ``input_shape=(28, 28, 1)`` and ``latent_dim=2`` the defaults are the
    network of the keras.io example (Chollet, "Variational AutoEncoder"):
    Conv 32/64 stride 2 and Dense 16 in the encoder (69,076 weights), a
    projection of ``z`` straight to 7x7x64 in the decoder (65,089
    weights). Arguments as in :func:`vae`, plus ``filters`` as in
    :func:`conv` and ``decoder_hidden``: the widths of the decoder's Dense
    layers between ``z`` and the projection, in the decoder's order
    (``hidden[::-1]`` mirrors the encoder exactly).

    Example:

    ```python
    model = keras_ae.build("conv_vae", input_shape=(28, 28, 1), latent_dim=2)
    model.get_layer("decoder").count_params()  # 65089, as keras.io
    ```
    """
    _blocks.check_image_shape(input_shape, filters)
    _check_iwae(iwae_samples, free_bits)
    inputs, features = _blocks.conv_encoder_body(input_shape, filters, activation)
    features = _blocks.dense_stack(features, hidden, activation, "encoder")
    encoder = _gaussian_encoder(inputs, features, latent_dim, seed)
    decoder = _blocks.conv_decoder(latent_dim, input_shape, filters, tuple(decoder_hidden)[::-1], activation,
                                   likelihood)
    return _finish(encoder, decoder, "conv_vae", likelihood, beta, free_bits, decoder_scale, learning_rate, compile,
                   iwae_samples)
