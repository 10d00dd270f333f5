"""The 20 Newsgroups corpus as bag-of-words counts, for semantic hashing and document retrieval.

:func:`load_20newsgroups` (re-exported by :mod:`keras_ae.data`) reads the
"bydate" archive from the Keras dataset cache with the helpers and rules of
:mod:`keras_ae.data`: the file is never modified or replaced, and it is
downloaded only when asked (``download=True``).
"""

import os
import re
import tarfile
import zlib

import numpy as np

from keras_ae._validation import check_int, invalid, suggest

__all__ = ["NEWSGROUPS", "load_20newsgroups"]

#: The 20 newsgroups of the corpus, sorted; a label is an index into this tuple.
NEWSGROUPS = (
    "alt.atheism",
    "comp.graphics",
    "comp.os.ms-windows.misc",
    "comp.sys.ibm.pc.hardware",
    "comp.sys.mac.hardware",
    "comp.windows.x",
    "misc.forsale",
    "rec.autos",
    "rec.motorcycles",
    "rec.sport.baseball",
    "rec.sport.hockey",
    "sci.crypt",
    "sci.electronics",
    "sci.med",
    "sci.space",
    "soc.religion.christian",
    "talk.politics.guns",
    "talk.politics.mideast",
    "talk.politics.misc",
    "talk.religion.misc",
)
_LABELS = {group: label for label, group in enumerate(NEWSGROUPS)}

# The archive `sklearn.datasets.fetch_20newsgroups` downloads (its
# `ARCHIVE` in scikit-learn's 20 Newsgroups fetcher: a figshare copy of
# Jason Rennie's 20news-bydate.tar.gz) and the SHA-256 digest scikit-learn
# checks. The digest is checked only for a download, never for a file that
# is already in the cache.
_ARCHIVE_NAME = "20news-bydate.tar.gz"
_ARCHIVE_URL = "https://ndownloader.figshare.com/files/5975967"
_ARCHIVE_SHA256 = "8f1b2514ca22a5ade8fbb9cfa5727df95fa587f4c87b786e15c759fa66d95610"
_RENNIE_PAGE = "http://qwone.com/~jason/20Newsgroups/"
# The two top-level folders of the archive; each holds <group>/<number> files.
_SPLITS = ("20news-bydate-train", "20news-bydate-test")
_DOCUMENT_NAME = re.compile(r"[0-9]+")
# What `remove` may hold, in the order scikit-learn strips them.
_REMOVABLE = ("headers", "footers", "quotes")


