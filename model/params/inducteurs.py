"""Workload drivers (inducteurs de charge): their names, their reference levels, and the draws of their
projected growth in the replicates of a stochastic run.

The catalogue (``catalogue_inducteurs.toml``) declares each driver three times under one name
``<organisme>_<driver>``: its series by year (``inducteurs.<name>``, in the driver's unit), the elasticity of
the organisme's workload to it (``elasticites_charge.<name>``) and the stated range of its annual growth
after the reference year (``plages_inducteurs.<name>``). :mod:`model.budget.productivite` turns them into
workload.

What is drawn
    Replicate r of a stochastic run draws, for each driver k, one number ``u[r, k]`` uniform on [-1, 1] and
    multiplies the scenario's path of the driver by ``(1 + u × plage_k)^(y − ref)`` in the years y after
    ``ref = productivite.annee_reference`` (1 up to it): the annual growth of the driver departs from the
    scenario's by at most ``plage_k`` (a stated range, hence a uniform law), the same departure every year
    (a volume trend is persistent). The history is never drawn, so the calibrated 2013-2018 workload and
    productivity stay as fitted.

Where a scenario keeps its own value
    Unlike a fitted parameter (:mod:`model.params.incertitude`), a driver is drawn around whatever path the
    scenario gives it: a scenario that raises the allocataires by 10 % states a central path, and its
    uncertainty is the baseline's around it. With the same seed, replicate r of the baseline and of the
    shocked scenario draw the same ``u`` (common random numbers), so their difference is the shock.

Common random numbers
    ``u`` of replicate r comes from its own stream ``SeedSequence(seed, spawn_key=(r, ID_FLUX))``, as the
    fitted parameters' (1000), the stated ranges' (1001) and the engine's flows (0..6): the same whatever the batch size,
    the block or the point of a sweep.

Sharing one mechanism with the fitted parameters
    The fitted parameters are drawn from N(θ̂, Σ) and replace the scenario's value only where it is the
    calibrated one; the drivers are drawn from a stated range and act as a factor on the scenario's path.
    Both produce per-element values that :meth:`~model.params.parametres.ParametresLot.par_element` carries;
    a common ``plage`` field of the catalogue (a range per parameter, with a law and a mode ``valeur`` /
    ``facteur_croissance``) would let one function draw both.
"""

from __future__ import annotations

import functools

import numpy as np

from model.params.calendrier import HORIZON_DEFAUT, ORGANISMES, Horizon
from model.params.catalogue import load_catalogue, section_names
from model.params.parametres import Parametres, ParametresLot
from model.params.validation import resolve_value

SECTION = "inducteurs"
ELASTICITES = "elasticites_charge"
PLAGES = "plages_inducteurs"
# the spawn key of the drivers' stream, (replicate, ID_FLUX): beside the fitted parameters' (1000) and the
# stated ranges' (1001, model.params.incertitude.ID_FLUX_PLAGES)
ID_FLUX = 1002


@functools.cache
def noms_inducteurs() -> tuple[str, ...]:
    """The drivers' names (``cnaf_allocataires``, ...), in catalogue order."""
    return tuple(section_names(SECTION))


def organisme_inducteur(nom: str) -> str:
    """The organisme whose workload a driver drives (the prefix of its name).

    Examples
    --------
    >>> organisme_inducteur("cnaf_allocataires")
    'cnaf'
    """
    for o in ORGANISMES:
        if nom.startswith(o + "_"):
            return o
    raise ValueError(f"driver {nom!r}: its name does not start with an organisme ({', '.join(ORGANISMES)})")


def chemins_inducteurs() -> tuple[str, ...]:
    """Every catalogue path of the drivers: series, elasticities, ranges (parameters the engine never reads)."""
    return tuple(f"{s}.{n}" for n in noms_inducteurs() for s in (SECTION, ELASTICITES, PLAGES))


