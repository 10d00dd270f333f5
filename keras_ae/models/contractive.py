"""The contractive autoencoder and its Jacobian penalty."""

import keras
import tensorflow as tf
from keras import ops

from keras_ae import _validation as v
from keras_ae._registry import register_model
from keras_ae.layers import ReplicaSeedGenerator, SeedStateMixin
from keras_ae.models import _blocks
from keras_ae.models._base import Autoencoder

JACOBIANS = ("closed_form", "exact", "hutchinson")


def _sum_per_example(x):
    x = ops.cast(x, "float32")
    return ops.sum(ops.reshape(ops.square(x), (ops.shape(x)[0], -1)), axis=1)


@keras.saving.register_keras_serializable(package="keras_ae")
class ContractiveAutoencoder(SeedStateMixin, Autoencoder):
    """Autoencoder trained with a Frobenius-norm Jacobian penalty.

    Terms per example: ``"reconstruction"`` and ``"contraction"``,
    ``||J_f(x)||_F^2`` where ``f`` is the sub-model ``"encoder"`` and ``J_f``
    its Jacobian with respect to the input; the loss is ``reconstruction +
    contraction_weight * contraction``. The Jacobian comes from
    ``tf.GradientTape``:

    - ``"exact"``: ``tape.batch_jacobian``, any encoder.
    - ``"closed_form"``: for a one-layer encoder ``h = s(W x + b)`` with an
      elementwise activation, ``||J||_F^2 = sum_j s'(a_j)^2 sum_i W_ij^2``,
      with ``s'`` read from the tape (so any activation works). Exact, and
      costs about one extra elementwise gradient.
    - ``"hutchinson"``: ``||v^T J||^2`` with ``v ~ N(0, I)``: an unbiased
      estimate of ``||J||_F^2`` from one vector-Jacobian product per probe,
      for deep encoders.

    The penalty is computed in float32 (so it trains under mixed precision)
    and scaled for ``tf.distribute`` by the base class.

    Args:
        *args: ``inputs`` and ``outputs`` of the Functional model.
        jacobian: ``"exact"``, ``"closed_form"`` or ``"hutchinson"``.
        probes: Number of random probes of ``"hutchinson"``.
        seed: Optional integer seed of the probes.
        **kwargs: :class:`~keras_ae.models.Autoencoder` arguments.

    Reference: Rifai et al., "Contractive Auto-Encoders: Explicit Invariance
    During Feature Extraction", ICML 2011.
    """

    HYPERPARAMETERS = ("contraction_weight",)
    TERM_WEIGHTS = {"contraction": "contraction_weight"}
    TERMS = ("reconstruction", "contraction")

    def __init__(self, *args, jacobian="exact", probes=1, seed=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.jacobian = v.check_choice("jacobian", jacobian, JACOBIANS)
        self.probes = v.check_int("probes", probes)
        self.seed = seed
        self.seed_generator = ReplicaSeedGenerator(seed)

    def jacobian_norm(self, x, training=False):
        """Returns ``(codes, ||J_f(x)||_F^2 per example)`` for a batch ``x``; the norms are float32."""
        x = ops.convert_to_tensor(x, dtype=self.compute_dtype)
        encoder = self.get_layer("encoder")
        if self.jacobian == "closed_form":
            code = encoder.get_layer("encoder_code")
            kernel = ops.cast(code.kernel, "float32")
            flat = ops.cast(ops.reshape(x, (ops.shape(x)[0], -1)), "float32")
            pre = ops.matmul(flat, kernel) + ops.cast(code.bias, "float32")
            with tf.GradientTape() as tape:
                tape.watch(pre)
                h = code.activation(pre)
            slope = tape.gradient(h, pre)  # s'(a), since s acts elementwise
            column_norms = ops.sum(ops.square(kernel), axis=0)
            return h, ops.sum(ops.square(slope) * column_norms, axis=1)
        with tf.GradientTape(persistent=self.probes > 1) as tape:
            tape.watch(x)
            h = encoder(x, training=training)
        if self.jacobian == "exact":
            return h, _sum_per_example(tape.batch_jacobian(h, x))
        total = 0.0
        for _ in range(self.probes):
            probe = keras.random.normal(ops.shape(h), seed=self.seed_generator, dtype=h.dtype)
            total += _sum_per_example(tape.gradient(h, x, output_gradients=probe))
        return h, total / self.probes

    def loss_terms(self, x, y, training=False):
        codes, norms = self.jacobian_norm(x, training=training)
        reconstruction = self.reconstruction_nll(y, self.decoder_params(codes, training))
        return {"reconstruction": reconstruction, "contraction": norms}

    def get_config(self):
        return {**super().get_config(), "jacobian": self.jacobian, "probes": self.probes, "seed": self.seed}


@register_model(
    options={
        "contraction_weight": v.Real(low=0),
        "jacobian": v.OrNone(v.OneOf(*JACOBIANS)),
        "probes": v.Integer(1),
        "hidden": v.IntTuple(),
    },
)
def contractive(
    *,
    input_shape,
    latent_dim,
    contraction_weight=0.1,
    jacobian=None,
    probes=1,
    hidden=(),
    activation="sigmoid",
    likelihood="bernoulli",
    learning_rate=1e-3,
    seed=None,
    compile=True,
):
    """Contractive autoencoder: penalize the encoder's Jacobian.

    Adds ``contraction_weight * ||J_f(x)||_F^2`` to the reconstruction loss so
    the code changes little under small input perturbations (see
    :class:`ContractiveAutoencoder`). With ``hidden=()`` the encoder is one
    Dense layer with ``activation``, as in Rifai et al., "Contractive
    Auto-Encoders: Explicit Invariance During Feature Extraction", ICML 2011.

    Args:
        input_shape: Shape of one example.
        latent_dim: Positive integer, size of the code.
        contraction_weight: Non-negative weight ``lambda`` of the penalty.
        jacobian: ``"exact"``, ``"closed_form"`` (one-layer encoders only) or
            ``"hutchinson"``; ``None`` picks the fastest exact path:
            ``"closed_form"`` when ``hidden=()``, else ``"exact"``.
        probes: Random probes per step for ``"hutchinson"``.
        hidden: Hidden widths before the code layer.
        activation: Activation of the hidden and code layers.
        likelihood: ``"bernoulli"`` or ``"gaussian"``.
        learning_rate: Adam's learning rate.
        seed: Optional integer seed of the Hutchinson probes.
        compile: Whether to compile the model.

    Returns:
        A :class:`ContractiveAutoencoder` named ``"contractive"`` with
        sub-models ``"encoder"`` and ``"decoder"``.

    Example:

    ```python
    model = keras_ae.build("contractive", input_shape=(64,), latent_dim=32,
                           contraction_weight=0.1)
    model.fit(x, x, epochs=20)
    ```
    """
    if jacobian is None:
        jacobian = "exact" if hidden else "closed_form"
    if jacobian == "closed_form" and hidden:
        raise v.invalid(
            "jacobian", "'exact' or 'hutchinson' for an encoder with hidden layers "
            "('closed_form' needs hidden=())", jacobian,
        )
    encoder = _blocks.dense_encoder(input_shape, latent_dim, hidden, activation, code_activation=activation)
    decoder = _blocks.dense_decoder(latent_dim, input_shape, hidden, activation, likelihood)
    model = _blocks.assemble(
        encoder, decoder, name="contractive", model_class=ContractiveAutoencoder, likelihood=likelihood,
        jacobian=jacobian, probes=probes, seed=seed, hyperparameters={"contraction_weight": contraction_weight},
    )
    if compile:
        _blocks.compile_model(model, learning_rate)
    return model
