"""PixelVAE: a VAE whose decoder is a gated PixelCNN conditioned on the code (``pixelcnn_vae``).

The decoder models ``p(x|z) = prod_i p(x_i | x_<i, z)`` over the pixels in
raster order with a gated PixelCNN (:mod:`keras_ae.models._pixelcnn`) that
receives ``z`` through a conditioning map (or vector): it can model the local
detail (strokes, edges) itself and leave the global content to ``z``, which
sharpens samples compared with a factorized decoder. Gulrajani et al.,
"PixelVAE: A Latent Variable Model for Natural Images", ICLR 2017; the gated
PixelCNN is van den Oord et al., "Conditional Image Generation with PixelCNN
Decoders", NeurIPS 2016.
"""

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from keras_ae import _validation as v
from keras_ae._registry import register_model
from keras_ae.layers import GaussianPosterior
from keras_ae.models import _blocks
from keras_ae.models._pixelcnn import pixelcnn_log_prob, pixelcnn_network, pixelcnn_sample
from keras_ae.models.vae import VariationalAutoencoder

#: Floats of one PixelCNN activation tensor above which :meth:`PixelCNNVAE.log_prob` splits a batch.
_MAX_ACTIVATION_FLOATS = 2**23


@keras.saving.register_keras_serializable(package="keras_ae")
class GreedyPixelDecoding(layers.Layer):
    """The deterministic decoder of a PixelCNN: pixel by pixel, each set to its more probable value.

    Takes the condition of a conditional PixelCNN (``(batch, d)`` or
    ``(batch, H, W, c)``) and returns float32 logits ``(batch, H, W, 1)``:
    at pixel ``i`` the logit of ``x_i = 1`` given the pixels before it, which
    were set to ``1`` where their own logit was positive (greedy decoding:
    a deterministic, high-probability image, not a sample, and not the mean
    of p(x|z)). ``sigmoid`` of the output are the conditional probabilities
    along that path; ``output > 0`` is the greedy image. It costs ``H * W``
    forward passes of the network (784 for 28x28).

    Args:
        network: A binary conditional network of
            :func:`keras_ae.models._pixelcnn.pixelcnn_network` (a
            ``keras.Model`` taking ``[image, condition]``).
        **kwargs: Base layer arguments (the dtype is float32: the loop
            thresholds logits; the network keeps its own policy).
    """

    def __init__(self, network, **kwargs):
        kwargs["dtype"] = "float32"
        super().__init__(**kwargs)
        if isinstance(network, dict):
            network = keras.saving.deserialize_keras_object(network)
        if not isinstance(network, keras.Model) or len(network.inputs) != 2:
            raise v.invalid("network", "a conditional PixelCNN (a keras.Model taking [image, condition])",
                            getattr(network, "name", network))
        self.network = network
        self.image_shape = tuple(network.inputs[0].shape[1:])

    def build(self, input_shape):
        self.built = True

    def call(self, condition):
        height, width, _ = self.image_shape
        size = height * width
        n = ops.shape(condition)[0]
        image = ops.zeros((n, *self.image_shape), "float32")

        def step(t, state):
            image, logits = state
            where = ops.reshape(ops.one_hot(t, size, dtype="float32"), (1, height, width, 1))
            out = ops.cast(self.network([image, condition], training=False), "float32")
            value = ops.sum(out * where, axis=(1, 2), keepdims=True)  # (n, 1, 1, 1): pixel t's logit
            image = image * (1.0 - where) + ops.cast(value > 0, "float32") * where
            logits = logits * (1.0 - where) + value * where
            return image, logits

        _, logits = ops.fori_loop(0, size, step, (image, ops.zeros_like(image)))
        return logits

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self.image_shape)

    def get_config(self):
        return {**super().get_config(), "network": keras.saving.serialize_keras_object(self.network)}


