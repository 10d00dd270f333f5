"""Anomaly detection with autoencoders, following scikit-learn's outlier detectors.

An autoencoder trained on (mostly) normal data reconstructs normal examples
well and anomalies badly, so a reconstruction error, or for a VAE a
likelihood, is an anomaly score. :class:`AutoencoderDetector` wraps any
registered model (``"dense"`` for tabular data, ``"conv"`` for images,
``"vae"`` for likelihood-based scores...) in scikit-learn's outlier-detection
conventions, those of ``sklearn.ensemble.IsolationForest``:

* ``fit(X)`` trains the model (early stopping on a held-out part of ``X``,
  no labels needed) and sets the threshold from the training scores;
* ``score_samples(X)``: higher means more normal (the opposite of the
  anomaly score); ``decision_function(X) = score_samples(X) - offset_``,
  negative for outliers; ``predict(X)``: ``+1`` inlier, ``-1`` outlier;
* PyOD's names are kept for what it adds: ``decision_scores_`` (anomaly
  scores of the training data) and ``threshold_``; :meth:`anomaly_scores`
  returns the raw anomaly score (higher means more anomalous).

Constructor arguments are stored unchanged, so ``sklearn.base.clone`` and
``Pipeline`` (e.g. after a ``StandardScaler``) work; a fitted detector
pickles (``joblib.dump``) with its Keras model, which loads back in safe mode.
:class:`SeriesDetector` applies a detector to sliding windows of a
(multivariate) time series and scores every time step.

Four threshold rules (:func:`threshold`) are compared in tutorial 09:
the contamination quantile, mean + k standard deviations, the maximum
training score (the rule of keras.io's time-series example) and the best F1
on labelled data.
"""

import math
import numbers
import os
import tempfile

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin, clone
from sklearn.utils.validation import check_is_fitted

from keras_ae import _validation as v

__all__ = [
    "SCORES",
    "THRESHOLDS",
    "AutoencoderDetector",
    "SeriesDetector",
    "point_adjust",
    "roc_auc_scorer",
    "sliding_windows",
    "step_scores",
    "threshold",
]

#: Anomaly scores, higher meaning more anomalous. The last three need a VAE.
SCORES = ("reconstruction_error", "elbo", "iwae", "reconstruction_probability")
#: Rules that turn the anomaly scores of reference data into a threshold.
THRESHOLDS = ("contamination", "mean_std", "max", "best_f1")
_VAE_SCORES = SCORES[1:]


def threshold(scores, rule="contamination", *, contamination=0.1, k=3.0, labels=None):
    """Turns anomaly scores of reference data into a threshold.

    An example is an anomaly when its score is strictly greater than the
    threshold.

    Args:
        scores: Anomaly scores (higher means more anomalous) of reference
            data, shape ``(n,)``: usually the training data.
        rule: ``"contamination"``: the ``1 - contamination`` quantile, so a
            fraction ``contamination`` of the reference data is flagged
            (scikit-learn's and PyOD's rule). ``"mean_std"``: the mean plus
            ``k`` standard deviations (a Gaussian tail rule). ``"max"``: the
            largest reference score, so no reference example is flagged
            (keras.io's time-series example; fragile when the training data
            holds anomalies). ``"best_f1"``: the threshold that maximizes F1
            on ``labels`` (needs labelled data, e.g. a validation split).
        contamination: Expected fraction of anomalies, in ``(0, 0.5]``. In
            novelty detection (clean reference data) it is the fraction of
            the reference data flagged; new normal data, which the model
            did not train on, usually scores higher, so their false-alarm
            rate is higher than ``contamination``.
        k: Number of standard deviations for ``"mean_std"``, ``>= 0``.
        labels: For ``"best_f1"``: array ``(n,)`` of 0 (normal) and 1
            (anomaly) holding both classes. Ignored by the other rules.

    Returns:
        A float.

    Raises:
        ValueError: For an unknown rule, scores that are not a finite
            non-empty 1-D array, or missing or invalid labels with
            ``"best_f1"``.

    Example:

    ```python
    t = keras_ae.anomaly.threshold(train_scores, "mean_std", k=3)
    flagged = test_scores > t
    ```
    """
    rule = v.check_choice("rule", rule, THRESHOLDS)
    scores = _check_scores("scores", scores)
    if rule == "contamination":
        return float(np.quantile(scores, 1.0 - _check_contamination(contamination)))
    if rule == "mean_std":
        return float(scores.mean() + v.check_float("k", k, low=0) * scores.std())
    if rule == "max":
        return float(scores.max())
    labels = _check_labels("labels", labels, len(scores))
    from sklearn.metrics import precision_recall_curve

    precision, recall, cuts = precision_recall_curve(labels, scores)
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.nan_to_num(2 * precision * recall / (precision + recall))
    best = int(np.argmax(f1[:-1]))  # the last point has no threshold
    # The curve flags `score >= cut`; ours flags `score > threshold`.
    return float(np.nextafter(cuts[best], -np.inf))


