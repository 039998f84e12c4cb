"""The COG targets the model knows, and the probability over the replicates that each is met.

One registry, :data:`CIBLES`: each target is one entry — its code (the ``cible`` coordinate of the
results), the output variable it checks, the Dataset variable that holds its value by organisme and year
(built from the catalogue parameters it names), the comparison, the unit of the gap and its labels.
Targets are checked against outcomes, never imposed (the engine reads the ceilings, not these paths):

``probabilite_respect[cible, year, organisme]``
    the share of the replicates in which the target is met (``variable ≤ cible`` or ``≥``), over every
    replicate of the run, blocks included (:class:`RespectCibles` counts block by block). A deterministic
    run has one replicate: 1 (met) or 0 (missed), not a probability; its ``mode`` attribute says so.
``ecart_attendu[cible, year, organisme]``
    the mean over the same replicates of ``variable − cible``, in the unit of the target (the coordinate
    ``cible_unite``), with the sign convention of :mod:`model.budget.ecarts`: positive = above the target
    (an overshoot for a ``≤`` target, a target beaten for a ``≥`` one).

A cell without a target (no value for this organisme and year, e.g. no ceiling before the COG, no
productivity target for the MSA, a "0 = none" envelope) is NaN in both; so is a cell whose output is
undefined in every replicate (the ex-RSI after its transfer). A cell whose output is undefined in some
replicates only is counted over the others.

Examples
--------
>>> from model.results.run import run_scenario
>>> ds = run_scenario("scenarios/cog_2018_2022.toml", write=False).dataset          # doctest: +SKIP
>>> ds["probabilite_respect"].sel(cible="etpma", organisme="cnaf", year=2022).item()  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import xarray as xr

from model.results.dataset import (CIBLE_DIM, CIBLE_UNITE, STATISTIQUES, UNITES_PAR_CIBLE, Tableaux,
                                   statistiques_replicates)

# a target met "exactly" (the engine holding ETPMA on its ceiling) may differ from it by rounding: a gap
# within this share of the target's size counts as met
TOLERANCE_RELATIVE = 1e-9


@dataclass(frozen=True)
class Cible:
    """One COG target.

    Attributes
    ----------
    code : the ``cible`` coordinate (French, as the COG documents name the target).
    variable : the output variable checked (a variable of the results Dataset).
    reference : the Dataset variable holding the target's value (NaN = no target).
    parametres : the catalogue parameters the target's value is built from.
    sens : ``"<="`` (met when ``variable ≤ reference``) or ``">="``.
    unite : unit of the value and of the gap; None = the checked variable's (per-organisme) units.
    libelle, libelle_fr : short names (the outputs' labels, :func:`model.outputs.libelles.cible_label`).
    zero_sans_cible : a target value of 0 means no target (an envelope that has moved away).
    """

    code: str
    variable: str
    reference: str
    parametres: tuple[str, ...]
    sens: Literal["<=", ">="]
    unite: str | None
    libelle: str
    libelle_fr: str
    zero_sans_cible: bool = False


CIBLES: tuple[Cible, ...] = (
    Cible("etpma", "etpma", "cible_etpma", ("organismes.*.cible_etpma",), "<=", "ETPMA",
          "COG ETPMA path", "Trajectoire d'ETPMA de la COG"),
    Cible("plafond_emplois", "etpma", "plafond_emplois", ("organismes.*.plafond_emplois",), "<=", "ETPMA",
          "Ceiling (plafond d'emplois)", "Plafond d'emplois"),
    Cible("remplacement", "taux_remplacement_apparent", "cible_remplacement", ("organismes.*.taux_remplacement",),
          "<=", "1", "Replacement of retirements", "Remplacement des départs en retraite"),
    Cible("masse_salariale", "masse_salariale", "enveloppe_masse_salariale",
          ("organismes.*.enveloppe_masse_salariale",), "<=", "MEUR/an", "Wage-bill envelope",
          "Enveloppe de masse salariale"),
    Cible("rmpp", "rmpp", "rmpp_cadrage", ("remuneration.rmpp_cadrage",), "<=", "points de %",
          "RMPP cadrage", "Cadrage de la RMPP"),
    Cible("adf", "adf_hors_informatique", "cible_adf",
          ("organismes.*.cible_adf_annee_base", "organismes.*.cible_adf_taux", "transfert_rsi.repartition"),
          "<=", "MEUR/an", "ADF excl. IT", "ADF hors informatique"),
    Cible("lpfp", "depenses_limitatives", "enveloppe_lpfp",
          ("lpfp.annee_base", "lpfp.taux_evolution_max", "transfert_rsi.repartition"), "<=", "MEUR/an",
          "LPFP path of the capped budget", "Trajectoire LPFP des dépenses limitatives", zero_sans_cible=True),
    Cible("productivite", "productivite", "cible_productivite",
          ("organismes.*.cible_productivite_base", "organismes.*.cible_productivite_annee_base",
           "organismes.*.cible_productivite_taux"), ">=", None, "Productivity", "Productivité"),
    Cible("productivite_ij", "productivite_ij", "cible_productivite_ij",
          ("productivite.cible_ij_base", "productivite.cible_ij_annee_base", "productivite.cible_ij_taux"),
          ">=", "UO IJ/ETPMA", "CNAM IJ productivity", "Productivité IJ de la CNAM"),
    Cible("taux_appels_aboutis", "taux_appels_aboutis", "cible_taux_appels_aboutis",
          ("organismes.*.cible_taux_appels_aboutis",), ">=", "1", "Share of calls answered",
          "Taux d'appels aboutis"),
    Cible("delai", "delai_traitement", "delai_cible", ("organismes.*.delai_cible",), "<=", "jours",
          "Processing delay", "Délai de traitement"),
)
PAR_CODE: dict[str, Cible] = {c.code: c for c in CIBLES}

# name: (units, long_name, long_name_fr, aggregation) — as the other registries of the results
VARIABLES: dict[str, tuple[str, str, str, str]] = {
    "probabilite_respect": (
        "1", "Probability over the replicates that the COG target is met (a deterministic run: 1 met, "
        "0 missed, not a probability); NaN = no target",
        "Probabilité, sur les réplications, que la cible COG soit respectée (run déterministe : 1 respectée, "
        "0 manquée, pas une probabilité) ; NaN = pas de cible", "none"),
    "ecart_attendu": (
        UNITES_PAR_CIBLE, "Expected gap to the COG target: mean over the replicates of output minus target, in the "
        "unit of the target (coordinate cible_unite; positive = above the target); NaN = no target",
        "Écart attendu à la cible COG : moyenne sur les réplications de la valeur moins la cible, dans l'unité "
        "de la cible (coordonnée cible_unite ; positif = au-dessus de la cible) ; NaN = pas de cible", "none"),
}
CONVENTION = "gap = simulated - target; positive = above the target"


class RespectCibles:
    """Counts, block after block of replicates, how often each target is met and the sum of the gaps;
    :meth:`dataset` turns them into ``probabilite_respect`` and ``ecart_attendu``.

    Counts are exact: a run in blocks gives the probabilities of the same run in one batch, and its
    expected gaps to rounding (sums of block sums).

    Parameters
    ----------
    cibles : the targets checked (default: every target of :data:`CIBLES`).
    """

    def __init__(self, cibles: tuple[Cible, ...] = CIBLES):
        self.cibles = tuple(cibles)
        self.replicates = 0
        self.n: np.ndarray | None = None         # (cible, year, organisme): replicates with a defined gap
        self.respect: np.ndarray | None = None   # replicates meeting the target
        self.somme: np.ndarray | None = None     # sum of the gaps
        self.coords: dict[str, Any] = {}
        self.unites: list[str] = []

    def add(self, ds: xr.Dataset) -> "RespectCibles":
        """Count the replicates of ``ds`` (a Dataset of :func:`model.results.dataset.build_dataset`)."""
        tab = Tableaux(ds)
        shape = (len(self.cibles),) + tab.shape[:2]
        if self.n is None:
            self.n, self.respect, self.somme = np.zeros(shape, int), np.zeros(shape, int), np.zeros(shape)
            self.coords = {d: ds[d].values for d in ("year", "organisme")}
            self.unites = [c.unite if c.unite is not None else str(ds[c.variable].attrs.get("units", ""))
                           if c.variable in ds else "" for c in self.cibles]
        for i, c in enumerate(self.cibles):
            if c.variable not in ds or c.reference not in ds:
                continue
            gap, ok, met = ecarts_respect(tab(c.variable), tab(c.reference), c)
            self.n[i] += ok.sum(-1)
            self.respect[i] += (met & ok).sum(-1)
            self.somme[i] += np.where(ok, gap, 0.0).sum(-1)
        self.replicates += tab.shape[2]
        return self

    def dataset(self, mode: str = "stochastic") -> xr.Dataset:
        """``probabilite_respect`` and ``ecart_attendu``, dims ``(cible, year, organisme)``, with the
        coordinates of each target (``cible_variable``, ``cible_reference``, ``cible_sens``,
        ``cible_unite``)."""
        if self.n is None:
            raise ValueError("no replicate was counted")
        with np.errstate(invalid="ignore", divide="ignore"):
            p = np.where(self.n > 0, self.respect / self.n, np.nan)
            e = np.where(self.n > 0, self.somme / self.n, np.nan)
        dims = (CIBLE_DIM, "year", "organisme")
        coords = {CIBLE_DIM: (CIBLE_DIM, [c.code for c in self.cibles], {
                      "long_name": "COG target (model/results/cibles.py)", "long_name_fr": "Cible de la COG"}),
                  "cible_variable": (CIBLE_DIM, [c.variable for c in self.cibles]),
                  "cible_reference": (CIBLE_DIM, [c.reference for c in self.cibles]),
                  "cible_sens": (CIBLE_DIM, [c.sens for c in self.cibles]),
                  CIBLE_UNITE: (CIBLE_DIM, self.unites),
                  "year": self.coords["year"], "organisme": self.coords["organisme"]}
        deterministic = mode == "deterministic"
        note = (f"over the {self.replicates} replicates of the run" if not deterministic else
                "deterministic run: one expected-value path, the target is met (1) or missed (0); not a probability")
        out = {}
        for name, values in (("probabilite_respect", p), ("ecart_attendu", e)):
            units, ln, ln_fr, agg = VARIABLES[name]
            attrs = {"units": units, "long_name": ln, "long_name_fr": ln_fr, "aggregation": agg,
                     "replicates": self.replicates, "mode": mode, "note": note}
            if name == "probabilite_respect":
                attrs["comparison"] = (f"met when the output is on the right side of the target (cible_sens), to "
                                       f"{TOLERANCE_RELATIVE:g} of the target's size")
            else:
                attrs["sign_convention"] = CONVENTION
            out[name] = xr.DataArray(values, dims=dims, attrs=attrs)
        return xr.Dataset(out, coords=coords)


def ecarts_respect(valeur: np.ndarray, cible: np.ndarray, c: Cible) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gap, definedness and respect of one target, element by element.

    Parameters
    ----------
    valeur : the output (any shape, e.g. ``(year, organisme, replicate)``).
    cible : the target's value, same shape (NaN or inf = no target; 0 too when ``c.zero_sans_cible``).
    c : the target.

    Returns
    -------
    (gap, defined, met) : ``valeur − cible``, where both are defined, and whether the target is met
    there (within :data:`TOLERANCE_RELATIVE` of the target's size).
    """
    with np.errstate(invalid="ignore"):
        gap = valeur - cible
        ok = np.isfinite(gap)
        if c.zero_sans_cible:
            ok &= cible != 0
        tol = TOLERANCE_RELATIVE * np.abs(np.where(ok, cible, 0.0))
        met = gap <= tol if c.sens == "<=" else gap >= -tol
    return gap, ok, met & ok


def probabilites(ds: xr.Dataset, mode: str | None = None) -> xr.Dataset:
    """``probabilite_respect`` and ``ecart_attendu`` over the replicates of ``ds`` (a Dataset holding
    every replicate of its run)."""
    return RespectCibles().add(ds).dataset(mode or str(ds.attrs.get("mode", "stochastic")))


def avec_probabilites(ds: xr.Dataset, respect: RespectCibles, mode: str) -> xr.Dataset:
    """``ds`` with ``probabilite_respect`` and ``ecart_attendu`` (counted by ``respect``), its attrs kept."""
    out = ds.merge(respect.dataset(mode), combine_attrs="override")
    out.attrs = dict(ds.attrs)
    return out


def une_trajectoire(ds: xr.Dataset) -> bool:
    """Whether the probabilities of ``ds`` come from one path only (a deterministic run, or a single
    replicate): each is then 1 (met) or 0 (missed), not a probability."""
    return int(ds["probabilite_respect"].attrs.get("replicates", 1)) == 1


def trajectoires_etpma(ds: xr.Dataset) -> list[dict[str, Any]]:
    """The COG ETPMA paths of a run as a planner states them ("CNAF, −2 100 ETP en 2022"): for each
    organisme whose path (``cible_etpma``; where a scenario states none, the ceiling in force, which a
    COG states as the same change from its base year) has a value in the last year and starts after the
    first year.

    Returns
    -------
    list of dict
        ``organisme``; ``a``, the year before the path starts, and ``z``, the last year; ``cible``, the
        path's value in ``z`` (ETPMA); ``variation``, the change it asks for from the simulated mean ETPMA
        of ``a`` (ETPMA; over every replicate of the run); ``probabilite`` and ``ecart_attendu`` (ETPMA)
        of the ``etpma`` target in ``z``.
    """
    if "probabilite_respect" not in ds:
        return []
    code = "etpma"
    if "cible_etpma" not in ds or not np.isfinite(ds["cible_etpma"].values).any():
        code = "plafond_emplois"  # the COG's path is its ceiling
    if code not in ds[CIBLE_DIM].values or (code == "plafond_emplois" and "plafond_emplois" not in ds):
        return []
    years = [int(y) for y in ds["year"].values]
    orgs = [str(o) for o in ds["organisme"].values]
    st = statistiques_replicates(ds, "etpma")
    mean = (st[:, :len(orgs), STATISTIQUES.index("moyenne")] if st is not None
            else ds["etpma"].transpose("year", "organisme", "replicate").values.mean(-1))
    path = ds["cible_etpma" if code == "etpma" else "plafond_emplois"]
    path = (path.mean("replicate") if "replicate" in path.dims else path).transpose("year", "organisme").values
    p = ds["probabilite_respect"].sel({CIBLE_DIM: code}).transpose("year", "organisme").values
    e = ds["ecart_attendu"].sel({CIBLE_DIM: code}).transpose("year", "organisme").values
    out = []
    for j, o in enumerate(orgs):
        ok = np.isfinite(path[:, j])
        first = int(np.argmax(ok))
        if not ok[-1] or first == 0:  # no target in the last year, or no year before the path to start from
            continue
        out.append({"organisme": o, "a": years[first - 1], "z": years[-1], "cible": float(path[-1, j]),
                    "variation": float(path[-1, j] - mean[first - 1, j]), "probabilite": float(p[-1, j]),
                    "ecart_attendu": float(e[-1, j])})
    return out
