"""Figures for autoencoders: training curves, reconstructions, codes, samples.

Every function builds a ``matplotlib.figure.Figure`` directly (no
``pyplot``, so no display and no global state), returns it, and writes a
PNG when ``path`` is given. Images may be batches of ``(h, w)``,
``(h, w, 1)`` or ``(h, w, 3)`` arrays, or flat vectors whose length is a
square (``64`` is shown as 8x8, ``784`` as 28x28).

Example:

```python
from keras_ae import plots

model.fit(x, x, epochs=10, validation_data=(x_test, x_test))
plots.plot_history(model.history.history, path="loss.png")
plots.plot_reconstructions(x_test, model.predict(x_test), path="reconstructions.png")
```
"""

import math
import numbers

import numpy as np
from matplotlib.figure import Figure

from keras_ae._validation import Shown, check_float, check_int, invalid

__all__ = [
    "plot_codes",
    "plot_history",
    "plot_interpolation",
    "plot_manifold",
    "plot_reconstructions",
    "plot_samples",
]

_DPI = 100


# --------------------------------------------------------------------------
# Public functions


def plot_history(history, *, path=None):
    """Plots every logged quantity of a training run against the epoch.

    Keys are grouped into metric families: ``"loss"`` and ``"val_loss"`` share
    one axis, ``"contraction"`` and ``"val_contraction"`` another, and so on.

    Args:
        history: A dict mapping names to one value per epoch (the
            ``history`` attribute of the ``keras.callbacks.History`` returned
            by ``fit``), or that ``History`` object itself.
        path: Optional file name; the figure is saved there (PNG by default).

    Returns:
        The ``matplotlib.figure.Figure``.

    Raises:
        ValueError: If ``history`` is empty or a value is not a non-empty
            sequence of numbers.

    Example:

    ```python
    history = model.fit(x, x, epochs=20, validation_data=(x_test, x_test))
    keras_ae.plots.plot_history(history.history, path="loss.png")
    ```
    """
    history = getattr(history, "history", history)
    if not isinstance(history, dict) or not history:
        raise _bad(
            "history", "a non-empty dict of per-epoch values (History.history)", _short(history)
        )
    curves = {}
    for key, values in history.items():
        try:
            array = np.asarray(values, dtype="float64").reshape(-1)
        except (TypeError, ValueError):
            array = np.empty(0)
        if not isinstance(key, str) or array.size == 0:
            raise _bad(
                "history", "a dict of names to non-empty sequences of numbers",
                f"<dict with {key!r}: {_short(values)}>",
            )
        curves[key] = array
    families = {}
    for key in curves:
        families.setdefault(key[4:] if key.startswith("val_") else key, []).append(key)
    # "loss" first, the rest in the order they were logged.
    names = sorted(families, key=lambda f: f != "loss")

    fig = Figure(figsize=(5.0 * len(names), 3.6), dpi=_DPI, layout="constrained")
    axes = fig.subplots(1, len(names), squeeze=False)[0]
    for ax, family in zip(axes, names):
        for key in sorted(families[family], key=lambda k: k.startswith("val_")):
            values = curves[key]
            epochs = np.arange(1, len(values) + 1)
            label = "validation" if key.startswith("val_") else "training"
            ax.plot(epochs, values, marker="o" if len(values) < 20 else None,
                    markersize=3, label=label)
        ax.set_title(family)
        ax.set_xlabel("epoch")
        ax.grid(True, alpha=0.3)
        ax.legend()
    return _finish(fig, path)


def plot_reconstructions(x, x_hat, n=10, *, path=None):
    """Shows ``n`` inputs (top row) above their reconstructions (bottom row).

    Args:
        x: Batch of inputs: images ``(batch, h, w[, 1])`` or flat vectors
            whose length is a square.
        x_hat: Reconstructions, same shape as ``x``.
        n: Positive number of examples shown (at most ``len(x)``).
        path: Optional file name to save the figure to.

    Returns:
        The ``matplotlib.figure.Figure``.

    Raises:
        ValueError: If the shapes differ or cannot be shown as images.

    Example:

    ```python
    keras_ae.plots.plot_reconstructions(x_test, model.predict(x_test), n=8)
    ```
    """
    n = check_int("n", n)
    images = _as_images("x", x)
    recons = _as_images("x_hat", x_hat)
    if np.shape(x) != np.shape(x_hat):
        raise _bad("x_hat", f"an array of the shape of x {np.shape(x)}",
                      f"<array of shape {np.shape(x_hat)}>")
    n = min(n, len(images))
    fig = Figure(figsize=(max(4.0, 0.9 * n), 2.6), dpi=_DPI, layout="constrained")
    axes = fig.subplots(2, 1)
    vmin, vmax = _value_range(images[:n], recons[:n])
    for ax, row, label in zip(axes, (images[:n], recons[:n]), ("input", "reconstruction")):
        _show_grid(ax, row[np.newaxis], vmin, vmax)
        ax.set_ylabel(label)
    fig.suptitle(f"{n} test examples and their reconstructions")
    return _finish(fig, path)


