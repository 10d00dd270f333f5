"""Model builders; importing this package registers every family."""

from keras_ae.models import contractive, conv, dense, denoising, sparse, vae  # noqa: F401
from keras_ae.models.contractive import ContractiveAutoencoder

__all__ = ["ContractiveAutoencoder"]
