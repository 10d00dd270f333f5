"""The vector-quantised VAE (``vq_vae``): a discrete code grid, an EMA codebook, a PixelCNN prior.

The encoder maps an image to a grid of ``h x w`` vectors of ``D`` numbers
(``z_e``); each vector is replaced by its nearest entry of a codebook of ``K``
vectors (:class:`VectorQuantizer`); the decoder maps the grid of codebook
vectors back to an image. The code of an image is thus a grid of ``h x w``
integers in ``[0, K)``. Training follows van den Oord, Vinyals & Kavukcuoglu,
"Neural Discrete Representation Learning", NeurIPS 2017:

- the gradient of the reconstruction passes the quantisation unchanged (the
  straight-through estimator: ``z_q = z_e + sg(e - z_e)``);
- a commitment term ``beta * ||z_e - sg(e)||^2`` keeps the encoder's outputs
  near the codes they chose;
- the codebook is not trained by the optimizer but updated as exponential
  moving averages of the vectors assigned to each code (the paper's appendix
  A.1; also Razavi, van den Oord & Vinyals, "Generating Diverse High-Fidelity
  Images with VQ-VAE-2", NeurIPS 2019), so there is no codebook loss term.

Sampling needs a prior over code grids: a PixelCNN (van den Oord et al.,
"Conditional Image Generation with PixelCNN Decoders", NeurIPS 2016) fitted
after the autoencoder on the codes of the training images
(:meth:`VQVAE.fit_prior`), sampled position by position
(:meth:`VQVAE.sample`). The prior lives inside the model: one ``.keras`` file
holds the autoencoder, the codebook and the prior.
"""

import types
import warnings

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from keras_ae import _validation as v
from keras_ae._registry import register_model
from keras_ae.models import _blocks, _pixelcnn
from keras_ae.models._base import Autoencoder

__all__ = ["VQVAE", "VectorQuantizer", "prior_network", "vq_vae"]


# ---------------------------------------------------------------------------
# The quantizer


