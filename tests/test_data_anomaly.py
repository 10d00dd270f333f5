"""Tests for the anomaly-detection loaders of keras_ae.data.

Every loader is exercised on every machine with small fixtures written, in
the test, in the exact official formats into a temporary ``KERAS_HOME``:

* ODDS: a MATLAB ``.mat`` file (``scipy.io.savemat``) with a matrix ``X`` and
  a column ``y`` of 0/1, in the dtypes ODDS uses (int16, uint8, float64);
* NAB: CSV files with the header ``timestamp,value`` at 5-minute steps;
* telemanom: ``labeled_anomalies.csv`` with the official columns (including a
  channel listed twice, as P-2 is, and a channel with arrays but no row, as
  T-10 is), ``data/{train,test}/<chan>.npy`` float64 arrays, and the same
  arrays packed in a ``data.zip``.

The tests that need the official files themselves (real sizes, counts and
labels) read them from the shared data directory (``../shared/data`` next to
the repository, or the directory in ``$KERAS_AE_SHARED_DATA``) and are
skipped when it is absent. Every test runs with Python sockets disabled, so
a code path that tried to download would fail at once.
"""

import csv
import gzip
import hashlib
import io
import os
import re
import socket
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
import scipy.io
from _shared import SHARED

from keras_ae import data

# The small fixtures' labels file has 4 rows, not the official 82: that
# warning is tested once (test_telemanom_short_labels_file_warns).
pytestmark = pytest.mark.filterwarnings("ignore:.*the current official file has 82:UserWarning")


ODDS_FILES = ("cardio.mat", "satellite.mat", "shuttle.mat")
NAB_FILES = (
    "artificialNoAnomaly/art_daily_small_noise.csv",
    "artificialWithAnomaly/art_daily_jumpsup.csv",
)
HAVE_ODDS = all((SHARED / "odds" / f).is_file() for f in ODDS_FILES)
HAVE_NAB = all((SHARED / "nab" / f).is_file() for f in NAB_FILES)
HAVE_TELEMANOM = all((SHARED / "telemanom" / f).is_file() for f in ("data.zip", "labeled_anomalies.csv"))
HAVE_MNIST = (SHARED / "mnist.npz").is_file()


def _needs(present, what):
    return pytest.mark.skipif(
        not present,
        reason=f"official {what} files not found in {SHARED} (set KERAS_AE_SHARED_DATA to the "
        "directory holding them)",
    )


# Official counts (see data/README.md).
ODDS_OFFICIAL = {"cardio": (1831, 21, 176), "satellite": (6435, 36, 2036), "shuttle": (49097, 9, 3511)}
NAB_START = np.datetime64("2014-04-01T00:00:00")
NAB_ROWS = 4032  # 14 days of 5-minute steps
JUMPSUP_WINDOW = (np.datetime64("2014-04-10T16:15:00"), np.datetime64("2014-04-12T01:45:00"))
TELEMANOM_CSV_URL = "https://raw.githubusercontent.com/khundman/telemanom/master/labeled_anomalies.csv"
TELEMANOM_ZIP_URL = "https://s3-us-west-2.amazonaws.com/telemanom/data.zip"


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module", autouse=True)
def _offline(no_network):
    """Every test of this module runs without network access (tests/conftest.py)."""


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty Keras home; returns its datasets/ directory (not created)."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    return tmp_path / "datasets"


@pytest.fixture
def downloads(monkeypatch):
    """Records every download attempt (and lets none succeed)."""
    attempts = []

    def fake(path, origin=None, *, sha256=None):
        attempts.append((path, origin, sha256))
        return False

    monkeypatch.setattr(data, "_download", fake)
    return attempts


def _assert_fast(start, what):
    elapsed = time.monotonic() - start
    assert elapsed < 5.0, f"{what} took {elapsed:.1f}s; it should fail without waiting"


def _files_under(directory):
    return sorted(str(p.relative_to(directory)) for p in Path(directory).rglob("*"))


# ====================================================================== ODDS


