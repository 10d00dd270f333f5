"""Semantic hashing: binary codes of documents, ``semantic_hashing``.

A deep autoencoder of word counts whose code layer is made binary: during
training, Gaussian noise is added to the input of the logistic code units,
so that only codes far from 0.5 carry information through the noise and
the units learn to saturate; after training the codes are thresholded at
0.5. Documents are then retrieved by the Hamming distance of their codes
(with few bits, by looking up the documents of nearby addresses).

The decoder is a softmax over the vocabulary and the reconstruction term is
the multinomial negative log-likelihood of the counts, ``-sum_w n_w log p_w``
(nats per document, up to the multinomial coefficient that does not depend
on the model): the constrained Poisson model of the paper with the document
length given.

Reference: Salakhutdinov & Hinton, "Semantic hashing", International Journal
of Approximate Reasoning 50(7), 2009 (and SIGIR workshop 2007).
"""

import keras
import numpy as np
from keras import layers, ops

from keras_ae import _validation as v
from keras_ae._registry import register_model
from keras_ae.data import sparse_dataset
from keras_ae.layers import Corruption
from keras_ae.models import _blocks
from keras_ae.models._base import Autoencoder


def _float32(x):
    return ops.cast(x, "float32")


def _is_sparse(x):
    import scipy.sparse

    return scipy.sparse.issparse(x)


