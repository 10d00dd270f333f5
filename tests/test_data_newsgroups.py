"""keras_ae.data.load_20newsgroups on fixture archives in the official layout.

The fixture ``20news-bydate.tar.gz`` is built in ``tmp_path`` with the
official member names (``20news-bydate-train/<group>/<number>`` and
``20news-bydate-test/<group>/<number>``) and small news messages: a header,
a blank line, an attribution line, a quoted line, the body, and a ``--``
signature. The words are chosen so that the counts are known exactly:

* ``payload`` 3 times in every body; ``orbit`` once in the training
  document ``100`` of each group and twice in ``99`` (the file order);
* the group's name without punctuation (``altatheism``...) twice per body;
* ``rocket`` 5 times in ``20news-bydate-train/sci.space/100`` only;
* ``testonlyword`` 10 times in every test body (never in training);
* ``zebediah``/``headerville`` in the header, ``quotedword``/``quoter`` in
  the quote, ``sigmund``/``signatureson`` in the signature.

One test reads the real archive, when the shared data (``../shared/data`` or
``$KERAS_AE_SHARED_DATA``) holds it.
"""

import hashlib
import io
import os
import re
import shutil
import tarfile
import time

import numpy as np
import pytest
import scipy.sparse
from _shared import SHARED

from keras_ae import data

GROUPS = data.NEWSGROUPS
TRAIN, TEST = "20news-bydate-train", "20news-bydate-test"
TRAIN_NAMES = ("99", "100")  # sorted as strings, "100" comes first
TEST_NAMES = ("7",)
HEADER_WORDS = ("zebediah", "headerville")
QUOTE_WORDS = ("quotedword", "quoter")
SIGNATURE_WORDS = ("sigmund", "signatureson")
# After stripping everything: payload, orbit, rocket and the 20 group tokens.
STRIPPED_WORDS = 3 + len(GROUPS)
URL = "https://ndownloader.figshare.com/files/5975967"

pytestmark = pytest.mark.usefixtures("no_network")  # nothing here may reach the network


def _token(group):
    return re.sub(r"[^a-z]", "", group)


def _message(split, group, name):
    body = [f"payload payload payload {_token(group)} {_token(group)}"]
    if split == TRAIN:
        body.append("orbit " * TRAIN_NAMES[::-1].index(name) + "orbit")  # "100": 1, "99": 2
        if (group, name) == ("sci.space", "100"):
            body.append("rocket rocket rocket rocket rocket")
    else:
        body.append("testonlyword " * 10)
    return (
        f"From: poster{name}@example.com (Zebediah Poster)\n"
        f"Subject: Re: posting\n"
        "Organization: Headerville\n"
        "\n"
        "In article <1@example.com> quoter@example.com writes:\n"
        "> quotedword quotedword quotedword\n"
        + "\n".join(body) + "\n"
        "--\n"
        "Sigmund Signatureson\n"
    ).encode("latin-1")


def _members(groups=GROUPS, splits=(TRAIN, TEST)):
    """``[(name, bytes)]`` of an archive in the official layout."""
    members = []
    for split in splits:
        for group in groups:
            for name in TRAIN_NAMES if split == TRAIN else TEST_NAMES:
                members.append((f"{split}/{group}/{name}", _message(split, group, name)))
    return members


def _write_tar(path, members, *, extra=()):
    """Writes a tar.gz with directory entries, then ``members`` in reverse order, then ``extra``.

    ``extra``: ready ``(TarInfo, bytes or None)`` pairs (links, devices...).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as archive:
        directories = sorted({n.rsplit("/", 1)[0] for n, _ in members} | {n.split("/")[0] for n, _ in members})
        for directory in directories:
            info = tarfile.TarInfo(directory)
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            archive.addfile(info)
        for name, payload in reversed(members):  # not in the order the loader returns
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            archive.addfile(info, io.BytesIO(payload))
        for info, payload in extra:
            archive.addfile(info, None if payload is None else io.BytesIO(payload))
    return path


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """Where the archive goes: ``$KERAS_HOME/datasets/20news/20news-bydate.tar.gz``."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    return tmp_path / "keras" / "datasets" / "20news" / "20news-bydate.tar.gz"


@pytest.fixture
def archive(cache):
    return _write_tar(cache, _members())


def _column(vocabulary, word):
    return vocabulary.index(word)


def _dense(x):
    return np.asarray(x.toarray())