def write_odds(path, x, y):
    """Writes a .mat file as ODDS publishes them: a matrix ``X`` and a column ``y``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    scipy.io.savemat(path, {"X": x, "y": np.asarray(y).reshape(-1, 1)})
    return path


def _odds_fixture(n=40, d=9, dtype=np.int16, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(-300, 300, size=(n, d)).astype(dtype)
    y = np.zeros(n, dtype=np.uint8)
    y[rng.choice(n, size=n // 8, replace=False)] = 1
    return x, y


@pytest.mark.parametrize(
    "name, x_dtype, y_dtype",
    [("shuttle", np.int16, np.uint8), ("satellite", np.uint8, np.uint8), ("cardio", np.float64, np.float64)],
)
def test_odds_reads_the_official_format(name, x_dtype, y_dtype, home):
    x, y = _odds_fixture()
    if x_dtype == np.uint8:
        x = np.abs(x) % 256
    x = x.astype(x_dtype) / (7.0 if x_dtype == np.float64 else 1)  # cardio: non-integer values
    x = x.astype(x_dtype)
    write_odds(home / "odds" / f"{name}.mat", x, y.astype(y_dtype))
    with pytest.warns(UserWarning, match=rf"the official ODDS {name}\.mat has"):
        got_x, got_y = data.load_odds(name)
    assert got_x.dtype == np.float64 and got_y.dtype == np.int64
    assert got_x.shape == x.shape and got_y.shape == (len(x),)
    np.testing.assert_array_equal(got_x, x.astype(np.float64))
    np.testing.assert_array_equal(got_y, y)
    assert got_y.sum() == len(x) // 8


def test_odds_different_but_valid_file_loads_with_a_warning(home):
    x, y = _odds_fixture(n=16, d=3)
    path = write_odds(home / "odds" / "cardio.mat", x, y)
    with pytest.warns(UserWarning) as record:
        data.load_odds("cardio")
    message = str(record[0].message)
    assert message == (
        f"{path} has 16 rows, 3 features and 2 outliers; the official ODDS cardio.mat has "
        "1831, 21 and 176. It is loaded as it is."
    )


def test_odds_file_of_the_official_size_loads_without_warning(home):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(1831, 21))
    y = np.zeros(1831)
    y[:176] = 1
    write_odds(home / "odds" / "cardio.mat", x, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got_x, got_y = data.load_odds("cardio")
    np.testing.assert_array_equal(got_x, x)
    assert got_y.sum() == 176


def _write_bad_mat(path, kind):
    path.parent.mkdir(parents=True, exist_ok=True)
    x, y = _odds_fixture(n=10, d=2)
    if kind == "not a mat file":
        path.write_bytes(b"<html>Dropbox preview page</html>")
    elif kind == "truncated":
        buffer = io.BytesIO()
        scipy.io.savemat(buffer, {"X": x, "y": y.reshape(-1, 1)})
        path.write_bytes(buffer.getvalue()[:200])
    elif kind == "no y":
        scipy.io.savemat(path, {"X": x})
    elif kind == "labels not 0/1":
        scipy.io.savemat(path, {"X": x, "y": np.full((10, 1), 2)})
    elif kind == "wrong label count":
        scipy.io.savemat(path, {"X": x, "y": y[:9].reshape(-1, 1)})
    elif kind == "nan":
        bad = x.astype(float)
        bad[3, 1] = np.nan
        scipy.io.savemat(path, {"X": bad, "y": y.reshape(-1, 1)})
    elif kind == "text X":
        scipy.io.savemat(path, {"X": "not numbers", "y": y.reshape(-1, 1)})


@pytest.mark.parametrize(
    "kind, expected",
    [
        ("not a mat file", "as a MATLAB .mat file"),
        ("truncated", "as a MATLAB .mat file"),
        ("no y", "it has no matrices 'X' and 'y'"),
        ("labels not 0/1", "'y' holds values other than 0 (inlier) and 1 (outlier)"),
        ("wrong label count", "'y' does not hold one numeric label per row of 'X' (9 labels, 10 rows)"),
        ("nan", "'X' holds NaN or infinite values"),
        ("text X", "'X' is not a non-empty 2-D numeric matrix"),
    ],
)
@pytest.mark.parametrize("download", [False, True])
def test_odds_bad_file_is_reported_and_kept(kind, expected, download, home, downloads):
    path = home / "odds" / "satellite.mat"
    _write_bad_mat(path, kind)
    before = path.read_bytes()
    with pytest.raises(OSError) as info:
        data.load_odds("satellite", download=download)
    message = str(info.value)
    assert str(path) in message
    assert expected in message
    assert "http://odds.cs.stonybrook.edu/satellite-dataset/" in message
    assert path.read_bytes() == before  # never replaced
    assert downloads == []  # an existing file is never downloaded again


@pytest.mark.parametrize(
    "name, page, url",
    [
        ("cardio", "http://odds.cs.stonybrook.edu/cardiotocogrpahy-dataset/",
         "https://www.dropbox.com/s/galg3ihvxklf0qi/cardio.mat?dl=1"),
        ("satellite", "http://odds.cs.stonybrook.edu/satellite-dataset/",
         "https://www.dropbox.com/s/dpzxp8jyr9h93k5/satellite.mat?dl=1"),
        ("shuttle", "http://odds.cs.stonybrook.edu/shuttle-dataset/",
         "https://www.dropbox.com/s/mk8ozgisimfn3dw/shuttle.mat?dl=1"),
    ],
)
def test_missing_odds_file_names_path_page_and_url(name, page, url, home, downloads):
    start = time.monotonic()
    with pytest.raises(FileNotFoundError) as info:
        data.load_odds(name)
    _assert_fast(start, f"missing {name}.mat")
    path = home / "odds" / f"{name}.mat"
    assert str(info.value) == (
        f"The ODDS file {name}.mat is not in the cache: expected the file {path}. Download it "
        f"from its ODDS page {page} (direct link: {url}) and save it at that path, or call "
        f"load_odds('{name}', download=True). To use another cache, set KERAS_HOME; the files "
        "go in its datasets/ subdirectory. See data/README.md."
    )
    assert downloads == []  # nothing leaves the machine by default
    assert not home.exists()  # nothing written into the cache


def test_odds_download_is_opt_in_and_checks_the_digest(home, downloads):
    with pytest.raises(FileNotFoundError) as info:
        data.load_odds("shuttle", download=True)
    path = str(home / "odds" / "shuttle.mat")
    url = "https://www.dropbox.com/s/mk8ozgisimfn3dw/shuttle.mat?dl=1"
    assert downloads == [(path, url, data._ODDS["shuttle"].sha256)]
    assert f"Downloading it from {url} failed" in str(info.value)
    assert "download=True" not in str(info.value)  # already tried


def test_odds_unknown_name_suggests_the_closest(home):
    with pytest.raises(ValueError) as info:
        data.load_odds("cardo")
    assert str(info.value) == (
        "Invalid value for 'name': expected one of ['cardio', 'satellite', 'shuttle']. "
        "Received: name='cardo'. Did you mean 'cardio'?"
    )
    with pytest.raises(ValueError, match=re.escape("Received: download='yes'")):
        data.load_odds("cardio", download="yes")


# ======================================================================= NAB


def write_nab(path, timestamps, values):
    """Writes a NAB data file: header ``timestamp,value``, one row per step."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        f.write("timestamp,value\n")
        for t, v in zip(timestamps, values):
            f.write(f"{str(t).replace('T', ' ')},{float(v)!r}\n")
    return path


def _nab_series(n=NAB_ROWS, seed=0):
    rng = np.random.default_rng(seed)
    timestamps = NAB_START + np.arange(n) * np.timedelta64(5, "m")
    values = 20.0 + 60.0 * (np.arange(n) % 288 > 144) + rng.normal(size=n)
    return timestamps.astype("datetime64[s]"), values


