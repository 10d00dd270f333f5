"""keras_ae: autoencoders for Keras 3 and TensorFlow.

Example:

```python
import keras_ae
model = keras_ae.build("vae", input_shape=(64,), latent_dim=2)
```

Importing ``keras_ae`` is fast: TensorFlow loads on first use of anything
that needs it (``keras_ae.build``, ``keras_ae.layers``...), so the
``keras-ae`` command answers ``list`` and ``--help`` at once. A saved model
loads with :func:`keras_ae.load_model`, or with ``keras.models.load_model``
after ``import keras_ae.models`` (which registers the custom classes).
"""

import importlib
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

__version__ = "0.1.0"

# The registry does not import TensorFlow; its functions load the models on first use.
from keras_ae._registry import build, get_builder, get_spec, list_models, load_model, register_model  # noqa: E402,F401

_SUBMODULES = ("anomaly", "callbacks", "data", "distribute", "evaluation", "layers", "losses", "metrics", "models",
               "plots", "retrieval", "sample_quality")
_FUNCTIONS = {"corrupt": "keras_ae.layers"}
_REGISTRY = ("build", "get_builder", "get_spec", "list_models", "load_model", "register_model")

__all__ = sorted([*_SUBMODULES, *_FUNCTIONS, *_REGISTRY])


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"keras_ae.{name}")
    if name in _FUNCTIONS:
        return getattr(importlib.import_module(_FUNCTIONS[name]), name)
    raise AttributeError(f"module 'keras_ae' has no attribute '{name}'")


def __dir__():
    return sorted([*globals(), *_SUBMODULES, *_FUNCTIONS])
