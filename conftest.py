"""Test-session settings shared by tests/ and the tutorials run by nbval.

Quick mode is switched on here, for the pytest process itself, so every
notebook kernel that nbval starts inherits it.
"""

import os

os.environ["KERAS_AE_SMOKE"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("MPLBACKEND", "Agg")
