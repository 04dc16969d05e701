"""Where the time of one SparseToDense application to many points goes (GPU or CPU).

Times, at the sizes of ``bench_giorom.py`` (``--points`` queries, ``--sparse`` sparse
particles, at most 16 neighbours each, width 64), the whole operator and its pieces on
synthetic arrays of the same shapes: the small per-pair products written as an einsum and as
broadcast-and-sum, one gather of the neighbours' values, and one kernel MLP over all pairs.

    python benchmarks/profile_sparse_to_dense.py
"""

from __future__ import annotations

import argparse
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from tensorrom import lagrangian as lg
from tensorrom.lagrangian._layers import MLP


def timeit(fn, *args, repeat=5):
    jax.block_until_ready(fn(*args))
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        jax.block_until_ready(fn(*args))
        ts.append(time.perf_counter() - t)
    return 1e3 * float(np.median(ts))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--points", type=int, default=100_000)
    ap.add_argument("--sparse", type=int, default=1000)
    args = ap.parse_args()
    from bench_giorom import block

    dense, _ = block(args.points)
    sparse, h = block(args.sparse, seed=3)
    key = jax.random.PRNGKey(0)
    op = lg.SparseToDense(2, 3.0 * h, key=key)
    plan = op.plan(sparse, dense)
    y = jnp.asarray(sparse) + 1e-3
    M, K = plan.query.index.shape
    print(f"backend {jax.default_backend()} ({jax.devices()[0].device_kind}); {M} queries x "
          f"{K} neighbours, {args.sparse} sparse")
    print(f"  whole operator, NumPy plan     {timeit(eqx.filter_jit(op), y, plan):8.2f} ms")
    dplan = plan.to_device(op.dtype)
    print(f"  whole operator, device plan    {timeit(eqx.filter_jit(op), y, dplan):8.2f} ms")
    r = np.random.default_rng(0)
    off = jnp.asarray(r.normal(size=(M, K, 2)), jnp.float32)
    g = jnp.asarray(r.normal(size=(M, K, 2, 2)), jnp.float32)
    es = jax.jit(lambda a, b: jnp.einsum("mki,mkij->mkj", a, b))
    bs = jax.jit(lambda a, b: jnp.sum(a[..., None] * b, axis=-2))
    print(f"  (M,K,2)x(M,K,2,2) einsum       {timeit(es, off, g):8.2f} ms")
    print(f"  same, broadcast-and-sum        {timeit(bs, off, g):8.2f} ms")
    vals = jnp.asarray(r.normal(size=(args.sparse, 16)), jnp.float32)
    idx = jnp.asarray(plan.query.index)
    gat = jax.jit(lambda v, i: jnp.take(v, i, axis=0, mode="fill", fill_value=0))
    print(f"  gather (n,16) -> (M,K,16)      {timeit(gat, vals, idx):8.2f} ms")
    n_in = op.kernel.layers[0].weight.shape[1]
    feats = jnp.asarray(r.normal(size=(M, K, n_in)), jnp.float32)
    mlp = MLP(n_in, 3, 64, 2, layer_norm=False, key=key)
    t_mlp = timeit(eqx.filter_jit(MLP.batched), mlp, feats)
    print(f"  kernel MLP over (M,K,{n_in})       {t_mlp:8.2f} ms")
    with jax.default_matmul_precision("bfloat16"):
        print(f"  same, bfloat16 matmuls         "
              f"{timeit(eqx.filter_jit(MLP.batched), mlp, feats):8.2f} ms")


if __name__ == "__main__":
    main()