def test_shapes_dtypes_and_labels(archive):
    (x_train, y_train), (x_test, y_test), vocabulary = data.load_20newsgroups(vocab_size=STRIPPED_WORDS)
    assert "load_20newsgroups" in data.__all__ and "NEWSGROUPS" in data.__all__
    assert GROUPS == tuple(sorted(GROUPS)) and len(GROUPS) == 20
    for x, n in ((x_train, 2 * len(GROUPS)), (x_test, len(GROUPS))):
        assert isinstance(x, scipy.sparse.csr_matrix)
        assert x.dtype == np.float32 and x.shape == (n, STRIPPED_WORDS)
        assert x.has_sorted_indices
    assert isinstance(vocabulary, tuple) and all(type(w) is str for w in vocabulary)
    assert list(vocabulary) == sorted(vocabulary) and len(vocabulary) == STRIPPED_WORDS
    assert y_train.dtype == np.int64 and y_test.dtype == np.int64
    np.testing.assert_array_equal(y_train, np.repeat(np.arange(20), 2))
    np.testing.assert_array_equal(y_test, np.arange(20))
    # Each row holds its own group's word: labels and rows agree.
    for x, y in ((x_train, y_train), (x_test, y_test)):
        dense = _dense(x)
        for row, label in enumerate(y):
            tokens = {vocabulary[j] for j in np.flatnonzero(dense[row])} & {_token(g) for g in GROUPS}
            assert tokens == {_token(GROUPS[label])}


def test_exact_counts_and_order(archive):
    (x_train, _), (x_test, _), vocabulary = data.load_20newsgroups(vocab_size=STRIPPED_WORDS)
    dense = _dense(x_train)
    space = 2 * GROUPS.index("sci.space")  # rows: (group, file name), "100" before "99"
    counts = {word: dense[space, _column(vocabulary, word)] for word in ("rocket", "payload", "orbit", "scispace")}
    assert counts == {"rocket": 5.0, "payload": 3.0, "orbit": 1.0, "scispace": 2.0}
    assert dense[space + 1, _column(vocabulary, "orbit")] == 2.0
    assert dense[space + 1, _column(vocabulary, "rocket")] == 0.0
    np.testing.assert_array_equal(dense[:, _column(vocabulary, "orbit")], np.tile([1.0, 2.0], 20))
    assert dense.sum() == 20 * (1 + 3 + 2) + 20 * (2 + 3 + 2) + 5
    test_dense = _dense(x_test)
    np.testing.assert_array_equal(test_dense[:, _column(vocabulary, "payload")], np.full(20, 3.0))
    assert test_dense[:, _column(vocabulary, "orbit")].sum() == 0
    assert test_dense.sum() == 20 * (3 + 2)  # testonlyword is not counted


def test_vocabulary_is_fitted_on_the_training_documents_only(archive):
    # testonlyword is the most frequent word of the whole corpus (200 times), all in test documents.
    _, (x_test, _), vocabulary = data.load_20newsgroups(vocab_size=STRIPPED_WORDS)
    assert "testonlyword" not in vocabulary
    assert {"payload", "orbit", "rocket"} <= set(vocabulary)
    # The two most frequent training words (payload 120 times, orbit 60).
    _, _, vocabulary = data.load_20newsgroups(vocab_size=2)
    assert vocabulary == ("orbit", "payload")
    assert x_test.shape[1] == STRIPPED_WORDS


def test_ties_at_the_cut_go_to_the_alphabetically_first_words(archive):
    # After payload (120) and orbit (60), the 20 group tokens tie with 4 counts each; rocket has 5.
    _, _, vocabulary = data.load_20newsgroups(vocab_size=5)
    assert vocabulary == ("altatheism", "compgraphics", "orbit", "payload", "rocket")


def test_stripping_removes_headers_quotes_and_signatures(archive):
    _, _, stripped = data.load_20newsgroups(vocab_size=STRIPPED_WORDS)
    (x_train, _), _, kept = data.load_20newsgroups(vocab_size=STRIPPED_WORDS + 6, remove=())
    removed = HEADER_WORDS + QUOTE_WORDS + SIGNATURE_WORDS
    assert not set(removed) & set(stripped)
    assert set(removed) <= set(kept)
    dense = _dense(x_train)
    np.testing.assert_array_equal(dense[:, _column(kept, "quotedword")], np.full(40, 3.0))
    np.testing.assert_array_equal(dense[:, _column(kept, "signatureson")], np.full(40, 1.0))


