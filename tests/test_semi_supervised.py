"""M2: its terms against a by-hand computation, labels, generation, and the semi-supervised batches."""

import numpy as np
import pytest
import tensorflow as tf
from _tiny import examples, tiny, weights

import keras_ae
from keras_ae.layers import GaussianPosterior
from keras_ae.losses import log_likelihood


def _by_hand(model, x, labels):
    """The three terms from the sub-models, enumerating the labels in NumPy (z at the posterior mean)."""
    k = model.n_classes
    x = tf.constant(x)
    logits = np.asarray(model.label_logits(x), "float64")
    log_q = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    q = np.exp(log_q)
    elbo_terms = []
    for c in range(k):
        onehot = tf.constant(np.tile(np.eye(k, dtype="float32")[c], (len(x), 1)))
        loc, raw = model._views.posterior_params([x, onehot])
        params = model.decoder_params([loc, onehot])
        recon = -np.asarray(log_likelihood(x, params, model.likelihood, model.decoder_scale), "float64")
        kl = np.asarray(GaussianPosterior.kl_per_dimension(loc, raw), "float64").sum(1)
        elbo_terms.append((recon, kl))
    recon = np.stack([r for r, _ in elbo_terms], 1)
    kl = np.stack([kl for _, kl in elbo_terms], 1)
    out = {"reconstruction": [], "kl": [], "classification": []}
    for i, label in enumerate(labels):
        if label >= 0:
            out["reconstruction"].append(recon[i, label])
            out["kl"].append(kl[i, label] + np.log(k))
            out["classification"].append(-log_q[i, label])
        else:
            out["reconstruction"].append((q[i] * recon[i]).sum())
            out["kl"].append((q[i] * kl[i]).sum() + (q[i] * log_q[i]).sum() + np.log(k))
            out["classification"].append(0.0)
    return {name: np.array(values) for name, values in out.items()}, recon + kl, q


def test_terms_equal_the_labelled_and_unlabelled_bounds_by_hand():
    model = tiny("m2", seed=3)
    x = examples("m2", n=8)
    labels = np.array([0, 1, 2, -1, -1, 2, -1, 0], "int32")
    terms = {k: np.asarray(t) for k, t in model.loss_terms(x, x, labels=labels).items()}
    expected, _, _ = _by_hand(model, x, labels)
    for name in ("reconstruction", "kl", "classification"):
        np.testing.assert_allclose(terms[name], expected[name], rtol=1e-4, atol=1e-4, err_msg=name)


def test_unlabelled_bound_is_tight_when_the_classifier_is_the_posterior_of_y():
    """-ELBO(x) = sum_y q(y|x) L(x, y) + KL(q(y|x) || uniform) >= -log mean_y exp(-L(x, y)), with equality at
    q(y|x) proportional to exp(-L(x, y)): the gap is KL(q(y|x) || p(y|x)) of the label's posterior."""
    model = tiny("m2", seed=4)
    x = examples("m2", n=8)
    unlabelled = -np.ones(8, "int32")
    terms = model.loss_terms(x, x, labels=unlabelled)
    bound = np.asarray(terms["reconstruction"]) + np.asarray(terms["kl"])
    _, per_label, q = _by_hand(model, x, unlabelled)
    log_marginal = np.log(np.exp(-per_label).mean(1))
    assert np.all(bound >= -log_marginal - 1e-3)
    posterior = np.exp(-per_label) / np.exp(-per_label).sum(1, keepdims=True)
    gap = (q * np.log(q / posterior)).sum(1)
    np.testing.assert_allclose(bound - (-log_marginal), gap, rtol=1e-3, atol=1e-3)


def test_fit_without_labels_treats_every_example_as_unlabelled():
    x = examples("m2")
    runs = []
    for labels in (None, -np.ones(32, "int32")):
        model = tiny("m2", seed=5)
        history = model.fit(x, labels, epochs=1, batch_size=16, shuffle=False, verbose=0).history
        runs.append((history, weights(model)))
    assert runs[0][0] == runs[1][0] and runs[0][0]["classification"] == [0.0]
    for a, b in zip(runs[0][1], runs[1][1]):
        np.testing.assert_array_equal(a, b)


def test_ten_labels_per_class_teach_the_classifier():
    import keras

    keras.utils.set_random_seed(0)
    (x, y), (x_test, y_test) = keras_ae.data.load("digits", flatten=True)
    labels = np.full(len(y), -1)
    keep = keras_ae.evaluation.labelled_subset(y, 10)
    labels[keep] = y[keep]
    model = keras_ae.build("m2", input_shape=(64,), latent_dim=8, hidden=(64,), classifier_hidden=(64,),
                           learning_rate=3e-3, seed=0)
    data = keras_ae.data.semi_supervised_dataset(x, labels, batch_size=64, labelled_per_batch=32)
    history = model.fit(data, epochs=8, verbose=0).history
    assert history["loss"][-1] < history["loss"][0]
    accuracy = np.mean(model.predict_labels(x_test) == y_test)
    assert accuracy > 0.6, accuracy  # chance: 0.1


