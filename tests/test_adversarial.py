"""Adversarial and Wasserstein autoencoders, the MMD and the plain GAN: what the registry tests do not cover."""

import keras
import numpy as np
import pytest
from _tiny import examples, tiny, weights

import keras_ae
from keras_ae.losses import IMQ_SCALES, mmd


def _mmd_by_hand(a, b, variance=1.0):
    a, b = np.asarray(a, "float64"), np.asarray(b, "float64")
    base = 2 * a.shape[1] * variance

    def k(p, q):
        d = ((p[:, None] - q[None]) ** 2).sum(-1)
        return sum(base * s / (base * s + d) for s in IMQ_SCALES)

    n, m = len(a), len(b)
    kaa, kbb = k(a, a), k(b, b)
    return ((kaa.sum() - np.trace(kaa)) / (n * (n - 1)) + (kbb.sum() - np.trace(kbb)) / (m * (m - 1))
            - 2 * k(a, b).mean())


def test_mmd_is_the_unbiased_estimate_with_inverse_multiquadratic_kernels():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(7, 3)), rng.normal(size=(5, 3)) + 1.0
    np.testing.assert_allclose(float(mmd(a, b)), _mmd_by_hand(a, b), rtol=1e-5)
    np.testing.assert_allclose(float(mmd(a, b, prior_variance=4.0)), _mmd_by_hand(a, b, 4.0), rtol=1e-5)
    np.testing.assert_allclose(float(mmd(a, b)), float(mmd(b, a)), rtol=1e-6)


def test_mmd_is_near_zero_for_one_distribution_and_grows_with_the_shift():
    rng = np.random.default_rng(1)
    same = float(mmd(rng.normal(size=(500, 2)), rng.normal(size=(500, 2))))
    shifted = [float(mmd(rng.normal(size=(500, 2)), rng.normal(size=(500, 2)) + s)) for s in (0.5, 1.0, 2.0)]
    assert abs(same) < 0.01
    assert same < shifted[0] < shifted[1] < shifted[2]


def test_mmd_refuses_bad_scales():
    a = np.zeros((4, 2))
    for scales in ((), (0.0,), (-1.0,), 1.0, (float("nan"),)):
        with pytest.raises(ValueError, match="Invalid value for 'scales': expected a non-empty tuple of positive"):
            mmd(a, a, scales=scales)


