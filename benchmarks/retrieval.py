"""Document retrieval and few-label text classification on 20 Newsgroups: TF-IDF, LSA and semantic hashing.

Source 003 of the course says that semantic hashing with autoencoders
retrieves documents better than TF-IDF, and that autoencoder features help
text classification when labels are few. This script measures both on the
corpus of Salakhutdinov & Hinton, "Semantic hashing" (International Journal
of Approximate Reasoning, 2009): 20 Newsgroups "bydate" (11,314 training and
7,532 test posts), headers, footers and quotes removed, the 2,000 most
frequent words (``keras_ae.data.load_20newsgroups``).

Representations, all fitted on the training documents without labels:

* **TF-IDF**: ``sklearn.feature_extraction.text.TfidfTransformer()`` of the
  counts (smooth idf, L2-normalized rows), 2,000 sparse dimensions;
* **LSA**: ``sklearn.decomposition.TruncatedSVD(d)`` of the TF-IDF matrix;
* **autoencoder codes**: ``keras_ae.build("semantic_hashing", latent_dim=d)``
  (encoder ``log(1 + counts)``-500-500-``d`` logistic units with Gaussian
  noise on their input in training, decoder the mirror ending in a softmax
  over the words, multinomial likelihood), one model per size ``d``; its
  **real-valued codes** (``predict_codes``, in (0, 1)) and its **binary
  codes** (``predict_hashes``, thresholded at 0.5),

at ``d`` = 2, 32 and 128 dimensions or bits (``--sizes``).

**Retrieval.** Every test document is a query against the 11,314 training
documents; a retrieved document is relevant when it comes from the query's
newsgroup. TF-IDF, LSA and real-valued codes rank by cosine distance
(real-valued codes are centred first, ``2c - 1``, so that on saturated codes
the cosine orders as the Hamming distance does); binary codes rank by Hamming
distance. Ties are broken at random (seeded), so a 2-bit code, which has four
addresses, is not favoured by the order of the database. Measured with
``keras_ae.retrieval``: precision at 1, 10 and 100, and the precision-recall
curve over retrieval sizes from 1 to the whole database (the curves of the
paper's Fig. 6), drawn in ``retrieval_pr.png`` next to ``--out`` and stored in the JSON.

**Query time.** The search alone, with the database prepared once (rows
normalized, or bits packed 8 to a byte): for every test query, its distances
to all training documents and the 100 nearest, 256 queries at a time; sparse
TF-IDF by a sparse product, dense vectors by a float32 matrix product, binary
codes by XOR and popcount of the packed bits (``np.bitwise_count``). The best
of ``--timing-repeats`` passes over all queries, in microseconds per query.
Encoding a query (TF-IDF transform, SVD projection, encoder) is timed
separately.

**Classification with few labels.** ``keras_ae.evaluation.linear_probe_accuracy``
(standardized features, ``LogisticRegression(C=1)``) on every representation,
the same classifier for all, fitted on 10 and 100 labelled training documents
per newsgroup (``keras_ae.evaluation.labelled_subset``, ``--label-seeds``
subsets) and on all training labels, scored on the test documents.

Usage::

    python benchmarks/retrieval.py                   # full run (about 9 minutes on 2 cores)
    python benchmarks/retrieval.py --smoke --out /tmp/retrieval.md
    python benchmarks/retrieval.py --report-from benchmarks/results/retrieval.json

``--smoke`` needs no archive: it runs on ``keras_ae.data.synthetic_documents``
(8 topics), one epoch per model. The tables are printed and written as
Markdown to ``--out`` (``benchmarks/results/retrieval.md``), the raw results
as JSON next to it.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
import scipy.sparse  # noqa: E402
from sklearn.decomposition import TruncatedSVD  # noqa: E402
from sklearn.feature_extraction.text import TfidfTransformer  # noqa: E402

import keras_ae  # noqa: E402
from keras_ae import data, evaluation, retrieval  # noqa: E402

from _common import machine_line, markdown_table, results_of, write_results  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "retrieval.md"
KS = (1, 10, 100)
LABELS_PER_GROUP = (10, 100)
#: Recall levels at which the precision-recall curves are compared in a table.
RECALL_LEVELS = (0.01, 0.05, 0.1, 0.2, 0.5, 0.8)
FIGURE = "retrieval_pr.png"
SEARCH_K = 100
SEARCH_BATCH = 256
SMOKE = {"n_train": 1600, "n_test": 400, "vocab_size": 400, "n_topics": 8, "length": 60}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2, 32, 128],
                        help="code sizes: LSA dimensions and autoencoder bits")
    parser.add_argument("--epochs", type=int, default=40, help="training epochs of each autoencoder")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--noise-level", type=float, default=4.0,
                        help="std of the Gaussian noise on the code units' input in training")
    parser.add_argument("--hidden", type=int, nargs="+", default=[500, 500], help="encoder widths")
    parser.add_argument("--vocab-size", type=int, default=2000)
    parser.add_argument("--pr-points", type=int, default=40, help="retrieval sizes of the precision-recall curve")
    parser.add_argument("--label-seeds", type=int, default=3, help="labelled subsets per label count")
    parser.add_argument("--timing-repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true",
                        help="quick check on synthetic documents (8 topics), 1 epoch per model, no archive needed")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="Markdown file to write")
    parser.add_argument("--report-from", type=Path, default=None,
                        help="write the page (and the figure) from this JSON of raw results, without measuring")
    args = parser.parse_args(argv)
    if args.smoke:
        args.epochs = 1
        args.label_seeds = min(args.label_seeds, 2)
        args.timing_repeats = 1
        args.vocab_size = SMOKE["vocab_size"]
    for name in ("epochs", "batch_size", "vocab_size", "label_seeds", "timing_repeats"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be a positive integer")
    if min(args.sizes) < 1 or max(args.sizes) >= args.vocab_size:
        parser.error("--sizes must be positive integers below --vocab-size")
    if args.pr_points < 2:
        parser.error("--pr-points must be at least 2")
    return args


def load(args):
    """``(x_train, y_train, x_test, y_test, description)``: word counts (sparse) and group labels."""
    if args.smoke:
        (x_train, y_train), (x_test, y_test) = data.synthetic_documents(
            SMOKE["n_train"], SMOKE["n_test"], vocab_size=SMOKE["vocab_size"], n_topics=SMOKE["n_topics"],
            length=SMOKE["length"], seed=args.seed)
        what = (f"`keras_ae.data.synthetic_documents` ({SMOKE['n_train']} training and {SMOKE['n_test']} test "
                f"documents, {SMOKE['n_topics']} topics, {SMOKE['vocab_size']} words)")
    else:
        (x_train, y_train), (x_test, y_test), _ = data.load_20newsgroups(vocab_size=args.vocab_size)
        what = (f"20 Newsgroups bydate, headers, footers and quotes removed, {args.vocab_size} words "
                f"(`keras_ae.data.load_20newsgroups`): {x_train.shape[0]} training documents (the database) "
                f"and {x_test.shape[0]} test documents (the queries)")
    return x_train.tocsr(), y_train, x_test.tocsr(), y_test, what


# --------------------------------------------------------------------------
# Search, timed


def _top_k(distances, k):
    part = np.argpartition(distances, k - 1, axis=1)[:, :k]
    order = np.argsort(np.take_along_axis(distances, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


def _unit(x):
    if scipy.sparse.issparse(x):
        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
        return (scipy.sparse.diags(1.0 / np.where(norms > 0, norms, 1.0)) @ x).astype("float32").tocsr()
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.where(norms > 0, norms, 1.0)).astype("float32")


def _packed(bits):
    """Bits packed 8 to a byte, as 64-bit words when the width allows it."""
    packed = np.packbits(np.asarray(bits, dtype="uint8"), axis=1)
    if packed.shape[1] % 8 == 0:
        packed = np.ascontiguousarray(packed).view("uint64")
    return packed


def search_seconds(query, database, metric, repeats):
    """Seconds per query of a search for the ``SEARCH_K`` nearest database rows (best of ``repeats`` passes).

    The database is prepared once, untimed (rows normalized for cosine, bits
    packed for Hamming); the timed loop prepares the queries, computes their
    distances to every database row and selects the nearest ``SEARCH_K``.
    """
    if metric == "hamming":
        prepared = _packed(database)

        def block_distances(q):
            q = _packed(q)
            return np.bitwise_count(q[:, None, :] ^ prepared[None, :, :]).sum(axis=2, dtype="int32")
    else:
        prepared_t = _unit(database).T

        def block_distances(q):
            similarity = _unit(q) @ prepared_t
            similarity = similarity.toarray() if scipy.sparse.issparse(similarity) else similarity
            return -similarity

    n = query.shape[0]
    k = min(SEARCH_K, database.shape[0])
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        for i in range(0, n, SEARCH_BATCH):
            _top_k(block_distances(query[i:i + SEARCH_BATCH]), k)
        best = min(best, time.perf_counter() - start)
    return best / n


def bytes_per_document(x, metric):
    if metric == "hamming":
        return int(np.ceil(x.shape[1] / 8))
    if scipy.sparse.issparse(x):  # float32 value + int32 column index per stored word, as CSR holds them
        return float(x.nnz * 8 / x.shape[0])
    return 4 * x.shape[1]


# --------------------------------------------------------------------------
# Representations


def train_hashing(x_train, x_test, bits, args):
    keras.utils.set_random_seed(args.seed)
    model = keras_ae.build("semantic_hashing", input_shape=(x_train.shape[1],), latent_dim=bits,
                           hidden=tuple(args.hidden), noise_level=args.noise_level,
                           learning_rate=args.learning_rate, seed=args.seed)
    start = time.perf_counter()
    history = model.fit(x_train, epochs=args.epochs, batch_size=args.batch_size, seed=args.seed, verbose=0)
    seconds = time.perf_counter() - start
    test_loss = float(model.evaluate(x_test, verbose=0, return_dict=True)["loss"])
    losses = [float(v) for v in history.history["loss"]]
    print(f"semantic hashing {bits:4d} bits: {args.epochs} epochs in {seconds:.0f} s, train loss "
          f"{losses[0]:.1f} -> {losses[-1]:.1f}, test loss {test_loss:.1f}", flush=True)
    return model, {"bits": bits, "epochs": args.epochs, "seconds": seconds, "train_loss": losses,
                   "test_loss": test_loss}


def representations(x_train, x_test, args, results):
    """``{name: (train, test, metric, kind, size, fit seconds, encode seconds per test document)}``."""
    reps = {}
    n_test = x_test.shape[0]
    start = time.perf_counter()
    tfidf = TfidfTransformer().fit(x_train)
    fit_seconds = time.perf_counter() - start
    tfidf_train = tfidf.transform(x_train)
    start = time.perf_counter()
    tfidf_test = tfidf.transform(x_test)
    encode = (time.perf_counter() - start) / n_test
    reps["TF-IDF"] = (tfidf_train, tfidf_test, "cosine", "tfidf", x_train.shape[1], fit_seconds, encode)
    for d in args.sizes:
        start = time.perf_counter()
        svd = TruncatedSVD(d, random_state=args.seed).fit(tfidf_train)
        fit_seconds = time.perf_counter() - start
        start = time.perf_counter()
        lsa_test = svd.transform(tfidf.transform(x_test))
        encode = (time.perf_counter() - start) / n_test
        reps[f"LSA-{d}"] = (svd.transform(tfidf_train), lsa_test, "cosine", "lsa", d, fit_seconds, encode)
    results["training"] = []
    for bits in args.sizes:
        model, row = train_hashing(x_train, x_test, bits, args)
        codes_train = model.predict_codes(x_train)
        start = time.perf_counter()
        codes_test = model.predict_codes(x_test)
        encode = (time.perf_counter() - start) / n_test
        row["saturated"] = float(np.mean(np.minimum(codes_test, 1 - codes_test) < 0.1))
        hashes_train, hashes_test = (codes_train > 0.5).astype("uint8"), (codes_test > 0.5).astype("uint8")
        np.testing.assert_array_equal(hashes_test, model.predict_hashes(x_test))  # the model's own threshold
        row["distinct_codes"] = int(len(np.unique(np.packbits(hashes_train, axis=1), axis=0)))
        results["training"].append(row)
        reps[f"AE real {bits}"] = (2 * codes_train - 1, 2 * codes_test - 1, "cosine", "real", bits, row["seconds"],
                                   encode)
        reps[f"AE binary {bits}"] = (hashes_train, hashes_test, "hamming", "binary", bits, row["seconds"], encode)
    return reps


# --------------------------------------------------------------------------
# The run


def run(args):
    keras.utils.set_random_seed(args.seed)
    t0 = time.perf_counter()
    x_train, y_train, x_test, y_test, what = load(args)
    results = {"smoke": args.smoke, "machine": machine_line(), "data": what,
               "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
               "n_train": int(x_train.shape[0]), "n_test": int(x_test.shape[0]),
               "n_groups": int(len(np.unique(y_train))),
               "empty": {"train": int(np.sum(x_train.getnnz(axis=1) == 0)),
                         "test": int(np.sum(x_test.getnnz(axis=1) == 0))}}
    counts = np.bincount(y_train, minlength=int(y_test.max()) + 1)
    results["chance"] = float(np.mean(counts[y_test] / len(y_train)))  # precision of a random ranking
    reps = representations(x_train, x_test, args, results)

    results["retrieval"] = []
    for name, (train, test, metric, kind, size, fit_seconds, encode) in reps.items():
        start = time.perf_counter()
        at_k = retrieval.precision_at_k(test, y_test, train, y_train, ks=KS, metric=metric, seed=args.seed)
        sizes, recall, precision = retrieval.precision_recall_curve(test, y_test, train, y_train, metric=metric,
                                                                    n_points=args.pr_points, seed=args.seed)
        scoring = time.perf_counter() - start
        search = search_seconds(test, train, metric, args.timing_repeats)
        row = {"name": name, "kind": kind, "size": size, "metric": metric,
               "precision_at": {str(k): p for k, p in at_k.items()},
               "curve": {"sizes": sizes.tolist(), "recall": recall.tolist(), "precision": precision.tolist()},
               "fit_seconds": fit_seconds, "encode_seconds": encode, "search_seconds": search,
               "bytes_per_document": bytes_per_document(train, metric), "scoring_seconds": scoring}
        results["retrieval"].append(row)
        print(f"{name:>15}: P@1 {at_k[1]:.3f}  P@10 {at_k[10]:.3f}  P@100 {at_k[100]:.3f}  "
              f"search {1e6 * search:.0f} us/query  ({scoring:.0f} s to score)", flush=True)

    results["classification"] = []
    for name, (train, test, _, kind, size, _, _) in reps.items():
        if scipy.sparse.issparse(train):
            train, test = train.toarray(), test.toarray()
        row = {"name": name, "kind": kind, "size": size, "few": {}}
        start = time.perf_counter()
        for per_group in LABELS_PER_GROUP:
            row["few"][str(per_group)] = [
                evaluation.linear_probe_accuracy(train, y_train, test, y_test, n_per_class=per_group,
                                                 seed=args.seed + s)
                for s in range(args.label_seeds)]
        row["all"] = evaluation.linear_probe_accuracy(train, y_train, test, y_test)
        row["seconds"] = time.perf_counter() - start
        results["classification"].append(row)
        print(f"{name:>15}: " + "  ".join(f"{n} labels/group {100 * np.mean(a):.1f}%" for n, a in row["few"].items())
              + f"  all labels {100 * row['all']:.1f}%  ({row['seconds']:.0f} s)", flush=True)
    results["seconds"] = time.perf_counter() - t0
    return results


# --------------------------------------------------------------------------
# The page


def _pm(values, scale=100.0, digits=1):
    values = scale * np.asarray(values, dtype=float)
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{values.mean():.{digits}f} ± {values.std(ddof=1):.{digits}f}"


def precision_at_recall(row, level):
    """Precision of a curve at a recall level, interpolated linearly between its points (None outside)."""
    recall, precision = np.asarray(row["curve"]["recall"]), np.asarray(row["curve"]["precision"])
    if level < recall[0] or level > recall[-1]:
        return None
    return float(np.interp(level, recall, precision))


def _kind_label(row):
    return {"tfidf": "TF-IDF", "lsa": "LSA", "real": "AE real-valued", "binary": "AE binary"}[row["kind"]]


def _size_label(row):
    if row["kind"] == "tfidf":
        return f"{row['size']} (sparse)"
    return f"{row['size']} bits" if row["kind"] == "binary" else f"{row['size']} dims"


def draw_curves(results, path):
    """The precision-recall curves, one panel per size, TF-IDF in every panel (as the paper's Fig. 6)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = results["retrieval"]
    tfidf = next(r for r in rows if r["kind"] == "tfidf")
    sizes = results["args"]["sizes"]
    styles = {"tfidf": ("black", "-"), "lsa": ("tab:blue", "--"), "real": ("tab:orange", "-"),
              "binary": ("tab:red", ":")}
    fig, axes = plt.subplots(1, len(sizes), figsize=(4.2 * len(sizes), 3.8), sharey=True, squeeze=False)
    for ax, size in zip(axes[0], sizes):
        for row in [tfidf] + [r for r in rows if r["kind"] != "tfidf" and r["size"] == size]:
            colour, style = styles[row["kind"]]
            ax.plot(row["curve"]["recall"], row["curve"]["precision"], color=colour, linestyle=style,
                    linewidth=1.6, label=f"{_kind_label(row)} ({_size_label(row)})")
        ax.axhline(results["chance"], color="grey", linewidth=0.8, label="chance")
        ax.set_xscale("log")
        ax.set_xlabel("Recall")
        ax.set_title(f"{size} dimensions / bits")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7, loc="best")
    axes[0][0].set_ylabel("Precision")
    fig.suptitle("Test queries against the training documents" + (" (smoke run)" if results["smoke"] else ""),
                 fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)
    print(f"Wrote {path}")


