"""Everything keras_ae takes from outside the public Keras and TensorFlow API.

Each item is version-guarded: ``tests/test_compat.py`` checks that every one
of them still exists and behaves as assumed on the installed versions, and
fails loudly when an upgrade changes them.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402

if keras.backend.backend() != "tensorflow":  # pragma: no cover
    raise ImportError(
        "keras_ae needs the TensorFlow backend of Keras. "
        f"Received: KERAS_BACKEND={keras.backend.backend()!r}"
    )

#: Keras versions the private pieces below were checked with: [low, high).
KERAS_VERSIONS = ((3, 15), (3, 16))


def keras_version():
    """The installed Keras ``(major, minor)``."""
    return tuple(int(p) for p in keras.version().split(".")[:2])


def keras_logits(probs):
    """The logits Keras' TensorFlow backend keeps on a sigmoid's output, or ``None``.

    Private: the ``_keras_logits`` attribute of ``keras.activations.sigmoid``
    outputs (Keras 3, TensorFlow backend).
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
