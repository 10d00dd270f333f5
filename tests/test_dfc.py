"""dfc_vae: the Deep Feature Consistent VAE (Hou et al., WACV 2017) and its frozen feature network.

The registry's tests (test_contract.py, test_models.py) already train, save and reload it with an
untrained copy of the in-project classifier; these check what is particular to it.
"""

import contextlib
import io

import keras
import numpy as np
import pytest
from _tiny import weights

import keras_ae
from keras_ae import cli, sample_quality
from keras_ae.models import dfc

SHAPE = (8, 8, 1)


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits

    return (load_digits().data[:256] / 16).astype("float32").reshape(-1, *SHAPE)


def _network(seed=0, shape=SHAPE):
    keras.utils.set_random_seed(seed)
    return sample_quality.build_feature_network(shape)


def _model(network, seed=1, **options):
    keras.utils.set_random_seed(seed)
    return keras_ae.build("dfc_vae", input_shape=SHAPE, latent_dim=2, filters=(4, 8), hidden=(8,),
                          feature_network=network, **options)


def _activations(network, names, images):
    probe = keras.Model(network.inputs[0], [network.get_layer(n).output for n in names])
    outputs = probe(images)
    return [np.asarray(a, dtype="float64") for a in (outputs if isinstance(outputs, list) else [outputs])]


def _perceptual_by_hand(network, names, weights_, x, x_hat):
    """sum_l w_l * mean over positions and channels of (phi_l(x) - phi_l(x_hat))**2, per example, in NumPy."""
    total = 0.0
    for w, a, b in zip(weights_, _activations(network, names, x), _activations(network, names, x_hat)):
        total = total + w * ((a - b) ** 2).reshape(len(x), -1).mean(axis=1)
    return total


@pytest.mark.parametrize("names, feature_weights", [(("conv1", "conv2"), (2.0, 0.5)), (("conv2",), None),
                                                    (("features",), (3.0,))])
def test_the_perceptual_term_compares_exactly_the_chosen_layers(digits, names, feature_weights):
    network = _network()
    model = _model(network, feature_layers=names, feature_weights=feature_weights)
    x = digits[:16]
    x_hat = model.predict(x, verbose=0)  # the decoder's mean at the posterior mean, as loss_terms outside training
    expected = _perceptual_by_hand(network, names, feature_weights or (1.0,) * len(names), x, x_hat)
    terms = model.loss_terms(x, x)
    np.testing.assert_allclose(np.asarray(terms["perceptual"]), expected, rtol=1e-5)
    # The other layers do not count: every other choice of layers gives another value.
    others = [(n,) for n in ("conv1", "conv2", "features") if (n,) != names]
    for other in others:
        alone = _perceptual_by_hand(network, other, (1.0,), x, x_hat)
        assert not np.allclose(alone, expected, rtol=1e-3)
    logs = model.evaluate(x, batch_size=16, verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["perceptual"], expected.mean(), rtol=1e-5)
    # The pixel term is reported with weight 0 (the paper's objective): loss = perceptual + KL.
    np.testing.assert_allclose(logs["loss"], logs["perceptual"] + logs["kl"], rtol=1e-5)


def test_the_network_is_a_frozen_copy_that_training_never_changes(digits):
    network = _network()
    model = _model(network, feature_weights=(100.0, 100.0), learning_rate=3e-3)
    frozen = weights(model.feature_network)
    assert not model.feature_network.trainable and network.trainable  # the given network is left as it was
    assert not {id(w) for w in model.feature_network.weights} & {id(w) for w in model.trainable_weights}
    history = model.fit(digits, epochs=6, batch_size=32, verbose=0).history
    for before, after in zip(frozen, weights(model.feature_network), strict=True):
        np.testing.assert_array_equal(before, after)
    assert history["perceptual"][-1] < 0.7 * history["perceptual"][0], history["perceptual"]
    # A copy: changing the given network afterwards does not change the model's loss.
    loss = np.asarray(model.loss_terms(digits[:8], digits[:8])["perceptual"])
    kernel = network.get_layer("conv1").kernel
    kernel.assign(kernel.numpy() + 1.0)
    np.testing.assert_array_equal(np.asarray(model.loss_terms(digits[:8], digits[:8])["perceptual"]), loss)


def test_pixel_weight_adds_the_pixel_term(digits):
    model = _model(_network(), pixel_weight=0.5)
    logs = model.evaluate(digits[:32], verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["loss"], logs["perceptual"] + 0.5 * logs["reconstruction"] + logs["kl"],
                               rtol=1e-5)
    assert float(model.hyperparameters["pixel_weight"]) == 0.5