def roc_auc_scorer(estimator, X, y):
    """ROC-AUC of a fitted detector's anomaly scores: a scorer for model selection.

    scikit-learn's ``scoring="roc_auc"`` ranks examples by
    ``decision_function``, where higher means more *normal*; with labels
    1 = anomaly (as keras_ae's loaders give them) it reports ``1 - AUC``.
    This scorer ranks by the anomaly score, ``-score_samples(X)``, so pass
    it as ``scoring=`` to ``cross_val_score`` or ``GridSearchCV`` (which then
    fit on all of each training fold, and choose by labelled held-out folds).

    Args:
        estimator: A fitted detector (or a ``Pipeline`` ending in one) with
            ``score_samples``.
        X: Examples.
        y: Labels ``(n,)``: 0 normal, 1 anomaly, both present.

    Returns:
        The ROC-AUC, a float in ``[0, 1]``.

    Raises:
        ValueError: If ``y`` is not 0/1 labels of both classes for ``X``.

    Example:

    ```python
    from sklearn.model_selection import GridSearchCV
    search = GridSearchCV(AutoencoderDetector("dense"), {"model_options": [{"latent_dim": 2}, {"latent_dim": 8}]},
                          scoring=keras_ae.anomaly.roc_auc_scorer, cv=3).fit(x, y)
    ```
    """
    from sklearn.metrics import roc_auc_score

    labels = np.asarray(y)
    labels = _check_labels("y", labels, len(labels), purpose="a ROC-AUC")
    return float(roc_auc_score(labels, -np.asarray(estimator.score_samples(X))))


def point_adjust(labels, predictions):
    """Point adjustment of anomaly predictions (Xu et al., WWW 2018).

    Every labelled anomaly segment (a run of consecutive 1s in ``labels``)
    in which at least one point is predicted counts as found entirely. The
    time-series literature (e.g. OmniAnomaly, USAD) reports F1 after this
    adjustment; it favours detectors that flag one point per long segment,
    so report it beside the unadjusted F1, never instead of it.

    Args:
        labels: Array ``(n,)`` of 0 and 1, in time order.
        predictions: Array ``(n,)`` of 0 and 1 (or booleans).

    Returns:
        The adjusted predictions, an ``int64`` array ``(n,)``.

    Raises:
        ValueError: If the arrays are not 0/1 arrays of the same length.

    Example:

    ```python
    from sklearn.metrics import f1_score
    pa_f1 = f1_score(y, keras_ae.anomaly.point_adjust(y, detector.predict(x) == -1))
    ```
    """
    labels = _check_binary("labels", labels)
    predictions = _check_binary("predictions", predictions, len(labels))
    adjusted = predictions.copy()
    edges = np.flatnonzero(np.diff(np.concatenate([[0], labels, [0]])))
    for start, stop in zip(edges[::2], edges[1::2]):
        if adjusted[start:stop].any():
            adjusted[start:stop] = 1
    return adjusted


