"""AutoRec: collaborative filtering with an autoencoder, ``autorec``.

Each example is one row of a partly observed ratings matrix: an item's
ratings by every user (item-based, I-AutoRec) or a user's ratings of every
item (user-based, U-AutoRec), with 0 where no rating was given. The network
is one hidden layer, ``h(r) = f(W g(V r + mu) + b)`` with ``g`` a sigmoid and
``f`` the identity, and the objective is the squared error over the
*observed* entries only plus weight decay (Sedhain et al. 2015, Eq. 2):

    sum_i ||r_i - h(r_i)||^2_O + (lambda / 2) (||W||_F^2 + ||V||_F^2).

The rating of user ``u`` for item ``i`` is read off the reconstruction:
``h(r_i)_u`` for I-AutoRec, ``h(r_u)_i`` for U-AutoRec, clipped to the rating
scale; a user or item with no training rating gets ``default_rating``.

Reference: Sedhain, Menon, Sanner & Xie, "AutoRec: Autoencoders Meet
Collaborative Filtering", WWW 2015 (companion).
"""

import keras
import numpy as np
from keras import ops

from keras_ae import _validation as v
from keras_ae._registry import register_model
from keras_ae.data import sparse_dataset
from keras_ae.models import _blocks
from keras_ae.models._base import Autoencoder

BASED = ("item", "user")


def _float32(x):
    return ops.cast(x, "float32")


def _is_sparse(x):
    try:
        import scipy.sparse
    except ImportError:  # pragma: no cover - scipy is a dependency
        return False
    return scipy.sparse.issparse(x)


def masked_squared_error(y, prediction):
    """``||y - prediction||^2_O`` per example: the squared error over the entries where ``y != 0``.

    Args:
        y: Ratings ``(batch, n)``, 0 where unobserved.
        prediction: Reconstructions ``(batch, n)``.

    Returns:
        A float32 tensor ``(batch,)`` (squared rating units).
    """
    y, prediction = _float32(y), _float32(prediction)
    mask = _float32(ops.not_equal(y, 0.0))
    return ops.sum(mask * ops.square(y - prediction), axis=-1)


