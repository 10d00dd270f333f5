"""Logistic PCA (keras_ae.baselines): fits what it should, refuses what it should."""

import numpy as np
import pytest
from sklearn.decomposition import PCA

from keras_ae.baselines import LogisticPCA


def _low_rank_bernoulli(n, d, k, seed):
    """Bernoulli means whose logits have rank k, and binary samples of them."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, k)) @ (2.0 * rng.normal(size=(k, d))) + rng.normal(size=d)
    p = 1 / (1 + np.exp(-logits))
    return p, (rng.random((n, d)) < p).astype("float32")


def _cross_entropy(x, p):
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return -np.mean(np.sum(x * np.log(p) + (1 - x) * np.log(1 - p), axis=1))


def test_recovers_a_rank_two_logit_model_that_pca_cannot():
    p, _ = _low_rank_bernoulli(600, 30, 2, seed=0)  # grey levels whose logits have rank 2
    train, test = p[:400], p[400:]
    lpca = LogisticPCA(2).fit(train)
    lpca_error = np.mean(np.sum((lpca.inverse_transform(lpca.transform(test)) - test) ** 2, axis=1))
    pca = PCA(2).fit(train)
    pca_error = np.mean(np.sum((pca.inverse_transform(pca.transform(test)) - test) ** 2, axis=1))
    assert lpca_error < 0.05 * pca_error  # the logits are linear, the means are not
    assert lpca_error < 0.01  # summed over 30 features
    assert lpca.components_.shape == (2, 30) and lpca.mean_.shape == (30,)
    assert lpca.n_iter_ > 0 and np.isfinite(lpca.loss_)
    # On binary samples of the same model it still beats the constant model on held-out data.
    _, x = _low_rank_bernoulli(600, 30, 2, seed=1)
    fit = LogisticPCA(2).fit(x[:400])
    held_out = _cross_entropy(x[400:], fit.inverse_transform(fit.transform(x[400:])))
    assert held_out < _cross_entropy(x[400:], np.tile(x[:400].mean(0), (200, 1)))


def test_more_components_fit_better_and_transform_matches_the_fit():
    rng = np.random.default_rng(1)
    x = rng.random((200, 16)) ** 3  # grey levels in [0, 1]
    losses = [LogisticPCA(k).fit(x).loss_ for k in (1, 3, 6)]
    assert losses[0] > losses[1] > losses[2]
    lpca = LogisticPCA(3).fit(x)
    refit = lpca.inverse_transform(lpca.transform(x))
    fitted = lpca.inverse_transform(lpca.train_codes_)
    # With the components fixed, the codes of the training data are found again.
    assert np.mean(np.abs(refit - fitted)) < 1e-3 and np.max(np.abs(refit - fitted)) < 1e-2
    np.testing.assert_array_equal(lpca.fit_transform(x), LogisticPCA(3).fit(x).train_codes_)


@pytest.mark.parametrize("kwargs, message", [
    ({"n_components": 0}, "Invalid value for 'n_components': expected a positive integer. Received: n_components=0"),
    ({"n_components": 2, "alpha": -1.0}, "Invalid value for 'alpha'"),
    ({"n_components": 2, "max_iter": 0}, "Invalid value for 'max_iter'"),
])
def test_bad_options_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        LogisticPCA(**kwargs)


def test_bad_data_are_refused():
    x = np.random.default_rng(0).random((20, 5))
    with pytest.raises(ValueError, match=r"Invalid value for 'x': expected values in \[0, 1\]"):
        LogisticPCA(2).fit(x * 255)
    with pytest.raises(ValueError, match="Invalid value for 'n_components': expected at most"):
        LogisticPCA(6).fit(x)
    with pytest.raises(RuntimeError, match="not fitted yet"):
        LogisticPCA(2).transform(x)
    lpca = LogisticPCA(2, max_iter=5).fit(x)
    with pytest.raises(ValueError, match="Invalid value for 'x': expected 5 features"):
        lpca.transform(x[:, :4])
    with pytest.raises(ValueError, match="Invalid value for 'codes': expected a 2-D array of 2 columns"):
        lpca.inverse_transform(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="Invalid value for 'x': expected a non-empty 2-D array"):
        lpca.transform(x[0])