def load_20newsgroups(*, vocab_size=2000, remove=("headers", "footers", "quotes"), download=False):
    """Loads 20 Newsgroups ("bydate") as bag-of-words word counts.

    About 18 800 Usenet posts of 1993 from 20 newsgroups, split by date as
    Jason Rennie publishes it: 11 314 training and 7 532 test documents
    (the later posts), without duplicates. This is the corpus of semantic
    hashing (Salakhutdinov and Hinton, 2009): each document becomes the
    counts of the 2 000 most frequent words, an autoencoder learns a short
    (binary) code of those counts, and documents are retrieved by code
    similarity; a retrieved document is relevant when it comes from the same
    newsgroup as the query.

    The file is read from ``$KERAS_HOME/datasets/20news/20news-bydate.tar.gz``
    (``~/.keras/datasets/...`` when ``KERAS_HOME`` is not set): the official
    archive, the one ``sklearn.datasets.fetch_20newsgroups`` downloads. Its
    members ``20news-bydate-train/<group>/<number>`` and
    ``20news-bydate-test/<group>/<number>`` are read straight from the
    archive (nothing is extracted to disk and the file is never modified)
    and decoded as latin-1, as scikit-learn does. Links are never followed:
    an archive holding a link, a non-regular file, a duplicate or a name
    outside that layout under the two folders is refused. Documents are
    ordered by newsgroup, then by file name, so every call returns the same
    rows in the same order. Parsing all 18 846 files takes a few seconds.

    Then:

    1. The parts named in ``remove`` are stripped with scikit-learn's own
       functions, in scikit-learn's order (headers, footers, quotes), as
       ``fetch_20newsgroups(remove=...)`` does: ``"headers"`` drops
       everything up to the first blank line (``From:``, ``Subject:``,
       ``Organization:``...), ``"footers"`` the last block set apart by a
       blank or hyphens-only line (usually the signature; a rough heuristic
       of scikit-learn's), ``"quotes"`` the lines starting with ``>`` or
       ``|`` and the lines introducing a quote ("In article ... writes:",
       "... wrote:"). Without them, a classifier or a code learns the
       headers and signatures (sender names, newsgroup names) instead of
       the text.
    2. A ``sklearn.feature_extraction.text.CountVectorizer(stop_words="english")``
       (lowercase, tokens of two or more word characters, scikit-learn's
       English stop words removed) is fitted on the **training documents
       only**; the vocabulary is their ``vocab_size`` words with the largest
       total count, as ``CountVectorizer(max_features=vocab_size)`` picks
       them, except that ties at the cut go to the alphabetically first
       words (so that the choice is the same on every machine). A word that
       appears only in test documents is never in the vocabulary, and test
       documents are counted on the training vocabulary.

    Args:
        vocab_size: Positive integer, the number of words (columns) kept.
            2000, the default, is the setting of Salakhutdinov and Hinton.
        remove: A tuple (or list) holding any of ``"headers"``,
            ``"footers"`` and ``"quotes"``: the parts stripped from each
            document. ``()`` keeps the posts whole.
        download: If ``True`` and the archive is missing, it is fetched from
            scikit-learn's URL (20 s socket timeout) and kept only if its
            SHA-256 digest is the one scikit-learn checks. Off by default:
            nothing leaves the machine unless you ask for it.

    Returns:
        ``(x_train, y_train), (x_test, y_test), vocabulary``:

        * ``x_train``, ``x_test``: ``scipy.sparse.csr_matrix`` of
          ``float32`` word counts, shapes ``(11314, vocab_size)`` and
          ``(7532, vocab_size)`` for the official archive; row ``i`` counts
          the words of document ``i``, column ``j`` the word
          ``vocabulary[j]``. Call ``.toarray()`` for a dense array (about
          90 MB for the training set at the default size).
        * ``y_train``, ``y_test``: ``int64`` arrays ``(n,)`` of labels
          0..19, the index of the document's newsgroup in
          :data:`NEWSGROUPS` (the 20 names, sorted).
        * ``vocabulary``: a tuple of ``vocab_size`` strings, the words in
          column order (alphabetical).

    Raises:
        ValueError: If ``vocab_size`` is not a positive integer (or exceeds
            the number of distinct words of the training documents),
            ``remove`` is not a tuple of some of the three parts, or
            ``download`` is not a bool; or if the archive is not laid out
            as the official one (a split folder missing, fewer than the 20
            newsgroups in a split, a link, a non-regular member, a
            duplicate or a misnamed member): the message names the file and
            what is wrong.
        FileNotFoundError: If the archive is not in the cache (and could
            not be downloaded). The message names the expected path, the
            URL to download it from and ``load_20newsgroups(download=True)``.
        OSError: If the file cannot be read as a gzip-compressed tar
            archive.

    Example:

    ```python
    from keras_ae import data

    (x_train, y_train), (x_test, y_test), vocabulary = data.load_20newsgroups()
    x_train.shape, x_test.shape  # ((11314, 2000), (7532, 2000))
    data.NEWSGROUPS[y_train[0]]  # 'alt.atheism'
    x = x_train.toarray()  # dense float32 counts for an autoencoder
    ```

    References:
        Ken Lang (1995). NewsWeeder: Learning to filter netnews. In
        Proceedings of the 12th International Conference on Machine
        Learning (ICML), 331-339. The collection of the 20 newsgroups.

        Jason Rennie. The 20 Newsgroups data set, "bydate" version (sorted
        by date, duplicates and some headers removed).
        http://qwone.com/~jason/20Newsgroups/

        Ruslan Salakhutdinov and Geoffrey Hinton (2009). Semantic hashing.
        International Journal of Approximate Reasoning, 50(7), 969-978.
    """
    # Imported here, not at the top: keras_ae.data imports this module at
    # its end, so a top-level import would fail whenever this module is
    # imported before keras_ae.data.
    from keras_ae.data import _cache_dir, _check_bool, _require

    vocab_size = check_int("vocab_size", vocab_size)
    remove = _check_remove(remove)
    download = _check_bool("download", download)
    path = os.path.join(_cache_dir(), "20news", _ARCHIVE_NAME)
    _require(
        path,
        _ARCHIVE_URL,
        download,
        sha256=_ARCHIVE_SHA256,
        what=f"The 20 Newsgroups archive {_ARCHIVE_NAME}",
        source=(f"{_ARCHIVE_URL} (the URL scikit-learn's fetch_20newsgroups uses; the bydate "
                f"version of {_RENNIE_PAGE})"),
        call="load_20newsgroups(download=True)",
    )
    documents = _read_archive(path)
    from keras_ae import _compat  # imports TensorFlow: only once the archive is read

    strippers = _compat.sklearn_newsgroup_strippers()
    texts, labels = [], []
    for split in _SPLITS:
        split_texts = []
        for group, _name, raw in documents[split]:
            text = raw.decode("latin-1")
            for part in remove:
                text = strippers[part](text)
            split_texts.append(text)
        texts.append(split_texts)
        labels.append(np.array([_LABELS[group] for group, _, _ in documents[split]], dtype=np.int64))
    x_train, x_test, vocabulary = _bag_of_words(texts[0], texts[1], vocab_size, path)
    return (x_train, labels[0]), (x_test, labels[1]), vocabulary


