"""Sub-commands contributed by the parts (``simulate``, ``potential``, ...).

Each part's command lives in ``tensorrom/_commands_<part>.py`` exposing
``register(subparsers)``; add its module name to ``MODULES``.
"""

from __future__ import annotations

import importlib

MODULES: list[str] = [
    "tensorrom._commands_mpm",
    "tensorrom._commands_potentials",
]


def register(subparsers) -> None:
    for name in MODULES:
        importlib.import_module(name).register(subparsers)
