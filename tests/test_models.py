"""Every registered model: build, train, save, load, resume, reproduce."""

import keras
import numpy as np
import pytest
from _tiny import SHAPE, bernoulli_if_declared, examples, shape_for, tiny, weights

import keras_ae


@pytest.fixture(scope="module")
def data():
    """Examples of ``SHAPE``, for the tests of one image model; a test of every model uses ``examples(name)``."""
    return examples()


def test_registry_lists_the_six_families():
    assert set(keras_ae.list_models()) >= {
        "dense", "conv", "denoising", "sparse", "contractive", "vae", "beta_vae", "conv_vae", "conv1d",
    }


@pytest.mark.parametrize("name", keras_ae.list_models())
def test_sub_models_work_alone(name):
    data = examples(name)
    model = tiny(name, **bernoulli_if_declared(name))
    encoder, decoder = model.get_layer("encoder"), model.get_layer("decoder")
    codes = model.predict_codes(data)
    assert codes.shape == (32, 2)
    z = np.random.default_rng(1).normal(size=(5, 2)).astype("float32")
    if isinstance(model, keras_ae.models.SemiSupervisedVAE):
        # M2's encoder is q(z | x, y) and its decoder p(x | y, z): both take the label too.
        probs = model.predict_proba(data)
        np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
        np.testing.assert_array_equal(codes, encoder.predict([data, probs], verbose=0))
        samples = decoder.predict([z, np.eye(model.n_classes, dtype="float32")[np.arange(5) % model.n_classes]],
                                  verbose=0)
        decoded = decoder.predict([codes, probs], verbose=0)
    else:
        np.testing.assert_array_equal(codes, encoder.predict(data, verbose=0))
        samples = decoder.predict(z, verbose=0)
        decoded = decoder.predict(codes, verbose=0)
    assert samples.shape == (5, *shape_for(name))
    if model.likelihood == "bernoulli":
        assert samples.min() >= 0 and samples.max() <= 1  # Bernoulli means: probabilities
    np.testing.assert_allclose(model.predict(data, verbose=0), decoded, atol=1e-6)


@pytest.mark.parametrize("name", keras_ae.list_models())
def test_fit_save_load_resume(name, tmp_path):
    data = examples(name)
    model = tiny(name)
    history = model.fit(data, data, epochs=2, batch_size=16, shuffle=False, verbose=0)
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses))

    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.models.load_model(path)  # safe_mode=True by default
    assert type(loaded) is type(model)
    for sub in ("encoder", "decoder"):
        assert loaded.get_layer(sub).name == sub
    np.testing.assert_array_equal(loaded.predict_codes(data), model.predict_codes(data))
    np.testing.assert_array_equal(loaded.predict(data, verbose=0), model.predict(data, verbose=0))

    # The optimizer state comes back: one more identical step gives identical weights.
    assert set(loaded.group_optimizers) == set(model.group_optimizers) == set(type(model).OPTIMIZER_GROUPS)
    for group, optimizer in {"optimizer": model.optimizer, **model.group_optimizers}.items():
        restored = loaded.optimizer if group == "optimizer" else loaded.group_optimizers[group]
        assert type(restored) is type(optimizer)
        assert int(restored.iterations) == int(optimizer.iterations) == 4
        for a, b in zip(restored.variables, optimizer.variables, strict=True):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    model.fit(data, data, epochs=1, batch_size=16, shuffle=False, verbose=0)
    loaded.fit(data, data, epochs=1, batch_size=16, shuffle=False, verbose=0)
    for a, b in zip(weights(loaded), weights(model)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", keras_ae.list_models())
def test_seed_makes_training_reproducible(name):
    data = examples(name)
    runs = []
    for _ in range(2):
        model = tiny(name, seed=7)
        model.fit(data, data, epochs=1, batch_size=16, verbose=0)
        runs.append(weights(model))
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)
    other = tiny(name, seed=8)
    assert not all(np.array_equal(a, b) for a, b in zip(runs[0], weights(other)))


