"""MovieLens rating matrices for recommender autoencoders (AutoRec).

Public through :mod:`keras_ae.data` (``keras_ae.data.load_movielens``), which
re-exports :func:`load_movielens` at its end. The cache helpers of
``keras_ae.data`` (``_cache_dir``, ``_require``, ``_check_bool``) are imported
when the function is called, not at import time: ``keras_ae.data`` imports
this module, so a top-level import would fail whenever this module happened
to be imported first.
"""

import collections
import io
import os
import re
import zipfile
import zlib

import numpy as np

from keras_ae._validation import check_choice, check_float, check_int, invalid, suggest

__all__ = ["load_movielens"]

# One MovieLens release: its GroupLens page and archive, the folder inside
# the archive, the file with all ratings and its field separator, the shape
# (users, items) covering the full id range, and the folds accepted (official
# splits read from the archive, and "random": a seeded split of all ratings).
_MovieLensSpec = collections.namedtuple(
    "_MovieLensSpec", "page url folder ratings separator shape folds default_fold"
)
_MOVIELENS = {
    "ml-100k": _MovieLensSpec(
        "https://grouplens.org/datasets/movielens/100k/",
        "https://files.grouplens.org/datasets/movielens/ml-100k.zip",
        "ml-100k",
        "u.data",
        b"\t",
        (943, 1682),
        ("u1", "u2", "u3", "u4", "u5", "ua", "ub", "random"),
        "u1",
    ),
    "ml-1m": _MovieLensSpec(
        "https://grouplens.org/datasets/movielens/1m/",
        "https://files.grouplens.org/datasets/movielens/ml-1m.zip",
        "ml-1m",
        "ratings.dat",
        b"::",
        (6040, 3952),
        ("random",),
        "random",
    ),
}
_MIN_RATING, _MAX_RATING = 1, 5
# At most 18 digits per field, so that every field fits an int64.
_FIELD = rb"\d{1,18}"
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError)


