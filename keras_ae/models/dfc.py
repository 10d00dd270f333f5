"""Deep Feature Consistent VAE: ``dfc_vae`` (Hou, Shen, Sun & Qiu, WACV 2017).

The VAE's pixel-by-pixel reconstruction term is replaced by a perceptual
one: the input and its reconstruction go through a fixed, pretrained
feature network, and the loss compares the activations of a few chosen
layers. Hou et al. take VGG-19 trained on ImageNet and its layers relu1_1,
relu2_1 and relu3_1; ImageNet weights cannot be downloaded here, so the
default network is the small MNIST classifier of
:mod:`keras_ae.sample_quality`, and any ``keras.Model`` (``keras.applications.VGG19``
with weights you supply included) can be given instead.

The feature network is copied into the model, frozen, and saved inside the
``.keras`` file: a saved ``dfc_vae`` loads back in safe mode without the
original network.
"""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_ae import _validation as v
from keras_ae._registry import register_model
from keras_ae.layers import GaussianPosterior
from keras_ae.models import _blocks
from keras_ae.models.vae import VariationalAutoencoder, _gaussian_encoder

#: Names accepted for ``feature_network``: a classifier of :mod:`keras_ae.sample_quality`
#: loaded from the Keras cache, or ``"random"``, that classifier's architecture untrained.
FEATURE_NETWORKS = ("digits", "fashion_mnist", "mnist", "random")
#: The layers of the in-project classifier compared by default: its two strided convolutions.
DEFAULT_FEATURE_LAYERS = ("conv1", "conv2")
#: The default ``feature_weights``: scaled to the activations of the in-project MNIST classifier (whose
#: perceptual distance between an MNIST digit and the mean digit is about 0.09 on these two layers), so
#: that the term weighs against the KL term as a pixel log-likelihood does; with weights of 1 the KL
#: term wins and the posterior collapses to the prior (measured: 2 epochs of MNIST give the mean digit).
DEFAULT_FEATURE_WEIGHTS = (3000.0, 3000.0)
#: Hou et al.'s layers (relu1_1, relu2_1, relu3_1) by their names in ``keras.applications.VGG19``
#: (each ``Conv2D`` there applies its ReLU).
VGG19_FEATURE_LAYERS = ("block1_conv1", "block2_conv1", "block3_conv1")