def _best(rows, key):
    return max(rows, key=key)


def findings(results):
    """Sentences read off the numbers: who wins at which k, binary against real-valued, the two claims."""
    rows = results["retrieval"]
    by_name = {r["name"]: r for r in rows}
    tfidf = by_name["TF-IDF"]
    sizes = results["args"]["sizes"]
    lines = []
    for k in KS:
        best = _best(rows, lambda r: r["precision_at"][str(k)])
        lines.append(f"- Precision at {k}: best **{best['name']}** ({best['precision_at'][str(k)]:.3f}); "
                     f"TF-IDF {tfidf['precision_at'][str(k)]:.3f}.")
    for size in sizes:
        real, binary = by_name[f"AE real {size}"], by_name[f"AE binary {size}"]
        gaps = ", ".join(f"{real['precision_at'][str(k)] - binary['precision_at'][str(k)]:+.3f}" for k in KS)
        lines.append(f"- {size} bits: real-valued codes minus binary codes, precision at 1, 10, 100: {gaps}.")
    largest = max(sizes)
    binary, real = by_name[f"AE binary {largest}"], by_name[f"AE real {largest}"]
    levels = [lv for lv in RECALL_LEVELS if precision_at_recall(tfidf, lv) is not None
              and precision_at_recall(binary, lv) is not None]
    wins = [lv for lv in levels if precision_at_recall(binary, lv) > precision_at_recall(tfidf, lv)]
    wins_k = [k for k in KS if binary["precision_at"][str(k)] > tfidf["precision_at"][str(k)]]
    if len(wins) == len(levels) and len(wins_k) == len(KS):
        verdict = "**holds**"
    elif not wins and not wins_k:
        verdict = "**does not hold**"
    else:
        verdict = "**holds only in part**"
    lines.append(
        f"- Claim 1 of source 003, \"semantic hashing with autoencoders beats TF-IDF\": {verdict} here. "
        f"{largest}-bit binary codes beat TF-IDF at {len(wins_k)} of the {len(KS)} retrieval sizes "
        f"({', '.join(map(str, wins_k)) or 'none'}) and at {len(wins)} of the {len(levels)} recall levels of the "
        f"curve table ({', '.join(f'{lv:g}' for lv in wins) or 'none'}); the real-valued {largest}-D codes of the "
        f"same model beat it at {sum(real['precision_at'][str(k)] > tfidf['precision_at'][str(k)] for k in KS)} "
        f"of the {len(KS)} sizes.")
    lsa = by_name[f"LSA-{largest}"]
    lsa_levels = [lv for lv in levels if precision_at_recall(lsa, lv) is not None]
    lsa_wins = [lv for lv in lsa_levels if precision_at_recall(binary, lv) > precision_at_recall(lsa, lv)]
    lsa_wins_k = [k for k in KS if binary["precision_at"][str(k)] > lsa["precision_at"][str(k)]]
    lines.append(
        f"- Against LSA with as many dimensions ({lsa['name']}), the {largest}-bit binary codes win at "
        f"{len(lsa_wins_k)} of the {len(KS)} retrieval sizes ({', '.join(map(str, lsa_wins_k)) or 'none'}) and at "
        f"{len(lsa_wins)} of the {len(lsa_levels)} recall levels "
        f"({', '.join(f'{lv:g}' for lv in lsa_wins) or 'none'}).")
    classes = {r["name"]: r for r in results["classification"]}
    tf_class = classes["TF-IDF"]
    for per_group in LABELS_PER_GROUP:
        key = str(per_group)
        codes = [r for r in results["classification"] if r["kind"] in ("real", "binary")]
        best = _best(codes, lambda r: np.mean(r["few"][key]))
        gap = 100 * (np.mean(best["few"][key]) - np.mean(tf_class["few"][key]))
        lines.append(
            f"- Claim 2 (autoencoder features help classification with few labels), {per_group} labels per group: "
            f"the best autoencoder features, **{best['name']}**, score {100 * np.mean(best['few'][key]):.1f}% "
            f"against TF-IDF's {100 * np.mean(tf_class['few'][key]):.1f}% ({gap:+.1f} points): "
            + ("**holds**." if gap > 0 else "**does not hold**."))
    best_few = max(np.mean(r["few"][str(max(LABELS_PER_GROUP))]) for r in results["classification"]
                   if r["kind"] in ("real", "binary"))
    lines.append(
        f"- Fully supervised TF-IDF (all {results['n_train']} labels): {100 * tf_class['all']:.1f}%; the best "
        f"autoencoder features with {max(LABELS_PER_GROUP)} labels per group: {100 * best_few:.1f}% "
        f"({'above' if best_few > tf_class['all'] else 'below'} it).")
    return "\n".join(lines)


