"""Model builders; importing this package registers every family.

A new family is one module (a builder decorated with
:func:`keras_ae.register_model`, and a subclass of :class:`Autoencoder` if its
objective has terms of its own) plus its import line below.
"""

from keras_ae.models import (  # noqa: F401
    adversarial,
    clustering,
    contractive,
    conv,
    denoising,
    dense,
    dfc,
    hashing,
    pixelcnn,
    recommender,
    semi_supervised,
    sequence,
    sparse,
    vae,
    vq,
)
from keras_ae.models._base import Autoencoder
from keras_ae.models.adversarial import AdversarialAutoencoder, AdversarialInference, WassersteinAutoencoder
from keras_ae.models.clustering import DeepEmbeddedClustering
from keras_ae.models.contractive import ContractiveAutoencoder
from keras_ae.models.dfc import DFCVAE
from keras_ae.models.gan import GAN, gan
from keras_ae.models.hashing import SemanticHashing
from keras_ae.models.pixelcnn import PixelCNNVAE
from keras_ae.models.recommender import AutoRec
from keras_ae.models.semi_supervised import SemiSupervisedVAE
from keras_ae.models.sparse import SparseAutoencoder
from keras_ae.models.vae import ImportanceWeightedAutoencoder, VariationalAutoencoder
from keras_ae.models.vq import VQVAE, VectorQuantizer

__all__ = [
    "AdversarialAutoencoder",
    "AdversarialInference",
    "AutoRec",
    "Autoencoder",
    "ContractiveAutoencoder",
    "DFCVAE",
    "DeepEmbeddedClustering",
    "GAN",
    "ImportanceWeightedAutoencoder",
    "PixelCNNVAE",
    "SemanticHashing",
    "SemiSupervisedVAE",
    "SparseAutoencoder",
    "VQVAE",
    "VariationalAutoencoder",
    "VectorQuantizer",
    "WassersteinAutoencoder",
    "gan",
]
