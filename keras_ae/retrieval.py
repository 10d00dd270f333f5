"""Retrieval by codes: rankings, precision at k and precision-recall curves.

Each query ranks every database item by a distance between their
representations (cosine for TF-IDF, LSA and real-valued codes; Hamming for
binary codes); an item is relevant when it has the query's label (the same
newsgroup, say). Scores are averaged over the queries.

Ties (frequent with few bits: a 2-bit code has four addresses) are broken at
random, with a seeded permutation of the database, so that the order of the
database (20 Newsgroups is stored group by group) cannot favour a class.

The measures are the ones of Salakhutdinov & Hinton, "Semantic hashing"
(2009), Fig. 6-7: precision against recall over the size of the retrieved
set, and precision at fixed sizes.
"""

import numpy as np

from keras_ae import _validation as v

__all__ = ["METRICS", "distances", "hamming_distances", "precision_at_k", "precision_recall_curve", "rank"]

#: Distances :func:`distances` knows.
METRICS = ("cosine", "euclidean", "hamming")


def _is_sparse(x):
    import scipy.sparse

    return scipy.sparse.issparse(x)


def _check_features(name, x, width=None):
    if _is_sparse(x):
        x = x.tocsr().astype("float64")
        values = x.data
    else:
        x = np.asarray(x)
        if x.ndim != 2 or not np.issubdtype(x.dtype, np.number) or x.dtype == bool:
            raise v.invalid(name, "a 2-D numeric array (n, features) or a scipy.sparse matrix",
                            v.Shown(f"<array of shape {x.shape}, dtype {x.dtype}>"))
        x = x.astype("float64")
        values = x
    if x.shape[0] == 0:
        raise v.invalid(name, "at least one row", v.Shown(f"<array of shape {x.shape}>"))
    if not np.all(np.isfinite(values)):
        raise v.invalid(name, "finite values", v.Shown("<array with NaN or infinite values>"))
    if width is not None and x.shape[1] != width:
        raise v.invalid(name, f"{width} features per row, as the queries have", v.Shown(f"<shape {x.shape}>"))
    return x


def _check_labels(name, labels, n):
    labels = np.asarray(labels)
    if labels.shape != (n,):
        raise v.invalid(name, f"one label per row, shape ({n},)", v.Shown(f"<array of shape {labels.shape}>"))
    return labels


def hamming_distances(query_bits, database_bits):
    """Hamming distances between binary codes.

    Args:
        query_bits: ``(n_queries, n_bits)`` of 0s and 1s.
        database_bits: ``(n_database, n_bits)`` of 0s and 1s.

    Returns:
        An ``int64`` array ``(n_queries, n_database)``: the number of bits
        that differ.

    Raises:
        ValueError: If a code holds a value other than 0 and 1, or the
            widths differ.

    Example:

    ```python
    hamming_distances([[0, 1, 1]], [[0, 1, 1], [1, 0, 1]])   # [[0, 2]]
    ```
    """
    q, d = _check_bits("query_bits", query_bits), _check_bits("database_bits", database_bits)
    if q.shape[1] != d.shape[1]:
        raise v.invalid("database_bits", f"codes of {q.shape[1]} bits, as the queries have",
                        v.Shown(f"<array of shape {d.shape}>"))
    q, d = q.astype("int64"), d.astype("int64")
    return q.sum(axis=1)[:, None] + d.sum(axis=1)[None, :] - 2 * q @ d.T


def _check_bits(name, bits):
    """``bits`` as a 2-D array of 0s and 1s (a sparse matrix is made dense), or the standard error."""
    bits = bits.toarray() if _is_sparse(bits) else np.asarray(bits)
    if bits.ndim != 2 or not np.isin(bits, (0, 1)).all():
        raise v.invalid(name, "a 2-D array of 0s and 1s (n, n_bits)",
                        v.Shown(f"<array of shape {bits.shape}, dtype {bits.dtype}>"),
                        "Threshold real codes first, e.g. (codes > 0.5).astype('uint8')")
    return bits


