"""From a sparse set of particles to any point cloud: a learned kernel integral, a grid
splat/gather variant and Shepard's inverse-distance baseline.

All three work in the *reference configuration* (the positions at frame 0): a query point
``x`` and a sparse particle ``y`` are neighbours when ``|x_0 - y_0| <= r``. The neighbourhoods
are computed once with a k-d tree (fixed number of slots ``K`` per query, padded), so the
evaluation itself is a jit-compiled gather with static shapes. What is reconstructed is the
displacement ``u = x_t - x_0``; the returned positions are ``x_0 + u``.
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from scipy.spatial import cKDTree

from .._validate import as_array, check_finite, check_positive_float, check_positive_int
from ..data import Box
from ._layers import MLP

__all__ = ["Neighbourhood", "SparseToDensePlan", "SparseToDense", "shepard_interpolate",
           "grid_splat_gather", "window"]


def window(s2):
    """Smooth compactly supported weight ``w = (1 - s^2)^2`` for ``s^2 < 1`` (else 0)."""
    return jnp.where(s2 < 1.0, (1.0 - s2) ** 2, 0.0)


class Neighbourhood(eqx.Module):
    """Fixed-slot neighbour lists from queries to sources (padding index ``n_sources``).

    Attributes:
        index: (M, K) int32 source index per slot.
        offset: (M, K, d) ``(x_0 - y_0) / radius`` (zero in padding slots).
        distance: (M, K) ``|x_0 - y_0|`` (``inf`` in padding slots).
        n_sources: number of sources (static).
    """

    index: Any
    offset: Any
    distance: Any
    n_sources: int = eqx.field(static=True)

    @property
    def mask(self):
        return self.index < self.n_sources


def _neighbourhood(sources: np.ndarray, queries: np.ndarray, radius: float, k: int,
                   exclude_self: bool, what: str) -> Neighbourhood:
    n = sources.shape[0]
    kk = min(k + (1 if exclude_self else 0), n)
    dist, idx = cKDTree(sources).query(queries, k=kk, distance_upper_bound=radius)
    dist = np.asarray(dist).reshape(len(queries), kk)
    idx = np.asarray(idx).reshape(len(queries), kk)
    if exclude_self:
        own = idx == np.arange(len(queries))[:, None]
        dist = np.where(own, np.inf, dist)
        idx = np.where(own, n, idx)
        order = np.argsort(dist, axis=1, kind="stable")
        dist = np.take_along_axis(dist, order, 1)[:, :k]
        idx = np.take_along_axis(idx, order, 1)[:, :k]
    if kk < k:
        dist = np.pad(dist, ((0, 0), (0, k - kk)), constant_values=np.inf)
        idx = np.pad(idx, ((0, 0), (0, k - kk)), constant_values=n)
    valid = idx < n
    empty = ~valid.any(axis=1)
    if not exclude_self and empty.any():
        raise ValueError(f"radius={radius} yields no edges for {int(empty.sum())} of the "
                         f"{len(queries)} {what} (first: {int(np.argmax(empty))}); use a larger "
                         "radius")
    safe = np.where(valid, idx, 0)
    off = np.where(valid[..., None], (queries[:, None, :] - sources[safe]) / radius, 0.0)
    return Neighbourhood(index=np.where(valid, idx, n).astype(np.int32), offset=off,
                         distance=np.where(valid, dist, np.inf), n_sources=n)


def _shape_features(cloud: np.ndarray, points: np.ndarray, radius: float,
                    scales: tuple, max_points: int) -> np.ndarray:
    """Where ``points`` sit in the body ``cloud`` (reference configuration): for every scale
    ``c``, the mean offset ``(q - p) / (c r)`` to the cloud points ``q`` within ``c r`` of
    ``p`` (zero deep inside the body, pointing inwards near its boundary; 4 / (3 pi) = 0.42
    on a straight edge). Larger clouds are replaced by a fixed-seed random subset of
    ``max_points`` points, so the cost is at most ``len(points) * max_points`` distances
    (computed in blocks) and the features do not depend on how densely the body is sampled.

    Returns:
        (len(points), len(scales) * d) array.
    """
    if cloud.shape[0] > max_points:
        keep = np.random.default_rng(0).choice(cloud.shape[0], max_points, replace=False)
        cloud = cloud[np.sort(keep)]
    rho = np.asarray(scales, np.float64) * radius                        # (S,)
    out = np.zeros((points.shape[0], len(scales), points.shape[1]))
    block = max(1, 2**22 // cloud.shape[0])
    for a in range(0, points.shape[0], block):
        off = cloud[None, :, :] - points[a:a + block, None, :]          # (B, Q, d)
        inside = (np.sum(off ** 2, axis=-1)[:, :, None]
                  <= rho[None, None, :] ** 2).astype(np.float64)       # (B, Q, S)
        count = np.maximum(inside.sum(axis=1), 1.0)                    # (B, S)
        out[a:a + block] = (np.einsum("bqs,bqd->bsd", inside, off)
                            / count[..., None] / rho[None, :, None])
    return out.reshape(points.shape[0], -1)


def _check_scales(shape_scales) -> tuple:
    if isinstance(shape_scales, (str, bytes)) or not hasattr(shape_scales, "__iter__"):
        raise TypeError(f"shape_scales must be a tuple of numbers, got {shape_scales!r}")
    return tuple(check_positive_float(c, "shape_scales") for c in shape_scales)


class SparseToDensePlan(eqx.Module):
    """Precomputed neighbourhoods for one sparse set and one query cloud.

    Build with :meth:`SparseToDense.plan` (or :meth:`SparseToDensePlan.build`).

    Attributes:
        reference_sparse: (n, d) reference positions of the sparse particles.
        reference_query: (M, d) reference positions of the query points.
        query: Neighbourhood from the queries to the sparse particles.
        local: Neighbourhood among the sparse particles (self excluded).
        radius: neighbourhood radius (static).
        shape_query: (M, len(shape_scales) * d) shape features of the query points (see
            ``shape_scales`` of :meth:`build`), or None.
        shape_sparse: (n, len(shape_scales) * d) the same for the sparse particles, or None.
        shape_scales: the scales of the shape features, in units of ``radius`` (static).
    """

    reference_sparse: Any
    reference_query: Any
    query: Neighbourhood
    local: Neighbourhood
    radius: float = eqx.field(static=True)
    shape_query: Any = None
    shape_sparse: Any = None
    shape_scales: tuple = eqx.field(static=True, default=())

    @classmethod
    def build(cls, reference_sparse: Any, reference_query: Any, radius: float, *,
              max_neighbours: int = 16, shape_scales: tuple = (),
              max_shape_points: int = 1024) -> SparseToDensePlan:
        """Neighbourhoods within ``radius`` (at most ``max_neighbours`` nearest per point).

        With ``shape_scales`` (multiples of ``radius``) it also computes where every query
        point and sparse particle sits in the body that the query cloud samples (reference
        configuration): per scale ``c``, the mean offset to the query points within
        ``c * radius``, divided by ``c * radius`` (zero deep inside, about 0.42 pointing
        inwards on a straight edge). The query cloud must then sample the whole body
        (e.g. all particles); at most ``max_shape_points`` of its points (a fixed-seed random
        subset) are used.

        Raises:
            ValueError: for bad shapes, or when some query point has no sparse particle within
                ``radius`` (the radius yields no edges there).
        """
        ys = np.asarray(as_array(reference_sparse, "reference_sparse", ndim=2), np.float64)
        xq = np.asarray(as_array(reference_query, "reference_query", ndim=2), np.float64)
        if ys.shape[1] != xq.shape[1]:
            raise ValueError(f"reference_sparse has dim {ys.shape[1]} but reference_query has "
                             f"dim {xq.shape[1]}")
        check_finite(ys, "reference_sparse")
        check_finite(xq, "reference_query")
        radius = check_positive_float(radius, "radius")
        k = check_positive_int(max_neighbours, "max_neighbours")
        scales = _check_scales(shape_scales)
        mp = check_positive_int(max_shape_points, "max_shape_points")
        q = _neighbourhood(ys, xq, radius, k, False, "query points")
        loc = _neighbourhood(ys, ys, radius, k, True, "sparse particles")
        sq = ss = None
        if scales:
            both = _shape_features(xq, np.concatenate([xq, ys]), radius, scales, mp)
            sq, ss = both[:len(xq)], both[len(xq):]
        return cls(reference_sparse=ys, reference_query=xq, query=q, local=loc, radius=radius,
                   shape_query=sq, shape_sparse=ss, shape_scales=scales)

    def select_queries(self, rows) -> SparseToDensePlan:
        """The plan restricted to the query points ``rows`` (an index array; jit-safe):
        every per-query field is taken at ``rows``, the sparse side is unchanged."""
        qn = self.query
        plan = eqx.tree_at(
            lambda pl: (pl.reference_query, pl.query), self,
            (self.reference_query[rows],
             Neighbourhood(index=qn.index[rows], offset=qn.offset[rows],
                           distance=qn.distance[rows], n_sources=qn.n_sources)))
        if self.shape_query is not None:
            plan = eqx.tree_at(lambda pl: pl.shape_query, plan, self.shape_query[rows])
        return plan

    def to_device(self, dtype=jnp.float32) -> SparseToDensePlan:
        """The plan as JAX arrays on the default device, floating fields in ``dtype`` (the
        operator's dtype). Worth it when the plan is applied many times (a rollout, a
        benchmark): a plan of NumPy arrays is converted and copied to the device on every
        call of a jitted function (about 45 MB for 10^5 queries with 16 neighbours)."""
        dt = jnp.dtype(dtype)
        if not jnp.issubdtype(dt, jnp.floating):
            raise TypeError(f"dtype must be a floating dtype, got {dt.name}")
        # every leaf is an array (NumPy or JAX): its dtype is read without a host copy
        return jax.tree_util.tree_map(
            lambda a: jnp.asarray(a, dt) if jnp.issubdtype(a.dtype, jnp.floating)
            else jnp.asarray(a), self)

    @property
    def n_sparse(self) -> int:
        return int(self.reference_sparse.shape[0])

    def displacement(self, sparse_positions):
        """``u(y) = y_t - y_0`` of the sparse particles, checking the particle count."""
        y = jnp.asarray(sparse_positions)
        if y.ndim != 2 or y.shape[0] != self.n_sparse:
            raise ValueError(f"sparse_positions must have shape ({self.n_sparse}, d) to match "
                             f"the plan's sparse set, got {tuple(y.shape)} (mismatched particle "
                             "counts)")
        return y - jnp.asarray(self.reference_sparse, y.dtype)


def shepard_interpolate(sparse_positions, plan: SparseToDensePlan, *, power: float = 2.0):
    """Shepard's inverse-distance interpolation of the displacement (baseline).

    ``u(x) = sum_k |x_0 - y_k|^{-p} u(y_k) / sum_k |x_0 - y_k|^{-p}`` over the plan's neighbours
    (a query that coincides with a sparse particle takes its value).

    Returns:
        (M, d) positions ``x_0 + u(x)`` of the query points.

    References:
        D. Shepard, "A two-dimensional interpolation function for irregularly-spaced data",
        ACM national conference 1968.
    """
    u = plan.displacement(sparse_positions)
    nb = plan.query
    dist = jnp.asarray(nb.distance, u.dtype)
    exact = dist <= 0.0
    w = jnp.where(nb.mask, 1.0 / jnp.maximum(dist, jnp.asarray(1e-300, u.dtype)) ** power, 0.0)
    w = jnp.where(jnp.any(exact, axis=1, keepdims=True), exact.astype(u.dtype), w)
    vals = jnp.take(u, nb.index, axis=0, mode="fill", fill_value=0)
    out = jnp.sum(w[..., None] * vals, axis=1) / jnp.sum(w, axis=1, keepdims=True)
    return jnp.asarray(plan.reference_query, u.dtype) + out


def grid_splat_gather(sparse_positions, reference_sparse, reference_query, box: Box,
                      grid_shape: int | tuple, *, kernel_radius: float = 1.5):
    """Splat/gather variant: splat the sparse displacements onto a regular grid, gather them
    at the query points by multilinear interpolation (all in the reference configuration).

    ``g(z) = sum_y w(|z - y_0| / r_k) u(y) / sum_y w`` on the cell-centred nodes ``z`` of
    ``grid_shape`` cells over ``box`` (``r_k = kernel_radius * h``); empty nodes are left out of
    the multilinear weights at the query points (which are renormalised).

    Returns:
        (M, d) query positions ``x_0 + u(x)``.
    """
    y0 = jnp.asarray(reference_sparse)
    u = jnp.asarray(sparse_positions) - y0
    xq = jnp.asarray(reference_query, u.dtype)
    d = y0.shape[1]
    gs = (grid_shape,) * d if isinstance(grid_shape, (int, np.integer)) else tuple(grid_shape)
    lo = jnp.asarray(box.lower, u.dtype)
    h = jnp.asarray(box.lengths / np.asarray(gs), u.dtype)
    s = int(np.ceil(kernel_radius))
    off = np.array(np.meshgrid(*([np.arange(-s, s + 1)] * d), indexing="ij")).reshape(d, -1).T
    shape = jnp.asarray(gs, jnp.int32)
    strides = jnp.asarray(np.cumprod((1,) + gs[::-1][:-1])[::-1].astype(np.int32))
    n_nodes = int(np.prod(gs))
    base = jnp.round((y0 - lo) / h - 0.5).astype(jnp.int32)
    node = base[:, None, :] + jnp.asarray(off, jnp.int32)[None]
    inside = jnp.all((node >= 0) & (node < shape), axis=-1)
    z = lo + (node.astype(u.dtype) + 0.5) * h
    s2 = jnp.sum(((y0[:, None, :] - z) / (kernel_radius * h)) ** 2, axis=-1)
    w = jnp.where(inside, window(s2), 0.0).astype(u.dtype)
    flat = jnp.where(inside, node @ strides, n_nodes).reshape(-1)
    num = jax.ops.segment_sum((w[..., None] * u[:, None, :]).reshape(-1, d), flat,
                              num_segments=n_nodes)
    den = jax.ops.segment_sum(w.reshape(-1), flat, num_segments=n_nodes)
    filled = den > 0
    g = jnp.where(filled[:, None], num / jnp.where(filled, den, 1.0)[:, None], 0.0)
    # multilinear gather over the 2^d surrounding nodes
    t = (xq - lo) / h - 0.5
    i0 = jnp.floor(t).astype(jnp.int32)
    frac = t - i0.astype(u.dtype)
    corners = np.array(np.meshgrid(*([[0, 1]] * d), indexing="ij")).reshape(d, -1).T
    acc = jnp.zeros_like(xq)
    wsum = jnp.zeros(xq.shape[0], u.dtype)
    for c in corners:
        idx = i0 + jnp.asarray(c, jnp.int32)
        ok = jnp.all((idx >= 0) & (idx < shape), axis=-1)
        fl = jnp.where(ok, jnp.clip(idx, 0, shape - 1) @ strides, 0)
        wc = jnp.prod(jnp.where(jnp.asarray(c) == 1, frac, 1.0 - frac), axis=-1)
        wc = jnp.where(ok & filled[fl], wc, 0.0)
        acc = acc + wc[:, None] * g[fl]
        wsum = wsum + wc
    return xq + acc / jnp.maximum(wsum, jnp.asarray(1e-12, u.dtype))[:, None]


class SparseToDense(eqx.Module):
    """Learned kernel integral from sparse particles to arbitrary query points.

    For a query point ``x`` with reference position ``x_0`` and the sparse particles ``y``
    with ``|x_0 - y_0| <= r`` (offset ``o = (x_0 - y_0)/r``), each neighbour proposes its
    first-order Taylor value ``t_y = u(y) + G(y)^T o`` and a learned correction, and the
    proposals are blended with learned weights:

        u(x) = sum_y w_xy e^{a_xy} [t_y + s c_xy] / sum_y w_xy e^{a_xy},
        (c_xy, a_xy) = k(o, G(y)^T o / s, (t_y - b(x))/s, h(y), g(x)),

    with the modified-Shepard weights ``w_xy = ((r - d) / d)^2`` (``d = |x_0 - y_0| < r``)
    of Franke & Nielson, their blend ``b(x) = sum_y w_xy t_y / sum_y w_xy`` (the untrained
    reconstruction), ``G(y)`` the weighted least-squares gradient of ``u`` with respect to
    ``y_0 / r`` over the sparse neighbours of ``y``, ``h(y)`` a learned local descriptor of
    the sparse field (a kernel integral
    ``h(y) = sum_y' w k_1((y'_0 - y_0)/r, (u(y') - u(y))/s) / (1 + sum w)``, refined by
    ``message_passing`` residual rounds ``h(y) += sum_y' w m((y'_0 - y_0)/r,
    (u(y') - u(y))/s, h(y'), h(y)) / (1 + sum w)`` on the sparse graph) and
    ``g(x) = sum_y w_xy k_0(o, G(y)^T o / s, (t_y - b(x))/s, h(y)) / sum_y w_xy`` a learned
    descriptor of the query's whole neighbourhood (which sees, for example, that ``x`` lies
    beyond the edge of the sparse set, or that the neighbours' proposals disagree across a
    shear band). With ``fit_features`` the kernels also see each neighbour's whole fitted
    gradient ``G(y)`` and the weighted rms residual ``rho(y)`` of its local fit (large where
    the sparse field is not locally affine: splits, shear bands). The kernel ``k`` depends on
    the query point through ``o`` and ``g(x)``.
    Its last layer starts at zero, so the initial operator (``c = a = 0``) is Franke-Nielson's
    modified Shepard interpolation with linear nodal functions, exact for affine displacement
    fields; training learns corrections to that moving-least-squares-like base. Every input of
    ``k`` is a difference of displacements, so a rigid translation is reproduced exactly.
    With ``gate > 0`` the correction is multiplied by ``d^2 / (d^2 + gate^2)``,
    ``d^2 = |t_y - b(x)|^2 / s^2 + |C(y)|^2 + rho(y)^2`` (``C``: all fitted Taylor
    coefficients, i.e. ``G`` and, for ``order=2``, the quadratic ones): it vanishes where the sparse
    neighbourhood does not deform, so a rigid translation gives exactly ``x_0 + c`` (no
    learned bias that depends on the offsets alone, which was visible as a constant error
    while a block falls freely).

    Args:
        dim: spatial dimension.
        radius: neighbourhood radius in the reference configuration.
        displacement_scale: the scale ``s`` of displacements (e.g. their std in the data).
        width: width of the kernel MLPs. depth: their number of hidden layers.
        local_channels: size of ``h``. context_channels: size of ``g`` (0: no ``g``).
        order: 1 for the first-order Taylor proposals above; 2 adds the quadratic term of a
            local quadratic least-squares fit (``t_y = u(y) + G^T o + o^T H o / 2``; exact
            for quadratic fields when untrained) and gives that term to ``k`` as an input.
        fit_features: give the kernels ``G(y)`` and ``rho(y)`` (default True).
        message_passing: rounds of message passing that refine ``h`` (default 1; 0: none).
        gate: scale of the deformation gate of the correction in units of ``s`` (default
            0.05; 0 switches the gate off).
        shape_scales: scales (multiples of ``radius``) of shape features given to the
            kernels: where the query point and each neighbour sit in the body sampled by the
            query cloud (see :meth:`SparseToDensePlan.build`), e.g. ``(0.25, 0.5, 1.0)``,
            meant to tell a point on the bottom row of a block from one a row above it,
            whose motion can differ a lot where the body slides on a wall (on the sand
            reconstruction of ``docs/log/giorom.md`` they did not lower the error). Default
            ``()`` (none).
            The plan must be built with the same scales (:meth:`plan` does that), from a
            query cloud that samples the whole body.
        key: PRNG key. dtype: parameter dtype (float32 default).

    References:
        Viswanath et al., arXiv:2407.03925 (the GIOROM discretisation-invariant decoder);
        Z. Li et al., "Neural operator: graph kernel network", arXiv:2003.03485;
        R. Franke, G. Nielson, "Smooth interpolation of large sets of scattered data",
        Int. J. Numer. Methods Eng. 15 (1980).
    """

    local_kernel: MLP
    context_kernel: Any
    kernel: MLP
    scale: Any
    dim: int = eqx.field(static=True)
    radius: float = eqx.field(static=True)
    dtype: str = eqx.field(static=True)
    width: int = eqx.field(static=True)
    depth: int = eqx.field(static=True)
    local_channels: int = eqx.field(static=True)
    context_channels: int = eqx.field(static=True)
    order: int = eqx.field(static=True)
    fit_features: bool = eqx.field(static=True)
    message_passing: int = eqx.field(static=True)
    gate: float = eqx.field(static=True)
    mp_kernels: Any = None
    shape_scales: tuple = eqx.field(static=True, default=())

    def __init__(self, dim: int, radius: float, *, displacement_scale: float = 1.0,
                 width: int = 64, depth: int = 2, local_channels: int = 16,
                 context_channels: int = 16, order: int = 1, fit_features: bool = True,
                 message_passing: int = 1, gate: float = 0.05, shape_scales: tuple = (),
                 key, dtype=jnp.float32):
        self.dim = check_positive_int(dim, "dim")
        self.radius = check_positive_float(radius, "radius")
        s = check_positive_float(displacement_scale, "displacement_scale")
        self.width = check_positive_int(width, "width")
        self.depth = check_positive_int(depth, "depth")
        self.local_channels = check_positive_int(local_channels, "local_channels")
        if isinstance(context_channels, bool) or not isinstance(context_channels,
                                                                (int, np.integer)):
            raise TypeError(f"context_channels must be an int, got {context_channels!r}")
        if context_channels < 0:
            raise ValueError(f"context_channels must be >= 0, got {context_channels}")
        self.context_channels = int(context_channels)
        if order not in (1, 2) or isinstance(order, bool):
            raise ValueError(f"order must be 1 (linear) or 2 (quadratic), got {order!r}")
        self.order = int(order)
        self.dtype = jnp.dtype(dtype).name
        self.fit_features = bool(fit_features)
        self.message_passing = check_positive_int(message_passing, "message_passing",
                                                  minimum=0)
        self.gate = check_positive_float(gate, "gate", allow_zero=True)
        self.shape_scales = _check_scales(shape_scales)
        k0, k1, k2, k3 = jax.random.split(key, 4)
        self.local_kernel = MLP(2 * dim, local_channels, width, depth, layer_norm=False, key=k1,
                                dtype=dtype)
        self.mp_kernels = [
            MLP(2 * dim + 2 * local_channels, local_channels, width, depth, layer_norm=False,
                key=kk, dtype=dtype)
            for kk in jax.random.split(k3, self.message_passing)] if self.message_passing else None
        n_in = (3 if order == 1 else 4) * dim + local_channels
        if self.fit_features:
            n_in += dim * dim + 1
        n_in += 2 * dim * len(self.shape_scales)
        self.context_kernel = (MLP(n_in, self.context_channels, width, depth, layer_norm=False,
                                   key=k0, dtype=dtype) if self.context_channels else None)
        last = MLP(n_in + self.context_channels, dim + 1, width, depth, layer_norm=False,
                   key=k2, dtype=dtype)
        # start from modified Shepard with linear (quadratic) nodal functions: zero last layer
        self.kernel = eqx.tree_at(lambda m: (m.layers[-1].weight, m.layers[-1].bias), last,
                                  (jnp.zeros_like(last.layers[-1].weight),
                                   jnp.zeros_like(last.layers[-1].bias)))
        self.scale = jnp.asarray(s, dtype)

    def hyperparameters(self) -> dict:
        return {"model": "SparseToDense", "dim": self.dim, "radius": self.radius,
                "displacement_scale": float(self.scale), "dtype": self.dtype,
                "width": self.width, "depth": self.depth,
                "local_channels": self.local_channels,
                "context_channels": self.context_channels, "order": self.order,
                "fit_features": self.fit_features, "message_passing": self.message_passing,
                "gate": self.gate, "version": 3,
                **({"shape_scales": list(self.shape_scales)} if self.shape_scales else {})}

    def plan(self, reference_sparse: Any, reference_query: Any, *,
             max_neighbours: int = 16) -> SparseToDensePlan:
        """Neighbourhoods for this operator's radius (see :meth:`SparseToDensePlan.build`)."""
        return SparseToDensePlan.build(reference_sparse, reference_query, self.radius,
                                       max_neighbours=max_neighbours,
                                       shape_scales=self.shape_scales)

    def _basis(self, o):
        """Local polynomial basis without the constant: ``o`` (order 1), and the monomials
        ``o_i o_j / 2`` (``i <= j``) appended for order 2."""
        if self.order == 1:
            return o
        ii, jj = np.triu_indices(self.dim)
        return jnp.concatenate([o, 0.5 * o[..., ii] * o[..., jj]], axis=-1)

    def _local_fit(self, un, plan: SparseToDensePlan):
        """Weighted least-squares Taylor coefficients ``C`` (n, p, d) of the normalised
        displacement around every sparse particle in the basis of :meth:`_basis` of the
        offset in units of ``r`` (the first ``d`` rows are the gradient), and the local
        descriptor ``h`` (n, C)."""
        loc = plan.local
        w_l = jnp.where(loc.mask, window(jnp.asarray(loc.distance / self.radius,
                                                     self.dtype) ** 2), 0.0)
        o_l = -jnp.asarray(loc.offset, self.dtype)                            # (n, K, d)
        du = jnp.take(un, loc.index, axis=0, mode="fill", fill_value=0) - un[:, None, :]
        du = jnp.where(loc.mask[..., None], du, 0.0)
        b = self._basis(o_l)                                                  # (n, K, p)
        eye = jnp.eye(b.shape[-1], dtype=self.dtype)
        a = jnp.einsum("nk,nki,nkj->nij", w_l, b, b)
        # Tikhonov term lam tr(A) keeps boundary points with few or collinear neighbours
        # solvable (the fit then falls back towards lower order); lam = 1e-6 suits float32
        # (a quadratic fit's Gram matrix can have a condition number near 1e6), 1e-12 float64
        lam = 1e-12 if self.dtype == "float64" else 1e-6
        a = a + (lam * jnp.trace(a, axis1=1, axis2=2) + 1e-12)[:, None, None] * eye
        coef = jnp.linalg.solve(a, jnp.einsum("nk,nki,nkj->nij", w_l, b, du))
        wsum = jnp.sum(w_l, axis=1)
        k1 = self.local_kernel.batched(jnp.concatenate([o_l, du], axis=-1))
        hloc = jnp.sum(w_l[..., None] * k1, axis=1) / (1.0 + wsum)[:, None]
        if self.mp_kernels is not None:
            n_k = loc.index.shape[1]
            for mlp in self.mp_kernels:
                hn = jnp.take(hloc, loc.index, axis=0, mode="fill", fill_value=0)
                m = mlp.batched(jnp.concatenate(
                    [o_l, du, hn, jnp.broadcast_to(hloc[:, None, :], hn.shape[:1] + (n_k,)
                                                   + hn.shape[2:])], axis=-1))
                hloc = hloc + jnp.sum(w_l[..., None] * m, axis=1) / (1.0 + wsum)[:, None]
        # weighted rms residual of the local fit (how far the neighbourhood is from the
        # polynomial: large across shear bands and splits)
        res = du - jnp.einsum("nki,nij->nkj", b, coef)
        ms = jnp.sum(w_l[..., None] * res ** 2, axis=(1, 2)) / jnp.maximum(wsum, 1e-12)
        return coef, hloc, ms

    def __call__(self, sparse_positions, plan: SparseToDensePlan):
        """Positions (M, d) of the query points given the sparse positions (n, d)."""
        if plan.radius != self.radius:
            raise ValueError(f"plan was built with radius {plan.radius}, the operator uses "
                             f"{self.radius}")
        if self.shape_scales and plan.shape_scales != self.shape_scales:
            raise ValueError(f"plan was built with shape_scales {plan.shape_scales}, the "
                             f"operator uses {self.shape_scales}; build it with op.plan(...)")
        u = plan.displacement(sparse_positions).astype(self.dtype)
        s = jax.lax.stop_gradient(self.scale)
        un = u / s
        coef, hloc, ms = self._local_fit(un, plan)
        # query integral with Franke-Nielson weights ((1 - s)_+ / s)^2, s = |x0 - y0| / r
        q = plan.query
        sq = jnp.asarray(q.distance / self.radius, self.dtype)
        w = jnp.where(q.mask & (sq < 1.0),
                      ((1.0 - jnp.minimum(sq, 1.0)) / jnp.maximum(sq, 1e-6)) ** 2, 0.0)
        off = jnp.asarray(q.offset, self.dtype)
        vals = jnp.take(un, q.index, axis=0, mode="fill", fill_value=0)
        cq = jnp.take(coef, q.index, axis=0, mode="fill", fill_value=0)     # (M, K, p, d)
        # per-pair products of 2-4 terms as broadcast-and-sum (as fast as an einsum on an H200
        # and, inside the operator, on the CPU: benchmarks/profile_sparse_to_dense.py)
        lin = jnp.sum(off[..., None] * cq[:, :, :self.dim], axis=-2)
        taylor = vals + lin
        parts = [off, lin]
        if self.order == 2:
            quad = jnp.sum(self._basis(off)[..., self.dim:, None] * cq[:, :, self.dim:],
                           axis=-2)
            taylor = taylor + quad
            parts.append(quad)
        den = jnp.maximum(jnp.sum(w, axis=1), jnp.asarray(1e-12, self.dtype))
        base = jnp.sum(w[..., None] * taylor, axis=1) / den[:, None]
        hq = jnp.take(hloc, q.index, axis=0, mode="fill", fill_value=0)
        msq = jnp.take(ms, q.index, axis=0, mode="fill", fill_value=0)   # (M, K) fit residual²
        if self.fit_features:
            gq = cq[:, :, :self.dim].reshape(cq.shape[:2] + (self.dim * self.dim,))
            parts += [gq, jnp.sqrt(msq + 1e-12)[..., None]]
        if self.shape_scales:
            shq = jnp.asarray(plan.shape_query, self.dtype)
            shs = jnp.take(jnp.asarray(plan.shape_sparse, self.dtype), q.index, axis=0,
                           mode="fill", fill_value=0)
            parts += [jnp.broadcast_to(shq[:, None, :], shs.shape), shs]
        feats = jnp.concatenate(parts + [taylor - base[:, None, :], hq], axis=-1)
        if self.context_kernel is not None:
            c = self.context_kernel.batched(feats)
            g = jnp.sum(w[..., None] * c, axis=1) / den[:, None]
            feats = jnp.concatenate(
                [feats, jnp.broadcast_to(g[:, None, :], feats.shape[:2] + g.shape[-1:])],
                axis=-1)
        k = self.kernel.batched(feats)
        corr = k[..., :self.dim]
        if self.gate > 0:
            # the correction vanishes where nothing deforms: d^2 = |t_y - b(x)|^2 + |C(y)|^2
            # (all fitted Taylor coefficients: G, and the quadratic ones for order 2) +
            # (fit residual of y)^2, gate d^2 / (d^2 + gate^2), so a rigidly translating
            # neighbourhood is reproduced exactly (no learned offset-only bias)
            d2 = (jnp.sum((taylor - base[:, None, :]) ** 2, axis=-1)
                  + jnp.sum(cq ** 2, axis=(-2, -1)) + msq)
            corr = corr * (d2 / (d2 + self.gate ** 2))[..., None]
        # learned blending weights e^a, a bounded to (-4, 4) so no neighbour is ever
        # switched off completely (the sum of weights stays positive)
        w2 = w * jnp.exp(4.0 * jnp.tanh(k[..., self.dim] / 4.0))
        den2 = jnp.maximum(jnp.sum(w2, axis=1), jnp.asarray(1e-12, self.dtype))
        out = jnp.sum(w2[..., None] * (taylor + corr), axis=1) / den2[:, None]
        return jnp.asarray(plan.reference_query, self.dtype) + s * out
