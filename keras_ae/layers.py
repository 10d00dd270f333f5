"""Custom Keras 3 layers and regularizers used by the model builders.

All of them are registered for safe-mode ``.keras`` loading
(``keras.saving.register_keras_serializable(package="keras_ae")``) and
return every constructor argument from ``get_config()``.
"""

import keras
import numpy as np
from keras import ops

from keras_ae import _validation as v

__all__ = [
    "NOISE_KINDS",
    "ClusteringLayer",
    "Corruption",
    "GaussianPosterior",
    "KLSparsity",
    "ReplicaSeedGenerator",
    "SeededDropout",
    "corrupt",
    "kl_sparsity",
]

NOISE_KINDS = ("dropout", "gaussian", "salt_and_pepper")

# Smallest posterior standard deviation: keeps log q(z|x) finite.
SCALE_FLOOR = 1e-4
# Activations are clipped to [EPS, 1 - EPS] inside the KL sparsity penalty.
EPS = 1e-7


def _check_noise(kind, level):
    v.check_choice("noise", kind, NOISE_KINDS)
    if kind == "gaussian":
        return v.check_float("noise_level", level, low=0)
    return v.check_float("noise_level", level, low=0, high=1, high_open=True)


def _apply_noise(x, kind, level, seed):
    """Corrupts a tensor; ``seed`` is an int or a ``keras.random.SeedGenerator``."""
    if kind == "gaussian":
        return x + level * keras.random.normal(ops.shape(x), seed=seed, dtype=x.dtype)
    u = keras.random.uniform(ops.shape(x), seed=seed, dtype=x.dtype)
    hit = u < level
    if kind == "dropout":
        # Masking noise (Vincent et al., 2008): set a fraction `level` of the
        # inputs to zero, without the 1 / (1 - rate) rescaling of `Dropout`.
        return ops.where(hit, ops.zeros_like(x), x)
    # Salt and pepper: a fraction `level` of the inputs set to 0 or 1.
    salt = ops.cast(u < level / 2, x.dtype)
    return ops.where(hit, salt, x)


def corrupt(x, kind="gaussian", level=0.1, seed=0):
    """Corrupts data once, for the explicit ``fit(x_noisy, x)`` style.

    Args:
        x: Array of inputs (values in [0, 1] for the masking kinds).
        kind: ``"gaussian"`` (additive, ``level`` is the standard deviation),
            ``"dropout"`` (masking, ``level`` is the fraction set to zero) or
            ``"salt_and_pepper"`` (``level`` is the fraction set to 0 or 1).
        level: Noise level, see ``kind``.
        seed: Integer seed; the same seed gives the same corruption.

    Returns:
        A float32 NumPy array of the shape of ``x``.

    Example:

    ```python
    x_noisy = keras_ae.corrupt(x_train, "gaussian", 0.3, seed=0)
    model.fit(x_noisy, x_train, epochs=5)
    ```
    """
    level = _check_noise(kind, level)
    v.check_int("seed", seed, minimum=0)
    x = ops.convert_to_tensor(np.asarray(x, dtype="float32"))
    return ops.convert_to_numpy(_apply_noise(x, kind, level, seed))


# Added, times the replica id, to the first seed component of every replica
# but the first: a prime far from the small integers users pass as seeds.
REPLICA_SEED_STRIDE = 1_000_003


