"""The model registry: one name per builder, its declared options, one check.

Each builder registers itself with :func:`register_model`, declaring its
metadata beside it as data: the constraint of every option (scikit-learn
style, see :mod:`keras_ae._validation`), the rank of its input, its default
code size and whether it has a prior to sample from. :func:`build` (and a
direct call of the builder) checks every option against its declaration
before the builder runs, on every branch, so each builder only checks what
relates several options.

This module does not import TensorFlow. The registry is filled when
``keras_ae.models`` is imported (on the first :func:`build`,
:func:`list_models`...); the command line reads the same declarations from
``keras_ae/_catalog.py``, a snapshot written by
``python -m keras_ae._registry`` and checked against the live registry by
``tests/test_registry.py``, so that ``keras-ae list`` and every refusal
answer without loading TensorFlow.
"""

import functools
import importlib
import inspect

from keras_ae import _validation as v
from keras_ae._validation import Boolean, Constraint, OneOf, Real, Seed, Shape  # noqa: F401

__all__ = ["ModelSpec", "build", "get_builder", "get_spec", "list_models", "load_model", "register_model"]

ACTIVATIONS = ("elu", "gelu", "leaky_relu", "linear", "relu", "selu", "sigmoid", "softplus", "swish", "tanh")
LIKELIHOODS = ("bernoulli", "gaussian")

#: Constraints of the options most builders share; a builder's own
#: declarations extend or override them.
COMMON_OPTIONS = {
    "input_shape": v.Shape(),
    "latent_dim": v.Integer(1),
    "activation": v.OneOf(*ACTIVATIONS),
    "likelihood": v.OneOf(*LIKELIHOODS),
    "learning_rate": v.Real(low=0, low_open=True),
    "seed": v.Seed(),
    "compile": v.Boolean(),
}

_MODELS = {}
_SPECS = {}
_REQUIRED = object()


class ModelSpec:
    """What the registry knows of a model without building it.

    Attributes:
        name: The registered name.
        module: The module defining the builder.
        summary: The first line of the builder's docstring.
        options: Dict ``option -> (constraint, default)``; the default is
            ``REQUIRED`` for ``input_shape`` and ``latent_dim``.
        input_rank: Rank of one example the model takes (1 for vectors, 2
            for ``(timesteps, features)`` windows of a time series, 3 for
            ``(height, width, channels)`` images), or ``(option, {value:
            rank})`` when an option decides it.
        default_latent_dim: The code size the command line uses by default.
        has_prior: Whether the decoder can be sampled from a prior p(z).
    """

    REQUIRED = "<required>"

    def __init__(self, name, module, summary, options, input_rank=1, default_latent_dim=16, has_prior=False):
        self.name = name
        self.module = module
        self.summary = summary
        self.options = dict(options)
        self.input_rank = input_rank
        self.default_latent_dim = default_latent_dim
        self.has_prior = has_prior

    def rank_for(self, options):
        """The input rank for the given builder options."""
        if isinstance(self.input_rank, int):
            return self.input_rank
        option, ranks = self.input_rank
        value = options.get(option, self.options[option][1])
        return ranks[value]

    def check(self, options):
        """Checks option names, required options and every value; returns the values as checked.

        Raises:
            TypeError: For an unknown option or a missing required one.
            ValueError: For a value its declaration refuses.
        """
        for key in options:
            if key not in self.options:
                hint = v.suggest(key, self.options)
                raise TypeError(
                    f"Unknown option '{key}' for model '{self.name}'. "
                    f"Valid options: {sorted(self.options)}. {hint}".rstrip()
                )
        missing = [key for key, (_, default) in self.options.items()
                   if default == self.REQUIRED and key not in options]
        if missing:
            raise TypeError(f"Model '{self.name}' needs the options {missing}.")
        return {key: self.options[key][0].check(key, value) for key, value in options.items()}

    def __eq__(self, other):
        return isinstance(other, ModelSpec) and vars(self) == vars(other)

    def __repr__(self):
        options = "".join(f"\n        {k!r}: ({c!r}, {d!r})," for k, (c, d) in self.options.items())
        return (
            f"ModelSpec(\n    name={self.name!r},\n    module={self.module!r},\n"
            f"    summary={self.summary!r},\n    options={{{options}\n    }},\n"
            f"    input_rank={self.input_rank!r},\n    default_latent_dim={self.default_latent_dim!r},\n"
            f"    has_prior={self.has_prior!r},\n)"
        )