@keras.saving.register_keras_serializable(package="keras_ae")
class VectorQuantizer(keras.layers.Layer):
    """Nearest-neighbour vector quantisation with an exponential-moving-average codebook.

    Each input vector ``z`` (the last axis, of size ``D``) is replaced by the
    nearest codebook vector ``e_k``, ``k = argmin_j ||z - e_j||^2``. The
    layer returns ``[quantized, indices]``: ``quantized`` has the input's
    shape and the values ``e_k``, with the straight-through gradient (the
    gradient with respect to ``quantized`` is passed to ``z`` unchanged);
    ``indices`` has the input's shape without its last axis, ``int32`` in
    ``[0, num_embeddings)``.

    The codebook is not a trainable weight. When the layer is called with
    ``training=True`` it updates, for each code ``i``, with ``n_i`` the
    number of vectors of the batch assigned to it and ``s_i`` their sum
    (each counted with its example's weight, if ``sample_weight`` is given):

    - ``N_i <- decay * N_i + (1 - decay) * n_i`` (``cluster_size``);
    - ``m_i <- decay * m_i + (1 - decay) * s_i`` (``embedding_sum``);
    - ``e_i <- m_i / N~_i`` with the Laplace-smoothed counts
      ``N~_i = (N_i + epsilon) / (sum_j N_j + K * epsilon) * sum_j N_j``,
      so a code nobody chooses keeps a finite vector.

    Under ``tf.distribute`` the counts and sums are summed over the replicas
    before the update (an all-reduce), so two replicas holding half a batch
    each update the codebook exactly as one device holding the whole batch.
    The computation is in float32 whatever the dtype policy.

    The averages start at ``N_i = 1`` and ``m_i = e_i`` (the initial codebook):
    every code behaves as if it had already been the mean of one vector, so
    the first updates are weighted averages of the initial vector and the
    batch's mean, and a code no vector chooses stays where it is (it decays
    as ``m_i / N_i = e_i``) instead of being divided by a count near zero.

    Args:
        num_embeddings: ``K``, the number of codes, an integer >= 2.
        decay: The EMA decay ``gamma`` in [0, 1) (0.99 in the paper).
        epsilon: Positive Laplace smoothing of the counts.
        seed: Optional non-negative integer seed of the codebook's
            initialisation (uniform in ``[-1/K, 1/K]``).
        **kwargs: Base layer arguments (``name``...). The dtype is always
            float32.

    Input shape: ``(..., D)``. Output shapes: ``(..., D)`` (float32) and
    ``(...)`` (int32).

    Raises:
        ValueError: For an invalid argument (the project's message).

    Example:

    ```python
    quantizer = keras_ae.models.VectorQuantizer(num_embeddings=64, decay=0.99)
    quantized, indices = quantizer(z_e, training=True)  # z_e: (batch, 7, 7, 16)
    ```

    Reference: van den Oord, Vinyals & Kavukcuoglu, "Neural Discrete
    Representation Learning", NeurIPS 2017, Sec. 3 and appendix A.1.
    """

    def __init__(self, num_embeddings, decay=0.99, epsilon=1e-5, seed=None, **kwargs):
        kwargs["dtype"] = "float32"  # quantise in float32, also under mixed precision
        super().__init__(**kwargs)
        self.num_embeddings = v.check_int("num_embeddings", num_embeddings, minimum=2)
        self.decay = v.check_float("decay", decay, low=0, high=1, high_open=True)
        self.epsilon = v.check_float("epsilon", epsilon, low=0, low_open=True)
        self.seed = None if seed is None else v.check_int("seed", seed, minimum=0)

    def build(self, input_shape):
        dim = int(input_shape[-1])
        k = self.num_embeddings
        # Identical on every replica: only the first replica's value is written
        # back (all replicas compute the same all-reduced update).
        common = {"trainable": False, "autocast": False, "aggregation": "only_first_replica"}
        self.codebook = self.add_weight(
            shape=(k, dim), name="codebook",
            initializer=keras.initializers.RandomUniform(-1.0 / k, 1.0 / k, seed=self.seed), **common,
        )
        self.cluster_size = self.add_weight(shape=(k,), name="cluster_size", initializer="ones", **common)
        self.embedding_sum = self.add_weight(shape=(k, dim), name="embedding_sum", initializer="zeros", **common)
        self.embedding_sum.assign(self.codebook.value)

    @property
    def embedding_dim(self):
        """``D``, the size of each code vector (known once the layer is built)."""
        return int(self.codebook.shape[-1])

    def nearest(self, flat):
        """Indices ``(n,)`` of the codes nearest to the rows of ``flat`` ``(n, D)``, float32."""
        codebook = ops.convert_to_tensor(self.codebook)
        distances = (
            ops.sum(ops.square(flat), axis=1, keepdims=True)
            - 2.0 * ops.matmul(flat, ops.transpose(codebook))
            + ops.sum(ops.square(codebook), axis=1)[None, :]
        )
        return ops.cast(ops.argmin(distances, axis=1), "int32")

    def lookup(self, indices):
        """The code vectors of ``indices`` (any shape): float32, shape ``indices.shape + (D,)``."""
        return ops.take(ops.convert_to_tensor(self.codebook), ops.cast(indices, "int32"), axis=0)

    def call(self, inputs, training=False, sample_weight=None):
        z = ops.cast(inputs, "float32")
        dim = self.embedding_dim
        flat = ops.reshape(z, (-1, dim))
        indices = self.nearest(flat)
        quantized = ops.reshape(self.lookup(indices), ops.shape(z))
        if training:
            weights = None
            if sample_weight is not None:
                rank = len(z.shape)
                weights = ops.reshape(ops.cast(sample_weight, "float32"), (-1,) + (1,) * (rank - 2))
                weights = ops.reshape(ops.broadcast_to(weights, ops.shape(z)[:-1]), (-1,))
            self._update(flat, indices, weights)
        # Straight through: the value is exactly `quantized`, the gradient goes to z.
        quantized = quantized + (z - ops.stop_gradient(z))
        return quantized, ops.reshape(indices, ops.shape(z)[:-1])

    def _update(self, flat, indices, weights=None):
        onehot = ops.one_hot(indices, self.num_embeddings, dtype="float32")
        if weights is not None:
            onehot = onehot * weights[:, None]
        counts = ops.sum(onehot, axis=0)
        sums = ops.matmul(ops.transpose(onehot), ops.stop_gradient(flat))
        context = tf.distribute.get_replica_context()
        if context is not None and context.num_replicas_in_sync > 1:
            counts, sums = context.all_reduce(tf.distribute.ReduceOp.SUM, [counts, sums])
        decay = self.decay
        cluster_size = decay * ops.convert_to_tensor(self.cluster_size) + (1.0 - decay) * counts
        embedding_sum = decay * ops.convert_to_tensor(self.embedding_sum) + (1.0 - decay) * sums
        total = ops.sum(cluster_size)
        k = float(self.num_embeddings)
        smoothed = (cluster_size + self.epsilon) / (total + k * self.epsilon) * total
        self.cluster_size.assign(cluster_size)
        self.embedding_sum.assign(embedding_sum)
        self.codebook.assign(embedding_sum / smoothed[:, None])

    @staticmethod
    def perplexity(indices, num_embeddings):
        """``exp(entropy)`` of the code frequencies in ``indices``: the effective number of codes used.

        Between 1 (one code for everything) and ``num_embeddings`` (all
        codes equally often).
        """
        counts = np.bincount(np.asarray(indices).ravel(), minlength=num_embeddings).astype("float64")
        p = counts / max(counts.sum(), 1.0)
        p = p[p > 0]
        return float(np.exp(-np.sum(p * np.log(p))))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape), tuple(input_shape[:-1])

    def compute_output_spec(self, inputs, training=False, sample_weight=None):
        return (keras.KerasTensor(inputs.shape, dtype="float32"),
                keras.KerasTensor(inputs.shape[:-1], dtype="int32"))

    def get_config(self):
        config = super().get_config()
        config.pop("dtype", None)
        return {**config, "num_embeddings": self.num_embeddings, "decay": self.decay,
                "epsilon": self.epsilon, "seed": self.seed}


