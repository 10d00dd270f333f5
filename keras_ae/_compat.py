"""Everything keras_ae takes from outside the public Keras and TensorFlow API.

Only this module may touch private Keras or TensorFlow API (``keras.src``,
private attributes, ``tensorflow.python``); ``tests/test_lint.py`` checks
that no other module of the package does. Each item is version-guarded:
``tests/test_compat.py`` checks that every one of them still exists with the
form assumed here on the installed versions, and that those versions are in
the ranges below, and fails loudly, saying what to re-check, when an upgrade
moves them.

The items:

- :func:`keras_logits`: the ``_keras_logits`` attribute Keras' TensorFlow
  backend sets on a sigmoid's output (exact Bernoulli losses);
- :func:`keras_tree` and :func:`keras_tf_trainer`: ``keras.src.tree`` and
  ``keras.src.backend.tensorflow.trainer``, which the multi-worker ``fit``
  shim (Keras issue 20585) uses and patches;
- :func:`in_multi_worker_mode`: the private
  ``strategy.extended._in_multi_worker_mode()`` of TensorFlow's
  ``MultiWorkerMirroredStrategy``;
- the shim itself: :func:`apply_multi_worker_patches`,
  :func:`restore_multi_worker_patches`, :func:`multi_worker_patches` and
  :func:`multi_worker_shim_parts` (``keras_ae.distribute`` exposes it as
  ``enable_multi_worker_fit`` / ``disable_multi_worker_fit``).

And one private item of scikit-learn (checked with :data:`SKLEARN_VERSIONS`):

- :func:`sklearn_newsgroup_strippers`: the header, footer and quote
  cleaners of ``sklearn.datasets._twenty_newsgroups``, which
  ``keras_ae.data.load_20newsgroups`` applies as ``fetch_20newsgroups`` does.
"""

import contextlib
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

if keras.backend.backend() != "tensorflow":  # pragma: no cover
    raise ImportError(
        "keras_ae needs the TensorFlow backend of Keras. "
        f"Received: KERAS_BACKEND={keras.backend.backend()!r}"
    )

#: Keras versions the private pieces below were checked with: [low, high).
KERAS_VERSIONS = ((3, 15), (3, 16))
#: TensorFlow versions the private pieces below were checked with: [low, high).
TENSORFLOW_VERSIONS = ((2, 21), (2, 22))
#: scikit-learn versions the private pieces below were checked with: [low, high).
SKLEARN_VERSIONS = ((1, 9), (1, 10))
#: Keras versions whose internals the multi-worker shim was written against
#: and tested with (the bug is present and the patched functions have the
#: expected form): [low, high). Outside it the shim refuses to patch.
MULTI_WORKER_SHIM_VERSIONS = KERAS_VERSIONS

#: The two parts of the multi-worker shim, by name.
MULTI_WORKER_PATCHES = ("symbolic_build", "reduce_logs")


def _major_minor(version):
    return tuple(int(p) for p in str(version).split(".")[:2])


def keras_version():
    """The installed Keras ``(major, minor)``."""
    return _major_minor(keras.version())


def tensorflow_version():
    """The installed TensorFlow ``(major, minor)``."""
    return _major_minor(tf.__version__)


def sklearn_version():
    """The installed scikit-learn ``(major, minor)`` (imports scikit-learn)."""
    import sklearn

    return _major_minor(sklearn.__version__)


def format_range(versions):
    """``((3, 15), (3, 16))`` -> ``"[3.15, 3.16)"``."""
    low, high = versions
    return f"[{'.'.join(map(str, low))}, {'.'.join(map(str, high))})"


def in_range(version, versions):
    """Whether a ``(major, minor)`` version is in ``[low, high)``."""
    low, high = versions
    return low <= tuple(version) < high


# --------------------------------------------------------------------------
# Private Keras and TensorFlow items


def keras_logits(probs):
    """The logits Keras' TensorFlow backend keeps on a sigmoid's output, or ``None``.

    Private: the ``_keras_logits`` attribute that
    ``keras.activations.sigmoid`` sets on its output (Keras 3, TensorFlow
    backend), in eager mode and in a graph.
    """
    return getattr(probs, "_keras_logits", None)


def keras_tree():
    """``keras.src.tree`` (private), used by the multi-worker ``fit`` shim."""
    from keras.src import tree

    return tree


def keras_tf_trainer():
    """``keras.src.backend.tensorflow.trainer`` (private), patched by the multi-worker shim."""
    from keras.src.backend.tensorflow import trainer

    return trainer


def keras_config_module():
    """``keras.src.backend.config`` (private): tests point its ``_KERAS_DIR`` at a fixture cache."""
    from keras.src.backend import config

    return config


def in_multi_worker_mode(strategy):
    """Whether ``strategy`` is a ``MultiWorkerMirroredStrategy`` spanning several workers.

    Private: ``strategy.extended._in_multi_worker_mode()`` of TensorFlow's
    ``CollectiveAllReduceExtended``.
    """
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and bool(
        strategy.extended._in_multi_worker_mode()
    )


