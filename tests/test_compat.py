"""The private Keras and TensorFlow API keras_ae uses still has the form it assumes.

Every private item lives in ``keras_ae/_compat.py``. Each test here checks one
of them on the installed versions and, when an upgrade changes it, fails
with what to re-check before extending the version ranges of ``_compat``.
"""

import inspect

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_ae import _compat, distribute

UPGRADE = (
    "keras_ae/_compat.py was checked with Keras {keras} and TensorFlow {tf}; the installed "
    "versions are Keras {keras_now}, TensorFlow {tf_now}. "
)


def _upgrade_note():
    return UPGRADE.format(
        keras=_compat.format_range(_compat.KERAS_VERSIONS),
        tf=_compat.format_range(_compat.TENSORFLOW_VERSIONS),
        keras_now=keras.version(),
        tf_now=tf.__version__,
    )


def test_installed_keras_is_in_the_checked_range():
    assert _compat.in_range(_compat.keras_version(), _compat.KERAS_VERSIONS), (
        _upgrade_note() + "Re-check every private Keras item of _compat.py (this file tells which "
        "still exist) and run tests/test_distribute.py (is Keras issue 20585 fixed? then drop the "
        "multi-worker shim), then extend KERAS_VERSIONS."
    )


def test_installed_tensorflow_is_in_the_checked_range():
    assert _compat.in_range(_compat.tensorflow_version(), _compat.TENSORFLOW_VERSIONS), (
        _upgrade_note() + "Re-check in_multi_worker_mode (the private "
        "strategy.extended._in_multi_worker_mode) and run tests/test_distribute.py, then extend "
        "TENSORFLOW_VERSIONS."
    )


def test_the_multi_worker_shim_is_checked_for_the_installed_keras():
    assert _compat.multi_worker_shim_supported(), (
        _upgrade_note() + "The multi-worker fit shim is not applied on this Keras: run "
        "tests/test_distribute.py::test_upstream_fit_still_fails_without_shim to see whether Keras "
        "issue 20585 is fixed, then drop the shim or extend MULTI_WORKER_SHIM_VERSIONS."
    )
    assert distribute.MULTI_WORKER_SHIM_VERSIONS == _compat.MULTI_WORKER_SHIM_VERSIONS


def test_version_helpers():
    assert _compat.format_range(((3, 15), (3, 16))) == "[3.15, 3.16)"
    assert _compat.in_range((3, 15), ((3, 15), (3, 16)))
    assert not _compat.in_range((3, 16), ((3, 15), (3, 16)))
    assert _compat.keras_version() == tuple(int(p) for p in keras.version().split(".")[:2])


@pytest.mark.parametrize("graph", [False, True], ids=["eager", "graph"])
def test_keras_logits_is_the_sigmoid_input(graph):
    x = tf.constant([[-40.0, -1.0, 0.0, 3.0, 40.0]])

    def logits_of_sigmoid(x):
        return _compat.keras_logits(keras.activations.sigmoid(x))

    logits = tf.function(logits_of_sigmoid)(x) if graph else logits_of_sigmoid(x)
    assert logits is not None, (
        _upgrade_note() + "keras.activations.sigmoid no longer sets the private '_keras_logits' "
        "attribute on its output: keras_ae.losses.logits_from_probs then recomputes logits "
        "from clipped probabilities (saturated Bernoulli losses become inexact). Find Keras' new "
        "way to keep the logits, or accept the clipped path and drop keras_logits."
    )
    np.testing.assert_array_equal(np.asarray(logits), x.numpy())
    assert _compat.keras_logits(tf.constant([0.5])) is None


def test_keras_tree_map_structure():
    tree = _compat.keras_tree()
    assert callable(getattr(tree, "map_structure", None)), (
        _upgrade_note() + "keras.src.tree.map_structure moved: update keras_tree() in _compat.py "
        "(the multi-worker shim maps over batches and logs with it)."
    )
    assert tree.map_structure(lambda v: v * 2, {"a": (1, 2), "b": 3}) == {"a": (2, 4), "b": 6}


