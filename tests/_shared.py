"""Where the offline copies of the official datasets are, for the tests that use them."""

import os
from pathlib import Path


def shared_data_dir():
    """``$KERAS_AE_SHARED_DATA``, or ``../shared/data`` next to the repository."""
    override = os.environ.get("KERAS_AE_SHARED_DATA")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "shared" / "data"


SHARED = shared_data_dir()
