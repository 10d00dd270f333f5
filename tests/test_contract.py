"""The training contract, for every registered model (parametrized over the registry)."""

import re

import keras
import numpy as np
import pytest
import tensorflow as tf
from _tiny import (
    SHAPE,
    bernoulli_if_declared,
    examples,
    labels_for,
    likelihoods,
    registered_default,
    shape_for,
    tiny,
    weights,
)

import keras_ae
from keras_ae import _registry
from keras_ae.models import Autoencoder

MODELS = keras_ae.list_models()


@pytest.fixture(scope="module")
def x():
    """Examples of ``SHAPE``, for the tests of one image model; a test of every model uses ``examples(name)``."""
    return examples()


# ---------------------------------------------------------------------------
# 2. Declared options, checked in one place


def _bad_option_cases():
    for name in MODELS:
        spec = _registry.get_spec(name)
        for option, (constraint, _) in spec.options.items():
            for value in constraint.invalid_examples():
                yield pytest.param(name, option, value, id=f"{name}-{option}-{value!r}")


@pytest.mark.parametrize("name, option, value", list(_bad_option_cases()))
def test_every_declared_option_refuses_bad_values(name, option, value):
    options = {"input_shape": shape_for(name), "latent_dim": 2, "compile": False, option: value}
    with pytest.raises(ValueError, match=f"Invalid value for '{option}': expected .* Received: {option}="):
        keras_ae.build(name, **options)


@pytest.mark.parametrize("name", MODELS)
def test_defaults_satisfy_their_declarations(name):
    spec = _registry.get_spec(name)
    for option, (constraint, default) in spec.options.items():
        if default != spec.REQUIRED:
            constraint.check(option, default)


@pytest.mark.parametrize(
    "name, options, option",
    [
        ("sparse", {"target": 5, "sparsity": "l1"}, "target"),
        ("vae", {"decoder_scale": -1}, "decoder_scale"),
        ("vae", {"decoder_scale": -1, "likelihood": "bernoulli"}, "decoder_scale"),
        ("denoising", {"filters": (-1,), "base": "dense"}, "filters"),
        ("denoising", {"hidden": (0,), "base": "conv"}, "hidden"),
        ("contractive", {"probes": 0, "jacobian": "exact"}, "probes"),
    ],
)
def test_options_of_the_branch_not_taken_are_checked_too(name, options, option):
    with pytest.raises(ValueError, match=f"Invalid value for '{option}'"):
        keras_ae.build(name, input_shape=SHAPE, latent_dim=2, compile=False, **options)


def test_the_command_line_snapshot_equals_the_registry():
    from keras_ae._catalog import SPECS

    live = {name: _registry.get_spec(name) for name in MODELS}
    assert SPECS == live, "keras_ae/_catalog.py is stale: run `python -m keras_ae._registry`"


@pytest.mark.parametrize("name", MODELS)
def test_model_records_its_options(name, tmp_path):
    model = tiny(name)
    assert isinstance(model, Autoencoder)
    assert model.options["model"] == name
    assert model.options["latent_dim"] == 2
    assert model.options["likelihood"] == model.likelihood == registered_default(name, "likelihood")
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras_ae.load_model(path, compile=False)
    assert loaded.options == model.options
    assert loaded.likelihood == model.likelihood


def test_gaussian_vae_loaded_without_compiling_knows_its_scale(tmp_path, x):
    model = tiny("vae", likelihood="gaussian", decoder_scale=0.25)
    model.save(tmp_path / "g.keras")
    loaded = keras_ae.load_model(tmp_path / "g.keras", compile=False)
    assert loaded.decoder_scale == 0.25
    flat = x.reshape(len(x), *SHAPE)
    np.testing.assert_allclose(keras_ae.metrics.elbo(loaded, flat), keras_ae.metrics.elbo(model, flat), rtol=1e-6)


def test_load_model_refuses_a_missing_file(tmp_path):
    with pytest.raises(ValueError, match="Invalid value for 'path': expected the path of an existing .keras file"):
        keras_ae.load_model(tmp_path / "missing.keras")