@pytest.mark.parametrize("labels, message", [
    (np.full(32, 0.5, "float32"), "Invalid value for 'labels': expected integers from 0 to 2, or -1"),
    (np.full(32, 3, "int32"), "Invalid value for 'labels': expected integers from 0 to 2 \\(the classes\\)"),
    (np.full(32, -2, "int32"), "Invalid value for 'labels': expected integers from 0 to 2 \\(the classes\\)"),
])
def test_bad_labels_are_refused_before_any_step(labels, message):
    model = tiny("m2")
    before = weights(model)
    with pytest.raises(ValueError, match=message):
        model.fit(examples("m2"), labels, epochs=1, batch_size=16, verbose=0)
    for a, b in zip(before, weights(model)):
        np.testing.assert_array_equal(a, b)


def test_generate_renders_one_style_in_every_class():
    model = tiny("m2")
    z = np.zeros((3, 2), "float32")
    images = model.generate(np.arange(3), z=z)
    assert images.shape == (3, 8, 8, 1) and images.min() >= 0 and images.max() <= 1
    assert not np.allclose(images[0], images[1])  # the label changes the image
    np.testing.assert_array_equal(model.generate(np.arange(3), seed=1), model.generate(np.arange(3), seed=1))
    with pytest.raises(ValueError, match="Invalid value for 'labels': expected integers from 0 to 2"):
        model.generate(np.array([0, 3]))
    with pytest.raises(ValueError, match="Invalid value for 'labels': expected a non-empty 1-D array"):
        model.generate(np.array([0.5]))
    with pytest.raises(ValueError, match="Invalid value for 'z': expected codes of shape \\(2, 2\\)"):
        model.generate(np.array([0, 1]), z=np.zeros((2, 3)))


def test_semi_supervised_batches_mix_a_fixed_number_of_labelled_examples():
    x = np.arange(50, dtype="float32").reshape(50, 1)
    labels = np.full(50, -1)
    labels[:6] = [0, 1, 2, 0, 1, 2]
    data = keras_ae.data.semi_supervised_dataset(x, labels, batch_size=10, labelled_per_batch=4, seed=0)
    epochs = []
    for _ in range(2):
        seen = []
        for xb, yb in data:
            xb, yb = xb.numpy().ravel(), yb.numpy()
            assert yb.dtype == np.int32
            assert len(yb) in (10, 4 + 44 % 6)  # 44 unlabelled examples, 6 a batch: the last has 2
            assert np.sum(yb >= 0) == 4
            np.testing.assert_array_equal(yb, labels[xb.astype(int)])
            seen.extend(xb[yb < 0].astype(int).tolist())
        assert sorted(seen) == list(range(6, 50))  # each unlabelled example once an epoch
        epochs.append(seen)
    assert epochs[0] != epochs[1]  # a new order every epoch


@pytest.mark.parametrize("kwargs, message", [
    ({"labels": np.zeros(50, "int64")}, "at least one labelled \\(>= 0\\) and one unlabelled"),
    ({"labels": np.full(50, -1)}, "at least one labelled"),
    ({"labels": np.zeros(49, "int64")}, "a 1-D array of 50 integer labels"),
    ({"labels": np.zeros(50, "float32")}, "a 1-D array of 50 integer labels"),
    ({"labels": np.full(50, -3)}, "class labels, or -1 for an unlabelled example"),
    ({"labelled_per_batch": 10}, "Invalid value for 'labelled_per_batch': expected an integer from 1 to"),
    ({"batch_size": 1}, "Invalid value for 'batch_size'"),
])
def test_semi_supervised_dataset_refuses_bad_arguments(kwargs, message):
    labels = np.full(50, -1)
    labels[:5] = 1
    args = {"labels": labels, "batch_size": 10, **kwargs}
    with pytest.raises(ValueError, match=message):
        keras_ae.data.semi_supervised_dataset(np.zeros((50, 2), "float32"), **args)


def test_a_dataset_batch_with_bad_labels_is_refused_in_the_graph():
    model = tiny("m2")
    x = examples("m2")
    data = tf.data.Dataset.from_tensor_slices((x, np.full(32, 7, "int32"))).batch(16)
    with pytest.raises(ValueError, match="Invalid value for 'labels': expected integers from 0 to 2"):
        model.fit(data, epochs=1, verbose=0)
