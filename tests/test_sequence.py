"""The sequence autoencoder ``conv1d``: shapes, the keras.io network, training, saving.

Its training contract (options, ``fit(x)``, weights, mixed precision, bad
data...) is tested with every model in test_contract.py and test_models.py.
"""

import keras
import numpy as np
import pytest

import keras_ae
from keras_ae.layers import SeededDropout


def sine_windows(n=256, timesteps=32, features=3, seed=0):
    """``n`` windows of a series of sines of 1, 2, 3... periods per window (one per feature), standardized.

    Each window starts at a random phase, shared by its features, plus a little noise.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(timesteps)[None, :, None]
    frequency = np.arange(1, features + 1) * 2 * np.pi / timesteps
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1, 1))
    x = np.sin(frequency * t + phase) + 0.05 * rng.normal(size=(n, timesteps, features))
    return ((x - x.mean(axis=(0, 1))) / x.std(axis=(0, 1))).astype("float32")


@pytest.mark.parametrize(
    "input_shape, filters",
    [((32, 3), (32, 16)), ((8, 1), (4,)), ((24, 5), (8, 8, 4)), ((16, 2), (6, 6, 6, 6))],
)
def test_reconstructions_have_the_input_shape(input_shape, filters):
    keras.utils.set_random_seed(0)
    model = keras_ae.build("conv1d", input_shape=input_shape, latent_dim=3, filters=filters, compile=False)
    x = np.random.default_rng(0).normal(size=(4, *input_shape)).astype("float32")
    assert model.predict(x, verbose=0).shape == (4, *input_shape)
    assert model.get_layer("encoder").predict(x, verbose=0).shape == (4, 3)
    assert model.get_layer("decoder").output.shape == (None, *input_shape)


def test_default_network_is_the_keras_io_example_with_a_code():
    """keras.io: Conv1D 32 and 16 (kernel 7, stride 2), dropout 0.2 between, the mirror, a last Conv1DTranspose."""
    model = keras_ae.build("conv1d", input_shape=(288, 1), latent_dim=16, compile=False)
    encoder, decoder = model.get_layer("encoder"), model.get_layer("decoder")
    assert [layer.name for layer in encoder.layers] == [
        "encoder_input", "encoder_conv_1", "encoder_dropout_1", "encoder_conv_2", "encoder_flatten", "encoder_code",
    ]
    assert [layer.name for layer in decoder.layers] == [
        "decoder_input", "decoder_project", "decoder_reshape", "decoder_deconv_1", "decoder_dropout_1",
        "decoder_deconv_2", "decoder_logits", "decoder_output",
    ]
    # The parameter counts and shapes of the keras.io summary.
    expected = {
        "encoder_conv_1": ((None, 144, 32), 256),
        "encoder_conv_2": ((None, 72, 16), 3600),
        "decoder_deconv_1": ((None, 144, 16), 1808),
        "decoder_deconv_2": ((None, 288, 32), 3616),
        "decoder_logits": ((None, 288, 1), 225),
    }
    for name, (shape, params) in expected.items():
        layer = (encoder if name.startswith("encoder") else decoder).get_layer(name)
        assert (layer.output.shape, layer.count_params()) == (shape, params), name
        assert layer.kernel_size == (7,) and layer.padding == "same"
        assert layer.strides == ((1,) if name == "decoder_logits" else (2,))
    for dropout in (encoder.get_layer("encoder_dropout_1"), decoder.get_layer("decoder_dropout_1")):
        assert isinstance(dropout, SeededDropout) and dropout.rate == 0.2
    assert encoder.get_layer("encoder_code").units == 16


def test_options_change_the_network():
    model = keras_ae.build("conv1d", input_shape=(16, 2), latent_dim=4, filters=(8, 8, 4), kernel_size=3,
                           dropout=0.0, activation="tanh", compile=False)
    encoder = model.get_layer("encoder")
    convs = [layer for layer in encoder.layers if isinstance(layer, keras.layers.Conv1D)]
    assert [(c.filters, c.kernel_size, c.activation.__name__) for c in convs] == [(8, (3,), "tanh"),
                                                                                 (8, (3,), "tanh"),
                                                                                 (4, (3,), "tanh")]
    layers = model.get_layer("encoder").layers + model.get_layer("decoder").layers
    assert not [layer for layer in layers if isinstance(layer, SeededDropout)]  # none when dropout=0
    assert model.get_layer("decoder").get_layer("decoder_reshape").output.shape == (None, 2, 4)


def test_timesteps_not_divisible_by_the_strides_are_refused():
    with pytest.raises(ValueError) as info:
        keras_ae.build("conv1d", input_shape=(30, 2), latent_dim=4)
    assert str(info.value) == (
        "Invalid value for 'input_shape': expected (timesteps, features) with timesteps divisible by 4 "
        "(2 ** len(filters) for filters=(32, 16)). Received: input_shape=(30, 2)"
    )
    with pytest.raises(ValueError, match=r"divisible by 8 \(2 \*\* len\(filters\) for filters=\(4, 4, 4\)\)"):
        keras_ae.build("conv1d", input_shape=(12, 1), latent_dim=4, filters=(4, 4, 4))
    keras_ae.build("conv1d", input_shape=(12, 1), latent_dim=4, filters=(4, 4), compile=False)  # 12 % 4 == 0


@pytest.mark.parametrize("input_shape", [(32,), (8, 8, 1), (0, 3)])
def test_input_shape_must_be_one_window(input_shape):
    with pytest.raises(ValueError, match=r"Invalid value for 'input_shape': expected a tuple of 2 positive integers"):
        keras_ae.build("conv1d", input_shape=input_shape, latent_dim=4)


def test_likelihood_is_gaussian_by_default_and_bernoulli_gives_logits():
    x = sine_windows(n=8, timesteps=8, features=2)
    gaussian = keras_ae.build("conv1d", input_shape=(8, 2), latent_dim=2, filters=(4,))
    assert gaussian.likelihood == gaussian.options["likelihood"] == "gaussian"
    head = gaussian.get_layer("decoder").get_layer("decoder_output")
    assert head.activation is keras.activations.linear
    gaussian.fit(x, epochs=1, verbose=0)  # standardized data, not in [0, 1], are accepted

    bernoulli = keras_ae.build("conv1d", input_shape=(8, 2), latent_dim=2, filters=(4,), likelihood="bernoulli")
    assert bernoulli.get_layer("decoder").get_layer("decoder_output").activation is keras.activations.sigmoid
    codes = bernoulli.get_layer("encoder").predict(x, verbose=0)
    logits = bernoulli.decoder_params(codes)
    np.testing.assert_allclose(keras.ops.sigmoid(logits), bernoulli.get_layer("decoder").predict(codes, verbose=0),
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r"expected values in \[0, 1\] for a Bernoulli likelihood"):
        bernoulli.fit(x, epochs=1, verbose=0)


def test_dropout_acts_only_in_training():
    keras.utils.set_random_seed(0)
    model = keras_ae.build("conv1d", input_shape=(16, 2), latent_dim=2, filters=(8, 8), dropout=0.5, seed=1)
    x = sine_windows(n=4, timesteps=16, features=2)
    np.testing.assert_array_equal(model(x, training=False), model(x, training=False))
    assert not np.allclose(model(x, training=True), model(x, training=False))


def test_loss_goes_down_on_sine_windows():
    x = sine_windows()
    keras.utils.set_random_seed(0)
    model = keras_ae.build("conv1d", input_shape=x.shape[1:], latent_dim=4, filters=(16, 8), learning_rate=5e-3,
                           seed=0)
    history = model.fit(x, epochs=10, batch_size=32, verbose=0).history
    # Measured: from 93 to 9.7 (summed squared error per window, with dropout).
    assert history["loss"][-1] < 0.25 * history["loss"][0]
    # The mean window (zero) has a summed squared error of 32 * 3 = 96; measured: 2.9.
    error = ((model.predict(x, verbose=0) - x) ** 2).sum(axis=(1, 2)).mean()
    assert error < 0.1 * (x ** 2).sum(axis=(1, 2)).mean()


def test_save_and_load_in_safe_mode_give_identical_outputs(tmp_path):
    x = sine_windows(n=64, timesteps=16, features=3)
    keras.utils.set_random_seed(0)
    model = keras_ae.build("conv1d", input_shape=(16, 3), latent_dim=4, filters=(8, 4), seed=5)
    model.fit(x, epochs=2, batch_size=16, verbose=0)
    path = tmp_path / "conv1d.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    assert type(loaded) is type(model) and loaded.options == model.options
    assert loaded.likelihood == "gaussian"
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    np.testing.assert_array_equal(loaded.get_layer("encoder").predict(x, verbose=0),
                                  model.get_layer("encoder").predict(x, verbose=0))
    # The dropout masks continue where they were: one more epoch gives the same weights.
    model.fit(x, epochs=1, batch_size=16, shuffle=False, verbose=0)
    loaded.fit(x, epochs=1, batch_size=16, shuffle=False, verbose=0)
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_gaussian_default_trains_under_mixed_float16_once_the_loss_scale_adapts(tmp_path):
    """Steps whose float16 gradients overflow are skipped, each halving the loss scale; the others train.

    The Gaussian's summed squared error can overflow at the initial scale, 2 ** 15.
    """
    x = sine_windows(n=64, timesteps=16, features=3)
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        keras.utils.set_random_seed(0)
        model = keras_ae.build("conv1d", input_shape=(16, 3), latent_dim=4, filters=(8, 4))
        history = model.fit(x, epochs=4, batch_size=16, verbose=0).history
        model.save(tmp_path / "m.keras")
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert np.isfinite(history["loss"]).all() and history["loss"][-1] < history["loss"][0]
    skipped = int(np.log2(2.0 ** 15 / float(model.optimizer.dynamic_scale)))
    assert int(model.optimizer.iterations) + skipped == 16 and int(model.optimizer.iterations) >= 8
    loaded = keras_ae.load_model(tmp_path / "m.keras")  # under float32
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert int(loaded.optimizer.iterations) == int(model.optimizer.iterations)
    assert float(loaded.optimizer.dynamic_scale) == float(model.optimizer.dynamic_scale)
