"""Neural-field decoders ``D(x; z)`` and latent dynamics networks ``Psi(z, mu)``."""

from __future__ import annotations

import math
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp

from ..._validate import check_positive_float, check_positive_int

__all__ = ["SineDecoder", "FilterDecoder", "DynamicsMLP"]


def _uniform_linear(in_size, out_size, bound_w, bound_b, key, dtype, use_bias=True):
    kw, kb = jax.random.split(key)
    lin = eqx.nn.Linear(in_size, out_size, use_bias=use_bias, key=kw, dtype=dtype)
    w = jax.random.uniform(kw, (out_size, in_size), dtype, -bound_w, bound_w)
    lin = eqx.tree_at(lambda m: m.weight, lin, w)
    if use_bias:
        b = jax.random.uniform(kb, (out_size,), dtype, -bound_b, bound_b)
        lin = eqx.tree_at(lambda m: m.bias, lin, b)
    return lin


def _to_reference(x, lower, upper):
    lo = jnp.asarray(lower, x.dtype)
    hi = jnp.asarray(upper, x.dtype)
    return 2.0 * (x - lo) / (hi - lo) - 1.0


class SineDecoder(eqx.Module):
    """Conditional neural field with sine activations (SIREN), input ``[s(x), z]``.

    ``h_0 = [s(x), z]``, ``h_{l+1} = sin(omega_l (W_l h_l + b_l))``, ``D = W_L h_L + b_L``
    with ``s(x)`` the point mapped affinely onto ``[-1, 1]^d`` from the box,
    ``omega_0 = omega0`` (first layer) and ``omega_l = 1`` afterwards.

    Two initialisations: ``init="uniform"`` (default) draws every weight and bias uniformly
    in ``+-1/sqrt(n_in)`` (LeCun-uniform; with ``omega0 = 1`` a low-frequency sine network,
    the Phi-ROM paper's Burgers decoder); ``init="siren"`` uses SIREN's scheme (first-layer
    weights in ``+-1/n_in``, the others in ``+-sqrt(6/n_in)``, meant for ``omega0 = 30``).

    Args:
        in_size: spatial dimension ``d``.
        latent_size: latent size ``k``.
        out_size: channels ``C``.
        width: hidden width (default 32).
        depth: hidden layers (default 4).
        omega0: first-layer frequency (default 1; SIREN uses 30).
        init: ``"uniform"`` or ``"siren"`` (see above).
        box: ``(lower, upper)`` of the domain (tuples of d floats).
        key: PRNG key.
        dtype: parameter dtype (default float32).

    References:
        Sitzmann et al., "Implicit Neural Representations with Periodic Activation
        Functions", NeurIPS 2020; Hosseini Dashtbayaz et al., NeurIPS 2025.
    """

    layers: tuple
    lower: tuple = eqx.field(static=True)
    upper: tuple = eqx.field(static=True)
    omega0: float = eqx.field(static=True)

    def __init__(self, in_size: int, latent_size: int, out_size: int = 1, *, width: int = 32,
                 depth: int = 4, omega0: float = 1.0, init: str = "uniform", box: Any, key,
                 dtype=jnp.float32):
        in_size = check_positive_int(in_size, "in_size")
        latent_size = check_positive_int(latent_size, "latent_size")
        width = check_positive_int(width, "width")
        depth = check_positive_int(depth, "depth")
        self.omega0 = check_positive_float(omega0, "omega0")
        if init not in ("uniform", "siren"):
            raise ValueError(f"init must be 'uniform' or 'siren', got {init!r}")
        self.lower = tuple(float(v) for v in box[0])
        self.upper = tuple(float(v) for v in box[1])
        keys = jax.random.split(key, depth + 1)
        n0 = in_size + latent_size
        sizes = [(n0, width)] + [(width, width)] * (depth - 1) + [(width, out_size)]
        layers = []
        for i, (n_in, n_out) in enumerate(sizes):
            b = 1.0 / math.sqrt(n_in)
            if init == "siren":
                w = 1.0 / n_in if i == 0 else math.sqrt(6.0 / n_in)
            else:
                w = b
            layers.append(_uniform_linear(n_in, n_out, w, b, keys[i], dtype))
        self.layers = tuple(layers)

    def __call__(self, x, z):
        """Values (C,) at one point ``x`` (d,) for latent ``z`` (k,)."""
        return self.many(x[None], z)[0]

    def many(self, points, z):
        """Values (M, C) at ``points`` (M, d) for one latent ``z`` (k,).

        The first layer is split, ``W [s; z] = W_s s + W_z z``, so the latent part is
        computed once and every layer is one (M, width) matrix product.
        """
        s = _to_reference(points, self.lower, self.upper)
        d = s.shape[-1]
        first = self.layers[0]
        pre = s @ first.weight[:, :d].T + (first.weight[:, d:] @ z + first.bias)
        h = jnp.sin(jnp.asarray(self.omega0, pre.dtype) * pre)
        for lin in self.layers[1:-1]:
            h = jnp.sin(h @ lin.weight.T + lin.bias)
        last = self.layers[-1]
        return h @ last.weight.T + last.bias