# ---------------------------------------------------------------------------
# The prior: a gated PixelCNN over code grids


def prior_network(grid_shape, num_embeddings, filters=32, n_layers=5, name="prior"):
    """The PixelCNN prior over code grids of shape ``grid_shape = (h, w)``.

    A gated PixelCNN (:func:`keras_ae.models._pixelcnn.pixelcnn_network`,
    3x3 kernels, no blind spot) over one channel of codes: input integer
    codes ``(n, h, w, 1)``; output float32 logits ``(n, h, w, 1, K)`` for
    ``K = num_embeddings > 2``, or, for ``K = 2``, the logit of code 1
    ``(n, h, w, 1)`` (the codes are then binary pixels). The logits at
    ``(i, j)`` depend only on the codes before ``(i, j)`` in raster order.

    Args:
        grid_shape: ``(h, w)``.
        num_embeddings: ``K`` >= 2.
        filters: Channels of the gated blocks.
        n_layers: Number of gated blocks.
        name: Name of the model.

    Returns:
        A ``keras.Model``.
    """
    height, width = grid_shape
    return _pixelcnn.pixelcnn_network((height, width, 1), n_values=num_embeddings, filters=filters,
                                      n_layers=n_layers, kernel_size=3, name=name)


# ---------------------------------------------------------------------------
# The model