def test_nab_reads_the_official_format_and_labels_the_window(home):
    timestamps, values = _nab_series()
    write_nab(home / "nab" / "artificialWithAnomaly" / "art_daily_jumpsup.csv", timestamps, values)
    got_t, got_v, labels = data.load_nab("art_daily_jumpsup")
    assert got_t.dtype == np.dtype("datetime64[s]")
    assert got_v.dtype == np.float64 and labels.dtype == np.int64
    assert got_t.shape == got_v.shape == labels.shape == (NAB_ROWS,)
    np.testing.assert_array_equal(got_t, timestamps)
    np.testing.assert_array_equal(got_v, values)  # repr round-trips exactly

    # One window, both ends included: 2014-04-10 16:15 (step 2787) to 2014-04-12 01:45 (step 3189).
    inside = np.flatnonzero(labels)
    assert inside[0] == 2787 and inside[-1] == 3189
    assert len(inside) == 403 == 3189 - 2787 + 1  # contiguous
    assert got_t[2787] == JUMPSUP_WINDOW[0] and got_t[3189] == JUMPSUP_WINDOW[1]
    assert labels[2786] == 0 and labels[2787] == 1 and labels[3189] == 1 and labels[3190] == 0


def test_nab_labels_follow_timestamps_not_positions(home):
    # A short file around the window's ends, with a gap: labels go by time.
    stamps = np.array(
        ["2014-04-10T16:10:00", "2014-04-10T16:15:00", "2014-04-11T00:00:00",
         "2014-04-12T01:45:00", "2014-04-12T01:50:00", "2014-04-13T00:00:00"],
        dtype="datetime64[s]",
    )
    write_nab(home / "nab" / "artificialWithAnomaly" / "art_daily_jumpsup.csv", stamps, np.arange(6.0))
    with pytest.warns(UserWarning, match="has 6 rows; the official file has 4032"):  # e.g. a truncated copy
        _, values, labels = data.load_nab("art_daily_jumpsup")
    np.testing.assert_array_equal(labels, [0, 1, 1, 1, 0, 0])
    np.testing.assert_array_equal(values, np.arange(6.0))


def test_nab_small_noise_has_no_anomaly(home):
    timestamps, values = _nab_series(seed=1)
    write_nab(home / "nab" / "artificialNoAnomaly" / "art_daily_small_noise.csv", timestamps, values)
    got_t, got_v, labels = data.load_nab("art_daily_small_noise")
    np.testing.assert_array_equal(got_t, timestamps)
    np.testing.assert_array_equal(got_v, values)
    np.testing.assert_array_equal(labels, np.zeros(NAB_ROWS, dtype=np.int64))


@pytest.mark.parametrize(
    "content, expected",
    [
        ("time,value\n2014-04-01 00:00:00,1.0\n", "its header is ['time', 'value']"),
        ("timestamp,value\n2014-04-01 00:00:00,abc\n", "line 2 ('2014-04-01 00:00:00,abc')"),
        ("timestamp,value\n2014-04-01 00:00:00,1\nyesterday,2\n", "line 3 ('yesterday,2')"),
        ("timestamp,value\n2014-04-01 00:00:00,1,2\n", "(3 fields instead of 2)"),
        ("timestamp,value\n", "it has no rows"),
        ("", "its header is None"),
        ("timestamp,value\n2014-04-01 00:00:00,nan\n", "NaN or infinite"),
        ("timestamp,value\n2014-04-01 00:05:00,1\n2014-04-01 00:00:00,2\n", "not strictly increasing"),
        (b"timestamp,value\n2014-04-01 00:00:00,\xff\xfe\n", "as a CSV text file"),
    ],
)
def test_nab_bad_file_is_reported_and_kept(content, expected, home, downloads):
    path = home / "nab" / "artificialNoAnomaly" / "art_daily_small_noise.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    before = path.read_bytes()
    with pytest.raises(OSError) as info:
        data.load_nab("art_daily_small_noise", download=True)
    message = str(info.value)
    assert str(path) in message and expected in message
    assert "https://raw.githubusercontent.com/numenta/NAB/master/data/" in message
    assert path.read_bytes() == before
    assert downloads == []


@pytest.mark.parametrize(
    "name, relative",
    [("art_daily_small_noise", "artificialNoAnomaly/art_daily_small_noise.csv"),
     ("art_daily_jumpsup", "artificialWithAnomaly/art_daily_jumpsup.csv")],
)
def test_missing_nab_file_names_path_and_url(name, relative, home, downloads):
    start = time.monotonic()
    with pytest.raises(FileNotFoundError) as info:
        data.load_nab(name)
    _assert_fast(start, f"missing {name}")
    path = home / "nab" / Path(relative)
    url = f"https://raw.githubusercontent.com/numenta/NAB/master/data/{relative}"
    assert str(info.value) == (
        f"The NAB series {relative} is not in the cache: expected the file {path}. Download it "
        f"from {url} and save it at that path, or call load_nab('{name}', download=True). To use "
        "another cache, set KERAS_HOME; the files go in its datasets/ subdirectory. See data/README.md."
    )
    assert downloads == []
    assert not home.exists()

    with pytest.raises(FileNotFoundError, match=re.escape(f"Downloading it from {url} failed")):
        data.load_nab(name, download=True)
    assert downloads == [(str(path), url, data._NAB[name][1])]


def test_nab_unknown_name_suggests_the_closest(home):
    with pytest.raises(ValueError) as info:
        data.load_nab("art_daily_jumps_up")
    assert str(info.value) == (
        "Invalid value for 'name': expected one of ['art_daily_jumpsup', 'art_daily_small_noise']. "
        "Received: name='art_daily_jumps_up'. Did you mean 'art_daily_jumpsup'?"
    )


# ================================================================= telemanom

# A tiny telemanom release. A-1 has two intervals, one a single step; P-2 is
# listed twice with overlapping intervals (as upstream); M-1 is an MSL
# channel; T-10 and Z-9 have arrays but no row.
TELEMANOM_CSV = """\
chan_id,spacecraft,anomaly_sequences,class,num_values
A-1,SMAP,"[[2, 4], [7, 7]]","[contextual, point]",10
P-2,SMAP,"[[5, 8]]",[point],12
M-1,MSL,"[[0, 1]]",[point],6
P-2,SMAP,"[[3, 6]]",[point],12
"""
TELEMANOM_SHAPES = {  # channel: (train rows, test rows, columns)
    "A-1": (8, 10, 25), "P-2": (9, 12, 25), "M-1": (5, 6, 55), "T-10": (4, 5, 55), "Z-9": (3, 3, 25),
}


