"""One message format for every bad option, checked for each builder option."""

import re

import pytest

import keras_ae

FORMAT = re.compile(r"^Invalid value for '(\w+)': expected .+\. Received: \1=.+")

DENSE = {"input_shape": (8,), "latent_dim": 2}
IMAGE = {"input_shape": (8, 8, 1), "latent_dim": 2}

CASES = [
    ("dense", DENSE, {"latent_dim": 0}, "latent_dim", "a positive integer"),
    ("dense", DENSE, {"latent_dim": 2.5}, "latent_dim", "a positive integer"),
    ("dense", DENSE, {"input_shape": (0,)}, "input_shape", "positive integers"),
    ("dense", DENSE, {"input_shape": 8}, "input_shape", "tuple"),
    ("dense", DENSE, {"hidden": (16, -1)}, "hidden", "tuple of positive integers"),
    ("dense", DENSE, {"activation": "relux"}, "activation", "Did you mean 'relu'?"),
    ("dense", DENSE, {"likelihood": "poisson"}, "likelihood", "['bernoulli', 'gaussian']"),
    ("dense", DENSE, {"learning_rate": 0}, "learning_rate", "a positive number"),
    ("dense", DENSE, {"learning_rate": float("nan")}, "learning_rate", "a positive number"),
    ("conv", IMAGE, {"input_shape": (10, 8, 1)}, "input_shape", "divisible by 4"),
    ("conv", IMAGE, {"input_shape": (8, 8)}, "input_shape", "3 positive integers"),
    ("conv", IMAGE, {"filters": ()}, "filters", "non-empty tuple"),
    ("conv_vae", IMAGE, {"input_shape": (12, 12, 1), "filters": (4, 4, 4)}, "input_shape", "divisible by 8"),
    ("denoising", DENSE, {"noise_level": -0.1}, "noise_level", "a non-negative number"),
    ("denoising", DENSE, {"noise": "dropout", "noise_level": 1.0}, "noise_level", "[0, 1)"),
    ("denoising", DENSE, {"noise": "salt"}, "noise", "Did you mean 'salt_and_pepper'?"),
    ("denoising", DENSE, {"base": "cnn"}, "base", "['conv', 'dense']"),
    ("sparse", DENSE, {"target": 0.0}, "target", "(0, 1)"),
    ("sparse", DENSE, {"target": 1.0}, "target", "(0, 1)"),
    ("sparse", DENSE, {"sparsity_weight": -1.0}, "sparsity_weight", "a non-negative number"),
    ("sparse", DENSE, {"sparsity": "l2"}, "sparsity", "['kl', 'l1']"),
    ("contractive", DENSE, {"contraction_weight": -0.1}, "contraction_weight", "a non-negative number"),
    ("contractive", DENSE, {"jacobian": "closed_form", "hidden": (4,)}, "jacobian", "needs hidden=()"),
    ("contractive", DENSE, {"jacobian": "hutch"}, "jacobian", "Did you mean 'hutchinson'?"),
    ("contractive", DENSE, {"jacobian": "hutchinson", "probes": 0}, "probes", "a positive integer"),
    ("vae", DENSE, {"beta": -1.0}, "beta", "a non-negative number"),
    ("vae", DENSE, {"likelihood": "gaussian", "decoder_scale": 0.0}, "decoder_scale", "a positive number"),
    ("beta_vae", DENSE, {"latent_dim": -3}, "latent_dim", "a positive integer"),
]


@pytest.mark.parametrize("name, base, bad, parameter, expected", CASES)
def test_bad_option_message(name, base, bad, parameter, expected):
    with pytest.raises(ValueError) as info:
        keras_ae.build(name, **{**base, **bad})
    message = str(info.value)
    assert FORMAT.match(message), message
    assert message.startswith(f"Invalid value for '{parameter}'")
    assert expected in message
    assert f"Received: {parameter}={bad[parameter]!r}" in message


def test_corrupt_validates_its_arguments():
    with pytest.raises(ValueError, match="Invalid value for 'noise'"):
        keras_ae.corrupt([[0.5]], "speckle", 0.1)
    with pytest.raises(ValueError, match="Received: seed=-1"):
        keras_ae.corrupt([[0.5]], "gaussian", 0.1, seed=-1)


def test_suggestions_ignore_case_and_spaces():
    from keras_ae._validation import suggest

    assert suggest("p-1", ["P-1", "T-1", "P-10"]) == "Did you mean 'P-1'?"
    assert suggest("T-10 ", ["T-1", "P-10", "T-10"]) == "Did you mean 'T-10'?"
    assert suggest("Relu", ["relu", "elu"]) == "Did you mean 'relu'?"
    assert suggest("xyz", ["relu", "elu"]) == ""
