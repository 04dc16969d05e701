r"""Gaussian sums by sinc quadrature, with a posteriori error control.

Radial kernels are written as Laplace-type integrals of Gaussians and discretised by the
sinc (trapezoidal) rule in a logarithmic variable :math:`u`:

.. math::
    f(r) = \int_{-\infty}^{\infty} w(u)\, e^{-a(u) r^2}\,du
    \approx \sum_{k=k_0}^{k_1} h\, w(k h)\, e^{-a(k h) r^2}
    = \sum_k c_k e^{-p_k r^2}.

- Newton :math:`1/r = \frac{2}{\sqrt\pi}\int_0^\infty e^{-r^2 t^2} dt`, :math:`t = e^u`;
- Yukawa :math:`e^{-\kappa r}/r = \frac{2}{\sqrt\pi}\int_0^\infty e^{-r^2t^2-\kappa^2/(4t^2)}dt`;
- Slater :math:`e^{-\kappa r} = \frac{\kappa}{2\sqrt\pi}\int_0^\infty p^{-3/2}
  e^{-\kappa^2/(4p) - p r^2} dp`, :math:`p = e^{2u}`;
- long-range Ewald part :math:`\mathrm{erf}(\beta r)/r = \frac{2}{\sqrt\pi}\int_0^\beta
  e^{-r^2t^2}dt` with :math:`t = \beta(1 - \exp(-e^{u}))`.

The step ``h`` starts from the analytic estimate :math:`h = \pi^2/(2\ln(c/\epsilon))` (the
integrands are analytic in the strip :math:`|\mathrm{Im}\,u| < \pi/4`) and is reduced until
the measured maximum relative error on a dense logarithmic check grid of
:math:`[r_{min}, r_{max}]` is below ``rtol``; the terms whose accumulated contribution from
either end stays below ``rtol/8`` everywhere on the check grid are dropped.

References:
    F. Stenger, Numerical Methods Based on Sinc and Analytic Functions, Springer 1993.
    W. Hackbusch, B. N. Khoromskij, Low-rank Kronecker-product approximation to
    multi-dimensional nonlocal operators, Computing 76 (2006) 177-202.
    P. Benner, V. Khoromskaia, B. N. Khoromskij, Range-separated tensor format for
    many-particle modeling, SIAM J. Sci. Comput. 40(2) (2018) A1034-A1062.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import erf

from .._validate import check_positive_float

__all__ = [
    "GaussianSum",
    "gaussian_sum_newton",
    "gaussian_sum_yukawa",
    "gaussian_sum_slater",
    "gaussian_sum_erf",
]

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


@dataclass(frozen=True)
class GaussianSum:
    r"""A radial kernel as a sum of Gaussians, :math:`f(r) \approx \sum_k c_k e^{-p_k r^2}`.

    Attributes:
        coefficients: (K,) weights :math:`c_k` (units of ``f``).
        exponents: (K,) exponents :math:`p_k > 0` (1/length²), ascending.
        r_min, r_max: the range on which the relative error was checked (length).
        rtol: the requested relative tolerance.
        max_rel_error: the measured maximum relative error on the check grid.
        kernel: a short name ("newton", "yukawa", "slater", "erf").
    """

    coefficients: np.ndarray
    exponents: np.ndarray
    r_min: float
    r_max: float
    rtol: float
    max_rel_error: float
    kernel: str

    @property
    def n_terms(self) -> int:
        """Number of Gaussians ``K``."""
        return int(self.exponents.size)

    def __call__(self, r) -> np.ndarray:
        """Evaluate the sum at distances ``r`` (any shape, length units)."""
        r = np.asarray(r, dtype=np.float64)
        out = np.zeros(r.shape)
        r2 = r * r
        for c, p in zip(self.coefficients, self.exponents):
            out += c * np.exp(-p * r2)
        return out

    def split(self, exponent_max: float) -> tuple[GaussianSum, GaussianSum]:
        """The terms with ``p_k <= exponent_max`` (wide, long-range) and the rest (narrow)."""
        keep = self.exponents <= exponent_max
        mk = lambda m: GaussianSum(self.coefficients[m], self.exponents[m], self.r_min,
                                   self.r_max, self.rtol, float("nan"), self.kernel)
        return mk(keep), mk(~keep)

    def __len__(self) -> int:
        return self.n_terms


def _check_range(r_min: float, r_max: float, *, allow_zero_min: bool = False):
    r_min = check_positive_float(r_min, "r_min", allow_zero=allow_zero_min)
    r_max = check_positive_float(r_max, "r_max")
    if r_max <= r_min:
        raise ValueError(f"r_max must exceed r_min, got r_min={r_min}, r_max={r_max}")
    return r_min, r_max


def _check_rtol(rtol: float) -> float:
    rtol = check_positive_float(rtol, "rtol")
    if not 1e-14 <= rtol < 1.0:
        raise ValueError(f"rtol must lie in [1e-14, 1), got {rtol}")
    return rtol


def _check_points(r_min: float, r_max: float, n: int, include_zero: bool) -> np.ndarray:
    lo = r_min if r_min > 0 else r_max * 1e-8
    r = np.geomspace(lo, r_max, n)
    if include_zero:
        r = np.concatenate([[0.0], r])
    return r


def _sinc_sum(
    weight: Callable[[np.ndarray], np.ndarray],
    exponent: Callable[[np.ndarray], np.ndarray],
    target: Callable[[np.ndarray], np.ndarray],
    u_range: tuple[float, float],
    r_check: np.ndarray,
    rtol: float,
    h0: float,
    kernel: str,
    r_min: float,
    r_max: float,
) -> GaussianSum:
    """Sinc quadrature with step reduction and two-sided truncation (see module docstring)."""
    f = target(r_check)
    r2 = r_check * r_check
    h = h0
    for _ in range(60):
        k_lo = math.floor(u_range[0] / h)
        k_hi = math.ceil(u_range[1] / h)
        u = h * np.arange(k_lo, k_hi + 1)
        c = h * weight(u)
        p = exponent(u)
        ok = (c > 0) & (p > 0) & np.isfinite(c) & np.isfinite(p)
        c, p = c[ok], p[ok]
        # contributions relative to f: (K, n); the terms are positive so tails add up
        contrib = c[:, None] * np.exp(-p[:, None] * r2[None, :]) / f[None, :]
        lo_tail = np.cumsum(contrib, axis=0).max(axis=1)  # dropping terms 0..i
        hi_tail = np.cumsum(contrib[::-1], axis=0).max(axis=1)[::-1]  # dropping i..K-1
        budget = rtol / 8.0
        i0 = int(np.searchsorted(lo_tail > budget, True))  # first index that must stay
        i1 = int(len(p) - np.searchsorted((hi_tail > budget)[::-1], True))  # one past last
        c, p = c[i0:i1], p[i0:i1]
        approx = contrib[i0:i1].sum(axis=0)
        err = float(np.max(np.abs(approx - 1.0)))
        # a margin of 2 covers points between the check nodes (the error oscillates with
        # period h in log r, and the check grid has >= 40 points per period)
        if err <= 0.5 * rtol:
            order = np.argsort(p)
            c, p = c[order], p[order]
            c, p, err = _merge_wide(c, p, r2, f, approx, 0.75 * rtol)
            if kernel == "erf":
                # the double-exponential end: exponents crowd just below beta^2
                approx = (c[:, None] * np.exp(-p[:, None] * r2[None, :]) / f[None, :]).sum(0)
                c, p, err = _merge_wide(c[::-1], p[::-1], r2, f, approx, 0.75 * rtol)
                c, p = c[::-1].copy(), p[::-1].copy()
            return GaussianSum(c, p, float(r_min), float(r_max), float(rtol), err, kernel)
        h *= 0.9
    raise RuntimeError(  # pragma: no cover
        f"sinc quadrature for {kernel} did not reach rtol={rtol}")


def _merge_wide(c, p, r2, f, approx, limit):
    """Merge runs of Gaussians from the start of the list into single Gaussians.

    A run ``i..j`` is replaced by one Gaussian with the same total weight and the weighted
    mean exponent (matching the first two Taylor moments in ``r^2``); runs grow greedily
    while the measured relative error on the check grid stays below ``limit``. Called on
    the widest terms first (they are nearly constant over the range), and for the erf kernel
    on the narrowest ones too (reversed order).
    """
    c_out, p_out = [], []
    approx = approx.copy()
    i, K = 0, len(p)
    while i < K:
        j = i
        run = c[i] * np.exp(-p[i] * r2) / f
        C, CP = c[i], c[i] * p[i]
        best = (j, approx)
        while j + 1 < K:
            jj = j + 1
            run_next = run + c[jj] * np.exp(-p[jj] * r2) / f
            C2, CP2 = C + c[jj], CP + c[jj] * p[jj]
            merged = C2 * np.exp(-(CP2 / C2) * r2) / f
            trial = approx - run_next + merged
            if float(np.max(np.abs(trial - 1.0))) > limit:
                break
            j, run, C, CP = jj, run_next, C2, CP2
            best = (j, trial)
        j, approx = best
        c_out.append(C)
        p_out.append(CP / C)
        if j == i and i > 0:  # a run of one: the rest are too narrow to merge
            c_out.extend(c[i + 1:])
            p_out.extend(p[i + 1:])
            break
        i = j + 1
    err = float(np.max(np.abs(approx - 1.0)))
    return np.asarray(c_out, dtype=np.float64), np.asarray(p_out, dtype=np.float64), err


def _n_check(r_min: float, r_max: float, h: float) -> int:
    lo = r_min if r_min > 0 else r_max * 1e-8
    periods = math.log(r_max / lo) / h
    return int(min(40000, max(4000, 48 * periods)))


def gaussian_sum_newton(r_min: float, r_max: float, rtol: float = 1e-8) -> GaussianSum:
    r"""Gaussian sum for the Newton kernel :math:`1/r` with relative error ``rtol`` on
    ``[r_min, r_max]``.

    :math:`1/r = \frac{2}{\sqrt\pi}\int_{\mathbb R} e^{-r^2 e^{2u} + u}\,du`, discretised by
    the sinc rule; :math:`p_k = e^{2kh}`, :math:`c_k = \frac{2h}{\sqrt\pi} e^{kh}`.

    Args:
        r_min: smallest distance (> 0, length units, e.g. Å).
        r_max: largest distance (> r_min).
        rtol: relative tolerance in [1e-14, 1).

    Returns:
        :class:`GaussianSum` with exponents in 1/length².

    References:
        Hackbusch & Khoromskij, Computing 76 (2006); Benner, Khoromskaia, Khoromskij,
        SIAM J. Sci. Comput. 40(2) (2018).
    """
    r_min, r_max = _check_range(r_min, r_max)
    rtol = _check_rtol(rtol)
    L = math.log(1.0 / rtol)
    h0 = math.pi ** 2 / (2.0 * (L + math.log(8.0)))
    u_range = (math.log(rtol / r_max) - 2.0, math.log(math.sqrt(L + 4.0) / r_min) + 1.0)
    rc = _check_points(r_min, r_max, _n_check(r_min, r_max, h0), False)
    return _sinc_sum(lambda u: _TWO_OVER_SQRT_PI * np.exp(u), lambda u: np.exp(2.0 * u),
                     lambda r: 1.0 / r, u_range, rc, rtol, h0, "newton", r_min, r_max)


def gaussian_sum_yukawa(kappa: float, r_min: float, r_max: float,
                        rtol: float = 1e-8) -> GaussianSum:
    r"""Gaussian sum for the Yukawa (screened Coulomb) kernel :math:`e^{-\kappa r}/r`.

    :math:`e^{-\kappa r}/r = \frac{2}{\sqrt\pi}\int_{\mathbb R}
    e^{-r^2 e^{2u} - \kappa^2 e^{-2u}/4 + u}\,du` by the sinc rule.

    Args:
        kappa: inverse screening length (> 0, 1/length).
        r_min, r_max: the distance range (length), ``0 < r_min < r_max``.
        rtol: relative tolerance in [1e-14, 1).

    References:
        Benner, Khoromskaia, Khoromskij, SIAM J. Sci. Comput. 40(2) (2018), section 2.
    """
    kappa = check_positive_float(kappa, "kappa")
    r_min, r_max = _check_range(r_min, r_max)
    rtol = _check_rtol(rtol)
    L = math.log(1.0 / rtol)
    h0 = math.pi ** 2 / (2.0 * (L + math.log(8.0)))
    # the screening factor kills u < log(kappa / (2 sqrt(L))) - a little
    u_lo = max(math.log(rtol / r_max) - 2.0, math.log(kappa / (2.0 * math.sqrt(L + 4.0))) - 2.0)
    u_hi = math.log(math.sqrt(L + 4.0) / r_min) + 1.0
    if u_lo >= u_hi:
        u_lo = u_hi - 4.0
    rc = _check_points(r_min, r_max, _n_check(r_min, r_max, h0), False)
    k2 = kappa * kappa
    return _sinc_sum(lambda u: _TWO_OVER_SQRT_PI * np.exp(u - 0.25 * k2 * np.exp(-2.0 * u)),
                     lambda u: np.exp(2.0 * u), lambda r: np.exp(-kappa * r) / r,
                     (u_lo, u_hi), rc, rtol, h0, "yukawa", r_min, r_max)


def gaussian_sum_slater(kappa: float, r_min: float, r_max: float,
                        rtol: float = 1e-8) -> GaussianSum:
    r"""Gaussian sum for the Slater kernel :math:`e^{-\kappa r}`.

    :math:`e^{-\kappa r} = \frac{\kappa}{\sqrt\pi}\int_{\mathbb R}
    e^{-u - \kappa^2 e^{-2u}/4 - r^2 e^{2u}}\,du` (from
    :math:`\int_0^\infty p^{-3/2}e^{-a/p - bp}dp = \sqrt{\pi/a}\,e^{-2\sqrt{ab}}` with
    :math:`p = e^{2u}`), by the sinc rule. Relative accuracy at large :math:`\kappa r` needs
    more terms; ``r_min`` may be 0 (the kernel is bounded).

    Args:
        kappa: decay rate (> 0, 1/length).
        r_min, r_max: the distance range (length), ``0 <= r_min < r_max``.
        rtol: relative tolerance in [1e-14, 1).

    References:
        Hackbusch & Khoromskij, Computing 76 (2006); Stenger (1993).
    """
    kappa = check_positive_float(kappa, "kappa")
    r_min, r_max = _check_range(r_min, r_max, allow_zero_min=True)
    rtol = _check_rtol(rtol)
    L = math.log(1.0 / rtol)
    h0 = math.pi ** 2 / (2.0 * (L + math.log(8.0)))
    # saddle point e^{2u} = kappa / (2 r); the e^{-u} decay needs u up to log(1/rtol)
    r_lo = max(r_min, 1e-8 * r_max)
    u_lo = math.log(kappa / (2.0 * math.sqrt(L + 4.0 + kappa * r_max))) - 2.0
    u_lo = min(u_lo, 0.5 * math.log(kappa / (2.0 * r_max)) - 2.0)
    u_hi = max(0.5 * math.log(kappa / (2.0 * r_lo)), u_lo) + L + 2.0
    rc = _check_points(r_min, r_max, _n_check(r_min, r_max, h0), r_min == 0.0)
    k2 = kappa * kappa
    return _sinc_sum(lambda u: kappa / math.sqrt(math.pi) * np.exp(-u - 0.25 * k2 * np.exp(-2 * u)),
                     lambda u: np.exp(2.0 * u), lambda r: np.exp(-kappa * r),
                     (u_lo, u_hi), rc, rtol, h0, "slater", r_min, r_max)


def gaussian_sum_erf(beta: float, r_max: float, rtol: float = 1e-8) -> GaussianSum:
    r"""Gaussian sum for the long-range Ewald kernel :math:`\mathrm{erf}(\beta r)/r` on
    ``[0, r_max]`` with relative error ``rtol``.

    :math:`\mathrm{erf}(\beta r)/r = \frac{2}{\sqrt\pi}\int_0^\beta e^{-r^2t^2}dt`; the
    map :math:`t = \beta\varphi(u)`, :math:`\varphi(u) = 1 - \exp(-e^{u})`, turns it into
    an integral over :math:`\mathbb R` whose integrand decays like :math:`e^{u}` as
    :math:`u\to-\infty` and double-exponentially as :math:`u\to\infty`, so the sinc rule
    converges exponentially with few terms at the :math:`t=\beta` end.
    All exponents are at most :math:`\beta^2`: every term is a wide Gaussian.

    Args:
        beta: splitting parameter (> 0, 1/length).
        r_max: the largest distance (length).
        rtol: relative tolerance in [1e-14, 1).

    References:
        Benner, Khoromskaia, Khoromskij, SIAM J. Sci. Comput. 40(2) (2018);
        Stenger (1993), section 4.
    """
    beta = check_positive_float(beta, "beta")
    r_max = check_positive_float(r_max, "r_max")
    rtol = _check_rtol(rtol)
    L = math.log(1.0 / rtol)
    h0 = math.pi ** 2 / (2.0 * (L + math.log(8.0)))
    u_lo = math.log(rtol / (beta * r_max)) - 2.0
    u_hi = math.log(L + 4.0) + 1.0

    def phi(u):
        return -np.expm1(-np.exp(u))

    def weight(u):
        eu = np.exp(u)
        return _TWO_OVER_SQRT_PI * beta * eu * np.exp(-eu)

    def target(r):
        out = np.empty_like(r)
        small = r * beta < 1e-8
        out[small] = _TWO_OVER_SQRT_PI * beta
        out[~small] = erf(beta * r[~small]) / r[~small]
        return out

    r_lo = min(1e-3 / beta, r_max * 1e-3)
    n = _n_check(r_lo, r_max, h0)
    rc = np.concatenate([[0.0], np.geomspace(r_lo, r_max, n), np.linspace(0, r_max, 2000)[1:]])
    rc.sort()
    gs = _sinc_sum(weight, lambda u: (beta * phi(u)) ** 2, target, (u_lo, u_hi), rc, rtol,
                   h0, "erf", 0.0, r_max)
    return _refit_nonnegative(gs, target, rc)


def _refit_nonnegative(gs: GaussianSum, target: Callable[[np.ndarray], np.ndarray],
                       r_check: np.ndarray) -> GaussianSum:
    r"""Refit the weights of a Gaussian sum by non-negative least squares in the relative
    error on the check grid, :math:`\min_{c\ge0}\|\sum_k c_k e^{-p_k r^2}/f(r) - 1\|_2`,
    keeping the exponents. The non-negative solution is sparse: for the erf kernel it drops
    about a quarter of the terms (mostly the widest, whose shapes the others already span)
    and lowers the error; every term costs work in the long-range build. The refit is kept
    only if it has fewer terms and its maximum relative error on the check grid stays below
    ``rtol / 2`` (the margin of :func:`_sinc_sum`), otherwise the sinc sum is returned.

    References:
        C. L. Lawson, R. J. Hanson, Solving Least Squares Problems, SIAM 1995, ch. 23 (NNLS).
    """
    from scipy.optimize import nnls

    f = target(r_check)
    a = np.exp(-gs.exponents[None, :] * (r_check * r_check)[:, None]) / f[:, None]
    try:
        c, _ = nnls(a, np.ones(r_check.size), maxiter=50 * gs.n_terms)
    except RuntimeError:  # pragma: no cover - iteration limit
        return gs
    keep = c > 0.0
    err = float(np.max(np.abs(a[:, keep] @ c[keep] - 1.0)))
    if keep.sum() >= gs.n_terms or err > 0.5 * gs.rtol:
        return gs
    return GaussianSum(np.ascontiguousarray(c[keep]), np.ascontiguousarray(gs.exponents[keep]),
                       gs.r_min, gs.r_max, gs.rtol, err, gs.kernel)