def _telemetry(rows, columns, seed):
    """Column 0 the telemetry value, the others one-hot command flags."""
    rng = np.random.default_rng(seed)
    x = np.zeros((rows, columns))
    x[:, 0] = rng.uniform(-1, 1, size=rows)
    x[np.arange(rows), rng.integers(1, columns, size=rows)] = 1.0
    return x


def telemanom_arrays():
    return {
        (split, channel): _telemetry(shape[i], shape[2], seed=10 * n + i)
        for n, (channel, shape) in enumerate(TELEMANOM_SHAPES.items())
        for i, split in enumerate(("train", "test"))
    }


def _npy_bytes(array):
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def write_telemanom(base, *, csv_text=TELEMANOM_CSV, arrays=None, layout="dir"):
    """Writes the telemanom cache: the CSV and data/ (``layout="dir"``) or data.zip."""
    base.mkdir(parents=True, exist_ok=True)
    (base / "labeled_anomalies.csv").write_text(csv_text)
    arrays = telemanom_arrays() if arrays is None else arrays
    if layout == "dir":
        for (split, channel), array in arrays.items():
            (base / "data" / split).mkdir(parents=True, exist_ok=True)
            np.save(base / "data" / split / f"{channel}.npy", array)
    elif layout == "zip":
        write_zip(base / "data.zip", {
            f"data/{split}/{channel}.npy": _npy_bytes(array) for (split, channel), array in arrays.items()
        })
    return arrays


def write_zip(path, members, extra=()):
    """A zip like the official data.zip: directory entries, then the files.

    ``extra`` adds ``(name, bytes)`` members as they are, duplicates included.
    """
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for directory in ("data/", "data/train/", "data/test/", "2018-05-19_15.00.10/"):
            archive.writestr(directory, b"")
        archive.writestr("2018-05-19_15.00.10/params.log", b"results of the paper's run")
        for name, content in members.items():
            archive.writestr(name, content)
        for name, content in extra:
            archive.writestr(name, content)
    return path


@pytest.fixture
def telemanom(home):
    """A telemanom cache with data/ extracted; returns (base, arrays)."""
    base = home / "telemanom"
    return base, write_telemanom(base)


def test_telemanom_channels_lists_labelled_channels(telemanom):
    assert data.telemanom_channels() == ["A-1", "M-1", "P-2"]  # P-2 once; no T-10, Z-9
    assert data.telemanom_channels("SMAP") == ["A-1", "P-2"]
    assert data.telemanom_channels("MSL") == ["M-1"]
    assert data.telemanom_channels(spacecraft=None) == ["A-1", "M-1", "P-2"]


def test_telemanom_loads_arrays_and_inclusive_labels(telemanom):
    _, arrays = telemanom
    x_train, x_test, y_test = data.load_telemanom("A-1")
    assert x_train.dtype == np.float64 and x_test.dtype == np.float64 and y_test.dtype == np.int64
    assert x_train.shape == (8, 25) and x_test.shape == (10, 25) and y_test.shape == (10,)
    np.testing.assert_array_equal(x_train, arrays["train", "A-1"])
    np.testing.assert_array_equal(x_test, arrays["test", "A-1"])
    # [[2, 4], [7, 7]], both ends included.
    np.testing.assert_array_equal(y_test, [0, 0, 1, 1, 1, 0, 0, 1, 0, 0])
    # Column 0 is the telemetry, the others one-hot commands.
    assert np.all(np.abs(x_test[:, 0]) <= 1)
    np.testing.assert_array_equal(x_test[:, 1:].sum(axis=1), np.ones(10))

    x_train, x_test, y_test = data.load_telemanom("M-1")
    assert x_train.shape == (5, 55) and x_test.shape == (6, 55)
    np.testing.assert_array_equal(y_test, [1, 1, 0, 0, 0, 0])


def test_telemanom_duplicated_channel_gets_the_union_of_its_rows(telemanom):
    _, x_test, y_test = data.load_telemanom("P-2")
    assert x_test.shape == (12, 25)
    # Rows [[5, 8]] and [[3, 6]] -> steps 3..8.
    np.testing.assert_array_equal(y_test, [0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0])


@pytest.mark.parametrize(
    "second_row, differs",
    [("P-2,MSL,\"[[3, 6]]\",[point],12", "(SMAP, 12 and MSL, 12)"),
     ("P-2,SMAP,\"[[3, 6]]\",[point],13", "(SMAP, 12 and SMAP, 13)")],
)
def test_telemanom_duplicated_rows_that_disagree_are_refused(second_row, differs, home):
    base = home / "telemanom"
    csv_text = TELEMANOM_CSV.replace("P-2,SMAP,\"[[3, 6]]\",[point],12", second_row)
    write_telemanom(base, csv_text=csv_text)
    with pytest.raises(OSError) as info:
        data.telemanom_channels()
    assert str(info.value).startswith(
        f"{base / 'labeled_anomalies.csv'} lists P-2 on lines 3 and 5 with different spacecraft "
        f"or num_values {differs}."
    )


@pytest.mark.parametrize("channel", ["T-10", "Z-9"])
def test_telemanom_channel_without_labels_is_refused(channel, telemanom):
    with pytest.raises(ValueError) as info:
        data.load_telemanom(channel)
    assert str(info.value) == (
        "Invalid value for 'channel': expected a labelled channel, one of telemanom_channels(). "
        f"Received: channel='{channel}'. {channel} has telemetry arrays but no row in "
        "labeled_anomalies.csv, so it has no anomaly labels; telemanom_channels() leaves it out"
    )


def test_telemanom_t10_is_refused_even_before_extraction(home):
    write_telemanom(home / "telemanom", layout="zip")
    with pytest.raises(ValueError, match="T-10 has telemetry arrays but no row"):
        data.load_telemanom("T-10")
    assert not (home / "telemanom" / "data").exists()


def test_telemanom_unknown_channel_suggests_the_closest(telemanom):
    with pytest.raises(ValueError) as info:
        data.load_telemanom("P-3")
    assert str(info.value) == (
        "Invalid value for 'channel': expected one of ['A-1', 'M-1', 'P-2']. "
        "Received: channel='P-3'. Did you mean 'P-2'?"
    )
    for bad in (None, 1, "", ["P-2"]):
        with pytest.raises(ValueError, match=re.escape(f"Received: channel={bad!r}")):
            data.load_telemanom(bad)