def load_movielens(name="ml-100k", *, fold=None, seed=0, test_fraction=0.1, download=False):
    """Loads a MovieLens dataset as sparse train and test rating matrices.

    The explicit ratings (1 to 5 stars) that MovieLens users gave to movies,
    collected by GroupLens Research, as used by AutoRec (Sedhain et al.,
    WWW 2015) and most autoencoder recommenders. Two releases are known:

    | name        | users | items (ids) | ratings   | folds                                      |
    |-------------|------:|------------:|----------:|--------------------------------------------|
    | `"ml-100k"` |   943 |        1682 |   100 000 | `"u1"`..`"u5"`, `"ua"`, `"ub"`, `"random"` |
    | `"ml-1m"`   |  6040 |        3952 | 1 000 209 | `"random"`                                 |

    * ``ml-100k``: the official splits of the archive are read as they are:
      ``u1``..``u5`` are the five 80 %/20 % folds of a 5-fold
      cross-validation (``u<k>.base``/``u<k>.test``, disjoint test sets);
      ``ua`` and ``ub`` put exactly 10 ratings of every user in the test set
      (``ua.base``/``ua.test``, ``ub.base``/``ub.test``). ``"random"`` splits ``u.data`` (all
      ratings) like ml-1m.
    * ``ml-1m`` has no official split: ``"random"`` puts a seeded random
      ``test_fraction`` of the ratings of ``ratings.dat`` in the test set,
      the 90 %/10 % protocol of the AutoRec paper with the default 0.1.

    Files, in ``$KERAS_HOME/datasets/movielens/`` (``~/.keras/datasets/``
    when ``KERAS_HOME`` is not set): the official GroupLens archives
    ``ml-100k.zip`` and ``ml-1m.zip``, as downloaded. The members are read
    straight from the archive (nothing is extracted, and a cached file is
    never modified, moved or deleted). The archive has no published
    checksum; its contents are checked instead.

    Args:
        name: ``"ml-100k"`` or ``"ml-1m"``.
        fold: Which split: for ml-100k ``"u1"``..``"u5"``, ``"ua"``,
            ``"ub"`` or ``"random"``; for ml-1m ``"random"``. ``None`` (the
            default) means ``"u1"`` for ml-100k and ``"random"`` for ml-1m.
        seed: Non-negative integer seed of the ``"random"`` split (the same
            seed gives the same split). Ignored by the official folds.
        test_fraction: Fraction of the ratings put in the test set by the
            ``"random"`` split, in ``(0, 1)``: the test set holds
            ``round(test_fraction * n_ratings)`` ratings, drawn uniformly
            without replacement. Ignored by the official folds.
        download: If ``True`` and the archive is missing, it is fetched from
            GroupLens (20 s socket timeout) into the cache. Off by default:
            nothing leaves the machine unless you ask for it.

    Returns:
        ``(train, test)``: two ``scipy.sparse.csr_matrix`` of dtype
        ``float32`` and the same shape ``(n_users, n_items)``, the full id
        range of the release (ml-100k ``(943, 1682)``, ml-1m
        ``(6040, 3952)``) whatever the fold, so that all folds line up.
        Row ``i`` is the user with id ``i + 1`` and column ``j`` the item
        with id ``j + 1`` (the ids of the files). A stored entry is a rating
        in stars (1.0 to 5.0); an entry not stored was not observed (it is
        not a rating of 0). No (user, item) pair is observed in both.

    Raises:
        ValueError: For a bad argument: an unknown ``name`` or a ``fold``
            that ``name`` does not have (with a suggestion), a ``seed`` that
            is not a non-negative integer, a ``test_fraction`` outside
            ``(0, 1)``, a ``download`` that is not a bool. Also when the
            archive is not the official one: not a readable zip archive, a
            member missing, a line that is not four integer fields, a rating
            outside 1..5, a user or item id outside the release's range, a
            (user, item) pair rated twice, or a pair in both the base and
            the test file of a fold. The message names the file and, for a
            bad line, its line number.
        FileNotFoundError: If the archive is not in the cache (and could
            not be downloaded). The message names the expected path and the
            GroupLens URL; the GroupLens terms forbid redistribution, so
            keras_ae cannot ship the data.

    Example:

    ```python
    from keras_ae import data

    train, test = data.load_movielens("ml-100k", fold="u1")
    train.shape, train.nnz, test.nnz  # ((943, 1682), 80000, 20000)
    train[0, 0]  # 5.0: user 1 gave item 1 (Toy Story) five stars
    train, test = data.load_movielens("ml-1m", seed=0)  # 90 %/10 %, seeded
    ```

    References:
        F. Maxwell Harper and Joseph A. Konstan (2015). The MovieLens
        Datasets: History and Context. ACM Transactions on Interactive
        Intelligent Systems 5(4), 19:1-19:19.
        https://doi.org/10.1145/2827872. Data: https://grouplens.org/datasets/movielens/.

        Terms of GroupLens (summarized; the README in each archive is
        authoritative): the data may be used for research; not for
        commercial or revenue-bearing purposes, and not redistributed,
        without GroupLens' permission (hence no copy ships with keras_ae);
        publications using them must acknowledge them by citing the paper
        above; no endorsement by the University of Minnesota or GroupLens
        may be stated or implied.

        Suvash Sedhain, Aditya Krishna Menon, Scott Sanner and Lexing Xie
        (2015). AutoRec: Autoencoders Meet Collaborative Filtering. WWW 2015.
    """
    from keras_ae import data

    name = check_choice("name", name, _MOVIELENS)
    spec = _MOVIELENS[name]
    fold = _check_fold(fold, name, spec)
    seed = check_int("seed", seed, minimum=0)
    test_fraction = check_float("test_fraction", test_fraction, low=0, high=1, low_open=True, high_open=True)
    download = data._check_bool("download", download)
    path = data._require(
        _archive_path(data, name),
        spec.url,
        download,
        sha256=None,
        what=f"The MovieLens archive {name}.zip",
        source=(
            f"GroupLens, {spec.url} (dataset page {spec.page}; the GroupLens terms forbid "
            "redistribution, so keras_ae cannot ship it)"
        ),
        call=f"load_movielens({name!r}, download=True)",
    )
    try:
        with zipfile.ZipFile(path) as archive:
            if fold == "random":
                ratings = _read_ratings(archive, path, spec, spec.ratings)
                train, test = _random_split(ratings, seed, test_fraction)
            else:
                train = _read_ratings(archive, path, spec, f"{fold}.base")
                test = _read_ratings(archive, path, spec, f"{fold}.test")
                _check_disjoint(train, test, path, spec, fold)
    except _ZIP_ERRORS as error:
        raise ValueError(
            f"Could not read {path} as a zip archive ({error}). {_fix(spec)}"
        ) from error
    return _to_csr(train, spec.shape), _to_csr(test, spec.shape)


# --------------------------------------------------------------------------
# Helpers


# The ratings of one file: 1-based ids, ratings, and their 1-based line numbers.
_Ratings = collections.namedtuple("_Ratings", "users items ratings lines")


def _archive_path(data, name):
    return os.path.join(data._cache_dir(), "movielens", f"{name}.zip")


def _check_fold(fold, name, spec):
    if fold is None:
        return spec.default_fold
    if isinstance(fold, str) and fold in spec.folds:
        return fold
    expected = f"None or one of {sorted(spec.folds)} for name={name!r}"
    hint = suggest(fold, spec.folds)
    others = [n for n, s in _MOVIELENS.items() if n != name and isinstance(fold, str) and fold in s.folds]
    if others:
        hint = (
            f"{name} has no official split {fold!r} (only {others[0]} has); use fold='random' "
            f"(a seeded split of {spec.ratings}) or None"
        )
    raise invalid("fold", expected, fold, hint)


def _fix(spec):
    return (
        f"Replace it with the official archive from {spec.url} (keras_ae never modifies or "
        "deletes a cached file: move this one aside first)."
    )


