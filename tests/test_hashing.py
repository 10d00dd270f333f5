"""Semantic hashing: the multinomial term by hand, binary codes from noise, sparse counts, errors."""

import keras
import numpy as np
import pytest
import scipy.sparse

import keras_ae
from keras_ae import data, retrieval


@pytest.fixture(scope="module")
def documents():
    return data.synthetic_documents(600, 300, vocab_size=120, n_topics=4, length=50, seed=0)


def build(vocab=120, bits=8, **options):
    keras.utils.set_random_seed(0)
    return keras_ae.build("semantic_hashing", input_shape=(vocab,), latent_dim=bits,
                          hidden=options.pop("hidden", (32,)), seed=0, **options)


def test_reconstruction_is_the_multinomial_nll_in_nats():
    model = build(vocab=5, bits=2)
    counts = np.array([[3, 0, 1, 0, 2], [0, 0, 0, 4, 0]], "float32")
    terms = model.loss_terms(counts, counts)
    probabilities = model.predict(counts, verbose=0)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-6)
    expected = -(counts * np.log(probabilities)).sum(axis=1)
    np.testing.assert_allclose(np.asarray(terms["reconstruction"]), expected, rtol=1e-5)


def test_noise_on_the_code_units_makes_them_binary(documents):
    (x_train, y_train), (x_test, y_test) = documents
    saturation = {}
    for level in (0.0, 4.0):
        model = build(noise_level=level, learning_rate=3e-3)
        history = model.fit(x_train, epochs=25, batch_size=32, verbose=0)
        assert history.history["loss"][-1] < history.history["loss"][0]
        codes = model.predict_codes(x_test)
        saturation[level] = float(np.mean(np.minimum(codes, 1 - codes) < 0.1))
        hashes = model.predict_hashes(x_test)
        assert hashes.dtype == np.uint8 and set(np.unique(hashes)) <= {0, 1} and hashes.shape == (300, 8)
    # Without noise the logistic units stay graded; with it nearly all are near 0 or 1.
    assert saturation[4.0] > 0.8 and saturation[4.0] > saturation[0.0] + 0.2, saturation
    # And the bits retrieve documents of the query's topic far above chance (1/4).
    bits_train = model.predict_hashes(x_train)
    precision = retrieval.precision_at_k(hashes, y_test, bits_train, y_train, ks=(10,), metric="hamming")[10]
    assert precision > 0.5, precision


def test_sparse_and_dense_counts_give_the_same_codes(documents):
    (x_train, _), _ = documents
    model = build()
    np.testing.assert_allclose(model.predict_codes(x_train[:70], batch_size=32),
                               model.predict_codes(x_train[:70].toarray()), rtol=1e-5, atol=1e-6)
    sparse = model.evaluate(x_train[:64], verbose=0, return_dict=True)
    dense = model.evaluate(x_train[:64].toarray(), verbose=0, return_dict=True)
    assert sparse["loss"] == pytest.approx(dense["loss"], rel=1e-5)


def test_negative_counts_and_wrong_widths_are_refused(documents):
    (x_train, _), _ = documents
    model = build()
    before = [w.numpy().copy() for w in model.weights]
    bad = x_train[:8].toarray()
    bad[0, 0] = -1
    with pytest.raises(ValueError, match=r"Invalid value for 'x': expected non-negative word counts. "
                                         r"Received: x=<array with minimum -1.0>"):
        model.fit(bad, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"Invalid value for 'x': expected non-negative word counts"):
        model.fit(scipy.sparse.csr_matrix(bad), epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"Invalid value for 'x': expected word counts of shape "
                                         r"\(n_documents, 120\)"):
        model.fit(x_train[:, :50], epochs=1, verbose=0)
    for a, b in zip(before, model.weights):
        np.testing.assert_array_equal(a, b.numpy())
    with pytest.raises(ValueError, match="Invalid value for 'likelihood': expected one of \\['multinomial'\\]"):
        build(likelihood="bernoulli")


def test_empty_non_finite_and_bad_batch_sizes_are_refused(documents):
    (x_train, _), _ = documents
    x = scipy.sparse.csr_matrix(x_train)
    model = build()
    with pytest.raises(ValueError, match=r"Invalid value for 'x': expected at least one document\. "
                                         r"Received: x=<sparse matrix of shape \(0, 120\)>"):
        model.fit(x[:0], epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"Received: batch_size=0"):
        model.fit(x, epochs=1, batch_size=0, verbose=0)
    with pytest.raises(ValueError, match=r"Received: batch_size=0"):
        model.predict_hashes(x[:5], batch_size=0)
    bad = x[:5].copy().astype("float32")
    bad.data[0] = np.nan
    # Sparse NaN counts used to give hashes without a word.
    with pytest.raises(ValueError, match=r"Invalid value for 'x': expected finite word counts\. "
                                         r"Received: x=<sparse matrix with 1 NaN or infinite values>"):
        model.predict_hashes(bad)
    with pytest.raises(ValueError, match=r"expected finite"):
        model.fit(bad, epochs=1, verbose=0)
