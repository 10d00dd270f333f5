"""Lazy import of TensorFlow Probability's distributions (``tfd``).

TFP 0.25 imports only when ``tf-keras`` is installed; importing it here, on
first use, keeps ``import keras_ae`` fast and gives one place to explain a
missing dependency.
"""

try:
    import tensorflow_probability as tfp
except ImportError as error:  # pragma: no cover - depends on the install
    raise ImportError(
        "keras_ae needs tensorflow-probability[tf] (with tf-keras) for its "
        "VAE models: pip install 'tensorflow-probability[tf]>=0.25'"
    ) from error

tfd = tfp.distributions
