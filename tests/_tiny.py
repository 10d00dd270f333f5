"""Small models of every registered family, shared by the tests that follow the registry."""

import keras
import numpy as np

import keras_ae

SHAPE = (8, 8, 1)
#: The example shape of the small models, by input rank: images for rank 3,
#: windows of 8 time steps of 8 features for rank 2. Rank-1 models flatten
#: their input, so they take the images too.
SHAPES = {1: SHAPE, 2: (8, 8), 3: SHAPE}
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
    # An untrained copy of the in-project classifier: no file from the cache needed.
    "dfc_vae": {"filters": (4, 8), "hidden": (8,), "feature_network": "random"},
    "conv1d": {"filters": (4,)},
    "dec": {"hidden": (16,), "n_clusters": 3},
    "m2": {"hidden": (16,), "classifier_hidden": (16,), "n_classes": 3},
    "semantic_hashing": {"hidden": (16,)},
    "pixelcnn_vae": {"filters": (4,), "pixelcnn_filters": 8, "pixelcnn_layers": 2, "condition_channels": 2},
    # The shared examples are uniform in [0, 1): ratings on a 0-1 scale (0 = unobserved).
    "autorec": {"min_rating": 0.0, "max_rating": 1.0, "default_rating": 0.5},
    # Three stride-2 convolutions: a 1x1 grid of one 2-D code vector (latent_dim is the size D of a code
    # vector; the flat code the shared tests read is h * w * D wide). 8 codes, a 1-block prior.
    "vq_vae": {"filters": (4, 4, 8), "num_embeddings": 8, "prior_filters": 4, "prior_layers": 1},
}


def shape_for(name, **options):
    """The shape of one example of the small ``name`` model built with ``options``."""
    spec = keras_ae.get_spec(name)
    return SHAPES[spec.rank_for({**SMALL.get(name, {}), **options})]


def examples(name=None, n=32, seed=0):
    """``n`` examples uniform in [0, 1) of the shape ``name`` takes (``SHAPE`` without a name).

    Every model of a given shape gets the same values: a fresh array, free to modify.
    """
    shape = SHAPE if name is None else shape_for(name)
    return np.random.default_rng(seed).uniform(size=(n, *shape)).astype("float32")


def tiny(name, seed=0, **options):
    """Builds a small ``name`` model on inputs of ``shape_for(name)`` with a 2-D code, seeded."""
    keras.utils.set_random_seed(seed)
    return keras_ae.build(name, input_shape=shape_for(name, **options), latent_dim=2,
                          **{**SMALL.get(name, {}), **options})


def labels_for(name, n=32):
    """Labels for ``fit(x, labels)`` of a family whose objective uses them (``None`` for the others).

    For ``m2``: the classes 0-2 and ``-1`` (unlabelled) in turn, so a batch holds both kinds.
    """
    if name == "m2":
        return (np.arange(n) % 4 - 1).astype("int32")
    return None


def likelihoods(name):
    """The likelihoods model ``name`` declares (AutoRec's squared error is Gaussian only)."""
    return keras_ae.get_spec(name).options["likelihood"][0].choices


def bernoulli_if_declared(name):
    """``{"likelihood": "bernoulli"}`` for a model that takes it, else ``{}`` (its own default)."""
    return {"likelihood": "bernoulli"} if "bernoulli" in likelihoods(name) else {}


def registered_default(name, option):
    """The registered default of ``option`` for model ``name``."""
    return keras_ae.get_spec(name).options[option][1]


def weights(model):
    """Copies of every weight of ``model``, as NumPy arrays."""
    return [w.numpy().copy() for w in model.weights]