@keras.saving.register_keras_serializable(package="keras_ae")
class Log1p(keras.layers.Layer):
    """``log(1 + x)``: word counts brought to a scale a dense layer takes."""

    def call(self, inputs):
        return ops.log1p(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape


@keras.saving.register_keras_serializable(package="keras_ae")
class SemanticHashing(Autoencoder):
    """An autoencoder of word counts with noisy logistic code units, thresholded into bits.

    Term: ``"reconstruction"``, the multinomial negative log-likelihood of
    the counts under the decoder's softmax, in nats per document.

    Training data: ``fit(counts)`` with a ``scipy.sparse`` or dense array of
    word counts ``(n_documents, vocabulary)`` (non-negative), or a
    ``tf.data.Dataset`` of such batches.

    Args:
        *args: Functional model arguments.
        **kwargs: :class:`~keras_ae.models.Autoencoder` arguments.
    """

    LIKELIHOODS = ("multinomial",)

    def reconstruction_nll(self, y, params):
        y = _float32(ops.reshape(y, (ops.shape(y)[0], -1)))
        logits = _float32(ops.reshape(params, (ops.shape(params)[0], -1)))
        return -ops.sum(y * ops.log_softmax(logits, axis=-1), axis=-1)

    def _check_batch(self, x, y, sample_weight):
        import tensorflow as tf

        checks = super()._check_batch(x, y, sample_weight)
        checks.append(tf.debugging.Assert(ops.min(_float32(x)) >= 0.0, [
            "Invalid value for 'x': expected non-negative word counts. Received a batch with values from",
            ops.min(_float32(x)),
        ]))
        return checks

    def _check_arrays(self, x, y=None, where=""):
        super()._check_arrays(x, y, where)
        if isinstance(x, np.ndarray) and x.size and x.min() < 0:
            raise v.invalid(f"x{where}", "non-negative word counts",
                            v.Shown(f"<array with minimum {float(x.min())}>"))

    @property
    def n_bits(self):
        """The number of bits of a code (``latent_dim``)."""
        return self.latent_dim

    def fit(self, x=None, y=None, *args, batch_size=None, shuffle=True, seed=0, validation_data=None, **kwargs):
        """``Autoencoder.fit``; a ``scipy.sparse`` ``x`` is densified one batch at a time.

        ``validation_data`` may be a sparse matrix too. ``seed`` seeds the
        shuffle of a sparse ``x``; other arguments are Keras'.
        """
        if batch_size is not None:
            batch_size = v.check_int("batch_size", batch_size)
        if _is_sparse(x):
            if y is not None:
                raise v.invalid("y", "None with a sparse x (the target is x itself)",
                                v.Shown(f"<{type(y).__name__}>"))
            if x.shape[0] == 0:
                raise v.invalid("x", "at least one document", v.Shown(f"<sparse matrix of shape {x.shape}>"))
            x = sparse_dataset(self._counts(x, "x"), batch_size=batch_size or 32, shuffle=shuffle, seed=seed)
            batch_size, shuffle = None, False
        if _is_sparse(validation_data):
            validation_data = sparse_dataset(self._counts(validation_data, "validation_data"),
                                             batch_size=batch_size or 256, shuffle=False)
        return super().fit(x, y, *args, batch_size=batch_size, shuffle=shuffle, validation_data=validation_data,
                           **kwargs)

    def evaluate(self, x=None, y=None, *args, batch_size=None, **kwargs):
        """``Autoencoder.evaluate``; a ``scipy.sparse`` ``x`` is densified one batch at a time."""
        if batch_size is not None:
            batch_size = v.check_int("batch_size", batch_size)
        if _is_sparse(x):
            x = sparse_dataset(self._counts(x, "x"), batch_size=batch_size or 256, shuffle=False)
            batch_size = None
        return super().evaluate(x, y, *args, batch_size=batch_size, **kwargs)

    def _counts(self, x, name):
        width = int(np.prod(self.input_shape[1:]))
        if x.ndim != 2 or x.shape[1] != width:
            raise v.invalid(name, f"word counts of shape (n_documents, {width})",
                            v.Shown(f"<sparse matrix of shape {x.shape}>"))
        values = x.tocsr().data if x.nnz else np.zeros(0)
        if not np.all(np.isfinite(values)):
            raise v.invalid(name, "finite word counts",
                            v.Shown(f"<sparse matrix with {int(np.sum(~np.isfinite(values)))} NaN or infinite values>"))
        if x.nnz and x.min() < 0:
            raise v.invalid(name, "non-negative word counts", v.Shown(f"<sparse matrix with minimum {x.min()}>"))
        return x

    def predict_codes(self, x, batch_size=256):
        """Real-valued codes in (0, 1), ``(n, n_bits)`` (the logistic units, no noise)."""
        batch_size = v.check_int("batch_size", batch_size)
        if _is_sparse(x):
            x = self._counts(x, "x")
            return np.concatenate([
                self.get_layer("encoder").predict_on_batch(x[i:i + batch_size].toarray().astype("float32"))
                for i in range(0, x.shape[0], batch_size)
            ]) if x.shape[0] else np.zeros((0, self.n_bits), "float32")
        return super().predict_codes(x, batch_size=batch_size)

    def predict_hashes(self, x, batch_size=256):
        """Binary codes: the logistic code units thresholded at 0.5, ``uint8`` ``(n, n_bits)`` of 0s and 1s."""
        return (self.predict_codes(x, batch_size=batch_size) > 0.5).astype("uint8")


@register_model(
    options={
        "hidden": v.IntTuple(),
        "noise_level": v.Real(low=0),
        "likelihood": v.OneOf("multinomial"),
    },
    default_latent_dim=32,
)
def semantic_hashing(
    *,
    input_shape,
    latent_dim=32,
    hidden=(500, 500),
    noise_level=4.0,
    activation="relu",
    likelihood="multinomial",
    learning_rate=1e-3,
    seed=None,
    compile=True,
):
    """Semantic hashing (Salakhutdinov & Hinton 2009): binary codes of bags of words.

    Encoder ``log(1 + counts) -> hidden -> latent_dim`` logistic code units,
    with Gaussian noise of standard deviation ``noise_level`` added to their
    input in training (what makes them binary); decoder the mirror, ending in
    a softmax over the vocabulary. See :class:`SemanticHashing`.

    Args:
        input_shape: ``(vocabulary,)``.
        latent_dim: The number of bits of a code.
        hidden: Hidden widths of the encoder (reversed in the decoder).
        noise_level: Standard deviation of the noise on the code units'
            input during training (0 for a plain logistic code).
        activation: Activation of the hidden layers.
        likelihood: ``"multinomial"`` only: the counts' negative
            log-likelihood under the decoder's softmax.
        learning_rate: Adam's learning rate.
        seed: Optional seed of the noise.
        compile: Whether to compile the model.

    Returns:
        A :class:`SemanticHashing` named ``"semantic_hashing"``, with
        sub-models ``"encoder"`` (counts to codes in (0, 1)) and ``"decoder"``
        (codes to word probabilities).

    Raises:
        ValueError: For a bad option.

    Example:

    ```python
    (x_train, y_train), (x_test, y_test), words = keras_ae.data.load_20newsgroups()
    model = keras_ae.build("semantic_hashing", input_shape=(2000,), latent_dim=32)
    model.fit(x_train, epochs=20, batch_size=64)
    bits = model.predict_hashes(x_test)      # uint8 (7532, 32)
    ```
    """
    inputs = keras.Input(shape=input_shape, name="encoder_input")
    x = Log1p(name="encoder_log1p")(inputs)
    if len(input_shape) > 1:
        x = layers.Flatten(name="encoder_flatten")(x)
    x = _blocks.dense_stack(x, hidden, activation, "encoder")
    x = layers.Dense(latent_dim, name="encoder_code_logits")(x)
    x = Corruption("gaussian", noise_level, seed=seed, name="encoder_code_noise")(x)
    codes = layers.Activation("sigmoid", name="encoder_code")(x)
    encoder = keras.Model(inputs, codes, name="encoder")

    code_input = keras.Input(shape=(latent_dim,), name="decoder_input")
    x = _blocks.dense_stack(code_input, tuple(reversed(hidden)), activation, "decoder")
    x = layers.Dense(int(np.prod(input_shape)), name="decoder_logits")(x)
    # One softmax over the whole vocabulary, in float32 even under mixed
    # precision (the loss reads the logits before it).
    words = layers.Activation("softmax", name="decoder_output", dtype="float32")(x)
    if len(input_shape) > 1:
        words = layers.Reshape(input_shape, name="decoder_reshape", dtype="float32")(words)
    decoder = keras.Model(code_input, words, name="decoder")
    model = _blocks.assemble(encoder, decoder, name="semantic_hashing", model_class=SemanticHashing,
                             likelihood=likelihood)
    if compile:
        _blocks.compile_model(model, learning_rate)
    return model