def plot_codes(codes, labels=None, *, path=None):
    """Scatter plot of codes in two dimensions, coloured by label.

    Two-dimensional codes are plotted as they are; longer codes are first
    projected on their two principal components (scikit-learn's ``PCA``, as
    the title says); one-dimensional codes are plotted against the example
    index.

    Args:
        codes: Array ``(n, latent_dim)`` (or ``(n,)``) of codes.
        labels: Optional array ``(n,)`` of integer classes used as colours.
        path: Optional file name to save the figure to.

    Returns:
        The ``matplotlib.figure.Figure``.

    Raises:
        ValueError: If ``codes`` is empty or not finite, or ``labels`` has a
            different length.

    Example:

    ```python
    codes = model.get_layer("encoder").predict(x_test)
    keras_ae.plots.plot_codes(codes, y_test, path="codes.png")
    ```
    """
    codes = _finite_array("codes", codes)
    if codes.ndim == 1:
        codes = codes[:, np.newaxis]
    if codes.ndim != 2 or len(codes) == 0:
        raise _bad("codes", "a non-empty array of shape (n, latent_dim)",
                      f"<array of shape {codes.shape}>")
    if labels is not None:
        labels = np.asarray(labels).reshape(-1)
        if len(labels) != len(codes):
            raise _bad("labels", f"one label per code ({len(codes)})",
                          f"<array of shape {np.shape(labels)}>")

    dim = codes.shape[1]
    if dim == 1:
        xy = np.column_stack([np.arange(len(codes)), codes[:, 0]])
        title, xlabel, ylabel = "1-D codes", "example index", "z"
    elif dim == 2:
        xy = codes
        title, xlabel, ylabel = "2-D codes", "z1", "z2"
    else:
        if len(codes) < 2:
            raise _bad("codes", "at least 2 codes to project with PCA",
                          f"<array of shape {codes.shape}>")
        from sklearn.decomposition import PCA

        pca = PCA(n_components=2)
        xy = pca.fit_transform(codes)
        explained = 100.0 * pca.explained_variance_ratio_.sum()
        title = f"{dim}-D codes projected to 2-D by PCA ({explained:.0f}% of the variance)"
        xlabel, ylabel = "principal component 1", "principal component 2"

    fig = Figure(figsize=(6.0, 5.0), dpi=_DPI, layout="constrained")
    ax = fig.subplots()
    if labels is None:
        ax.scatter(xy[:, 0], xy[:, 1], s=8, alpha=0.7)
    else:
        classes = np.unique(labels)
        colors = _class_colors(len(classes))
        for i, label in enumerate(classes):
            mask = labels == label
            ax.scatter(xy[mask, 0], xy[mask, 1], s=8, alpha=0.7,
                       color=colors[i], label=str(label))
        ax.legend(title="label", fontsize="small", markerscale=2,
                  loc="center left", bbox_to_anchor=(1.0, 0.5))
    ax.set_title(title, fontsize="medium")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return _finish(fig, path)


