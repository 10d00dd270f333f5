"""Tests of keras_ae.plots: every figure is a real PNG, bad input is a ValueError."""

import keras
import matplotlib.image
import numpy as np
import pytest

from keras_ae import plots


def _decoder(latent_dim, side=8, seed=0):
    """A small untrained decoder: z -> sigmoid image of side x side."""
    keras.utils.set_random_seed(seed)
    z = keras.Input(shape=(latent_dim,))
    x = keras.layers.Dense(side * side, activation="sigmoid",
                           kernel_initializer=keras.initializers.RandomNormal(stddev=2.0))(z)
    return keras.Model(z, keras.layers.Reshape((side, side, 1))(x), name="decoder")


def _assert_png(path):
    """The file is a PNG of more than 1 kB whose pixels are not all alike."""
    assert path.is_file()
    assert path.stat().st_size > 1024
    pixels = matplotlib.image.imread(path)
    assert pixels.ndim == 3 and min(pixels.shape[:2]) > 50
    assert pixels[..., :3].std() > 0.05


def _image(fig, ax=0):
    return np.ma.getdata(fig.axes[ax].images[0].get_array())


@pytest.fixture(scope="module")
def digits():
    rng = np.random.default_rng(0)
    x = rng.random((40, 64)).astype("float32")
    return x, rng.integers(0, 10, size=40)


def test_history_one_axis_per_metric_family(tmp_path):
    history = {
        "loss": [3.0, 2.0, 1.5],
        "contraction": [0.5, 0.3, 0.2],
        "val_loss": [3.2, 2.5, 2.0],
        "val_contraction": [0.6, 0.4, 0.3],
    }
    fig = plots.plot_history(history, path=tmp_path / "loss.png")
    _assert_png(tmp_path / "loss.png")
    assert [ax.get_title() for ax in fig.axes] == ["loss", "contraction"]
    loss_axis = fig.axes[0]
    assert [line.get_label() for line in loss_axis.get_lines()] == ["training", "validation"]
    np.testing.assert_allclose(loss_axis.get_lines()[1].get_ydata(), [3.2, 2.5, 2.0])


def test_history_accepts_a_history_object():
    class History:
        history = {"loss": [1.0, 0.5]}

    assert len(plots.plot_history(History()).axes) == 1


def test_reconstructions_two_rows_of_n(tmp_path, digits):
    x, _ = digits
    fig = plots.plot_reconstructions(x, 1.0 - x, n=6, path=tmp_path / "r.png")
    _assert_png(tmp_path / "r.png")
    top, bottom = _image(fig, 0), _image(fig, 1)
    assert top.shape == bottom.shape == (8, 6 * 9 - 1)  # 6 images of 8x8, 1-pixel gaps
    np.testing.assert_allclose(top[:, :8], x[0].reshape(8, 8))
    np.testing.assert_allclose(bottom[:, :8], 1.0 - x[0].reshape(8, 8))


def test_reconstructions_of_images_and_28x28_vectors(tmp_path):
    rng = np.random.default_rng(1)
    images = rng.random((3, 12, 10, 1))
    fig = plots.plot_reconstructions(images, images, n=10, path=tmp_path / "a.png")
    assert _image(fig).shape == (12, 3 * 11 - 1)  # n is capped at len(x)
    flat = rng.random((2, 784))
    assert _image(plots.plot_reconstructions(flat, flat)).shape == (28, 2 * 29 - 1)


@pytest.mark.parametrize("dim", [1, 2, 5])
def test_codes_scatter(tmp_path, digits, dim):
    _, labels = digits
    codes = np.random.default_rng(dim).normal(size=(40, dim))
    path = tmp_path / f"codes{dim}.png"
    fig = plots.plot_codes(codes, labels, path=path)
    _assert_png(path)
    ax = fig.axes[0]
    points = np.concatenate([c.get_offsets() for c in ax.collections])
    assert points.shape == (40, 2)
    assert len(ax.collections) == len(np.unique(labels))  # one colour per label
    assert ("PCA" in ax.get_title()) == (dim > 2)
    if dim == 2:
        np.testing.assert_allclose(np.sort(points[:, 0]), np.sort(codes[:, 0]))


def test_samples_are_seeded(tmp_path):
    decoder = _decoder(2)
    fig = plots.plot_samples(decoder, 2, n=10, seed=3, path=tmp_path / "s.png")
    _assert_png(tmp_path / "s.png")
    assert _image(fig).shape == (3 * 9 - 1, 4 * 9 - 1)  # 10 samples: 3 rows of 4
    same = plots.plot_samples(decoder, 2, n=10, seed=3)
    other = plots.plot_samples(decoder, 2, n=10, seed=4)
    np.testing.assert_array_equal(_image(fig), _image(same))
    assert not np.allclose(np.nan_to_num(_image(fig)), np.nan_to_num(_image(other)))