@pytest.mark.parametrize("part, words", [
    ("headers", HEADER_WORDS), ("footers", SIGNATURE_WORDS), ("quotes", QUOTE_WORDS),
])
def test_each_part_is_removed_on_its_own(archive, part, words):
    # Ask for every distinct word: the full vocabulary of the training documents.
    with pytest.raises(ValueError, match=r"at most (\d+)") as error:
        data.load_20newsgroups(vocab_size=10_000, remove=(part,))
    size = int(re.search(r"at most (\d+)", str(error.value)).group(1))
    _, _, vocabulary = data.load_20newsgroups(vocab_size=size, remove=[part])
    others = set(HEADER_WORDS + QUOTE_WORDS + SIGNATURE_WORDS) - set(words)
    assert not set(words) & set(vocabulary)
    assert others <= set(vocabulary)


def test_loads_are_deterministic_and_leave_the_archive_unchanged(archive):
    before = archive.read_bytes()
    stamp = archive.stat().st_mtime_ns
    first = data.load_20newsgroups(vocab_size=STRIPPED_WORDS)
    second = data.load_20newsgroups(vocab_size=STRIPPED_WORDS, download=True)  # present: nothing fetched
    assert first[2] == second[2]
    for (x1, y1), (x2, y2) in zip(first[:2], second[:2]):
        assert (x1 != x2).nnz == 0
        np.testing.assert_array_equal(y1, y2)
    assert archive.read_bytes() == before and archive.stat().st_mtime_ns == stamp
    assert sorted(p.name for p in archive.parent.iterdir()) == [archive.name]  # nothing extracted


def test_members_outside_the_two_folders_are_skipped(cache):
    readme = tarfile.TarInfo("README")
    readme.size = 5
    _write_tar(cache, _members(), extra=[(readme, b"hello")])
    (x_train, _), _, _ = data.load_20newsgroups(vocab_size=STRIPPED_WORDS)
    assert x_train.shape == (40, STRIPPED_WORDS)


@pytest.mark.parametrize("vocab_size", [0, -1, 2.5, True, "10", None])
def test_bad_vocab_size(archive, vocab_size):
    message = f"Invalid value for 'vocab_size': expected a positive integer. Received: vocab_size={vocab_size!r}"
    with pytest.raises(ValueError, match=re.escape(message)):
        data.load_20newsgroups(vocab_size=vocab_size)


def test_vocab_size_above_the_number_of_training_words(archive):
    with pytest.raises(ValueError, match=re.escape(
        f"Invalid value for 'vocab_size': expected a positive integer at most {STRIPPED_WORDS} (the number "
        "of distinct words of the training documents, after stop-word removal). Received: vocab_size=2000"
    )):
        data.load_20newsgroups()


@pytest.mark.parametrize("remove, detail", [
    ("headers", "Received: remove='headers'. For one part, write remove=('headers',)"),
    (("header",), "Received: remove=('header',). Did you mean 'headers'?"),
    (("headers", 3), "Received: remove=('headers', 3)"),
    (None, "Received: remove=None"),
    ({"quotes": 1}, "Received: remove={'quotes': 1}"),
])
def test_bad_remove(archive, remove, detail):
    expected = "Invalid value for 'remove': expected a tuple of some of ['headers', 'footers', 'quotes']. "
    with pytest.raises(ValueError, match=re.escape(expected + detail)):
        data.load_20newsgroups(remove=remove)


def test_bad_download(archive):
    with pytest.raises(ValueError, match=re.escape("Invalid value for 'download': expected a bool. "
                                                   "Received: download='yes'")):
        data.load_20newsgroups(download="yes")


def test_missing_archive(cache):
    with pytest.raises(FileNotFoundError) as error:
        data.load_20newsgroups()
    message = str(error.value)
    assert str(cache) in message and URL in message and "load_20newsgroups(download=True)" in message
    assert "http://qwone.com/~jason/20Newsgroups/" in message and "KERAS_HOME" in message
    assert not cache.parent.exists()


def test_failed_download_writes_nothing(cache, no_network):
    with pytest.raises(FileNotFoundError, match=re.escape(f"Downloading it from {URL} failed")):
        data.load_20newsgroups(download=True)
    assert not cache.parent.exists()


def _link(name, kind):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = "/etc/passwd" if kind == tarfile.SYMTYPE else f"{TRAIN}/alt.atheism/99"
    return info, None


def _fifo(name):
    info = tarfile.TarInfo(name)
    info.type = tarfile.FIFOTYPE
    return info, None


def _file(name, payload=b"From: x\n\ntext\n"):
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    return info, payload


