"""AutoRec: the masked objective on hand-computed cases, sparse training, predictions, errors."""

import keras
import numpy as np
import pytest
import scipy.sparse

import keras_ae
from keras_ae.data import sparse_dataset
from keras_ae.models.recommender import masked_squared_error


def low_rank_ratings(n_users=60, n_items=40, rank=2, density=0.4, test_share=0.2, seed=0):
    """A synthetic ratings matrix of rank ``rank`` on the scale 1-5, split into train and test."""
    rng = np.random.default_rng(seed)
    full = np.clip(np.round(3 + rng.normal(size=(n_users, rank)) @ rng.normal(size=(rank, n_items))), 1, 5)
    observed = rng.uniform(size=full.shape) < density
    held_out = observed & (rng.uniform(size=full.shape) < test_share)
    train = scipy.sparse.csr_matrix(np.where(observed & ~held_out, full, 0).astype("float32"))
    test = scipy.sparse.csr_matrix(np.where(held_out, full, 0).astype("float32"))
    return train, test


def build(based="item", shape=(60, 40), **options):
    keras.utils.set_random_seed(0)
    n_inputs = shape[0] if based == "item" else shape[1]
    return keras_ae.build("autorec", input_shape=(n_inputs,), latent_dim=options.pop("latent_dim", 16),
                          based=based, **options)


def test_masked_squared_error_counts_the_observed_entries_only():
    y = np.array([[5.0, 0.0, 3.0], [0.0, 0.0, 1.0]], "float32")
    prediction = np.array([[4.0, 2.0, 3.5], [9.0, -9.0, 3.0]], "float32")
    # Row 0: (5-4)^2 + (3-3.5)^2 = 1.25; row 1: (1-3)^2 = 4 (the 9s are unobserved).
    np.testing.assert_allclose(np.asarray(masked_squared_error(y, prediction)), [1.25, 4.0])


def test_loss_terms_are_the_papers_objective():
    model = build(shape=(5, 3), latent_dim=4, weight_decay=0.1)
    x = np.array([[5, 0, 3, 0, 1], [0, 2, 0, 0, 4]], "float32")
    terms = model.loss_terms(x, x)
    output = model.predict(x, verbose=0)
    mask = x != 0
    np.testing.assert_allclose(np.asarray(terms["reconstruction"]), ((x - output) ** 2 * mask).sum(axis=1),
                               rtol=1e-5)
    kernels = [model.get_layer("encoder").get_layer("encoder_code").kernel,
               model.get_layer("decoder").get_layer("decoder_logits").kernel]
    decay = 0.5 * sum(float(np.sum(np.asarray(k) ** 2)) for k in kernels)
    np.testing.assert_allclose(np.asarray(terms["weight_decay"]), [decay, decay], rtol=1e-5)
    # The objective: mean reconstruction + weight_decay * decay.
    result = model.evaluate(x, x, verbose=0, return_dict=True)
    np.testing.assert_allclose(result["loss"], np.mean(((x - output) ** 2 * mask).sum(axis=1)) + 0.1 * decay,
                               rtol=1e-5)


def test_sparse_dataset_densifies_one_batch_of_rows_at_a_time():
    train, test = low_rank_ratings()
    batches = list(sparse_dataset(train, test, batch_size=16, shuffle=False))
    assert [tuple(x.shape) for x, _ in batches] == [(16, 40)] * 3 + [(12, 40)]
    np.testing.assert_array_equal(np.concatenate([x.numpy() for x, _ in batches]), train.toarray())
    np.testing.assert_array_equal(np.concatenate([y.numpy() for _, y in batches]), test.toarray())
    first = [b.numpy() for b in sparse_dataset(train, batch_size=60, seed=1)]
    again = [b.numpy() for b in sparse_dataset(train, batch_size=60, seed=1)]
    np.testing.assert_array_equal(first[0], again[0])  # seeded shuffle
    assert not np.array_equal(first[0], train.toarray())  # shuffled rows...
    np.testing.assert_array_equal(np.sort(first[0].sum(axis=1)), np.sort(train.toarray().sum(axis=1)))  # ...all
    with pytest.raises(ValueError, match=r"Invalid value for 'x': expected a 2-D scipy.sparse matrix. "
                                         r"Received: x=<ndarray>"):
        sparse_dataset(train.toarray(), batch_size=4)
    with pytest.raises(ValueError, match=r"Invalid value for 'y': expected a sparse matrix of the shape of x"):
        sparse_dataset(train, test[:5], batch_size=4)
    bad = train.copy()
    bad.data[0] = np.nan
    with pytest.raises(ValueError, match="expected finite values. Received: x=<sparse matrix with 1 NaN"):
        sparse_dataset(bad, batch_size=4)