@pytest.mark.parametrize("name", ["dense", "vae", "contractive"])
def test_loss_goes_down(name):
    from sklearn.datasets import load_digits

    x = (load_digits().data[:512] / 16).astype("float32")
    keras.utils.set_random_seed(0)
    model = keras_ae.build(name, input_shape=(64,), latent_dim=8, learning_rate=5e-3)
    history = model.fit(x, x, epochs=8, batch_size=64, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.8 * losses[0]


def test_hinton_network_shape():
    model = keras_ae.build("dense", input_shape=(784,), latent_dim=30, hidden=(1000, 500, 250), compile=False)
    encoder = model.get_layer("encoder")
    widths = [layer.units for layer in encoder.layers if isinstance(layer, keras.layers.Dense)]
    assert widths == [1000, 500, 250, 30]
    decoder = model.get_layer("decoder")
    widths = [layer.units for layer in decoder.layers if isinstance(layer, keras.layers.Dense)]
    assert widths == [250, 500, 1000, 784]
    assert getattr(model, "optimizer", None) is None  # compile=False


def test_layers_are_named_after_their_block():
    model = keras_ae.build("conv", input_shape=(16, 16, 1), latent_dim=4, filters=(4, 8))
    names = [layer.name for layer in model.get_layer("encoder").layers]
    assert names == ["encoder_input", "encoder_conv_1", "encoder_conv_2", "encoder_flatten", "encoder_code"]


def test_gaussian_likelihood_outputs_are_unbounded():
    model = keras_ae.build("dense", input_shape=(4,), latent_dim=2, hidden=(), likelihood="gaussian")
    assert model.get_layer("decoder").get_layer("decoder_output").activation is keras.activations.linear
    x = np.random.default_rng(0).normal(scale=5.0, size=(64, 4)).astype("float32")
    history = model.fit(x, x, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


def test_denoising_corrupts_only_in_training(data):
    model = tiny("denoising", noise="salt_and_pepper", noise_level=0.5)
    corruption = model.get_layer("corruption")
    assert np.array_equal(corruption(data, training=False), data)
    assert not np.array_equal(corruption(data, training=True), data)
    conv = tiny("denoising", base="conv", noise="dropout", noise_level=0.2)
    assert any(isinstance(layer, keras.layers.Conv2D) for layer in conv.get_layer("encoder").layers)


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_vae_is_finite_on_constant_images(likelihood):
    keras.utils.set_random_seed(0)
    model = keras_ae.build("vae", input_shape=(16,), latent_dim=2, hidden=(8,), likelihood=likelihood,
                           learning_rate=1e-2)
    for value in (0.0, 1.0):
        x = np.full((64, 16), value, "float32")
        history = model.fit(x, x, epochs=5, batch_size=16, verbose=0)
        assert np.isfinite(history.history["loss"]).all()
        assert np.isfinite(model.predict(x, verbose=0)).all()
        assert np.isfinite(keras_ae.metrics.elbo(model, x)).all()


def test_vae_encoder_returns_mean_at_inference_and_samples_in_training(data):
    model = tiny("vae")
    encoder = model.get_layer("encoder")
    a = encoder(data, training=False)
    b = encoder(data, training=False)
    np.testing.assert_array_equal(a, b)
    c = encoder(data, training=True)
    assert not np.allclose(a, c)


def test_vae_loss_is_negative_elbo(data):
    model = tiny("vae", beta=1.0)
    x = data.reshape(32, *SHAPE)
    logs = model.evaluate(x, batch_size=32, verbose=0, return_dict=True)
    # At inference the encoder returns the posterior mean, so the evaluated
    # loss is -log p(x | z=mean) + KL; metrics.elbo uses a posterior sample.
    _, _, kl = keras_ae.metrics.elbo(model, x, return_terms=True)
    recon = -keras_ae.losses.log_likelihood(x, keras_ae.losses.logits_from_probs(model(x)), "bernoulli")
    np.testing.assert_allclose(logs["kl"], kl.mean(), rtol=1e-5)
    np.testing.assert_allclose(logs["reconstruction"], np.mean(recon), rtol=1e-5)
    np.testing.assert_allclose(logs["loss"], np.mean(recon) + kl.mean(), rtol=1e-5)


def test_vae_trains_under_mixed_precision(data):
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = tiny("vae")
        history = model.fit(data, data, epochs=1, batch_size=16, verbose=0)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert np.isfinite(history.history["loss"]).all()
    encoder, decoder = model.get_layer("encoder"), model.get_layer("decoder")
    assert encoder.get_layer("encoder_loc").compute_dtype == "float16"
    assert encoder.get_layer("posterior").compute_dtype == "float32"
    assert decoder.get_layer("decoder_output").compute_dtype == "float32"
    assert model.predict(data, verbose=0).dtype == np.float32


def test_conv_vae_defaults_are_the_keras_io_network():
    """Chollet's keras.io "Variational AutoEncoder": 69,076 encoder and 65,089 decoder weights."""
    model = keras_ae.build("conv_vae", input_shape=(28, 28, 1), latent_dim=2)
    encoder, decoder = model.get_layer("encoder"), model.get_layer("decoder")
    assert (encoder.count_params(), decoder.count_params()) == (69_076, 65_089)
    # Layer by layer: the decoder goes from z straight to 7x7x64, no Dense(16) first.
    weighted = [(layer.output.shape[1:], layer.count_params()) for layer in decoder.layers
                if layer.count_params()]
    assert weighted == [((3136,), 9_408), ((14, 14, 64), 36_928), ((28, 28, 32), 18_464),
                        ((28, 28, 1), 289)]
    mirrored = keras_ae.build("conv_vae", input_shape=(28, 28, 1), latent_dim=2, decoder_hidden=(16,))
    assert mirrored.get_layer("decoder").count_params() == 65_089 + 48 + (16 - 2) * 3136  # 109,041
    with pytest.raises(ValueError, match="Invalid value for 'decoder_hidden'"):
        keras_ae.build("conv_vae", input_shape=(28, 28, 1), latent_dim=2, decoder_hidden=(0,))