def test_keras_tf_trainer_has_the_patched_functions():
    trainer = _compat.keras_tf_trainer()
    build = getattr(getattr(trainer, "TensorFlowTrainer", None), "_maybe_symbolic_build", None)
    reduce = getattr(trainer, "reduce_per_replica", None)
    hint = (
        _upgrade_note() + "The multi-worker shim replaces "
        "keras.src.backend.tensorflow.trainer.TensorFlowTrainer._maybe_symbolic_build(self, "
        "iterator=None, data_batch=None) and reduce_per_replica(values, strategy, reduction): "
        "check whether they still exist with that form and still have the bug of Keras issue "
        "20585 (tests/test_distribute.py), and update _make_multi_worker_patches in _compat.py."
    )
    assert callable(build) and callable(reduce), hint
    assert list(inspect.signature(build).parameters) == ["self", "iterator", "data_batch"], hint
    assert list(inspect.signature(reduce).parameters) == ["values", "strategy", "reduction"], hint
    source = inspect.getsource(build)
    # The replacement iterates the epoch iterator the same way, and builds the same way.
    assert "for _, _, it in iterator" in source and "self._symbolic_build(data_batch=" in source, hint
    assert "self._distribute_strategy" in source or "self.distribute_strategy" in source, hint


def test_in_multi_worker_mode_reads_the_private_tensorflow_method():
    module = inspect.getmodule(tf.distribute.MultiWorkerMirroredStrategy)
    extended = getattr(module, "CollectiveAllReduceExtended", None)
    method = getattr(extended, "_in_multi_worker_mode", None)
    assert callable(method) and list(inspect.signature(method).parameters) == ["self"], (
        _upgrade_note() + "TensorFlow's MultiWorkerMirroredStrategy.extended no longer has the "
        "private _in_multi_worker_mode(): update in_multi_worker_mode() in _compat.py (it decides "
        "when the multi-worker shim acts), then run tests/test_distribute.py."
    )
    # Any other strategy is never in multi-worker mode, without touching private API.
    assert not _compat.in_multi_worker_mode(tf.distribute.get_strategy())


def test_patches_apply_restore_and_probe_parts():
    trainer = _compat.keras_tf_trainer()
    originals = (trainer.TensorFlowTrainer._maybe_symbolic_build, trainer.reduce_per_replica)
    try:
        _compat.apply_multi_worker_patches()
        _compat.apply_multi_worker_patches()  # idempotent
        assert _compat.multi_worker_patches() == set(_compat.MULTI_WORKER_PATCHES)
        assert trainer.reduce_per_replica is not originals[1]
        with _compat.multi_worker_shim_parts("symbolic_build"):
            assert _compat.multi_worker_patches() == {"symbolic_build"}
            assert trainer.reduce_per_replica is originals[1]
            assert trainer.TensorFlowTrainer._maybe_symbolic_build is not originals[0]
        with _compat.multi_worker_shim_parts():
            assert (trainer.TensorFlowTrainer._maybe_symbolic_build, trainer.reduce_per_replica) == originals
        assert _compat.multi_worker_patches() == set(_compat.MULTI_WORKER_PATCHES)
        with pytest.raises(ValueError, match="Unknown parts"):
            _compat.apply_multi_worker_patches(["bogus"])
    finally:
        _compat.restore_multi_worker_patches()
    assert (trainer.TensorFlowTrainer._maybe_symbolic_build, trainer.reduce_per_replica) == originals
    assert _compat.multi_worker_patches() == set()


def test_patched_functions_keep_keras_behaviour_outside_multi_worker():
    """Without a multi-worker strategy the shim defers to Keras' own functions."""
    trainer = _compat.keras_tf_trainer()
    values = {"loss": tf.constant(1.5)}
    expected = trainer.reduce_per_replica(values, tf.distribute.get_strategy(), "auto")
    try:
        _compat.apply_multi_worker_patches()
        got = trainer.reduce_per_replica(values, tf.distribute.get_strategy(), "auto")
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        model.compile("sgd", "mse")
        model.fit(np.ones((4, 3), "float32"), np.ones((4, 2), "float32"), epochs=1, verbose=0)
    finally:
        _compat.restore_multi_worker_patches()
    assert float(got["loss"]) == float(expected["loss"]) == 1.5