def _read_ratings(archive, path, spec, filename):
    """Reads ``<folder>/<filename>`` of the archive: ``user SEP item SEP rating SEP timestamp`` lines."""
    member = f"{spec.folder}/{filename}"
    where = f"{path} (member {member})"
    try:
        text = archive.read(member)
    except KeyError:
        raise ValueError(
            f"{path} is not the MovieLens {spec.folder} archive: it has no member {member}. {_fix(spec)}"
        ) from None
    separator = re.escape(spec.separator)
    line = _FIELD + (separator + _FIELD) * 3
    if not re.fullmatch(rb"(?:" + line + rb"\r?\n)*(?:" + line + rb")?", text):
        _raise_bad_line(text, line, where, spec)
    if not text:
        raise ValueError(f"{where} holds no ratings. {_fix(spec)}")
    if spec.separator != b"\t":
        text = text.replace(spec.separator, b"\t")
    fields = np.loadtxt(io.BytesIO(text), delimiter="\t", dtype=np.int64, ndmin=2)
    users, items, ratings = fields[:, 0], fields[:, 1], fields[:, 2]
    n_users, n_items = spec.shape
    checks = (
        ((ratings < _MIN_RATING) | (ratings > _MAX_RATING), f"the rating is not in {_MIN_RATING}..{_MAX_RATING}"),
        ((users < 1) | (users > n_users), f"the user id is not in 1..{n_users}"),
        ((items < 1) | (items > n_items), f"the item id is not in 1..{n_items}"),
    )
    for bad, problem in checks:
        if bad.any():
            index = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"{where}, line {index + 1}, is not a MovieLens rating: {problem} "
                f"({_show(text.splitlines()[index])}). {_fix(spec)}"
            )
    keys = (users - 1) * n_items + (items - 1)
    order = np.argsort(keys, kind="stable")
    repeated = np.flatnonzero(keys[order][1:] == keys[order][:-1])
    if repeated.size:
        first, second = sorted(int(order[k]) for k in (repeated[0], repeated[0] + 1))
        raise ValueError(
            f"{where} rates user {users[first]} and item {items[first]} twice, on lines {first + 1} "
            f"and {second + 1}; the official files rate each (user, item) pair at most once. {_fix(spec)}"
        )
    lines = np.arange(1, len(fields) + 1)
    return _Ratings(users, items, ratings.astype(np.float32), lines)


def _raise_bad_line(text, line, where, spec):
    """Raises the error for the first line of ``text`` that is not a rating line."""
    pattern = re.compile(line + rb"\r?")
    rows = text.split(b"\n")
    if rows and rows[-1] == b"":  # the newline ending the last line
        rows.pop()
    for number, row in enumerate(rows, start=1):
        if not pattern.fullmatch(row):
            sep = spec.separator.decode()
            raise ValueError(
                f"{where}, line {number}, is not a MovieLens rating line: expected "
                f"'user{sep}item{sep}rating{sep}timestamp' (four integers separated by "
                f"{sep!r}), found {_show(row)}. {_fix(spec)}"
            )
    raise ValueError(f"{where} is not a MovieLens ratings file. {_fix(spec)}")  # pragma: no cover


def _show(row):
    """A line of a file for an error message (shortened; bytes shown as text)."""
    shown = row.decode("utf-8", errors="replace")
    return repr(shown if len(shown) <= 80 else shown[:77] + "...")


def _check_disjoint(train, test, path, spec, fold):
    n_items = spec.shape[1]
    train_keys = (train.users - 1) * n_items + train.items - 1
    test_keys = (test.users - 1) * n_items + test.items - 1
    common, in_train, in_test = np.intersect1d(train_keys, test_keys, return_indices=True)
    if common.size:
        # The first shared pair in the order of the test file.
        k = int(np.argmin(in_test))
        i, j = int(in_train[k]), int(in_test[k])
        raise ValueError(
            f"{path} is not the official MovieLens {spec.folder} archive: user {train.users[i]} and item "
            f"{train.items[i]} are rated in both {spec.folder}/{fold}.base (line {train.lines[i]}) and "
            f"{spec.folder}/{fold}.test (line {test.lines[j]}), which must be disjoint. {_fix(spec)}"
        )


def _random_split(ratings, seed, test_fraction):
    """Splits the ratings at random: ``round(test_fraction * n)`` of them in the test set."""
    n = len(ratings.ratings)
    n_test = int(round(test_fraction * n))
    in_test = np.zeros(n, dtype=bool)
    in_test[np.random.default_rng(seed).permutation(n)[:n_test]] = True
    train = _Ratings(*(field[~in_test] for field in ratings))
    test = _Ratings(*(field[in_test] for field in ratings))
    return train, test


def _to_csr(ratings, shape):
    import scipy.sparse

    matrix = scipy.sparse.coo_matrix(
        (ratings.ratings, (ratings.users - 1, ratings.items - 1)), shape=shape, dtype=np.float32
    ).tocsr()
    matrix.sort_indices()
    return matrix