class ReplicaSeedGenerator(keras.random.SeedGenerator):
    """A ``SeedGenerator`` that gives each ``tf.distribute`` replica its own seeds.

    Under ``MirroredStrategy`` and ``MultiWorkerMirroredStrategy`` a layer's
    ``SeedGenerator`` state is mirrored: with a plain generator every replica
    would draw the same noise for its part of the global batch (the same
    posterior samples, corruption or probes for example ``i`` of replica 0
    and of replica 1). This generator adds ``replica_id * 1_000_003`` to the
    first component of the seed it returns. Its state is unchanged: outside a
    strategy, on one replica and on replica 0 it returns exactly what
    ``keras.random.SeedGenerator`` returns.

    Example:

    ```python
    seed_generator = ReplicaSeedGenerator(seed=0)
    eps = keras.random.normal((32, 2), seed=seed_generator)
    ```
    """

    def next(self, ordered=True):
        seed = super().next(ordered=ordered)
        replica = _replica_id()
        if replica is None:
            return seed
        offset = ops.stack([ops.cast(replica, "int32") * REPLICA_SEED_STRIDE, 0])
        return seed + ops.cast(offset, seed.dtype)


def _replica_id():
    """The id of the current replica when there are several, else ``None``."""
    import tensorflow as tf

    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return None
    return context.replica_id_in_sync_group


class SeedStateMixin:
    """Saves a ``seed_generator``'s state with the object's weights.

    ``keras.random.SeedGenerator`` state is not part of a layer's weights, so
    a reloaded model would draw different noise than the saved one would
    have; this keeps resumed training identical to uninterrupted training.
    """

    def save_own_variables(self, store):
        super().save_own_variables(store)
        store["seed_state"] = ops.convert_to_numpy(self.seed_generator.state.value)

    def load_own_variables(self, store):
        keys = list(store.keys())
        if "seed_state" in keys:
            self.seed_generator.state.assign(store["seed_state"])
        super().load_own_variables({key: store[key] for key in keys if key != "seed_state"})


@keras.saving.register_keras_serializable(package="keras_ae")
class Corruption(SeedStateMixin, keras.layers.Layer):
    """Corrupts its input during training only (the denoising autoencoder).

    Args:
        noise: ``"gaussian"``, ``"dropout"`` or ``"salt_and_pepper"``.
        noise_level: Standard deviation (gaussian) or fraction of corrupted
            inputs (dropout, salt and pepper; in [0, 1)).
        seed: Optional integer seed of the layer's ``SeedGenerator``.
        **kwargs: Base layer arguments (``name``, ``dtype``...).

    Reference: Vincent et al., "Extracting and Composing Robust Features with
    Denoising Autoencoders", ICML 2008.
    """

    def __init__(self, noise="gaussian", noise_level=0.1, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.noise_level = _check_noise(noise, noise_level)
        self.noise = noise
        self.seed = seed
        self.seed_generator = ReplicaSeedGenerator(seed)
        self.supports_masking = True

    def call(self, inputs, training=False):
        if training and self.noise_level > 0:
            return _apply_noise(inputs, self.noise, self.noise_level, self.seed_generator)
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "noise": self.noise,
            "noise_level": self.noise_level,
            "seed": self.seed,
        }


