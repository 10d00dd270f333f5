"""Tests for keras_ae.data.load_movielens (MovieLens ml-100k and ml-1m).

The GroupLens terms forbid redistributing MovieLens, so no test copies real
ratings: every test writes tiny archives in the exact official layout (the
folder ``ml-100k/`` with tab-separated ``u.data``, ``u<k>.base``/``u<k>.test``,
``ua``/``ub``; ``ml-1m/ratings.dat`` with ``::`` separators) into a temporary
``KERAS_HOME``. One test reads the official ml-100k archive from
``$KERAS_AE_SHARED_DATA/ml-100k/ml-100k.zip`` and is skipped without it.
Python sockets are disabled for the whole module, so a code path that tried
to download would fail at once.
"""

import os
import re
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse
from _shared import SHARED

from keras_ae import data

pytestmark = pytest.mark.usefixtures("no_network")

SHAPE_100K = (943, 1682)
SHAPE_1M = (6040, 3952)
URL_100K = "https://files.grouplens.org/datasets/movielens/ml-100k.zip"
URL_1M = "https://files.grouplens.org/datasets/movielens/ml-1m.zip"

# (user, item, rating), distinct pairs, including the largest ids of ml-100k.
RATINGS = [
    (1, 1, 5), (1, 2, 3), (1, 1682, 4), (2, 1, 4), (2, 5, 1),
    (3, 3, 2), (3, 4, 5), (4, 1, 3), (4, 10, 4), (5, 7, 2),
    (5, 8, 1), (6, 2, 5), (7, 9, 3), (8, 1, 2), (9, 3, 4),
    (10, 6, 5), (943, 1682, 1), (943, 1, 2), (500, 800, 3), (20, 30, 4),
]
FOLDS = ("u1", "u2", "u3", "u4", "u5", "ua", "ub")


def _fold_test(fold):
    """The fixture's test ratings of a fold (the base file holds the others)."""
    if fold == "ua":
        return RATINGS[:3]
    if fold == "ub":
        return RATINGS[-3:]
    k = int(fold[1])
    return RATINGS[k - 1::5]


def _lines(ratings, sep="\t"):
    """Rating lines as the official files write them: fields, separator, "\\n" after each line."""
    return "".join(f"{u}{sep}{i}{sep}{r}{sep}{874965758 + n}\n" for n, (u, i, r) in enumerate(ratings)).encode()


def _members_100k():
    members = {"ml-100k/": b"", "ml-100k/u.data": _lines(RATINGS), "ml-100k/u.info": b"20 ratings\n"}
    for fold in FOLDS:
        test = _fold_test(fold)
        members[f"ml-100k/{fold}.base"] = _lines([r for r in RATINGS if r not in test])
        members[f"ml-100k/{fold}.test"] = _lines(test)
    return members