def distances(query, database, metric="cosine"):
    """The distances of every query to every database row, ``(n_queries, n_database)``.

    Args:
        query: ``(n_queries, features)``, an array or (cosine, euclidean) a
            ``scipy.sparse`` matrix.
        database: ``(n_database, features)``, likewise.
        metric: ``"cosine"`` (1 - cosine similarity; a zero row is at
            distance 1 from everything), ``"euclidean"`` or ``"hamming"``
            (0/1 codes, see :func:`hamming_distances`).

    Returns:
        A float64 array (int64 for Hamming).
    """
    metric = v.check_choice("metric", metric, METRICS)
    if metric == "hamming":
        return hamming_distances(query, database)
    q = _check_features("query", query)
    d = _check_features("database", database, q.shape[1])
    if metric == "cosine":
        q, d = _unit_rows(q), _unit_rows(d)
        similarity = q @ d.T
        similarity = similarity.toarray() if _is_sparse(similarity) else np.asarray(similarity)
        return 1.0 - similarity
    qq = np.asarray(q.multiply(q).sum(axis=1) if _is_sparse(q) else (q**2).sum(axis=1)).reshape(-1, 1)
    dd = np.asarray(d.multiply(d).sum(axis=1) if _is_sparse(d) else (d**2).sum(axis=1)).reshape(1, -1)
    cross = q @ d.T
    cross = cross.toarray() if _is_sparse(cross) else np.asarray(cross)
    return np.sqrt(np.maximum(qq + dd - 2 * cross, 0.0))


def _unit_rows(x):
    if _is_sparse(x):
        import scipy.sparse

        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
        return scipy.sparse.diags(1.0 / np.where(norms > 0, norms, 1.0)) @ x
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1.0)


def rank(query, database, metric="cosine", *, k=None, seed=0, batch_size=256):
    """The database rows in order of distance from each query, nearest first.

    Args:
        query: Query representations, see :func:`distances`.
        database: Database representations.
        metric: One of :data:`METRICS`.
        k: Keep the first ``k`` of each ranking (``None``: all).
        seed: Seeds the random order among equally distant rows.
        batch_size: Queries ranked at a time (memory: ``batch_size`` x
            ``n_database`` distances).

    Returns:
        An ``int64`` array ``(n_queries, k)`` of database row indices.
    """
    return np.concatenate(list(_rankings(query, database, metric, k, seed, batch_size)))


def _rankings(query, database, metric, k, seed, batch_size):
    metric = v.check_choice("metric", metric, METRICS)
    seed = v.check_int("seed", seed, minimum=0)
    batch_size = v.check_int("batch_size", batch_size, minimum=1)
    n_query, n_database = query.shape[0], database.shape[0]
    k = n_database if k is None else v.check_int("k", k, minimum=1)
    if k > n_database:
        raise v.invalid("k", f"at most the number of database rows ({n_database})", k)
    shuffle = np.random.default_rng(seed).permutation(n_database)  # the tie-break
    shuffled = database[shuffle]
    for start in range(0, n_query, batch_size):
        block = distances(query[start:start + batch_size], shuffled, metric)
        order = np.argsort(block, axis=1, kind="stable")[:, :k]
        yield shuffle[order]


def _relevance(query, query_labels, database, database_labels, metric, k, seed, batch_size):
    """Yields ``(cumulative relevant counts (batch, k), relevant totals (batch,))`` per block of queries."""
    counts = {}
    labels, totals = np.unique(database_labels, return_counts=True)
    counts = dict(zip(labels.tolist(), totals.tolist()))
    start = 0
    for order in _rankings(query, database, metric, k, seed, batch_size):
        block = query_labels[start:start + len(order)]
        relevant = database_labels[order] == block[:, None]
        yield np.cumsum(relevant, axis=1), np.array([counts.get(label, 0) for label in block.tolist()])
        start += len(order)