def test_telemanom_bad_spacecraft_is_refused(telemanom):
    with pytest.raises(ValueError) as info:
        data.telemanom_channels("smap")
    assert str(info.value) == (
        "Invalid value for 'spacecraft': expected None or one of ['MSL', 'SMAP']. "
        "Received: spacecraft='smap'. Did you mean 'SMAP'?"
    )
    with pytest.raises(ValueError, match=re.escape("Received: spacecraft='Curiosity'")):
        data.telemanom_channels("Curiosity")
    with pytest.raises(ValueError, match=re.escape("Received: download=1")):
        data.telemanom_channels(download=1)


def test_telemanom_num_values_must_match_the_test_series(home):
    base = home / "telemanom"
    write_telemanom(base, csv_text=TELEMANOM_CSV.replace("[point],6", "[point],7"))
    with pytest.raises(OSError) as info:
        data.load_telemanom("M-1")
    assert str(info.value).startswith(
        f"The telemanom files disagree: {base / 'labeled_anomalies.csv'} (line 4) gives "
        f"num_values=7 for M-1, but {base / 'data' / 'test' / 'M-1.npy'} has 6 time steps."
    )
    # P-2's message names both of its lines.
    write_telemanom(base, csv_text=TELEMANOM_CSV.replace("[point],12", "[point],11"))
    with pytest.raises(OSError, match=re.escape("(line 3 and 5) gives num_values=11 for P-2")):
        data.load_telemanom("P-2")


def test_telemanom_interval_beyond_the_series_is_refused(home):
    base = home / "telemanom"
    write_telemanom(base, csv_text=TELEMANOM_CSV.replace("[[0, 1]]", "[[4, 6]]"))
    with pytest.raises(OSError, match=re.escape("labels time steps 4..6 of M-1, but")):
        data.load_telemanom("M-1")


@pytest.mark.parametrize(
    "replace, expected",
    [
        (("\"[[2, 4], [7, 7]]\"", "oops"), "line 2, is not a telemanom label row"),
        (("\"[[2, 4], [7, 7]]\"", "\"[[4, 2]]\""), "not a list of [start, end] index pairs"),
        (("[point],6", "[point],six"), "line 4, is not a telemanom label row"),
        (("M-1,MSL", "M-1,Mars"), "a spacecraft other than SMAP and MSL"),
        (("num_values", "length"), "it has no column(s) ['num_values']"),
    ],
)
def test_telemanom_bad_csv_is_reported_and_kept(replace, expected, home, downloads):
    base = home / "telemanom"
    write_telemanom(base, csv_text=TELEMANOM_CSV.replace(*replace))
    path = base / "labeled_anomalies.csv"
    before = path.read_bytes()
    with pytest.raises(OSError) as info:
        data.telemanom_channels(download=True)
    message = str(info.value)
    assert str(path) in message and expected in message and TELEMANOM_CSV_URL in message
    assert path.read_bytes() == before
    assert downloads == []


def test_telemanom_bad_array_is_reported(telemanom):
    base, _ = telemanom
    path = base / "data" / "train" / "A-1.npy"
    path.write_bytes(b"not an array")
    with pytest.raises(OSError, match=re.escape(f"Could not read {path} as a NumPy .npy file")):
        data.load_telemanom("A-1")
    np.save(path, np.zeros(8))  # 1-D
    with pytest.raises(OSError, match=re.escape(f"{path} is not a telemanom series")):
        data.load_telemanom("A-1")
    np.save(path, np.zeros((8, 55)))  # MSL-shaped train, SMAP-shaped test
    with pytest.raises(OSError, match="has 55 columns"):
        data.load_telemanom("A-1")


def test_missing_telemanom_csv_names_path_and_url(home, downloads):
    start = time.monotonic()
    with pytest.raises(FileNotFoundError) as info:
        data.telemanom_channels()
    _assert_fast(start, "missing labeled_anomalies.csv")
    path = home / "telemanom" / "labeled_anomalies.csv"
    assert str(info.value).startswith(
        f"The telemanom labels file labeled_anomalies.csv is not in the cache: expected the file "
        f"{path}. Download it from {TELEMANOM_CSV_URL} and save it at that path"
    )
    with pytest.raises(FileNotFoundError, match=re.escape(str(path))):
        data.load_telemanom("P-1")
    assert downloads == []
    assert not home.exists()

    with pytest.raises(FileNotFoundError, match=re.escape(f"Downloading it from {TELEMANOM_CSV_URL} failed")):
        data.telemanom_channels(download=True)
    assert downloads == [(str(path), TELEMANOM_CSV_URL, data._TELEMANOM_CSV_SHA256)]


def test_missing_telemanom_arrays_name_paths_archive_and_url(home, downloads):
    base = home / "telemanom"
    base.mkdir(parents=True)
    (base / "labeled_anomalies.csv").write_text(TELEMANOM_CSV)
    start = time.monotonic()
    with pytest.raises(FileNotFoundError) as info:
        data.load_telemanom("A-1")
    _assert_fast(start, "missing telemanom arrays")
    message = str(info.value)
    assert str(base / "data" / "train" / "A-1.npy") in message
    assert str(base / "data" / "test" / "A-1.npy") in message
    assert f"Download data.zip from {TELEMANOM_ZIP_URL} and save it at {base / 'data.zip'}" in message
    assert "load_telemanom('A-1', download=True)" in message
    assert downloads == []
    assert _files_under(base) == ["labeled_anomalies.csv"]

    with pytest.raises(FileNotFoundError, match=re.escape(f"Downloading {TELEMANOM_ZIP_URL} failed")):
        data.load_telemanom("A-1", download=True)
    assert downloads == [(str(base / "data.zip"), TELEMANOM_ZIP_URL, None)]