def register_model(builder=None, *, name=None, options=None, input_rank=1, default_latent_dim=16,
                   has_prior=False):
    """Registers a model builder and its declared options.

    Every keyword argument of the builder needs a constraint: from
    ``options`` or from :data:`COMMON_OPTIONS`. The returned function checks
    all its options before calling the builder.

    Args:
        builder: A function taking keyword-only options and returning a
            ``keras.Model``.
        name: The registered name. Defaults to ``builder.__name__``.
        options: Dict ``option -> keras_ae._validation.Constraint``.
        input_rank: 1 (vectors), 2 (time-series windows), 3 (images), or
            ``(option, {value: rank})``.
        default_latent_dim: Code size the command line uses by default.
        has_prior: Whether samples can be drawn from a prior p(z).

    Returns:
        The checked builder (so this works as a decorator).

    Raises:
        ValueError: If the name is already registered.
        TypeError: If a builder option has no declared constraint.

    Example:

    ```python
    @keras_ae.register_model(options={"width": keras_ae._validation.Integer(1)})
    def tiny(*, input_shape, latent_dim, width=8, compile=True):
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
        declared = {**COMMON_OPTIONS, **(options or {})}
        table = {}
        for param, p in inspect.signature(fn).parameters.items():
            if param not in declared:
                raise TypeError(f"Option '{param}' of model '{key}' has no declared constraint.")
            if not isinstance(declared[param], Constraint):
                raise TypeError(f"The constraint of option '{param}' of model '{key}' is not a Constraint.")
            default = ModelSpec.REQUIRED if p.default is inspect.Parameter.empty else p.default
            table[param] = (declared[param], default)
        doc = inspect.getdoc(fn) or ""
        spec = ModelSpec(key, fn.__module__, doc.splitlines()[0] if doc else "", table,
                         input_rank, default_latent_dim, has_prior)

        @functools.wraps(fn)
        def checked(**kwargs):
            options = spec.check(kwargs)
            model = fn(**options)
            if isinstance(getattr(model, "options", None), dict):
                # The model records what built it (JSON-ready), for metrics,
                # `keras-ae evaluate` and the reader of a saved file.
                full = {k: d for k, (_, d) in spec.options.items() if d != spec.REQUIRED}
                full.update(options)
                full.pop("compile", None)
                model.options = {"model": key, **jsonable(full)}
            return model

        _MODELS[key] = checked
        _SPECS[key] = spec
        return checked

    return decorator(builder) if builder is not None else decorator


def jsonable(value):
    """``value`` with tuples turned into lists, as JSON and a model's config store it."""
    if isinstance(value, dict):
        return {k: jsonable(x) for k, x in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(x) for x in value]
    return value


def _ensure_models():
    importlib.import_module("keras_ae.models")


def list_models():
    """Returns the sorted names of all registered models."""
    _ensure_models()
    return sorted(_MODELS)


def get_spec(name):
    """Returns the :class:`ModelSpec` registered under ``name``."""
    get_builder(name)
    return _SPECS[name]


def get_builder(name):
    """Returns the builder registered under ``name``.

    Raises:
        ValueError: If ``name`` is unknown; the message lists the available
            names and suggests the closest one.
    """
    _ensure_models()
    if name not in _MODELS:
        raise v.invalid("name", f"one of the registered models {list_models()}", name, v.suggest(name, _MODELS))
    return _MODELS[name]


def summary(name):
    """Returns the first line of the builder's docstring (for `keras-ae list`)."""
    return get_spec(name).summary


def build(name, **options):
    """Builds a registered autoencoder by name.

    Args:
        name: A name from :func:`list_models`, e.g. ``"vae"``.
        **options: Keyword options of that builder, at least ``input_shape``
            and ``latent_dim``. Each is checked against its declaration.

    Returns:
        A ``keras.Model`` (compiled unless ``compile=False``) with two named
        sub-models, ``get_layer("encoder")`` and ``get_layer("decoder")``.

    Raises:
        ValueError: For an unknown name or a value an option refuses.
        TypeError: For an unknown or missing option.

    Example:

    ```python
    import keras_ae
    model = keras_ae.build("vae", input_shape=(64,), latent_dim=2)
    model.fit(x, epochs=10)
    codes = model.get_layer("encoder").predict(x)
    ```
    """
    return get_builder(name)(**options)


def load_model(path, *, compile=True, safe_mode=True):
    """Loads a ``.keras`` file saved from any keras_ae model.

    Equivalent to ``import keras_ae.models`` (which registers the custom
    classes) followed by ``keras.models.load_model``, with a clear error for
    a missing file.

    Args:
        path: Path of a ``.keras`` file.
        compile: Whether to restore the optimizer(s) and loss.
        safe_mode: Keras' safe mode (no arbitrary code); keep it on.

    Returns:
        The ``keras.Model``.

    Raises:
        ValueError: If ``path`` is not an existing ``.keras`` file, or the
            file is not a zip archive (corrupted or truncated).

    Example:

    ```python
    model = keras_ae.load_model("runs/vae-digits/model.keras", compile=False)
    ```
    """
    import os

    if not isinstance(path, (str, os.PathLike)) or not str(path).endswith(".keras") or not os.path.isfile(path):
        raise v.invalid("path", "the path of an existing .keras file", path)
    import zipfile

    if not zipfile.is_zipfile(path):
        raise v.invalid("path", "a .keras file (a zip archive written by model.save)",
                        v.Shown(f"{str(path)!r}, which is not a zip archive: corrupted or truncated?"))
    _ensure_models()
    import keras

    return keras.models.load_model(path, compile=compile, safe_mode=safe_mode)


def catalog_source():
    """Returns the source of ``keras_ae/_catalog.py`` for the live registry."""
    lines = [
        '"""Snapshot of the registry for the command line (no TensorFlow needed).',
        "",
        "Written by ``python -m keras_ae._registry``; tests/test_registry.py fails",
        "when it differs from the live registry.",
        '"""',
        "",
        "from keras_ae._registry import ModelSpec",
        "from keras_ae._validation import (  # noqa: F401",
        "    Boolean, Integer, IntTuple, ModelOr, Names, OneOf, OrNone, Real, RealTuple, Seed, Shape,",
        ")",
        "",
        "SPECS = {",
    ]
    for name in list_models():
        body = repr(_SPECS[name]).replace("\n", "\n    ")
        lines.append(f"    {name!r}: {body},")
    lines.append("}")
    return "\n".join(lines) + "\n"


def catalog():
    """The registry's specs from the snapshot, without importing TensorFlow."""
    from keras_ae._catalog import SPECS

    return SPECS


if __name__ == "__main__":
    import pathlib

    from keras_ae import _registry  # the module the builders registered in, not __main__

    target = pathlib.Path(__file__).parent / "_catalog.py"
    target.write_text(_registry.catalog_source(), encoding="utf-8")
    print(f"Wrote {target}")