@keras.saving.register_keras_serializable(package="keras_ae")
class DFCVAE(VariationalAutoencoder):
    """A VAE whose reconstruction loss compares features of a frozen network: the DFC-VAE.

    Terms, per example:

    - ``"perceptual"``: ``sum_l w_l * mean((phi_l(x) - phi_l(x_hat))**2)``,
      where ``phi_l`` is the activation map of the ``l``-th layer of
      ``feature_layers`` in the frozen :attr:`feature_network`, the mean runs
      over its positions and channels, ``w_l`` is its ``feature_weights``
      entry and ``x_hat`` is the decoder's mean for a ``z`` drawn from
      q(z|x) (the posterior mean outside training). Units: squared
      activations of the network. Weight 1.
    - ``"reconstruction"``: the pixel term ``-log p(x|z)`` in nats, as in
      :class:`VariationalAutoencoder`, weighted by the hyperparameter
      ``pixel_weight`` (0 by default, as in the paper: reported, not
      optimized).
    - ``"kl"``: ``KL(q(z|x) || N(0, I))`` in nats, weighted by ``beta``
      (``free_bits`` applies as in :class:`VariationalAutoencoder`).

    Hou et al. write the loss ``alpha * KL + beta * sum_l L_l`` with
    ``L_l = 1 / (2 C_l H_l W_l) * ||phi_l(x) - phi_l(x_hat)||**2`` and
    ``alpha = 1``, ``beta = 0.5``: ``feature_weights = 0.25`` per layer here
    with ``beta = 1``, for VGG-19's activations of images in [0, 255].

    Before the network, images are made to fit its input: a 1-channel image
    is repeated on every channel the network takes (grey to RGB), and
    images of another height and width than a network with a fixed input
    size are resized (bilinear). The network receives values as the model
    sees them (in [0, 1] for a Bernoulli likelihood): any other input
    convention (ImageNet's mean subtraction...) belongs inside the network
    given (see :func:`dfc_vae`).

    Args:
        *args: ``inputs`` and ``outputs`` of the Functional model.
        feature_network: The frozen feature extractor: a ``keras.Model``
            from an image batch to the list of the chosen layers'
            activations (its serialized config when loading).
        feature_layers: The names of those layers, in the order of the
            extractor's outputs.
        feature_weights: One non-negative weight per layer; ``None`` for 1
            each.
        **kwargs: As :class:`VariationalAutoencoder`.

    Reference: Hou, Shen, Sun & Qiu, "Deep Feature Consistent Variational
    Autoencoder", WACV 2017.
    """

    HYPERPARAMETERS = ("beta", "free_bits", "pixel_weight")
    TERM_WEIGHTS = {"kl": "beta", "reconstruction": "pixel_weight"}
    TERMS = ("perceptual", "reconstruction", "kl")

    def __init__(self, *args, feature_network, feature_layers, feature_weights=None, **kwargs):
        super().__init__(*args, **kwargs)
        if isinstance(feature_network, dict):  # from a saved config; its weights are loaded after
            feature_network = keras.saving.deserialize_keras_object(feature_network)
        self.feature_layers = tuple(feature_layers)
        if feature_weights is None:
            feature_weights = (1.0,) * len(self.feature_layers)
        self.feature_weights = tuple(float(w) for w in feature_weights)
        feature_network.trainable = False
        self.feature_network = feature_network

    def __setattr__(self, name, value):
        if name == "options" and isinstance(value, dict) and isinstance(value.get("feature_network"), keras.Model):
            # The options are JSON in the config, and a Model in a dict attribute
            # would be tracked (and trained) as a layer of this model: record its
            # name; the network itself is saved as `feature_network`.
            value = {**value, "feature_network": f"<keras.Model '{value['feature_network'].name}'>"}
        super().__setattr__(name, value)

    # ------------------------------------------------------------------

    def network_input(self, images):
        """``images`` made fit for the feature network: float32, channels repeated, resized.

        Args:
            images: A batch ``(batch, height, width, channels)``.

        Returns:
            A float32 tensor ``(batch, H, W, C)`` of the network's input
            size (``height, width`` kept when the network takes any size).
        """
        images = ops.cast(images, "float32")
        height, width, channels = self.feature_network.inputs[0].shape[1:]
        if images.shape[-1] == 1 and channels not in (None, 1):
            images = ops.repeat(images, channels, axis=-1)
        if height is not None and width is not None and tuple(images.shape[1:3]) != (height, width):
            images = ops.image.resize(images, (height, width), interpolation="bilinear")
        return images

    def features(self, images):
        """The chosen layers' activations of ``images``: a list of float32 tensors, one per ``feature_layers``."""
        outputs = self.feature_network(self.network_input(images), training=False)
        if not isinstance(outputs, (list, tuple)):
            outputs = [outputs]
        return [ops.cast(f, "float32") for f in outputs]

    def perceptual_loss(self, images, reconstructions):
        """The perceptual distance per example: ``sum_l w_l * mean((phi_l(a) - phi_l(b))**2)``.

        Args:
            images: A batch of images ``(batch, height, width, channels)``.
            reconstructions: A batch of the same shape.

        Returns:
            A float32 tensor ``(batch,)``, in squared activations.

        Raises:
            ValueError: Called eagerly, if either batch is not of the
                model's input shape or the two shapes differ.
        """
        if tf.executing_eagerly():  # a user's call (training calls it in the graph, on checked batches)
            expected = tuple(self.inputs[0].shape[1:])
            for name, value in (("images", images), ("reconstructions", reconstructions)):
                if tuple(np.shape(value))[1:] != expected or np.ndim(value) != len(expected) + 1:
                    raise v.invalid(name, f"a batch of images of shape (n, {', '.join(map(str, expected))})",
                                    v.Shown(f"<array of shape {tuple(np.shape(value))}>"))
            if np.shape(images) != np.shape(reconstructions):
                raise v.invalid("reconstructions", f"a batch of the shape of images {tuple(np.shape(images))}",
                                v.Shown(f"<array of shape {tuple(np.shape(reconstructions))}>"))
        n = ops.shape(images)[0]
        both = ops.concatenate([ops.cast(images, "float32"), ops.cast(reconstructions, "float32")], axis=0)
        total = 0.0
        for weight, activations in zip(self.feature_weights, self.features(both)):
            difference = activations[:n] - activations[n:]
            axes = tuple(range(1, len(difference.shape)))
            total = total + weight * ops.mean(ops.square(difference), axis=axes)
        return total

    def decoder_mean(self, params):
        """The decoder's mean image from :meth:`decoder_params`: a sigmoid of Bernoulli logits, Gaussian means as is."""
        return ops.sigmoid(params) if self.likelihood == "bernoulli" else params

    def loss_terms(self, x, y, training=False):
        loc, raw_scale = self.posterior_params(x, training=training)
        z = self.posterior([loc, raw_scale], training=training)
        params = self.decoder_params(z, training)
        kl = GaussianPosterior.kl_per_dimension(loc, raw_scale)
        free_bits = self.hyperparameters["free_bits"]
        clamped = ops.where(ops.mean(kl, axis=0, keepdims=True) > free_bits, kl, free_bits)
        return {
            "perceptual": self.perceptual_loss(y, self.decoder_mean(params)),
            "reconstruction": self.reconstruction_nll(y, params),
            "kl": ops.sum(clamped, axis=-1),
        }

    def get_config(self):
        return {
            **super().get_config(),
            "feature_network": keras.saving.serialize_keras_object(self.feature_network),
            "feature_layers": list(self.feature_layers),
            "feature_weights": list(self.feature_weights),
        }


