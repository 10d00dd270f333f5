"""The registry: lookup, suggestions, duplicates and option checking."""

import pytest

import keras_ae
from keras_ae import _registry
from keras_ae._validation import Integer


def test_unknown_name_lists_models_and_suggests():
    with pytest.raises(ValueError) as info:
        keras_ae.build("vea", input_shape=(4,), latent_dim=2)
    message = str(info.value)
    assert "Invalid value for 'name'" in message
    assert "Did you mean 'vae'?" in message
    for name in keras_ae.list_models():
        assert name in message


def test_duplicate_registration_is_an_error():
    with pytest.raises(ValueError, match="already registered"):

        @keras_ae.register_model(name="dense")
        def another_dense(*, input_shape, latent_dim):
            raise AssertionError("never called")


def test_register_and_build_a_new_model():
    calls = []

    @keras_ae.register_model(options={"width": Integer(1)})
    def _test_tiny(*, input_shape, latent_dim, width=3):
        calls.append((input_shape, latent_dim, width))
        return "model"

    try:
        assert "_test_tiny" in keras_ae.list_models()
        assert keras_ae.build("_test_tiny", input_shape=(4,), latent_dim=2, width=5) == "model"
        assert calls == [((4,), 2, 5)]
        with pytest.raises(ValueError, match="Invalid value for 'width': expected a positive integer"):
            keras_ae.build("_test_tiny", input_shape=(4,), latent_dim=2, width=0)
        assert len(calls) == 1  # refused before the builder ran
    finally:
        del _registry._MODELS["_test_tiny"]
        del _registry._SPECS["_test_tiny"]


def test_an_undeclared_option_cannot_be_registered():
    with pytest.raises(TypeError, match="Option 'width' of model '_test_bad' has no declared constraint"):

        @keras_ae.register_model
        def _test_bad(*, input_shape, latent_dim, width=3):
            raise AssertionError("never called")

    assert "_test_bad" not in keras_ae.list_models()


def test_misspelled_option_fails_loudly():
    with pytest.raises(TypeError) as info:
        keras_ae.build("dense", input_shape=(4,), latent_dim=2, hiden=(3,))
    assert "Unknown option 'hiden'" in str(info.value)
    assert "Did you mean 'hidden'?" in str(info.value)


def test_missing_required_option():
    with pytest.raises(TypeError, match="latent_dim"):
        keras_ae.build("dense", input_shape=(4,))


def test_every_model_has_a_one_line_summary():
    for name in keras_ae.list_models():
        assert _registry.summary(name).endswith(".")


def test_import_is_lazy_and_plots_is_reachable():
    import subprocess
    import sys

    code = (
        "import sys, keras_ae\n"
        "assert 'tensorflow' not in sys.modules, 'import keras_ae loaded TensorFlow'\n"
        "names = keras_ae._registry.catalog()\n"
        "assert 'tensorflow' not in sys.modules\n"
        "assert callable(keras_ae.plots.plot_history)\n"
        "assert callable(keras_ae.callbacks.KLWarmup)\n"
        "print(sorted(names))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(keras_ae.list_models())


def test_unknown_attribute_of_the_package_is_an_attribute_error():
    with pytest.raises(AttributeError, match="has no attribute 'bild'"):
        keras_ae.bild  # noqa: B018