@keras.saving.register_keras_serializable(package="keras_ae")
class AutoRec(Autoencoder):
    """An autoencoder of the rows of a ratings matrix, trained on the observed entries only.

    Terms: ``"reconstruction"``, the squared error over the observed (non-zero)
    entries of the target row (squared rating units), and ``"weight_decay"``,
    ``(||W||_F^2 + ||V||_F^2) / 2`` of the code and output kernels, the same
    value for every example, weighted by the hyperparameter ``weight_decay``.
    The objective of a batch is the mean of the first plus ``weight_decay``
    times the second, so the paper's full-data ``lambda`` is ``weight_decay``
    times the number of training rows.

    Training data: ``fit(ratings)`` with a ``scipy.sparse`` ratings matrix of
    shape ``(n_users, n_items)`` (rows are users whatever ``based`` is: the
    model takes its transpose for I-AutoRec), or a dense array or a
    ``tf.data.Dataset`` whose examples are already the model's rows.
    ``validation_data=(train, test)``, two sparse ratings matrices, scores
    the reconstruction of the training rows on the held-out ratings.

    Args:
        *args: Functional model arguments.
        based: ``"item"`` (I-AutoRec: each example is an item's ratings by
            the users) or ``"user"`` (U-AutoRec).
        min_rating: Lowest rating of the scale (predictions are clipped to it).
        max_rating: Highest rating of the scale.
        default_rating: The prediction for a user or an item with no rating
            in the training matrix.
        **kwargs: :class:`~keras_ae.models.Autoencoder` arguments.
    """

    HYPERPARAMETERS = ("weight_decay",)
    TERM_WEIGHTS = {"weight_decay": "weight_decay"}
    TERMS = ("reconstruction", "weight_decay")

    def __init__(self, *args, based="item", min_rating=1.0, max_rating=5.0, default_rating=3.0, **kwargs):
        kwargs.setdefault("likelihood", "gaussian")
        super().__init__(*args, **kwargs)
        self.based = v.check_choice("based", based, BASED)
        self.min_rating = v.check_float("min_rating", min_rating)
        self.max_rating = v.check_float("max_rating", max_rating)
        if self.max_rating <= self.min_rating:
            raise v.invalid("max_rating", f"a rating above min_rating={self.min_rating}", max_rating)
        self.default_rating = v.check_float("default_rating", default_rating, low=self.min_rating,
                                            high=self.max_rating)

    def _kernels(self):
        return [self.get_layer("encoder").get_layer("encoder_code").kernel,
                self.get_layer("decoder").get_layer("decoder_logits").kernel]

    def loss_terms(self, x, y, training=False):
        prediction = self(x, training=training)
        flat = (-1, int(np.prod(prediction.shape[1:])))
        error = masked_squared_error(ops.reshape(y, flat), ops.reshape(prediction, flat))
        decay = 0.5 * sum(ops.sum(ops.square(_float32(k))) for k in self._kernels())
        return {"reconstruction": error, "weight_decay": ops.ones_like(error) * decay}

    # ------------------------------------------------------------------
    # Ratings matrices in, ratings out

    @property
    def n_inputs(self):
        """The length of one row: the number of users (I-AutoRec) or items (U-AutoRec)."""
        return int(np.prod(self.input_shape[1:]))

    def rows(self, ratings, name="ratings"):
        """The model's examples of a ``(n_users, n_items)`` sparse ratings matrix, as CSR rows.

        Raises:
            ValueError: If ``ratings`` is not a sparse matrix whose rows have
                the model's input length.
        """
        if not _is_sparse(ratings):
            raise v.invalid(name, "a scipy.sparse ratings matrix of shape (n_users, n_items)",
                            v.Shown(f"<{type(ratings).__name__}>"))
        rows = ratings.T.tocsr() if self.based == "item" else ratings.tocsr()
        if rows.shape[1] != self.n_inputs:
            axis = "users" if self.based == "item" else "items"
            raise v.invalid(
                name, f"a ratings matrix (n_users, n_items) with {self.n_inputs} {axis}, the model's input length",
                v.Shown(f"<sparse matrix of shape {ratings.shape}>"),
                "The rows of the matrix are users, its columns items, for both kinds of AutoRec",
            )
        data = rows.data
        if not np.all(np.isfinite(data)) or (data.size and (data.min() < self.min_rating
                                                           or data.max() > self.max_rating)):
            raise v.invalid(name, f"finite ratings in [{self.min_rating}, {self.max_rating}] where observed",
                            v.Shown(f"<ratings in [{data.min()}, {data.max()}]>"))
        return rows

    def _check_arrays(self, x, y=None, where=""):
        super()._check_arrays(x, y, where)
        if isinstance(x, np.ndarray) and np.issubdtype(x.dtype, np.number):
            observed = x[x != 0]
            if observed.size and (observed.min() < self.min_rating or observed.max() > self.max_rating):
                raise v.invalid(f"x{where}", f"ratings in [{self.min_rating}, {self.max_rating}] where observed "
                                "(0 where unobserved)",
                                v.Shown(f"<array with ratings in [{observed.min()}, {observed.max()}]>"))

    def fit(self, x=None, y=None, *args, batch_size=None, shuffle=True, seed=0, validation_data=None,
            **kwargs):
        """``Autoencoder.fit``; a sparse ratings matrix ``x`` is fed one dense batch at a time.

        Args:
            x: A ``scipy.sparse`` ratings matrix ``(n_users, n_items)``, or
                what :meth:`keras_ae.models.Autoencoder.fit` takes.
            y: Must be ``None`` for a sparse ``x`` (the target is ``x``).
            batch_size: Rows per batch (default 32).
            shuffle: Whether to reshuffle the rows every epoch.
            seed: Seed of the shuffle of a sparse ``x``.
            validation_data: ``(train, test)`` sparse ratings matrices, or
                what Keras takes.
            *args: Further positional arguments of Keras ``fit``.
            **kwargs: Further keyword arguments of Keras ``fit``.
        """
        if batch_size is not None:
            batch_size = v.check_int("batch_size", batch_size)
        if _is_sparse(x):
            if y is not None:
                raise v.invalid("y", "None with a sparse ratings matrix x (the target is x itself)",
                                v.Shown(f"<{type(y).__name__}>"))
            rows = self.rows(x, "x")
            if rows.shape[0] == 0 or rows.nnz == 0:
                raise v.invalid("x", "a ratings matrix with at least one observed rating",
                                v.Shown(f"<sparse matrix of shape {x.shape} with {x.nnz} stored ratings>"))
            x = sparse_dataset(rows, batch_size=batch_size or 32, shuffle=shuffle, seed=seed)
            batch_size, shuffle = None, False
        validation_data = self._validation_dataset(validation_data, batch_size)
        return super().fit(x, y, *args, batch_size=batch_size, shuffle=shuffle, validation_data=validation_data,
                           **kwargs)

    def evaluate(self, x=None, y=None, *args, batch_size=None, **kwargs):
        """``Autoencoder.evaluate``; ``evaluate(train, test)`` with sparse matrices scores the held-out ratings."""
        if batch_size is not None:
            batch_size = v.check_int("batch_size", batch_size)
        if _is_sparse(x):
            x = self._validation_dataset((x, x if y is None else y), batch_size)
            y = batch_size = None
        return super().evaluate(x, y, *args, batch_size=batch_size, **kwargs)

    def _validation_dataset(self, data, batch_size):
        if isinstance(data, (tuple, list)) and len(data) == 2 and all(map(_is_sparse, data)):
            train, test = data
            if test.shape != train.shape:
                raise v.invalid("validation_data", f"(train, test) ratings matrices of one shape {train.shape}",
                                v.Shown(f"<matrices of shapes {train.shape} and {test.shape}>"))
            return sparse_dataset(self.rows(train, "validation_data[0]"), self.rows(test, "validation_data[1]"),
                                  batch_size=batch_size or 256, shuffle=False)
        return data

    def predict_ratings(self, train, users, items, batch_size=256):
        """Predicted ratings of ``(users[k], items[k])`` from the training ratings.

        Args:
            train: The training ratings, a sparse ``(n_users, n_items)`` matrix.
            users: User indices (rows of ``train``), shape ``(n,)``.
            items: Item indices (columns of ``train``), shape ``(n,)``.
            batch_size: Rows reconstructed at a time.

        Returns:
            A float64 array ``(n,)`` in ``[min_rating, max_rating]``; pairs
            whose user or item has no training rating get ``default_rating``.

        Raises:
            ValueError: For a bad matrix or indices out of range.
        """
        rows = self.rows(train, "train")
        batch_size = v.check_int("batch_size", batch_size)
        users = np.asarray(users)
        items = np.asarray(items)
        # An empty list is float64 to NumPy: no pairs, no predictions.
        users, items = (index.astype("int64") if index.size == 0 else index for index in (users, items))
        n_users, n_items = train.shape
        for name, index, size in (("users", users, n_users), ("items", items, n_items)):
            if index.ndim != 1 or not np.issubdtype(index.dtype, np.integer) or (
                    index.size and (index.min() < 0 or index.max() >= size)):
                raise v.invalid(name, f"a 1-D array of integer indices in [0, {size})",
                                v.Shown(f"<array of shape {index.shape}, dtype {index.dtype}>"))
        if users.shape != items.shape:
            raise v.invalid("items", f"as many indices as users ({users.size})", v.Shown(f"<{items.size} indices>"))
        row_ids, column_ids = (items, users) if self.based == "item" else (users, items)
        predictions = np.full(users.shape, self.default_rating, dtype="float64")
        unique = np.unique(row_ids)
        for start in range(0, unique.size, batch_size):
            chunk = unique[start:start + batch_size]
            output = self.predict_on_batch(rows[chunk].toarray().astype("float32"))
            output = np.asarray(output).reshape(len(chunk), -1)
            selected = np.isin(row_ids, chunk)
            position = np.searchsorted(chunk, row_ids[selected])
            predictions[selected] = output[position, column_ids[selected]]
        seen_users = np.diff(train.tocsr().indptr) > 0
        seen_items = np.diff(train.tocsc().indptr) > 0
        predictions[~(seen_users[users] & seen_items[items])] = self.default_rating
        return np.clip(predictions, self.min_rating, self.max_rating)

    def rmse(self, train, test, batch_size=256):
        """Root-mean-square error (rating units) of the predictions of ``test``'s observed ratings.

        Args:
            train: Training ratings ``(n_users, n_items)``, sparse (the input).
            test: Held-out ratings of the same shape, sparse.
            batch_size: Rows reconstructed at a time.

        Returns:
            A float: ``sqrt(mean over test ratings of (prediction - rating)^2)``.
        """
        self.rows(train, "train")
        if not _is_sparse(test) or test.shape != train.shape:
            raise v.invalid("test", f"a sparse ratings matrix of the training matrix's shape {train.shape}",
                            v.Shown(f"<{type(test).__name__} of shape {getattr(test, 'shape', None)}>"))
        self.rows(test, "test")  # the same scale as the training ratings, finite
        test = test.tocoo()
        if test.nnz == 0:
            raise v.invalid("test", "at least one observed rating", v.Shown("<empty matrix>"))
        predictions = self.predict_ratings(train, test.row, test.col, batch_size=batch_size)
        return float(np.sqrt(np.mean((predictions - test.data) ** 2)))

    def recommend(self, train, user, n=10, batch_size=256):
        """The ``n`` items with the highest predicted rating that ``user`` has not rated in ``train``.

        Items that nobody rated in ``train`` score ``default_rating`` (the
        model has seen nothing of them) and can rank first when the model's
        other predictions for ``user`` are lower.

        Args:
            train: The training ratings, a sparse ``(n_users, n_items)`` matrix.
            user: A user index (row of ``train``).
            n: How many items to return (all the unrated items when fewer).
            batch_size: Rows reconstructed at a time.

        Returns:
            ``(items, ratings)``: item indices (columns of ``train``) and their
            predicted ratings, best first (ties in item order).

        Raises:
            ValueError: For a bad matrix, user or ``n``.
        """
        self.rows(train, "train")
        n_users, n_items = train.shape
        user = v.check_int("user", user, minimum=0)
        if user >= n_users:
            raise v.invalid("user", f"a user index in [0, {n_users})", user)
        n = v.check_int("n", n, minimum=1)
        candidates = np.setdiff1d(np.arange(n_items), train.tocsr()[user].indices)
        scores = self.predict_ratings(train, np.full(candidates.shape, user), candidates, batch_size=batch_size)
        best = np.argsort(-scores, kind="stable")[:n]
        return candidates[best], scores[best]

    def get_config(self):
        return {**super().get_config(), "based": self.based, "min_rating": self.min_rating,
                "max_rating": self.max_rating, "default_rating": self.default_rating}