class FilterDecoder(eqx.Module):
    """Multiplicative filter network with the latent code shifting the biases (DINo's decoder).

    ``h_0 = sin(Omega_0 s + phi_0)``,
    ``h_{l+1} = (W_l h_l + b_l + A_l z) * sin(Omega_{l+1} s + phi_{l+1})``,
    ``D = W_out h_L + b_out``, with ``s`` the point mapped onto ``[-1, 1]^d``.

    Args: as :class:`SineDecoder`; ``omega0`` scales the filter frequencies
        (``Omega`` uniform in ``+- omega0 / sqrt(depth + 1)``).

    References:
        Fathony et al., "Multiplicative Filter Networks", ICLR 2021; Yin et al.,
        "Continuous PDE Dynamics Forecasting with Implicit Neural Representations" (DINo),
        ICLR 2023.
    """

    filters: tuple
    linears: tuple
    modulations: tuple
    output: eqx.nn.Linear
    lower: tuple = eqx.field(static=True)
    upper: tuple = eqx.field(static=True)

    def __init__(self, in_size: int, latent_size: int, out_size: int = 1, *, width: int = 32,
                 depth: int = 4, omega0: float = 8.0, box: Any, key, dtype=jnp.float32):
        in_size = check_positive_int(in_size, "in_size")
        latent_size = check_positive_int(latent_size, "latent_size")
        width = check_positive_int(width, "width")
        depth = check_positive_int(depth, "depth")
        omega0 = check_positive_float(omega0, "omega0")
        self.lower = tuple(float(v) for v in box[0])
        self.upper = tuple(float(v) for v in box[1])
        keys = jax.random.split(key, 3 * depth + 2)
        scale = omega0 / math.sqrt(depth + 1)
        self.filters = tuple(_uniform_linear(in_size, width, scale, math.pi, keys[i], dtype)
                             for i in range(depth + 1))
        b = math.sqrt(1.0 / width)
        self.linears = tuple(_uniform_linear(width, width, b, b, keys[depth + 1 + i], dtype)
                             for i in range(depth))
        self.modulations = tuple(
            _uniform_linear(latent_size, width, 1.0 / math.sqrt(latent_size), 0.0,
                            keys[2 * depth + 1 + i], dtype, use_bias=False) for i in range(depth))
        self.output = _uniform_linear(width, out_size, b, b, keys[-1], dtype)

    def __call__(self, x, z):
        """Values (C,) at one point ``x`` (d,) for latent ``z`` (k,)."""
        return self.many(x[None], z)[0]

    def many(self, points, z):
        """Values (M, C) at ``points`` (M, d) for one latent ``z`` (k,) (matrix products)."""
        s = _to_reference(points, self.lower, self.upper)

        def filt(f):
            return jnp.sin(s @ f.weight.T + f.bias)

        h = filt(self.filters[0])
        for lin, mod, f in zip(self.linears, self.modulations, self.filters[1:]):
            h = (h @ lin.weight.T + (lin.bias + mod.weight @ z)) * filt(f)
        return h @ self.output.weight.T + self.output.bias


def _swish_beta(x, beta):
    """Swish with a learned slope, ``x sigmoid(softplus(beta) x) / 1.1`` (DINo's activation)."""
    return x * jax.nn.sigmoid(jax.nn.softplus(beta) * x) / 1.1


class DynamicsMLP(eqx.Module):
    """Latent dynamics ``Psi(z, mu)``: an MLP on ``[z, E mu]`` or ``[z, mu]``.

    With ``embed=True`` (default) the normalised parameters first pass through a learned
    linear map ``E mu + e`` onto ``k`` features, so the parameter and the latent code enter
    the first layer with equal width (the Phi-ROM paper's parametrised dynamics network);
    with ``embed=False`` ``mu`` is concatenated as it is. Hidden layers use
    ``activation``: ``"swish_beta"`` (default; ``x sigmoid(softplus(beta_l) x) / 1.1`` with a
    learned ``beta_l`` per layer, initialised at 0.5) or ``"swish"``.

    Args:
        latent_size: ``k``.
        n_params: size of ``mu``.
        width: hidden width (default 64).
        depth: hidden layers (default 4).
        embed: map ``mu`` linearly to ``k`` features first (default True).
        activation: ``"swish_beta"`` or ``"swish"``.
        key: PRNG key.
        dtype: parameter dtype (default float32).

    References:
        Hosseini Dashtbayaz et al., NeurIPS 2025 (arXiv:2505.14595); Yin et al. (DINo),
        ICLR 2023 (learned-slope swish); Ramachandran et al., "Searching for Activation
        Functions", 2017 (swish).
    """

    layers: tuple
    betas: Any
    embed: Any
    activation: str = eqx.field(static=True)

    def __init__(self, latent_size: int, n_params: int, *, width: int = 64, depth: int = 4,
                 embed: bool = True, activation: str = "swish_beta", key,
                 dtype=jnp.float32):
        latent_size = check_positive_int(latent_size, "latent_size")
        n_params = check_positive_int(n_params, "n_params", minimum=0)
        width = check_positive_int(width, "width")
        depth = check_positive_int(depth, "depth")
        if activation not in ("swish", "swish_beta"):
            raise ValueError(f"activation must be 'swish' or 'swish_beta', got {activation!r}")
        self.activation = activation
        keys = jax.random.split(key, depth + 2)
        use_embed = bool(embed) and n_params > 0
        self.embed = (eqx.nn.Linear(n_params, latent_size, key=keys[-1], dtype=dtype)
                      if use_embed else None)
        n0 = latent_size + (latent_size if use_embed else n_params)
        sizes = [(n0, width)] + [(width, width)] * (depth - 1) + [(width, latent_size)]
        self.layers = tuple(eqx.nn.Linear(a, b, key=k, dtype=dtype)
                            for (a, b), k in zip(sizes, keys))
        self.betas = (jnp.full((depth,), 0.5, dtype) if activation == "swish_beta" else None)

    def __call__(self, z, mu):
        """Latent velocity (k,) at ``z`` (k,) for normalised parameters ``mu`` (p,)."""
        m = self.embed(mu) if self.embed is not None else mu
        h = jnp.concatenate([z, m])
        for i, lin in enumerate(self.layers[:-1]):
            h = lin(h)
            h = _swish_beta(h, self.betas[i]) if self.betas is not None else jax.nn.swish(h)
        return self.layers[-1](h)