@keras.saving.register_keras_serializable(package="keras_ae")
class VQVAE(Autoencoder):
    """VQ-VAE: an autoencoder whose code is a grid of codebook indices.

    Terms, per example: ``"reconstruction"``, ``-log p(x | z_q)`` summed
    over pixels (nats for a Bernoulli likelihood), and ``"commitment"``,
    ``||z_e - sg(z_q)||^2`` summed over the grid and the ``D`` coordinates,
    weighted by ``commitment_cost`` (``beta``, 0.25 in the paper; a variable
    in ``model.hyperparameters``). The codebook is updated by exponential
    moving averages in each training step (see :class:`VectorQuantizer`),
    never by the optimizer, so there is no codebook term. Sample weights
    weigh the examples in both terms and in the codebook's averages.

    The quantizer is the last layer of the ``"encoder"`` sub-model, so the
    encoder gives the quantised code vectors ``z_q`` (``predict_codes``);
    :meth:`encode_continuous` gives ``z_e`` before quantisation,
    :meth:`encode_indices` the integer grid. The ``"encoder"`` and
    ``"decoder"`` sub-models exchange flat vectors of ``h * w * D`` numbers
    (the library's convention for codes, so ``predict_codes`` and the plots
    work as for every model); the grid is ``model.code_shape = (h, w, D)``.
    ``model(x) == decoder(encoder(x))``: the reconstruction from the codes.

    The prior over code grids is a PixelCNN (:func:`prior_network`) held by
    the model (``model.prior``); it is not trained by ``fit`` but by
    :meth:`fit_prior`, after the autoencoder (the paper's two stages). It is
    saved in the same ``.keras`` file, with whether it was fitted.

    Like ``BatchNormalization``'s moving statistics, the codebook is updated
    whenever the quantizer runs with ``training=True``: by ``fit``, and by
    ``model(x, training=True)`` or ``model.encode(x, training=True)``;
    ``predict``, ``evaluate`` and the methods below leave it unchanged.

    Build it with :func:`vq_vae` (``keras_ae.build("vq_vae", ...)``).

    Example:

    ```python
    model = keras_ae.build("vq_vae", input_shape=(28, 28, 1), latent_dim=16, num_embeddings=64)
    model.fit(x_train, epochs=10, batch_size=128)
    model.codebook_usage(x_test)["perplexity"]   # effective number of codes used
    model.fit_prior(x_train, epochs=10)
    model.save("vq.keras")                        # autoencoder, codebook and prior
    keras_ae.load_model("vq.keras").sample(16, seed=0)
    ```

    Reference: van den Oord, Vinyals & Kavukcuoglu, "Neural Discrete
    Representation Learning", NeurIPS 2017.
    """

    HYPERPARAMETERS = ("commitment_cost",)
    TERM_WEIGHTS = {"commitment": "commitment_cost"}
    TERMS = ("reconstruction", "commitment")
    USES_SAMPLE_WEIGHT = True

    def __init__(self, *args, prior=None, **kwargs):
        super().__init__(*args, **kwargs)
        encoder = self.get_layer("encoder")
        # A view (not tracked): images -> z_e, the grid before quantisation.
        self._views.z_e = keras.Model(encoder.input, encoder.get_layer("encoder_code").output)
        self.prior_options = {"filters": 32, "layers": 5, **dict(prior or {})}
        height, width, _ = self.code_shape
        # Not tracked by Keras: the optimizer of `fit` never sees its weights;
        # they are saved by save_own_variables.
        self._prior = types.SimpleNamespace(
            network=prior_network((height, width), self.quantizer.num_embeddings,
                                  self.prior_options["filters"], self.prior_options["layers"]),
            fitted=False,
        )

    # ------------------------------------------------------------------
    # Parts

    @property
    def quantizer(self):
        """The :class:`VectorQuantizer` layer (its ``codebook``, ``cluster_size``, ``embedding_sum``)."""
        return self.get_layer("encoder").get_layer("quantizer")

    @property
    def code_shape(self):
        """``(h, w, D)``: the grid of code vectors of one image."""
        return tuple(self.get_layer("decoder").get_layer("decoder_grid").target_shape)

    @property
    def num_embeddings(self):
        """``K``, the number of codes."""
        return self.quantizer.num_embeddings

    @property
    def prior(self):
        """The PixelCNN prior (:func:`prior_network`): codes ``(n, h, w, 1)`` -> logits ``(n, h, w, 1, K)``."""
        return self._prior.network

    @property
    def prior_fitted(self):
        """Whether :meth:`fit_prior` has trained the prior."""
        return self._prior.fitted

    # ------------------------------------------------------------------
    # Training

    def encode_continuous(self, x, training=False):
        """``z_e``, the encoder's output before quantisation: float32 ``(batch, h, w, D)``."""
        return ops.cast(self._views.z_e(x, training=training), "float32")

    def loss_terms(self, x, y, training=False, sample_weight=None):
        height, width, dim = self.code_shape
        z_e = self.encode_continuous(x, training=training)
        z_q, _ = self.quantizer(z_e, training=training, sample_weight=sample_weight)
        commitment = ops.sum(ops.square(z_e - ops.stop_gradient(z_q)), axis=(1, 2, 3))
        params = self.decoder_params(ops.reshape(z_q, (-1, height * width * dim)), training)
        return {"reconstruction": self.reconstruction_nll(y, params), "commitment": commitment}

    # ------------------------------------------------------------------
    # Codes

    def encode_indices(self, x, batch_size=256):
        """The code grids of images ``x``: ``int32`` array ``(n, h, w)`` with values in ``[0, K)``.

        Args:
            x: Images ``(n, height, width, channels)``.
            batch_size: Images per batch.

        Raises:
            ValueError: For non-finite values or a wrong shape.
        """
        if isinstance(x, (list, tuple)):
            x = np.asarray(x, dtype="float32")
        self._check_arrays(x)
        batch_size = v.check_int("batch_size", batch_size)
        height, width, dim = self.code_shape
        parts = []
        for start in range(0, len(x), batch_size):
            z = ops.reshape(self.encode_continuous(x[start:start + batch_size]), (-1, dim))
            parts.append(ops.convert_to_numpy(self.quantizer.nearest(z)))
        indices = np.concatenate(parts) if parts else np.zeros((0,), "int32")
        return indices.astype("int32").reshape(-1, height, width)

    def _check_indices(self, indices, name="indices"):
        height, width, _ = self.code_shape
        values = np.asarray(indices)
        if values.dtype.kind not in "iu" or values.ndim != 3 or values.shape[1:] != (height, width):
            raise v.invalid(name, f"an integer array of shape (n, {height}, {width})",
                            v.Shown(f"<{values.dtype} array of shape {values.shape}>"))
        if values.size and (values.min() < 0 or values.max() >= self.num_embeddings):
            raise v.invalid(name, f"codes in [0, {self.num_embeddings})",
                            v.Shown(f"<array with values in [{values.min()}, {values.max()}]>"))
        return values.astype("int32")

    def decode_indices(self, indices, batch_size=256):
        """Images decoded from code grids: the means of p(x | z_q), float32 ``(n, height, width, channels)``.

        Args:
            indices: Integer array ``(n, h, w)`` of codes in ``[0, K)``.
            batch_size: Grids per batch.

        Raises:
            ValueError: For a wrong shape, a non-integer array or a code out of range.
        """
        indices = self._check_indices(indices)
        batch_size = v.check_int("batch_size", batch_size)
        decoder, parts = self.get_layer("decoder"), []
        for start in range(0, len(indices), batch_size):
            part = indices[start:start + batch_size]
            codes = ops.reshape(self.quantizer.lookup(part), (len(part), -1))
            parts.append(ops.convert_to_numpy(decoder(codes, training=False)))
        if not parts:
            return np.zeros((0, *self.output_shape[1:]), "float32")
        return np.concatenate(parts).astype("float32")

    def codebook_usage(self, x, batch_size=256):
        """How the codebook is used on images ``x``.

        Returns:
            A dict: ``"perplexity"``, ``exp`` of the entropy of the code
            frequencies (the effective number of codes, between 1 and ``K``),
            ``"used"``, the number of distinct codes chosen, and
            ``"counts"``, the count of each code (an int array ``(K,)``).
        """
        indices = self.encode_indices(x, batch_size=batch_size)
        counts = np.bincount(indices.ravel(), minlength=self.num_embeddings)
        return {"perplexity": VectorQuantizer.perplexity(indices, self.num_embeddings),
                "used": int(np.count_nonzero(counts)), "counts": counts}

    # ------------------------------------------------------------------
    # The prior

    def _prior_inputs(self, grids):
        """Code grids ``(n, h, w)`` as the prior takes them: ``(n, h, w, 1)``, binary pixels when K = 2."""
        return grids[..., None].astype("float32" if self.num_embeddings == 2 else "int32")

    def fit_prior(self, x=None, *, indices=None, epochs=10, batch_size=64, learning_rate=1e-3,
                  validation_split=0.0, verbose=0):
        """Trains the PixelCNN prior on code grids (the second stage of training).

        Give the training images ``x`` (encoded with :meth:`encode_indices`)
        or their code grids ``indices``. The loss is the cross-entropy of
        each code given the codes before it in raster order, in nats per
        code (mean over positions and examples; ``h * w`` times it is
        ``-log p(grid)``). Each call compiles the prior anew with Adam (the
        prior's optimizer state is not saved).

        Args:
            x: Images ``(n, height, width, channels)``, or ``None``.
            indices: Code grids ``(n, h, w)`` of integers in ``[0, K)``, or
                ``None``.
            epochs: Positive number of epochs.
            batch_size: Positive batch size.
            learning_rate: Adam's positive learning rate.
            validation_split: Fraction in [0, 1) held out (Keras' meaning).
            verbose: Keras' verbosity.

        Returns:
            The ``keras.callbacks.History`` of the prior's training
            (``loss`` in nats per code).

        Raises:
            ValueError: If both or neither of ``x`` and ``indices`` are
                given, or for a bad value.

        Warns:
            UserWarning: If ``x`` is given but the VQ-VAE itself was never
                trained (its codebook still has its initial counts).

        Example:

        ```python
        model.fit(x_train, epochs=20)
        model.fit_prior(x_train, epochs=20)
        images = model.sample(16, seed=0)
        ```
        """
        if (x is None) == (indices is None):
            raise v.invalid("indices", "exactly one of x (images) and indices (code grids)",
                            v.Shown("<both given>" if x is not None else "None (and x=None)"))
        epochs = v.check_int("epochs", epochs)
        batch_size = v.check_int("batch_size", batch_size)
        learning_rate = v.check_float("learning_rate", learning_rate, low=0, low_open=True)
        validation_split = v.check_float("validation_split", validation_split, low=0, high=1, high_open=True)
        if x is not None and np.all(ops.convert_to_numpy(self.quantizer.cluster_size) == 1.0):  # never updated
            warnings.warn("fit_prior: this VQ-VAE has not been trained (its codebook was never updated), so the "
                          "prior would learn the codes of an untrained encoder. Train it first with model.fit(x).",
                          UserWarning, stacklevel=2)
        grids = self.encode_indices(x) if x is not None else self._check_indices(indices)
        if len(grids) == 0:
            name, value = ("x", x) if x is not None else ("indices", indices)
            raise v.invalid(name, "at least one " + ("image" if x is not None else "code grid"),
                            v.Shown(f"<array of shape {np.shape(value)}>"))
        inputs = self._prior_inputs(grids)
        prior = self.prior
        if self.num_embeddings == 2:
            loss = keras.losses.BinaryCrossentropy(from_logits=True)
        else:
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        with prior.distribute_strategy.scope():
            prior.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss)
        history = prior.fit(inputs, inputs, epochs=epochs, batch_size=batch_size,
                            validation_split=validation_split, verbose=verbose)
        self._prior.fitted = True
        return history

    def fit(self, *args, **kwargs):
        """``Autoencoder.fit``; warns when the prior was fitted before, since it then describes the old codes."""
        history = super().fit(*args, **kwargs)
        if self._prior.fitted:
            warnings.warn("fit: this VQ-VAE's prior was fitted on the codes of the model before this training; "
                          "the encoder and codebook have moved since, so call model.fit_prior(x) again before "
                          "sampling.", UserWarning, stacklevel=2)
        return history

    def prior_nll(self, indices, batch_size=256):
        """``-log p(grid)`` under the prior, in nats per grid: float32 array ``(n,)``.

        Raises:
            ValueError: For a bad array of code grids.
        """
        grids = self._check_indices(indices)
        batch_size = v.check_int("batch_size", batch_size)
        inputs, parts = self._prior_inputs(grids), []
        for start in range(0, len(grids), batch_size):
            part = inputs[start:start + batch_size]
            logits = self.prior(part, training=False)
            parts.append(-ops.convert_to_numpy(_pixelcnn.pixelcnn_log_prob(logits, part, self.num_embeddings)))
        return np.concatenate(parts) if parts else np.zeros((0,), "float32")

    def sample_indices(self, n, seed=None):
        """Draws ``n`` code grids from the prior, one position at a time in raster order.

        Args:
            n: Positive number of grids.
            seed: Optional non-negative integer seed (the same grids for the
                same seed).

        Returns:
            An ``int32`` array ``(n, h, w)`` of codes in ``[0, K)``.

        Raises:
            RuntimeError: If the prior has not been fitted
                (:meth:`fit_prior`).
            ValueError: For a bad ``n`` or ``seed``.
        """
        n = v.check_int("n", n)
        seed = None if seed is None else v.check_int("seed", seed, minimum=0)
        if not self._prior.fitted:
            raise RuntimeError("The prior of this VQ-VAE has not been fitted: call model.fit_prior(x_train) "
                               "after model.fit(x_train), then sample.")
        grids = _pixelcnn.pixelcnn_sample(self.prior, n, n_values=self.num_embeddings, seed=seed)
        return np.asarray(grids)[..., 0].astype("int32")

    def sample(self, n, seed=None):
        """Draws ``n`` images: code grids from the prior, decoded (the means of p(x | z_q)).

        Arguments as in :meth:`sample_indices`.

        Returns:
            A float32 array ``(n, height, width, channels)``.

        Raises:
            RuntimeError: If the prior has not been fitted.
        """
        return self.decode_indices(self.sample_indices(n, seed=seed))

    # ------------------------------------------------------------------
    # Saving: the prior's weights and state ride with the model's own variables

    def save_own_variables(self, store):
        super().save_own_variables(store)
        for i, weight in enumerate(self.prior.weights):
            store[f"prior_{i}"] = ops.convert_to_numpy(weight)
        store["prior_fitted"] = np.array([int(self._prior.fitted)], dtype="int32")

    def load_own_variables(self, store):
        keys = list(store.keys())
        prior_keys = [k for k in keys if k.startswith("prior_") and k != "prior_fitted"]
        if prior_keys:
            for i, weight in enumerate(self.prior.weights):
                weight.assign(store[f"prior_{i}"])
        if "prior_fitted" in keys:
            self._prior.fitted = bool(np.asarray(store["prior_fitted"]).ravel()[0])
        own = {k: store[k] for k in keys if not k.startswith("prior_")}
        super().load_own_variables(own)

    def get_config(self):
        return {**super().get_config(), "prior": dict(self.prior_options)}