def test_samples_decode_given_codes_of_another_prior():
    decoder = _decoder(2)
    z = np.random.default_rng(0).normal(loc=3.0, size=(10, 2)).astype("float32")
    fig = plots.plot_samples(decoder, 2, n=10, z=z)
    expected = plots.plot_samples(lambda codes: decoder(codes), 2, n=10, z=z)
    np.testing.assert_array_equal(_image(fig), _image(expected))
    assert not np.allclose(np.nan_to_num(_image(fig)), np.nan_to_num(_image(plots.plot_samples(decoder, 2, n=10))))
    assert fig.axes[0].get_title() == "10 samples of the prior"
    with pytest.raises(ValueError, match=r"Invalid value for 'z': expected codes of shape \(n, latent_dim\) = "
                                         r"\(10, 2\). Received: z=<array of shape \(4, 2\)>"):
        plots.plot_samples(decoder, 2, n=10, z=z[:4])


def test_manifold_grid_for_two_dimensions(tmp_path):
    fig = plots.plot_manifold(_decoder(2), n=7, span=0.8, path=tmp_path / "m.png")
    _assert_png(tmp_path / "m.png")
    assert _image(fig).shape == (7 * 9 - 1, 7 * 9 - 1)
    assert "quantiles" in fig.axes[0].get_title()
    # The outer ticks sit at the 10% and 90% quantiles of N(0, 1).
    assert fig.axes[0].get_xticklabels()[0].get_text() == "-1.28"


def test_manifold_interpolates_codes_above_two_dimensions(tmp_path):
    decoder = _decoder(5)
    codes = np.random.default_rng(0).normal(size=(30, 5))
    fig = plots.plot_manifold(decoder, n=6, codes=codes, path=tmp_path / "m5.png")
    _assert_png(tmp_path / "m5.png")
    grid = _image(fig)
    assert grid.shape == (6 * 9 - 1, 6 * 9 - 1)
    assert "interpolations" in fig.axes[0].get_title()
    # Every row starts at a decoded test code.
    decoded = np.asarray(decoder(codes.astype("float32")))[..., 0]
    assert any(np.allclose(grid[:8, :8], d, atol=1e-6) for d in decoded)
    with pytest.raises(ValueError, match="'codes'.*interpolate"):
        plots.plot_manifold(decoder)


def test_interpolation_endpoints(tmp_path):
    decoder = _decoder(3)
    start, end = np.zeros(3), np.full(3, 2.0)
    fig = plots.plot_interpolation(decoder, start, end, steps=5, path=tmp_path / "i.png")
    _assert_png(tmp_path / "i.png")
    row = _image(fig)
    assert row.shape == (8, 5 * 9 - 1)
    last = np.asarray(decoder(end[None].astype("float32")))[0, ..., 0]
    np.testing.assert_allclose(row[:, -8:], last, atol=1e-6)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda d: plots.plot_history({}), "'history'"),
        (lambda d: plots.plot_history({"loss": []}), "'history'"),
        (lambda d: plots.plot_reconstructions(np.zeros((3, 10)), np.zeros((3, 10))), "square"),
        (lambda d: plots.plot_reconstructions(np.zeros((3, 64)), np.zeros((2, 64))), "'x_hat'"),
        (lambda d: plots.plot_reconstructions(np.zeros((3, 64)), np.zeros((3, 64)), n=0), "'n'"),
        (lambda d: plots.plot_codes(np.zeros((0, 2))), "'codes'"),
        (lambda d: plots.plot_codes(np.full((4, 2), np.nan)), "finite"),
        (lambda d: plots.plot_codes(np.zeros((4, 2)), [0, 1]), "'labels'"),
        (lambda d: plots.plot_samples(d, 3), "'latent_dim'"),
        (lambda d: plots.plot_samples("decoder", 2), "'decoder'"),
        (lambda d: plots.plot_manifold(d, span=1.5), "'span'"),
        (lambda d: plots.plot_manifold(d, n=1), "'n'"),
        (lambda d: plots.plot_interpolation(d, [0.0, 0.0], [0.0, 0.0, 0.0]), "'z_end'"),
        (lambda d: plots.plot_interpolation(d, [0.0] * 3, [1.0] * 3), "'z_start'"),
        (lambda d: plots.plot_interpolation(d, [0.0, 0.0], [1.0, 1.0], steps=1), "'steps'"),
    ],
)
def test_bad_input_is_a_clear_value_error(call, message):
    with pytest.raises(ValueError, match=f"Invalid value for {message}|{message}"):
        call(_decoder(2))


def test_manifold_row_for_one_dimension(tmp_path):
    fig = plots.plot_manifold(_decoder(1), n=5, path=tmp_path / "m1.png")
    _assert_png(tmp_path / "m1.png")
    assert _image(fig).shape == (8, 5 * 9 - 1)
