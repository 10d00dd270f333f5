"""Tests for keras_ae.data.synthetic_curves, the "curves" images of Hinton & Salakhutdinov (2006).

The images are a function of three points in the plane: the tests check the
arrays (shape, dtype, range), seeding, that the curve passes through its three
points and stays a thin stroke, and that an image depends on the points alone
(the same points give the same image; reversing their order or translating
them moves nothing else).
"""

import re

import numpy as np
import pytest

from keras_ae import data
from keras_ae.data import _render_curves


def test_shapes_dtype_and_range():
    x_train, x_test = data.synthetic_curves(50, 20, seed=1)
    assert x_train.shape == (50, 28, 28, 1) and x_test.shape == (20, 28, 28, 1)
    flat_train, flat_test = data.synthetic_curves(50, 20, flatten=True, seed=1)
    assert flat_train.shape == (50, 784) and flat_test.shape == (20, 784)
    np.testing.assert_array_equal(flat_train, x_train.reshape(50, 784))
    for x in (x_train, x_test):
        assert x.dtype == np.float32
        assert x.min() == 0.0 and x.max() <= 1.0


def test_points_are_returned_in_the_square():
    (x_train, p_train), (x_test, p_test) = data.synthetic_curves(40, 30, return_points=True, seed=2)
    assert p_train.shape == (40, 3, 2) and p_test.shape == (30, 3, 2)
    assert p_train.dtype == np.float32
    for p in (p_train, p_test):
        assert p.min() >= 4.0 and p.max() <= 23.0
        # Uniform in the square: both coordinates spread over it.
        assert p.min() < 6.0 and p.max() > 21.0
    np.testing.assert_array_equal(x_train, data.synthetic_curves(40, 30, seed=2)[0])


def test_seeded():
    a_train, a_test = data.synthetic_curves(30, 10, seed=3)
    b_train, b_test = data.synthetic_curves(30, 10, seed=3)
    np.testing.assert_array_equal(a_train, b_train)
    np.testing.assert_array_equal(a_test, b_test)
    c_train, c_test = data.synthetic_curves(30, 10, seed=4)
    assert not np.allclose(a_train, c_train) and not np.allclose(a_test, c_test)
    # Train and test are different images, not the same draw.
    assert not np.allclose(a_train[:10], a_test)


def test_splits_do_not_depend_on_each_other():
    a_train, a_test = data.synthetic_curves(30, 10, seed=5)
    b_train, b_test = data.synthetic_curves(60, 25, seed=5)
    np.testing.assert_array_equal(a_train, b_train[:30])
    np.testing.assert_array_equal(a_test, b_test[:10])


def test_every_image_is_a_thin_curve_through_its_points():
    (x, points), _ = data.synthetic_curves(500, 1, flatten=True, return_points=True, seed=6)
    images = x.reshape(-1, 28, 28)
    ink = (images > 0).sum(axis=(1, 2))
    assert ink.min() > 0, "an image has no curve"
    assert ink.max() < 784 * 0.5, "an image is mostly ink"
    # A stroke, not a blob: on average about a tenth of the pixels carry ink.
    assert 0.03 < (images > 0).mean() < 0.3
    # The curve passes through its three points: the pixel nearest each point is
    # at most 0.71 pixel from the curve, so its intensity is >= exp(-0.5 / (2 * 0.75^2)) = 0.64.
    nearest = np.rint(points).astype(int)
    rows, cols = nearest[..., 0], nearest[..., 1]
    at_points = images[np.arange(len(images))[:, None], rows, cols]
    assert at_points.min() > 0.64 - 1e-6
    # The curve stays inside [1.6, 25.4]^2 (its points' square [4, 23]^2 widened by an eighth
    # of 19 pixels), so the image's border is at least 1.6 pixels from it: intensity <= 0.103.
    border = np.concatenate([images[:, 0], images[:, -1], images[:, :, 0], images[:, :, -1]], axis=1)
    assert border.max() <= 0.103


def test_an_image_depends_only_on_its_points():
    (x, points), _ = data.synthetic_curves(64, 1, return_points=True, seed=7)
    images = x[..., 0]
    # The same six numbers give the same image (the 6-D latent space of the paper).
    np.testing.assert_allclose(_render_curves(points), images, atol=1e-5)
    # The curve through p0, p1, p2 is the curve through p2, p1, p0.
    np.testing.assert_allclose(_render_curves(points[:, ::-1]), images, atol=1e-5)
    # Moving the points by whole pixels moves the image, nothing else.
    moved = _render_curves(points + np.array([2.0, -3.0], dtype=np.float32))
    np.testing.assert_allclose(moved[:, 6:-6, 6:-6], np.roll(images, (2, -3), axis=(1, 2))[:, 6:-6, 6:-6],
                               atol=1e-4)
    # Different points give different images.
    assert not np.allclose(_render_curves(points[::-1]), images)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"n_train": 0}, "n_train"),
        ({"n_train": 2.5}, "n_train"),
        ({"n_test": -1}, "n_test"),
        ({"n_test": True}, "n_test"),
        ({"flatten": "yes"}, "flatten"),
        ({"return_points": 1}, "return_points"),
        ({"seed": -1}, "seed"),
        ({"seed": "0"}, "seed"),
    ],
)
def test_bad_arguments_are_refused_with_their_name(kwargs, name):
    arguments = {"n_train": 4, "n_test": 2, **kwargs}
    with pytest.raises(ValueError, match=re.escape(f"Invalid value for '{name}': expected")):
        data.synthetic_curves(**arguments)


def test_exported():
    assert "synthetic_curves" in data.__all__
