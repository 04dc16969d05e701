"""Argument checks shared by every part of tensorrom.

Each checker raises :class:`ValueError` (or :class:`TypeError`) whose message names the
argument and says what is wrong, so that bad input fails before any heavy work starts.
Checks that need concrete values (finiteness, containment) are skipped for JAX tracers,
so the same constructors can be used inside ``jax.jit``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "is_concrete",
    "as_array",
    "check_finite",
    "check_positive_int",
    "check_positive_float",
    "check_shape",
]


def _is_jax_array(x: Any) -> bool:
    mod = type(x).__module__
    return mod.startswith("jax") or mod.startswith("jaxlib")


def is_concrete(x: Any) -> bool:
    """True when ``x`` holds concrete values (NumPy array, or a JAX array that is not a tracer)."""
    if _is_jax_array(x):
        try:
            import jax

            return not isinstance(x, jax.core.Tracer)
        except Exception:  # pragma: no cover - jax always importable here
            return True
    return True


def as_array(x: Any, name: str, *, ndim: int | tuple[int, ...] | None = None, dtype=None):
    """Return ``x`` as an array (NumPy unless it already is a JAX array; no copy is forced).

    Args:
        x: array-like.
        name: the argument's name, used in error messages.
        ndim: required number of dimensions (an int or a tuple of allowed values).
        dtype: NumPy dtype to convert NumPy input to (JAX input keeps its dtype).
    """
    if x is None:
        raise TypeError(f"{name} must be an array, got None")
    if _is_jax_array(x):
        arr = x
    else:
        try:
            arr = np.asarray(x, dtype=dtype)
        except (TypeError, ValueError) as err:
            raise TypeError(f"{name} must be array-like of numbers ({err})") from None
        if arr.dtype == object or arr.dtype.kind in "USV":
            raise TypeError(f"{name} must hold numbers, got dtype {arr.dtype}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(str(a) for a in allowed)
            raise ValueError(f"{name} must have {want} dimensions, got shape {tuple(arr.shape)}")
    return arr


def check_finite(x: Any, name: str) -> None:
    """Raise ValueError when ``x`` has NaN or infinite entries (skipped for tracers)."""
    if not is_concrete(x):
        return
    a = np.asarray(x)
    if a.dtype.kind in "fc" and not np.all(np.isfinite(a)):
        n_bad = int(np.size(a) - np.count_nonzero(np.isfinite(a)))
        raise ValueError(f"{name} has {n_bad} non-finite (NaN or inf) entries")


def check_positive_int(x: Any, name: str, *, minimum: int = 1) -> int:
    """Return ``x`` as an int, raising when it is not an integer >= ``minimum``."""
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(x).__name__}")
    if x < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {x}")
    return int(x)


def check_positive_float(x: Any, name: str, *, allow_zero: bool = False) -> float:
    """Return ``x`` as a float, raising when it is not a finite positive number."""
    if isinstance(x, bool):
        raise TypeError(f"{name} must be a number, got bool")
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, got {type(x).__name__}") from None
    if not np.isfinite(v):
        raise ValueError(f"{name} must be finite, got {v}")
    if v < 0 or (v == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {v}")
    return v


def check_shape(x: Any, name: str, shape: tuple) -> None:
    """Raise ValueError unless ``x.shape`` matches ``shape`` (``None`` entries match anything)."""
    s = tuple(x.shape)
    if len(s) != len(shape) or any(w is not None and w != g for w, g in zip(shape, s)):
        want = "(" + ", ".join("*" if w is None else str(w) for w in shape) + ")"
        raise ValueError(f"{name} must have shape {want}, got {s}")