NOTES = (
    "- Search times are NumPy/SciPy scans of the whole database on the CPU: dense vectors by a float32 matrix "
    "product (BLAS, multithreaded), binary codes by NumPy's element-wise XOR and popcount of the packed bits, "
    "so the column compares these implementations as much as the representations. What packed bits save for "
    "certain is memory (16 bytes per document at 128 bits against 512 for a float32 vector). With very few bits, most "
    "distances are equal and the selection of the 100 nearest (`np.argpartition`) slows down on the ties; a "
    "2-bit code is meant to be used as an address (a table lookup of the documents at that address and its "
    "neighbours), which is not timed here.\n"
    "- Real-valued codes are the same model's logistic units before thresholding, compared by the cosine of "
    "`2c - 1`. Where binary and real-valued rows differ little, the noise during training has saturated the "
    "units (table above): thresholding them loses little.\n"
    "- Classification uses one classifier for every representation, the project's linear probe: features "
    "standardized on the labelled documents, then `LogisticRegression(C=1)`. Standardizing suits dense codes "
    "but gives each of TF-IDF's sparse word columns unit variance, rare words included, which is not how "
    "TF-IDF is usually fed to a linear model; the TF-IDF row measures TF-IDF under this probe, not its best "
    "classifier.\n"
    "- The published curves of Salakhutdinov & Hinton (2009, Fig. 6) are not quoted: their values are not "
    "known here with enough precision, and their network was pretrained as a stack of RBMs, ours is trained "
    "from random weights."
)


