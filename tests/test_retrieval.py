"""Retrieval measures on rankings small enough to check by hand."""

import numpy as np
import pytest
import scipy.sparse

from keras_ae import retrieval

DATABASE = np.array([[0.0], [1.0], [2.0], [3.0]])
DATABASE_LABELS = np.array([0, 0, 1, 1])


def test_precision_at_k_on_a_known_ranking():
    # The query at 0.1 ranks the rows 0, 1, 2, 3; rows 0 and 1 share its label.
    scores = retrieval.precision_at_k([[0.1]], [0], DATABASE, DATABASE_LABELS, ks=(1, 2, 3, 4), metric="euclidean")
    assert scores == pytest.approx({1: 1.0, 2: 1.0, 3: 2 / 3, 4: 0.5})
    # Two queries: the second (at 2.9, label 0) ranks 3, 2, 1, 0: nothing relevant in its first two.
    scores = retrieval.precision_at_k([[0.1], [2.9]], [0, 0], DATABASE, DATABASE_LABELS, ks=(1, 2, 3),
                                      metric="euclidean")
    assert scores == pytest.approx({1: 0.5, 2: 0.5, 3: (2 / 3 + 1 / 3) / 2})


def test_precision_recall_curve_on_a_known_ranking():
    sizes, recall, precision = retrieval.precision_recall_curve([[0.1]], [0], DATABASE, DATABASE_LABELS,
                                                                metric="euclidean", n_points=4)
    np.testing.assert_array_equal(sizes, [1, 2, 3, 4])
    np.testing.assert_allclose(recall, [0.5, 1.0, 1.0, 1.0])
    np.testing.assert_allclose(precision, [1.0, 1.0, 2 / 3, 0.5])


def test_hamming_distances_count_differing_bits():
    d = retrieval.hamming_distances([[0, 1, 1], [0, 0, 0]], [[0, 1, 1], [1, 0, 1], [1, 1, 1]])
    np.testing.assert_array_equal(d, [[0, 2, 1], [2, 2, 3]])
    with pytest.raises(ValueError, match=r"Invalid value for 'query_bits': expected a 2-D array of 0s and 1s.*"
                                         r"Threshold real codes first"):
        retrieval.hamming_distances([[0.2, 0.9]], [[0, 1]])
    with pytest.raises(ValueError, match="Invalid value for 'database_bits': expected codes of 2 bits"):
        retrieval.hamming_distances([[0, 1]], [[0, 1, 1]])


def test_ties_are_broken_at_random_not_by_database_order():
    # Every row at distance 0: a stable sort would return the database order (all of class 0 first).
    bits = np.zeros((100, 2), "uint8")
    labels = np.repeat([0, 1], 50)
    first = [retrieval.precision_at_k(bits[:1], [0], bits, labels, ks=(10,), metric="hamming", seed=s)[10]
             for s in range(40)]
    assert 0.3 < np.mean(first) < 0.7  # chance is 0.5; database order would give 1.0
    # The same seed gives the same ranking.
    np.testing.assert_array_equal(retrieval.rank(bits[:3], bits, "hamming", seed=7),
                                  retrieval.rank(bits[:3], bits, "hamming", seed=7))


def test_cosine_takes_sparse_matrices_and_ignores_the_scale():
    rng = np.random.default_rng(0)
    x = rng.poisson(0.5, size=(30, 12)).astype("float64")
    dense = retrieval.distances(x[:5], x, "cosine")
    sparse = retrieval.distances(scipy.sparse.csr_matrix(x[:5]), scipy.sparse.csr_matrix(3 * x), "cosine")
    np.testing.assert_allclose(dense, sparse, atol=1e-12)
    nonzero = x[:5].sum(axis=1) > 0
    np.testing.assert_allclose(np.diag(dense[:, :5])[nonzero], 0.0, atol=1e-12)  # each row is nearest itself


def test_ranks_are_batch_independent():
    rng = np.random.default_rng(1)
    q, d = rng.normal(size=(7, 3)), rng.normal(size=(20, 3))
    np.testing.assert_array_equal(retrieval.rank(q, d, "euclidean", batch_size=2),
                                  retrieval.rank(q, d, "euclidean", batch_size=100))
    assert retrieval.rank(q, d, "euclidean", k=5).shape == (7, 5)


@pytest.mark.parametrize(("call", "message"), [
    (lambda: retrieval.precision_at_k([[0.0]], [0, 1], DATABASE, DATABASE_LABELS),
     r"Invalid value for 'query_labels': expected one label per row, shape \(1,\)"),
    (lambda: retrieval.precision_at_k([[0.0]], [0], DATABASE, DATABASE_LABELS, ks=(5,)),
     r"Invalid value for 'ks': expected sizes at most the number of database rows \(4\)"),
    (lambda: retrieval.precision_at_k([[0.0]], [0], DATABASE, DATABASE_LABELS, ks=(1,), metric="manhattan"),
     r"Invalid value for 'metric': expected one of \['cosine', 'euclidean', 'hamming'\]"),
    (lambda: retrieval.precision_at_k([[np.nan]], [0], DATABASE, DATABASE_LABELS, ks=(1,)),
     r"Invalid value for 'query': expected finite values"),
    (lambda: retrieval.precision_at_k([[0.0, 1.0]], [0], DATABASE, DATABASE_LABELS, ks=(1,)),
     r"Invalid value for 'database': expected 2 features per row"),
])
def test_bad_input_names_the_parameter(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_hamming_inputs_are_checked_whole_and_sparse_codes_are_taken():
    rng = np.random.default_rng(0)
    db = (rng.uniform(size=(300, 6)) > 0.5).astype("uint8")
    labels = rng.integers(0, 3, size=300)
    # Real codes: the error names the argument and its full shape, not a batch of 256 rows.
    with pytest.raises(ValueError, match=r"Invalid value for 'query': expected a 2-D array of 0s and 1s.*"
                                         r"shape \(300, 6\), dtype float64"):
        retrieval.precision_at_k(db + 0.5, labels, db, labels, ks=(1,), metric="hamming")
    with pytest.raises(ValueError, match=r"Invalid value for 'database': expected codes of 6 bits.*\(300, 4\)"):
        retrieval.precision_recall_curve(db, labels, db[:, :4], labels, metric="hamming")
    # A sparse matrix of 0/1 codes gives the dense result (it used to be refused as an "array of shape ()").
    dense = retrieval.precision_at_k(db, labels, db, labels, ks=(1, 10), metric="hamming")
    sparse = retrieval.precision_at_k(scipy.sparse.csr_matrix(db), labels, scipy.sparse.csr_matrix(db), labels,
                                      ks=(1, 10), metric="hamming")
    assert dense == sparse
    # No query: refused, instead of a NaN and a RuntimeWarning.
    with pytest.raises(ValueError, match=r"Invalid value for 'query': expected at least one query row"):
        retrieval.precision_at_k(db[:0], labels[:0], db, labels, ks=(1,), metric="hamming")
