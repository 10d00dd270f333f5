"""Sample quality: Fréchet distance, precision and recall, ring modes and the feature network.

The measures are checked against answers known by construction; the feature
network is trained on scikit-learn's bundled digits (no download, no MNIST
file needed), in a temporary ``KERAS_HOME``, with sockets disabled.
"""

import importlib.util
import os
import re
import warnings
from pathlib import Path

import keras
import numpy as np
import pytest

from keras_ae import data
from keras_ae import sample_quality as sq

pytestmark = pytest.mark.usefixtures("no_network")

ROOT = Path(__file__).resolve().parent.parent


def _spd(d, rng):
    """A random symmetric positive definite matrix."""
    a = rng.normal(size=(d, d))
    return a @ a.T / d + 0.1 * np.eye(d)


def _reference_trace_sqrt(cov_a, cov_b):
    """Tr (cov_a cov_b)^{1/2} from the eigenvalues of the symmetric cov_a^{1/2} cov_b cov_a^{1/2}."""
    w, vectors = np.linalg.eigh(cov_a)
    root = (vectors * np.sqrt(np.clip(w, 0, None))) @ vectors.T
    return np.sqrt(np.clip(np.linalg.eigvalsh(root @ cov_b @ root), 0, None)).sum()


# ------------------------------------------------------------ Fréchet distance


def test_frechet_distance_of_a_set_with_itself_is_zero():
    x = np.random.default_rng(0).normal(size=(500, 16))
    assert sq.frechet_distance(x, x) == pytest.approx(0.0, abs=1e-8)
    assert sq.frechet_distance(x, x[::-1].copy()) == pytest.approx(0.0, abs=1e-8)


def test_frechet_distance_from_moments_known_answers():
    rng = np.random.default_rng(1)
    d = 6
    mu, delta, cov = rng.normal(size=d), rng.normal(size=d), _spd(d, rng)
    # Same covariance, shifted mean: the squared norm of the shift.
    assert sq.frechet_distance_from_moments(mu, cov, mu + delta, cov) == pytest.approx(delta @ delta, rel=1e-9)
    # Isotropic covariances sigma1^2 I and sigma2^2 I: d (sigma1 - sigma2)^2.
    s1, s2 = 0.5, 2.0
    got = sq.frechet_distance_from_moments(mu, s1**2 * np.eye(d), mu, s2**2 * np.eye(d))
    assert got == pytest.approx(d * (s1 - s2) ** 2, rel=1e-9)
    # Both at once add up.
    got = sq.frechet_distance_from_moments(mu, s1**2 * np.eye(d), mu + delta, s2**2 * np.eye(d))
    assert got == pytest.approx(delta @ delta + d * (s1 - s2) ** 2, rel=1e-9)


def test_frechet_distance_is_symmetric_and_matches_the_eigenvalue_formula():
    rng = np.random.default_rng(2)
    d = 8
    mu_a, mu_b, cov_a, cov_b = rng.normal(size=d), rng.normal(size=d), _spd(d, rng), _spd(d, rng)
    ab = sq.frechet_distance_from_moments(mu_a, cov_a, mu_b, cov_b)
    ba = sq.frechet_distance_from_moments(mu_b, cov_b, mu_a, cov_a)
    expected = np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a + cov_b) - 2 * _reference_trace_sqrt(cov_a, cov_b)
    assert ab == pytest.approx(ba, rel=1e-9)
    assert ab == pytest.approx(expected, rel=1e-9)
    a, b = rng.normal(size=(300, d)), 2.0 * rng.normal(size=(200, d)) + 1.0
    assert sq.frechet_distance(a, b) == pytest.approx(sq.frechet_distance(b, a), rel=1e-9)