def test_load_model_says_a_corrupted_file_is_corrupted(tmp_path, x):
    junk = tmp_path / "junk.keras"
    junk.write_bytes(b"junk")
    model = tiny("dense")
    model.save(tmp_path / "good.keras")
    truncated = tmp_path / "truncated.keras"
    truncated.write_bytes((tmp_path / "good.keras").read_bytes()[:-200])
    for path in (junk, truncated):
        with pytest.raises(ValueError, match=r"Invalid value for 'path': expected a .keras file \(a zip archive "
                                             r"written by model.save\). Received: path='.*', which is not a zip "
                                             r"archive: corrupted or truncated\?"):
            keras_ae.load_model(path)
    np.testing.assert_array_equal(keras_ae.load_model(tmp_path / "good.keras").predict(x, verbose=0),
                                  model.predict(x, verbose=0))


# ---------------------------------------------------------------------------
# 3. The training contract


@pytest.mark.parametrize("name", MODELS)
def test_fit_without_targets_is_fit_on_x_to_x(name):
    x = examples(name)
    runs = []
    for targets in (None, x):
        model = tiny(name, seed=3)
        history = model.fit(x, targets, epochs=2, batch_size=16, shuffle=False, verbose=0)
        runs.append((history.history, weights(model)))
    assert runs[0][0] == runs[1][0]
    for a, b in zip(runs[0][1], runs[1][1]):
        np.testing.assert_array_equal(a, b)
    assert set(runs[0][0]) == {"loss", *type(model).TERMS}


def _main_terms(model):
    """The terms of the objective ``loss`` reports: those of no named optimizer group."""
    return [t for t in model.TERMS if t not in model.TERM_GROUPS]


@pytest.mark.parametrize("name", MODELS)
def test_loss_is_the_weighted_sum_of_the_terms(name):
    x = examples(name)
    model = tiny(name)
    logs = model.evaluate(x, labels_for(name), batch_size=32, verbose=0, return_dict=True)
    expected = sum(
        logs[term] * (float(model.hyperparameters[model.TERM_WEIGHTS[term]]) if term in model.TERM_WEIGHTS else 1.0)
        for term in _main_terms(model)
    )
    np.testing.assert_allclose(logs["loss"], expected, rtol=1e-5)
    for term in model.TERM_GROUPS:  # a discriminator's loss is reported, never added to the model's
        assert logs[term] > 0 and not np.isclose(logs["loss"], expected + logs[term], rtol=1e-5)


# Models whose penalty is a statistic of the whole batch (an MMD between the
# batch of codes and prior samples): a weight cannot remove one example from it.
BATCH_LEVEL = {"wae_mmd": "mmd"}


