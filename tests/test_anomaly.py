"""keras_ae.anomaly: detectors in scikit-learn's conventions, thresholds, windows."""

import pickle

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import f1_score, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from keras_ae import anomaly
from keras_ae.anomaly import AutoencoderDetector, SeriesDetector

SMALL = {"hidden": (16,), "latent_dim": 2}
FAST = {"epochs": 40, "batch_size": 32, "patience": 5}


def _low_rank(n, seed=0, shift=0.0):
    """Points near a 2-D plane in 10-D (normal data), shifted off-plane if asked."""
    rng = np.random.default_rng(seed)
    w = np.random.default_rng(123).normal(size=(2, 10))
    x = rng.normal(size=(n, 2)) @ w + 0.1 * rng.normal(size=(n, 10))
    return (x + shift * rng.normal(size=(n, 10))).astype("float32")


@pytest.fixture(scope="module")
def data():
    x_train = _low_rank(400)
    x_test = np.concatenate([_low_rank(100, seed=1), _low_rank(25, seed=2, shift=2.0)])
    y_test = np.r_[np.zeros(100), np.ones(25)].astype(int)
    return x_train, x_test, y_test


@pytest.fixture(scope="module")
def fitted(data):
    return AutoencoderDetector("dense", SMALL, **FAST).fit(data[0])


# ---------------------------------------------------------------------------
# Thresholds, point adjustment, windows


def test_threshold_rules_give_their_definitions():
    scores = np.arange(101, dtype=float)  # 0..100
    assert anomaly.threshold(scores, "contamination", contamination=0.1) == pytest.approx(90.0)
    assert anomaly.threshold(scores, "mean_std", k=2) == pytest.approx(50 + 2 * scores.std())
    assert anomaly.threshold(scores, "max") == 100.0
    labels = (scores >= 70).astype(int)
    t = anomaly.threshold(scores, "best_f1", labels=labels)
    assert f1_score(labels, scores > t) == 1.0 and 69 <= t < 70


def test_threshold_refuses_bad_input():
    with pytest.raises(ValueError, match="Invalid value for 'rule'.*Received: rule='maximum'"):
        anomaly.threshold([1.0, 2.0], "maximum")
    with pytest.raises(ValueError, match="Invalid value for 'labels'.*best_f1"):
        anomaly.threshold([1.0, 2.0], "best_f1")
    with pytest.raises(ValueError, match="Invalid value for 'labels': expected labels holding both classes"):
        anomaly.threshold([1.0, 2.0], "best_f1", labels=[0, 0])
    with pytest.raises(ValueError, match="Invalid value for 'contamination'"):
        anomaly.threshold([1.0, 2.0], contamination=0.6)
    with pytest.raises(ValueError, match="Invalid value for 'scores': expected finite values"):
        anomaly.threshold([1.0, np.nan])


def test_point_adjust_marks_whole_segments():
    labels = np.array([0, 1, 1, 1, 0, 0, 1, 1, 0])
    preds = np.array([0, 0, 1, 0, 0, 1, 0, 0, 0])
    np.testing.assert_array_equal(anomaly.point_adjust(labels, preds), [0, 1, 1, 1, 0, 1, 0, 0, 0])
    assert f1_score(labels, anomaly.point_adjust(labels, preds)) > f1_score(labels, preds)
    with pytest.raises(ValueError, match="Invalid value for 'predictions'"):
        anomaly.point_adjust(labels, preds[:3])


def test_sliding_windows_cover_every_step():
    series = np.arange(10, dtype=float)
    windows, starts = anomaly.sliding_windows(series, 4, stride=3)
    np.testing.assert_array_equal(starts, [0, 3, 6])
    assert windows.shape == (3, 4, 1) and windows.dtype == np.float32
    np.testing.assert_array_equal(windows[-1, :, 0], [6, 7, 8, 9])
    _, starts = anomaly.sliding_windows(series, 4, stride=4)
    np.testing.assert_array_equal(starts, [0, 4, 6])  # the last window ends at the last step
    multi = np.stack([series, -series], axis=1)
    np.testing.assert_array_equal(anomaly.sliding_windows(multi, 2)[0][1], [[1, -1], [2, -2]])
    with pytest.raises(ValueError, match="Invalid value for 'window': expected at most the number of time steps"):
        anomaly.sliding_windows(series, 11)


# ---------------------------------------------------------------------------
# The detector