def test_frechet_distance_fits_the_sample_mean_and_unbiased_covariance():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(400, 5)), rng.normal(size=(300, 5)) * 1.5 + 0.5
    expected = sq.frechet_distance_from_moments(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))
    assert sq.frechet_distance(a, b) == pytest.approx(expected, rel=1e-12)
    # Large samples of N(0, I) and N(1, 4 I) in 5-D: close to 5 * 1 + 5 * (1 - 2)^2 = 10.
    a, b = rng.normal(size=(100_000, 5)), 2.0 * rng.normal(size=(100_000, 5)) + 1.0
    assert sq.frechet_distance(a, b) == pytest.approx(10.0, rel=0.01)


def test_frechet_distance_handles_singular_covariances_quietly():
    # Fewer rows than features and always-zero features (dead ReLU units): singular covariances.
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(20, 50)), 1.5 * rng.normal(size=(20, 50)) + 1.0
    a[:, :5] = b[:, :5] = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = sq.frechet_distance(a, b)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    expected = np.sum((a.mean(0) - b.mean(0)) ** 2) + np.trace(cov_a + cov_b) - 2 * _reference_trace_sqrt(cov_a, cov_b)
    assert got == pytest.approx(expected, rel=1e-6)
    # Rounding never makes the distance negative.
    assert sq.frechet_distance(a, a + 1e-12) >= 0.0


def test_frechet_distance_refuses_bad_sets():
    x = np.zeros((10, 4))
    with pytest.raises(ValueError, match=re.escape("Invalid value for 'features_b': expected 4 features per row")):
        sq.frechet_distance(x, np.zeros((10, 5)))
    with pytest.raises(ValueError, match=re.escape("Invalid value for 'features_a': expected a 2-D array of at "
                                                   "least 2 rows")):
        sq.frechet_distance(x[:1], x)
    with pytest.raises(ValueError, match="Invalid value for 'features_b'"):
        sq.frechet_distance(x, np.zeros(10))
    with pytest.raises(ValueError, match="expected finite values"):
        sq.frechet_distance(x, np.full((10, 4), np.nan))
    with pytest.raises(ValueError, match=re.escape("Invalid value for 'cov_b': expected an array of shape (3, 3)")):
        sq.frechet_distance_from_moments(np.zeros(3), np.eye(3), np.zeros(3), np.eye(2))


# ------------------------------------------------------ precision and recall


def _blob(n, centre, std, rng, d=2):
    return centre + std * rng.normal(size=(n, d))


def test_precision_recall_of_identical_and_of_far_apart_sets():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(300, 8))
    assert sq.precision_recall(x, x.copy()) == {"precision": 1.0, "recall": 1.0}
    # Every point lies in its own ball, so each set covers itself whatever k.
    assert sq.precision_recall(x, x, k=10) == {"precision": 1.0, "recall": 1.0}
    # 1000 units apart, while the radii (k-NN distances inside N(0, I)) are a few units at most.
    assert sq.precision_recall(x, x + 1000.0) == {"precision": 0.0, "recall": 0.0}


def test_precision_recall_when_the_fake_data_covers_one_mode_of_two():
    rng = np.random.default_rng(6)
    mode_a, mode_b = np.array([0.0, 0.0]), np.array([10.0, 0.0])
    real = np.concatenate([_blob(500, mode_a, 0.1, rng), _blob(500, mode_b, 0.1, rng)])
    # A fake set drawn from mode A alone. Precision: fake points fall among the 500 real points
    # of mode A, whose 3-NN balls cover the blob but for its far tail. Recall: the real points of
    # mode B are 100 std from every fake point, far beyond any fake radius, so at most half of
    # the real points are covered; those of mode A are, but for the tail: just under one half.
    fake = _blob(1000, mode_a, 0.1, rng)
    pr = sq.precision_recall(real, fake)
    assert pr["precision"] >= 0.9
    assert 0.45 <= pr["recall"] <= 0.5
    # A collapsed fake set, a tight cluster on one real point of mode A: every fake point is
    # within 0.001 of that point, far inside its ball (the distance to its 3rd neighbour among 500
    # points of std 0.1), so precision is 1; the tiny fake balls cover hardly any real point.
    collapsed = _blob(1000, real[0], 0.0001, rng)
    pr = sq.precision_recall(real, collapsed)
    assert pr["precision"] == 1.0
    assert pr["recall"] <= 0.01