@pytest.mark.parametrize("based", ["item", "user"])
def test_trained_on_a_sparse_matrix_autorec_beats_the_global_mean(based):
    train, test = low_rank_ratings()
    model = build(based, latent_dim=16, learning_rate=1e-2, weight_decay=1e-3)
    before = model.rmse(train, test)
    history = model.fit(train, epochs=60, batch_size=8, verbose=0, validation_data=(train, test))
    after = model.rmse(train, test)
    global_mean = float(np.sqrt(np.mean((test.data - train.data.mean()) ** 2)))
    assert history.history["loss"][-1] < history.history["loss"][0] / 5
    assert after < before and after < 0.9 * global_mean, (before, after, global_mean)
    assert "val_reconstruction" in history.history


def test_item_based_model_reads_the_columns_of_the_ratings_matrix():
    train, _ = low_rank_ratings()
    model = build("item")
    rows = model.rows(train)
    assert rows.shape == (40, 60)
    np.testing.assert_array_equal(rows.toarray(), train.toarray().T)
    # Predicting (user 3, item 7) reconstructs item 7's row and reads entry 3.
    output = model.predict(rows[7].toarray(), verbose=0)[0]
    expected = np.clip(output[3], 1, 5)
    np.testing.assert_allclose(model.predict_ratings(train, [3], [7]), [expected], rtol=1e-6)


def test_predictions_are_clipped_and_unseen_users_get_the_default_rating():
    train, _ = low_rank_ratings()
    train = train.tolil()
    train[5, :] = 0  # user 5 has no training rating
    train = train.tocsr()
    train.eliminate_zeros()
    model = build("item", default_rating=2.5)
    model.get_layer("decoder").get_layer("decoder_logits").bias.assign(np.full(60, 100.0, "float32"))
    predictions = model.predict_ratings(train, np.array([0, 5, 9]), np.array([1, 1, 2]))
    np.testing.assert_array_equal(predictions, [5.0, 2.5, 5.0])  # 100 clipped to the scale's top


def test_recommend_returns_unrated_items_best_first():
    train, _ = low_rank_ratings()
    model = build("user")
    items, scores = model.recommend(train, user=2, n=5)
    assert len(items) == 5 and np.all(np.diff(scores) <= 0)
    assert not set(items) & set(train[2].indices)
    np.testing.assert_allclose(scores, model.predict_ratings(train, np.full(5, 2), items))


def test_save_and_load_keep_the_predictions_and_the_options(tmp_path):
    train, test = low_rank_ratings()
    model = build("user", default_rating=2.0, min_rating=0.5)
    model.fit(train, epochs=2, batch_size=16, verbose=0)
    model.save(tmp_path / "autorec.keras")
    loaded = keras.models.load_model(tmp_path / "autorec.keras")
    assert (loaded.based, loaded.default_rating, loaded.min_rating) == ("user", 2.0, 0.5)
    assert loaded.rmse(train, test) == model.rmse(train, test)
    assert float(loaded.hyperparameters["weight_decay"]) == pytest.approx(1e-3)


