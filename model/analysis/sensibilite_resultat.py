"""The result of a sensitivity analysis (:mod:`model.analysis.sensibilite` computes it): its vocabulary
(methods, indices, factors), its layout as an ``xarray.Dataset``, and reading it back (``sensibilite.nc``;
the tidy table of ``sensibilite.csv``). Model-independent, like the designs and estimators; the charts and
the files are :mod:`model.outputs.graphiques_sensibilite`'s.

Result layout
-------------
One data variable per output variable, named as in ``Y``, with dims ``(facteur, indice, <the other
dims of that variable>)``: ``res["etpma"].sel(indice="ST", year=2022, organisme="cnaf")``. Coordinates
on ``facteur``: ``facteur_label``, ``facteur_low``, ``facteur_high``, ``facteur_base``. ``units``,
``long_name`` and ``long_name_fr`` are carried over from ``Y``; the unit of each index is given by
:func:`unite_indice` (the output's unit, or ``"1"`` for S1, ST, their CIs and the elasticity).

Cells where the output does not vary over the design (e.g. the years before a lever acts), i.e.
max − min ≤ :data:`RTOL_CONSTANTE` × max |y|: Sobol' indices are NaN (0/0: no variance to share);
Morris indices are 0 (every elementary effect is exactly zero); OAT ``swing`` is 0 (and ``low`` =
``high`` = ``base``). Cells with a NaN at any point get NaN indices. No warnings are issued; the counts
are in each variable's attrs (``n_cellules_constantes``, ``n_cellules_nan``) and the rule in the
Dataset's attrs (``cellules_constantes``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Literal, Sequence, get_args

import numpy as np
import pandas as pd
import xarray as xr

from model import __version__
from model.params.errors import MISSING, InputError, Problem

__all__ = ["Methode", "METHODES", "INDICES", "INDICES_S2", "SANS_UNITE", "NOMS_INDICES", "RTOL_CONSTANTE", "Facteur",
           "HEADLINE", "assembler", "unite_indice", "variables", "tidy_frame", "lire"]

# ----------------------------------------------------------------------------- methods, indices, factors
Methode = Literal["oat", "morris", "sobol"]
METHODES: tuple[str, ...] = get_args(Methode)

INDICES: dict[str, tuple[str, ...]] = {
    "oat": ("low", "high", "swing", "elasticity", "base"),
    "morris": ("mu", "mu_star", "mu_star_conf", "sigma"),
    "sobol": ("S1", "S1_conf", "ST", "ST_conf"),
}
INDICES_S2: tuple[str, ...] = ("S2", "S2_conf")
SANS_UNITE: frozenset[str] = frozenset({"S1", "S1_conf", "ST", "ST_conf", "S2", "S2_conf", "elasticity"})

# index: (long name en, long name fr)
NOMS_INDICES: dict[str, tuple[str, str]] = {
    "low": ("Output with the factor at its low value", "Résultat avec le facteur à sa valeur basse"),
    "high": ("Output with the factor at its high value", "Résultat avec le facteur à sa valeur haute"),
    "swing": ("Swing: output at high minus output at low", "Écart : résultat haut moins résultat bas"),
    "elasticity": ("Arc elasticity of the output to the factor at the base point",
                   "Élasticité (en arc) du résultat au facteur, au point de base"),
    "base": ("Output at the base point (scenario values)", "Résultat au point de base (valeurs du scénario)"),
    "mu": ("Mean elementary effect (per full range of the factor)",
           "Effet élémentaire moyen (pour toute l'étendue du facteur)"),
    "mu_star": ("Mean absolute elementary effect μ* (per full range of the factor)",
                "Effet élémentaire absolu moyen μ* (pour toute l'étendue du facteur)"),
    "mu_star_conf": ("Half-width of the confidence interval of μ*", "Demi-largeur de l'intervalle de confiance de μ*"),
    "sigma": ("Standard deviation of the elementary effects σ", "Écart type des effets élémentaires σ"),
    "S1": ("First-order Sobol' index", "Indice de Sobol' du premier ordre"),
    "S1_conf": ("Half-width of the confidence interval of S1", "Demi-largeur de l'intervalle de confiance de S1"),
    "ST": ("Total-order Sobol' index", "Indice de Sobol' total"),
    "ST_conf": ("Half-width of the confidence interval of ST", "Demi-largeur de l'intervalle de confiance de ST"),
    "S2": ("Second-order Sobol' index", "Indice de Sobol' du second ordre"),
    "S2_conf": ("Half-width of the confidence interval of S2", "Demi-largeur de l'intervalle de confiance de S2"),
}

RTOL_CONSTANTE = 1e-9   # a cell with max − min ≤ RTOL_CONSTANTE × max |y| does not vary
# attribute of a result: the variable and cell its analysis chose to show first (the report's), as JSON text
# {"variable": ..., "year": ..., "organisme": ...}
HEADLINE = "headline"


@dataclass(frozen=True)
class Facteur:
    """One input of a sensitivity analysis: a scenario parameter and its range.

    Parameters
    ----------
    path : dotted parameter path as in scenario files (``"organismes.cnaf.taux_remplacement"``).
    low, high : the range explored, in the parameter's unit (``low < high``); Morris and Sobol' draw
        uniformly in it.
    base : the scenario's value (the one-at-a-time pivot), in the parameter's unit; default the
        midpoint of the range.
    label : a display name for charts; default ``path``.
    """

    path: str
    low: float
    high: float
    base: float | None = None
    label: str | None = None

    @property
    def pivot(self) -> float:
        """The base value (the midpoint when none was given)."""
        return float(self.base) if self.base is not None else 0.5 * (float(self.low) + float(self.high))

    @property
    def nom(self) -> str:
        """The display name: ``label``, else ``path``."""
        return self.label or self.path

    def __str__(self) -> str:
        return f"{self.path}={self.low}:{self.high}"


# ----------------------------------------------------------------------------- the result's layout
def assembler(facteurs: Sequence[Facteur], methode: Methode, Y: xr.Dataset, names: Sequence[str],
              sizes: Sequence[int], out: dict[str, np.ndarray], out2: dict[str, np.ndarray], constant: np.ndarray,
              finite: np.ndarray, n_points: int, **options: Any) -> xr.Dataset:
    """The result Dataset (layout in the module docstring) from the estimators' arrays: ``out`` index ->
    (factor, cell), ``out2`` second-order index -> (factor, factor, cell), the cells being the columns of
    the variables ``names`` of ``Y`` (``sizes`` columns each) side by side; ``constant`` and ``finite`` flag
    the cells; ``options`` are the analysis's (``seed``, ``conf_level``, ``num_resamples``, ``levels``,
    ``second_order``), recorded in the attrs."""
    D = len(facteurs)
    indices = INDICES[methode]
    coords: dict[str, Any] = {
        "facteur": ("facteur", [f.path for f in facteurs]),
        "indice": ("indice", list(indices)),
        "facteur_label": ("facteur", [f.nom for f in facteurs]),
        "facteur_low": ("facteur", [float(f.low) for f in facteurs]),
        "facteur_high": ("facteur", [float(f.high) for f in facteurs]),
        "facteur_base": ("facteur", [f.pivot for f in facteurs]),
    }
    if out2:
        coords["facteur_2"] = ("facteur_2", [f.path for f in facteurs])
    stacked = np.stack([out[k] for k in indices], axis=1)          # (D, I, C)
    data_vars: dict[str, xr.DataArray] = {}
    start = 0
    for name, size in zip(names, sizes):
        sl = slice(start, start + size)
        start += size
        da = Y[name]
        other = da.dims[1:]
        shape = tuple(da.shape[1:])
        attrs = {k: da.attrs[k] for k in ("units", "long_name", "long_name_fr") if k in da.attrs}
        attrs["n_cellules_constantes"] = int(constant[sl].sum())
        attrs["n_cellules_nan"] = int((~finite[sl]).sum())
        data_vars[name] = xr.DataArray(stacked[:, :, sl].reshape((D, len(indices)) + shape),
                                       dims=("facteur", "indice") + other, attrs=attrs)
        for k, arr in out2.items():
            a2 = {**attrs, "indice": k, "long_name": NOMS_INDICES[k][0] + f" of {attrs.get('long_name', name)}"}
            a2["units"] = "1"
            data_vars[f"{name}__{k}"] = xr.DataArray(arr[:, :, sl].reshape((D, D) + shape),
                                                     dims=("facteur", "facteur_2") + other, attrs=a2)
    other_coords = {c: Y.coords[c] for c in Y.coords if "point" not in Y.coords[c].dims}
    res = xr.Dataset(data_vars, coords={**coords, **other_coords})
    try:
        salib_version = metadata.version("SALib")
    except metadata.PackageNotFoundError:  # pragma: no cover
        salib_version = "unknown"
    n = 0 if methode == "oat" else n_points // (D + 1 if methode == "morris" else
                                                (2 * D + 2 if options["second_order"] else D + 2))
    rule = {"oat": "swing 0 (low = high = base); elasticity 0",
            "morris": "mu, mu_star, mu_star_conf, sigma 0 (every elementary effect is 0)",
            "sobol": "S1, S1_conf, ST, ST_conf (and S2) NaN (no variance to share)"}[methode]
    res.attrs = {
        "method": methode, "n": int(n), "n_points": int(n_points),
        "seed": -1 if options["seed"] is None else int(options["seed"]),
        "conf_level": float(options["conf_level"]), "num_resamples": int(options["num_resamples"]),
        "levels": int(options["levels"]) if methode == "morris" else 0,
        "second_order": int(bool(options["second_order"])),
        "facteurs": json.dumps([{"path": f.path, "low": float(f.low), "high": float(f.high), "base": f.pivot,
                                 "label": f.nom} for f in facteurs], ensure_ascii=False),
        "cellules_constantes": (f"cells with max - min <= {RTOL_CONSTANTE:g} x max |y|: {rule}; "
                                "cells with a NaN at any point: NaN"),
        "cogsim_version": __version__, "salib_version": salib_version,
    }
    return res


# ----------------------------------------------------------------------------- reading the result
def unite_indice(resultat: xr.Dataset, variable: str, indice: str) -> str:
    """The unit of ``indice`` for ``variable``: ``"1"`` for Sobol' indices and the elasticity, else the
    output's own unit (OAT values and swing, Morris μ, μ*, σ: output units per full range)."""
    if indice in SANS_UNITE:
        return "1"
    return str(resultat[variable].attrs.get("units", ""))