def _check_remove(remove):
    """``remove`` as a tuple in scikit-learn's stripping order."""
    expected = f"a tuple of some of {list(_REMOVABLE)}"
    if isinstance(remove, str):
        raise invalid("remove", expected, remove, f"For one part, write remove=({remove!r},)")
    if not isinstance(remove, (tuple, list, set, frozenset)):
        raise invalid("remove", expected, remove)
    for part in remove:
        if not isinstance(part, str) or part not in _REMOVABLE:
            raise invalid("remove", expected, remove, suggest(part, _REMOVABLE))
    return tuple(part for part in _REMOVABLE if part in remove)


def _read_archive(path):
    """``{split folder: [(group, file name, bytes), ...]}``, sorted by group then file name.

    Reads the regular files of the two split folders straight from the
    archive. Members outside the two folders are skipped unread; under them,
    anything but ``<group>/`` directories and ``<group>/<number>`` regular
    files of the 20 newsgroups makes the archive refused.
    """
    fix = f"Replace it with the official archive ({_ARCHIVE_URL})."
    found = {split: {} for split in _SPLITS}
    try:
        with tarfile.open(path, "r:gz") as archive:
            for info in archive:
                parts = info.name.split("/")
                if parts[0] not in found:
                    continue
                where = f"{path} is not the official {_ARCHIVE_NAME}: its member {info.name!r}"
                if info.issym() or info.islnk():
                    raise ValueError(f"{where} is a link (links are never followed). {fix}")
                if info.isdir():
                    if len(parts) == 1 or (len(parts) == 2 and parts[1] in _LABELS):
                        continue
                    raise ValueError(f"{where} is a directory outside the layout {parts[0]}/<newsgroup>/. {fix}")
                if not info.isreg():
                    raise ValueError(f"{where} is not a regular file. {fix}")
                if len(parts) != 3 or parts[1] not in _LABELS or not _DOCUMENT_NAME.fullmatch(parts[2]):
                    raise ValueError(
                        f"{where} does not match the layout {parts[0]}/<newsgroup>/<number>, with "
                        f"<newsgroup> one of the 20 of keras_ae.data.NEWSGROUPS. {fix}"
                    )
                key = (parts[1], parts[2])
                if key in found[parts[0]]:
                    raise ValueError(f"{where} is in the archive twice. {fix}")
                with archive.extractfile(info) as member:
                    found[parts[0]][key] = member.read()
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        raise OSError(f"Could not read {path} as a gzip-compressed tar archive ({error}). {fix}") from error
    problems = []
    for split, documents in found.items():
        groups = {group for group, _ in documents}
        if not groups:
            problems.append(f"it has no {split}/ folder (no documents under {split}/)")
        elif len(groups) < len(NEWSGROUPS):
            missing = [group for group in NEWSGROUPS if group not in groups]
            problems.append(
                f"its {split}/ folder has documents of {len(groups)} of the {len(NEWSGROUPS)} "
                f"newsgroups; missing: {missing}"
            )
    if problems:
        raise ValueError(f"{path} is not the official {_ARCHIVE_NAME}: {'; '.join(problems)}. {fix}")
    return {
        split: [(group, name, documents[group, name]) for group, name in sorted(documents)]
        for split, documents in found.items()
    }


def _bag_of_words(train_texts, test_texts, vocab_size, path):
    """Word counts on the ``vocab_size`` most frequent words of ``train_texts``."""
    import scipy.sparse
    from sklearn.feature_extraction.text import CountVectorizer

    full = CountVectorizer(stop_words="english", dtype=np.int64)
    try:
        counts = full.fit_transform(train_texts)
    except ValueError as error:  # "empty vocabulary": no word left in any document
        raise ValueError(f"The training documents of {path} hold no words to count ({error}).") from error
    words = full.get_feature_names_out()  # alphabetical, as the columns
    if vocab_size > len(words):
        raise invalid(
            "vocab_size",
            f"a positive integer at most {len(words)} (the number of distinct words of the training "
            "documents, after stop-word removal)",
            vocab_size,
        )
    totals = np.asarray(counts.sum(axis=0)).ravel()
    # The largest totals; the stable sort of alphabetical columns breaks ties
    # alphabetically. Kept in column (alphabetical) order.
    keep = np.sort(np.argsort(-totals, kind="stable")[:vocab_size])
    vocabulary = tuple(str(word) for word in words[keep])
    x_train = scipy.sparse.csr_matrix(counts[:, keep], dtype=np.float32)
    counter = CountVectorizer(stop_words="english", vocabulary=vocabulary, dtype=np.float32)
    x_test = scipy.sparse.csr_matrix(counter.transform(test_texts), dtype=np.float32)
    for x in (x_train, x_test):
        x.sort_indices()
    return x_train, x_test, vocabulary