def test_precision_recall_is_the_same_in_small_blocks(monkeypatch):
    rng = np.random.default_rng(7)
    real, fake = rng.normal(size=(2000, 4)), 1.3 * rng.normal(size=(1500, 4)) + 0.3
    whole = sq.precision_recall(real, fake)
    assert 0.0 < whole["precision"] < 1.0 and 0.0 < whole["recall"] < 1.0
    monkeypatch.setattr(sq, "_WORKING_MEMORY_MIB", 1)  # blocks of under 100 rows instead of one
    assert sq.precision_recall(real, fake) == whole


def test_precision_recall_refuses_bad_input():
    x = np.zeros((10, 3))
    with pytest.raises(ValueError, match=re.escape("Invalid value for 'k': expected a positive integer. "
                                                   "Received: k=0")):
        sq.precision_recall(x, x, k=0)
    with pytest.raises(ValueError, match=re.escape("Invalid value for 'fake_features': expected a 2-D array of "
                                                   "at least 4 rows")):
        sq.precision_recall(x, x[:3], k=3)
    with pytest.raises(ValueError, match=re.escape("Invalid value for 'fake_features': expected 3 features")):
        sq.precision_recall(x, np.zeros((10, 2)))


# ------------------------------------------------------------------- ring


def test_ring_data_is_a_seeded_ring_of_gaussians():
    x = sq.ring_data(4000, modes=8, radius=2.0, std=0.02, seed=0)
    assert x.shape == (4000, 2) and x.dtype == np.float32
    np.testing.assert_array_equal(x, sq.ring_data(4000, seed=0))
    assert not np.array_equal(x, sq.ring_data(4000, seed=1))
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 2.0, atol=0.02 * 6)
    with pytest.raises(ValueError, match=re.escape("Invalid value for 'modes': expected a positive integer. "
                                                   "Received: modes=0")):
        sq.ring_data(10, modes=0)
    with pytest.raises(ValueError, match="Invalid value for 'std': expected a positive number"):
        sq.ring_data(10, std=0.0)


def test_ring_modes_of_the_data_itself_covers_every_mode():
    result = sq.ring_modes(sq.ring_data(2500, seed=0))
    assert result["modes_covered"] == 8
    # Within 3 std in 2-D: P(chi2 with 2 dof <= 9) = 1 - exp(-4.5) = 0.989.
    assert result["high_quality"] > 0.95
    assert len(result["per_mode"]) == 8 and sum(result["per_mode"]) == round(result["high_quality"] * 2500)
    assert min(result["per_mode"]) > 0.2 * 2500 / 8


def test_ring_modes_counts_the_modes_of_a_collapsed_generator():
    rng = np.random.default_rng(8)
    angles = 2 * np.pi * np.array([0, 3, 5]) / 8
    centres = 2.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    samples = centres[rng.integers(3, size=2500)] + 0.02 * rng.normal(size=(2500, 2))
    result = sq.ring_modes(samples)
    assert result["modes_covered"] == 3
    assert [i for i, count in enumerate(result["per_mode"]) if count] == [0, 3, 5]
    # A few stray samples on a fourth mode are below the default count (one fifth of 2500 / 8)...
    stray = np.concatenate([samples, np.tile([[0.0, 2.0]], (10, 1))])
    assert sq.ring_modes(stray)["modes_covered"] == 3
    # ...but count with min_count=1.
    assert sq.ring_modes(stray, min_count=1)["modes_covered"] == 4


def test_ring_modes_of_uniform_noise_has_almost_no_high_quality_sample():
    noise = np.random.default_rng(9).uniform(-10, 10, size=(2500, 2))
    result = sq.ring_modes(noise)
    # The 8 disks of radius 3 * 0.02 cover 8 pi 0.06^2 / 400 = 0.02 % of the square.
    assert result["high_quality"] < 0.005
    assert result["modes_covered"] == 0