@register_model(
    options={
        "based": v.OneOf(*BASED),
        "weight_decay": v.Real(low=0),
        "min_rating": v.Real(),
        "max_rating": v.Real(),
        "default_rating": v.Real(),
        "likelihood": v.OneOf("gaussian"),
    },
    default_latent_dim=500,
)
def autorec(
    *,
    input_shape,
    latent_dim=500,
    based="item",
    weight_decay=1e-3,
    activation="sigmoid",
    min_rating=1.0,
    max_rating=5.0,
    default_rating=3.0,
    likelihood="gaussian",
    learning_rate=1e-3,
    compile=True,
):
    """AutoRec (Sedhain et al. 2015): an autoencoder of the rows of a ratings matrix.

    ``input_shape=(n_users,)`` for item-based AutoRec (I-AutoRec, the paper's
    better model), ``(n_items,)`` for user-based; ``latent_dim`` is the hidden
    layer (500 in the paper). See :class:`AutoRec` for the objective.

    Args:
        input_shape: ``(n_users,)`` for ``based="item"``, ``(n_items,)`` for ``"user"``.
        latent_dim: Hidden units.
        based: ``"item"`` or ``"user"``.
        weight_decay: ``lambda`` of the per-batch objective, the weight of
            ``(||W||^2 + ||V||^2) / 2`` (non-negative).
        activation: The hidden layer's activation ``g`` (the output is linear).
        min_rating: Lowest rating of the scale.
        max_rating: Highest rating of the scale.
        default_rating: The prediction for unseen users or items.
        likelihood: ``"gaussian"`` only: the squared error of the observed
            ratings is a Gaussian negative log-likelihood up to constants.
        learning_rate: Adam's learning rate.
        compile: Whether to compile the model.

    Returns:
        An :class:`AutoRec` named ``"autorec"``.

    Raises:
        ValueError: For a bad option (e.g. ``max_rating <= min_rating``).

    Example:

    ```python
    from keras_ae import data
    train, test = data.load_movielens("ml-100k", fold="u1")     # (943, 1682) sparse each
    model = keras_ae.build("autorec", input_shape=(943,), based="item")
    model.fit(train, epochs=50, batch_size=64)
    model.rmse(train, test)          # rating units
    ```
    """
    encoder = _blocks.dense_encoder(input_shape, latent_dim, (), activation, code_activation=activation)
    decoder = _blocks.dense_decoder(latent_dim, input_shape, (), activation, likelihood)
    model = _blocks.assemble(
        encoder, decoder, name="autorec", model_class=AutoRec, likelihood=likelihood, based=based,
        min_rating=min_rating, max_rating=max_rating, default_rating=default_rating,
        hyperparameters={"weight_decay": weight_decay},
    )
    if compile:
        _blocks.compile_model(model, learning_rate)
    return model