# --------------------------------------------------------------------------
# The feature network


def _load_named_network(name, input_shape):
    from keras_ae import sample_quality

    if name == "random":
        return sample_quality.build_feature_network(input_shape)
    try:
        return sample_quality.load_feature_network(name)
    except FileNotFoundError as error:
        raise FileNotFoundError(
            f"dfc_vae needs a feature network: feature_network={name!r} is the in-project {name} classifier, "
            f"which is not in the Keras cache yet. {error} Alternatively pass feature_network='random' (the same "
            "architecture, untrained) or any keras.Model with feature_layers=(layer names,)."
        ) from None


def feature_extractor(network, feature_layers, image_shape):
    """A frozen copy of the part of ``network`` that computes ``feature_layers``.

    Only the layers needed up to the deepest chosen layer are copied (with
    their weights), so the original network is left untouched and, for
    VGG-19 up to ``block3_conv1``, 0.56 million of its 20 million weights
    are kept.

    Args:
        network: A ``keras.Model`` with one image input
            ``(batch, H, W, C)`` (``H``, ``W`` may be ``None``).
        feature_layers: Names of layers of ``network`` (top-level layers,
            as ``network.get_layer`` finds them).
        image_shape: ``(height, width, channels)`` of the images the model
            will feed it: ``channels`` must equal ``C`` or be 1 (repeated).

    Returns:
        A non-trainable Functional ``keras.Model`` named
        ``"feature_network"`` whose outputs are the layers' activations, in
        order.

    Raises:
        ValueError: If ``network`` is not a model of images of a compatible
            number of channels (naming ``feature_network``), or a name is
            not a layer of it (naming ``feature_layers``, with the
            available names).

    Example:

    ```python
    vgg = keras.applications.VGG19(include_top=False, weights=None, input_shape=(32, 32, 3))
    extractor = feature_extractor(vgg, VGG19_FEATURE_LAYERS, (32, 32, 1))
    [tuple(o.shape) for o in extractor.outputs]  # [(None, 32, 32, 64), (None, 16, 16, 128), (None, 8, 8, 256)]
    ```
    """
    inputs = getattr(network, "inputs", None)
    if not inputs or len(inputs) != 1 or len(inputs[0].shape) != 4:
        shapes = [tuple(t.shape) for t in inputs] if inputs else None
        raise v.invalid("feature_network", "a built keras.Model with one input of images (batch, height, width, "
                        "channels)", v.Shown(f"<keras.Model '{network.name}' with inputs {shapes}>"))
    channels = inputs[0].shape[-1]
    if channels is not None and image_shape[-1] not in (channels, 1):
        raise v.invalid("feature_network", f"a network taking images of {image_shape[-1]} channels (the model's "
                        "input_shape), or of any number of channels for 1-channel images (repeated on each)",
                        v.Shown(f"<keras.Model '{network.name}' taking {channels} channels>"))
    available = [layer.name for layer in network.layers if not isinstance(layer, keras.layers.InputLayer)]
    unknown = [name for name in feature_layers if name not in available]
    if unknown:
        raise v.invalid("feature_layers", f"names of layers of the feature network '{network.name}': {available}",
                        tuple(feature_layers), v.suggest(unknown[0], available))
    outputs = [network.get_layer(name).output for name in feature_layers]
    for name, output in zip(feature_layers, outputs):
        if not hasattr(output, "shape") or len(output.shape) < 2:
            raise v.invalid("feature_layers", "names of layers with one output of activations (batch, ...)",
                            tuple(feature_layers), f"Layer '{name}' gives {output!r}")
    part = keras.Model(inputs[0], outputs, name="feature_network")
    copy = keras.models.clone_model(part)
    for mine, theirs in zip(copy.layers, part.layers, strict=True):  # clone_model keeps the order
        mine.set_weights(theirs.get_weights())
    copy = keras.Model(copy.inputs[0], copy.outputs, name="feature_network")
    copy.trainable = False
    return copy