@pytest.mark.parametrize("name", [n for n in MODELS if n not in BATCH_LEVEL])
def test_sample_weights_apply_to_every_term(name):
    x = examples(name)
    options = {"sparsity": "l1"} if name == "sparse" else {}  # the KL penalty is batch-level
    model = tiny(name, **options)
    labels = labels_for(name)
    half = np.r_[np.ones(16), np.zeros(16)].astype("float32")
    weighted = model.evaluate(x, labels, sample_weight=half, batch_size=32, verbose=0, return_dict=True)
    first = model.evaluate(x[:16], None if labels is None else labels[:16], batch_size=16, verbose=0,
                           return_dict=True)
    for key in ("loss", *model.TERMS):
        # Keras' convention: sum_i w_i l_i / batch size.
        np.testing.assert_allclose(weighted[key], 0.5 * first[key], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name, term", BATCH_LEVEL.items())
def test_sample_weights_scale_a_batch_level_term_by_their_mean(name, term):
    x = examples(name)
    model = tiny(name)
    weight = np.r_[np.full(16, 0.25), np.ones(16)].astype("float32")
    weighted = model.evaluate(x, sample_weight=weight, batch_size=32, verbose=0, return_dict=True)
    plain = model.evaluate(x, batch_size=32, verbose=0, return_dict=True)
    np.testing.assert_allclose(weighted[term], weight.mean() * plain[term], rtol=1e-5)
    per_example = -model.reconstruction_nll(x, model.decoder_params(model.encode(x)))
    np.testing.assert_allclose(weighted["reconstruction"], -np.mean(weight * per_example), rtol=1e-5)


@pytest.mark.parametrize("name", ["dense", "vae", "sparse"])
def test_class_weights_are_sample_weights_from_labels(name, x):
    labels = np.arange(32) % 2
    by_class, by_sample = tiny(name, seed=1), tiny(name, seed=1)
    by_class.fit(x, labels, class_weight={0: 1.0, 1: 0.25}, epochs=1, batch_size=16, shuffle=False, verbose=0)
    by_sample.fit(x, sample_weight=np.where(labels == 1, 0.25, 1.0), epochs=1, batch_size=16, shuffle=False,
                  verbose=0)
    for a, b in zip(weights(by_class), weights(by_sample)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", MODELS)
def test_validation_data_reports_every_term(name):
    x = examples(name)
    model = tiny(name)
    history = model.fit(x[:16], epochs=1, batch_size=16, validation_data=(x[16:],), verbose=0)
    logs = model.evaluate(x[16:], batch_size=16, verbose=0, return_dict=True)
    for key in ("loss", *model.TERMS):
        np.testing.assert_allclose(history.history[f"val_{key}"][0], logs[key], rtol=1e-5)


HYPERPARAMETER_MODELS = [n for n in MODELS if type(tiny(n, compile=False)).HYPERPARAMETERS]


@pytest.mark.parametrize("name", HYPERPARAMETER_MODELS)
def test_a_hyperparameter_changed_by_a_callback_changes_training(name):
    from keras_ae.callbacks import HyperparameterSchedule

    x, labels = examples(name), labels_for(name)  # M2's weighted term is its labelled examples' cross-entropy
    model = tiny(name, seed=2)
    weighted = [t for t, h in model.TERM_WEIGHTS.items()]
    switches = [HyperparameterSchedule(model.TERM_WEIGHTS[t], lambda t: 1.0 if t < 1 else 0.0) for t in weighted]
    switched = model.fit(x, labels, epochs=2, batch_size=16, shuffle=False, callbacks=switches, verbose=0).history
    constant = tiny(name, seed=2)
    for t in weighted:
        constant.hyperparameters[constant.TERM_WEIGHTS[t]].assign(1.0)
    kept = constant.fit(x, labels, epochs=2, batch_size=16, shuffle=False, verbose=0).history
    assert switched["loss"][0] == kept["loss"][0]
    # After the switch the loss is the new objective: the unweighted terms only.
    unweighted = sum(switched[t][1] for t in _main_terms(model) if t not in model.TERM_WEIGHTS)
    np.testing.assert_allclose(switched["loss"][1], unweighted, rtol=1e-5)
    assert switched["loss"][1] != kept["loss"][1]


def test_kl_warmup_and_cyclical_beta_schedules(x):
    from keras_ae.callbacks import CyclicalBeta, KLWarmup

    seen = []
    record = keras.callbacks.LambdaCallback(
        on_train_batch_begin=lambda b, logs: None,
        on_epoch_end=lambda e, logs: seen.append(logs["beta"]),
    )
    model = tiny("vae")
    model.fit(x, epochs=4, batch_size=16, callbacks=[KLWarmup(epochs=2, target=0.8), record], verbose=0)
    # beta at the last step of epochs 0..3: (e + 1/2) / 2 * 0.8, capped at 0.8.
    np.testing.assert_allclose(seen, [0.2, 0.6, 0.8, 0.8], rtol=1e-6)
    beta_vae = tiny("beta_vae")
    beta_vae.fit(x, epochs=2, batch_size=32, callbacks=[KLWarmup(epochs=1)], verbose=0)
    assert float(beta_vae.hyperparameters["beta"]) == 4.0  # its own beta, not 1
    cyclical = CyclicalBeta(cycle_epochs=2, ratio=0.5, target=1.0)
    np.testing.assert_allclose([cyclical.schedule(t) for t in (0, 0.5, 1.0, 1.5, 2.0, 2.25)],
                               [0, 0.5, 1, 1, 0, 0.25])
    with pytest.raises(ValueError, match="Invalid value for 'name': expected a hyperparameter of model"):
        tiny("dense").fit(x, epochs=1, callbacks=[KLWarmup(epochs=1)], verbose=0)


def test_free_bits_keep_the_kl_of_each_dimension_above_lambda(x):
    model = tiny("vae", free_bits=0.5)
    loc, raw = model.posterior_params(x)
    from keras_ae.layers import GaussianPosterior

    per_dim = np.asarray(GaussianPosterior.kl_per_dimension(loc, raw)).mean(axis=0)
    terms = model.loss_terms(x, x)
    np.testing.assert_allclose(np.mean(terms["kl"]), np.maximum(per_dim, 0.5).sum(), rtol=1e-5)


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
@pytest.mark.parametrize("name", MODELS)
def test_every_model_trains_under_mixed_precision(name, policy, tmp_path):
    x = examples(name)
    # Bernoulli, the default of all but conv1d: this test counts the steps, and under a
    # Gaussian likelihood the first float16 steps overflow and are skipped while the loss
    # scale adapts (a conv1d test checks that case).
    options = {**bernoulli_if_declared(name), **({"jacobian": "exact"} if name == "contractive" else {})}
    keras.mixed_precision.set_global_policy(policy)
    try:
        model = tiny(name, **options)
        history = model.fit(x, epochs=2, batch_size=16, verbose=0)
        model.save(tmp_path / "m.keras")
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert np.isfinite(history.history["loss"]).all()
    loaded = keras_ae.load_model(tmp_path / "m.keras")  # under float32
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    # Every step was applied, or skipped by the dynamic loss scale, which halves
    # at each overflow (a weighted batch penalty, the WAE's MMD, overflows float16
    # at the initial scale 2**15 for a few steps).
    applied = int(model.optimizer.iterations)
    skipped = 0
    if isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer):
        skipped = round(np.log2(2.0**15 / float(model.optimizer.dynamic_scale)))
    assert applied >= 1 and applied + skipped == 4, (applied, skipped)
    for mine, theirs in ((model.optimizer, loaded.optimizer),
                         *((o, loaded.group_optimizers[g]) for g, o in model.group_optimizers.items())):
        assert int(theirs.iterations) == int(mine.iterations)
        for a, b in zip(mine.variables, theirs.variables):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    loaded.fit(x, epochs=1, batch_size=16, verbose=0)
    if isinstance(model, keras_ae.models.VariationalAutoencoder):
        assert np.isfinite(keras_ae.metrics.elbo(loaded, x)).all()


@pytest.mark.parametrize("name", ["sparse", "contractive"])
@pytest.mark.parametrize("variant", [{"sparsity": "l1"}, {"jacobian": "hutchinson"}])
def test_penalties_train_under_float16(name, variant, x):
    if (name == "sparse") != ("sparsity" in variant):
        pytest.skip("variant of the other model")
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        history = tiny(name, **variant).fit(x, epochs=1, batch_size=16, verbose=0)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert np.isfinite(history.history["loss"]).all()


# ---------------------------------------------------------------------------
# 4. Bad data


def _shape(x):
    """``x.shape`` as it reads in a message, escaped for a regular expression: ``\\(32, 8, 8, 1\\)``."""
    return re.escape(str(x.shape))


@pytest.mark.parametrize("name", [n for n in MODELS if "bernoulli" in likelihoods(n)])
def test_bernoulli_models_refuse_unscaled_images(name):
    x = examples(name)
    model = tiny(name, likelihood="bernoulli")
    raw = (x * 255).astype("uint8")
    before = weights(model)
    with pytest.raises(ValueError, match=r"Invalid value for 'x': expected values in \[0, 1\] for a Bernoulli "
                                         rf"likelihood. Received: x=<uint8 array of shape {_shape(x)} with "
                                         r"values in \[0, 2\d\d\]>. Rescale"):
        model.fit(raw, epochs=1, verbose=0)
    for a, b in zip(before, weights(model)):
        np.testing.assert_array_equal(a, b)


def test_bernoulli_range_is_checked_in_the_graph_for_datasets(x):
    model = tiny("dense")
    dataset = tf.data.Dataset.from_tensor_slices((x * 255, x * 255)).batch(16)
    with pytest.raises(ValueError, match="Invalid value for 'y': expected targets in \\[0, 1\\]"):
        model.fit(dataset, epochs=1, verbose=0)


def test_fit_on_a_dataset_takes_its_order_without_a_shuffle_warning(x):
    import warnings

    model = tiny("dense")
    dataset = tf.data.Dataset.from_tensor_slices((x, x)).batch(16)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # Keras warns "shuffle=True ... will be ignored"
        history = model.fit(dataset, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and np.isfinite(history.history["loss"]).all()


@pytest.mark.parametrize("name", MODELS)
def test_non_finite_data_is_refused(name):
    x = examples(name)
    model = tiny(name)
    bad = x.copy()
    bad[3].flat[0] = np.nan
    with pytest.raises(ValueError, match=r"Invalid value for 'x': expected finite values. Received: "
                                         rf"x=<float32 array of shape {_shape(x)} with 1 NaN or infinite"):
        model.fit(bad, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"Invalid value for 'x in validation_data': expected finite"):
        model.fit(x, validation_data=(bad,), epochs=1, verbose=0)


@pytest.mark.parametrize("name", MODELS)
def test_predict_refuses_empty_misshapen_and_non_finite_arrays(name):
    x = examples(name)
    if not isinstance(x, np.ndarray):
        pytest.skip(f"{name} takes no single array")
    model = tiny(name)
    expected = re.escape(f"(n, {', '.join(map(str, x.shape[1:]))})")
    with pytest.raises(ValueError, match=r"Invalid value for 'x': expected at least one example. Received: "
                                         r"x=<empty array of shape \(0, "):
        model.predict(x[:0], verbose=0)
    with pytest.raises(ValueError, match=rf"Invalid value for 'x': expected an array of shape {expected}"):
        model.predict(x[:, :-1], verbose=0)
    bad = x.astype("float32")
    bad[1].flat[0] = np.inf
    with pytest.raises(ValueError, match=r"Invalid value for 'x': expected finite values"):
        model.predict(bad, verbose=0)
    assert model.predict(x[:2], verbose=0) is not None  # good input still passes the checks


@pytest.mark.parametrize("name", [n for n in MODELS if _registry.get_spec(n).has_prior])
def test_models_with_a_prior_sample_decoded_prior_draws(name):
    model = tiny(name)
    samples = model.sample(5, seed=3)
    assert samples.shape == (5, *shape_for(name))
    np.testing.assert_array_equal(samples, model.sample(5, seed=3))  # seeded: the same samples
    assert not np.array_equal(samples, model.sample(5, seed=4))
    if model.likelihood == "bernoulli":  # probabilities
        assert samples.min() >= 0 and samples.max() <= 1
    if type(model).sample is Autoencoder.sample:  # the decoder's mean at codes from the prior
        decoded = model.get_layer("decoder").predict(model.sample_prior(5, seed=3), verbose=0)
        np.testing.assert_allclose(samples, decoded, rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match=r"Invalid value for 'n': expected a positive integer. Received: n=0"):
        model.sample(0)
    for seed in (-1, 1.5, "a"):
        with pytest.raises(ValueError, match=rf"Invalid value for 'seed': expected a non-negative integer. "
                                             rf"Received: seed={re.escape(repr(seed))}"):
            model.sample(2, seed=seed)


def test_a_model_without_a_prior_says_so_when_sampled():
    with pytest.raises(TypeError, match=r"has no prior p\(z\) to sample from: .*keras_ae.get_spec\(name\).has_prior"):
        tiny("dense").sample(3)
    with pytest.raises(TypeError, match=r"decoder takes a label as well as z: draw samples with "
                                        r"model.generate\(labels, seed=...\)"):
        tiny("m2").sample(3)


def test_nested_lists_are_arrays_and_bad_counts_are_refused(x):
    model = tiny("vae")
    np.testing.assert_array_equal(model.predict(x[:3].tolist(), verbose=0), model.predict(x[:3], verbose=0))
    np.testing.assert_array_equal(model.predict_codes(x[:3].tolist()), model.predict_codes(x[:3]))
    history = model.fit(x.tolist(), epochs=1, batch_size=16, verbose=0).history
    assert np.isfinite(history["loss"]).all()
    with pytest.raises(ValueError, match=r"Invalid value for 'x': expected an array of numbers \(a NumPy array, "
                                         r"or a rectangular nested list of numbers\). Received: x=<list of 2 items"):
        model.predict([x[0].tolist(), x[1].tolist()[:-1]], verbose=0)
    for option, value, expected in (("epochs", -1, "a positive integer"), ("epochs", 1.5, "a positive integer"),
                                    ("batch_size", 0, "a positive integer"),
                                    ("initial_epoch", -1, "a non-negative integer")):
        with pytest.raises(ValueError, match=rf"Invalid value for '{option}': expected {expected}. "
                                             rf"Received: {option}={value}"):
            model.fit(x, verbose=0, **{"epochs": 1, option: value})


def test_metrics_refuse_unscaled_data(x):
    model = tiny("vae")
    for metric in (keras_ae.metrics.elbo, keras_ae.metrics.iwae_log_likelihood):
        with pytest.raises(ValueError, match=r"expected values in \[0, 1\] for a Bernoulli likelihood"):
            metric(model, x * 255)


def test_bad_weights_are_refused_before_training(x):
    model = tiny("vae")
    before = weights(model)
    with pytest.raises(ValueError, match="Invalid value for 'sample_weight': expected finite values"):
        model.fit(x, sample_weight=np.r_[np.nan, np.ones(31)], epochs=1, verbose=0)
    with pytest.raises(ValueError, match="Invalid value for 'sample_weight': expected non-negative weights"):
        model.fit(x, sample_weight=-np.ones(32), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="Invalid value for 'class_weight'"):
        model.fit(x, np.arange(32) % 2, class_weight={0: 1.0, 1: float("nan")}, epochs=1, verbose=0)
    for a, b in zip(before, weights(model)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
@pytest.mark.parametrize("bad_part", ["x", "y"])
def test_a_bad_batch_of_a_dataset_changes_no_weight(likelihood, bad_part, x):
    bad = x.copy()
    bad[20, 0, 0, 0] = np.nan  # in the second batch of 16
    data = (bad, x) if bad_part == "x" else (x, bad)
    model = tiny("vae", likelihood=likelihood, seed=4)
    with pytest.raises(ValueError, match=f"Invalid value for '{bad_part}': expected finite values"):
        model.fit(tf.data.Dataset.from_tensor_slices(data).batch(16), epochs=1, verbose=0)
    # Only the first, good, batch trained the model.
    good = tiny("vae", likelihood=likelihood, seed=4)
    good.fit(tf.data.Dataset.from_tensor_slices((x[:16], x[:16])).batch(16), epochs=1, verbose=0)
    for a, b in zip(weights(good), weights(model)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_training_stops_at_the_first_non_finite_loss_and_keeps_the_weights(x):
    model = tiny("dense")
    model.fit(x, epochs=1, batch_size=16, verbose=0)
    trained = weights(model)
    model.optimizer.learning_rate.assign(1e30)
    with pytest.raises(FloatingPointError, match="became non-finite .* at epoch 1, batch"):
        model.fit(x, epochs=3, batch_size=16, verbose=0)
    for a, b in zip(trained, weights(model)):
        np.testing.assert_array_equal(a, b)


def test_terminate_on_nan_given_by_the_user_decides(x):
    model = tiny("dense")

    class Poison(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0:
                kernel = self.model.get_layer("decoder").get_layer("decoder_logits").kernel
                kernel.assign(np.full(kernel.shape, np.nan, "float32"))

    history = model.fit(x, epochs=5, batch_size=16, callbacks=[Poison(), keras.callbacks.TerminateOnNaN()],
                        verbose=0)
    assert len(history.history["loss"]) == 2 and np.isnan(history.history["loss"][1])


# ---------------------------------------------------------------------------
# 1. Optimizer groups, through a family declared in the test


@keras.saving.register_keras_serializable(package="keras_ae_tests")
class CriticAutoencoder(Autoencoder):
    """A toy family with a second optimizer group: a critic scoring the codes."""

    OPTIMIZER_GROUPS = {"critic": ("critic",)}
    TERM_GROUPS = {"critic": "critic"}
    TERMS = ("reconstruction", "critic")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.critic = keras.layers.Dense(1, name="critic")
        self.critic.build((None, self.get_layer("encoder").output.shape[-1]))

    def loss_terms(self, x, y, training=False):
        codes = self.encode(x, training=training)
        score = keras.ops.sum(self.critic(keras.ops.stop_gradient(codes)), axis=-1)
        return {
            "reconstruction": self.reconstruction_nll(y, self.decoder_params(codes, training)),
            "critic": keras.ops.square(keras.ops.cast(score, "float32") - 1.0),
        }


def critic_model(seed=0):
    keras.utils.set_random_seed(seed)
    base = keras_ae.build("dense", input_shape=(16,), latent_dim=2, hidden=(8,), compile=False)
    inputs = keras.Input((16,), name="input")
    outputs = base.get_layer("decoder")(base.get_layer("encoder")(inputs))
    model = CriticAutoencoder(inputs, outputs, name="critic_ae")
    model.compile(optimizer=keras.optimizers.Adam(1e-2), critic_optimizer=keras.optimizers.SGD(0.1, momentum=0.9))
    return model


def test_each_optimizer_group_trains_its_own_weights_and_survives_saving(tmp_path):
    data = np.random.default_rng(0).uniform(size=(32, 16)).astype("float32")
    model = critic_model()
    critic_before = model.critic.kernel.numpy().copy()
    decoder_before = model.get_layer("decoder").weights[0].numpy().copy()
    history = model.fit(data, epochs=3, batch_size=16, shuffle=False, verbose=0).history
    assert history["critic"][-1] < history["critic"][0]
    assert not np.array_equal(model.critic.kernel.numpy(), critic_before)
    assert not np.array_equal(model.get_layer("decoder").weights[0].numpy(), decoder_before)
    # The reported loss is the main group's objective; the critic's term is its own group's.
    np.testing.assert_allclose(
        model.evaluate(data, verbose=0, return_dict=True)["loss"],
        model.evaluate(data, verbose=0, return_dict=True)["reconstruction"], rtol=1e-6,
    )
    assert int(model.optimizer.iterations) == int(model.critic_optimizer.iterations) == 6

    path = tmp_path / "critic.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded.critic_optimizer, keras.optimizers.SGD)
    for mine, theirs in ((model.optimizer, loaded.optimizer), (model.critic_optimizer, loaded.critic_optimizer)):
        assert int(theirs.iterations) == int(mine.iterations)
        for a, b in zip(mine.variables, theirs.variables):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    model.fit(data, epochs=1, batch_size=16, shuffle=False, verbose=0)
    loaded.fit(data, epochs=1, batch_size=16, shuffle=False, verbose=0)
    np.testing.assert_allclose(loaded.critic.kernel.numpy(), model.critic.kernel.numpy(), rtol=1e-6)
    for a, b in zip(weights(loaded), weights(model)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_optimizer_groups_need_their_optimizers():
    model = keras_ae.build("dense", input_shape=(4,), latent_dim=2, compile=False)
    with pytest.raises(ValueError, match="Invalid value for 'critic_optimizer'"):
        model.compile(optimizer="adam", critic_optimizer="sgd")
    with pytest.raises(ValueError, match="Invalid value for 'loss'"):
        model.compile(optimizer="adam", loss="mse")
    critic = critic_model()
    with pytest.raises(ValueError, match="Invalid value for 'critic_optimizer': expected an optimizer"):
        critic.compile(optimizer="adam")