def report(results, figure_name):
    """The Markdown blocks of the page of the raw ``results``."""
    rows = results["retrieval"]
    retrieval_rows = []
    for r in rows:
        retrieval_rows.append([
            _kind_label(r), _size_label(r), r["metric"],
            *(f"{r['precision_at'][str(k)]:.3f}" for k in KS),
            f"{1e6 * r['search_seconds']:.0f}", f"{1e6 * r['encode_seconds']:.1f}",
            f"{r['bytes_per_document']:.0f}"])
    retrieval_rows.append(["chance (random ranking)", "-", "-", *[f"{results['chance']:.3f}"] * len(KS), "-", "-",
                           "-"])
    retrieval_rows.append(["published (Salakhutdinov & Hinton 2009, Fig. 6)", "-", "-",
                           *["not quoted"] * len(KS), "-", "-", "-"])
    retrieval_table = markdown_table(retrieval_rows, [
        "Representation", "Size", "Distance", *(f"P@{k}" for k in KS), "Search µs/query", "Encode µs/doc",
        "Bytes/doc"])

    curve_rows = []
    for r in rows:
        cells = []
        for level in RECALL_LEVELS:
            p = precision_at_recall(r, level)
            cells.append("-" if p is None else f"{p:.3f}")
        curve_rows.append([f"{_kind_label(r)} ({_size_label(r)})", *cells])
    curve_table = markdown_table(curve_rows, ["Representation", *(f"recall {lv:g}" for lv in RECALL_LEVELS)])

    class_rows = []
    for r in results["classification"]:
        class_rows.append([f"{_kind_label(r)} ({_size_label(r)})",
                           *(_pm(r["few"][str(n)]) for n in LABELS_PER_GROUP), f"{100 * r['all']:.1f}"])
    n_groups = results["n_groups"]
    class_table = markdown_table(class_rows, [
        "Features", *(f"{n} labels/group ({n * n_groups})" for n in LABELS_PER_GROUP),
        f"all {results['n_train']} labels"])

    train_rows = [[f"{t['bits']}", f"{t['epochs']}", f"{t['seconds']:.0f}", f"{t['train_loss'][-1]:.1f}",
                   f"{t['test_loss']:.1f}", f"{100 * t['saturated']:.1f}", f"{t['distinct_codes']}"]
                  for t in results["training"]]
    train_table = markdown_table(train_rows, [
        "Bits", "Epochs", "Train seconds", "Final train loss (nats/doc)", "Test loss (nats/doc)",
        "Code units within 0.1 of 0 or 1 (%)", "Distinct binary codes (training set)"])

    a = results["args"]
    budget = (
        f"- Data: {results['data']}. Documents without a word of the vocabulary: {results['empty']['train']} "
        f"training, {results['empty']['test']} test; they stay "
        f"in (a zero TF-IDF row is at cosine distance 1 from everything, so it ranks the database at random).\n"
        f"- Autoencoders: `keras_ae.build(\"semantic_hashing\", latent_dim=bits, hidden={tuple(a['hidden'])}, "
        f"noise_level={a['noise_level']:g}, learning_rate={a['learning_rate']:g}, seed={a['seed']})`, Adam, "
        f"batch {a['batch_size']}, {a['epochs']} epoch(s) each, on the training counts without labels. LSA: "
        f"`TruncatedSVD(d, random_state={a['seed']})` on the TF-IDF matrix.\n"
        f"- Retrieval: every test document against every training document, seed {a['seed']} for the random "
        f"order of ties; curves over {a['pr_points']} geometric retrieval sizes. Search: the {SEARCH_K} nearest "
        f"of all {results['n_train']} for each of the {results['n_test']} queries, {SEARCH_BATCH} at a time, best "
        f"of {a['timing_repeats']} pass(es), NumPy/SciPy on the CPU; encoding a query is not included (its own "
        f"column: TF-IDF transform, plus the SVD projection for LSA, or the encoder's forward pass in "
        f"batches of 256). Bytes/doc: the database's storage per document (CSR values and column indices for "
        f"TF-IDF, float32 vectors, packed bits).\n"
        f"- Classification: `keras_ae.evaluation.linear_probe_accuracy` (standardized features, "
        f"`LogisticRegression(C=1, max_iter=1000)`) for every representation; few-label columns are the mean ± "
        f"standard deviation over {a['label_seeds']} labelled subsets (seeds {a['seed']}-"
        f"{a['seed'] + a['label_seeds'] - 1}), accuracy in % on the {results['n_test']} test documents.\n"
        f"- Whole run {results['seconds'] / 60:.1f} min.")
    return [
        results["machine"],
        ("**Smoke run** (synthetic documents, one epoch per model): the numbers check the script, not the methods."
         if results["smoke"] else "Full run."),
        "## Retrieval: precision of the nearest training documents (relevant = same newsgroup)",
        retrieval_table,
        "## Precision at fixed recall (interpolated on the precision-recall curves)",
        f"![Precision-recall curves]({figure_name})",
        curve_table,
        "## Classification accuracy (%) with few labels",
        class_table,
        "## Autoencoders",
        train_table,
        "## What the numbers say",
        findings(results),
        "## Notes",
        NOTES,
        "## Budget",
        budget,
    ]


def main(argv=None):
    args = parse_args(argv)
    results = results_of(args, lambda: run(args))
    out = Path(args.out)
    figure = out.with_name(FIGURE)  # a fixed name, so that the page does not depend on --out
    draw_curves(results, figure)
    blocks = report(results, figure.name)
    print("\n\n".join(blocks))
    write_results(out, "Document retrieval and few-label classification: TF-IDF, LSA and semantic hashing", *blocks)


if __name__ == "__main__":
    main()
