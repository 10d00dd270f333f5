"""Deep Embedded Clustering: ``dec``.

An autoencoder learns codes; a clustering layer of Student's t soft
assignments ``q_ij`` sits on them; then encoder and centroids are refined
together so that the assignments match a sharpened target ``p_ij``, which
puts more weight on confident assignments and divides by the cluster sizes
(so large clusters do not swallow the others). Training stops when fewer
than ``tol`` of the examples change cluster between two checks.

Reference: Xie, Girshick & Farhadi, "Unsupervised Deep Embedding for
Clustering Analysis", ICML 2016.
"""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_ae import _validation as v
from keras_ae._registry import register_model
from keras_ae.layers import ClusteringLayer
from keras_ae.models import _blocks
from keras_ae.models._base import Autoencoder

#: Smallest probability inside the KL divergence (keeps its logarithms finite).
EPS = 1e-12


def _float32(x):
    return ops.cast(x, "float32")


def target_distribution(q, sample_weight=None):
    """DEC's sharpened targets ``p_ij = (q_ij^2 / f_j) / sum_j' (q_ij'^2 / f_j')``.

    ``f_j = sum_i w_i q_ij`` is the (weighted) soft frequency of cluster ``j``
    over the batch, summed over every replica of a ``tf.distribute``
    strategy, so a distributed step uses the targets of the whole global
    batch.

    Args:
        q: Soft assignments ``(batch, n_clusters)``, rows summing to 1.
        sample_weight: Optional weights ``(batch,)``.

    Returns:
        A float32 tensor ``(batch, n_clusters)``, rows summing to 1.

    Reference: Xie et al. 2016, Eq. 3.
    """
    q = _float32(q)
    weighted = q if sample_weight is None else q * ops.reshape(_float32(sample_weight), (-1, 1))
    frequency = ops.sum(weighted, axis=0)
    context = tf.distribute.get_replica_context()
    if context is not None and context.num_replicas_in_sync > 1:
        frequency = context.all_reduce("sum", frequency)
    p = ops.square(q) / ops.maximum(frequency, EPS)
    return p / ops.sum(p, axis=-1, keepdims=True)


def target_distribution_np(q):
    """:func:`target_distribution` on a NumPy array of the whole data set (float64)."""
    q = np.asarray(q, dtype="float64")
    p = q**2 / q.sum(axis=0)
    return p / p.sum(axis=1, keepdims=True)


class AssignmentsSettled(keras.callbacks.Callback):
    """Stops DEC's refinement when few examples change cluster (Xie et al., Sec. 3.1.3).

    Every ``interval`` training steps it assigns every example of ``x`` to its
    most probable cluster and stops training when the fraction of examples
    whose cluster changed since the previous check is below ``tol``.

    Args:
        x: The data whose assignments are watched (usually the training set).
        tol: Fraction in [0, 1); 0.001 (0.1%) in the paper.
        interval: Training steps between two checks (the paper's update
            interval ``T``).
        batch_size: Batch size of the assignment passes.

    Attributes:
        changes: The fraction of changed assignments at each check.
        assignments: The assignments at the last check.
    """

    def __init__(self, x, tol=0.001, interval=140, batch_size=256):
        super().__init__()
        self.x = x
        self.tol = v.check_float("tol", tol, low=0, high=1, high_open=True)
        self.interval = v.check_int("interval", interval)
        self.batch_size = v.check_int("batch_size", batch_size)
        self.changes = []
        self.assignments = None
        self._steps = 0

    def on_train_begin(self, logs=None):
        self.assignments = self.model.predict_clusters(self.x, batch_size=self.batch_size)
        self._steps = 0

    def on_train_batch_end(self, batch, logs=None):
        self._steps += 1
        if self._steps % self.interval:
            return
        new = self.model.predict_clusters(self.x, batch_size=self.batch_size)
        self.changes.append(float(np.mean(new != self.assignments)))
        self.assignments = new
        if self.changes[-1] < self.tol:
            self.model.stop_training = True