def test_mmd_refuses_bad_samples():
    with pytest.raises(ValueError, match=r"Invalid value for 'a': expected an array of shape \(n, d\) with n >= 2"):
        mmd(np.zeros((1, 2)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="Invalid value for 'b': expected samples of dimension 2 like 'a'"):
        mmd(np.zeros((4, 2)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="Invalid value for 'prior_variance'"):
        mmd(np.zeros((4, 2)), np.zeros((4, 2)), prior_variance=0.0)


@pytest.mark.parametrize("name", ["aae", "ali"])
def test_each_optimizer_trains_only_its_own_group(name):
    x = examples(name)
    for frozen in ("optimizer", "discriminator_optimizer"):
        model = tiny(name, compile=False)
        optimizers = {"optimizer": keras.optimizers.SGD(0.1), "discriminator_optimizer": keras.optimizers.SGD(0.1)}
        optimizers[frozen] = keras.optimizers.SGD(0.0)
        model.compile(**optimizers)
        discriminator = weights(model.discriminator)
        def trainable():  # not batch-norm statistics, which any training step updates
            return [w.numpy().copy() for w in model.get_layer("encoder").trainable_weights
                    + model.get_layer("decoder").trainable_weights]

        autoencoder = trainable()
        model.fit(x, epochs=1, batch_size=16, verbose=0)
        moved_d = not all(np.array_equal(a, b) for a, b in zip(discriminator, weights(model.discriminator)))
        after = trainable()
        moved_ae = not all(np.array_equal(a, b) for a, b in zip(autoencoder, after))
        assert (moved_d, moved_ae) == ((True, False) if frozen == "optimizer" else (False, True))


@pytest.mark.parametrize("name", ["aae", "wae_mmd", "ali"])
def test_evaluation_is_deterministic(name):
    x = examples(name)
    model = tiny(name)
    first = model.evaluate(x, batch_size=16, verbose=0, return_dict=True)
    assert model.evaluate(x, batch_size=16, verbose=0, return_dict=True) == first


def test_mixture_prior_draws_the_component_of_each_label():
    model = tiny("aae", prior="mixture", prior_components=4, prior_radius=3.0, prior_scale=0.1)
    labels = np.repeat([0, 1, 2, 3], 500)
    z = np.asarray(model.sample_prior(2000, labels=labels, seed=0))
    means = np.stack([z[labels == k].mean(axis=0) for k in range(4)])
    np.testing.assert_allclose(means, [[3, 0], [0, 3], [-3, 0], [0, -3]], atol=0.02)
    np.testing.assert_allclose(z[labels == 2].std(axis=0), [0.1, 0.1], rtol=0.1)
    free = np.asarray(model.sample_prior(4000, seed=1))  # no labels: every component, equally
    nearest = np.argmin(((free[:, None] - means[None]) ** 2).sum(-1), axis=1)
    assert np.all(np.abs(np.bincount(nearest, minlength=4) / 4000 - 0.25) < 0.03)
    np.testing.assert_array_equal(model.sample_prior(8, seed=5), model.sample_prior(8, seed=5))


@pytest.mark.parametrize("name", ["vae", "aae", "wae_mmd", "ali"])
def test_every_model_with_a_prior_samples_it(name):
    model = tiny(name)
    z = np.asarray(model.sample_prior(2000, seed=3))
    assert z.shape == (2000, 2)
    np.testing.assert_allclose(z.mean(axis=0), 0.0, atol=0.1)  # their default prior: N(0, I)
    np.testing.assert_allclose(z.std(axis=0), 1.0, atol=0.1)
    np.testing.assert_array_equal(z, model.sample_prior(2000, seed=3))
    with pytest.raises(ValueError, match="Invalid value for 'n': expected a positive integer. Received: n=0"):
        model.sample_prior(0)


def test_sample_prior_refuses_labels_it_cannot_use():
    mixture = tiny("aae", prior="mixture", prior_components=4)
    with pytest.raises(ValueError, match=r"Invalid value for 'labels': expected integers from 0 to 3 .* "
                                         r"Received: labels=<array with values from 0 to 10>"):
        mixture.sample_prior(3, labels=[0, 10, 2])
    with pytest.raises(ValueError, match=r"Invalid value for 'labels': expected 3 integers, shape \(3,\). "
                                         r"Received: labels=<int64 array of shape \(2,\)>"):
        mixture.sample_prior(3, labels=[0, 1])
    with pytest.raises(ValueError, match=r"Invalid value for 'labels': expected 2 integers"):
        mixture.sample_prior(2, labels=[0.5, 1.0])
    with pytest.raises(ValueError, match=r"Invalid value for 'labels': expected None for prior='gaussian'"):
        tiny("aae").sample_prior(2, labels=[0, 1])


def test_conditional_aae_learns_from_labels_and_refuses_bad_ones():
    x = examples("aae")
    labels = np.arange(32) % 4 - 1  # -1: unlabelled
    model = tiny("aae", prior="mixture", prior_components=3, conditional=True, seed=0)
    assert model.discriminator.input_shape == (None, 2 + 3 + 1)
    with_labels = model.fit(x, labels, epochs=1, batch_size=16, shuffle=False, verbose=0).history
    model = tiny("aae", prior="mixture", prior_components=3, conditional=True, seed=0)
    without = model.fit(x, epochs=1, batch_size=16, shuffle=False, verbose=0).history
    assert with_labels["discriminator"] != without["discriminator"]
    before = weights(model)
    with pytest.raises(ValueError, match=r"Invalid value for 'labels': expected integers from 0 to 2 \(the "
                                         r"components of the prior\), or -1 for an unlabelled example"):
        model.fit(x, np.full(32, 3), epochs=1, batch_size=16, verbose=0)
    for a, b in zip(before, weights(model)):
        np.testing.assert_array_equal(a, b)


def test_options_that_contradict_each_other_are_refused():
    with pytest.raises(ValueError, match=r"Invalid value for 'latent_dim': expected at least 2 for "
                                         r"prior='mixture'.*Received: latent_dim=1"):
        keras_ae.build("aae", input_shape=(4,), latent_dim=1, prior="mixture")
    with pytest.raises(ValueError, match=r"Invalid value for 'conditional': expected False unless "
                                         r"prior='mixture'"):
        keras_ae.build("aae", input_shape=(4,), latent_dim=2, conditional=True)


def _digits():
    (x, _), _ = keras_ae.data.load("digits", flatten=True, seed=0)
    return x.astype("float32")


@pytest.mark.parametrize("name, option", [("aae", "adversarial_weight"), ("wae_mmd", "mmd_weight")])
def test_the_latent_penalty_pulls_the_codes_to_the_prior(name, option):
    """The codes of all the data (the aggregate posterior) end closer to p(z) with the penalty than without."""
    x = _digits()
    distances = {}
    for weight in (0.0, 10.0 if name == "wae_mmd" else 1.0):
        keras.utils.set_random_seed(0)
        model = keras_ae.build(name, input_shape=(64,), latent_dim=2, hidden=(64,), seed=0,
                               **({"discriminator_hidden": (64,), "learning_rate": 1e-3} if name == "aae" else {}),
                               **{option: weight})
        model.fit(x, epochs=15, batch_size=64, verbose=0)
        codes = model.get_layer("encoder").predict(x, verbose=0)
        distances[weight] = float(mmd(codes, model.sample_prior(len(x), seed=0)))
    penalised, free = distances[max(distances)], distances[0.0]
    assert penalised < 0.5 * free, distances


# ---------------------------------------------------------------------------
# The plain GAN


def _ring_gan(seed=0):
    keras.utils.set_random_seed(seed)
    return keras_ae.models.gan(data_shape=(2,), latent_dim=2, hidden=(16,), discriminator_hidden=(16,), seed=seed)


def test_gan_saves_both_optimizers_and_resumes_identically(tmp_path):
    points = keras_ae.sample_quality.ring_data(256, seed=0)
    model = _ring_gan()
    history = model.fit(points, epochs=2, batch_size=64, shuffle=False, verbose=0).history
    assert set(history) == {"loss", "generator", "discriminator"}
    np.testing.assert_allclose(history["loss"], history["generator"])
    model.save(tmp_path / "gan.keras")
    loaded = keras.models.load_model(tmp_path / "gan.keras")
    np.testing.assert_array_equal(loaded.sample(16, seed=3), model.sample(16, seed=3))
    for mine, theirs in ((model.optimizer, loaded.optimizer),
                         (model.discriminator_optimizer, loaded.discriminator_optimizer)):
        assert int(theirs.iterations) == int(mine.iterations) == 8
        for a, b in zip(mine.variables, theirs.variables, strict=True):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    model.fit(points, epochs=1, batch_size=64, shuffle=False, verbose=0)
    loaded.fit(points, epochs=1, batch_size=64, shuffle=False, verbose=0)
    for a, b in zip(weights(loaded), weights(model), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_gan_training_is_seeded_and_changes_both_networks():
    points = keras_ae.sample_quality.ring_data(256, seed=0)
    runs = []
    for _ in range(2):
        model = _ring_gan(seed=4)
        before = weights(model)
        model.fit(points, epochs=1, batch_size=64, verbose=0)
        runs.append(weights(model))
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)
    moved = [not np.array_equal(a, b) for a, b in zip(before, runs[0])]
    assert all(moved)


def test_adversarial_inference_generator_batch_norm_and_discriminator_dropout():
    model = tiny("ali", seed=0)
    names = [layer.name for layer in model.get_layer("decoder").layers]
    assert "decoder_batchnorm_1" in names  # the default
    assert "decoder_batchnorm_1" not in [layer.name for layer in tiny("ali", decoder_batchnorm=False).get_layer(
        "decoder").layers]
    x = examples("ali")
    codes = model.get_layer("encoder")(x)
    # Dropout acts in training only: two training calls differ, inference calls agree.
    train = [np.asarray(model.discriminate(x, codes, training=True)) for _ in range(2)]
    infer = [np.asarray(model.discriminate(x, codes)) for _ in range(2)]
    assert not np.allclose(*train)
    np.testing.assert_array_equal(*infer)
    plain = tiny("ali", discriminator_dropout=0.0)
    np.testing.assert_array_equal(plain.discriminate(x, codes, training=True), plain.discriminate(x, codes))


def test_gan_batch_norm_option():
    model = keras_ae.models.gan(data_shape=(4,), latent_dim=2, hidden=(8,), batchnorm=True)
    assert any(isinstance(layer, keras.layers.BatchNormalization) for layer in model.generator.layers)
    with pytest.raises(ValueError, match="Invalid value for 'batchnorm': expected True or False"):
        keras_ae.models.gan(data_shape=(4,), latent_dim=2, batchnorm=1)


def test_gan_refuses_bad_arguments():
    with pytest.raises(ValueError, match="Invalid value for 'latent_dim': expected a positive integer"):
        keras_ae.models.gan(data_shape=(2,), latent_dim=0)
    with pytest.raises(ValueError, match="Invalid value for 'output'"):
        keras_ae.models.gan(data_shape=(2,), latent_dim=2, output="tanh")
    with pytest.raises(ValueError, match="Invalid value for 'n'"):
        _ring_gan().sample(0)


# ---------------------------------------------------------------------------
# Mistakes a user makes (found by a newcomer's trial)


def test_compile_refuses_a_missing_or_shared_optimizer():
    model = tiny("aae", compile=False)
    with pytest.raises(ValueError, match="Invalid value for 'discriminator_optimizer': expected an optimizer"):
        model.compile(optimizer="adam", discriminator_optimizer=None)
    shared = keras.optimizers.Adam()
    with pytest.raises(ValueError, match="Invalid value for 'optimizer': expected a separate optimizer object"):
        model.compile(optimizer=shared, discriminator_optimizer=shared)
    gan = _ring_gan()
    with pytest.raises(ValueError, match="Invalid value for 'discriminator_optimizer': expected an optimizer"):
        gan.compile(optimizer="adam", discriminator_optimizer=None)
    with pytest.raises(ValueError, match="Invalid value for 'loss': expected None"):
        gan.compile(loss="mse")


def test_a_column_of_labels_is_refused_as_a_target():
    x = examples("aae")
    model = tiny("aae", prior="mixture", prior_components=4, conditional=True, likelihood="gaussian")
    before = weights(model)
    labels = (np.arange(32) % 4)[:, None]
    with pytest.raises(ValueError, match=r"Invalid value for 'y': expected targets of the output's shape "
                                         r"\(n, 8, 8, 1\), or one integer label per example, shape \(n,\). "
                                         r"Received: y=<array of shape \(32, 1\)>. Flatten a column of labels"):
        model.fit(x, labels, epochs=1, verbose=0)
    for a, b in zip(before, weights(model)):
        np.testing.assert_array_equal(a, b)
    model.fit(x, labels.ravel(), epochs=1, verbose=0)  # the advice works
    with pytest.raises(ValueError, match=r"Invalid value for 'labels': expected integers .* Received: "
                                         r"labels=<float\d+ labels>"):
        model.fit(x, labels.ravel() + 0.5, epochs=1, verbose=0)


def test_wae_mmd_carries_no_mmd_on_a_batch_of_one():
    x = examples("wae_mmd")
    model = tiny("wae_mmd")
    assert model.evaluate(x[:3], batch_size=1, verbose=0, return_dict=True)["mmd"] == 0.0
    # Batches of unknown size (a dataset): the last batch of one counts 0, weighted by its one example.
    import tensorflow as tf

    two = model.evaluate(x[:2], batch_size=2, verbose=0, return_dict=True)["mmd"]
    three = model.evaluate(tf.data.Dataset.from_tensor_slices(x[:3]).batch(2), verbose=0, return_dict=True)["mmd"]
    assert two != 0.0
    np.testing.assert_allclose(three, 2 / 3 * two, rtol=1e-5)


def test_sample_prior_checks_numpy_integers():
    model = tiny("aae")
    with pytest.raises(ValueError, match=r"Invalid value for 'n': expected a positive integer. Received: n=np.int64"):
        model.sample_prior(np.int64(0))
    assert model.sample_prior(np.int64(3)).shape == (3, 2)


def test_gan_refuses_non_finite_data():
    points = keras_ae.sample_quality.ring_data(64, seed=0)
    points[3, 0] = np.nan
    model = _ring_gan()
    before = weights(model)
    with pytest.raises(ValueError, match="Invalid value for 'x': expected finite values"):
        model.fit(points, epochs=1, verbose=0)
    for a, b in zip(before, weights(model)):
        np.testing.assert_array_equal(a, b)


def test_gan_scales_its_losses_under_mixed_float16():
    """Both optimizers are loss-scaled, so a float16 step moves the weights as a float32 step does."""
    points = keras_ae.sample_quality.ring_data(64, seed=0)
    moves = {}
    for policy in ("float32", "mixed_float16"):
        keras.mixed_precision.set_global_policy(policy)
        try:
            model = _ring_gan(seed=5)
            model.compile(optimizer=keras.optimizers.SGD(0.1), discriminator_optimizer=keras.optimizers.SGD(0.1))
            if policy == "mixed_float16":
                assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
                assert isinstance(model.discriminator_optimizer, keras.optimizers.LossScaleOptimizer)
            start = [weights(model.generator), weights(model.discriminator)]
            model.fit(points, epochs=1, batch_size=64, verbose=0)
            moves[policy] = [sum(np.abs(a - b).sum() for a, b in zip(before, weights(net)))
                             for before, net in zip(start, (model.generator, model.discriminator))]
        finally:
            keras.mixed_precision.set_global_policy("float32")
    np.testing.assert_allclose(moves["mixed_float16"], moves["float32"], rtol=0.05)