def test_detector_finds_off_manifold_points(data, fitted):
    _, x_test, y_test = data
    assert roc_auc_score(y_test, fitted.anomaly_scores(x_test)) > 0.95
    # scikit-learn's conventions: score_samples is the opposite, decision is shifted, predict agrees.
    np.testing.assert_allclose(fitted.score_samples(x_test), -fitted.anomaly_scores(x_test))
    decision = fitted.decision_function(x_test)
    np.testing.assert_array_equal(fitted.predict(x_test), np.where(decision < 0, -1, 1))
    # The contamination rule flags about 10% of the training data.
    assert np.mean(fitted.decision_scores_ > fitted.threshold_) == pytest.approx(0.1, abs=0.01)
    assert fitted.offset_ == -fitted.threshold_ and fitted.n_features_in_ == 10


def test_early_stopping_keeps_the_best_validation_weights(data, fitted):
    history = fitted.history_
    assert 1 <= fitted.best_epoch_ <= len(history["loss"]) <= FAST["epochs"]
    order = np.random.default_rng(0).permutation(len(data[0]))
    x_val = data[0][order[:40]]
    val_loss = fitted.model_.evaluate(x_val, batch_size=len(x_val), verbose=0, return_dict=True)["loss"]
    assert val_loss == pytest.approx(min(history["val_loss"]), rel=1e-4)


def test_same_seed_same_detector(data):
    a = AutoencoderDetector("dense", SMALL, epochs=3).fit(data[0]).anomaly_scores(data[1])
    b = AutoencoderDetector("dense", SMALL, epochs=3).fit(data[0]).anomaly_scores(data[1])
    c = AutoencoderDetector("dense", SMALL, epochs=3, seed=1).fit(data[0]).anomaly_scores(data[1])
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_clone_and_pipeline_with_a_scaler(data):
    x_train, x_test, y_test = data
    detector = AutoencoderDetector("dense", SMALL, contamination=0.2, **FAST)
    twin = clone(detector)
    assert twin.get_params() == detector.get_params() and not hasattr(twin, "model_")
    pipe = make_pipeline(StandardScaler(), twin).fit(x_train * 100 + 5)  # scale-free after the scaler
    assert roc_auc_score(y_test, -pipe.score_samples(x_test * 100 + 5)) > 0.95
    assert not hasattr(detector, "model_")  # the original was not fitted


def test_fitted_detector_pickles_and_loads(data, fitted, tmp_path):
    x_test = data[1]
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(again.anomaly_scores(x_test), fitted.anomaly_scores(x_test))
    assert again.threshold_ == fitted.threshold_
    joblib.dump(fitted, tmp_path / "detector.joblib")
    loaded = joblib.load(tmp_path / "detector.joblib")
    np.testing.assert_array_equal(loaded.predict(x_test), fitted.predict(x_test))
    # The optimizer's state travels with the model.
    assert int(loaded.model_.optimizer.iterations) == int(fitted.model_.optimizer.iterations) > 0


@pytest.mark.parametrize("score", ["elbo", "iwae", "reconstruction_probability"])
def test_vae_scores_rank_anomalies_first(data, score):
    x_train, x_test, y_test = data
    detector = AutoencoderDetector("vae", SMALL, anomaly_score=score, samples=8, **FAST).fit(x_train)
    scores = detector.anomaly_scores(x_test)
    assert scores.shape == (125,) and np.all(np.isfinite(scores))
    assert roc_auc_score(y_test, scores) > 0.95


def test_best_f1_threshold_uses_the_labels(data):
    _, x_test, y_test = data
    detector = AutoencoderDetector("dense", SMALL, threshold="best_f1", **FAST).fit(x_test, y_test)
    scores = detector.decision_scores_
    best = max(f1_score(y_test, scores >= s) for s in np.unique(scores))  # every possible cut
    assert f1_score(y_test, detector.predict(x_test) == -1) == pytest.approx(best) and best > 0.5
    with pytest.raises(ValueError, match="Invalid value for 'y'.*best_f1"):
        clone(detector).fit(x_test)


