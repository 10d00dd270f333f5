"""The semi-supervised VAE of Kingma et al. (2014): ``m2``.

The label ``y`` is a latent variable of the generative model
``p(x, y, z) = p(y) p(z) p(x | y, z)`` (``p(y)`` uniform over the classes,
``p(z) = N(0, I)``), inferred by a classifier ``q(y | x)`` and, given the
label, a Gaussian posterior ``q(z | x, y)``. A labelled example contributes
the negative ELBO of ``(x, y)``; an unlabelled one the negative ELBO of ``x``
alone, in which the label is summed out exactly over the ``n_classes``
values (each weighted by ``q(y | x)``). Because ``q(y | x)`` appears only in
the unlabelled bound, a classification term on the labelled examples,
weighted by ``alpha``, trains the classifier directly (the paper's Eq. 9).

Reference: Kingma, Rezende, Mohamed & Welling, "Semi-Supervised Learning
with Deep Generative Models", NeurIPS 2014, Sec. 3.1.2 and 3.2.
"""

import math

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from keras_ae import _validation as v
from keras_ae._registry import register_model
from keras_ae.layers import GaussianPosterior
from keras_ae.models import _blocks
from keras_ae.models._base import Autoencoder


def _float32(x):
    return ops.cast(x, "float32")


@keras.saving.register_keras_serializable(package="keras_ae")
class SemiSupervisedVAE(Autoencoder):
    """M2: a VAE with the class label as a second latent variable.

    Terms per example, in nats (``fit(x, labels)`` with integer labels,
    ``-1`` for an unlabelled example; ``fit(x)`` treats every example as
    unlabelled):

    - ``"reconstruction"``: ``-log p(x | y, z)`` with ``z ~ q(z | x, y)``, at
      the given label, or averaged over every label with weights
      ``q(y | x)`` for an unlabelled example;
    - ``"kl"``: ``KL(q(z, y | x) || p(z) p(y))``: for a labelled example
      ``KL(q(z | x, y) || N(0, I)) + log n_classes`` (the label's
      ``-log p(y)``); for an unlabelled one the ``q(y | x)``-weighted KL of
      ``z`` plus ``KL(q(y | x) || uniform)``, i.e. ``log n_classes`` minus the
      entropy of the classifier;
    - ``"classification"``: ``-log q(y | x)`` for a labelled example, 0 for
      an unlabelled one, weighted by ``alpha``.

    ``reconstruction + kl`` is the negative ELBO of the example (of ``(x,
    y)`` when labelled, of ``x`` when not). ``model.get_layer("classifier")``
    gives the logits of ``q(y | x)``, ``get_layer("encoder")`` maps
    ``[x, one-hot y]`` to ``z`` (its mean at inference), ``get_layer("decoder")``
    maps ``[z, one-hot y]`` to the mean of ``p(x | y, z)``; ``model(x)``
    reconstructs through the classifier's probabilities.

    Reference: Kingma et al., "Semi-Supervised Learning with Deep Generative
    Models", NeurIPS 2014.
    """

    HYPERPARAMETERS = ("alpha",)
    TERM_WEIGHTS = {"classification": "alpha"}
    TERMS = ("reconstruction", "kl", "classification")
    USES_LABELS = True

    def __init__(self, *args, n_classes=10, **kwargs):
        super().__init__(*args, **kwargs)
        self.n_classes = v.check_int("n_classes", n_classes, minimum=2)
        encoder = self.get_layer("encoder")
        self._views.posterior_params = keras.Model(
            encoder.inputs, [encoder.get_layer("encoder_loc").output, encoder.get_layer("encoder_scale").output])

    @property
    def posterior(self):
        """The :class:`~keras_ae.layers.GaussianPosterior` layer of q(z | x, y)."""
        return self.get_layer("encoder").get_layer("posterior")

    def _check_labels(self, labels):
        if not tf.as_dtype(labels.dtype).is_integer:
            raise v.invalid("labels", f"integers from 0 to {self.n_classes - 1}, or -1 for an unlabelled example",
                            v.Shown(f"<{tf.as_dtype(labels.dtype).name} labels>"))
        labels = ops.cast(labels, "int32")
        ok = ops.logical_and(ops.min(labels) >= -1, ops.max(labels) < self.n_classes)
        return [tf.debugging.Assert(ok, [
            f"Invalid value for 'labels': expected integers from 0 to {self.n_classes - 1} (the classes), or -1 "
            "for an unlabelled example. Received a batch with labels in", ops.min(labels), ops.max(labels),
        ])]

    def label_logits(self, x, training=False):
        """The classifier's logits of q(y | x), float32 ``(batch, n_classes)``."""
        return _float32(self.get_layer("classifier")(x, training=training))

    def encode(self, x, training=False):
        """The codes ``z`` of ``x`` given the classifier's probabilities of each label."""
        probs = ops.softmax(self.label_logits(x, training=training), axis=-1)
        return self.get_layer("encoder")([x, probs], training=training)

    def predict_codes(self, x, batch_size=256):
        probs = self.predict_proba(x, batch_size=batch_size)
        return self.get_layer("encoder").predict([x, probs], batch_size=batch_size, verbose=0)

    def predict_proba(self, x, batch_size=256):
        """q(y | x): a float32 array ``(n, n_classes)``, rows summing to 1."""
        self._check_arrays(x)
        logits = self.get_layer("classifier").predict(x, batch_size=batch_size, verbose=0)
        return ops.convert_to_numpy(ops.softmax(_float32(logits), axis=-1))

    def predict_labels(self, x, batch_size=256):
        """The most probable label of each example: an int array ``(n,)``."""
        return np.argmax(self.predict_proba(x, batch_size=batch_size), axis=-1)

    def generate(self, labels, z=None, seed=None):
        """Means of p(x | y, z) for the given labels and codes (``z ~ N(0, I)`` when not given).

        Args:
            labels: Integer labels ``(n,)`` in ``[0, n_classes)``.
            z: Optional codes ``(n, latent_dim)``: the same ``z`` with every
                label renders one "style" in every class (Kingma et al.,
                Fig. 1).
            seed: Optional integer seed of the drawn codes.

        Returns:
            A float32 NumPy array ``(n, *input_shape)``.

        Raises:
            ValueError: If labels are not integers of the classes, or ``z``
                has the wrong shape.
        """
        labels = np.asarray(labels)
        if labels.ndim != 1 or labels.dtype.kind not in "iu" or not len(labels):
            raise v.invalid("labels", "a non-empty 1-D array of integer labels",
                            v.Shown(f"<{labels.dtype} array of shape {labels.shape}>"))
        if labels.min() < 0 or labels.max() >= self.n_classes:
            raise v.invalid("labels", f"integers from 0 to {self.n_classes - 1}",
                            v.Shown(f"<array with values from {labels.min()} to {labels.max()}>"))
        if z is None:
            z = keras.random.normal((len(labels), self.latent_dim), seed=seed, dtype="float32")
        z = np.asarray(z, dtype="float32")
        if z.shape != (len(labels), self.latent_dim):
            raise v.invalid("z", f"codes of shape ({len(labels)}, {self.latent_dim})",
                            v.Shown(f"<array of shape {z.shape}>"))
        v.check_array("z", z, finite=True)
        onehot = np.eye(self.n_classes, dtype="float32")[labels]
        return self.get_layer("decoder").predict([z, onehot], verbose=0)

    def loss_terms(self, x, y, training=False, labels=None):
        k = self.n_classes
        log_q_y = ops.log_softmax(self.label_logits(x, training=training), axis=-1)  # (batch, k)
        q_y = ops.exp(log_q_y)
        batch = ops.shape(x)[0]
        # Every example with every label, example-major: row i * k + j is (x_i, y = j).
        x_all = ops.repeat(x, k, axis=0)
        y_all = ops.tile(ops.eye(k, dtype="float32"), (batch, 1))
        loc, raw_scale = self._views.posterior_params([x_all, y_all], training=training)
        loc, raw_scale = _float32(loc), _float32(raw_scale)
        z = self.posterior([loc, raw_scale], training=training)
        params = self.decoder_params([z, y_all], training)
        reconstruction = ops.reshape(self.reconstruction_nll(ops.repeat(y, k, axis=0), params), (batch, k))
        kl_z = ops.reshape(ops.sum(GaussianPosterior.kl_per_dimension(loc, raw_scale), axis=-1), (batch, k))
        if labels is None:
            labels = -ops.ones((batch,), dtype="int32")
        labels = ops.cast(ops.reshape(labels, (-1,)), "int32")
        labelled = labels >= 0
        onehot = ops.one_hot(ops.maximum(labels, 0), k, dtype="float32")
        weights = ops.where(ops.expand_dims(labelled, -1), onehot, q_y)
        log_k = math.log(k)
        kl_y = ops.where(labelled, log_k, ops.sum(q_y * log_q_y, axis=-1) + log_k)
        return {
            "reconstruction": ops.sum(weights * reconstruction, axis=-1),
            "kl": ops.sum(weights * kl_z, axis=-1) + kl_y,
            "classification": ops.where(labelled, -ops.sum(onehot * log_q_y, axis=-1), 0.0),
        }

    def get_config(self):
        return {**super().get_config(), "n_classes": self.n_classes}


