r"""The range split of the Newton kernel, :math:`1/r = \mathrm{erf}(\beta r)/r +
\mathrm{erfc}(\beta r)/r`.

The long-range part :math:`\mathrm{erf}(\beta r)/r` is smooth (bounded by
:math:`2\beta/\sqrt\pi`, analytic) and is represented by a sum of wide Gaussians, each of
which is separable; the short-range part :math:`\mathrm{erfc}(\beta r)/r` is summed exactly over
the particles within the cutoff :math:`r_c` with :math:`\mathrm{erfc}(\beta r_c) \le \epsilon`.

Automatic choices (all can be given explicitly), for a tolerance :math:`\epsilon` (``rtol``):

- ``r_cut`` = twice the mean particle spacing :math:`(V_{box}/N)^{1/3}`, so each target sees
  a few tens of particles in the short-range sum, but at least
  :math:`\mathrm{erfc}^{-1}(\epsilon/4)\,L_{max}/20`, so that :math:`\beta L_{max} \le 20`
  and the Tucker ranks of the long-range part stay moderate (about 60 for a 70 Å box at
  :math:`\epsilon = 10^{-6}`); clamped to [3, 40] Å. ``beta`` =
  :math:`\mathrm{erfc}^{-1}(\epsilon/4)/r_c`.
- ``padding`` of the Chebyshev box around particles and targets: :math:`0.5/\beta`.
- ``degree``: the smallest Chebyshev degree whose 1D interpolant of
  :math:`\mathrm{erf}(\beta|x-c|)/|x-c|` over the padded box edge has maximum error
  :math:`\le (\epsilon/8)\, 2\beta/\sqrt\pi` for the worst centre ``c`` (it depends on
  :math:`\beta L` only; about :math:`3\beta L` at :math:`\epsilon = 10^{-6}`).

References:
    P. Benner, V. Khoromskaia, B. N. Khoromskij, Range-separated tensor format for
    many-particle modeling, SIAM J. Sci. Comput. 40(2) (2018) A1034-A1062.
    P. P. Ewald, Die Berechnung optischer und elektrostatischer Gitterpotentiale,
    Ann. Phys. 369 (1921) 253-287.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from scipy.special import erf, erfc, erfcinv

from .._validate import check_positive_float, check_positive_int
from ..data import Box
from ._gaussian_sums import GaussianSum, gaussian_sum_erf

__all__ = ["RangeSplit"]

_MAX_BETA_LENGTH = 20.0  # keeps the Tucker ranks of protein-sized boxes below ~60
# The default cutoff's upper limit (Å). The beta L_max <= 20 rule sets the cutoff of large boxes;
# until 2026-12-06 it was clamped at 15 Å, which left large boxes with high Chebyshev degrees
# (the long-range build grows like N m^2): measured on 128^3 grids of 1-16 copies of
# adk_open.pqr (2-core CPU), the rule's own cutoff is near the fastest one (13 364 atoms, box
# 125 Å: 20 Å takes 2.6 s against 4.2 s at 15 Å; 30 069 atoms, 184 Å: 30 Å 6.5 s against
# 12.6 s). 40 Å bounds the short-range work of very long boxes.
_MAX_CUT = 40.0

# steps of about 6-12 %: every extra degree costs work in each part of the long-range build
_CANDIDATE_DEGREES = (16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 60, 64, 68, 72, 76, 80, 88,
                      96, 104, 112, 120, 128, 144, 160, 176, 192, 224, 256, 288, 320, 384, 448,
                      512)


def _interp_error(beta_length: float, degree: int) -> float:
    """Max error of Chebyshev interpolation of erf(|x-c|)/|x-c| on [0, beta_length], relative
    to its maximum 2/sqrt(pi), over three centres c (middle, near an end, at an end)."""
    m = degree + 1
    s = np.sin(np.pi * (2 * np.arange(m) - (m - 1)) / (2 * (m - 1)))
    x = 0.5 * (s + 1.0) * beta_length
    xt = np.linspace(0.0, beta_length, 2001)
    # barycentric weights for Chebyshev-Lobatto points
    w = np.ones(m)
    w[1::2] = -1.0
    w[0] *= 0.5
    w[-1] *= 0.5
    diff = xt[:, None] - x[None, :]
    exact = np.isclose(diff, 0.0, atol=1e-14 * beta_length)
    diff[exact] = 1.0
    kern = w[None, :] / diff
    worst = 0.0
    for c in (0.5 * beta_length, 0.13 * beta_length, 0.0):
        def g(y, c=c):
            d = np.abs(y - c)
            out = np.full(d.shape, 2.0 / math.sqrt(math.pi))
            big = d > 1e-8
            out[big] = erf(d[big]) / d[big]
            return out

        fx = g(x)
        p = (kern @ fx) / kern.sum(axis=1)
        rows = exact.any(axis=1)
        p[rows] = fx[np.argmax(exact[rows], axis=1)]
        worst = max(worst, float(np.max(np.abs(p - g(xt)))))
    return worst / (2.0 / math.sqrt(math.pi))


@functools.lru_cache(maxsize=256)
def _degree_for(beta_length_q: float, tol_q: float) -> int:
    for deg in _CANDIDATE_DEGREES:
        if _interp_error(beta_length_q, deg) <= tol_q:
            return deg
    return _CANDIDATE_DEGREES[-1]


def choose_degree(beta: float, length: float, tol: float) -> int:
    """Smallest candidate degree whose 1D interpolation error of the long-range kernel on an
    edge of ``length`` is below ``tol`` (relative to the kernel maximum :math:`2\\beta/\\sqrt\\pi`).
    """
    # quantise upwards so the cache hits and the answer stays conservative
    bl = beta * length
    bl_q = float(np.ceil(bl * 4.0) / 4.0)
    tol_q = float(10.0 ** (np.floor(np.log10(tol) * 4.0) / 4.0))
    return _degree_for(bl_q, tol_q)


def check_split_rtol(rtol: float) -> float:
    """The range split's kernel tolerance: a float in [1e-12, 1e-2] (ValueError otherwise)."""
    rtol = check_positive_float(rtol, "rtol")
    if not 1e-12 <= rtol <= 1e-2:
        raise ValueError(f"rtol must lie in [1e-12, 1e-2], got {rtol}")
    return rtol


