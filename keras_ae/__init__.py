"""keras_ae: autoencoders for Keras 3 and TensorFlow.

Example:

```python
import keras_ae
model = keras_ae.build("vae", input_shape=(64,), latent_dim=2)
```
"""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402

if keras.backend.backend() != "tensorflow":  # pragma: no cover
    raise ImportError(
        "keras_ae needs the TensorFlow backend of Keras. "
        f"Received: KERAS_BACKEND={keras.backend.backend()!r}"
    )

from keras_ae import data, distribute, layers, losses, metrics, models  # noqa: E402,F401
from keras_ae._registry import build, get_builder, list_models, register_model  # noqa: E402
from keras_ae.layers import corrupt  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "build", "corrupt", "get_builder", "list_models", "register_model",
    "data", "distribute", "layers", "losses", "metrics", "models",
]