def sliding_windows(series, window, stride=1):
    """Cuts a time series into overlapping windows.

    The last window always ends at the last time step, so every step is in
    at least one window (the last stride may be shorter).

    Args:
        series: Array ``(n_steps,)`` or ``(n_steps, n_features)``.
        window: Positive integer, time steps per window, ``<= n_steps``.
        stride: Positive integer, steps between window starts.

    Returns:
        ``(windows, starts)``: a ``float32`` array ``(n_windows, window,
        n_features)`` and the ``int64`` start index of each window.

    Raises:
        ValueError: For a bad series, window or stride.

    Example:

    ```python
    windows, starts = keras_ae.anomaly.sliding_windows(values, window=288)
    ```
    """
    series = _check_series("series", series)
    window = v.check_int("window", window)
    stride = v.check_int("stride", stride)
    n = len(series)
    if window > n:
        raise v.invalid("window", f"at most the number of time steps ({n})", window)
    starts = np.arange(0, n - window + 1, stride, dtype=np.int64)
    if starts[-1] != n - window:
        starts = np.append(starts, n - window)
    view = np.lib.stride_tricks.sliding_window_view(series, window, axis=0)  # (n-w+1, d, w)
    return np.ascontiguousarray(view[starts].transpose(0, 2, 1), dtype=np.float32), starts


def step_scores(window_scores, starts, window, n_steps, reduce="mean"):
    """Scores of time steps from the scores of the windows containing them.

    Args:
        window_scores: Array ``(n_windows,)``, e.g. a detector's anomaly
            scores of the windows from :func:`sliding_windows`.
        starts: Array ``(n_windows,)`` of window start indices.
        window: Time steps per window.
        n_steps: Length of the series.
        reduce: ``"mean"``, ``"max"`` (a step is as anomalous as its worst
            window) or ``"min"`` (as its best window: flagged only when all
            its windows are).

    Returns:
        ``float64`` array ``(n_steps,)``.

    Raises:
        ValueError: If the windows do not cover every step, or for a bad
            ``reduce``.

    Example:

    ```python
    from sklearn.decomposition import PCA

    windows, starts = keras_ae.anomaly.sliding_windows(series, 32)
    flat = windows.reshape(len(windows), -1)
    pca = PCA(4).fit(flat)
    errors = ((flat - pca.inverse_transform(pca.transform(flat))) ** 2).sum(axis=1)
    per_step = keras_ae.anomaly.step_scores(errors, starts, 32, len(series))
    ```
    """
    reduce = v.check_choice("reduce", reduce, ("max", "mean", "min"))
    window_scores = _check_scores("window_scores", window_scores)
    raw = np.asarray(starts) if starts is not None else np.asarray([], dtype=object)
    if raw.dtype.kind not in "iu" or raw.ndim != 1:
        raise v.invalid("starts", "a 1-D array of integer start indices", _Described(raw))
    starts = raw.astype(np.int64)
    window = v.check_int("window", window)
    n_steps = v.check_int("n_steps", n_steps)
    if starts.shape != window_scores.shape:
        raise v.invalid("starts", f"one start per window score ({len(window_scores)})", _Described(starts))
    outside = starts[(starts < 0) | (starts + window > n_steps)]
    if outside.size:
        raise v.invalid("starts", f"window starts in [0, n_steps - window] = [0, {n_steps - window}]",
                        _Described(starts), f"{outside.size} starts are outside, e.g. {outside[:3].tolist()}")
    if reduce == "mean":
        total, count = np.zeros(n_steps), np.zeros(n_steps)
        for offset in range(window):
            np.add.at(total, starts + offset, window_scores)
            np.add.at(count, starts + offset, 1)
    else:
        total = np.full(n_steps, -np.inf if reduce == "max" else np.inf)
        count = np.zeros(n_steps)
        op = np.maximum if reduce == "max" else np.minimum
        for offset in range(window):
            op.at(total, starts + offset, window_scores)
            np.add.at(count, starts + offset, 1)
    if not count.all():
        raise v.invalid("starts", "windows covering every time step", f"{int((count == 0).sum())} steps uncovered")
    return total / count if reduce == "mean" else total