# --------------------------------------------------------------------------
# The builder


DFC_OPTIONS = {
    "input_shape": v.Shape(ndim=3),
    "feature_network": v.ModelOr(v.OneOf(*FEATURE_NETWORKS)),
    "feature_layers": v.Names(),
    "feature_weights": v.OrNone(v.RealTuple(low=0)),
    "pixel_weight": v.Real(low=0),
    "filters": v.IntTuple(allow_empty=False),
    "hidden": v.IntTuple(),
    "decoder_hidden": v.IntTuple(),
    "beta": v.Real(low=0),
    "free_bits": v.Real(low=0),
    "decoder_scale": v.Real(low=0, low_open=True),
}


@register_model(options=DFC_OPTIONS, input_rank=3, default_latent_dim=2, has_prior=True)
def dfc_vae(
    *,
    input_shape,
    latent_dim,
    feature_network="mnist",
    feature_layers=DEFAULT_FEATURE_LAYERS,
    feature_weights=DEFAULT_FEATURE_WEIGHTS,
    pixel_weight=0.0,
    filters=(32, 64),
    hidden=(16,),
    decoder_hidden=(),
    activation="relu",
    likelihood="bernoulli",
    beta=1.0,
    free_bits=0.0,
    decoder_scale=0.1,
    learning_rate=1e-3,
    seed=None,
    compile=True,
):
    """Deep Feature Consistent VAE: a conv VAE trained on a perceptual loss of a frozen network.

    The encoder and decoder are those of :func:`keras_ae.models.vae.conv_vae`
    (same options, same defaults), so the two differ only by their
    objective: the reconstruction term here compares the activations of
    ``feature_layers`` of a frozen ``feature_network`` between the input
    and its reconstruction (see :class:`DFCVAE` for the terms and their
    units), plus ``beta`` times the KL term, plus ``pixel_weight`` times the
    pixel negative log-likelihood. Hou et al. use VGG-19 trained on
    ImageNet, its layers relu1_1, relu2_1 and relu3_1, a 100-d code and
    4 conv layers with batch normalization on 64x64 CelebA faces. See Hou,
    Shen, Sun & Qiu, "Deep Feature Consistent Variational Autoencoder",
    WACV 2017.

    The objective is not a likelihood: with the default ``pixel_weight=0``
    the pixel decoder p(x|z) is never trained on pixels, so the values
    :func:`keras_ae.metrics.elbo` and
    :func:`keras_ae.metrics.iwae_log_likelihood` return for a ``dfc_vae``
    (computed from that decoder) are not the model's log-likelihood and
    should not be compared with a VAE's.

    The feature network is copied (only up to its deepest chosen layer),
    frozen (``trainable=False``: training never changes it) and saved in
    the model's ``.keras`` file. Images are fed to it in the model's range
    (``[0, 1]`` for Bernoulli data); a 1-channel image is repeated on the
    network's channels and resized (bilinear) to its input size when that
    is fixed and differs. For VGG-19 with weights trained on ImageNet in
    Caffe's convention, put the scaling in the network:
    ``x = keras.layers.Rescaling(255.0)(inputs)``, then
    ``keras.layers.Normalization(mean=[103.939, 116.779, 123.68], variance=[1.0, 1.0, 1.0])``,
    and ``keras.applications.VGG19(include_top=False, weights=None, input_tensor=x)``
    before ``load_weights`` (the channel order does not matter for grey
    images, whose channels are equal).

    Args:
        input_shape: ``(height, width, channels)``, sides divisible by
            ``2 ** len(filters)``.
        latent_dim: Positive integer, size of z.
        feature_network: The network whose activations are compared: a
            ``keras.Model`` taking images of ``channels`` channels (or any
            number when ``channels`` is 1); ``"mnist"`` (the default),
            ``"fashion_mnist"`` or ``"digits"``, the in-project classifier
            of :mod:`keras_ae.sample_quality`, read from the Keras cache (28x28
            for the MNIST ones; create it once with
            ``python tools/train_feature_network.py --dataset mnist``); or
            ``"random"``, that classifier's architecture for
            ``input_shape``, untrained (random features: a cheap stand-in,
            used by the tests). ``model.options`` records a ``keras.Model``
            by its name.
        feature_layers: Names of the layers compared (top-level layers of
            the network). The default, ``("conv1", "conv2")``, are the two
            strided convolutions of the in-project classifier; for
            ``keras.applications.VGG19`` the paper's are
            :data:`VGG19_FEATURE_LAYERS`, ``("block1_conv1",
            "block2_conv1", "block3_conv1")``.
        feature_weights: One non-negative weight per name of
            ``feature_layers``, or ``None`` for 1 each. Scale them to the
            network's activations: the default, ``(3000.0, 3000.0)``, suits
            the in-project classifiers' ``conv1`` and ``conv2`` (images in
            [0, 1]); Hou et al.'s objective on VGG-19 (images in [0, 255],
            ``beta=1``) is ``0.25`` per layer.
        pixel_weight: Non-negative weight of the pixel term ``-log p(x|z)``
            (0 in the paper; a variable, ``model.hyperparameters``).
        filters: Conv widths of the encoder (mirrored by the decoder).
        hidden: Dense widths of the encoder, after the convolutions.
        decoder_hidden: Dense widths of the decoder, before its projection.
        activation: Activation of the hidden layers.
        likelihood: ``"bernoulli"`` (data in [0, 1], sigmoid output) or
            ``"gaussian"`` (linear output); the pixel term's likelihood.
        beta: Non-negative weight of the KL term.
        free_bits: Non-negative nats per latent dimension below which the
            KL is not pushed down.
        decoder_scale: Standard deviation of the Gaussian likelihood.
        learning_rate: Adam's learning rate.
        seed: Optional integer seed of the posterior samples.
        compile: Whether to compile the model.

    Returns:
        A :class:`DFCVAE` named ``"dfc_vae"`` with sub-models ``"encoder"``
        and ``"decoder"`` and the frozen ``model.feature_network``.

    Raises:
        ValueError: For an invalid option; for ``feature_layers`` naming no
            layer of the network (the message lists the names it has); for
            ``feature_weights`` of another length than ``feature_layers``;
            for a network that does not take images of the model's channels.
        FileNotFoundError: For ``"mnist"`` (or another name) when the
            classifier is not in the Keras cache; the message says how to
            create it.

    Example:

    ```python
    # once: python tools/train_feature_network.py --dataset mnist
    model = keras_ae.build("dfc_vae", input_shape=(28, 28, 1), latent_dim=16, hidden=(128,))
    model.fit(x_train, epochs=5, batch_size=128)    # reports perceptual, reconstruction, kl

    vgg = keras.applications.VGG19(include_top=False, weights=None, input_shape=(32, 32, 3))
    vgg.load_weights("my_vgg19_weights.weights.h5")  # weights you have
    model = keras_ae.build("dfc_vae", input_shape=(32, 32, 1), latent_dim=16, feature_network=vgg,
                           feature_layers=keras_ae.models.dfc.VGG19_FEATURE_LAYERS,
                           feature_weights=(0.25, 0.25, 0.25))
    ```
    """
    _blocks.check_image_shape(input_shape, filters)
    network = feature_network
    if isinstance(network, str):
        network = _load_named_network(network, input_shape)
    # The names first: a layer that does not exist is the mistake to report, not the count of weights.
    extractor = feature_extractor(network, feature_layers, input_shape)
    if feature_weights is not None and len(feature_weights) != len(feature_layers):
        hint = ""
        if tuple(feature_weights) == DEFAULT_FEATURE_WEIGHTS:
            hint = ("The default suits the default layers ('conv1', 'conv2') of the in-project classifier; give "
                    "one weight per layer, scaled to the network's activations")
        raise v.invalid("feature_weights", f"None or one weight per name of feature_layers ({len(feature_layers)}: "
                        f"{tuple(feature_layers)})", tuple(feature_weights), hint)
    inputs, features = _blocks.conv_encoder_body(input_shape, filters, activation)
    features = _blocks.dense_stack(features, hidden, activation, "encoder")
    encoder = _gaussian_encoder(inputs, features, latent_dim, seed)
    decoder = _blocks.conv_decoder(latent_dim, input_shape, filters, tuple(decoder_hidden)[::-1], activation,
                                   likelihood)
    model = _blocks.assemble(
        encoder, decoder, name="dfc_vae", model_class=DFCVAE, likelihood=likelihood,
        decoder_scale=decoder_scale if likelihood == "gaussian" else None,
        hyperparameters={"beta": beta, "free_bits": free_bits, "pixel_weight": pixel_weight},
        feature_network=extractor, feature_layers=feature_layers, feature_weights=feature_weights,
    )
    if compile:
        _blocks.compile_model(model, learning_rate)
    return model
