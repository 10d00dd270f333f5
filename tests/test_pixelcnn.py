"""The gated PixelCNN (keras_ae.models._pixelcnn) and the PixelVAE ``pixelcnn_vae``.

Causality and the absence of a blind spot are checked through gradients; the
likelihood is checked by enumerating every image of a tiny grid (the
probabilities sum to 1) and the sampler against those probabilities.
"""

import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy import stats

import keras_ae
from keras_ae.models._pixelcnn import (
    GatedPixelCNNBlock,
    MaskedConv2D,
    causal_mask,
    pixelcnn_log_prob,
    pixelcnn_network,
    pixelcnn_sample,
)

SMALL = {"filters": (4,), "pixelcnn_filters": 8, "pixelcnn_layers": 2, "condition_channels": 2}


def _dependencies(fn, x, i, j):
    """Which pixels of ``x`` (one image) the scalar ``fn(x)[i, j]`` has a non-zero gradient for: (H, W) bools."""
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = tf.reduce_sum(fn(x)[0, i, j])
    grad = tape.gradient(out, x).numpy()[0]
    return np.abs(grad).reshape(*grad.shape[:2], -1).sum(axis=-1) > 0


def _earlier(height, width, i, j):
    mask = np.zeros((height, width), bool)
    mask.flat[: i * width + j] = True
    return mask


def _all_binary_images(height, width):
    return np.array(list(itertools.product([0.0, 1.0], repeat=height * width)), "float32").reshape(
        -1, height, width, 1)


def _chi_square_p_value(samples, probabilities, outcomes):
    """p-value of Pearson's test of the counts of ``samples`` (rows of ``outcomes``) against ``probabilities``."""
    index = {tuple(o): k for k, o in enumerate(outcomes.reshape(len(outcomes), -1))}
    probabilities = probabilities / probabilities.sum()  # exact to 1e-5 (checked apart); scipy wants 1e-8
    counts = np.bincount([index[tuple(s)] for s in samples.reshape(len(samples), -1)], minlength=len(outcomes))
    expected = probabilities * len(samples)
    keep = expected >= 5  # Pearson's approximation; the rare outcomes are pooled
    observed = np.r_[counts[keep], counts[~keep].sum()]
    expected = np.r_[expected[keep], expected[~keep].sum()]
    if expected[-1] == 0:
        observed, expected = observed[:-1], expected[:-1]
    return stats.chisquare(observed, expected).pvalue


# ---------------------------------------------------------------------------
# Masks and causality