def test_save_and_load_in_safe_mode_keep_the_network_and_its_outputs(digits, tmp_path):
    network = _network(seed=5)
    model = _model(network, feature_weights=(1.0, 4.0))
    model.fit(digits[:64], epochs=1, batch_size=32, verbose=0)
    path = tmp_path / "dfc.keras"
    model.save(path)
    loaded = keras_ae.load_model(path)  # safe_mode=True
    assert type(loaded) is dfc.DFCVAE and not loaded.feature_network.trainable
    assert loaded.feature_layers == ("conv1", "conv2") and loaded.feature_weights == (1.0, 4.0)
    assert loaded.options == model.options and loaded.options["feature_network"] == "<keras.Model 'feature_network'>"
    x = digits[64:96]
    for mine, theirs in zip(model.features(x), loaded.features(x), strict=True):
        np.testing.assert_array_equal(np.asarray(mine), np.asarray(theirs))
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    for key, value in model.loss_terms(x, x).items():
        np.testing.assert_array_equal(np.asarray(loaded.loss_terms(x, x)[key]), np.asarray(value))
    # The features are the given network's (its trained weights were copied, then saved).
    np.testing.assert_allclose(np.asarray(loaded.features(x)[1]), _activations(network, ["conv2"], x)[0], rtol=1e-5)


def test_vgg19_with_the_papers_layers_on_grey_images_tiled_and_resized():
    """keras.applications.VGG19 without downloaded weights (weights=None): 32x32x3, fed 16x16 grey images.

    Only the layers up to block3_conv1 are copied (0.56 M of VGG-19's 20 M weights), which keeps it cheap.
    """
    keras.utils.set_random_seed(0)
    vgg = keras.applications.VGG19(include_top=False, weights=None, input_shape=(32, 32, 3))
    model = keras_ae.build("dfc_vae", input_shape=(16, 16, 1), latent_dim=4, filters=(4, 8), hidden=(8,),
                           feature_network=vgg, feature_layers=dfc.VGG19_FEATURE_LAYERS,
                           feature_weights=(0.25, 0.25, 0.25))
    extractor = model.feature_network
    assert [tuple(o.shape) for o in extractor.outputs] == [(None, 32, 32, 64), (None, 16, 16, 128), (None, 8, 8, 256)]
    assert extractor.count_params() == 1792 + 36928 + 73856 + 147584 + 295168
    x = np.random.default_rng(0).uniform(size=(4, 16, 16, 1)).astype("float32")
    x_hat = model.predict(x, verbose=0)

    def fitted(images):  # grey repeated on 3 channels, then resized to VGG's 32x32
        return keras.ops.image.resize(np.repeat(images, 3, axis=-1), (32, 32), interpolation="bilinear")

    expected = _perceptual_by_hand(vgg, dfc.VGG19_FEATURE_LAYERS, (0.25,) * 3, fitted(x), fitted(x_hat))
    np.testing.assert_allclose(np.asarray(model.loss_terms(x, x)["perceptual"]), expected, rtol=1e-4)
    history = model.fit(x, epochs=1, batch_size=4, verbose=0).history
    assert np.isfinite(history["loss"]).all()


def test_bad_networks_and_layers_are_refused_clearly():
    network = _network()
    with pytest.raises(ValueError, match=r"Invalid value for 'feature_layers': expected names of layers of the "
                                         r"feature network 'feature_network': \['conv1', 'conv2', 'flatten', "
                                         r"'features', 'logits'\]. Received: feature_layers=\('conv1', 'feature'\). "
                                         r"Did you mean 'features'\?"):
        _model(network, feature_layers=("conv1", "feature"))
    with pytest.raises(ValueError, match=r"Invalid value for 'feature_weights': expected None or one weight per "
                                         r"name of feature_layers \(2: \('conv1', 'conv2'\)\). Received: "
                                         r"feature_weights=\(1.0,\)"):
        _model(network, feature_weights=(1.0,))
    with pytest.raises(ValueError, match=r"Received: feature_weights=\(3000.0, 3000.0\). The default suits the "
                                         r"default layers"):
        _model(network, feature_layers=("conv1", "conv2", "features"))
    with pytest.raises(ValueError, match=r"Invalid value for 'feature_network': expected a network taking images "
                                         r"of 2 channels .* Received: feature_network=<keras.Model "
                                         r"'feature_network' taking 1 channels>"):
        keras_ae.build("dfc_vae", input_shape=(8, 8, 2), latent_dim=2, feature_network=network)
    dense = keras.Sequential([keras.Input((64,)), keras.layers.Dense(4, name="d")], name="flat")
    with pytest.raises(ValueError, match=r"Invalid value for 'feature_network': expected a built keras.Model with "
                                         r"one input of images"):
        _model(dense, feature_layers=("d",), feature_weights=None)
    with pytest.raises(ValueError, match=r"Invalid value for 'feature_network': expected a keras.Model or one of "
                                         r"\['digits', 'fashion_mnist', 'mnist', 'random'\]. Received: "
                                         r"feature_network='vgg19'"):
        _model("vgg19")