def test_telemanom_extracts_data_zip_once(home, downloads):
    base = home / "telemanom"
    arrays = write_telemanom(base, layout="zip")
    zip_before = (base / "data.zip").read_bytes()
    x_train, x_test, y_test = data.load_telemanom("P-2", download=True)
    assert downloads == []  # the archive is there: nothing is fetched
    np.testing.assert_array_equal(x_train, arrays["train", "P-2"])
    np.testing.assert_array_equal(x_test, arrays["test", "P-2"])
    assert y_test.sum() == 6
    # Only the arrays are extracted; the archive stays; no temporary directory is left.
    expected = sorted(
        ["data", "data.zip", "labeled_anomalies.csv", "data/train", "data/test"]
        + [f"data/{split}/{channel}.npy" for split, channel in arrays]
    )
    assert _files_under(base) == expected
    assert (base / "data.zip").read_bytes() == zip_before

    # The extracted files are read as they are from now on.
    marker = base / "data" / "train" / "A-1.npy"
    np.save(marker, np.full((8, 25), 0.5))
    x_train, _, _ = data.load_telemanom("A-1")
    np.testing.assert_array_equal(x_train, np.full((8, 25), 0.5))


def test_telemanom_never_extracts_over_an_existing_data_directory(home):
    base = home / "telemanom"
    write_telemanom(base, layout="zip")
    partial = base / "data" / "train"
    partial.mkdir(parents=True)
    np.save(partial / "A-1.npy", np.full((8, 25), 0.25))
    before = {p: (base / p).read_bytes() for p in _files_under(base) if (base / p).is_file()}
    with pytest.raises(FileNotFoundError) as info:
        data.load_telemanom("A-1")
    message = str(info.value)
    assert f"expected the files ['{base / 'data' / 'test' / 'A-1.npy'}']" in message
    assert f"The directory {base / 'data'}{os.sep} exists, so no archive is extracted over it" in message
    after = {p: (base / p).read_bytes() for p in _files_under(base) if (base / p).is_file()}
    assert after == before  # nothing written, nothing replaced


def test_extraction_keeps_a_directory_that_appeared_meanwhile(home):
    """If data/ is created while the archive is extracted, the existing one wins."""
    base = home / "telemanom"
    write_telemanom(base, layout="zip")
    data_dir = base / "data"
    (data_dir / "train").mkdir(parents=True)
    (data_dir / "train" / "A-1.npy").write_bytes(b"theirs")
    data._extract_telemanom(str(base / "data.zip"), str(data_dir))
    assert _files_under(data_dir) == ["train", "train/A-1.npy"]
    assert (data_dir / "train" / "A-1.npy").read_bytes() == b"theirs"
    assert sorted(p.name for p in base.iterdir()) == ["data", "data.zip", "labeled_anomalies.csv"]


@pytest.mark.parametrize(
    "member",
    ["../evil.npy", "data/train/../../../evil.npy", "/tmp/evil.npy", "data\\train\\..\\..\\evil.npy",
     "C:/evil.npy"],
)
def test_unsafe_archive_is_refused_and_nothing_is_extracted(member, home, tmp_path):
    base = home / "telemanom"
    write_telemanom(base, layout="zip", arrays={})
    members = {f"data/{s}/{c}.npy": _npy_bytes(a) for (s, c), a in telemanom_arrays().items()}
    write_zip(base / "data.zip", members, extra=[(member, b"evil")])
    with pytest.raises(OSError) as info:
        data.load_telemanom("A-1")
    assert str(info.value).startswith(
        f"{base / 'data.zip'} is refused: its member {member!r} would be written outside the "
        "extraction directory."
    )
    assert sorted(p.name for p in base.iterdir()) == ["data.zip", "labeled_anomalies.csv"]
    assert not any(p.name == "evil.npy" for p in tmp_path.rglob("*"))