def test_bad_input_is_refused_with_the_parameter_named(data, fitted):
    x_train, x_test, _ = data
    nan = x_test.copy()
    nan[3, 2] = np.nan
    with pytest.raises(ValueError, match="Invalid value for 'X': expected finite values.*1 NaN"):
        fitted.predict(nan)
    with pytest.raises(ValueError, match=r"Invalid value for 'X': expected examples of shape \(10,\), as in fit"):
        fitted.predict(x_test[:, :9])
    with pytest.raises(ValueError, match="Invalid value for 'X': expected finite values"):
        AutoencoderDetector("dense", SMALL).fit(nan)
    with pytest.raises(NotFittedError):
        AutoencoderDetector().predict(x_test)
    cases = [
        ({"contamination": 0.7}, "contamination"),
        ({"model": "dens"}, "model"),
        ({"anomaly_score": "elbo"}, "anomaly_score"),  # a dense model has no ELBO
        ({"model_options": {"input_shape": (10,)}}, "model_options"),
        ({"validation_fraction": 1.0}, "validation_fraction"),
        ({"threshold": "quantile"}, "threshold"),
        ({"epochs": 0}, "epochs"),
    ]
    for params, name in cases:
        with pytest.raises(ValueError, match=f"Invalid value for '{name}'"):
            AutoencoderDetector("dense", SMALL, epochs=1).set_params(**params).fit(x_train)
    with pytest.raises(ValueError, match="Did you mean 'dense'"):
        AutoencoderDetector("dens").fit(x_train)
    with pytest.raises(ValueError, match="Invalid value for 'hidden'"):
        AutoencoderDetector("dense", {"hidden": (0,)}).fit(x_train)


# ---------------------------------------------------------------------------
# Time series


def _series(n=600, jump_at=None):
    t = np.arange(n)
    values = np.sin(2 * np.pi * t / 50) + 0.05 * np.random.default_rng(n).normal(size=n)
    if jump_at is not None:
        values[jump_at : jump_at + 20] += 2.0
    return values.astype("float32")


def test_series_detector_flags_the_jump():
    dense = AutoencoderDetector("dense", {"hidden": (16,), "latent_dim": 3}, threshold="max", **FAST)
    detector = SeriesDetector(dense, window=25, stride=2, point_score="min").fit(_series())
    test = _series(400, jump_at=200)
    labels = np.zeros(400, int)
    labels[200:220] = 1
    assert roc_auc_score(labels, detector.anomaly_scores(test)) > 0.95
    flagged = detector.predict(test) == -1
    assert flagged[200:220].mean() > 0.5 and flagged[:150].mean() < 0.05
    # A step's mean score lies between the min and the max over its windows.
    means = detector.set_params(point_score="mean").anomaly_scores(test)
    lows = detector.set_params(point_score="min").anomaly_scores(test)
    highs = detector.set_params(point_score="max").anomaly_scores(test)
    assert np.all(lows <= means + 1e-9) and np.all(means <= highs + 1e-9) and np.any(lows < highs)
    with pytest.raises(ValueError, match="Invalid value for 'X': expected a series of 1 features per step"):
        detector.predict(np.zeros((100, 2)))
    with pytest.raises(ValueError, match="Invalid value for 'window'"):
        SeriesDetector(dense, window=0).fit(_series())


def test_step_scores_reduce_over_covering_windows():
    starts = np.array([0, 2, 4])
    scores = np.array([1.0, 3.0, 5.0])  # windows of 3: [0..2], [2..4], [4..6]
    np.testing.assert_allclose(anomaly.step_scores(scores, starts, 3, 7), [1, 1, 2, 3, 4, 5, 5])
    np.testing.assert_allclose(anomaly.step_scores(scores, starts, 3, 7, "max"), [1, 1, 3, 3, 5, 5, 5])
    np.testing.assert_allclose(anomaly.step_scores(scores, starts, 3, 7, "min"), [1, 1, 1, 3, 3, 5, 5])
    with pytest.raises(ValueError, match="Invalid value for 'starts': expected windows covering every time step"):
        anomaly.step_scores(scores, starts, 2, 7)


def test_conv_detector_on_images_and_conv1d_series_by_default():
    from keras_ae import data

    x_train, (x_test, y_test) = data.load_novelty("digits", normal_class=1, limit=150)
    assert x_train.shape[1:] == (8, 8, 1)
    images = AutoencoderDetector("conv", {"filters": (8,), "likelihood": "bernoulli"}, **FAST).fit(x_train)
    assert images.model_.name == "conv" and images.input_shape_ == (8, 8, 1)
    assert roc_auc_score(y_test, images.anomaly_scores(x_test)) > 0.8
    with pytest.raises(ValueError, match=r"expected examples of shape \(8, 8, 1\)"):
        images.predict(x_test.reshape(len(x_test), 64))
    default = SeriesDetector(window=16, stride=4)
    series = default.fit(_series(120))  # no detector given: a conv1d autoencoder
    assert series.detector_.model_.name == "conv1d"
    assert series.detector_.model_.input_shape[1:] == (16, 1)
    assert series.anomaly_scores(_series(100)).shape == (100,)
    assert clone(default).get_params()["detector"] is None


