"""Initial state at 31 December 2012: persons and ETP by organisme × contract × single year of age.

No published pyramid exists by organisme, so by default it is reconstructed (and flagged estimated):

* the CDI pyramid is a mixture of two normal densities over ages 20-64: the large cohorts recruited in
  the 1970s-1980s (mean ``etat_initial.age_moyen_anciens``, fitted; sd 4) and the later recruits (sd 8.5, mean solved for); the weight and the
  mean of the second component are solved so that the pyramid has the catalogue's mean exact age
  (``etat_initial.age_moyen_cdi``) and share aged 50 or more (``etat_initial.part_plus_50_cdi``);
* the CDD pyramid is a normal density (sd 8) over ages 18-64 with mean ``etat_initial.age_moyen_cdd``;
* every organisme gets the same shapes, scaled to its headcount (``effectif_initial``), its CDD share
  and its mean quotité.

Ages are ages attained in the year (2012 - birth year), so the exact age at 31 December is the age
plus half a year on average.

A user may supply a CSV instead (``etat_initial.fichier``) with columns
``organisme,contrat,age,effectif,etp``: one row per organisme × contract × age, persons and ETP (sum of
quotités) at 31 December 2012.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from model.params.calendrier import AGES, CONTRATS, HORIZON_DEFAUT
from model.params.effectifs import EtatInitial, read_csv
from model.params.errors import InputError, Problem
from model.params.parametres import Parametres

MU_ANCIENS, SD_ANCIENS, SD_RECENTS = 56.0, 4.0, 8.5  # shape assumptions (the first: etat_initial.age_moyen_anciens)
SD_CDD = 8.0
CDI_AGES = (20, 64)
CDD_AGES = (18, 64)
SOURCE_RECONSTRUITE = "reconstructed (model/engine/etat_initial.py; estimated)"


def _pyramid(mean: float, sd: float, lo: int, hi: int) -> np.ndarray:
    ages = np.array(AGES, float)
    w = np.where((ages >= lo) & (ages <= hi), np.exp(-0.5 * ((ages - mean) / sd) ** 2), 0.0)
    return w / w.sum()


def pyramide_cdi(age_moyen: float, part_plus_50: float, mu_anciens: float = MU_ANCIENS) -> np.ndarray:
    """CDI age distribution (sums to 1 over ``AGES``) with the given mean exact age and share ≥ 50;
    ``mu_anciens``: mean age of the older component (the cohorts recruited in the 1970s-1980s)."""
    ages = np.array(AGES, float)
    old = _pyramid(mu_anciens, SD_ANCIENS, *CDI_AGES)

    exact = ages + 0.5
    m_old = (old * exact).sum()

    def fit(mu: float) -> tuple[float, np.ndarray]:
        """For a mean ``mu`` of the recent recruits, the weight that gives the mean age, and the mix."""
        new = _pyramid(mu, SD_RECENTS, *CDI_AGES)
        m_new = (new * exact).sum()
        w = float(np.clip((age_moyen - m_new) / (m_old - m_new), 0.0, 1.0))
        return w, w * old + (1 - w) * new

    # the share aged 50+ decreases as the recent recruits get younger at a given mean: bisect on mu
    lo, hi = 22.0, 55.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        share = fit(mid)[1][ages >= 50].sum()
        lo, hi = (mid, hi) if share > part_plus_50 else (lo, mid)
    return fit(0.5 * (lo + hi))[1]


def pyramide_cdd(age_moyen: float) -> np.ndarray:
    """CDD age distribution: a normal (sd 8) truncated to 18-64 whose mean exact age is ``age_moyen``."""
    exact = np.array(AGES, float) + 0.5
    lo, hi = 0.0, 100.0
    for _ in range(60):  # the truncated mean increases with the normal's mean: bisect
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if (_pyramid(mid, SD_CDD, *CDD_AGES) * exact).sum() < age_moyen else (lo, mid)
    return _pyramid(0.5 * (lo + hi), SD_CDD, *CDD_AGES)


def _whole_persons(x: np.ndarray) -> np.ndarray:
    """Round each row (last axis) to whole persons keeping the row total (largest-remainder method: the
    ``short`` cells with the largest remainders, the first of equal ones, get one more person)."""
    out = np.floor(x)
    short = np.rint(x.sum(-1) - out.sum(-1)).astype(int)
    order = np.argsort(-(x - out), axis=-1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.broadcast_to(np.arange(x.shape[-1]), order.shape), axis=-1)
    out += rank < short[..., None]
    return out


def _cellules(par: Parametres, effectif_initial: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Persons and ETP of the reconstruction for headcounts ``effectif_initial`` of shape ([batch,] O):
    arrays ([batch,] organisme, contrat, age)."""
    cdi = pyramide_cdi(par["etat_initial.age_moyen_cdi"], par["etat_initial.part_plus_50_cdi"],
                       par["etat_initial.age_moyen_anciens"])
    cdd = pyramide_cdd(par["etat_initial.age_moyen_cdd"])
    total = np.rint(effectif_initial)
    n_cdd = np.rint(total * par.par_organisme("part_cdd_initiale"))
    q_cdi = par.par_organisme("quotite_moyenne_cdi")
    q_cdd = par["etat_initial.quotite_moyenne_cdd"]
    n = np.zeros((*total.shape, len(CONTRATS), len(AGES)))
    n[..., 0, :] = _whole_persons((total - n_cdd)[..., None] * cdi)
    n[..., 1, :] = _whole_persons(n_cdd[..., None] * cdd)
    e = n.copy()
    e[..., 0, :] *= q_cdi[:, None]
    e[..., 1, :] *= q_cdd
    return n, e