def test_archive_with_a_duplicate_member_is_refused(home):
    base = home / "telemanom"
    write_telemanom(base, layout="zip", arrays={})
    members = {f"data/{s}/{c}.npy": _npy_bytes(a) for (s, c), a in telemanom_arrays().items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name
        write_zip(base / "data.zip", members, extra=[("data/test/A-1.npy", _npy_bytes(np.zeros((10, 25))))])
    with pytest.raises(OSError, match=re.escape("is refused: it holds 'data/test/A-1.npy' twice")):
        data.load_telemanom("A-1")
    assert not (base / "data").exists()


@pytest.mark.parametrize("content", ["not a zip", "no arrays"])
def test_bad_archive_is_reported_and_kept(content, home):
    base = home / "telemanom"
    write_telemanom(base, layout="zip", arrays={})
    path = base / "data.zip"
    if content == "not a zip":
        path.write_bytes(b"<?xml version='1.0'?><Error>AccessDenied</Error>")
        expected = f"Could not read {path} as a zip archive"
    else:
        write_zip(path, {})
        expected = f"{path} is not the telemanom data.zip"
    before = path.read_bytes()
    with pytest.raises(OSError, match=re.escape(expected)):
        data.load_telemanom("A-1")
    assert path.read_bytes() == before
    assert sorted(p.name for p in base.iterdir()) == ["data.zip", "labeled_anomalies.csv"]


def test_telemanom_short_labels_file_warns(telemanom):
    # The fixture's labels file has 4 rows (a truncated copy, for this check).
    with pytest.warns(UserWarning, match="has 4 rows; the current official file has 82"):
        data.telemanom_channels()


def test_telemanom_cache_is_read_on_every_call(telemanom, tmp_path_factory, monkeypatch):
    assert data.telemanom_channels() == ["A-1", "M-1", "P-2"]
    other = tmp_path_factory.mktemp("other_home")
    monkeypatch.setenv("KERAS_HOME", str(other))
    with pytest.raises(FileNotFoundError, match=re.escape(str(other))):
        data.telemanom_channels()


# ================================================================== download


def test_download_places_only_a_verified_file_and_never_replaces(tmp_path, monkeypatch):
    """The download helper, with keras.utils.get_file replaced by a local fake."""
    import keras

    calls = []

    def fake_get_file(fname, origin, cache_dir, cache_subdir):
        calls.append(origin)
        target = Path(cache_dir) / cache_subdir / fname
        target.write_bytes(b"downloaded " + origin.encode())
        return str(target)

    monkeypatch.setattr(keras.utils, "get_file", fake_get_file)
    content = b"downloaded https://example.org/a.csv"
    digest = hashlib.sha256(content).hexdigest()
    path = tmp_path / "datasets" / "sub" / "a.csv"

    # A mismatching digest: nothing is written, new directories are removed.
    assert data._download(str(path), "https://example.org/a.csv", sha256="0" * 64) is False
    assert list(tmp_path.iterdir()) == []
    # The right digest: the file is placed, no temporary directory is left.
    assert data._download(str(path), "https://example.org/a.csv", sha256=digest) is True
    assert path.read_bytes() == content
    assert [p.name for p in path.parent.iterdir()] == ["a.csv"]
    # An existing file is never replaced.
    path.write_bytes(b"mine")
    data._download(str(path), "https://example.org/a.csv")
    assert path.read_bytes() == b"mine"
    assert [p.name for p in path.parent.iterdir()] == ["a.csv"]


def test_download_failure_leaves_nothing(tmp_path, monkeypatch):
    import keras

    def failing_get_file(fname, origin, cache_dir, cache_subdir):
        (Path(cache_dir) / cache_subdir / fname).write_bytes(b"partial")
        raise OSError("connection reset")

    monkeypatch.setattr(keras.utils, "get_file", failing_get_file)
    previous = socket.getdefaulttimeout()
    assert data._download(str(tmp_path / "datasets" / "odds" / "cardio.mat"), "https://x/cardio.mat") is False
    assert list(tmp_path.iterdir()) == []
    assert socket.getdefaulttimeout() == previous


def test_a_real_download_attempt_fails_fast_offline(home):
    # Sockets are disabled here, as on a machine without network access.
    start = time.monotonic()
    with pytest.raises(FileNotFoundError, match="Downloading it from"):
        data.load_nab("art_daily_jumpsup", download=True)
    _assert_fast(start, "an offline download")
    assert not home.exists()


# =================================================================== novelty


def test_novelty_digits_protocol():
    (x_all, y_all), (xt_all, yt_all) = data.load("digits", seed=0)
    x_train, (x_test, y_test) = data.load_novelty("digits", 3)
    assert x_train.dtype == np.float32 and x_test.dtype == np.float32 and y_test.dtype == np.int64
    np.testing.assert_array_equal(x_train, x_all[y_all == 3])
    assert x_train.shape == (int((y_all == 3).sum()), 8, 8, 1)
    np.testing.assert_array_equal(x_test, xt_all)
    np.testing.assert_array_equal(y_test, (yt_all != 3).astype(np.int64))
    assert y_test.sum() == 360 - (yt_all == 3).sum()
    assert 0.0 <= x_train.min() and x_train.max() <= 1.0


def test_novelty_flatten_limit_and_seed():
    x_train, (x_test, y_test) = data.load_novelty("digits", 7, flatten=True, limit=50, seed=2)
    assert x_train.shape == (50, 64) and x_test.shape == (50, 64) and y_test.shape == (50,)
    (x_all, y_all), _ = data.load("digits", flatten=True, seed=2)
    normal = {row.tobytes() for row in x_all[y_all == 7]}
    assert all(row.tobytes() in normal for row in x_train)
    # The test subset is the one `load` keeps for the same limit and seed.
    _, (xt_limited, yt_limited) = data.load("digits", flatten=True, limit=50, seed=2)
    np.testing.assert_array_equal(x_test, xt_limited)
    np.testing.assert_array_equal(y_test, (yt_limited != 7).astype(np.int64))
    again = data.load_novelty("digits", 7, flatten=True, limit=50, seed=2)
    np.testing.assert_array_equal(again[0], x_train)
    other, _ = data.load_novelty("digits", 7, flatten=True, limit=50, seed=3)
    assert not np.array_equal(other, x_train)
    # A limit above the class size keeps the class whole.
    whole, _ = data.load_novelty("digits", 7, limit=1000)
    assert len(whole) == int((data.load("digits")[0][1] == 7).sum())


def _write_idx(path, array, magic):
    array = np.asarray(array, dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wb") as f:
        f.write(np.array([magic, *array.shape], dtype=">u4").tobytes() + array.tobytes())


def test_novelty_on_fashion_mnist_files(home):
    rng = np.random.default_rng(0)
    images = {s: rng.integers(0, 256, size=(n, 28, 28)) for s, n in (("train", 120), ("t10k", 60))}
    labels = {s: np.arange(len(images[s])) % 10 for s in images}
    for split in ("train", "t10k"):
        _write_idx(home / "fashion-mnist" / f"{split}-images-idx3-ubyte.gz", images[split], 2051)
        _write_idx(home / "fashion-mnist" / f"{split}-labels-idx1-ubyte.gz", labels[split], 2049)
    x_train, (x_test, y_test) = data.load_novelty("fashion_mnist", 9)
    assert x_train.shape == (12, 28, 28, 1) and x_test.shape == (60, 28, 28, 1)
    np.testing.assert_array_equal(x_train[..., 0], images["train"][9::10].astype(np.float32) / np.float32(255))
    np.testing.assert_array_equal(y_test, (labels["t10k"] != 9).astype(np.int64))


def test_novelty_missing_files_are_reported_by_load(home):
    with pytest.raises(FileNotFoundError, match=re.escape(str(home / "mnist.npz"))):
        data.load_novelty("mnist", 0)


@pytest.mark.parametrize("value", [-1, 10, 2.5, True, "3", None, np.bool_(True)])
def test_novelty_bad_normal_class(value):
    with pytest.raises(ValueError) as info:
        data.load_novelty("digits", value)
    assert str(info.value) == (
        "Invalid value for 'normal_class': expected an integer class label in 0..9. "
        f"Received: normal_class={value!r}"
    )


def test_novelty_bad_arguments():
    assert data.load_novelty("digits", np.int64(4))[0].shape[0] > 0  # NumPy integers are fine
    with pytest.raises(ValueError) as info:
        data.load_novelty("binarized_mnist", 0)
    assert str(info.value) == (
        "Invalid value for 'name': expected one of ['digits', 'fashion_mnist', 'mnist']. "
        "Received: name='binarized_mnist'"
    )
    with pytest.raises(ValueError, match=re.escape("Did you mean 'mnist'?")):
        data.load_novelty("mnst", 0)
    for name, value, expected in [
        ("limit", 0, "a positive integer or None"),
        ("seed", -1, "a non-negative integer"),
        ("flatten", "yes", "a bool"),
        ("download", "yes", "a bool"),
    ]:
        with pytest.raises(ValueError, match=re.escape(f"expected {expected}. Received: {name}={value!r}")):
            data.load_novelty("digits", 0, **{name: value})


def test_public_api():
    for name in ("load_odds", "load_nab", "load_telemanom", "telemanom_channels", "load_novelty"):
        assert name in data.__all__ and callable(getattr(data, name))
    assert data.DATASETS == ("binarized_mnist", "digits", "fashion_mnist", "mnist")


# ============================================================ official files


@pytest.fixture(scope="module")
def shared_home(tmp_path_factory):
    """A Keras home whose datasets/ links to the shared official files.

    The telemanom archive is linked, not extracted: the loader extracts it.
    """
    home = tmp_path_factory.mktemp("shared_keras_home")
    datasets = home / "datasets"
    if HAVE_ODDS:
        (datasets / "odds").mkdir(parents=True)
        for name in ODDS_FILES:
            (datasets / "odds" / name).symlink_to(SHARED / "odds" / name)
    if HAVE_NAB:
        for relative in NAB_FILES:
            (datasets / "nab" / relative).parent.mkdir(parents=True, exist_ok=True)
            (datasets / "nab" / relative).symlink_to(SHARED / "nab" / relative)
    if HAVE_TELEMANOM:
        (datasets / "telemanom").mkdir(parents=True)
        for name in ("data.zip", "labeled_anomalies.csv"):
            (datasets / "telemanom" / name).symlink_to(SHARED / "telemanom" / name)
    return home


@pytest.fixture
def shared(shared_home, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(shared_home))
    return shared_home / "datasets"


@_needs(HAVE_ODDS, "ODDS")
@pytest.mark.parametrize("name", sorted(ODDS_OFFICIAL))
def test_odds_official_files(name, shared):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the official files raise no size warning
        x, y = data.load_odds(name)
    rows, features, outliers = ODDS_OFFICIAL[name]
    assert x.shape == (rows, features) and y.shape == (rows,)
    assert x.dtype == np.float64 and y.dtype == np.int64
    assert int(y.sum()) == outliers and set(np.unique(y)) == {0, 1}
    assert data._sha256(shared / "odds" / f"{name}.mat") == data._ODDS[name].sha256


@_needs(HAVE_NAB, "NAB")
def test_nab_official_files(shared):
    t_train, train, l_train = data.load_nab("art_daily_small_noise")
    t_test, test, l_test = data.load_nab("art_daily_jumpsup")
    steps = NAB_START + np.arange(NAB_ROWS) * np.timedelta64(300, "s")
    for t in (t_train, t_test):
        np.testing.assert_array_equal(t, steps)  # 2014-04-01 00:00 .. 2014-04-14 23:55
    assert train.shape == test.shape == (NAB_ROWS,)
    assert l_train.sum() == 0
    inside = np.flatnonzero(l_test)
    assert len(inside) == 403 and inside[-1] - inside[0] == 402  # one contiguous window
    assert (t_test[inside[0]], t_test[inside[-1]]) == JUMPSUP_WINDOW
    assert l_test[np.argmax(test)] == 1  # the jump is inside the window
    for name, (folder, digest, _) in data._NAB.items():
        assert data._sha256(shared / "nab" / folder / f"{name}.csv") == digest


@_needs(HAVE_TELEMANOM, "telemanom")
def test_telemanom_official_files(shared):
    csv_path = SHARED / "telemanom" / "labeled_anomalies.csv"
    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 82 and len({r["chan_id"] for r in rows}) == 81
    assert data._sha256(csv_path) == data._TELEMANOM_CSV_SHA256

    channels = data.telemanom_channels()
    smap, msl = data.telemanom_channels("SMAP"), data.telemanom_channels("MSL")
    assert len(channels) == 81 and len(smap) == 54 and len(msl) == 27
    assert sorted(smap + msl) == channels and "T-10" not in channels

    train_rows = test_rows = 0
    for channel in channels:
        x_train, x_test, y_test = data.load_telemanom(channel)
        columns = 25 if channel in smap else 55
        assert x_train.shape[1] == x_test.shape[1] == columns, channel
        assert set(np.unique(x_test[:, 1:])) <= {0.0, 1.0}  # one-hot commands
        assert y_test.sum() > 0, channel
        train_rows += len(x_train)
        test_rows += len(x_test)
    # The 164 .npy files hold 196,746 train and 510,225 test rows (53,457,776
    # and 119,911,256 bytes, as SOURCES.md says); T-10 has 425 and 670 of them.
    assert (train_rows, test_rows) == (196746 - 425, 510225 - 670)
    # SOURCES.md's "199,142 and 517,764 rows" are the sums over the 82 CSV
    # rows: P-2 (2821 and 8209 rows) counted twice, T-10 not at all.
    x_train, x_test, y_test = data.load_telemanom("P-2")
    assert (train_rows + len(x_train), test_rows + len(x_test)) == (199142, 517764)
    assert len(x_test) == 8209
    np.testing.assert_array_equal(np.flatnonzero(y_test), np.arange(5300, 6576))  # the union
    with pytest.raises(ValueError, match="T-10 has telemetry arrays but no row"):
        data.load_telemanom("T-10")
    x_train, x_test = (np.load(shared / "telemanom" / "data" / s / "T-10.npy") for s in ("train", "test"))
    assert x_train.shape == (425, 55) and x_test.shape == (670, 55)


@_needs(HAVE_MNIST, "MNIST")
def test_novelty_official_mnist(tmp_path, monkeypatch):
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets" / "mnist.npz").symlink_to(SHARED / "mnist.npz")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    x_train, (x_test, y_test) = data.load_novelty("mnist", 0, flatten=True)
    assert x_train.shape == (5923, 784) and x_test.shape == (10000, 784)
    assert int(y_test.sum()) == 10000 - 980