def test_ring_modes_refuses_bad_input():
    with pytest.raises(ValueError, match=re.escape("Invalid value for 'samples': expected an array of 2-D points")):
        sq.ring_modes(np.zeros((10, 3)))
    with pytest.raises(ValueError, match=re.escape("Invalid value for 'min_count': expected None or a positive "
                                                   "integer. Received: min_count=0")):
        sq.ring_modes(np.zeros((10, 2)), min_count=0)
    with pytest.raises(ValueError, match="Invalid value for 'within'"):
        sq.ring_modes(np.zeros((10, 2)), within=-1.0)


# --------------------------------------------------------- feature network


@pytest.fixture(scope="module")
def keras_home(tmp_path_factory):
    """An empty KERAS_HOME for the whole module (no MNIST file, no cached network)."""
    home = tmp_path_factory.mktemp("keras_home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KERAS_HOME", str(home))
        yield home


@pytest.fixture(scope="module")
def trained(keras_home):
    """A feature network trained on the bundled digits, saved at the default place."""
    return sq.train_feature_network("digits", epochs=3, batch_size=32, seed=0)


def test_build_feature_network_layers():
    network = sq.build_feature_network()
    assert [layer.name for layer in network.layers] == ["image", "conv1", "conv2", "flatten", "features", "logits"]
    assert network.output_shape == (None, 10)
    assert network.get_layer("features").units == 128
    with pytest.raises(ValueError, match=re.escape("Invalid value for 'classes': expected an integer >= 2")):
        sq.build_feature_network(classes=1)
    with pytest.raises(ValueError, match="Invalid value for 'input_shape'"):
        sq.build_feature_network(input_shape=(28, 28))


def test_train_feature_network_learns_and_saves_at_the_default_path(trained, keras_home):
    assert trained.path == str(keras_home / "datasets" / "feature_networks" / "digits_classifier.keras")
    assert os.listdir(os.path.dirname(trained.path)) == ["digits_classifier.keras"]  # no temporary file left
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(trained.path).st_mode & 0o777 == 0o666 & ~umask  # readable as a plain save would be
    # 3 epochs on 1437 digits give about 0.92 test accuracy; 10 classes give 0.1 by chance.
    assert trained.test_accuracy > 0.8


def test_feature_network_loads_back_in_safe_mode_with_identical_features(trained):
    (_, _), (x_test, _) = data.load("digits")
    loaded = sq.load_feature_network("digits")  # the default path, in safe mode
    expected = sq.features(trained.network, x_test)
    np.testing.assert_array_equal(sq.features(loaded, x_test), expected)
    direct = keras.saving.load_model(trained.path, safe_mode=True, compile=False)
    np.testing.assert_array_equal(sq.features(direct, x_test), expected)


def test_features_shape_and_accepted_image_layouts():
    keras.utils.set_random_seed(0)
    network = sq.build_feature_network((28, 28, 1), feature_dim=32)
    x = np.random.default_rng(10).random((5, 28, 28, 1), dtype=np.float32)
    out = sq.features(network, x)
    assert out.shape == (5, 32) and out.dtype == np.float64
    np.testing.assert_array_equal(sq.features(network, x.reshape(5, 784)), out)
    np.testing.assert_array_equal(sq.features(network, x[..., 0]), out)
    np.testing.assert_allclose(sq.features(network, x, batch_size=2), out, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=re.escape("Invalid value for 'x': expected a non-empty array of images of "
                                                   "shape (None, 28, 28, 1) or (None, 784) or (None, 28, 28)")):
        sq.features(network, np.zeros((5, 27, 27)))
    with pytest.raises(ValueError, match=re.escape("expected images with values in [0, 1]")):
        sq.features(network, 255 * x)
    with pytest.raises(ValueError, match="Invalid value for 'network'"):
        sq.features(keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)]), np.zeros((1, 4)))