def test_masks_of_a_3x3_kernel():
    np.testing.assert_array_equal(causal_mask((3, 3), "A"), [[1, 1, 1], [1, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(causal_mask((3, 3), "B"), [[1, 1, 1], [1, 1, 0], [0, 0, 0]])
    np.testing.assert_array_equal(causal_mask((3, 3), "vertical"), [[1, 1, 1], [1, 1, 1], [0, 0, 0]])
    np.testing.assert_array_equal(causal_mask((1, 3), "horizontal_A"), [[1, 0, 0]])
    np.testing.assert_array_equal(causal_mask((1, 3), "horizontal_B"), [[1, 1, 0]])


@pytest.mark.parametrize("mask_type", ["A", "B"])
def test_masked_convolution_is_causal(mask_type):
    keras.utils.set_random_seed(0)
    conv = MaskedConv2D(4, 3, mask_type=mask_type)
    x = np.random.default_rng(0).uniform(size=(1, 5, 5, 2)).astype("float32")
    for i, j in itertools.product(range(5), range(5)):
        seen = _dependencies(conv, x, i, j)
        allowed = _earlier(5, 5, i, j)
        allowed[i, j] = mask_type == "B"
        within = np.zeros((5, 5), bool)
        within[max(0, i - 1) : i + 2, max(0, j - 1) : j + 2] = True
        np.testing.assert_array_equal(seen, allowed & within, err_msg=f"pixel {(i, j)}")


@pytest.mark.parametrize("condition", [None, "vector", "map"])
def test_gated_network_sees_exactly_the_earlier_pixels(condition):
    """Causal (nothing at or after the pixel) and no blind spot (every earlier pixel, 4x4, 3 blocks of 3x3)."""
    keras.utils.set_random_seed(0)
    shape = {None: None, "vector": (3,), "map": (4, 4, 2)}[condition]
    net = pixelcnn_network((4, 4, 1), filters=8, n_layers=3, kernel_size=3, condition_shape=shape)
    c = None if shape is None else tf.constant(np.random.default_rng(1).normal(size=(1, *shape)), "float32")
    fn = net if c is None else (lambda x: net([x, c]))
    x = np.random.default_rng(0).uniform(size=(1, 4, 4, 1)).astype("float32")
    for i, j in itertools.product(range(4), range(4)):
        np.testing.assert_array_equal(_dependencies(fn, x, i, j), _earlier(4, 4, i, j), err_msg=f"pixel {(i, j)}")


def test_the_check_finds_the_blind_spot_of_a_plain_masked_stack():
    """The masked 3x3 stack of the first PixelCNN misses pixels up and to the right: the check above would see it."""
    keras.utils.set_random_seed(0)
    image = keras.Input((5, 5, 1))
    x = MaskedConv2D(8, 3, mask_type="A")(image)
    for _ in range(3):
        x = MaskedConv2D(8, 3, mask_type="B", activation="tanh")(x)
    plain = keras.Model(image, x)
    x = np.random.default_rng(0).uniform(size=(1, 5, 5, 1)).astype("float32")
    seen = _dependencies(plain, x, 2, 1)
    assert not (seen & ~_earlier(5, 5, 2, 1)).any()  # causal
    assert not seen[0, 4] and not seen[1, 4]  # ... but blind up and to the right (both earlier pixels)


def test_categorical_network_with_one_hot_or_integer_input_is_causal():
    keras.utils.set_random_seed(0)
    codes = np.random.default_rng(0).integers(0, 5, size=(1, 3, 4, 1)).astype("float32")
    one_hot = np.eye(5, dtype="float32")[codes[..., 0].astype(int)]
    net = pixelcnn_network((3, 4, 5), n_values=5, filters=8, n_layers=3, one_hot_input=True)
    assert net.output.shape[1:] == (3, 4, 1, 5)
    for i, j in itertools.product(range(3), range(4)):
        np.testing.assert_array_equal(_dependencies(net, one_hot, i, j), _earlier(3, 4, i, j))
    integer = pixelcnn_network((3, 4, 1), n_values=5, filters=8, n_layers=3, name="prior")
    integer.set_weights(net.get_weights())  # the same weights: integer codes are one-hot encoded inside
    np.testing.assert_allclose(integer(codes), net(one_hot), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(pixelcnn_log_prob(integer(codes), codes, 5), pixelcnn_log_prob(net(one_hot), one_hot, 5),
                               rtol=1e-5)


# ---------------------------------------------------------------------------
# Exact likelihood and sampling, by enumeration


def test_binary_conditional_network_probabilities_sum_to_one_and_sampler_matches():
    keras.utils.set_random_seed(0)
    net = pixelcnn_network((2, 2, 1), filters=8, n_layers=2, condition_shape=(3,))
    c = np.random.default_rng(2).normal(size=(1, 3)).astype("float32") * 2
    images = _all_binary_images(2, 2)
    # A few steps on images that are all 0s or all 1s: pixels that depend strongly on the earlier ones.
    data = images[[0, 15] * 8] * np.ones((1, 1, 1, 1), "float32")
    optimizer = keras.optimizers.Adam(0.05)
    for _ in range(30):
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(pixelcnn_log_prob(net([tf.constant(data), tf.constant(np.repeat(c, 16, 0))]),
                                                     data))
        optimizer.apply_gradients(zip(tape.gradient(loss, net.trainable_variables), net.trainable_variables))
    log_p = pixelcnn_log_prob(net([images, np.repeat(c, len(images), 0)]), images).numpy().astype("float64")
    np.testing.assert_allclose(np.exp(log_p).sum(), 1.0, atol=1e-5)
    samples = pixelcnn_sample(net, 20_000, condition=np.repeat(c, 20_000, 0), seed=0)
    assert set(np.unique(samples)) <= {0.0, 1.0}
    assert _chi_square_p_value(samples, np.exp(log_p), images) > 1e-3
    # A sampler that ignored the earlier pixels (one independent draw per pixel) fails the same test.
    marginal = np.stack([np.exp(log_p) @ images[:, i, j, 0] for i, j in itertools.product(range(2), range(2))])
    independent = (np.random.default_rng(0).uniform(size=(20_000, 4)) < marginal).astype("float32")
    assert _chi_square_p_value(independent.reshape(-1, 2, 2, 1), np.exp(log_p), images) < 1e-3


def test_categorical_network_probabilities_sum_to_one_and_sampler_matches():
    keras.utils.set_random_seed(1)
    net = pixelcnn_network((2, 2, 1), n_values=3, filters=8, n_layers=2)
    codes = np.array(list(itertools.product(range(3), repeat=4)), "float32").reshape(-1, 2, 2, 1)
    log_p = pixelcnn_log_prob(net(codes), codes, n_values=3).numpy().astype("float64")
    np.testing.assert_allclose(np.exp(log_p).sum(), 1.0, atol=1e-5)
    samples = pixelcnn_sample(net, 20_000, n_values=3, seed=1)
    assert samples.dtype == np.int32 and samples.shape == (20_000, 2, 2, 1)
    assert _chi_square_p_value(samples.astype("float32"), np.exp(log_p), codes) > 1e-3


def test_pixelcnn_vae_log_prob_sums_to_one_over_all_4x4_images():
    keras.utils.set_random_seed(0)
    model = keras_ae.build("pixelcnn_vae", input_shape=(4, 4, 1), latent_dim=2, seed=0, **SMALL)
    model.fit(_all_binary_images(4, 4)[::97], epochs=2, batch_size=32, verbose=0)  # not the initial weights
    images = _all_binary_images(4, 4)  # 65,536
    for z in np.random.default_rng(3).normal(size=(2, 1, 2)).astype("float32"):
        log_p = model.log_prob(images, np.repeat(z, len(images), 0)).numpy().astype("float64")
        np.testing.assert_allclose(np.exp(log_p).sum(), 1.0, atol=1e-5)


def test_pixelcnn_vae_sampler_matches_the_exact_probabilities():
    keras.utils.set_random_seed(0)
    model = keras_ae.build("pixelcnn_vae", input_shape=(2, 2, 1), latent_dim=2, seed=0, **SMALL)
    model.fit(_all_binary_images(2, 2)[[0, 3, 5, 15]], epochs=20, batch_size=4, verbose=0)
    images = _all_binary_images(2, 2)
    z = np.random.default_rng(4).normal(size=(1, 2)).astype("float32")
    probabilities = np.exp(model.log_prob(images, np.repeat(z, 16, 0)).numpy().astype("float64"))
    np.testing.assert_allclose(probabilities.sum(), 1.0, atol=1e-5)
    samples = model.sample(20_000, seed=5, z=np.repeat(z, 20_000, 0))
    assert _chi_square_p_value(samples, probabilities, images) > 1e-3
    np.testing.assert_array_equal(model.sample(7, seed=3), model.sample(7, seed=3))
    assert not np.array_equal(model.sample(50, seed=3), model.sample(50, seed=4))


def test_iwae_uses_the_teacher_forced_log_px_given_z():
    """The same draws reproduced by hand (common noise): log w = log p(x|z) + log N(z) - log q(z|x), exactly."""
    keras.utils.set_random_seed(0)
    model = keras_ae.build("pixelcnn_vae", input_shape=(4, 4, 1), latent_dim=2, seed=0, **SMALL)
    x = _all_binary_images(4, 4)[::4099]
    model.fit(x, epochs=2, batch_size=8, verbose=0)
    k, d = 5, 2
    loc, raw = model.posterior_params(x)
    scale = keras_ae.layers.GaussianPosterior.scale(raw).numpy()
    eps = tf.random.stateless_normal((k, 1, d), seed=tf.constant([3, 0], dtype=tf.int32)).numpy()
    z = loc.numpy()[None] + scale[None] * eps  # (k, n, d)
    log_px = np.stack([model.log_prob(x, zi).numpy() for zi in z])
    log_w = (log_px + stats.norm.logpdf(z).sum(-1)
             - stats.norm.logpdf(z, loc.numpy()[None], scale[None]).sum(-1))
    expected = np.log(np.mean(np.exp(log_w.astype("float64")), axis=0))
    got = keras_ae.metrics.iwae_log_likelihood(model, x, k=k, seed=3, common_noise=True)
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_iwae_estimate_approaches_log_px_by_quadrature():
    """With a 1-D code, log p(x) = log int p(x|z) N(z) dz by quadrature; the IWAE bound (k=10000) reaches it.

    The weights are heavy-tailed when q(z|x) is narrower than the posterior (an estimate can then
    overshoot); seeded, the gaps measured are 0.0003 to 0.011 nats.
    """
    keras.utils.set_random_seed(0)
    model = keras_ae.build("pixelcnn_vae", input_shape=(2, 2, 1), latent_dim=1, seed=0, **SMALL)
    images = _all_binary_images(2, 2)
    model.fit(images[[0, 3, 5, 15] * 8], epochs=10, batch_size=8, verbose=0)
    grid = np.linspace(-8, 8, 4001, dtype="float32")
    x = images[[0, 6, 15]]
    log_px_z = np.stack([model.log_prob(np.repeat(xi[None], len(grid), 0), grid[:, None]).numpy() for xi in x])
    log_prior = stats.norm.logpdf(grid)
    exact = np.log(np.trapezoid(np.exp(log_px_z.astype("float64") + log_prior), grid, axis=1))
    assert np.isfinite(exact).all()
    iwae = keras_ae.metrics.iwae_log_likelihood(model, x, k=10_000, seed=0)
    elbo = keras_ae.metrics.elbo(model, x, seed=0)
    np.testing.assert_allclose(iwae, exact, atol=0.03)
    assert (iwae >= elbo - 1e-3).all()
    # Summed over all 16 images, p(x) is a distribution too.
    log_px_z_all = np.stack([model.log_prob(np.repeat(xi[None], len(grid), 0), grid[:, None]).numpy()
                             for xi in images]).astype("float64")
    np.testing.assert_allclose(np.trapezoid(np.exp(log_px_z_all + log_prior), grid, axis=1).sum(), 1.0, atol=1e-4)


# ---------------------------------------------------------------------------
# The model


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits

    return (load_digits().images[:256, :, :, None] > 7).astype("float32")  # binarized 8x8 digits


def test_loss_goes_down_on_binarized_digits(digits):
    keras.utils.set_random_seed(0)
    model = keras_ae.build("pixelcnn_vae", input_shape=(8, 8, 1), latent_dim=4, seed=0, learning_rate=5e-3,
                           **SMALL)
    history = model.fit(digits, epochs=4, batch_size=32, verbose=0).history
    assert history["loss"][-1] < 0.8 * history["loss"][0]
    # The loss is the exact negative ELBO at the posterior mean: reconstruction is -log p(x|z) in nats.
    z = model.predict_codes(digits[:32])
    logs = model.evaluate(digits[:32], batch_size=32, verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["reconstruction"], -np.mean(model.log_prob(digits[:32], z)), rtol=1e-5)


def test_decoder_is_the_greedy_decoding_of_the_pixelcnn(digits):
    keras.utils.set_random_seed(0)
    model = keras_ae.build("pixelcnn_vae", input_shape=(8, 8, 1), latent_dim=2, seed=0, **SMALL)
    model.fit(digits, epochs=1, batch_size=32, verbose=0)
    z = model.predict_codes(digits[:8])
    probabilities = model.get_layer("decoder").predict(z, verbose=0)
    greedy = (probabilities > 0.5).astype("float32")
    # Teacher-forced on the greedy image, the PixelCNN gives the same conditionals at every pixel.
    np.testing.assert_allclose(keras.ops.sigmoid(model.conditional_logits(greedy, z)), probabilities, atol=1e-5)
    # ... and the greedy image is at least as probable as any single-pixel change of it.
    best = model.log_prob(greedy, z).numpy()
    flipped = greedy.copy()
    flipped[:, -1, -1] = 1 - flipped[:, -1, -1]
    assert (model.log_prob(flipped, z).numpy() <= best + 1e-5).all()


def test_save_and_load_in_safe_mode_keeps_every_output(tmp_path, digits):
    keras.utils.set_random_seed(0)
    model = keras_ae.build("pixelcnn_vae", input_shape=(8, 8, 1), latent_dim=2, seed=0, conditioning="vector",
                           **SMALL)
    model.fit(digits[:64], epochs=1, batch_size=32, verbose=0)
    model.save(tmp_path / "p.keras")
    loaded = keras_ae.load_model(tmp_path / "p.keras", safe_mode=True)
    assert type(loaded) is keras_ae.models.PixelCNNVAE
    z = model.predict_codes(digits[:16])
    np.testing.assert_array_equal(loaded.log_prob(digits[:16], z), model.log_prob(digits[:16], z))
    np.testing.assert_array_equal(loaded.predict(digits[:16], verbose=0), model.predict(digits[:16], verbose=0))
    np.testing.assert_array_equal(loaded.sample(4, seed=0), model.sample(4, seed=0))


def test_network_and_block_configs_round_trip():
    block = GatedPixelCNNBlock(4, 5, mask_type="A", residual=False, vector_condition=True, name="b")
    again = GatedPixelCNNBlock.from_config(block.get_config())
    assert again.get_config() == block.get_config()
    conv = MaskedConv2D(3, (3, 5), mask_type="vertical")
    assert MaskedConv2D.from_config(conv.get_config()).get_config() == conv.get_config()
    net = pixelcnn_network((4, 4, 1), n_values=3, filters=4, n_layers=2, condition_shape=(4, 4, 2))
    clone = keras.Model.from_config(net.get_config())
    clone.set_weights(net.get_weights())
    x = np.random.default_rng(0).integers(0, 3, size=(2, 4, 4, 1)).astype("float32")
    c = np.ones((2, 4, 4, 2), "float32")
    np.testing.assert_array_equal(clone([x, c]), net([x, c]))


# ---------------------------------------------------------------------------
# Refusals


@pytest.mark.parametrize("options, message", [
    ({"input_shape": (8, 8, 3)}, r"Invalid value for 'input_shape': expected \(height, width, 1\): one channel"),
    ({"kernel_size": 4}, r"Invalid value for 'kernel_size': expected an odd integer >= 3"),
    ({"input_shape": (6, 6, 1), "filters": (4, 8)}, r"Invalid value for 'input_shape': expected image sides "
                                                     r"divisible by 4"),
    ({"likelihood": "gaussian"}, r"Invalid value for 'likelihood': expected one of \['bernoulli'\]"),
    ({"conditioning": "maps"}, r"Invalid value for 'conditioning': expected one of .* Did you mean 'map'\?"),
])
def test_builder_refuses_bad_options(options, message):
    with pytest.raises(ValueError, match=message):
        keras_ae.build("pixelcnn_vae", **{"input_shape": (8, 8, 1), "latent_dim": 2, **options})


@pytest.mark.parametrize("kwargs, message", [
    ({"input_shape": (4, 4, 2)}, r"Invalid value for 'input_shape': expected \(height, width, 1\)"),
    ({"input_shape": (4, 4, 1), "one_hot_input": True, "n_values": 3},
     r"Invalid value for 'input_shape': expected \(height, width, 3\)"),
    ({"input_shape": (4, 4, 1), "n_values": 1}, r"Invalid value for 'n_values': expected an integer >= 2"),
    ({"input_shape": (4, 4, 1), "kernel_size": 2}, r"Invalid value for 'kernel_size': expected an integer >= 3"),
    ({"input_shape": (4, 4, 1), "condition_shape": (5, 4, 2)}, r"Invalid value for 'condition_shape': expected "
                                                               r"\(d,\) for a vector, or \(4, 4, channels\)"),
    ({"input_shape": (4, 4, 1), "n_layers": 0}, r"Invalid value for 'n_layers': expected a positive integer"),
])
def test_network_refuses_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        pixelcnn_network(**kwargs)


def test_layers_and_sampling_refuse_bad_arguments():
    with pytest.raises(ValueError, match="Invalid value for 'mask_type': expected one of"):
        MaskedConv2D(4, 3, mask_type="C")
    with pytest.raises(ValueError, match="Invalid value for 'kernel_size': expected an odd positive integer"):
        MaskedConv2D(4, 2)
    with pytest.raises(ValueError, match="Invalid value for 'padding': expected 'same'"):
        MaskedConv2D(4, 3, padding="valid")
    net = pixelcnn_network((2, 2, 1), filters=4, n_layers=1, condition_shape=(3,))
    with pytest.raises(ValueError, match="Invalid value for 'condition': expected an array of shape \\(5, 3\\)"):
        pixelcnn_sample(net, 5, condition=np.zeros((4, 3)))
    with pytest.raises(ValueError, match="Invalid value for 'condition': expected an array of conditions"):
        pixelcnn_sample(net, 5)
    model = keras_ae.build("pixelcnn_vae", input_shape=(8, 8, 1), latent_dim=2, **SMALL)
    with pytest.raises(ValueError, match="Invalid value for 'z': expected an array of shape \\(3, 2\\)"):
        model.sample(3, z=np.zeros((3, 4)))
    with pytest.raises(ValueError, match="Invalid value for 'n': expected a positive integer"):
        model.sample(0)


@pytest.mark.parametrize("case, message", [
    ("nan", "Invalid value for 'x': expected finite values"),
    ("outside", "Invalid value for 'x': expected values in \\[0, 1\\]"),
    ("z_rows", "Invalid value for 'z': expected an array of shape \\(4, 2\\)"),
    ("z_width", "Invalid value for 'z': expected an array of shape \\(4, 2\\)"),
    ("x_shape", "Invalid value for 'x': expected .*8, 8, 1"),
])
def test_log_prob_refuses_bad_images_and_codes(case, message):
    model = keras_ae.build("pixelcnn_vae", input_shape=(8, 8, 1), latent_dim=2, filters=(4,), pixelcnn_filters=4,
                           pixelcnn_layers=1)
    x = np.zeros((4, 8, 8, 1), "float32")
    z = np.zeros((4, 2), "float32")
    if case == "nan":
        x[0, 0, 0, 0] = np.nan
    elif case == "outside":
        x[0, 0, 0, 0] = 2.0
    elif case == "z_rows":
        z = np.zeros((3, 2), "float32")
    elif case == "z_width":
        z = np.zeros((4, 5), "float32")
    else:
        x = np.zeros((4, 28, 28, 1), "float32")
    with pytest.raises(ValueError, match=message):
        model.log_prob(x, z)
