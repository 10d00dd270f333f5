"""Small models of every registered family, shared by the tests that follow the registry."""

import keras

import keras_ae

SHAPE = (8, 8, 1)
# Small widths keep the suite fast; a newly registered model is tested with
# its defaults until it gets an entry here.
SMALL = {
    "dense": {"hidden": (16,)},
    "denoising": {"hidden": (16,), "filters": (4,)},
    "sparse": {"hidden": ()},
    "contractive": {"hidden": ()},
    "vae": {"hidden": (16,)},
    "beta_vae": {"hidden": (16,)},
    "conv": {"filters": (4, 8)},
    "conv_vae": {"filters": (4, 8), "hidden": (8,)},
}


def tiny(name, seed=0, **options):
    """Builds a small ``name`` model on ``SHAPE`` inputs with a 2-D code, seeded."""
    keras.utils.set_random_seed(seed)
    return keras_ae.build(name, input_shape=SHAPE, latent_dim=2, **{**SMALL.get(name, {}), **options})


def weights(model):
    """Copies of every weight of ``model``, as NumPy arrays."""
    return [w.numpy().copy() for w in model.weights]