# ---------------------------------------------------------------------------
# The builder


def _encoder(input_shape, latent_dim, filters, num_embeddings, decay, epsilon, seed, activation):
    inputs = keras.Input(shape=input_shape, name="encoder_input")
    x = inputs
    for i, width in enumerate(filters, start=1):
        x = layers.Conv2D(width, 3, strides=2, padding="same", activation=activation, name=f"encoder_conv_{i}")(x)
    z_e = layers.Conv2D(latent_dim, 1, name="encoder_code")(x)  # one D-vector per grid position
    z_q, _ = VectorQuantizer(num_embeddings, decay=decay, epsilon=epsilon, seed=seed, name="quantizer")(z_e)
    codes = layers.Flatten(name="encoder_flatten", dtype="float32")(z_q)
    return keras.Model(inputs, codes, name="encoder")


def _decoder(grid, output_shape, filters, activation, likelihood):
    codes = keras.Input(shape=(int(np.prod(grid)),), name="decoder_input")
    x = layers.Reshape(grid, name="decoder_grid")(codes)
    x = layers.Conv2D(filters[-1], 3, padding="same", activation=activation, name="decoder_conv")(x)
    for i, width in enumerate(reversed(filters), start=1):
        x = layers.Conv2DTranspose(width, 3, strides=2, padding="same", activation=activation,
                                   name=f"decoder_deconv_{i}")(x)
    x = layers.Conv2DTranspose(output_shape[-1], 3, padding="same", name="decoder_logits")(x)
    return keras.Model(codes, _blocks.output_head(x, likelihood), name="decoder")


