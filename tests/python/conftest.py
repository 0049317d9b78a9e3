"""Tests of the Python package: live models, LiteRTModel, verify, install.

They run on the backend KERAS_BACKEND names; scripts/test runs them on JAX
and again on NumPy (Keras' inference-only backend). The tolerance module
and the builtin-only check are shared with tests/conformance.
"""
import os
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "conformance"))

import keras  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _seeded():
    keras.utils.set_random_seed(1234)
    yield


def pytest_report_header(config):
    return f"keras backend: {keras.backend.backend()}"