@functools.cache
def niveau_reference(nom: str, annee: int) -> float:
    """The catalogue's value of driver ``nom`` in ``annee``: the level the workload's reference
    (``charge_travail_reference``) is measured at, whatever the scenario does to the driver."""
    p = load_catalogue()[f"{SECTION}.{nom}"]
    h = Horizon(HORIZON_DEFAUT.premiere, max(HORIZON_DEFAUT.derniere, annee))
    return float(resolve_value(p, p.default, None, h)[h.index(annee)])


def uniformes(seed: int, replicates: int, first: int, k: int) -> np.ndarray:
    """Uniform numbers on [-1, 1], shape (replicates, k): row i from replicate ``first + i``'s own stream."""
    out = np.empty((replicates, k))
    for i in range(replicates):
        g = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(first + i, ID_FLUX))))
        out[i] = g.uniform(-1.0, 1.0, k)
    return out


def _par_element(par: Parametres, path: str, n: int) -> np.ndarray:
    """A parameter's value per batch element, shape (n, ...)."""
    lot = par.lot(path) if isinstance(par, ParametresLot) else None
    if lot is not None:
        return np.asarray(lot, float)
    v = np.asarray(par[path], float)
    return np.broadcast_to(v, (n, *v.shape))


def facteurs_tires(par: Parametres, seed: int, replicates: int, first: int = 0) -> dict[str, np.ndarray]:
    """``{inducteurs.<name>: factor (batch, years)}``: the drawn factor on each driver's path, per batch element
    (``n_points × replicates``, point-major; replicate r draws the same ``u`` at every point)."""
    noms = noms_inducteurs()
    P = par.n_points if isinstance(par, ParametresLot) else 1
    n = P * replicates
    u = np.tile(uniformes(seed, replicates, first, len(noms)), (P, 1))  # (n, K)
    ecart = np.clip(np.asarray(par.horizon.annees) - int(par["productivite.annee_reference"]), 0, None)  # (Y,)
    out = {}
    for k, nom in enumerate(noms):
        plage = _par_element(par, f"{PLAGES}.{nom}", n)  # (n,)
        out[f"{SECTION}.{nom}"] = (1.0 + u[:, k:k + 1] * plage[:, None]) ** ecart[None, :]
    return out


def avec_inducteurs_tires(par: Parametres, seed: int, replicates: int, first: int = 0) -> ParametresLot:
    """``par`` with the drivers drawn for replicates ``first`` to ``first + replicates - 1`` (module docstring):
    each driver's path, per batch element, times its drawn factor.

    Parameters
    ----------
    par : the scenario's parameters, or a ``ParametresLot`` (grid points, fitted-parameter draws), whose
        per-element values are kept.
    seed : the run's seed; replicates : replicates per point; first : index of the first (a run in blocks).
    """
    P = par.n_points if isinstance(par, ParametresLot) else 1
    n = P * replicates
    valeurs = {path: _par_element(par, path, n) * f for path, f in facteurs_tires(par, seed, replicates, first).items()}
    return ParametresLot.par_element(par, replicates, valeurs)


def description(par: Parametres, tirees: bool, seed: int) -> dict:
    """The manifest's record of the drivers' draws."""
    if not tirees:
        return {"tirees": False}
    return {"tirees": True, "graine": seed,
            "flux": f"numpy SeedSequence(seed, spawn_key=(replicate, {ID_FLUX})); u ~ U(-1, 1) per driver; path x "
                    "(1 + u * plage)^(year - productivite.annee_reference) after the reference year",
            "plages": {nom: float(par[f"{PLAGES}.{nom}"]) for nom in noms_inducteurs()}}


__all__ = ["SECTION", "ELASTICITES", "PLAGES", "ID_FLUX", "noms_inducteurs", "organisme_inducteur", "chemins_inducteurs",
           "niveau_reference", "uniformes", "facteurs_tires", "avec_inducteurs_tires", "description"]
