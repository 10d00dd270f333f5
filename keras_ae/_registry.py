"""The model registry: one name per builder, looked up by :func:`build`.

Builders register themselves with :func:`register_model`; importing
``keras_ae`` imports ``keras_ae.models`` and so registers every family.
"""

import inspect

from keras_ae._validation import invalid, suggest

__all__ = ["build", "get_builder", "list_models", "register_model"]

_MODELS = {}


def register_model(builder=None, *, name=None):
    """Registers a model builder under ``name`` (default: the function's name).

    Args:
        builder: A function taking keyword-only options and returning a
            compiled ``keras.Model``.
        name: The registered name. Defaults to ``builder.__name__``.

    Returns:
        The builder, unchanged (so this works as a decorator).

    Raises:
        ValueError: If the name is already registered.

    Example:

    ```python
    @keras_ae.register_model
    def tiny(*, input_shape, latent_dim, compile=True):
        ...
    ```
    """

    def decorator(fn):
        key = name or fn.__name__
        if key in _MODELS:
            raise ValueError(
                f"A model named '{key}' is already registered "
                f"(by {_MODELS[key].__module__}.{_MODELS[key].__qualname__}). "
                "Choose another name."
            )
        _MODELS[key] = fn
        return fn

    return decorator(builder) if builder is not None else decorator


def list_models():
    """Returns the sorted names of all registered models."""
    return sorted(_MODELS)


def get_builder(name):
    """Returns the builder registered under ``name``.

    Raises:
        ValueError: If ``name`` is unknown; the message lists the available
            names and suggests the closest one.
    """
    if name not in _MODELS:
        raise invalid("name", f"one of the registered models {list_models()}", name, suggest(name, _MODELS))
    return _MODELS[name]


def summary(name):
    """Returns the first line of the builder's docstring (for `keras-ae list`)."""
    doc = inspect.getdoc(get_builder(name)) or ""
    return doc.splitlines()[0] if doc else ""


def build(name, **options):
    """Builds a registered autoencoder by name.

    Args:
        name: A name from :func:`list_models`, e.g. ``"vae"``.
        **options: Keyword options of that builder, at least ``input_shape``
            and ``latent_dim``. Unknown options are an error.

    Returns:
        A ``keras.Model`` (compiled unless ``compile=False``) with two named
        sub-models, ``get_layer("encoder")`` and ``get_layer("decoder")``.

    Example:

    ```python
    import keras_ae
    model = keras_ae.build("vae", input_shape=(64,), latent_dim=2)
    model.fit(x, x, epochs=10)
    codes = model.get_layer("encoder").predict(x)
    ```
    """
    builder = get_builder(name)
    params = inspect.signature(builder).parameters
    for key in options:
        if key not in params:
            hint = suggest(key, params)
            raise TypeError(
                f"Unknown option '{key}' for model '{name}'. "
                f"Valid options: {sorted(params)}. {hint}".rstrip()
            )
    missing = [
        key
        for key, p in params.items()
        if p.default is inspect.Parameter.empty and key not in options
    ]
    if missing:
        raise TypeError(f"Model '{name}' needs the options {missing}.")
    return builder(**options)