def test_an_unknown_layer_is_named_before_the_count_of_weights():
    # One unknown name with the default (two) weights: the error is about the name, with the names available,
    # not about the number of weights (which the user would fix only to meet the unknown name next).
    network = _network()
    with pytest.raises(ValueError, match=r"Invalid value for 'feature_layers': expected names of layers of the "
                                         r"feature network 'feature_network': \['conv1', 'conv2', 'flatten', "
                                         r"'features', 'logits'\]. Received: feature_layers=\('conv9',\)") as error:
        _model(network, feature_layers=("conv9",))
    assert "feature_weights" not in str(error.value)
    with pytest.raises(ValueError, match=r"Invalid value for 'feature_weights': .* Received: "
                                         r"feature_weights=\(3000.0, 3000.0\). The default suits"):
        _model(network, feature_layers=("conv2",))  # a known name: now the count of weights is the mistake


def test_the_mnist_network_comes_from_the_cache_or_the_error_says_how_to_create_it(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"feature_network='mnist' is the in-project mnist classifier.*"
                                                r"python tools/train_feature_network.py --dataset mnist.*"
                                                r"feature_network='random'"):
        keras_ae.build("dfc_vae", input_shape=(28, 28, 1), latent_dim=2)
    # Where the tool writes it (trained here in a moment on a few random images, not on MNIST).
    rng = np.random.default_rng(0)
    images = rng.uniform(size=(40, 28, 28)).astype("float32")
    labels = np.arange(40) % 2
    written = sample_quality.train_feature_network(
        data=((images, labels), (images, labels)), epochs=1,
        path=tmp_path / "datasets" / "feature_networks" / "mnist_classifier.keras",
    )
    model = keras_ae.build("dfc_vae", input_shape=(8, 8, 1), latent_dim=2, filters=(4, 8))  # 8x8 resized to 28x28
    assert model.options["feature_network"] == "mnist"
    for mine, theirs in zip(model.feature_network.weights, written.network.get_layer("conv1").weights
                            + written.network.get_layer("conv2").weights, strict=True):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    x = rng.uniform(size=(4, *SHAPE)).astype("float32")
    assert tuple(model.network_input(x).shape) == (4, 28, 28, 1)


def _run(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(argv)
    return status, out.getvalue(), err.getvalue()


def test_the_command_line_refuses_without_the_network_and_trains_with_one(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    status, _, err = _run(["train", "dfc_vae", "--out", str(tmp_path / "run"), "--epochs", "1"])
    assert status == 2 and len(err.strip().splitlines()) == 1, err
    assert err.startswith("keras-ae: error: dfc_vae needs a feature network") and "--dataset mnist" in err
    assert not (tmp_path / "run").exists()
    status, _, err = _run(["train", "dfc_vae", "--out", str(tmp_path / "run"), "--limit", "200", "--epochs", "1",
                           "--iwae-examples", "20", "--option", "feature_network=random", "--option",
                           "feature_weights=50,50"])
    assert status == 0, err
    model = keras_ae.load_model(tmp_path / "run" / "model.keras")
    assert type(model) is dfc.DFCVAE and model.feature_weights == (50.0, 50.0)
    status, out, err = _run(["evaluate", str(tmp_path / "run")])
    assert status == 0 and '"elbo"' in out, err


def test_perceptual_loss_called_by_a_user_checks_its_batches():
    import keras_ae

    model = keras_ae.build("dfc_vae", input_shape=(8, 8, 1), latent_dim=2, feature_network="random", seed=0)
    x = np.random.default_rng(0).uniform(size=(3, 8, 8, 1)).astype("float32")
    assert model.perceptual_loss(x, x).shape == (3,)
    np.testing.assert_allclose(model.perceptual_loss(x, x), 0.0, atol=1e-7)
    with pytest.raises(ValueError, match=r"Invalid value for 'reconstructions': expected a batch of the shape of "
                                         r"images \(3, 8, 8, 1\). Received: reconstructions=<array of shape"):
        model.perceptual_loss(x, x[:2])
    with pytest.raises(ValueError, match=r"Invalid value for 'images': expected a batch of images of shape "
                                         r"\(n, 8, 8, 1\). Received: images=<array of shape \(3, 64\)>"):
        model.perceptual_loss(x.reshape(3, 64), x.reshape(3, 64))