class _Detector(OutlierMixin, BaseEstimator):
    """scikit-learn's outlier API on top of ``anomaly_scores`` and ``threshold_``."""

    def anomaly_scores(self, X):  # pragma: no cover - implemented by subclasses
        raise NotImplementedError

    def score_samples(self, X):
        """Opposite of :meth:`anomaly_scores`: higher means more normal (scikit-learn's convention)."""
        return -self.anomaly_scores(X)

    def decision_function(self, X):
        """``score_samples(X) - offset_``: negative for outliers, positive for inliers."""
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        """``+1`` for inliers and ``-1`` for outliers (anomaly score above ``threshold_``)."""
        return np.where(self.decision_function(X) < 0, -1, 1)


class AutoencoderDetector(_Detector):
    """Anomaly detector scoring examples by how badly an autoencoder reconstructs them.

    The model is any registered ``keras_ae`` builder, trained on ``X`` with
    Adam and early stopping on a held-out fraction of ``X`` (model selection
    without labels: the weights of the epoch with the lowest validation loss
    are kept). Scores, per example (higher means more anomalous):

    * ``"reconstruction_error"``: squared error summed over features (units
      of the data squared), the classic score (Japkowicz et al. 1995;
      Sakurada & Yairi 2014);
    * ``"elbo"``: the negative ELBO, in nats, averaged over ``samples``
      posterior draws (VAEs);
    * ``"iwae"``: the IWAE estimate of ``-log p(x)`` with ``samples``
      importance samples, in nats (Burda et al. 2016; VAEs);
    * ``"reconstruction_probability"``: ``-log`` of An & Cho's (2015)
      reconstruction probability with ``samples`` draws, in nats (VAEs).

    Inputs are not scaled here: put a ``StandardScaler`` before the
    detector in a ``Pipeline`` for tabular data. The model defaults to a
    Gaussian likelihood (any real-valued data); pass
    ``model_options={"likelihood": "bernoulli"}`` for data in ``[0, 1]``.

    Args:
        model: Name of a registered model (``keras_ae.list_models()``).
        model_options: Dict of the builder's options, without
            ``input_shape`` (taken from ``X``). ``latent_dim`` defaults to
            the model's default code size, at most half the number of
            features; ``likelihood`` defaults to ``"gaussian"``.
        anomaly_score: One of :data:`SCORES`. (Not named ``score``:
            scikit-learn reserves that name for a scoring method.)
        threshold: Rule of the threshold, one of :data:`THRESHOLDS` (see
            :func:`threshold`); ``"best_f1"`` needs ``y`` in :meth:`fit`.
        contamination: Expected fraction of anomalies in ``(0, 0.5]``, for
            the ``"contamination"`` rule.
        k: Standard deviations of the ``"mean_std"`` rule.
        epochs: Maximum number of training epochs.
        batch_size: Examples per training step.
        validation_fraction: Fraction of ``X`` held out for early stopping,
            in ``[0, 1)``; 0 trains on everything and stops on the training
            loss.
        patience: Epochs without improvement before training stops.
        samples: Posterior samples of the VAE scores.
        seed: Seed of the split, the weights, the shuffling and the samples
            (``fit`` calls ``keras.utils.set_random_seed(seed)``, which also
            seeds Python's, NumPy's and TensorFlow's global generators).
        verbose: Keras' ``fit`` verbosity (0 silent).

    Attributes:
        model_: The trained Keras model.
        history_: ``model_.fit``'s history dict.
        best_epoch_: The (1-based) epoch whose weights were kept.
        decision_scores_: Anomaly scores of the training data, ``(n,)``.
        threshold_: Examples scoring above it are anomalies.
        offset_: ``-threshold_``, scikit-learn's offset.
        input_shape_: Shape of one example seen in ``fit``.
        n_features_in_: ``input_shape_[0]``, as scikit-learn records it.

    Example:

    ```python
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y = keras_ae.data.load_odds("cardio")
    detector = make_pipeline(StandardScaler(), keras_ae.anomaly.AutoencoderDetector(
        "dense", {"hidden": (32,), "latent_dim": 4}, contamination=0.1))
    detector.fit(x[y == 0])
    flagged = detector.predict(x) == -1
    ```
    """

    def __init__(self, model="dense", model_options=None, *, anomaly_score="reconstruction_error",
                 threshold="contamination", contamination=0.1, k=3.0, epochs=100, batch_size=64,
                 validation_fraction=0.1, patience=10, samples=16, seed=0, verbose=0):
        self.model = model
        self.model_options = model_options
        self.anomaly_score = anomaly_score
        self.threshold = threshold
        self.contamination = contamination
        self.k = k
        self.epochs = epochs
        self.batch_size = batch_size
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.samples = samples
        self.seed = seed
        self.verbose = verbose

    # ------------------------------------------------------------------
    # scikit-learn API

    def fit(self, X, y=None):
        """Trains the autoencoder on ``X`` and sets the threshold.

        Args:
            X: Array ``(n, ...)`` of examples, mostly normal.
            y: Ignored, except with ``threshold="best_f1"``: labels of ``X``
                (0 normal, 1 anomaly) used only to choose the threshold.

        Returns:
            ``self``.

        Raises:
            ValueError: For a bad parameter (named in the message), ``X``
                with NaN or infinite values or fewer than 2 examples, or a
                VAE score with a model that is not a VAE.
        """
        import keras

        import keras_ae
        from keras_ae.models import VariationalAutoencoder

        params = self._checked_params()
        X = self._check_X(X)
        labels = _check_labels("y", y, len(X)) if params["threshold"] == "best_f1" else None
        n_val = _n_validation(params["validation_fraction"], len(X))
        order = np.random.default_rng(params["seed"]).permutation(len(X))
        x_val, x_train = X[order[:n_val]], X[order[n_val:]]

        keras.utils.set_random_seed(params["seed"])
        model = keras_ae.build(params["model"], **self._build_options(X))
        if params["anomaly_score"] in _VAE_SCORES and not isinstance(model, VariationalAutoencoder):
            raise v.invalid("anomaly_score", "'reconstruction_error' for a model that is not a VAE "
                            f"(model={params['model']!r}); the likelihood scores need a VAE such as 'vae'",
                            params["anomaly_score"])
        monitor = "val_loss" if n_val else "loss"
        stopper = keras.callbacks.EarlyStopping(monitor=monitor, patience=params["patience"],
                                                restore_best_weights=True)
        history = model.fit(x_train, epochs=params["epochs"], batch_size=params["batch_size"],
                            validation_data=(x_val,) if n_val else None, shuffle=True,
                            callbacks=[stopper], verbose=params["verbose"])
        self.model_ = model
        self.history_ = history.history
        self.best_epoch_ = int(np.argmin(self.history_[monitor])) + 1
        self.input_shape_ = tuple(X.shape[1:])
        self.n_features_in_ = X.shape[1]
        self.decision_scores_ = self._scores(X)
        self._set_threshold(self.decision_scores_, labels)
        return self

    def anomaly_scores(self, X):
        """Anomaly scores of ``X``: higher means more anomalous.

        Args:
            X: Array ``(n, ...)`` shaped like the training examples.

        Returns:
            ``float64`` array ``(n,)`` in the units of ``anomaly_score``.

        Raises:
            sklearn.exceptions.NotFittedError: Before :meth:`fit`.
            ValueError: If ``X`` has NaN or infinite values or another
                example shape than in ``fit``.
        """
        check_is_fitted(self)
        return self._scores(self._check_X(X, self.input_shape_))

    # ------------------------------------------------------------------
    # Pickling: the Keras model travels as a .keras file.

    def __getstate__(self):
        state = super().__getstate__() if hasattr(super(), "__getstate__") else dict(self.__dict__)
        state = dict(state)
        if "model_" in state:
            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "model.keras")
                state["model_"].save(path)
                with open(path, "rb") as f:
                    state["model_"] = _KerasFile(f.read())
        return state

    def __setstate__(self, state):
        state = dict(state)
        if isinstance(state.get("model_"), _KerasFile):
            import keras_ae

            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "model.keras")
                with open(path, "wb") as f:
                    f.write(state["model_"].data)
                state["model_"] = keras_ae.load_model(path)
        if hasattr(super(), "__setstate__"):
            super().__setstate__(state)
        else:
            self.__dict__.update(state)

    # ------------------------------------------------------------------
    # Internals

    def _set_threshold(self, reference_scores, labels):
        self.threshold_ = threshold(reference_scores, self.threshold, contamination=self.contamination,
                                    k=self.k, labels=labels)
        self.offset_ = -self.threshold_

    def _checked_params(self):
        from keras_ae import _registry

        p = self.get_params(deep=False)
        p["model"] = v.check_choice("model", p["model"], _registry.list_models())
        options = p["model_options"]
        if options is not None and not isinstance(options, dict):
            raise v.invalid("model_options", "a dict of the builder's options or None", options)
        allowed = sorted(set(_registry.get_spec(p["model"]).options) - {"input_shape", "compile"})
        for key in options or {}:
            if key in ("input_shape", "compile"):
                raise v.invalid("model_options", f"options without '{key}' (the detector sets it)", options)
            if key not in allowed:
                raise v.invalid("model_options", f"options of model {p['model']!r} among {allowed}", options,
                                f"Unknown option {key!r}. {v.suggest(key, allowed)}".rstrip())
        p["anomaly_score"] = v.check_choice("anomaly_score", p["anomaly_score"], SCORES)
        p["threshold"] = v.check_choice("threshold", p["threshold"], THRESHOLDS)
        _check_contamination(p["contamination"])
        v.check_float("k", p["k"], low=0)
        v.check_int("epochs", p["epochs"])
        v.check_int("batch_size", p["batch_size"])
        v.check_float("validation_fraction", p["validation_fraction"], low=0, high=1, high_open=True)
        v.check_int("patience", p["patience"])
        v.check_int("samples", p["samples"])
        if v.check_int("seed", p["seed"], minimum=0) >= 2**32:
            raise v.invalid("seed", "an integer in [0, 2**32)", p["seed"])
        v.check_int("verbose", p["verbose"], minimum=0)
        return p

    def _build_options(self, X):
        from keras_ae import _registry

        spec = _registry.get_spec(self.model)
        features = math.prod(X.shape[1:])
        options = {"latent_dim": max(1, min(spec.default_latent_dim, features // 2))}
        if "likelihood" in spec.options:
            options["likelihood"] = "gaussian"
        if "seed" in spec.options:
            options["seed"] = self.seed
        options.update(self.model_options or {})
        options["input_shape"] = tuple(X.shape[1:])
        return options

    def _check_X(self, X, expected=None):
        X = _as_float32("X", X)
        if X.ndim < 2:
            raise v.invalid("X", "an array of examples of shape (n_samples, n_features, ...)", _Described(X))
        if len(X) < (2 if expected is None else 1):
            raise v.invalid("X", f"at least {2 if expected is None else 1} examples", _Described(X))
        if expected is not None and tuple(X.shape[1:]) != expected:
            raise v.invalid("X", f"examples of shape {expected}, as in fit", _Described(X))
        return X

    def _scores(self, X):
        from keras_ae import metrics

        model, n = self.model_, self.samples
        if self.anomaly_score == "reconstruction_error":
            reconstructions = model.predict(X, batch_size=max(self.batch_size, 256), verbose=0)
            return metrics.reconstruction_error(X, reconstructions)
        # Common random numbers: a row's score depends on the row and the seed only.
        if self.anomaly_score == "elbo":
            return -np.mean([metrics.elbo(model, X, seed=self.seed + i, common_noise=True) for i in range(n)], axis=0)
        if self.anomaly_score == "iwae":
            return -metrics.iwae_log_likelihood(model, X, k=n, seed=self.seed, common_noise=True)
        return -metrics.reconstruction_probability(model, X, samples=n, seed=self.seed, common_noise=True)


class SeriesDetector(_Detector):
    """Scores every time step of a series with a detector of sliding windows.

    The series ``(n_steps, n_features)`` is cut into windows of ``window``
    steps (:func:`sliding_windows`); ``detector`` (an unfitted
    :class:`AutoencoderDetector`, by default a ``"conv1d"`` model) is fitted
    on them, and a time step's score combines the scores of the windows that
    contain it: ``"mean"`` (smooth), ``"max"`` (flags a step when any of its
    windows is anomalous) or ``"min"`` (only when all of them are). The
    threshold is set on the step scores of the training series by
    ``detector``'s ``threshold``, ``contamination`` and ``k``.

    ``"min"`` with the ``"max"`` rule is close to the rule of keras.io's
    "Timeseries anomaly detection using an Autoencoder" (a step is anomalous
    when every window containing it scores above the largest training
    window score), with three differences. keras.io scores a window by its
    mean absolute error, the detector by its summed squared error (or the
    detector's ``anomaly_score``); the threshold here is the largest
    training *step* score (each step's best window), which is at most the
    largest training window score, so a few more steps are flagged; and the
    first and last ``window - 1`` steps, which keras.io never flags, are
    scored here from the fewer windows that contain them. Tutorial 09
    compares the two.

    Args:
        detector: An :class:`AutoencoderDetector` (cloned, never modified);
            ``None`` for ``AutoencoderDetector("conv1d")``.
        window: Time steps per window; the model's ``input_shape`` is
            ``(window, n_features)``, so for ``"conv1d"`` it must be
            divisible by ``2 ** len(filters)``.
        stride: Steps between window starts in ``fit`` (scoring always uses
            stride 1).
        point_score: ``"mean"``, ``"max"`` or ``"min"``.

    Attributes:
        detector_: The fitted window detector.
        decision_scores_: Step scores of the training series.
        threshold_, offset_: As in :class:`AutoencoderDetector`.

    Example:

    ```python
    _, values, labels = keras_ae.data.load_nab("art_daily_jumpsup")
    normal = keras_ae.data.load_nab("art_daily_small_noise")[1]
    mean, std = normal.mean(), normal.std()
    # Close to keras.io's rule: a step is anomalous when all its windows
    # score above the largest training score.
    detector = keras_ae.anomaly.SeriesDetector(
        keras_ae.anomaly.AutoencoderDetector("conv1d", threshold="max"), window=288, point_score="min")
    detector.fit((normal[:, None] - mean) / std)
    flagged = detector.predict((values[:, None] - mean) / std) == -1
    ```
    """

    def __init__(self, detector=None, *, window=32, stride=1, point_score="mean"):
        self.detector = detector
        self.window = window
        self.stride = stride
        self.point_score = point_score

    def fit(self, X, y=None):
        """Fits the window detector on the windows of the series ``X``.

        Args:
            X: Array ``(n_steps,)`` or ``(n_steps, n_features)``.
            y: Ignored, except with the ``"best_f1"`` threshold rule:
                per-step labels of ``X`` (0 normal, 1 anomaly).

        Returns:
            ``self``.

        Raises:
            ValueError: For a bad parameter or series.
        """
        detector = self.detector if self.detector is not None else AutoencoderDetector("conv1d")
        if not isinstance(detector, AutoencoderDetector):
            raise v.invalid("detector", "an AutoencoderDetector or None", detector)
        detector._checked_params()  # every mistake is reported before training
        v.check_choice("point_score", self.point_score, ("max", "mean", "min"))
        series = _check_series("X", X)
        labels = _check_labels("y", y, len(series)) if detector.threshold == "best_f1" else None
        windows, _ = sliding_windows(series, self.window, self.stride)
        needed = 2
        if len(windows) < needed:
            raise v.invalid("window", f"a window and stride leaving at least {needed} windows of the "
                            f"{len(series)}-step series to train on", self.window,
                            f"With stride={self.stride} there are {len(windows)}")
        # The window model's own threshold is not used; this one is set on steps.
        self.detector_ = clone(detector).set_params(threshold="contamination").fit(windows)
        self.n_features_in_ = series.shape[1]
        self.decision_scores_ = self._step_scores(series)
        self.threshold_ = threshold(self.decision_scores_, detector.threshold,
                                    contamination=detector.contamination, k=detector.k, labels=labels)
        self.offset_ = -self.threshold_
        return self

    def anomaly_scores(self, X):
        """Anomaly score of every time step of ``X``, ``(n_steps,)``; higher is more anomalous."""
        check_is_fitted(self)
        series = _check_series("X", X)
        if series.shape[1] != self.n_features_in_:
            raise v.invalid("X", f"a series of {self.n_features_in_} features per step, as in fit",
                            _Described(np.asarray(X)))
        return self._step_scores(series)

    def _step_scores(self, series):
        windows, starts = sliding_windows(series, self.window, 1)
        window_scores = self.detector_.anomaly_scores(windows)
        return step_scores(window_scores, starts, self.window, len(series), self.point_score)


class _KerasFile:
    """The bytes of a saved ``.keras`` file inside a pickled detector."""

    def __init__(self, data):
        self.data = data


# --------------------------------------------------------------------------
# Checks


class _Described:
    """Shows an array as ``<float32 array of shape (n, d)>`` in an error message."""

    def __init__(self, x):
        self.text = v._describe(x) + ">"

    def __repr__(self):
        return self.text


def _as_float32(name, x):
    """``x`` as a finite float32 NumPy array, or the standard error naming ``name``."""
    if hasattr(x, "toarray"):
        raise v.invalid(name, "a dense array (sparse matrices are not supported)", type(x).__name__)
    try:
        array = np.asarray(x)
    except ValueError as error:  # ragged nested lists
        raise v.invalid(name, "a rectangular array of numbers", f"<{type(x).__name__}: {error}>") from None
    v.check_array(name, array, finite=True)
    with np.errstate(over="ignore"):
        converted = array.astype(np.float32, copy=False)
    if array.dtype.kind == "f" and not np.isfinite(converted).all():
        raise v.invalid(name, "values within float32's range (|x| < 3.4e38)", _Described(array))
    return converted


def _n_validation(fraction, n):
    """Size of the validation split: ``round(fraction * n)``, at least 1 when ``fraction > 0``."""
    if fraction == 0:
        return 0
    if n < 2:
        raise v.invalid("X", "at least 2 examples when validation_fraction > 0 (or validation_fraction=0)",
                        f"<{n} example(s)>")
    return min(n - 1, max(1, int(round(fraction * n))))


def _check_contamination(value):
    return v.check_float("contamination", value, low=0, high=0.5, low_open=True)


def _check_scores(name, scores):
    scores = np.asarray(v.check_array(name, np.asarray(scores), finite=True), dtype=np.float64)
    if scores.ndim != 1 or scores.size == 0:
        raise v.invalid(name, "a non-empty 1-D array of anomaly scores", _Described(scores))
    return scores


def _check_binary(name, values, n=None):
    if values is None:
        raise v.invalid(name, "an array of 0 (normal) and 1 (anomaly)", None)
    array = np.asarray(values)
    if array.ndim != 1 or (n is not None and len(array) != n):
        expected = f"a 1-D array of {n} labels" if n is not None else "a 1-D array"
        raise v.invalid(name, f"{expected} of 0 (normal) and 1 (anomaly)", _Described(array))
    if array.dtype.kind not in "biuf" or not np.isin(array, (0, 1)).all():
        raise v.invalid(name, "labels 0 (normal) and 1 (anomaly)",
                        f"array with values {np.unique(array)[:5].tolist()}")
    return array.astype(np.int64)


def _check_labels(name, labels, n, purpose="threshold='best_f1'"):
    if labels is None:
        raise v.invalid(name, f"{n} labels of 0 (normal) and 1 (anomaly) for {purpose}", None)
    labels = _check_binary(name, labels, n)
    if labels.min() == labels.max():
        raise v.invalid(name, f"labels holding both classes, 0 (normal) and 1 (anomaly), for {purpose}",
                        f"<{n} labels all equal to {labels[0]}>")
    return labels


def _check_series(name, series):
    if isinstance(series, numbers.Number):
        raise v.invalid(name, "a series of shape (n_steps,) or (n_steps, n_features)", series)
    series = _as_float32(name, series)
    if series.ndim == 1:
        series = series[:, None]
    if series.ndim != 2 or len(series) == 0:
        raise v.invalid(name, "a series of shape (n_steps,) or (n_steps, n_features)", _Described(series))
    return series