def test_keras_config_module_holds_the_cache_directory():
    from keras_ae._compat import keras_config_module

    config = keras_config_module()
    assert isinstance(config._KERAS_DIR, str), (
        "keras.src.backend.config._KERAS_DIR changed; the data tests point it at a fixture cache"
    )


def test_installed_sklearn_is_in_the_checked_range():
    import sklearn

    assert _compat.in_range(_compat.sklearn_version(), _compat.SKLEARN_VERSIONS), (
        f"keras_ae/_compat.py was checked with scikit-learn {_compat.format_range(_compat.SKLEARN_VERSIONS)}; "
        f"the installed version is {sklearn.__version__}. Run "
        "tests/test_compat.py::test_sklearn_newsgroup_strippers_behave_as_assumed (it tells whether the "
        "private cleaners of sklearn.datasets._twenty_newsgroups still behave as load_20newsgroups "
        "assumes), then extend SKLEARN_VERSIONS."
    )


# A hand-written news message: header, an attribution line, a quoted line, body, signature.
_NEWS_MESSAGE = (
    "From: alice@example.com (Alice)\n"
    "Subject: Re: rockets\n"
    "Organization: Example University\n"
    "\n"
    "In article <1@example.com> bob@example.com (Bob) writes:\n"
    "> Rockets are loud.\n"
    "| Piped quote.\n"
    "Engines are louder.\n"
    "Second line of the body.\n"
    "--\n"
    "Alice Signature\n"
    "Example University\n"
)


def test_sklearn_newsgroup_strippers_behave_as_assumed():
    hint = (
        "scikit-learn's private 20 Newsgroups cleaners (strip_newsgroup_header, strip_newsgroup_footer, "
        "strip_newsgroup_quoting of sklearn.datasets._twenty_newsgroups) moved or changed: update "
        "sklearn_newsgroup_strippers() in keras_ae/_compat.py (keras_ae.data.load_20newsgroups strips "
        "its documents with them, as fetch_20newsgroups(remove=...) does), or copy the old functions "
        "there. "
    )
    try:
        strippers = _compat.sklearn_newsgroup_strippers()
    except (ImportError, AttributeError) as error:
        pytest.fail(hint + f"({error})")
    assert sorted(strippers) == ["footers", "headers", "quotes"] and all(map(callable, strippers.values())), hint
    body = _NEWS_MESSAGE.split("\n\n", 1)[1]
    # Everything up to the first blank line goes.
    assert strippers["headers"](_NEWS_MESSAGE) == body, hint + "strip_newsgroup_header"
    # The last line of hyphens and everything after it go (the text is stripped first).
    assert strippers["footers"](body) == body.split("--\n")[0].rstrip("\n"), hint + "strip_newsgroup_footer"
    # Lines starting with > or | and attribution lines ("In article ... writes:") go.
    assert strippers["quotes"](body) == (
        "Engines are louder.\nSecond line of the body.\n--\nAlice Signature\nExample University\n"
    ), hint + "strip_newsgroup_quoting"
    assert strippers["quotes"]("Bob wrote:\nkept\n") == "kept\n", hint + "strip_newsgroup_quoting"
    # Without a blank or hyphens-only line, nothing is a signature.
    assert strippers["footers"]("one line\ntwo lines") == "one line\ntwo lines", hint + "strip_newsgroup_footer"
    # All three, in fetch_20newsgroups' order.
    text = _NEWS_MESSAGE
    for part in ("headers", "footers", "quotes"):
        text = strippers[part](text)
    assert text == "Engines are louder.\nSecond line of the body.", hint
