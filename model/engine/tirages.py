"""Random draws of the engine: binomial by inversion, stochastic rounding, systematic allocation.

``Tirages`` (stochastic mode) gives every flow of every replicate its own stream,
``SeedSequence(seed, spawn_key=(replicate, flow))``; ``Esperances`` (deterministic mode) replaces each
draw by its expectation, so both modes run the same engine code.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri

FLOWS = ("retraite", "autres_departs", "fins_cdd", "recrutement", "ages_entrants", "transferts", "allocation")

# ----------------------------------------------------------------------------- random numbers
EXACT_UP_TO = 20.0  # expected count up to which the binomial inversion is exact


def binomial_inverse(u: np.ndarray, n: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Quantile of Binomial(n, p) at ``u``, elementwise: the smallest k with F(k) >= u.

    Exact (chop-down search of the CDF) where the expected count ``n p`` is at most 20; above, the
    Cornish-Fisher corrected normal quantile with continuity correction, whose CDF error is below
    0.2 % there. Monotone in ``u``, so two scenarios fed the same uniforms get coupled draws
    (common random numbers).
    """
    n, p, u = np.broadcast_arrays(np.asarray(n, float), np.asarray(p, float), np.asarray(u, float))
    lam = n * p
    out = np.zeros(n.shape)
    big = lam > EXACT_UP_TO
    if big.any():
        nb, pb, ub = n[big], p[big], u[big]
        sd = np.sqrt(nb * pb * (1.0 - pb))
        z = ndtri(np.clip(ub, 1e-12, 1 - 1e-12))
        w = z + (1.0 - 2.0 * pb) / sd * (z * z - 1.0) / 6.0
        out[big] = np.clip(np.ceil(nb * pb - 0.5 + sd * w), 0.0, nb)
    idx = np.flatnonzero(~big & (lam > 0))
    if idx.size:
        nn, pp, uu = n.ravel()[idx], p.ravel()[idx], u.ravel()[idx]
        # CDF table over k = 0..K for all cells at once; beyond K the tail is below 1e-15
        K = int(np.ceil(lam.ravel()[idx].max() + 10.0 * np.sqrt(lam.ravel()[idx].max()) + 12.0))
        j = np.arange(1, K + 1, dtype=float)
        steps = np.maximum(nn[:, None] - j + 1.0, 0.0) / j * (pp / np.maximum(1.0 - pp, 1e-16))[:, None]
        pmf = np.empty((idx.size, K + 1))
        pmf[:, 0] = np.exp(nn * np.log1p(-np.minimum(pp, 1 - 1e-16)))
        pmf[:, 1:] = steps
        np.cumprod(pmf, axis=1, out=pmf)
        cdf = np.cumsum(pmf, axis=1)
        k = (cdf < uu[:, None]).sum(1).astype(float)
        flat = out.ravel()
        flat[idx] = np.minimum(k, nn)
        out = flat.reshape(n.shape)
    return out


class Tirages:
    """Draws of the stochastic mode; ``Esperances`` replaces each draw by its expectation.

    With ``points`` > 1 the batch is ``points`` blocks of ``replicates``: replicate r of every point
    uses the same streams (common random numbers across the points of a sweep).
    """

    def __init__(self, seed: int, replicates: int, points: int = 1, first: int = 0):
        self.gens = {f: [np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(r, i))))
                         for r in range(first, first + replicates)] for i, f in enumerate(FLOWS)}
        self.R = replicates
        self.P = points

    def binomial(self, flow: str, n: np.ndarray, p: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Binomial(n, p) by inversion of the uniforms ``u`` drawn from the flow's stream."""
        return binomial_inverse(u, n, np.clip(p, 0.0, 1.0))

    def uniforms(self, flow: str, shape: tuple[int, ...]) -> np.ndarray:
        """Uniforms on [0, 1) of shape (R, *shape), one stream per replicate."""
        out = np.empty((self.R, *shape))
        for r, g in enumerate(self.gens[flow]):
            out[r] = g.random(shape)
        return out if self.P == 1 else np.tile(out, (self.P,) + (1,) * len(shape))

    def round(self, x: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Stochastic rounding: floor(x + u), unbiased for u uniform."""
        return np.floor(x + u)

    def allocate(self, total: np.ndarray, weights: np.ndarray, capacity: np.ndarray | None,
                 u: np.ndarray) -> np.ndarray:
        """Split whole ``total`` (..., ) over the last axis of ``weights`` by systematic sampling,
        never above ``capacity``."""
        return _systematic(total, weights, capacity, u)


    def allocate_profile(self, total: np.ndarray, profile: np.ndarray, u: np.ndarray) -> np.ndarray:
        """``allocate`` for weights that are one shared profile (sums to 1) over the last axis."""
        cum = np.floor(total[..., None] * np.cumsum(profile) + u[..., None])
        cum[..., -1] = np.floor(total + u)
        cum[..., 1:] -= cum[..., :-1].copy()
        return cum


class Esperances(Tirages):
    def __init__(self, seed: int, replicates: int, points: int = 1, first: int = 0):
        self.R = replicates * points

    def binomial(self, flow, n, p, u):
        return n * np.clip(p, 0.0, 1.0)

    def uniforms(self, flow, shape):
        return np.zeros((self.R, *shape))  # R is the whole batch here

    def round(self, x, u):
        return x

    def allocate_profile(self, total, profile, u):
        return total[..., None] * profile

    def allocate(self, total, weights, capacity, u):
        s = weights.sum(-1, keepdims=True)
        share = np.divide(weights, s, out=np.zeros_like(weights), where=s > 0)
        out = total[..., None] * share
        if capacity is not None:
            out = np.minimum(out, capacity)
        return out


def _systematic(total, weights, capacity, u):
    """Systematic sampling of whole ``total`` over the last axis in proportion to ``weights``; cells
    over ``capacity`` give their excess to the cells that still have room."""
    part = _systematic_pass(total, weights, u)
    if capacity is None:
        return part
    over = part > capacity
    if not over.any():
        return part
    part = np.minimum(part, capacity)
    for _ in range(8):
        remaining = total - part.sum(-1)
        if not np.any(remaining > 0.5):
            break
        room = capacity - part
        part += np.minimum(_systematic_pass(np.maximum(remaining, 0.0), room, u), room)
    return part


def _systematic_pass(total, weights, u):
    cum = np.cumsum(weights, -1)
    s = cum[..., -1].copy()
    cum *= (total / np.where(s > 0, s, 1.0))[..., None]
    cum += u[..., None]
    np.floor(cum, out=cum)
    cum[..., -1] = np.where(s > 0, np.floor(total + u), 0.0)
    cum[..., 1:] -= cum[..., :-1].copy()
    return cum


__all__ = ["FLOWS", "EXACT_UP_TO", "binomial_inverse", "Tirages", "Esperances"]