def plot_samples(decoder, latent_dim, n=16, seed=0, *, z=None, path=None):
    """Decodes ``n`` draws ``z ~ N(0, I)`` of the prior (or given codes ``z``) and shows them in a grid.

    Args:
        decoder: The decoder (``model.get_layer("decoder")``) or any callable
            mapping codes ``(n, latent_dim)`` to images or square vectors.
        latent_dim: Positive integer, size of ``z``.
        n: Positive number of samples.
        seed: Non-negative integer seed of the draws.
        z: Optional codes ``(n, latent_dim)`` drawn from another prior (e.g.
            ``aae.sample_prior(n)``), decoded instead of draws from N(0, I).
        path: Optional file name to save the figure to.

    Returns:
        The ``matplotlib.figure.Figure``.

    Raises:
        ValueError: If an argument is invalid.

    Example:

    ```python
    decoder = vae.get_layer("decoder")
    keras_ae.plots.plot_samples(decoder, latent_dim=2, n=25, path="samples.png")
    ```
    """
    latent_dim = _check_latent_dim(decoder, latent_dim)
    n = check_int("n", n)
    seed = check_int("seed", seed, minimum=0)
    title = f"{n} samples, z ~ N(0, I)"
    if z is None:
        z = np.random.default_rng(seed).standard_normal((n, latent_dim)).astype("float32")
    else:
        z = np.asarray(z, dtype="float32")
        if z.shape != (n, latent_dim):
            raise invalid("z", f"codes of shape (n, latent_dim) = {(n, latent_dim)}",
                          Shown(f"<array of shape {z.shape}>"))
        title = f"{n} samples of the prior"
    images = _as_images("decoder output", _decode(decoder, z))
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    grid = np.full((rows * cols, *images.shape[1:]), np.nan, dtype="float64")
    grid[:n] = images
    grid = grid.reshape(rows, cols, *images.shape[1:])

    fig = Figure(figsize=(0.9 * cols + 0.6, 0.9 * rows + 0.6), dpi=_DPI, layout="constrained")
    ax = fig.subplots()
    _show_grid(ax, grid, *_value_range(images))
    ax.set_title(title, fontsize="medium")
    return _finish(fig, path)