def test_load_feature_network_explains_how_to_create_a_missing_file(keras_home):
    expected = keras_home / "datasets" / "feature_networks" / "mnist_classifier.keras"
    with pytest.raises(FileNotFoundError) as info:
        sq.load_feature_network("mnist")
    message = str(info.value)
    assert str(expected) in message
    assert "python tools/train_feature_network.py --dataset mnist" in message
    assert "load_feature_network('mnist', train=True)" in message
    with pytest.raises(ValueError, match=re.escape("Invalid value for 'dataset': expected one of ['digits', "
                                                   "'fashion_mnist', 'mnist']")):
        sq.load_feature_network("mnits")


def _tiny_data(rng, n=64):
    x = rng.random((n, 8, 8), dtype=np.float32)
    y = np.arange(n) % 3
    return (x, y), (x[:16], y[:16])


def test_train_feature_network_on_arrays_writes_only_where_asked(keras_home):
    before = sorted(p.name for p in keras_home.rglob("*"))
    result = sq.train_feature_network(data=_tiny_data(np.random.default_rng(11)), epochs=1)
    assert result.path is None and 0.0 <= result.test_accuracy <= 1.0
    assert result.network.output_shape == (None, 3)
    assert sorted(p.name for p in keras_home.rglob("*")) == before
    with pytest.raises(ValueError, match=re.escape("Invalid value for 'data': expected ((x_train, y_train), "
                                                   "(x_test, y_test))")):
        sq.train_feature_network(data=(np.zeros((4, 8, 8)), np.zeros(4)), epochs=1)
    (x, y), test = _tiny_data(np.random.default_rng(11))
    with pytest.raises(ValueError, match="Invalid value for 'x_train': expected images with values in"):
        sq.train_feature_network(data=((255 * x, y), test), epochs=1)
    with pytest.raises(ValueError, match="Invalid value for 'y_train': expected a 1-D array of 64"):
        sq.train_feature_network(data=((x, y[:10]), test), epochs=1)


def test_an_interrupted_save_leaves_the_good_file_untouched(monkeypatch, tmp_path):
    good = tmp_path / "net.keras"
    good.write_bytes(b"a good network")

    def interrupted(self, filepath, *args, **kwargs):
        Path(filepath).write_bytes(b"half a netw")
        raise KeyboardInterrupt

    monkeypatch.setattr(keras.Model, "save", interrupted)
    with pytest.raises(KeyboardInterrupt):
        sq.train_feature_network(data=_tiny_data(np.random.default_rng(12)), epochs=1, path=good)
    assert good.read_bytes() == b"a good network"
    assert os.listdir(tmp_path) == ["net.keras"]


def test_the_script_trains_and_reports(tmp_path, keras_home, capsys):
    spec = importlib.util.spec_from_file_location("train_feature_network", ROOT / "tools" / "train_feature_network.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    path = tmp_path / "digits.keras"
    assert script.main(["--dataset", "digits", "--epochs", "1", "--path", str(path), "--verbose", "0"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"digits: test accuracy 0\.\d{4} after 1 epochs \(\d+ s\); wrote ", out)
    assert str(path) in out and path.is_file()
    with pytest.raises(SystemExit):
        script.main(["--dataset", "mnist", "fashion_mnist", "--path", str(path)])


def test_frechet_distance_from_moments_refuses_matrices_that_are_not_covariances():
    mu = np.zeros(2)
    with pytest.raises(ValueError, match="Invalid value for 'cov_a': expected a positive semi-definite matrix"):
        sq.frechet_distance_from_moments(mu, -np.eye(2), mu, np.eye(2))
    with pytest.raises(ValueError, match="Invalid value for 'cov_b': expected a symmetric matrix"):
        sq.frechet_distance_from_moments(mu, np.eye(2), mu, np.array([[1.0, 0.5], [0.0, 1.0]]))