VQ_OPTIONS = {
    "input_shape": v.Shape(ndim=3),
    "filters": v.IntTuple(allow_empty=False),
    "num_embeddings": v.Integer(2),
    "commitment_cost": v.Real(low=0),
    "decay": v.Real(low=0, high=1, high_open=True),
    "epsilon": v.Real(low=0, low_open=True),
    "decoder_scale": v.Real(low=0, low_open=True),
    "prior_filters": v.Integer(1),
    "prior_layers": v.Integer(1),
}


@register_model(options=VQ_OPTIONS, input_rank=3, default_latent_dim=16)
def vq_vae(
    *,
    input_shape,
    latent_dim,
    filters=(32, 64),
    num_embeddings=64,
    commitment_cost=0.25,
    decay=0.99,
    epsilon=1e-5,
    activation="relu",
    likelihood="bernoulli",
    decoder_scale=0.1,
    prior_filters=32,
    prior_layers=5,
    learning_rate=1e-3,
    seed=None,
    compile=True,
):
    """VQ-VAE: discrete codes from an EMA codebook, with a PixelCNN prior for sampling.

    The encoder is strided 3x3 convolutions (``filters``) and a 1x1
    convolution to ``latent_dim`` channels, giving a grid of
    ``h x w = (height / 2**len(filters)) x (width / 2**len(filters))``
    vectors of ``D = latent_dim`` numbers; each is replaced by its nearest
    of ``num_embeddings`` codebook vectors, updated by exponential moving
    averages (:class:`VectorQuantizer`); the decoder is a 3x3 convolution and
    transposed convolutions mirroring ``filters``. Loss per example:
    ``-log p(x | z_q) + commitment_cost * ||z_e - sg(z_q)||^2``. After
    ``fit``, :meth:`VQVAE.fit_prior` trains the PixelCNN prior on the code
    grids and :meth:`VQVAE.sample` draws images. See van den Oord, Vinyals &
    Kavukcuoglu, "Neural Discrete Representation Learning", NeurIPS 2017.

    Args:
        input_shape: ``(height, width, channels)``, sides divisible by
            ``2 ** len(filters)``.
        latent_dim: Positive integer, ``D``: the size of each code vector
            (the paper's embedding dimension). The code of an image is
            ``h * w`` indices; the encoder's flat output has ``h * w * D``
            numbers.
        filters: Channels of the strided convolutions.
        num_embeddings: ``K``, the size of the codebook, an integer >= 2.
        commitment_cost: ``beta`` >= 0, the weight of the commitment term.
        decay: EMA decay of the codebook in [0, 1).
        epsilon: Positive Laplace smoothing of the codebook's counts.
        activation: Activation of the hidden convolutions.
        likelihood: ``"bernoulli"`` (data in [0, 1]) or ``"gaussian"``.
        decoder_scale: Standard deviation of the Gaussian likelihood.
        prior_filters: Channels of the gated PixelCNN prior.
        prior_layers: Number of gated blocks of the prior (3x3 kernels:
            each sees one more row and column).
        learning_rate: Adam's learning rate for the autoencoder.
        seed: Optional seed of the codebook's initialisation.
        compile: Whether to compile the model.

    Returns:
        A :class:`VQVAE` named ``"vq_vae"`` with sub-models ``"encoder"``
        (images -> quantised code vectors, flat: ``h * w * D`` numbers; its
        last layers are ``"encoder_code"``, giving ``z_e``, and the
        :class:`VectorQuantizer` ``"quantizer"``) and ``"decoder"`` (flat
        code vectors -> means of p(x|z)), and the prior ``model.prior``.

    Raises:
        ValueError: For a bad option, or image sides not divisible by
            ``2 ** len(filters)``.

    Example:

    ```python
    model = keras_ae.build("vq_vae", input_shape=(28, 28, 1), latent_dim=16, num_embeddings=64)
    model.fit(x_train, epochs=10, batch_size=128)
    grids = model.encode_indices(x_test)        # (n, 7, 7) ints in [0, 64)
    model.fit_prior(x_train, epochs=10)
    images = model.sample(16, seed=0)           # (16, 28, 28, 1)
    ```
    """
    _blocks.check_image_shape(input_shape, filters)
    factor = 2 ** len(filters)
    grid = (input_shape[0] // factor, input_shape[1] // factor, latent_dim)
    encoder = _encoder(input_shape, latent_dim, filters, num_embeddings, decay, epsilon, seed, activation)
    decoder = _decoder(grid, input_shape, filters, activation, likelihood)
    model = _blocks.assemble(
        encoder, decoder, name="vq_vae", model_class=VQVAE, likelihood=likelihood,
        decoder_scale=decoder_scale if likelihood == "gaussian" else None,
        hyperparameters={"commitment_cost": commitment_cost},
        prior={"filters": prior_filters, "layers": prior_layers},
    )
    if compile:
        _blocks.compile_model(model, learning_rate)
    return model