def plot_manifold(decoder, n=15, span=0.9, *, codes=None, seed=0, path=None):
    """Shows what the decoder makes of a grid (or paths) in the latent space.

    * ``latent_dim == 2``: decodes an ``n x n`` grid of ``z`` placed at the
      quantiles of the N(0, 1) prior along each axis, from ``(1 - span) / 2``
      to ``(1 + span) / 2``, so equal areas of the plot hold equal prior mass.
    * ``latent_dim == 1``: one row of ``n`` decoded quantiles.
    * ``latent_dim > 2``: no grid can cover the space, so each of ``n`` rows
      interpolates linearly, in ``n`` steps, between two codes drawn at random
      (with ``seed``) from ``codes``, e.g. the test set's codes.

    Args:
        decoder: The decoder (``model.get_layer("decoder")``), a Keras model
            whose input gives the latent size.
        n: Number of grid points per axis (or of rows and steps); at least 2.
        span: Prior probability covered along each axis, in (0, 1).
        codes: Array ``(m, latent_dim)`` of codes, with ``m >= 2``; required
            when ``latent_dim > 2``.
        seed: Non-negative integer choosing the pairs of codes.
        path: Optional file name to save the figure to.

    Returns:
        The ``matplotlib.figure.Figure``.

    Raises:
        ValueError: If an argument is invalid, or ``codes`` is missing when
            ``latent_dim > 2``.

    Example:

    ```python
    keras_ae.plots.plot_manifold(vae.get_layer("decoder"), n=20, path="manifold.png")
    codes = encoder.predict(x_test)  # for latent_dim > 2
    keras_ae.plots.plot_manifold(decoder, codes=codes, path="manifold.png")
    ```
    """
    latent_dim = _check_latent_dim(decoder, None)
    n = check_int("n", n, minimum=2)
    span = check_float("span", span, low=0, high=1, low_open=True, high_open=True)
    seed = check_int("seed", seed, minimum=0)
    from scipy.stats import norm

    quantiles = norm.ppf(np.linspace((1 - span) / 2, (1 + span) / 2, n))
    rows = 1 if latent_dim == 1 else n
    fig = Figure(figsize=(0.45 * n + 1.2, 0.45 * rows + 1.0), dpi=_DPI, layout="constrained")
    ax = fig.subplots()
    if latent_dim <= 2:
        if latent_dim == 1:
            z = quantiles[:, np.newaxis]
        else:
            # Row 0 at the top holds the largest z2, as on a y axis.
            z2, z1 = np.meshgrid(quantiles[::-1], quantiles, indexing="ij")
            z = np.column_stack([z1.ravel(), z2.ravel()])
        images = _as_images("decoder output", _decode(decoder, z.astype("float32")))
        _show_grid(ax, images.reshape(rows, n, *images.shape[1:]), *_value_range(images))
        h, w = images.shape[1:3]
        ax.set_xticks([(w + 1) * i + w / 2 for i in (0, n // 2, n - 1)],
                      [_tick(quantiles[i]) for i in (0, n // 2, n - 1)])
        ax.set_xlabel("z1" if latent_dim == 2 else "z")
        if latent_dim == 2:
            ax.set_yticks([(h + 1) * i + h / 2 for i in (0, n // 2, n - 1)],
                          [_tick(quantiles[::-1][i]) for i in (0, n // 2, n - 1)])
            ax.set_ylabel("z2")
        ax.set_title(f"decoded grid over the prior's quantiles ({span:.0%} of its mass per axis)",
                     fontsize="medium")
        return _finish(fig, path)

    if codes is None:
        raise _bad("codes", f"an array of codes (m, {latent_dim}) to interpolate between "
                      f"when latent_dim={latent_dim} > 2", None)
    codes = _finite_array("codes", codes)
    if codes.ndim != 2 or codes.shape[1] != latent_dim or len(codes) < 2:
        raise _bad("codes", f"an array of shape (m, {latent_dim}) with m >= 2",
                      f"<array of shape {codes.shape}>")
    rng = np.random.default_rng(seed)
    pairs = [rng.choice(len(codes), size=2, replace=False) for _ in range(n)]
    t = np.linspace(0.0, 1.0, n)[:, np.newaxis]
    z = np.concatenate([(1 - t) * codes[i] + t * codes[j] for i, j in pairs])
    images = _as_images("decoder output", _decode(decoder, z.astype("float32")))
    _show_grid(ax, images.reshape(n, n, *images.shape[1:]), *_value_range(images))
    ax.set_title(f"{n} linear interpolations between pairs of codes (latent_dim={latent_dim})",
                 fontsize="medium")
    return _finish(fig, path)


def plot_interpolation(decoder, z_start, z_end, steps=10, *, path=None):
    """Decodes the straight line from ``z_start`` to ``z_end`` in ``steps`` steps.

    Args:
        decoder: The decoder (``model.get_layer("decoder")``) or any callable
            mapping codes to images or square vectors.
        z_start: Code where the path starts, shape ``(latent_dim,)``.
        z_end: Code where it ends, same shape.
        steps: Number of decoded points, at least 2 (both ends included).
        path: Optional file name to save the figure to.

    Returns:
        The ``matplotlib.figure.Figure``.

    Raises:
        ValueError: If the codes differ in shape or an argument is invalid.

    Example:

    ```python
    z = encoder.predict(x_test[:2])
    keras_ae.plots.plot_interpolation(decoder, z[0], z[1], steps=12)
    ```
    """
    z_start = _finite_array("z_start", z_start).reshape(-1)
    z_end = _finite_array("z_end", z_end).reshape(-1)
    if z_start.size == 0 or z_start.shape != z_end.shape:
        raise _bad("z_end", f"a code of the shape of z_start {z_start.shape}",
                      f"<array of shape {z_end.shape}>")
    _check_latent_dim(decoder, z_start.size, name="z_start")
    steps = check_int("steps", steps, minimum=2)
    t = np.linspace(0.0, 1.0, steps)[:, np.newaxis]
    z = ((1 - t) * z_start + t * z_end).astype("float32")
    images = _as_images("decoder output", _decode(decoder, z))
    fig = Figure(figsize=(max(4.0, 0.9 * steps), 1.6), dpi=_DPI, layout="constrained")
    ax = fig.subplots()
    _show_grid(ax, images[np.newaxis], *_value_range(images))
    ax.set_title(f"interpolation in {steps} steps", fontsize="medium")
    return _finish(fig, path)


# --------------------------------------------------------------------------
# Helpers


def _bad(name, expected, received):
    """The project's ``ValueError`` wording, with ``received`` shown as is."""
    return ValueError(f"Invalid value for '{name}': expected {expected}. Received: {name}={received}")


def _short(value):
    text = repr(value)
    return text if len(text) <= 60 else f"<{type(value).__name__}>"


def _finite_array(name, value):
    try:
        array = np.asarray(value, dtype="float64")
    except (TypeError, ValueError):
        raise _bad(name, "an array of numbers", _short(value)) from None
    if not np.all(np.isfinite(array)):
        raise _bad(name, "finite values", f"<array of shape {array.shape} with NaN or inf>")
    return array


def _as_images(name, x):
    """Returns a batch as ``(n, h, w)`` or ``(n, h, w, 3)`` float arrays."""
    array = _finite_array(name, x)
    shape = array.shape
    if array.ndim == 2 and shape[1] > 0 and math.isqrt(shape[1]) ** 2 == shape[1]:
        side = math.isqrt(shape[1])
        array = array.reshape(len(array), side, side)
    elif array.ndim == 4 and shape[-1] == 1:
        array = array[..., 0]
    elif not (array.ndim == 3 or (array.ndim == 4 and shape[-1] == 3)):
        array = None
    if array is None or len(array) == 0 or 0 in array.shape:
        raise _bad(
            name,
            "a non-empty batch of images (n, h, w), (n, h, w, 1) or (n, h, w, 3), "
            "or of flat vectors whose length is a square (e.g. 64 or 784)",
            f"<array of shape {shape}>",
        )
    return array


def _value_range(*arrays):
    """Shows data in [0, 1] on that scale, anything else on its own range."""
    low = min(float(np.nanmin(a)) for a in arrays)
    high = max(float(np.nanmax(a)) for a in arrays)
    if low >= 0.0 and high <= 1.0:
        return 0.0, 1.0
    return low, high if high > low else low + 1.0


def _show_grid(ax, grid, vmin, vmax):
    """Tiles ``grid`` of shape ``(rows, cols, h, w[, 3])`` into one image."""
    rows, cols, h, w = grid.shape[:4]
    channels = grid.shape[4:]
    canvas = np.full(((h + 1) * rows - 1, (w + 1) * cols - 1, *channels), np.nan)
    for r in range(rows):
        for c in range(cols):
            canvas[r * (h + 1): r * (h + 1) + h, c * (w + 1): c * (w + 1) + w] = grid[r, c]
    if channels:
        canvas = np.clip((np.nan_to_num(canvas, nan=vmax) - vmin) / (vmax - vmin), 0, 1)
        ax.imshow(canvas, interpolation="nearest")
    else:
        from matplotlib import colormaps

        cmap = colormaps["gray"].with_extremes(bad="white")
        ax.imshow(np.ma.masked_invalid(canvas), cmap=cmap, vmin=vmin, vmax=vmax,
                  interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def _class_colors(count):
    from matplotlib import colormaps

    if count <= 20:
        cmap = colormaps["tab10" if count <= 10 else "tab20"]
        return [cmap(i) for i in range(count)]
    return [colormaps["viridis"](i / (count - 1)) for i in range(count)]


def _latent_size(decoder):
    """The decoder's input size if it is a Keras model, else ``None``."""
    for attr in ("inputs", "input"):
        tensors = getattr(decoder, attr, None)
        try:
            tensor = tensors[0] if isinstance(tensors, (list, tuple)) else tensors
            size = tensor.shape[-1]
        except (AttributeError, IndexError, TypeError, ValueError):
            continue
        if isinstance(size, numbers.Integral):
            return int(size)
    return None


def _check_latent_dim(decoder, latent_dim, name="latent_dim"):
    if not callable(decoder):
        raise _bad("decoder", "a Keras model or a callable mapping codes to images",
                      _short(decoder))
    expected = _latent_size(decoder)
    if latent_dim is None:
        if expected is None:
            raise _bad("decoder", "a Keras model with a known input size (latent_dim)",
                          _short(decoder))
        return expected
    if name == "latent_dim":
        latent_dim = check_int("latent_dim", latent_dim)
    if expected is not None and latent_dim != expected:
        raise _bad(name, f"codes of the decoder's input size {expected}",
                      f"<size {latent_dim}>" if name != "latent_dim" else latent_dim)
    return latent_dim


def _decode(decoder, z):
    # A direct (eager) call: `predict` would trace a new function for every
    # batch size, and the batches here are small.
    try:
        out = decoder(z, training=False)
    except TypeError:  # a plain callable without a `training` argument
        out = decoder(z)
    return np.asarray(out)


def _tick(value):
    return f"{round(float(value), 2) + 0.0:.2f}"  # + 0.0 turns -0.0 into 0.0


def _finish(fig, path):
    if path is not None:
        fig.savefig(path, dpi=_DPI)
    return fig