def _check_inputs(query, query_labels, database, database_labels, metric):
    if v.check_choice("metric", metric, METRICS) == "hamming":  # all the codes checked at once, by their names
        query, database = _check_bits("query", query), _check_bits("database", database)
        if query.shape[1] != database.shape[1]:
            raise v.invalid("database", f"codes of {query.shape[1]} bits, as the queries have",
                            v.Shown(f"<array of shape {database.shape}>"))
    if not _is_sparse(query):
        query = np.asarray(query)
    if not _is_sparse(database):
        database = np.asarray(database)
    for name, x in (("query", query), ("database", database)):
        if getattr(x, "ndim", 0) != 2:
            raise v.invalid(name, "a 2-D array (n, features)", v.Shown(f"<{type(x).__name__}>"))
    if query.shape[0] == 0:
        raise v.invalid("query", "at least one query row", v.Shown(f"<array of shape {query.shape}>"))
    return (query, _check_labels("query_labels", query_labels, query.shape[0]), database,
            _check_labels("database_labels", database_labels, database.shape[0]))


def precision_at_k(query, query_labels, database, database_labels, *, ks=(1, 10, 100), metric="cosine", seed=0,
                   batch_size=256):
    """Mean precision of the ``k`` nearest database rows, for each ``k`` of ``ks``.

    Precision at k is the fraction of the k retrieved rows that share the
    query's label, averaged over the queries.

    Args:
        query: ``(n_queries, features)`` (0/1 codes for ``"hamming"``).
        query_labels: ``(n_queries,)``.
        database: ``(n_database, features)``.
        database_labels: ``(n_database,)``.
        ks: Retrieval sizes, positive integers at most ``n_database``.
        metric: One of :data:`METRICS`.
        seed: Seeds the random order among equally distant rows.
        batch_size: Queries ranked at a time.

    Returns:
        ``{k: precision}``, floats in [0, 1].

    Raises:
        ValueError: For mismatched shapes, bad labels, ``k`` out of range.

    Example:

    ```python
    precision_at_k(codes_test, y_test, codes_train, y_train, ks=(1, 10, 100))
    # {1: 0.62, 10: 0.55, 100: 0.41}
    ```
    """
    query, query_labels, database, database_labels = _check_inputs(
        query, query_labels, database, database_labels, metric)
    ks = v.check_int_tuple("ks", ks, allow_empty=False)
    if max(ks) > database.shape[0]:
        raise v.invalid("ks", f"sizes at most the number of database rows ({database.shape[0]})", ks)
    sums = np.zeros(len(ks))
    for cumulative, _ in _relevance(query, query_labels, database, database_labels, metric, max(ks), seed,
                                    batch_size):
        sums += np.array([cumulative[:, k - 1].sum() / k for k in ks])
    return {k: float(s / query.shape[0]) for k, s in zip(ks, sums)}


def precision_recall_curve(query, query_labels, database, database_labels, *, metric="cosine", n_points=40,
                           seed=0, batch_size=256):
    """Mean precision and recall over retrieval sizes from 1 to the whole database.

    For each size ``k`` of a geometric grid (1 ... ``n_database``), the
    precision (relevant among the ``k`` retrieved) and the recall (relevant
    retrieved among all relevant rows of the database) of every query,
    averaged over the queries: the curves of Salakhutdinov & Hinton's Fig. 6.

    Args:
        query: Query rows, as in :func:`precision_at_k`.
        query_labels: Their labels, as in :func:`precision_at_k`.
        database: Database rows, as in :func:`precision_at_k`.
        database_labels: Their labels, as in :func:`precision_at_k`.
        metric: One of :data:`METRICS`.
        n_points: Number of retrieval sizes (at least 2).
        seed: Seeds the random order among equally distant rows.
        batch_size: Queries ranked at a time.

    Returns:
        ``(sizes, recall, precision)``: three arrays of the same length
        (``sizes`` int64, increasing; ``recall`` increasing up to 1).
    """
    query, query_labels, database, database_labels = _check_inputs(
        query, query_labels, database, database_labels, metric)
    n_points = v.check_int("n_points", n_points, minimum=2)
    n = database.shape[0]
    sizes = np.unique(np.round(np.geomspace(1, n, n_points)).astype("int64"))
    precision, recall = np.zeros(len(sizes)), np.zeros(len(sizes))
    for cumulative, totals in _relevance(query, query_labels, database, database_labels, metric, None, seed,
                                         batch_size):
        hits = cumulative[:, sizes - 1]
        precision += (hits / sizes).sum(axis=0)
        recall += (hits / np.maximum(totals, 1)[:, None]).sum(axis=0)
    return sizes, recall / query.shape[0], precision / query.shape[0]