def test_vae_scores_depend_only_on_the_row(data):
    """Common random numbers: order, batch and neighbours do not change a row's score."""
    x_train, x_test, _ = data
    for score in ("elbo", "iwae", "reconstruction_probability"):
        detector = AutoencoderDetector("vae", SMALL, anomaly_score=score, samples=4, epochs=2).fit(x_train)
        scores = detector.anomaly_scores(x_test)
        np.testing.assert_allclose(detector.anomaly_scores(x_test[::-1]), scores[::-1], rtol=1e-5, atol=1e-4)
        np.testing.assert_allclose(detector.anomaly_scores(x_test[7:8]), scores[7:8], rtol=1e-5, atol=1e-4)


def test_model_selection_with_the_roc_auc_scorer(data):
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    _, x_test, y_test = data
    detector = AutoencoderDetector("dense", SMALL, epochs=10)
    folds = StratifiedKFold(2, shuffle=True, random_state=0)
    auc = cross_val_score(detector, x_test, y_test, cv=folds, scoring=anomaly.roc_auc_scorer, error_score="raise")
    assert auc.shape == (2,) and np.all(auc > 0.5)
    # scikit-learn's own "roc_auc" ranks by decision_function (higher = more normal): 1 - AUC here.
    fitted = clone(detector).fit(x_test)
    assert anomaly.roc_auc_scorer(fitted, x_test, y_test) == pytest.approx(
        1 - roc_auc_score(y_test, fitted.decision_function(x_test)))
    # The detector has no `score` method: without a scorer scikit-learn says so instead of returning NaN.
    with pytest.raises(TypeError, match="score"):
        cross_val_score(detector, x_test, cv=folds)


def test_more_bad_input(data, fitted):
    x_train, x_test, _ = data
    with pytest.raises(ValueError, match=r"Invalid value for 'X': expected at least 1 examples"):
        fitted.predict(x_test[:0])
    with pytest.raises(ValueError, match="Invalid value for 'X': expected values within float32's range"):
        AutoencoderDetector("dense", SMALL).fit(x_train.astype("float64") * 1e39)
    with pytest.raises(ValueError, match="Invalid value for 'X': expected a rectangular array"):
        AutoencoderDetector("dense", SMALL).fit([[1.0, 2.0], [3.0]])
    with pytest.raises(ValueError, match=r"Invalid value for 'seed': expected an integer in \[0, 2\*\*32\)"):
        AutoencoderDetector("dense", SMALL, seed=2**40).fit(x_train)
    with pytest.raises(ValueError, match="Invalid value for 'model_options'.*Unknown option 'latent_dims'. "
                                         "Did you mean 'latent_dim'"):
        AutoencoderDetector("dense", {"latent_dims": 2}).fit(x_train)
    # Two examples are enough (one for validation).
    tiny = AutoencoderDetector("dense", SMALL, epochs=1).fit(x_train[:2])
    assert tiny.decision_scores_.shape == (2,)
    # A series detector checks its detector and its windows before training.
    series = _series(400)
    with pytest.raises(ValueError, match="Invalid value for 'threshold'.*Did you mean 'best_f1'"):
        SeriesDetector(AutoencoderDetector("dense", threshold="bestf1"), window=32).fit(series)
    with pytest.raises(ValueError, match="Invalid value for 'window': expected a window and stride leaving at "
                                         "least 2 windows.*With stride=1000 there are 1"):
        SeriesDetector(AutoencoderDetector("dense"), window=400, stride=1000).fit(series)
    with pytest.raises(ValueError, match="Invalid value for 'starts': expected a 1-D array of integer"):
        anomaly.step_scores(np.ones(3), np.array([0.5, 1, 2]), 2, 5)
    with pytest.raises(ValueError, match=r"2 starts are outside, e.g. \[-1, 4\]"):
        anomaly.step_scores(np.ones(3), np.array([-1, 1, 4]), 2, 5)
    # The threshold function checks only what its rule uses.
    assert anomaly.threshold([1.0, 2.0], "max", contamination=0.7, k=-1) == 2.0