# --------------------------------------------------------------------------
# Private scikit-learn items


def sklearn_newsgroup_strippers():
    """scikit-learn's 20 Newsgroups cleaners, as ``{"headers": f, "footers": f, "quotes": f}``.

    Private: ``strip_newsgroup_header`` (drops everything up to the first
    blank line), ``strip_newsgroup_footer`` (drops the last block set apart
    by a blank or hyphens-only line, the signature) and
    ``strip_newsgroup_quoting`` (drops lines starting with ``>`` or ``|``
    and lines such as "In article ... writes:") of
    ``sklearn.datasets._twenty_newsgroups``: what
    ``sklearn.datasets.fetch_20newsgroups(remove=...)`` applies, in the
    order headers, footers, quotes. Each takes and returns a ``str``.
    """
    from sklearn.datasets import _twenty_newsgroups as module

    return {
        "headers": module.strip_newsgroup_header,
        "footers": module.strip_newsgroup_footer,
        "quotes": module.strip_newsgroup_quoting,
    }


# --------------------------------------------------------------------------
# The multi-worker fit shim (Keras issue 20585), see keras_ae.distribute


def _first_local_value(strategy, value):
    if isinstance(value, tf.distribute.DistributedValues):
        return strategy.experimental_local_results(value)[0]
    return value


def _make_multi_worker_patches():
    """Returns ``{name: (owner, attribute, replacement)}`` for the shim."""
    trainer = keras_tf_trainer()
    tree = keras_tree()
    original_build = trainer.TensorFlowTrainer._maybe_symbolic_build
    original_reduce = trainer.reduce_per_replica

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Upstream reduces the first distributed batch with
        # `strategy.reduce("MEAN", PerReplica, axis=None)` to get one example
        # batch for a symbolic build. Under a multi-worker strategy that
        # reduction is an eager collective that cannot take a `PerReplica`
        # (ValueError). Only shapes and dtypes are needed: take this
        # worker's first local replica batch instead.
        strategy = self._distribute_strategy
        if strategy is None or iterator is None or not in_multi_worker_mode(strategy):
            return original_build(self, iterator=iterator, data_batch=data_batch)
        for _, _, it in iterator:
            data_batch = tree.map_structure(lambda v: _first_local_value(strategy, v), next(it))
            break
        with strategy.scope():
            self._symbolic_build(data_batch=data_batch)

    def reduce_per_replica(values, strategy, reduction):
        # Upstream reduces logs with `strategy.reduce("MEAN", v, axis=0)` in
        # multi-worker mode, which fails on scalar logs (the loss) and, for
        # other logs, would also average over their first axis. `axis=None`
        # averages over the replicas only, as upstream does on one machine
        # (`tf.reduce_mean(local_results, axis=0)`).
        if reduction in ("auto", "mean") and in_multi_worker_mode(strategy):
            return tree.map_structure(lambda v: strategy.reduce("MEAN", v, axis=None), values)
        return original_reduce(values, strategy, reduction)

    return {
        "symbolic_build": (trainer.TensorFlowTrainer, "_maybe_symbolic_build", _maybe_symbolic_build),
        "reduce_logs": (trainer, "reduce_per_replica", reduce_per_replica),
    }


_ORIGINALS = {}


def multi_worker_shim_supported():
    """Whether the installed Keras is in :data:`MULTI_WORKER_SHIM_VERSIONS`."""
    return in_range(keras_version(), MULTI_WORKER_SHIM_VERSIONS)


def apply_multi_worker_patches(names=MULTI_WORKER_PATCHES):
    """Applies the named parts of the shim (idempotent); does not check the version."""
    names = list(names)
    unknown = sorted(set(names) - set(MULTI_WORKER_PATCHES))
    if unknown:
        raise ValueError(f"Unknown parts {unknown} of the multi-worker shim; "
                         f"expected some of {list(MULTI_WORKER_PATCHES)}.")
    patches = _make_multi_worker_patches() if names else {}
    for name in names:
        if name in _ORIGINALS:
            continue
        owner, attribute, replacement = patches[name]
        _ORIGINALS[name] = (owner, attribute, getattr(owner, attribute))
        setattr(owner, attribute, replacement)


def restore_multi_worker_patches(names=None):
    """Puts back Keras' own functions for the named parts (default: all applied ones)."""
    for name in list(_ORIGINALS) if names is None else list(names):
        if name in _ORIGINALS:
            owner, attribute, original = _ORIGINALS.pop(name)
            setattr(owner, attribute, original)


def multi_worker_patches():
    """The names of the parts of the shim now applied, as a set."""
    return set(_ORIGINALS)


@contextlib.contextmanager
def multi_worker_shim_parts(*names):
    """Applies only some parts of the shim inside the block (to probe Keras' own behaviour)."""
    previous = sorted(_ORIGINALS)
    restore_multi_worker_patches()
    apply_multi_worker_patches(names)
    try:
        yield
    finally:
        restore_multi_worker_patches()
        apply_multi_worker_patches(previous)