@keras.saving.register_keras_serializable(package="keras_ae")
class DeepEmbeddedClustering(Autoencoder):
    """DEC: an autoencoder with a clustering layer refined on its codes.

    Terms per example, in nats: ``"reconstruction"``, ``-log p(x|z)`` (the
    summed squared error with the default Gaussian likelihood and no
    ``decoder_scale``), weighted by the hyperparameter
    ``reconstruction_weight``; and ``"clustering"``, ``KL(p_i || q_i)``
    between the sharpened targets of :func:`target_distribution` (held
    constant in the gradient) and the soft assignments of the clustering
    layer (``model.clustering``), weighted by ``clustering_weight``.

    A new model has weights ``(1, 0)``: ``fit(x)`` pretrains the autoencoder.
    :meth:`fit_clusters` then initializes the centroids with k-means on the
    codes and refines with weights ``(reconstruction_weight, 1)``, 0 for the
    paper's DEC (the decoder is dropped), 0.1 for IDEC (Guo et al., IJCAI
    2017), and puts the weights ``(1, 0)`` back when it returns.

    The targets are computed on each batch from its current assignments and
    the batch's cluster frequencies; Xie et al. compute them on the whole
    data set every ``T`` steps and hold them for ``T`` steps. With batches of
    256 the two agree closely: the frequencies of a batch estimate those of
    the data set, and the assignments move little in ``T`` steps.

    Reference: Xie, Girshick & Farhadi, "Unsupervised Deep Embedding for
    Clustering Analysis", ICML 2016.
    """

    HYPERPARAMETERS = ("reconstruction_weight", "clustering_weight")
    TERM_WEIGHTS = {"reconstruction": "reconstruction_weight", "clustering": "clustering_weight"}
    TERMS = ("reconstruction", "clustering")
    USES_SAMPLE_WEIGHT = True

    def __init__(self, *args, n_clusters=10, alpha=1.0, seed=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.n_clusters = v.check_int("n_clusters", n_clusters, minimum=2)
        self.alpha = v.check_float("alpha", alpha, low=0, low_open=True)
        self.seed = v.check_int("seed", seed, minimum=0) if seed is not None else None
        self.clustering = ClusteringLayer(self.n_clusters, self.alpha, name="clustering", dtype="float32")
        self.clustering.build((None, self.latent_dim))

    def loss_terms(self, x, y, training=False, sample_weight=None):
        codes = self.encode(x, training=training)
        reconstruction = self.reconstruction_nll(y, self.decoder_params(codes, training))
        q = self.clustering(_float32(codes))
        p = ops.stop_gradient(target_distribution(q, sample_weight))
        kl = ops.sum(p * (ops.log(ops.maximum(p, EPS)) - ops.log(ops.maximum(q, EPS))), axis=-1)
        return {"reconstruction": reconstruction, "clustering": kl}

    # ------------------------------------------------------------------
    # Clustering

    def soft_assignments(self, x, batch_size=256):
        """The soft assignments ``q`` of ``x``: a float32 array ``(n, n_clusters)``, rows summing to 1."""
        self._check_arrays(x)
        codes = self.get_layer("encoder").predict(x, batch_size=batch_size, verbose=0)
        return ops.convert_to_numpy(self.clustering(codes))

    def predict_clusters(self, x, batch_size=256):
        """The most probable cluster of each example of ``x``: an int array ``(n,)``."""
        return np.argmax(self.soft_assignments(x, batch_size=batch_size), axis=-1)

    def initialize_clusters(self, x, n_init=20, batch_size=256):
        """Sets the centroids to those of k-means on the codes of ``x`` (Xie et al., Sec. 3.2).

        Args:
            x: Data, shape ``(n, *input_shape)``, ``n >= n_clusters``.
            n_init: k-means restarts (20 in the paper); the best is kept.
            batch_size: Batch size of the encoding pass.

        Returns:
            The k-means cluster of each example, an int array ``(n,)``.
        """
        from sklearn.cluster import KMeans

        self._check_arrays(x)
        n_init = v.check_int("n_init", n_init)
        codes = self.get_layer("encoder").predict(x, batch_size=batch_size, verbose=0)
        if len(codes) < self.n_clusters:
            raise v.invalid("x", f"at least n_clusters={self.n_clusters} examples",
                            v.Shown(f"<array of shape {np.shape(x)}>"))
        kmeans = KMeans(self.n_clusters, n_init=n_init, random_state=self.seed or 0).fit(codes.astype("float64"))
        self.clustering.centroids.assign(kmeans.cluster_centers_.astype("float32"))
        return kmeans.labels_

    def fit_clusters(self, x, *, epochs=200, batch_size=256, tol=0.001, update_interval=140,
                     reconstruction_weight=0.0, initialize=True, n_init=20, callbacks=None, verbose="auto"):
        """DEC's second phase: k-means initialization, then refinement until assignments settle.

        Args:
            x: Training data (after :meth:`fit` has pretrained the autoencoder).
            epochs: The most epochs of refinement.
            batch_size: Batch size (256 in the paper).
            tol: Stop when fewer than this fraction of the examples change
                cluster between two checks (0.001 in the paper).
            update_interval: Training steps between two checks.
            reconstruction_weight: Weight of the reconstruction term during
                refinement: 0 (DEC) or e.g. 0.1 (IDEC, which keeps the
                decoder so the codes keep describing the data).
            initialize: Whether to set the centroids by k-means first.
            n_init: k-means restarts.
            callbacks: More Keras callbacks.
            verbose: Keras' ``verbose``.

        Returns:
            The Keras ``History``; its ``changes`` attribute lists the
            fraction of changed assignments at each check. The loss
            weights of pretraining are restored at the end, so a later
            :meth:`fit` trains the autoencoder again (reconstruction only).

        Raises:
            ValueError: For bad arguments or data.

        Example:

        ```python
        model = keras_ae.build("dec", input_shape=(784,), latent_dim=10, n_clusters=10)
        model.fit(x, epochs=50, batch_size=256)          # pretraining
        model.fit_clusters(x)                             # refinement
        clusters = model.predict_clusters(x)
        ```
        """
        # Every argument is checked before anything changes.
        reconstruction_weight = v.check_float("reconstruction_weight", reconstruction_weight, low=0)
        epochs = v.check_int("epochs", epochs)
        n_init = v.check_int("n_init", n_init)
        update_interval = v.check_int("update_interval", update_interval)
        settled = AssignmentsSettled(x, tol=tol, interval=update_interval, batch_size=batch_size)
        self._check_arrays(x)
        if initialize:
            self.initialize_clusters(x, n_init=n_init, batch_size=batch_size)
        weights = {name: float(self.hyperparameters[name].numpy()) for name in self.HYPERPARAMETERS}
        self.hyperparameters["reconstruction_weight"].assign(reconstruction_weight)
        self.hyperparameters["clustering_weight"].assign(1.0)
        try:
            history = self.fit(x, epochs=epochs, batch_size=batch_size, callbacks=[settled, *(callbacks or [])],
                               verbose=verbose)
        finally:  # a later fit() pretrains again, as before the refinement
            for name, value in weights.items():
                self.hyperparameters[name].assign(value)
        history.changes = settled.changes
        return history

    def get_config(self):
        return {**super().get_config(), "n_clusters": self.n_clusters, "alpha": self.alpha, "seed": self.seed}


@register_model(
    options={"hidden": v.IntTuple(), "n_clusters": v.Integer(2), "alpha": v.Real(low=0, low_open=True),
             "decoder_scale": v.OrNone(v.Real(low=0, low_open=True))},
    default_latent_dim=10,
)
def dec(
    *,
    input_shape,
    latent_dim,
    n_clusters=10,
    hidden=(500, 500, 2000),
    alpha=1.0,
    activation="relu",
    likelihood="gaussian",
    decoder_scale=None,
    learning_rate=1e-3,
    seed=None,
    compile=True,
):
    """Deep Embedded Clustering: an autoencoder whose codes are clustered and refined.

    The network of Xie et al. (``d-500-500-2000-10``, ReLU, a linear code)
    is pretrained as an autoencoder by ``fit(x)``; :meth:`fit_clusters
    <DeepEmbeddedClustering.fit_clusters>` puts k-means centroids in the
    clustering layer and trains encoder and centroids on ``KL(P || Q)``,
    where ``Q`` are Student's t soft assignments of the codes and ``P`` the
    sharpened targets, until fewer than 0.1% of the assignments change.
    See Xie, Girshick & Farhadi, "Unsupervised Deep Embedding for
    Clustering Analysis", ICML 2016.

    Args:
        input_shape: Shape of one example (images are flattened).
        latent_dim: Positive integer, size of the code (10 in the paper).
        n_clusters: Number of clusters, at least 2.
        hidden: Hidden widths of the encoder (reversed in the decoder).
        alpha: Degrees of freedom of the Student's t kernel (1).
        activation: Activation of the hidden layers.
        likelihood: ``"gaussian"`` (with ``decoder_scale=None``, the summed
            squared error of the paper) or ``"bernoulli"``.
        decoder_scale: ``None`` for the squared error, or a Gaussian scale.
        learning_rate: Adam's learning rate (pretraining and refinement).
        seed: Optional seed of the k-means initialization.
        compile: Whether to compile the model.

    Returns:
        A :class:`DeepEmbeddedClustering` named ``"dec"`` with sub-models
        ``"encoder"`` and ``"decoder"`` (``get_layer``) and its clustering
        layer in ``model.clustering``.

    Raises:
        ValueError: For a bad option.

    Example:

    ```python
    model = keras_ae.build("dec", input_shape=(28, 28, 1), latent_dim=10)
    model.fit(x_train, epochs=50, batch_size=256)
    model.fit_clusters(x_train)
    clusters = model.predict_clusters(x_test)
    ```
    """
    encoder = _blocks.dense_encoder(input_shape, latent_dim, hidden, activation)
    decoder = _blocks.dense_decoder(latent_dim, input_shape, hidden, activation, likelihood)
    model = _blocks.assemble(
        encoder, decoder, name="dec", model_class=DeepEmbeddedClustering, likelihood=likelihood,
        decoder_scale=decoder_scale if likelihood == "gaussian" else None,
        hyperparameters={"reconstruction_weight": 1.0, "clustering_weight": 0.0},
        n_clusters=n_clusters, alpha=alpha, seed=seed,
    )
    if compile:
        _blocks.compile_model(model, learning_rate)
    return model