def _members_1m(ratings=None):
    ratings = ratings if ratings is not None else [(1, 1, 5), (1, 3952, 3), (6040, 1, 4), (6040, 3952, 2),
                                                  (17, 260, 1), (3000, 2000, 4), (42, 1193, 5), (8, 8, 3),
                                                  (9, 10, 2), (10, 9, 1)]
    return {
        "ml-1m/": b"",
        "ml-1m/ratings.dat": _lines(ratings, "::"),
        "ml-1m/movies.dat": b"1::Toy Story (1995)::Animation|Children's|Comedy\n",
        "ml-1m/users.dat": b"1::F::1::10::48067\n",
    }


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """``$KERAS_HOME/datasets/movielens``, in a temporary KERAS_HOME."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    directory = tmp_path / "keras" / "datasets" / "movielens"
    directory.mkdir(parents=True)
    return directory


def _write_zip(path, members):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


def _as_dict(matrix):
    coo = matrix.tocoo()
    return {(int(r) + 1, int(c) + 1): float(v) for r, c, v in zip(coo.row, coo.col, coo.data)}


def _expected(ratings):
    return {(u, i): float(r) for u, i, r in ratings}


def _check_matrices(train, test, shape):
    for matrix in (train, test):
        assert isinstance(matrix, scipy.sparse.csr_matrix)
        assert matrix.dtype == np.float32
        assert matrix.shape == shape
        assert matrix.has_sorted_indices
    assert not set(_as_dict(train)) & set(_as_dict(test))


# --------------------------------------------------------------------------
# ml-100k


def test_exported_from_data():
    assert "load_movielens" in data.__all__
    from keras_ae._movielens import load_movielens

    assert data.load_movielens is load_movielens


def test_ml100k_u1_shapes_dtypes_and_values(cache):
    _write_zip(cache / "ml-100k.zip", _members_100k())
    train, test = data.load_movielens("ml-100k", fold="u1")
    _check_matrices(train, test, SHAPE_100K)
    test_ratings = _fold_test("u1")
    assert _as_dict(test) == _expected(test_ratings)
    assert _as_dict(train) == _expected([r for r in RATINGS if r not in test_ratings])
    # Row i is user i + 1, column j item j + 1: user 1 rated item 1 five stars (u1.test,
    # line 1); user 943 rated item 1682 one star (u1.base, the largest ids).
    assert test[0, 0] == 5.0 and train[942, 1681] == 1.0 and train[0, 1] == 3.0
    assert train[0, 5] == 0.0  # not observed
    assert train.nnz + test.nnz == len(RATINGS)


@pytest.mark.parametrize("fold", FOLDS)
def test_ml100k_fold_reads_its_own_members(cache, fold):
    _write_zip(cache / "ml-100k.zip", _members_100k())
    train, test = data.load_movielens("ml-100k", fold=fold)
    _check_matrices(train, test, SHAPE_100K)
    assert _as_dict(test) == _expected(_fold_test(fold))
    assert _as_dict(train) == _expected([r for r in RATINGS if r not in _fold_test(fold)])


def test_ml100k_default_fold_is_u1(cache):
    _write_zip(cache / "ml-100k.zip", _members_100k())
    train, test = data.load_movielens()
    assert _as_dict(test) == _expected(_fold_test("u1"))
    assert data.load_movielens(fold=None)[1].nnz == len(_fold_test("u1"))


def test_ml100k_random_split_of_u_data(cache):
    _write_zip(cache / "ml-100k.zip", _members_100k())
    train, test = data.load_movielens("ml-100k", fold="random", seed=3, test_fraction=0.25)
    _check_matrices(train, test, SHAPE_100K)
    assert test.nnz == 5 and train.nnz == 15
    assert {**_as_dict(train), **_as_dict(test)} == _expected(RATINGS)


def test_random_split_reads_u_data_not_a_fold(cache):
    members = _members_100k()
    members["ml-100k/u.data"] = _lines(RATINGS[:10])  # the folds still hold all 20
    _write_zip(cache / "ml-100k.zip", members)
    train, test = data.load_movielens("ml-100k", fold="random", test_fraction=0.2)
    assert (train.nnz, test.nnz) == (8, 2)
    assert {**_as_dict(train), **_as_dict(test)} == _expected(RATINGS[:10])


def test_random_split_is_seeded(cache):
    _write_zip(cache / "ml-100k.zip", _members_100k())

    def split(seed, fraction=0.25):
        train, test = data.load_movielens("ml-100k", fold="random", seed=seed, test_fraction=fraction)
        return _as_dict(train), _as_dict(test)

    assert split(0) == split(0)
    assert split(7) == split(7)
    assert split(0)[1] != split(1)[1]
    assert data.load_movielens("ml-100k", fold="random", seed=np.int64(0), test_fraction=0.25)[1].nnz == 5


@pytest.mark.parametrize("fraction, n_test", [(0.1, 2), (0.3, 6), (0.5, 10), (0.99, 20), (0.01, 0)])
def test_random_split_size(cache, fraction, n_test):
    _write_zip(cache / "ml-100k.zip", _members_100k())
    train, test = data.load_movielens("ml-100k", fold="random", test_fraction=fraction)
    assert test.nnz == n_test == round(fraction * len(RATINGS))
    assert train.nnz == len(RATINGS) - n_test


def test_crlf_line_endings_and_missing_final_newline_are_read(cache):
    members = _members_100k()
    members["ml-100k/u1.test"] = members["ml-100k/u1.test"].replace(b"\n", b"\r\n").rstrip(b"\r\n")
    _write_zip(cache / "ml-100k.zip", members)
    assert _as_dict(data.load_movielens(fold="u1")[1]) == _expected(_fold_test("u1"))


# --------------------------------------------------------------------------
# ml-1m


def test_ml1m_random_split(cache):
    _write_zip(cache / "ml-1m.zip", _members_1m())
    train, test = data.load_movielens("ml-1m")  # fold None means "random", 10 % test
    _check_matrices(train, test, SHAPE_1M)
    assert (train.nnz, test.nnz) == (9, 1)
    merged = {**_as_dict(train), **_as_dict(test)}
    assert merged[(1, 1)] == 5.0 and merged[(6040, 3952)] == 2.0 and merged[(42, 1193)] == 5.0
    assert len(merged) == 10
    again = data.load_movielens("ml-1m", fold="random", seed=0, test_fraction=0.1)
    assert _as_dict(again[1]) == _as_dict(test)
    half = data.load_movielens("ml-1m", seed=5, test_fraction=0.5)
    assert half[0].nnz == half[1].nnz == 5


def test_ml1m_rejects_tab_separated_lines(cache):
    members = _members_1m()
    members["ml-1m/ratings.dat"] = _lines([(1, 1, 5), (2, 2, 4)])
    _write_zip(cache / "ml-1m.zip", members)
    with pytest.raises(ValueError, match=r"ratings\.dat\), line 1, .*four integers separated by '::'"):
        data.load_movielens("ml-1m")


def test_ml1m_user_id_out_of_range(cache):
    _write_zip(cache / "ml-1m.zip", _members_1m([(1, 1, 5), (6041, 1, 4)]))
    with pytest.raises(ValueError, match=r"ratings\.dat\), line 2, .*user id is not in 1\.\.6040"):
        data.load_movielens("ml-1m")


# --------------------------------------------------------------------------
# Missing archive


@pytest.mark.parametrize("name, url", [("ml-100k", URL_100K), ("ml-1m", URL_1M)])
def test_missing_archive_names_path_url_and_download(cache, name, url):
    path = cache / f"{name}.zip"
    with pytest.raises(FileNotFoundError) as raised:
        data.load_movielens(name)
    message = str(raised.value)
    assert str(path) in message
    assert url in message
    assert f"load_movielens({name!r}, download=True)" in message
    assert "redistribution" in message
    assert not path.exists()


def test_failed_download_is_reported_and_writes_nothing(cache, monkeypatch):
    calls = []
    monkeypatch.setattr(data, "_download", lambda path, origin, sha256=None: calls.append((path, origin, sha256)))
    with pytest.raises(FileNotFoundError, match=re.escape(f"Downloading it from {URL_100K} failed")):
        data.load_movielens("ml-100k", download=True)
    assert calls == [(str(cache / "ml-100k.zip"), URL_100K, None)]
    assert os.listdir(cache) == []


# --------------------------------------------------------------------------
# Bad arguments


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"name": "ml-10m"}, "Invalid value for 'name': expected one of ['ml-100k', 'ml-1m']. Received: name='ml-10m'"),
        ({"name": "ML-100K"}, "Did you mean 'ml-100k'?"),
        ({"fold": "u9"}, "Invalid value for 'fold': expected None or one of ['random', 'u1', 'u2', 'u3', "
                         "'u4', 'u5', 'ua', 'ub'] for name='ml-100k'. Received: fold='u9'"),
        ({"fold": "U1"}, "Received: fold='U1'. Did you mean 'u1'?"),
        ({"fold": 1}, "Received: fold=1"),
        ({"name": "ml-1m", "fold": "u1"}, "expected None or one of ['random'] for name='ml-1m'. Received: "
                                          "fold='u1'. ml-1m has no official split 'u1'"),
        ({"seed": -1}, "Invalid value for 'seed': expected a non-negative integer. Received: seed=-1"),
        ({"seed": 1.5}, "Received: seed=1.5"),
        ({"seed": None}, "Received: seed=None"),
        ({"test_fraction": 0}, "Invalid value for 'test_fraction': expected a number in (0, 1). "
                               "Received: test_fraction=0"),
        ({"test_fraction": 1.0}, "Received: test_fraction=1.0"),
        ({"test_fraction": float("nan")}, "Received: test_fraction=nan"),
        ({"test_fraction": "0.1"}, "Received: test_fraction='0.1'"),
        ({"download": "yes"}, "Invalid value for 'download': expected a bool. Received: download='yes'"),
    ],
)
def test_bad_arguments(cache, kwargs, message):
    _write_zip(cache / "ml-100k.zip", _members_100k())
    with pytest.raises(ValueError, match=re.escape(message)):
        data.load_movielens(**kwargs)


def test_arguments_are_checked_before_the_file(cache):
    with pytest.raises(ValueError, match="'fold'"):
        data.load_movielens("ml-100k", fold="u9")  # no archive: still the argument error


# --------------------------------------------------------------------------
# Damaged archives: a clear ValueError, and the cached file left as it was


def _damaged(cache, member, content):
    members = _members_100k()
    members[f"ml-100k/{member}"] = content
    return _write_zip(cache / "ml-100k.zip", members)


def _line3(bad):
    """u1.base with its third line replaced by ``bad``."""
    good = _lines([r for r in RATINGS if r not in _fold_test("u1")]).splitlines(keepends=True)
    return b"".join(good[:2] + [bad] + good[3:])


@pytest.mark.parametrize(
    "bad, message",
    [
        (b"1\t9\t6\t874965758\n", "line 3, is not a MovieLens rating: the rating is not in 1..5 ('1\\t9\\t6"),
        (b"1\t9\t0\t874965758\n", "line 3, is not a MovieLens rating: the rating is not in 1..5"),
        (b"944\t9\t3\t874965758\n", "line 3, is not a MovieLens rating: the user id is not in 1..943"),
        (b"0\t9\t3\t874965758\n", "line 3, is not a MovieLens rating: the user id is not in 1..943"),
        (b"1\t1683\t3\t874965758\n", "line 3, is not a MovieLens rating: the item id is not in 1..1682"),
        (b"1\t0\t3\t874965758\n", "line 3, is not a MovieLens rating: the item id is not in 1..1682"),
        (b"1\t9\t3.5\t874965758\n", "line 3, is not a MovieLens rating line: expected 'user\titem\trating\t"
                                    "timestamp' (four integers separated by '\\t'), found '1\\t9\\t3.5"),
        (b"1 9 3 874965758\n", "line 3, is not a MovieLens rating line"),
        (b"1::9::3::874965758\n", "line 3, is not a MovieLens rating line"),
        (b"1\t9\t3\n", "line 3, is not a MovieLens rating line"),
        (b"1\t9\t3\t874965758\t7\n", "line 3, is not a MovieLens rating line"),
        (b"-1\t9\t3\t874965758\n", "line 3, is not a MovieLens rating line"),
        (b"\n", "line 3, is not a MovieLens rating line: expected 'user\titem\trating\ttimestamp' "
                "(four integers separated by '\\t'), found ''"),
    ],
)
def test_bad_line_names_file_and_line(cache, bad, message):
    path = _damaged(cache, "u1.base", _line3(bad))
    before = path.read_bytes()
    with pytest.raises(ValueError, match=re.escape(f"{path} (member ml-100k/u1.base), {message}")):
        data.load_movielens("ml-100k", fold="u1")
    assert path.read_bytes() == before
    assert os.listdir(cache) == ["ml-100k.zip"]


def test_duplicate_pair_is_an_error(cache):
    lines = _lines(RATINGS[:6]) + b"1\t2\t4\t874965999\n"  # (1, 2) again, line 7 (first on line 2)
    path = _damaged(cache, "u.data", lines)
    before = path.read_bytes()
    with pytest.raises(ValueError, match=re.escape(
            f"{path} (member ml-100k/u.data) rates user 1 and item 2 twice, on lines 2 and 7")):
        data.load_movielens("ml-100k", fold="random")
    assert path.read_bytes() == before


def test_pair_in_both_base_and_test_is_an_error(cache):
    test = _fold_test("u2")
    path = _damaged(cache, "u2.test", _lines(test + [RATINGS[0]]))  # RATINGS[0] is in u2.base, line 1
    with pytest.raises(ValueError, match=re.escape(
            f"{path} is not the official MovieLens ml-100k archive: user 1 and item 1 are rated in "
            "both ml-100k/u2.base (line 1) and ml-100k/u2.test (line 5)")):
        data.load_movielens("ml-100k", fold="u2")


def test_missing_member(cache):
    members = _members_100k()
    del members["ml-100k/u3.test"]
    path = _write_zip(cache / "ml-100k.zip", members)
    before = path.read_bytes()
    with pytest.raises(ValueError, match=re.escape(f"{path} is not the MovieLens ml-100k archive: it has no "
                                                   "member ml-100k/u3.test")):
        data.load_movielens("ml-100k", fold="u3")
    assert path.read_bytes() == before
    assert data.load_movielens("ml-100k", fold="u4")[1].nnz == 4  # the other members still load


def test_members_without_the_folder_prefix_are_refused(cache):
    members = {name.replace("ml-100k/", ""): content for name, content in _members_100k().items() if name != "ml-100k/"}
    _write_zip(cache / "ml-100k.zip", members)
    with pytest.raises(ValueError, match=re.escape("it has no member ml-100k/u1.base")):
        data.load_movielens("ml-100k")


def test_empty_member(cache):
    _damaged(cache, "u1.test", b"")
    with pytest.raises(ValueError, match=re.escape("(member ml-100k/u1.test) holds no ratings")):
        data.load_movielens("ml-100k")


def test_not_a_zip_archive(cache):
    path = cache / "ml-100k.zip"
    path.write_bytes(b"<html><body>404 Not Found</body></html>\n")
    before = path.read_bytes()
    with pytest.raises(ValueError, match=re.escape(f"Could not read {path} as a zip archive")) as raised:
        data.load_movielens("ml-100k")
    assert URL_100K in str(raised.value) and "move this one aside" in str(raised.value)
    assert path.read_bytes() == before


# --------------------------------------------------------------------------
# The official archive (not shipped: the GroupLens terms forbid redistribution)


def _shared_archive():
    return None if SHARED is None else Path(SHARED) / "ml-100k" / "ml-100k.zip"


@pytest.mark.skipif(
    _shared_archive() is None or not _shared_archive().is_file(),
    reason="official ml-100k.zip not found (in ../shared/data or $KERAS_AE_SHARED_DATA)",
)
def test_official_ml100k(cache):
    shutil.copyfile(_shared_archive(), cache / "ml-100k.zip")
    train, test = data.load_movielens("ml-100k", fold="u1")
    _check_matrices(train, test, SHAPE_100K)
    assert (train.nnz, test.nnz) == (80_000, 20_000)
    assert train[0, 0] == 5.0  # u1.base, line 1: "1 1 5 874965758"
    assert test[0, 5] == 5.0  # u1.test, line 1: "1 6 5 887431973"
    rtrain, rtest = data.load_movielens("ml-100k", fold="random", seed=0)
    assert (rtrain.nnz, rtest.nnz) == (90_000, 10_000)
    assert rtrain.nnz + rtest.nnz == 100_000
    everything = rtrain + rtest
    assert everything[195, 241] == 3.0  # u.data, line 1: "196 242 3 881250949"
    assert (everything != train + test).nnz == 0  # u1.base and u1.test partition u.data
    for fold in ("ua", "ub"):  # exactly 10 test ratings per user
        base, held_out = data.load_movielens("ml-100k", fold=fold)
        assert held_out.nnz == 9430 and base.nnz == 90_570
        assert np.all(held_out.getnnz(axis=1) == 10)