def _labelled_input(n_classes, name):
    return keras.Input((n_classes,), name=name)


@register_model(
    options={"hidden": v.IntTuple(), "classifier_hidden": v.IntTuple(), "n_classes": v.Integer(2),
             "alpha": v.Real(low=0), "decoder_scale": v.Real(low=0, low_open=True)},
    default_latent_dim=50,
)
def m2(
    *,
    input_shape,
    latent_dim,
    n_classes=10,
    hidden=(500,),
    classifier_hidden=(500,),
    activation="softplus",
    alpha=50.0,
    likelihood="bernoulli",
    decoder_scale=0.1,
    learning_rate=3e-4,
    seed=None,
    compile=True,
):
    """M2: the semi-supervised VAE, the label a latent variable summed out when unobserved.

    Three networks, each an MLP of ``hidden`` (or ``classifier_hidden``)
    ``activation`` layers: the classifier ``q(y | x)``; the encoder ``q(z |
    x, y)``, from ``x`` and the one-hot label to a diagonal Gaussian; the
    decoder ``p(x | y, z)``. The loss of a labelled example is ``-ELBO(x, y)
    + alpha * (-log q(y | x))``, of an unlabelled one ``-ELBO(x) = sum_y q(y |
    x) (-ELBO(x, y)) - H(q(y | x))``, with the label enumerated (the cost of
    a step is ``n_classes`` encoder and decoder passes per example). Train
    on batches that mix labelled and unlabelled examples
    (:func:`keras_ae.data.semi_supervised_dataset`). See Kingma, Rezende,
    Mohamed & Welling, "Semi-Supervised Learning with Deep Generative
    Models", NeurIPS 2014 (their M2: one hidden layer of 500 softplus units,
    a 50-dimensional z).

    Args:
        input_shape: Shape of one example (images are flattened).
        latent_dim: Positive integer, size of z.
        n_classes: Number of classes, at least 2.
        hidden: Hidden widths of the encoder (reversed in the decoder).
        classifier_hidden: Hidden widths of the classifier.
        activation: Activation of the hidden layers.
        alpha: Non-negative weight of the classification term (a
            variable). The term is averaged over the whole batch, unlabelled
            examples counting 0, so its effective weight per labelled
            example is ``alpha`` times the labelled share of a batch.
        likelihood: ``"bernoulli"`` (data in [0, 1]) or ``"gaussian"``.
        decoder_scale: Standard deviation of the Gaussian likelihood.
        learning_rate: Adam's learning rate.
        seed: Optional integer seed of the posterior samples.
        compile: Whether to compile the model.

    Returns:
        A :class:`SemiSupervisedVAE` named ``"m2"`` with sub-models
        ``"classifier"``, ``"encoder"`` and ``"decoder"``.

    Raises:
        ValueError: For a bad option.

    Example:

    ```python
    model = keras_ae.build("m2", input_shape=(784,), latent_dim=50)
    data = keras_ae.data.semi_supervised_dataset(x_train, labels, batch_size=200)  # labels: -1 if unknown
    model.fit(data, epochs=10)
    accuracy = (model.predict_labels(x_test) == y_test).mean()
    ```
    """
    features = math.prod(input_shape)

    def flat(x, prefix):
        return layers.Flatten(name=f"{prefix}_flatten")(x) if len(input_shape) > 1 else x

    x_in = keras.Input(input_shape, name="classifier_input")
    h = _blocks.dense_stack(flat(x_in, "classifier"), classifier_hidden, activation, "classifier")
    classifier = keras.Model(x_in, layers.Dense(n_classes, name="classifier_logits")(h), name="classifier")

    x_in, y_in = keras.Input(input_shape, name="encoder_input"), _labelled_input(n_classes, "encoder_label")
    h = layers.Concatenate(name="encoder_concat")([flat(x_in, "encoder"), y_in])
    h = _blocks.dense_stack(h, hidden, activation, "encoder")
    loc = layers.Dense(latent_dim, name="encoder_loc")(h)
    raw_scale = layers.Dense(latent_dim, name="encoder_scale")(h)
    z = GaussianPosterior(seed=seed, name="posterior", dtype="float32")([loc, raw_scale])
    encoder = keras.Model([x_in, y_in], z, name="encoder")

    z_in, y_in = keras.Input((latent_dim,), name="decoder_input"), _labelled_input(n_classes, "decoder_label")
    h = layers.Concatenate(name="decoder_concat")([z_in, y_in])
    h = _blocks.dense_stack(h, tuple(reversed(hidden)), activation, "decoder")
    h = layers.Dense(features, name="decoder_logits")(h)
    if len(input_shape) > 1:
        h = layers.Reshape(input_shape, name="decoder_reshape")(h)
    decoder = keras.Model([z_in, y_in], _blocks.output_head(h, likelihood), name="decoder")

    inputs = keras.Input(input_shape, name="input")
    probs = layers.Softmax(name="label_probs", dtype="float32")(classifier(inputs))
    outputs = decoder([encoder([inputs, probs]), probs])
    model = SemiSupervisedVAE(
        inputs, outputs, name="m2", likelihood=likelihood,
        decoder_scale=decoder_scale if likelihood == "gaussian" else None,
        hyperparameters={"alpha": alpha}, n_classes=n_classes,
    )
    if compile:
        _blocks.compile_model(model, learning_rate)
    return model