def reconstruct(par: Parametres) -> EtatInitial:
    """The estimated initial state from the catalogue/scenario parameters."""
    n, e = _cellules(par, par.par_organisme("effectif_initial"))
    return EtatInitial(n, e, SOURCE_RECONSTRUITE, True)


def reconstruct_par_element(par: Parametres, effectif_initial: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The reconstruction of each batch element whose headcounts differ (parameter draws of
    ``effectif_initial``): persons and ETP of shape (batch, organisme, contrat, age), each element exactly
    the state :func:`reconstruct` gives for its own ``effectif_initial`` (``effectif_initial``: (batch,
    organisme), persons; the other parameters of the reconstruction are ``par``'s)."""
    return _cellules(par, np.asarray(effectif_initial, float))


def etat_initial(par: Parametres, base_dir: Path | None = None, tardif: bool = False) -> EtatInitial:
    """The initial state a run uses: the user's CSV if ``etat_initial.fichier`` is set, else the
    reconstruction at 31 December 2012. A first year after 2013 needs what the model's history hands over
    (:mod:`model.engine.reprise`), which :func:`model.results.run.run_scenario` makes: refused here unless
    ``tardif`` (its caller) says so."""
    if par.horizon.premiere != HORIZON_DEFAUT.premiere and not tardif:
        raise InputError([Problem("scenario", "simulation.premiere_annee", par.horizon.premiere,
                                  "a later first year needs the staff at 31 December of the year before and the "
                                  "model's history: cogsim run only (sweeps, solve and sensitivity start in "
                                  f"{HORIZON_DEFAUT.premiere})", f"{HORIZON_DEFAUT.premiere} here")])
    fichier = par["etat_initial.fichier"]
    if fichier:
        p = Path(fichier)
        if not p.is_absolute() and base_dir is not None:
            p = base_dir / p
        return read_csv(p, organismes_fermes(par))
    return reconstruct(par)


def organismes_fermes(par: Parametres) -> tuple[str, ...]:
    """The organismes closed before the horizon starts (the ex-RSI after its bulk transfer): a staff file
    may have no row for them."""
    return ("rsi",) if par.horizon.mois_depuis_debut(par["transfert_rsi.date_principale"]) <= 0 else ()


def etat_final(traj, replicate: int = 0, source: str = "") -> EtatInitial:
    """The state at 31 December of the last year of a run (``traj``: a :class:`Trajectoire`), element
    ``replicate`` of its batch, as the initial state of a run of the following years: persons, ETP and
    the mean pay at full time per cell at the pay of that December (index × value of the point), so that
    the next run, whose point value starts at 1, pays the same."""
    n, e, w = (x[replicate] for x in traj.etat_final)
    indice = np.divide(w, e, out=np.zeros_like(w), where=e > 0) * traj.valeur_point_finale
    return EtatInitial(n.copy(), e.copy(), source or "simulated by cogsim", True, indice)