def test_bad_input_is_refused_with_the_parameter_named():
    train, test = low_rank_ratings()
    model = build("item")
    with pytest.raises(ValueError, match=r"Invalid value for 'x': expected a ratings matrix \(n_users, n_items\) "
                                         r"with 60 users.*Received: x=<sparse matrix of shape \(40, 60\)>"):
        model.fit(train.T.tocsr(), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="Invalid value for 'y': expected None with a sparse ratings matrix"):
        model.fit(train, test, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"Invalid value for 'x': expected finite ratings in \[1.0, 5.0\]"):
        model.fit(train * 2, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="Invalid value for 'test': expected a sparse ratings matrix"):
        model.rmse(train, test.toarray())
    with pytest.raises(ValueError, match=r"Invalid value for 'users': expected a 1-D array of integer indices "
                                         r"in \[0, 60\)"):
        model.predict_ratings(train, [60], [0])
    with pytest.raises(ValueError, match="Invalid value for 'max_rating': expected a rating above min_rating=1.0"):
        build("item", max_rating=1.0)
    with pytest.raises(ValueError, match=r"Invalid value for 'validation_data'"):
        model.fit(train, epochs=1, verbose=0, validation_data=(train, test[:10]))


def _error(call):
    with pytest.raises(ValueError) as caught:
        call()
    return str(caught.value)


def test_newcomer_bad_input_is_refused_before_anything_runs():
    """Inputs a user can get wrong: each refused with the parameter, what was expected and what came."""
    train, test = low_rank_ratings()
    model = build()
    weights = [w.copy() for w in model.get_weights()]
    # Dense rows out of the rating scale (the sparse path refused them already).
    rows = train.T.toarray()
    for bad in (-1.0, 9.0):
        changed = rows.copy()
        changed[0, train.T.tocsr()[0].indices[0]] = bad
        message = _error(lambda changed=changed: model.fit(changed, epochs=1, verbose=0))
        assert "Invalid value for 'x': expected ratings in [1.0, 5.0] where observed" in message
        assert str(bad) in message
    # No observed rating at all, and no row at all: nothing to learn from.
    assert "at least one observed rating" in _error(
        lambda: model.fit(scipy.sparse.csr_matrix(train.shape, dtype="float32"), epochs=1, verbose=0))
    user_model = build(based="user", shape=(0, 40))
    assert "Invalid value for 'x': expected a ratings matrix with at least one observed rating" in _error(
        lambda: user_model.fit(scipy.sparse.csr_matrix((0, 40), dtype="float32"), epochs=1, verbose=0))
    # batch_size=0 is not quietly replaced by 32.
    assert "Received: batch_size=0" in _error(lambda: model.fit(train, epochs=1, batch_size=0, verbose=0))
    assert "Received: batch_size=0" in _error(lambda: model.evaluate(train, test, batch_size=0, verbose=0))
    assert "Received: batch_size=0" in _error(lambda: model.rmse(train, test, batch_size=0))
    assert "Received: batch_size=0" in _error(lambda: model.predict_ratings(train, [0], [0], batch_size=0))
    np.testing.assert_array_equal(np.concatenate([w.ravel() for w in model.get_weights()]),
                                  np.concatenate([w.ravel() for w in weights]))  # nothing was trained
    # Held-out ratings are checked like the training ones (they used to give NaN or a wrong RMSE).
    for bad in (np.nan, 9.0):
        held_out = test.copy()
        held_out.data[0] = bad
        message = _error(lambda held_out=held_out: model.rmse(train, held_out))
        assert message.startswith("Invalid value for 'test': expected finite ratings in [1.0, 5.0]")
    # recommend on a dense matrix: the standard error, not an AttributeError.
    assert "Invalid value for 'train': expected a scipy.sparse ratings matrix" in _error(
        lambda: model.recommend(train.toarray(), user=0))
    # No pairs asked, no predictions (an empty list is float64 to NumPy).
    predictions = model.predict_ratings(train, [], [])
    assert predictions.shape == (0,) and predictions.dtype == np.float64
