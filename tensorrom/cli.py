"""The ``tensorrom`` console script: ``info``, ``demo`` and the parts' commands."""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
import time
from pathlib import Path

__all__ = ["main"]


def _cmd_info(args: argparse.Namespace) -> int:
    import importlib.metadata as md

    print(f"tensorrom {md.version('tensorrom')}  (Python {platform.python_version()}, "
          f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs)")
    for pkg in ("numpy", "scipy", "jax", "jaxlib", "equinox", "optax", "diffrax", "tensorly",
                "numba", "matplotlib", "h5py", "tqdm", "fmm3dpy", "exponax"):
        try:
            v = md.version(pkg)
        except md.PackageNotFoundError:
            v = "not installed"
        print(f"  {pkg:<11} {v}")
    import jax

    print(f"JAX backend: {jax.default_backend()}; devices: "
          + ", ".join(str(d) for d in jax.devices()))
    import numba

    print(f"Numba threads: {numba.get_num_threads()} (threading layer: "
          f"{numba.config.THREADING_LAYER})")
    return 0


def _print_table(rows: list[tuple[str, str, str]]) -> None:
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    line = "-" * (w0 + w1 + 30)
    print(line)
    print(f"{'part':<{w0}}  {'quantity':<{w1}}  value")
    print(line)
    for part, q, v in rows:
        print(f"{part:<{w0}}  {q:<{w1}}  {v}")
    print(line)


def _cmd_demo(args: argparse.Namespace) -> int:
    from ._demos import SECTIONS

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    selected = [s for s in SECTIONS if not args.only or s.rsplit(".", 1)[-1] in args.only]
    rows: list[tuple[str, str, str]] = []
    t_all = time.perf_counter()
    for name in selected:
        mod = importlib.import_module(name)
        print(f"== {mod.TITLE}", flush=True)
        t0 = time.perf_counter()
        for q, v in mod.run(out, quick=args.quick):
            rows.append((mod.TITLE, q, v))
        rows.append((mod.TITLE, "wall time", f"{time.perf_counter() - t0:.1f} s"))
    print()
    print(f"tensorrom demo summary (figures in {out.resolve()}):")
    _print_table(rows)
    print(f"total {time.perf_counter() - t_all:.1f} s")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tensorrom",
        description="Tensor-format function approximation and reduced-order modelling.",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    pi = sub.add_parser("info", help="versions, JAX backend and devices, Numba threads")
    pi.set_defaults(func=_cmd_info)
    pd = sub.add_parser("demo", help="run the short demo of every finished part, write figures")
    pd.add_argument("--out", default="tensorrom-demo", help="output folder (default: %(default)s)")
    pd.add_argument("--quick", action="store_true", help="smallest sizes (for CI)")
    pd.add_argument("--only", nargs="*", default=None, metavar="PART",
                    help="run only these demo sections (e.g. data chebtucker)")
    pd.set_defaults(func=_cmd_demo)
    from . import _commands

    _commands.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except (ValueError, TypeError, FileNotFoundError) as err:
        print(f"tensorrom {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
