"""A saved run, read back for the outputs: :func:`load_run` opens a run folder written by ``cogsim run``
(``results.nc`` loaded in memory, ``manifest.json``) and checks that both files come from the same run;
:class:`Run` gives its values by variable and organisme (aggregates included), means and 90 % bands over
the replicates. The outputs are drawn from a saved run only, never by re-running the model."""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from model.outputs.texte import court
from model.params.calendrier import AGGREGATS
from model.params.errors import MISSING, InputError, Problem
from model.results.dataset import STATISTIQUES, STATISTIQUES_COORD, aggregate_values, statistiques_replicates

REQUIRED = ("etpma",)
PER_UNIT = re.compile(r"^(\S+) per unit of \S+ \((.*)\)$")  # "EUR per unit of charge_travail (cnam: UO FSE; ...)"  # a results.nc without these is not a cogsim run


def nan_quantiles(x: np.ndarray, q, axis: int = 1) -> np.ndarray:
    """``np.nanquantile`` without the warnings of all-NaN slices (their quantiles are NaN)."""
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanquantile(x, q, axis=axis)


@dataclass
class Run:
    """A saved run: its Dataset (loaded in memory), its manifest and where it lives."""

    path: Path
    ds: xr.Dataset
    manifest: dict[str, Any]
    _cache: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def run_id(self) -> str:
        return str(self.manifest.get("run_id") or self.ds.attrs.get("run_id") or self.path.name)

    @property
    def title(self) -> str:
        header = (self.manifest.get("scenario") or {}).get("header") or {}
        return court(header.get("title") or self.ds.attrs.get("title") or self.run_id)  # shortened for display

    @property
    def replicates(self) -> int:
        """Replicates of the run (its Dataset may keep the first ones only: ``statistiques_replicates``)."""
        kept = int(self.ds.sizes.get("replicate", 1))
        return int(self.ds.attrs.get("replicates", kept)) if STATISTIQUES_COORD in self.ds.coords else kept

    @property
    def stochastic(self) -> bool:
        return self.replicates > 1

    @property
    def years(self) -> np.ndarray:
        return self.ds["year"].values

    @property
    def organismes(self) -> list[str]:
        """The organismes of the Dataset, then ``regime_general`` and ``total``."""
        return list(self.ds["organisme"].values) + list(AGGREGATS)

    def values(self, name: str) -> np.ndarray:
        """(year, organisme + aggregates, replicate) values of ``name`` (cached)."""
        if name not in self._cache:
            self._cache[name] = aggregate_values(self.ds, name)
        return self._cache[name]

    def series(self, name: str, organisme: str) -> np.ndarray:
        """(year, replicate) values of ``name`` for one organisme or aggregate."""
        return self.values(name)[:, self.organismes.index(organisme)]

    def mean(self, name: str, organisme: str) -> np.ndarray:
        """Mean over replicates, by year (NaN where undefined); over all of them when the Dataset keeps
        the first ones only."""
        st = statistiques_replicates(self.ds, name)
        if st is not None:
            return st[:, self.organismes.index(organisme), STATISTIQUES.index("moyenne")]
        x = self.series(name, organisme)
        with np.errstate(invalid="ignore"):
            return np.where(np.isnan(x).all(1), np.nan, np.nanmean(np.where(np.isnan(x).all(1, keepdims=True),
                                                                            0.0, x), 1))

    def band(self, name: str, organisme: str, low: float = 0.05, high: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """Quantiles over replicates, by year (the 90 % band by default; over all of them when the
        Dataset keeps the first ones only)."""
        st = statistiques_replicates(self.ds, name)
        if st is not None and (low, high) == (0.05, 0.95):
            o = self.organismes.index(organisme)
            return st[:, o, STATISTIQUES.index("p05")], st[:, o, STATISTIQUES.index("p95")]
        x = self.series(name, organisme)
        q = nan_quantiles(x, [low, high])
        return q[0], q[1]

    def units_of(self, name: str, organisme: str) -> str:
        """The unit of ``name`` for one organisme (per-organisme units such as ``productivite``'s are
        written ``"cnam: UO FSE/ETPMA; cnaf: ..."``; a unit per unit of workload, ``"EUR per unit of
        charge_travail (cnam: UO FSE; ...)"``, gives ``"EUR/UO FSE"``)."""
        units = str(self.ds[name].attrs.get("units", ""))
        per = PER_UNIT.match(units)
        if per and ": " in per.group(2):
            parts = dict(p.strip().split(": ", 1) for p in per.group(2).split(";") if ": " in p)
            return f"{per.group(1)}/{parts[organisme]}" if organisme in parts else ""
        if ": " in units and ";" in units:
            parts = dict(p.strip().split(": ", 1) for p in units.split(";") if ": " in p)
            return parts.get(organisme, units)
        return units

    def parameter(self, path: str, default: Any = None) -> Any:
        return (self.manifest.get("parameters") or {}).get(path, default)


def decode_attrs(attrs: dict) -> dict:
    """Global attributes as written: nested values were stored as JSON text."""
    out = {}
    for k, v in attrs.items():
        if isinstance(v, str) and v[:1] in "[{":
            try:
                v = json.loads(v)
            except ValueError:
                pass
        elif isinstance(v, np.generic):
            v = v.item()
        out[k] = v
    return out


def load_run(run_dir: str | Path) -> Run:
    """Open a run folder written by ``cogsim run``: ``results.nc`` (loaded in memory) and ``manifest.json``.

    Raises
    ------
    InputError
        Every problem at once: missing folder, missing or unreadable ``results.nc`` or ``manifest.json``,
        a NetCDF file that is not a cogsim run (no ``year``/``organisme``/``replicate`` dims or no ETPMA).
    """
    run_dir = Path(run_dir)
    allowed = "a run folder written by `cogsim run` (results.nc, manifest.json)"
    if not run_dir.is_dir():
        why = "not a folder" if run_dir.exists() else "run folder not found"
        raise InputError([Problem(str(run_dir), "", MISSING, why, allowed)])
    problems: list[Problem] = []
    ds = None
    nc = run_dir / "results.nc"
    if not nc.is_file():
        problems.append(Problem(str(nc), "", MISSING, "file not found", allowed))
    else:
        try:
            with xr.open_dataset(nc, engine="netcdf4") as opened:
                ds = opened.load()
        except Exception as exc:  # noqa: BLE001  (any reading failure is bad input, reported as such)
            problems.append(Problem(str(nc), "", MISSING, f"cannot be read as NetCDF ({type(exc).__name__})",
                                    "a results.nc written by `cogsim run`"))
        else:
            missing_dims = [d for d in ("year", "organisme", "replicate") if d not in ds.dims]
            missing_vars = [v for v in REQUIRED if v not in ds.data_vars]
            no_agg = [v for v in ds.data_vars if "aggregation" not in ds[v].attrs]
            if missing_dims or missing_vars or no_agg:
                what = "; ".join(filter(None, [
                    missing_dims and "missing dims " + ", ".join(missing_dims),
                    missing_vars and "missing variables " + ", ".join(missing_vars),
                    no_agg and "variables without an aggregation attribute: " + ", ".join(no_agg[:5])]))
                problems.append(Problem(str(nc), "", MISSING, f"not a cogsim run ({what})",
                                        "a results.nc written by `cogsim run`"))
            else:
                ds.attrs = decode_attrs(ds.attrs)
    mf = run_dir / "manifest.json"
    manifest: dict[str, Any] = {}
    if not mf.is_file():
        problems.append(Problem(str(mf), "", MISSING, "file not found", allowed))
    else:
        try:
            manifest = json.loads(mf.read_text(encoding="utf-8"))
            if not isinstance(manifest, dict):
                raise ValueError("not an object")
        except ValueError as exc:
            problems.append(Problem(str(mf), "", MISSING, f"not valid JSON ({exc})", "the manifest of a cogsim run"))
    if not problems:
        problems.extend(_mismatch(ds, manifest, nc, mf))
    if problems:
        raise InputError(problems)
    return Run(run_dir, ds, manifest)


def _mismatch(ds: xr.Dataset, manifest: dict[str, Any], nc: Path, mf: Path) -> list[Problem]:
    """``results.nc`` and ``manifest.json`` must come from the same run: run id, seed, mode, number of
    replicates, scenario file and title are compared wherever both files record them."""
    scenario = manifest.get("scenario") if isinstance(manifest.get("scenario"), dict) else {}
    header = scenario.get("header") if isinstance(scenario.get("header"), dict) else {}
    pairs = (("run_id", ds.attrs.get("run_id"), manifest.get("run_id")),
             ("seed", ds.attrs.get("seed"), manifest.get("seed")),
             ("mode", ds.attrs.get("mode"), manifest.get("mode")),
             ("replicates", ds.sizes.get("replicate"), manifest.get("replicates_kept", manifest.get("replicates"))),
             ("scenario", ds.attrs.get("scenario"), scenario.get("file")),
             ("title", ds.attrs.get("title"), header.get("title")))
    diffs = [(k, a, b) for k, a, b in pairs if a is not None and b is not None and str(a) != str(b)]
    if not diffs:
        return []
    why = "; ".join(f"{k} {_short(a)} in {nc.name}, {_short(b)} in {mf.name}" for k, a, b in diffs)
    return [Problem(f"{nc} and {mf}", diffs[0][0], MISSING, f"the two files come from different runs ({why})",
                    "the results.nc and manifest.json one `cogsim run` wrote together")]


def _short(v: Any, n: int = 60) -> str:
    text = repr(v) if isinstance(v, str) else str(v)
    return text if len(text) <= n else text[:n - 1] + "…"


def cog_period(run: Run) -> tuple[int, int]:
    """(base year, last year) of the COG period: the year before the régime général's first ceiling;
    without ceilings, the base year of the LPFP path (``lpfp.annee_base``, the same COG 2018-2022
    period); else the first year of the run."""
    years = [int(y) for y in run.years]
    if "plafond_emplois" in run.ds:
        ok = np.isfinite(run.series("plafond_emplois", "regime_general")[:, 0])
        if ok.any():
            first = years[int(np.argmax(ok))]
            return max(first - 1, years[0]), years[-1]
    base = run.parameter("lpfp.annee_base")
    if isinstance(base, (int, float)) and years[0] <= int(base) < years[-1]:
        return int(base), years[-1]
    return years[0], years[-1]
