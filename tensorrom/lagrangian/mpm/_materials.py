"""Constitutive models of the MLS-MPM simulator: jelly, water, sand and plasticine.

Every model acts on the singular values of the trial deformation gradient
``F_trial = (I + dt C) F = U diag(sigma) V^T`` and returns the projected singular values
(plastic return mapping; the identity for elastic bodies) and the principal Kirchhoff stresses
``tau = U diag(s) U^T``:

- ``"jelly"``: fixed-corotated hyperelasticity (Stomakhin et al. 2012),
  ``tau = 2 mu (F - R) F^T + lambda (J - 1) J I``  ->  ``s_i = 2 mu (sigma_i - 1) sigma_i +
  lambda (J - 1) J``.
- ``"water"``: weakly compressible Newtonian fluid (Tait equation of state,
  Becker & Teschner 2007): ``p = K (J^-gamma - 1) / gamma``, ``tau = -J p I + J mu_v (C + C^T)``;
  only ``J = det F`` is kept (``F = J^(1/d) I``).
- ``"sand"``: Drucker-Prager plasticity on Hencky strain ``eps = ln sigma`` with the return
  mapping of Klar et al. (2016): ``tau = U (2 mu eps + lambda tr(eps) I) U^T``.
- ``"plasticine"``: von Mises plasticity on Hencky strain (radial return on the deviatoric
  strain, yield when ``2 mu ||dev eps|| > sqrt(2/3) sigma_Y``).

Units are SI (Pa, kg/m^3, m, s). The defaults are physical where an explicit simulation can
afford them (sand after Klar et al. 2016, a soft gelatin for jelly, an oil-based modelling
clay for plasticine) and, for water, the usual weakly compressible choice: the real density
and viscosity with a bulk modulus lowered so that the speed of sound (about 14 m/s) stays
about ten times the flow speed of a metre-sized scene (density error about 1 %).

References:
    Stomakhin, Howes, Schroeder, Teran (2012), "Energetically consistent invertible elasticity",
    SCA.  Klar, Gast, Pradhana, Fu, Schroeder, Jiang, Teran (2016), "Drucker-Prager elastoplasticity
    for sand animation", ACM TOG 35(4).  Becker & Teschner (2007), "Weakly compressible SPH for
    free surface flows", SCA.  Hu, Fang, Ge, Qu, Zhu, Pradhana, Jiang (2018), "A moving least
    squares material point method with displacement discontinuity and two-way rigid body
    coupling", ACM TOG 37(4).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import jax.numpy as jnp

from ..._validate import check_positive_float

__all__ = ["Material", "MATERIAL_NAMES", "material", "jelly", "water", "sand", "plasticine"]

MATERIAL_NAMES = ("jelly", "water", "sand", "plasticine")
KIND_ID = {name: k for k, name in enumerate(MATERIAL_NAMES)}


@dataclass(frozen=True)
class Material:
    """Parameters of one material (immutable, hashable).

    Args:
        name: one of ``"jelly"``, ``"water"``, ``"sand"``, ``"plasticine"``.
        density: rest density rho (kg/m^3).
        youngs_modulus: Young's modulus E (Pa); unused for water.
        poisson_ratio: Poisson's ratio nu in (-1, 0.5); unused for water.
        bulk_modulus: water only, K (Pa) of the Tait equation of state.
        tait_gamma: water only, exponent gamma of the Tait equation.
        viscosity: water only, dynamic viscosity mu_v (Pa s).
        friction_angle: sand only, internal friction angle phi (degrees).
        yield_stress: plasticine only, von Mises yield stress sigma_Y (Pa).
    """

    name: str
    density: float
    youngs_modulus: float = 0.0
    poisson_ratio: float = 0.0
    bulk_modulus: float = 0.0
    tait_gamma: float = 7.0
    viscosity: float = 0.0
    friction_angle: float = 0.0
    yield_stress: float = 0.0

    def __post_init__(self):
        if self.name not in MATERIAL_NAMES:
            raise ValueError(f"material name must be one of {MATERIAL_NAMES}, got {self.name!r}")
        check_positive_float(self.density, "density")
        if self.name == "water":
            check_positive_float(self.bulk_modulus, "bulk_modulus")
            check_positive_float(self.tait_gamma, "tait_gamma")
            check_positive_float(self.viscosity, "viscosity", allow_zero=True)
        else:
            check_positive_float(self.youngs_modulus, "youngs_modulus")
            nu = float(self.poisson_ratio)
            if not -1.0 < nu < 0.5:
                raise ValueError(f"poisson_ratio must lie in (-1, 0.5), got {nu}")
        if self.name == "sand" and not 0.0 < float(self.friction_angle) < 90.0:
            raise ValueError(f"friction_angle must lie in (0, 90) degrees, got "
                             f"{self.friction_angle}")
        if self.name == "plasticine":
            check_positive_float(self.yield_stress, "yield_stress")

    # -- derived quantities -------------------------------------------------------------
    @property
    def kind(self) -> int:
        """Integer id of the constitutive model (index in ``MATERIAL_NAMES``)."""
        return KIND_ID[self.name]

    @property
    def lame(self) -> tuple[float, float]:
        """Lame parameters ``(mu, lambda)`` in Pa; ``(0, K)`` for water."""
        if self.name == "water":
            return 0.0, float(self.bulk_modulus)
        e, nu = float(self.youngs_modulus), float(self.poisson_ratio)
        return e / (2 * (1 + nu)), e * nu / ((1 + nu) * (1 - 2 * nu))

    @property
    def wave_speed(self) -> float:
        """Fastest (P-wave / sound) speed ``sqrt((lambda + 2 mu) / rho)`` in m/s."""
        if self.name == "water":
            return math.sqrt(self.bulk_modulus / self.density)
        mu, lam = self.lame
        return math.sqrt((lam + 2 * mu) / self.density)

    def drucker_prager_alpha(self, dim: int = 3) -> float:
        """Cone coefficient ``alpha`` of the Drucker-Prager yield condition.

        3D: ``alpha = sqrt(2/3) 2 sin(phi) / (3 - sin(phi))`` (Klar et al. 2016, the cone
        through the Mohr-Coulomb compression corners). 2D (plane strain): ``alpha =
        sin(phi) / sqrt(2)``, for which the cone equals the Mohr-Coulomb criterion
        ``(tau_1 - tau_2) / 2 <= sin(phi) (-(tau_1 + tau_2) / 2)`` exactly.
        """
        s = math.sin(math.radians(self.friction_angle))
        if dim == 2:
            return s / math.sqrt(2.0)
        return math.sqrt(2.0 / 3.0) * 2 * s / (3 - s)

    def to_dict(self) -> dict:
        """JSON-serialisable parameters (stored in Trajectory metadata)."""
        return dataclasses.asdict(self)

    def replace(self, **overrides) -> Material:
        """A copy with some parameters changed (validated again)."""
        return dataclasses.replace(self, **overrides)


def jelly(*, density: float = 1000.0, youngs_modulus: float = 5.0e4,
          poisson_ratio: float = 0.3) -> Material:
    """Fixed-corotated elastic solid; defaults are a soft gelatin (E = 50 kPa, nu = 0.3)."""
    return Material("jelly", density, youngs_modulus, poisson_ratio)


def water(*, density: float = 1000.0, bulk_modulus: float = 2.0e5, tait_gamma: float = 7.0,
          viscosity: float = 1.0e-3) -> Material:
    """Weakly compressible water: real density and viscosity, sound speed sqrt(K/rho) = 14 m/s."""
    return Material("water", density, bulk_modulus=bulk_modulus, tait_gamma=tait_gamma,
                    viscosity=viscosity)


def sand(*, density: float = 2200.0, youngs_modulus: float = 3.537e5,
         poisson_ratio: float = 0.3, friction_angle: float = 35.0) -> Material:
    """Drucker-Prager sand; E, nu, rho after Klar et al. (2016), friction angle 35 degrees."""
    return Material("sand", density, youngs_modulus, poisson_ratio,
                    friction_angle=friction_angle)


def plasticine(*, density: float = 1500.0, youngs_modulus: float = 2.0e5,
               poisson_ratio: float = 0.3, yield_stress: float = 3.0e3) -> Material:
    """Von Mises elastoplastic clay (E = 200 kPa, nu = 0.3, yield stress 3 kPa)."""
    return Material("plasticine", density, youngs_modulus, poisson_ratio,
                    yield_stress=yield_stress)


_FACTORIES = {"jelly": jelly, "water": water, "sand": sand, "plasticine": plasticine}


def material(name: str | Material, **overrides) -> Material:
    """The material ``name`` with default parameters, some overridden by keyword.

    Raises:
        ValueError: unknown material name, or an override that the model does not have.
    """
    if isinstance(name, Material):
        return name.replace(**overrides) if overrides else name
    if not isinstance(name, str):
        raise TypeError(f"material must be a name or a Material, got {type(name).__name__}")
    if name not in _FACTORIES:
        raise ValueError(f"material must be one of {MATERIAL_NAMES}, got {name!r}")
    try:
        return _FACTORIES[name](**overrides)
    except TypeError as err:
        raise ValueError(f"material {name!r}: {err}") from None


# ------------------------------------------------------------------------------------------
# Constitutive updates on principal values (jit-able, batched over particles)
# ------------------------------------------------------------------------------------------
def _hencky_stress(sig, mu, lam):
    """Principal Kirchhoff stress ``2 mu eps + lambda tr(eps)`` of the Hencky model."""
    eps = jnp.log(sig)
    return 2 * mu[:, None] * eps + lam[:, None] * jnp.sum(eps, axis=1, keepdims=True)


def jelly_update(sig, mu, lam):
    """Fixed-corotated: no plasticity; principal Kirchhoff stresses ``(sigma', s)``."""
    j = jnp.prod(sig, axis=1, keepdims=True)
    s = 2 * mu[:, None] * (sig - 1) * sig + lam[:, None] * (j - 1) * j
    return sig, s


def sand_update(sig, mu, lam, alpha):
    """Drucker-Prager return mapping (Klar et al. 2016, Alg. 2) on principal stretches.

    With ``eps = ln sigma`` and ``dev eps = eps - tr(eps)/d``: if ``tr(eps) > 0`` (tension)
    project to the cone tip ``sigma = 1``; else
    ``dgamma = ||dev eps|| + (d lambda + 2 mu) / (2 mu) tr(eps) alpha`` and, when positive,
    ``eps <- eps - dgamma dev eps / ||dev eps||``.
    """
    d = sig.shape[1]
    tiny = jnp.asarray(1e-12, sig.dtype)
    eps = jnp.log(jnp.maximum(sig, tiny))
    tr = jnp.sum(eps, axis=1, keepdims=True)
    dev = eps - tr / d
    ndev = jnp.sqrt(jnp.sum(dev * dev, axis=1, keepdims=True))
    dgamma = ndev + (d * lam[:, None] + 2 * mu[:, None]) / (2 * mu[:, None]) * tr * alpha[:, None]
    safe = jnp.maximum(ndev, tiny)
    eps_cone = eps - dgamma * dev / safe
    eps_new = jnp.where(tr > 0, jnp.zeros_like(eps), jnp.where(dgamma > 0, eps_cone, eps))
    # A purely hydrostatic compressed state (ndev = 0) is inside the cone: keep it.
    eps_new = jnp.where((tr <= 0) & (ndev <= tiny), eps, eps_new)
    sig_new = jnp.exp(eps_new)
    return sig_new, _hencky_stress(sig_new, mu, lam)


def plasticine_update(sig, mu, lam, yield_stress):
    """Von Mises radial return on Hencky strain: ``||dev eps|| <= sqrt(2/3) sigma_Y / (2 mu)``."""
    d = sig.shape[1]
    tiny = jnp.asarray(1e-12, sig.dtype)
    eps = jnp.log(jnp.maximum(sig, tiny))
    tr = jnp.sum(eps, axis=1, keepdims=True)
    dev = eps - tr / d
    ndev = jnp.sqrt(jnp.sum(dev * dev, axis=1, keepdims=True))
    radius = jnp.sqrt(jnp.asarray(2.0 / 3.0, sig.dtype)) * yield_stress[:, None] / (2 * mu[:, None])
    scale = jnp.where(ndev > radius, radius / jnp.maximum(ndev, tiny), jnp.ones_like(ndev))
    eps_new = tr / d + dev * scale
    sig_new = jnp.exp(eps_new)
    return sig_new, _hencky_stress(sig_new, mu, lam)


def water_pressure(j, bulk, gamma):
    """Tait pressure ``p = K (J^-gamma - 1) / gamma`` (Pa) for volume ratio ``J``."""
    return bulk * (jnp.power(j, -gamma) - 1) / gamma
