"""Reduced-order models of time-dependent PDEs.

- :mod:`tensorrom.rom.solvers`: differentiable full-order residuals ``du/dt = R(u; mu)``;
- :mod:`tensorrom.rom.phirom`: Phi-ROM, physics-informed neural-field ROMs trained through
  the solver (Hosseini Dashtbayaz et al., NeurIPS 2025), with the DINo and PINN variants;
- :mod:`tensorrom.rom.pod`: the POD-Galerkin baseline on the same residual.
"""

from . import phirom as phirom
from . import pod as pod
from . import solvers as solvers

__all__ = ["solvers", "phirom", "pod"]