@pytest.mark.parametrize("build, match", [
    (lambda: (_members(groups=GROUPS[:-1]), ()),
     r"20news-bydate-train/ folder has documents of 19 of the 20 newsgroups; missing: \['talk\.religion\.misc'\]"),
    (lambda: (_members(groups=GROUPS[1:], splits=(TEST,)) + _members(splits=(TRAIN,)), ()),
     r"20news-bydate-test/ folder has documents of 19 of the 20 newsgroups; missing: \['alt\.atheism'\]"),
    (lambda: (_members(splits=(TRAIN,)), ()), r"it has no 20news-bydate-test/ folder"),
    (lambda: (_members(), [_link(f"{TRAIN}/alt.atheism/5", tarfile.SYMTYPE)]),
     r"'20news-bydate-train/alt\.atheism/5' is a link"),
    (lambda: (_members(), [_link(f"{TEST}/alt.atheism/5", tarfile.LNKTYPE)]),
     r"'20news-bydate-test/alt\.atheism/5' is a link"),
    (lambda: (_members(), [_fifo(f"{TRAIN}/alt.atheism/5")]), r"is not a regular file"),
    (lambda: (_members(), [_file(f"{TRAIN}/alt.atheism/notes.txt")]), r"does not match the layout"),
    (lambda: (_members(), [_file(f"{TRAIN}/alt.atheism")]), r"does not match the layout"),
    (lambda: (_members(), [_file(f"{TRAIN}/alt.atheism/sub/5")]), r"does not match the layout"),
    (lambda: (_members(), [_file(f"{TRAIN}/misc.wanted/5")]), r"does not match the layout"),
    (lambda: (_members(), [_file(f"{TRAIN}/alt.atheism/99")]),
     r"'20news-bydate-train/alt\.atheism/99' is in the archive twice"),
], ids=["19-groups", "test-19-groups", "no-test-split", "symlink", "hardlink", "fifo", "name", "file-as-group",
        "too-deep", "unknown-group", "duplicate"])
def test_malformed_archive(cache, build, match):
    members, extra = build()
    _write_tar(cache, members, extra=extra)
    before = cache.read_bytes()
    with pytest.raises(ValueError, match=re.escape(f"{cache} is not the official 20news-bydate.tar.gz: ")) as error:
        data.load_20newsgroups(vocab_size=5)
    assert re.search(match, str(error.value)), str(error.value)
    assert "https://ndownloader.figshare.com/files/5975967" in str(error.value)
    assert cache.read_bytes() == before


def test_unknown_directory_under_a_split(cache):
    info = tarfile.TarInfo(f"{TRAIN}/misc.wanted")
    info.type = tarfile.DIRTYPE
    _write_tar(cache, _members(), extra=[(info, None)])
    with pytest.raises(ValueError, match=r"'20news-bydate-train/misc\.wanted' is a directory outside the layout"):
        data.load_20newsgroups(vocab_size=5)


@pytest.mark.parametrize("payload", [b"not a gzip file", b""])
def test_unreadable_archive(cache, payload):
    cache.parent.mkdir(parents=True)
    cache.write_bytes(payload)
    with pytest.raises(OSError, match=re.escape(f"Could not read {cache} as a gzip-compressed tar archive")):
        data.load_20newsgroups()
    assert cache.read_bytes() == payload


SHARED_ARCHIVE = os.path.join(str(SHARED), "20news", "20news-bydate.tar.gz")


@pytest.mark.skipif(
    not os.path.isfile(SHARED_ARCHIVE),
    reason="20news/20news-bydate.tar.gz not found (in ../shared/data or $KERAS_AE_SHARED_DATA)",
)
def test_real_archive(cache):
    cache.parent.mkdir(parents=True)
    shutil.copyfile(SHARED_ARCHIVE, cache)
    digest = hashlib.sha256(cache.read_bytes()).hexdigest()
    start = time.perf_counter()
    (x_train, y_train), (x_test, y_test), vocabulary = data.load_20newsgroups()
    elapsed = time.perf_counter() - start
    assert x_train.shape == (11314, 2000) and x_test.shape == (7532, 2000)
    assert x_train.dtype == x_test.dtype == np.float32
    assert len(vocabulary) == 2000 and len(set(vocabulary)) == 2000
    np.testing.assert_array_equal(np.unique(y_train), np.arange(20))
    np.testing.assert_array_equal(np.unique(y_test), np.arange(20))
    # The per-group sizes of the bydate split (as scikit-learn's fetch_20newsgroups reports them).
    assert np.bincount(y_train)[[0, 19]].tolist() == [480, 377]
    assert np.bincount(y_test)[[0, 19]].tolist() == [319, 251]
    assert {"space", "god", "windows"} <= set(vocabulary)
    assert hashlib.sha256(cache.read_bytes()).hexdigest() == digest
    print(f"load_20newsgroups on the real archive: {elapsed:.1f} s")
