"""The contractive penalty: three Jacobian paths that agree."""

import keras
import numpy as np
import pytest

import keras_ae


def twins(hidden, activation="sigmoid", seed=0):
    """Returns models with every Jacobian path sharing the same weights."""
    keras.utils.set_random_seed(seed)
    paths = ["exact", "hutchinson"] + ([] if hidden else ["closed_form"])
    models = {
        path: keras_ae.build("contractive", input_shape=(20,), latent_dim=6, hidden=hidden,
                             activation=activation, jacobian=path, seed=1)
        for path in paths
    }
    for model in models.values():
        model.set_weights(models["exact"].get_weights())
    return models


@pytest.fixture(scope="module")
def x():
    return np.random.default_rng(0).uniform(size=(64, 20)).astype("float32")


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "softplus"])
def test_closed_form_equals_exact(activation, x):
    models = twins((), activation)
    _, exact = models["exact"].jacobian_norm(x)
    codes, closed = models["closed_form"].jacobian_norm(x)
    np.testing.assert_allclose(closed, exact, rtol=1e-5)
    np.testing.assert_allclose(codes, models["exact"].get_layer("encoder").predict(x, verbose=0), rtol=1e-5)


@pytest.mark.parametrize("hidden", [(), (12,)])
def test_hutchinson_is_unbiased(hidden, x):
    models = twins(hidden)
    _, exact = models["exact"].jacobian_norm(x)
    estimates = np.mean([models["hutchinson"].jacobian_norm(x)[1] for _ in range(40)], axis=0)
    # 40 probes x 64 examples: the mean estimate is within a few percent.
    np.testing.assert_allclose(estimates.mean(), np.mean(exact), rtol=0.04)
    assert not np.allclose(models["hutchinson"].jacobian_norm(x)[1], exact, rtol=1e-3)


def test_default_path_is_the_fastest_exact_one():
    one_layer = keras_ae.build("contractive", input_shape=(8,), latent_dim=2)
    deep = keras_ae.build("contractive", input_shape=(8,), latent_dim=2, hidden=(4,))
    assert (one_layer.jacobian, deep.jacobian) == ("closed_form", "exact")


def test_reported_loss_is_reconstruction_plus_penalty(x):
    model = twins(())["closed_form"]
    model.hyperparameters["contraction_weight"].assign(0.5)
    logs = model.evaluate(x, x, batch_size=64, verbose=0, return_dict=True)
    reconstruction = np.mean(-keras_ae.losses.log_likelihood(
        x, keras_ae.losses.logits_from_probs(model(x)), "bernoulli"))
    _, norms = model.jacobian_norm(x)
    np.testing.assert_allclose(logs["contraction"], np.mean(norms), rtol=1e-5)
    np.testing.assert_allclose(logs["loss"], reconstruction + 0.5 * np.mean(norms), rtol=1e-5)


@pytest.mark.parametrize("path", ["closed_form", "exact", "hutchinson"])
def test_penalty_shrinks_the_jacobian(path, x):
    weak, strong = (
        keras_ae.build("contractive", input_shape=(20,), latent_dim=6, jacobian=path,
                       contraction_weight=weight, learning_rate=1e-2, seed=0)
        for weight in (0.0, 10.0)
    )
    strong.set_weights(weak.get_weights())
    for model in (weak, strong):
        model.fit(x, x, epochs=15, batch_size=16, shuffle=False, verbose=0)
    assert np.mean(strong.jacobian_norm(x)[1]) < 0.5 * np.mean(weak.jacobian_norm(x)[1])