@dataclass(frozen=True)
class RangeSplit:
    r"""Parameters of the range split :math:`1/r = \mathrm{erf}(\beta r)/r +
    \mathrm{erfc}(\beta r)/r` for one box and tolerance.

    Build with :meth:`choose` (automatic choices, explicit values allowed).

    Attributes:
        rtol: the kernel tolerance :math:`\epsilon`: relative accuracy of each pair term
            :math:`1/r`, split as :math:`\epsilon/4` for the short-range cutoff, the Gaussian
            sum and the Chebyshev interpolation, and :math:`\epsilon/4` for the Tucker
            truncation.
        beta: splitting parameter (1/Å).
        r_cut: short-range cutoff (Å); :math:`\mathrm{erfc}(\beta r_c) \le \epsilon/4`.
        box: the Chebyshev box of the long-range part (particles and targets, padded).
        degrees: Chebyshev degree per axis of the long-range part (``degree`` is the largest).
        padding: the padding (Å) added around particles and targets.
        long_sum: the :class:`GaussianSum` of :math:`\mathrm{erf}(\beta r)/r` on
            :math:`[0, r_{max}]`, :math:`r_{max}` the box diagonal.

    References:
        Benner, Khoromskaia, Khoromskij, SIAM J. Sci. Comput. 40(2) (2018).
    """

    rtol: float
    beta: float
    r_cut: float
    box: Box
    degrees: tuple[int, ...]
    padding: float
    long_sum: GaussianSum

    @classmethod
    def choose(cls, box: Box, rtol: float = 1e-6, *, n_particles: int | None = None,
               beta: float | None = None, r_cut: float | None = None,
               degree: int | tuple[int, ...] | None = None,
               padding: float | None = None,
               max_beta_length: float = _MAX_BETA_LENGTH,
               max_cut: float = _MAX_CUT) -> RangeSplit:
        r"""Choose the split for a box holding the particles and targets.

        Args:
            box: :class:`tensorrom.data.Box` (3D, Å) holding every particle and target; it is
                padded by ``padding`` to give the Chebyshev box.
            rtol: kernel tolerance :math:`\epsilon` in [1e-12, 1e-2].
            n_particles: number of particles in the box (sets the default cutoff from the mean
                spacing; default: a spacing of 2.5 Å).
            beta: splitting parameter (1/Å); default from ``r_cut``.
            r_cut: short-range cutoff (Å); default from ``beta`` when it is given, else the
                rule in the module docstring.
            degree: Chebyshev degree (an int, or one per axis); default per axis from
                :math:`\beta L_k` and ``rtol``.
            padding: box padding (Å); default :math:`0.5/\beta`.
            max_beta_length: the default cutoff is at least
                :math:`\mathrm{erfc}^{-1}(\epsilon/4) L_{max} /` ``max_beta_length`` (so
                :math:`\beta L_{max} \le` ``max_beta_length``; default 20). Smaller values
                give a longer cutoff, a smoother long-range part and lower Tucker ranks
                (:func:`~tensorrom.potentials.coulomb` and :func:`~tensorrom.potentials.field`
                use 10 at scattered targets, 16 with the JAX backend).
            max_cut: the largest default cutoff (Å; default 40; the short-range work grows
                like :math:`r_c^3` per target; 30 with the JAX backend of
                :func:`~tensorrom.potentials.coulomb`).

        Returns:
            RangeSplit.
        """
        if not isinstance(box, Box):
            raise TypeError(f"box must be a tensorrom.data.Box, got {type(box).__name__}")
        if box.dim != 3:
            raise ValueError(f"box must be 3D, got dim {box.dim}")
        rtol = check_split_rtol(rtol)
        eps = rtol / 4.0
        x_c = float(erfcinv(eps))  # erfc(x_c) = eps
        if beta is not None:
            beta = check_positive_float(beta, "beta")
        if r_cut is not None:
            r_cut = check_positive_float(r_cut, "r_cut")
        if beta is None:
            if r_cut is None:
                if n_particles is not None:
                    n = check_positive_int(n_particles, "n_particles")
                    spacing = (box.volume / n) ** (1.0 / 3.0)
                else:
                    spacing = 2.5
                # the long-range ranks grow with beta L: keep beta L_max <= max_beta_length
                max_beta_length = check_positive_float(max_beta_length, "max_beta_length")
                max_cut = check_positive_float(max_cut, "max_cut")
                r_rank = x_c * float(box.lengths.max()) / max_beta_length
                r_cut = float(np.clip(max(2.0 * spacing, r_rank), min(3.0, max_cut), max_cut))
            beta = x_c / r_cut
        elif r_cut is None:
            r_cut = x_c / beta
        elif erfc(beta * r_cut) > eps:
            raise ValueError(
                f"r_cut={r_cut} is too short for beta={beta} at rtol={rtol}: "
                f"erfc(beta r_cut) = {erfc(beta * r_cut):.2e} > rtol/4 (need r_cut >= "
                f"{x_c / beta:.4g})"
            )
        if padding is None:
            padding = 0.5 / beta
        else:
            padding = check_positive_float(padding, "padding", allow_zero=True)
        cbox = box.pad(padding)
        if degree is None:
            degrees = tuple(choose_degree(beta, float(length), rtol / 8.0)
                            for length in cbox.lengths)
        elif isinstance(degree, (int, np.integer)) and not isinstance(degree, bool):
            degrees = (check_positive_int(degree, "degree", minimum=2),) * 3
        else:
            try:
                degrees = tuple(check_positive_int(g, "degree", minimum=2) for g in degree)
            except TypeError:
                raise TypeError("degree must be an int or a sequence of 3 ints") from None
            if len(degrees) != 3:
                raise ValueError(f"degree must have 3 entries, got {len(degrees)}")
        r_max = float(np.linalg.norm(cbox.lengths))
        long_sum = gaussian_sum_erf(beta, r_max, rtol / 4.0)
        return cls(float(rtol), float(beta), float(r_cut), cbox, degrees, float(padding),
                   long_sum)

    @property
    def degree(self) -> int:
        """The largest Chebyshev degree over the axes."""
        return max(self.degrees)

    def short_kernel(self, r):
        r"""The short-range kernel :math:`\mathrm{erfc}(\beta r)/r` (1/Å), zero beyond ``r_cut``."""
        r = np.asarray(r, dtype=np.float64)
        with np.errstate(divide="ignore"):
            out = erfc(self.beta * r) / r
        return np.where(r <= self.r_cut, out, 0.0)

    def long_kernel(self, r):
        r"""The long-range kernel :math:`\mathrm{erf}(\beta r)/r` (exact, 1/Å)."""
        r = np.asarray(r, dtype=np.float64)
        small = r * self.beta < 1e-8
        safe = np.where(small, 1.0, r)
        return np.where(small, 2.0 * self.beta / math.sqrt(math.pi), erf(self.beta * safe) / safe)

    @property
    def self_term(self) -> float:
        r"""The long-range kernel at :math:`r = 0`: :math:`2\beta/\sqrt\pi` (1/Å)."""
        return 2.0 * self.beta / math.sqrt(math.pi)

    def __repr__(self) -> str:
        return (f"RangeSplit(rtol={self.rtol:.1e}, beta={self.beta:.4g}/Å, "
                f"r_cut={self.r_cut:.4g} Å, degrees={self.degrees}, "
                f"n_gaussians={self.long_sum.n_terms}, box={self.box!r})")