def variables(resultat: xr.Dataset) -> list[str]:
    """The output variables of a result (without the second-order ``<var>__S2`` companions)."""
    return [str(v) for v in resultat.data_vars if "indice" in resultat[v].dims]


def tidy_frame(resultat: xr.Dataset):
    """A tidy pandas DataFrame: one row per variable × facteur × indice × cell (year, organisme, ...).

    Columns: ``variable``, ``facteur``, (``facteur_2`` with second-order indices), ``indice``, one column
    per other dim (in order of first appearance), ``unit`` (:func:`unite_indice`), ``value``.
    """

    frames = []
    dims: list[str] = []
    for name in resultat.data_vars:
        da = resultat[name]
        for d in da.dims:
            if d not in ("facteur", "facteur_2", "indice") and d not in dims:
                dims.append(d)
    second = "facteur_2" in resultat.dims
    for name in resultat.data_vars:
        da = resultat[name]
        base_name, _, s2 = str(name).partition("__")
        if s2:
            da = da.expand_dims(indice=[s2], axis=2)
        df = da.reset_coords(drop=True).to_dataframe(name="value").reset_index()
        if s2:   # the upper triangle only (facteur before facteur_2), as SALib fills it
            rank = {f: i for i, f in enumerate(resultat["facteur"].values)}
            df = df[df["facteur"].map(rank) < df["facteur_2"].map(rank)]
        df.insert(0, "variable", base_name)
        units = {i: unite_indice(resultat, base_name, i) for i in df["indice"].unique()}
        df["unit"] = df["indice"].map(units)
        frames.append(df)
    df = pd.concat(frames, ignore_index=True)
    cols = ["variable", "facteur"] + (["facteur_2"] if second else []) + ["indice"] + dims + ["unit", "value"]
    for c in cols:
        if c not in df:
            df[c] = ""
    return df[cols]


def lire(path: str | Path) -> xr.Dataset:
    """Read a result written by :func:`model.outputs.graphiques_sensibilite.ecrire` (``sensibilite.nc``),
    attributes decoded.

    Raises
    ------
    InputError
        When the file cannot be read or is not a sensitivity result (no ``facteur``/``indice`` dims or
        no ``method`` attribute).
    """
    path = Path(path)
    allowed = "a sensibilite.nc written by cogsim sensitivity"
    try:
        with xr.open_dataset(path, engine="netcdf4") as opened:
            res = opened.load()
    except Exception as exc:  # noqa: BLE001  (any reading failure is bad input, reported as such)
        raise InputError([Problem(str(path), "", MISSING, f"cannot be read ({type(exc).__name__})", allowed)]) from None
    if not ({"facteur", "indice"} <= set(res.dims) and res.attrs.get("method") in METHODES):
        raise InputError([Problem(str(path), "", MISSING, "not a sensitivity result", allowed)])
    return res