@keras.saving.register_keras_serializable(package="keras_ae")
class SeededDropout(SeedStateMixin, keras.layers.Layer):
    """Dropout whose masks differ per replica and whose seed state is saved.

    Like ``keras.layers.Dropout`` (inverted dropout: in training, a fraction
    ``rate`` of the inputs is set to zero and the others are scaled by
    ``1 / (1 - rate)``; the identity otherwise), but the masks are drawn from
    a :class:`ReplicaSeedGenerator`, so each ``tf.distribute`` replica drops
    different units, and the generator's state is saved with the weights, so
    training resumed from a ``.keras`` file draws the masks the saved model
    would have drawn.

    Args:
        rate: Fraction of the inputs dropped, in [0, 1).
        seed: Optional non-negative integer seed of the layer's
            ``SeedGenerator``.
        **kwargs: Base layer arguments (``name``, ``dtype``...).

    Example:

    ```python
    x = keras_ae.layers.SeededDropout(0.2, seed=0)(x, training=True)
    ```
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = v.check_float("rate", rate, low=0, high=1, high_open=True)
        self.seed = v.check_int("seed", seed, minimum=0) if seed is not None else None
        self.seed_generator = ReplicaSeedGenerator(seed)
        self.supports_masking = True

    def call(self, inputs, training=False):
        if training and self.rate > 0:
            return keras.random.dropout(inputs, self.rate, seed=self.seed_generator)
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


@keras.saving.register_keras_serializable(package="keras_ae")
class GaussianPosterior(SeedStateMixin, keras.layers.Layer):
    """Diagonal Gaussian posterior q(z|x) with the reparameterization trick.

    Takes ``[loc, raw_scale]``, shapes ``(batch, latent_dim)``; the scale is
    ``softplus(raw_scale) + 1e-4`` so it is positive and never collapses to
    zero. In training the layer returns a sample ``z = loc + scale * eps``
    with ``eps ~ N(0, I)`` (the gradient flows through ``loc`` and
    ``scale``); otherwise it returns ``loc``.

    In the keras_ae VAEs the KL term belongs to the model
    (:class:`~keras_ae.models.VariationalAutoencoder`, whose ``beta`` is a
    variable). In a model of your own, pass ``beta`` and the layer adds
    ``beta * KL(q(z|x) || N(0, I))``, averaged over the batch, with
    ``add_loss``.

    Args:
        beta: ``None`` (no loss added, the default) or the non-negative
            weight of the KL loss the layer adds.
        seed: Optional integer seed of the layer's ``SeedGenerator``.
        **kwargs: Base layer arguments.

    Reference: Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014.
    """

    def __init__(self, beta=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.beta = None if beta is None else v.check_float("beta", beta, low=0)
        self.seed = v.check_int("seed", seed, minimum=0) if seed is not None else None
        self.seed_generator = ReplicaSeedGenerator(seed)

    @staticmethod
    def scale(raw_scale):
        """The standard deviation ``softplus(raw_scale) + 1e-4``."""
        return ops.softplus(raw_scale) + SCALE_FLOOR

    def distribution(self, loc, raw_scale):
        """Returns q(z|x) as a ``tfp.distributions.MultivariateNormalDiag``."""
        from keras_ae._tfp import tfd

        return tfd.MultivariateNormalDiag(loc=loc, scale_diag=self.scale(raw_scale))

    @staticmethod
    def prior(latent_dim, dtype="float32"):
        """Returns the standard normal prior p(z)."""
        from keras_ae._tfp import tfd

        zeros = ops.zeros((latent_dim,), dtype=dtype)
        return tfd.MultivariateNormalDiag(loc=zeros, scale_diag=ops.ones_like(zeros))

    @staticmethod
    def kl_per_dimension(loc, raw_scale):
        """``KL(q(z_j|x) || N(0, 1))`` per example and dimension, in nats (closed form)."""
        scale = GaussianPosterior.scale(raw_scale)
        return 0.5 * (ops.square(scale) + ops.square(loc) - 1.0) - ops.log(scale)

    def call(self, inputs, training=False):
        loc, raw_scale = inputs
        if self.beta:
            kl = ops.sum(self.kl_per_dimension(loc, raw_scale), axis=-1)
            self.add_loss(self.beta * ops.mean(kl))
        if training:
            eps = keras.random.normal(ops.shape(loc), seed=self.seed_generator, dtype=loc.dtype)
            return loc + self.scale(raw_scale) * eps
        return loc

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "beta": self.beta, "seed": self.seed}


@keras.saving.register_keras_serializable(package="keras_ae")
class ClusteringLayer(keras.layers.Layer):
    """Soft assignments of codes to cluster centroids by a Student's t kernel (DEC).

    For a code ``z_i`` and centroids ``mu_j`` (the layer's weights, shape
    ``(n_clusters, latent_dim)``), ``q_ij`` is proportional to
    ``(1 + ||z_i - mu_j||^2 / alpha) ** (-(alpha + 1) / 2)``, normalized over
    ``j``: the probability of assigning example ``i`` to cluster ``j``.

    Args:
        n_clusters: Number of clusters, at least 2.
        alpha: Degrees of freedom of the Student's t distribution (1 in Xie
            et al.).
        **kwargs: Base layer arguments (``name``, ``dtype``...).

    Input shape: ``(batch, latent_dim)``. Output shape: ``(batch, n_clusters)``,
    rows summing to 1, in the layer's dtype (float32 in the DEC model).

    Reference: Xie, Girshick & Farhadi, "Unsupervised Deep Embedding for
    Clustering Analysis", ICML 2016, Eq. 1.

    Example:

    ```python
    q = keras_ae.layers.ClusteringLayer(10)(codes)   # (batch, 10)
    ```
    """

    def __init__(self, n_clusters, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.n_clusters = v.check_int("n_clusters", n_clusters, minimum=2)
        self.alpha = v.check_float("alpha", alpha, low=0, low_open=True)

    def build(self, input_shape):
        self.centroids = self.add_weight(shape=(self.n_clusters, int(input_shape[-1])),
                                         initializer="glorot_uniform", name="centroids")

    def call(self, codes):
        codes = ops.cast(codes, self.centroids.dtype)
        distances = ops.sum(ops.square(ops.expand_dims(codes, 1) - self.centroids), axis=-1)
        kernel = ops.power(1.0 + distances / self.alpha, -(self.alpha + 1.0) / 2.0)
        return kernel / ops.sum(kernel, axis=-1, keepdims=True)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n_clusters)

    def get_config(self):
        return {**super().get_config(), "n_clusters": self.n_clusters, "alpha": self.alpha}


def kl_sparsity(codes, target, sample_weight=None):
    """``sum_j KL(rho || rho_hat_j)``, ``rho_hat_j`` the (weighted) batch mean of unit ``j``.

    Args:
        codes: Sigmoid activations, shape ``(batch, units)``.
        target: The target mean activation ``rho`` in (0, 1).
        sample_weight: Optional weights ``(batch,)`` of the batch mean.

    Returns:
        A scalar, in nats.
    """
    codes = ops.cast(codes, "float32")
    if sample_weight is None:
        rho_hat = ops.mean(codes, axis=0)
    else:
        w = ops.reshape(ops.cast(sample_weight, "float32"), (-1, 1))
        rho_hat = ops.sum(w * codes, axis=0) / ops.maximum(ops.sum(w), EPS)
    rho_hat = ops.clip(rho_hat, EPS, 1 - EPS)
    rho = target
    return ops.sum(rho * ops.log(rho / rho_hat) + (1 - rho) * ops.log((1 - rho) / (1 - rho_hat)))


@keras.saving.register_keras_serializable(package="keras_ae")
class KLSparsity(keras.regularizers.Regularizer):
    """Sparsity penalty ``weight * sum_j KL(rho || rho_hat_j)`` on sigmoid codes.

    ``rho_hat_j`` is the mean activation of unit ``j`` over the batch. Keras 3
    divides activity-regularizer losses by the batch size, so this returns
    the penalty multiplied by the batch size: the loss that reaches the
    optimizer is exactly ``weight * sum_j KL(rho || rho_hat_j)``.

    Args:
        target: Target mean activation ``rho`` in (0, 1), e.g. 0.05.
        weight: Non-negative weight of the penalty.

    Reference: Ng, "Sparse autoencoder", CS294A lecture notes, 2011.
    """

    def __init__(self, target=0.05, weight=1.0):
        self.target = v.check_float("target", target, low=0, high=1, low_open=True, high_open=True)
        self.weight = v.check_float("sparsity_weight", weight, low=0)

    def divergence(self, activations):
        """Returns ``sum_j KL(rho || rho_hat_j)`` for a batch of activations."""
        return kl_sparsity(activations, self.target)

    def __call__(self, activations):
        batch_size = ops.cast(ops.shape(activations)[0], "float32")
        return self.weight * self.divergence(activations) * batch_size

    def get_config(self):
        return {"target": self.target, "weight": self.weight}
