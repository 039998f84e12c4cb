"""The resolved parameter set: an immutable mapping from parameter path to value (one set, or a batch of them).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any, Iterator, Sequence

import numpy as np

from model.params.calendrier import HORIZON_DEFAUT, ORGANISMES, Horizon


# ----------------------------------------------------------------------------- resolved parameters
class Parametres(Mapping):
    """An immutable, fully resolved parameter set: resolved path -> value.

    Values: Python scalars (float, int, str, ``datetime.date``); read-only ``numpy`` arrays over
    the horizon's years (:attr:`horizon`) for parameters that vary by year; tuples of ``(key, value)`` pairs for tables;
    read-only mappings for shares; tuples of read-only mappings for event lists.
    """

    def __init__(self, values: Mapping[str, Any]):
        self._values = dict(values)

    def __getitem__(self, path: str) -> Any:
        return self._values[path]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    @property
    def horizon(self) -> Horizon:
        """The run's simulated years (``simulation.premiere_annee`` to ``simulation.derniere_annee``)."""
        return horizon_de(self._values)

    def par_organisme(self, name: str) -> np.ndarray:
        """Values of an organisme parameter stacked over ``ORGANISMES``: shape (organisme,) or
        (organisme, year) for parameters that vary by year."""
        return np.stack([np.asarray(self._values[f"organismes.{o}.{name}"], dtype=float) for o in ORGANISMES])

    def yro(self, path: str) -> np.ndarray:
        """A numeric parameter shaped to broadcast against (year, batch, organisme) arrays: (1, 1, 1), or
        (year, 1, 1) when it varies by year; ``ParametresLot`` gives (·, batch, 1) when it differs
        between the points of a batch."""
        v = np.asarray(self[path], dtype=float)
        return v.reshape(-1, 1, 1) if v.ndim else v.reshape(1, 1, 1)

    def yro_organisme(self, name: str) -> np.ndarray:
        """An organisme parameter shaped to broadcast against (year, batch, organisme) arrays:
        (1 or year, 1, organisme); ``ParametresLot`` gives (·, batch, organisme) when it differs."""
        v = self.par_organisme(name)
        return v.T[:, None, :] if v.ndim == 2 else v[None, None, :]

    def table(self, path: str) -> tuple[np.ndarray, np.ndarray]:
        """Keys and values of a table parameter, sorted by key."""
        pairs = self._values[path]
        return np.array([k for k, _ in pairs], float), np.array([v for _, v in pairs], float)

    def with_values(self, changes: Mapping[str, Any]) -> "Parametres":
        """A new parameter set with ``changes`` applied (values already resolved)."""
        new = dict(self._values)
        new.update(changes)
        return Parametres(new)

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable copy (for ``manifest.json``)."""
        h = self.horizon
        return {k: jsonable(v, h) for k, v in self._values.items()}


class ParametresLot(Parametres):
    """The parameters of a batch of grid points (``points × replicates`` batch elements, point-major),
    and/or of replicates that draw their own parameter values (:meth:`par_element`).

    Reads as the first point's parameters (``Parametres``); the paths in ``varies`` differ between the
    batch elements, and the engine and the post-processing read them per batch element through
    :meth:`lot` (and the DataArray helpers of :mod:`model.budget.productivite`, which give them a
    ``replicate`` dim).
    """

    def __init__(self, points: Sequence[Parametres], replicates: int, paths: Sequence[str]):
        super().__init__(dict(points[0]))
        self.replicates = replicates
        self.n_points = len(points)
        self._lot: dict[str, np.ndarray] = {}
        for path in paths:
            rows = np.stack([np.asarray(p[path], dtype=float) for p in points])
            if not np.array_equal(rows, np.broadcast_to(rows[0], rows.shape), equal_nan=True):
                self._lot[path] = np.repeat(rows, replicates, axis=0)

    @classmethod
    def par_element(cls, par: Parametres, replicates: int, valeurs: Mapping[str, np.ndarray]) -> "ParametresLot":
        """``par`` with values that differ between the elements of its batch (parameter draws).

        Parameters
        ----------
        par : one parameter set (a batch of ``replicates`` elements), or a ``ParametresLot`` of grid points
            (``n_points × replicates`` elements, point-major), whose per-element values are kept unless
            ``valeurs`` replaces them.
        replicates : replicates per point (must be the lot's own when ``par`` is a lot).
        valeurs : ``{path: array (batch, ...)}``, one row per batch element, in the parameter's resolved
            form: a number, an array over the horizon's years for a by-year parameter, the values over the set's
            keys (``par.table(path)[0]``) for a table.

        Reads as ``par`` does (the first point's values); the engine and the post-processing read the
        per-element values through :meth:`lot` and :meth:`lot_organisme`.
        """
        lot = cls.__new__(cls)
        Parametres.__init__(lot, dict(par))
        if isinstance(par, ParametresLot):
            if par.replicates != replicates:
                raise ValueError(f"a lot of {par.replicates} replicates per point, not {replicates}")
            lot.replicates, lot.n_points, lot._lot = par.replicates, par.n_points, dict(par._lot)
        else:
            lot.replicates, lot.n_points, lot._lot = replicates, 1, {}
        n = lot.n_points * lot.replicates
        for path, v in valeurs.items():
            v = np.asarray(v, dtype=float)
            if v.shape[:1] != (n,):
                raise ValueError(f"{path}: {v.shape[0] if v.ndim else 'no'} rows for a batch of {n} elements")
            lot._lot[path] = v
        return lot

    @property
    def varies(self) -> frozenset[str]:
        return frozenset(self._lot)

    def lot(self, path: str) -> np.ndarray | None:
        """Values per batch element, shape (batch, ...), or None when all elements share the value (for a
        table set through :meth:`par_element`: its values over the set's keys)."""
        return self._lot.get(path)

    def yro(self, path: str) -> np.ndarray:
        lot = self._lot.get(path)
        if lot is None:
            return super().yro(path)
        return lot.T[:, :, None] if lot.ndim == 2 else lot[None, :, None]

    def yro_organisme(self, name: str) -> np.ndarray:
        lot = self.lot_organisme(name)
        if lot is None:
            return super().yro_organisme(name)
        return np.transpose(lot, (2, 0, 1)) if lot.ndim == 3 else lot[None, :, :]

    def lot_organisme(self, name: str) -> np.ndarray | None:
        """``par_organisme`` per batch element, shape (batch, organisme[, year]), or None."""
        paths = [f"organismes.{o}.{name}" for o in ORGANISMES]
        if not any(p in self._lot for p in paths):
            return None
        base = self.par_organisme(name)
        return np.stack([self._lot[p] if p in self._lot else np.broadcast_to(base[i], (self.n_points * self.replicates,
                                                                                     *base.shape[1:]))
                         for i, p in enumerate(paths)], axis=1)


def horizon_de(values: Mapping[str, Any]) -> Horizon:
    """The horizon of resolved parameter values (the default one where they do not say)."""
    return Horizon(int(values.get("simulation.premiere_annee", HORIZON_DEFAUT.premiere)),
                   int(values.get("simulation.derniere_annee", HORIZON_DEFAUT.derniere)))


def jsonable(v: Any, horizon: Horizon | None = None) -> Any:
    """A JSON-serialisable copy of a resolved value; a by-year array as {year: value} over ``horizon``
    (default: as many years as the array from the default first year)."""
    if isinstance(v, np.ndarray):
        h = horizon or Horizon(HORIZON_DEFAUT.premiere, HORIZON_DEFAUT.premiere + max(len(v), 1) - 1)
        return {str(y): jsonable(float(x)) for y, x in zip(h.annees, v)}
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float) and math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if isinstance(v, Mapping):
        return {str(k): jsonable(x, horizon) for k, x in v.items()}
    if isinstance(v, tuple):
        if v and isinstance(v[0], tuple):  # table pairs
            return {fmt_key(k): jsonable(x) for k, x in v}
        return [jsonable(x, horizon) for x in v]
    return v


def fmt_key(k: float) -> str:
    return str(int(k)) if float(k).is_integer() else str(k)
