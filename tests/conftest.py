"""Strict test settings (after equinox's tests/conftest.py).

- two emulated CPU devices, so sharding code is exercised without a GPU;
- float64 on and strict dtype promotion (numerics are tested in float64);
- warnings are errors (named exceptions in pyproject.toml);
- markers: ``slow`` (excluded by default) and ``gpu`` (skipped unless JAX sees a GPU).
"""

import os

os.environ["XLA_FLAGS"] = (
    os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=2"
).strip()
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("NUMBA_NUM_THREADS", "2")

import jax  # noqa: E402
import pytest  # noqa: E402

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_dtype_promotion", "strict")


def pytest_collection_modifyitems(config, items):
    if jax.default_backend() == "gpu":
        return
    skip_gpu = pytest.mark.skip(reason="needs a GPU (jax.default_backend() != 'gpu')")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip_gpu)


def _bit_reproducible() -> bool:
    """CPU runs, and GPU runs with XLA's deterministic ops, repeat bit for bit; plain GPU runs
    do not: atomic scatter-adds sum in a varying order (seen on an H200; with
    ``XLA_FLAGS=--xla_gpu_deterministic_ops=true`` the same tests are bit-exact there)."""
    flags = os.environ.get("XLA_FLAGS", "")
    return jax.default_backend() != "gpu" or "--xla_gpu_deterministic_ops=true" in flags


@pytest.fixture
def assert_repeatable():
    """``check(a, b, gpu_atol)``: bit-identical where the backend is deterministic (see
    :func:`_bit_reproducible`), else equal to ``gpu_atol`` (each test justifies its value)."""
    import numpy as np

    def check(a, b, gpu_atol):
        a, b = np.asarray(a), np.asarray(b)
        if _bit_reproducible():
            np.testing.assert_array_equal(a, b)
        else:
            np.testing.assert_allclose(a, b, rtol=0, atol=gpu_atol)

    return check


@pytest.fixture
def rng():
    import numpy as np

    return np.random.default_rng(0)