@keras.saving.register_keras_serializable(package="keras_ae")
class PixelCNNVAE(VariationalAutoencoder):
    """PixelVAE: a VAE with a gated PixelCNN decoder ``p(x|z) = prod_i p(x_i | x_<i, z)`` over binary pixels.

    Terms, per example, in nats: ``"reconstruction"``, ``-log p(x|z)``
    computed exactly in one teacher-forced pass of the PixelCNN (each
    pixel's conditional given the true pixels before it and ``z``), with
    ``z`` sampled from q(z|x) in training and the posterior mean otherwise;
    ``"kl"``, ``KL(q(z|x) || N(0, I))`` in closed form (with ``free_bits`` as
    in :class:`~keras_ae.models.VariationalAutoencoder`). The loss is
    ``reconstruction + beta * kl``.

    The data rule: the likelihood is Bernoulli. For binary images
    (binarize them first, e.g. ``(x > 0.5).astype("float32")`` or by
    sampling ``x ~ Bernoulli(gray level)``) the reconstruction term, the
    :meth:`log_prob` and the ELBO/IWAE of :mod:`keras_ae.metrics` are exact
    log-probabilities. Gray levels in [0, 1] are accepted (as every
    Bernoulli model of the library accepts them): the term is then the
    cross-entropy, not a probability, and the PixelCNN's context is gray.
    Values outside [0, 1] are refused.

    Sub-models: ``"encoder"`` (x -> posterior mean at inference) and
    ``"decoder"`` (z -> the logits of the greedy decoding,
    :class:`GreedyPixelDecoding`, through a sigmoid): ``model.predict(x)``
    and ``decoder.predict(z)`` cost ``H * W`` PixelCNN passes, and
    ``decoder_params(z)`` are the logits along that greedy path (not the
    teacher-forced logits of an image: :meth:`conditional_logits`). Sample
    with :meth:`sample`; score with :meth:`log_prob` and
    :func:`keras_ae.metrics.iwae_log_likelihood` (exact ``log p(x|z)`` inside
    the importance sampling).

    Cost, measured on 2 shared cores of an AMD EPYC (other jobs running),
    with the defaults on 28x28 images (``latent_dim=16``, 302k weights):
    1.3 s per training step of 64 images; 16 s to sample 8 images.

    Example:

    ```python
    model = keras_ae.build("pixelcnn_vae", input_shape=(28, 28, 1), latent_dim=16)
    model.fit(x_binary, epochs=5, batch_size=64)
    z = model.predict_codes(x_binary[:10])
    print(model.log_prob(x_binary[:10], z))          # log p(x|z), nats
    print(keras_ae.metrics.iwae_log_likelihood(model, x_binary[:10], k=100))  # log p(x), nats
    images = model.sample(16, seed=0)
    ```

    References: Gulrajani, Kumar, Ahmed, Taiga, Visin, Vazquez & Courville,
    "PixelVAE: A Latent Variable Model for Natural Images", ICLR 2017; van den
    Oord et al., "Conditional Image Generation with PixelCNN Decoders",
    NeurIPS 2016.
    """

    #: ``predict`` decodes one pixel per network pass (the command line reconstructs few test images).
    AUTOREGRESSIVE_DECODER = True

    LIKELIHOODS = ("bernoulli",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        decoder = self.get_layer("decoder")
        self._views.condition = keras.Model(decoder.input, decoder.get_layer("decoder_condition").output)

    @property
    def pixelcnn(self):
        """The PixelCNN network ``[image, condition] -> logits (batch, H, W, 1)`` of the decoder."""
        return self.get_layer("decoder").get_layer("decoder_pixelcnn").network

    def condition(self, z, training=False):
        """The PixelCNN's condition for codes ``z`` ``(batch, latent_dim)``: a map ``(batch, H, W, c)`` or ``z``."""
        return self._views.condition(z, training=training)

    def conditional_logits(self, x, z, training=False):
        """Teacher-forced logits ``(batch, H, W, 1)``, float32: per pixel, the logit of 1 given ``x_<i`` and ``z``."""
        x = ops.cast(ops.convert_to_tensor(x), "float32")
        condition = self.condition(ops.convert_to_tensor(z), training)
        return ops.cast(self.pixelcnn([x, condition], training=training), "float32")

    def _check_log_prob_arguments(self, x, z):
        """Refuses images of another shape, non-finite or outside [0, 1], and codes that do not match them."""
        x = np.asarray(x, dtype="float32")
        z = np.asarray(z, dtype="float32")
        v.check_array("x", x, finite=True, unit_interval=True)
        self._check_input_shape(x, "")
        if z.shape != (len(x), self.latent_dim):
            raise v.invalid("z", f"an array of shape ({len(x)}, {self.latent_dim}): one code per image",
                            v.Shown(f"<array of shape {z.shape}>"))
        v.check_array("z", z, finite=True)
        return x, z

    def log_prob(self, x, z, training=False):
        """Exact ``log p(x | z)`` per example, in nats (one teacher-forced PixelCNN pass).

        Args:
            x: Images ``(batch, H, W, 1)``, binary for a log-probability
                (gray levels in [0, 1] give the negative cross-entropy).
            z: Codes ``(batch, latent_dim)``, one per image.
            training: Whether the layers run in training mode.

        Returns:
            A float32 tensor ``(batch,)``. Large eager batches are split so
            that one activation tensor stays below about 2**23 floats.

        Raises:
            ValueError: Called eagerly, for images of another shape than the
                model's, non-finite or outside [0, 1], or for codes that are
                not one finite row of ``latent_dim`` numbers per image.

        Example:

        ```python
        z = model.predict_codes(x)
        log_px = model.log_prob(x, z)   # nats per image
        ```
        """
        if tf.executing_eagerly():
            x, z = self._check_log_prob_arguments(x, z)
        x = ops.cast(ops.convert_to_tensor(x), "float32")
        z = ops.cast(ops.convert_to_tensor(z), "float32")
        height, width, _ = self.pixelcnn.inputs[0].shape[1:]
        filters = self.pixelcnn.get_layer("pixelcnn_block_1").filters
        chunk = max(1, _MAX_ACTIVATION_FLOATS // (height * width * 2 * filters))
        n = x.shape[0]
        if tf.executing_eagerly() and n is not None and n > chunk:
            return ops.concatenate([self.log_prob(x[i : i + chunk], z[i : i + chunk], training)
                                    for i in range(0, n, chunk)], axis=0)
        return pixelcnn_log_prob(self.conditional_logits(x, z, training), x, n_values=2)

    def loss_terms(self, x, y, training=False):
        loc, raw_scale = self.posterior_params(x, training=training)
        z = self.posterior([loc, raw_scale], training=training)
        reconstruction = -self.log_prob(y, z, training=training)
        kl = GaussianPosterior.kl_per_dimension(loc, raw_scale)
        free_bits = self.hyperparameters["free_bits"]
        clamped = ops.where(ops.mean(kl, axis=0, keepdims=True) > free_bits, kl, free_bits)
        return {"reconstruction": reconstruction, "kl": ops.sum(clamped, axis=-1)}

    def sample(self, n, seed=None, z=None):
        """Draws ``n`` images: ``z ~ N(0, I)`` then ``x ~ p(x|z)`` pixel by pixel.

        Costs ``H * W`` PixelCNN passes on the batch of ``n`` (784 for 28x28:
        about as long as 784 predictions of a batch).

        Args:
            n: Positive number of images.
            seed: Optional non-negative integer seed (of ``z`` and of the
                pixels): the same images for the same seed.
            z: Optional codes ``(n, latent_dim)`` to sample ``x ~ p(x|z)``
                from instead of prior draws.

        Returns:
            A float32 NumPy array ``(n, H, W, 1)`` of 0s and 1s.

        Raises:
            ValueError: For a bad ``n``, ``seed`` or ``z``.

        Example:

        ```python
        images = model.sample(16, seed=0)
        ```
        """
        n = v.check_int("n", n)
        if seed is not None:
            seed = v.check_int("seed", seed, minimum=0)
        if z is None:
            z = self.sample_prior(n, seed=seed)
        else:
            z = np.asarray(z, dtype="float32")
            v.check_array("z", z, finite=True)
            if z.shape != (n, self.latent_dim):
                raise v.invalid("z", f"an array of shape ({n}, {self.latent_dim})",
                                v.Shown(f"<array of shape {z.shape}>"))
        condition = ops.cast(self.condition(z), "float32")
        pixel_seed = None if seed is None else seed + 1
        return pixelcnn_sample(self.pixelcnn, n, n_values=2, condition=condition, seed=pixel_seed)


def _encoder(input_shape, latent_dim, filters, hidden, activation, seed):
    inputs, features = _blocks.conv_encoder_body(input_shape, filters, activation)
    features = _blocks.dense_stack(features, hidden, activation, "encoder")
    loc = layers.Dense(latent_dim, name="encoder_loc")(features)
    raw_scale = layers.Dense(latent_dim, name="encoder_scale")(features)
    codes = GaussianPosterior(seed=seed, name="posterior", dtype="float32")([loc, raw_scale])
    return keras.Model(inputs, codes, name="encoder")


def _decoder(input_shape, latent_dim, pixelcnn_filters, pixelcnn_layers, kernel_size, conditioning,
             condition_channels):
    height, width, _ = input_shape
    codes = keras.Input(shape=(latent_dim,), name="decoder_input")
    if conditioning == "map":
        # PixelVAE: z is turned into a feature map of the image's size, added inside every gate.
        x = layers.Dense(height * width * condition_channels, name="decoder_project")(codes)
        condition = layers.Reshape((height, width, condition_channels), name="decoder_condition")(x)
        condition_shape = (height, width, condition_channels)
    else:
        condition = layers.Identity(name="decoder_condition")(codes)
        condition_shape = (latent_dim,)
    network = pixelcnn_network(input_shape, n_values=2, filters=pixelcnn_filters, n_layers=pixelcnn_layers,
                               kernel_size=kernel_size, condition_shape=condition_shape, name="pixelcnn")
    logits = GreedyPixelDecoding(network, name="decoder_pixelcnn")(condition)
    return keras.Model(codes, _blocks.output_head(logits, "bernoulli"), name="decoder")


PIXELCNN_VAE_OPTIONS = {
    "input_shape": v.Shape(ndim=3),
    "filters": v.IntTuple(allow_empty=False),
    "hidden": v.IntTuple(),
    "pixelcnn_filters": v.Integer(1),
    "pixelcnn_layers": v.Integer(1),
    "kernel_size": v.Integer(3),
    "conditioning": v.OneOf("map", "vector"),
    "condition_channels": v.Integer(1),
    "likelihood": v.OneOf("bernoulli"),
    "beta": v.Real(low=0),
    "free_bits": v.Real(low=0),
}


@register_model(options=PIXELCNN_VAE_OPTIONS, input_rank=3, default_latent_dim=16, has_prior=True)
def pixelcnn_vae(
    *,
    input_shape,
    latent_dim,
    filters=(32, 64),
    hidden=(),
    pixelcnn_filters=32,
    pixelcnn_layers=5,
    kernel_size=3,
    conditioning="map",
    condition_channels=4,
    activation="relu",
    likelihood="bernoulli",
    beta=1.0,
    free_bits=0.0,
    learning_rate=1e-3,
    seed=None,
    compile=True,
):
    """PixelVAE: a convolutional VAE whose decoder is a gated PixelCNN conditioned on z (binary images).

    Encoder: strided 3x3 Conv2D layers (``filters``), flatten, Dense layers
    (``hidden``), the Gaussian posterior q(z|x). Decoder: ``z`` through a
    Dense projection to a conditioning map ``(H, W, condition_channels)``
    (``conditioning="map"``, as PixelVAE) or ``z`` itself as a vector
    (``"vector"``), then a gated PixelCNN of ``pixelcnn_layers`` blocks
    (van den Oord et al., NeurIPS 2016) giving ``log p(x|z)`` exactly, with
    the condition added inside every gate. The loss is the negative ELBO,
    ``-log p(x|z) + beta * KL(q(z|x) || N(0, I))``, in nats. See
    :class:`PixelCNNVAE` for the data rule (binary images for exact
    likelihoods), sampling and the cost of decoding (``H * W`` network
    passes per image). Gulrajani et al., "PixelVAE: A Latent Variable Model
    for Natural Images", ICLR 2017.

    Args:
        input_shape: ``(height, width, 1)``: one channel (several are
            refused: their autoregressive order is not implemented); sides
            divisible by ``2 ** len(filters)``.
        latent_dim: Positive integer, size of z.
        filters: Channels of the encoder's strided convolutions.
        hidden: Widths of the encoder's Dense layers after flattening.
        pixelcnn_filters: Channels of the PixelCNN's stacks.
        pixelcnn_layers: Number of gated blocks (the first with mask A).
        kernel_size: Odd integer >= 3, the PixelCNN's kernel size.
        conditioning: ``"map"`` or ``"vector"``: how z enters the gates.
        condition_channels: Channels of the conditioning map.
        activation: Activation of the encoder.
        likelihood: ``"bernoulli"`` (the only one).
        beta: Non-negative weight of the KL term (a variable).
        free_bits: Non-negative nats per latent dimension below which the KL
            is not pushed down.
        learning_rate: Adam's learning rate.
        seed: Optional integer seed of the posterior samples.
        compile: Whether to compile the model.

    Returns:
        A :class:`PixelCNNVAE` named ``"pixelcnn_vae"``.

    Raises:
        ValueError: For a bad option (house format), several channels, an
            even ``kernel_size`` or sides not divisible by the encoder's
            stride.

    Example:

    ```python
    x = (x_train > 0.5).astype("float32")            # binarized, (n, 28, 28, 1)
    model = keras_ae.build("pixelcnn_vae", input_shape=(28, 28, 1), latent_dim=16)
    model.fit(x, epochs=10, batch_size=64)
    images = model.sample(16, seed=0)                # 784 PixelCNN passes
    nll = -keras_ae.metrics.iwae_log_likelihood(model, x_test[:100], k=50).mean()
    ```
    """
    _blocks.check_image_shape(input_shape, filters)
    if input_shape[-1] != 1:
        raise v.invalid("input_shape", "(height, width, 1): one channel (the PixelCNN's autoregressive order "
                        "over several channels is not implemented)", input_shape)
    if kernel_size % 2 == 0:
        raise v.invalid("kernel_size", "an odd integer >= 3 (a causal mask needs a centre)", kernel_size)
    encoder = _encoder(input_shape, latent_dim, filters, hidden, activation, seed)
    decoder = _decoder(input_shape, latent_dim, pixelcnn_filters, pixelcnn_layers, kernel_size, conditioning,
                       condition_channels)
    model = _blocks.assemble(encoder, decoder, name="pixelcnn_vae", model_class=PixelCNNVAE,
                             likelihood=likelihood, hyperparameters={"beta": beta, "free_bits": free_bits})
    if compile:
        _blocks.compile_model(model, learning_rate)
    return model
