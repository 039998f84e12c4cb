"""Parameters that may differ between the elements of one engine batch (grid points of a sweep, parameter
draws of the replicates of a run), and the engine's per-element forms of those it reads in a special way.
"""

from __future__ import annotations

import numpy as np

from model.engine.etat_initial import reconstruct_par_element
from model.params.calendrier import ORGANISMES
from model.params.effectifs import EtatInitial
from model.params.inducteurs import chemins_inducteurs
from model.params.parametres import Parametres, ParametresLot

# organisme parameters whose value may differ between the elements of one batch (a sweep's fast path,
# parameter draws), each element exactly as a run of its own; any other difference between points needs a
# batch of its own (model.analysis.sweep groups them)
PARAMETRES_LOT = ("taux_remplacement", "taux_renouvellement_cdd", "recrutements_supplementaires",
                  "plafond_emplois", "taux_autres_departs", "duree_moyenne_cdd",
                  "taux_remplacement_autres_departs", "marge_plafond", "comblement_cdd", "part_cdd_max",
                  "plafond_variation", "taux_gvt_promotions")

# other parameters the engine reads per batch element (the fitted ones a stochastic run draws,
# model.params.incertitude), each element exactly as a run of its own: a table's values (its keys shared)
PARAMETRES_LOT_GLOBAUX = ("departs.hazard_retraite", "remuneration.ratio_salaire_entrant")

# organisme parameters of the reconstructed initial state the engine takes per batch element: each element
# starts from the reconstruction of its own values (model.engine.etat_initial.reconstruct_par_element); a
# batch whose initial state is a staff file cannot vary them (the file says how many staff there are)
PARAMETRES_LOT_ETAT = ("effectif_initial",)


# parameters the engine never reads (the pay bill's charges and targets, the budget, productivity and
# gaps read them afterwards, per batch element when they differ: model.params.parametres.ParametresLot)
HORS_MOTEUR_ORGANISME = ("surface_par_etpma", "part_teletravail", "achats_par_etpma", "adf_editique_2013",
                      "evolution_editique", "informatique_fonctionnement_2013", "evolution_informatique_fonctionnement",
                      "adf_autres_2013", "evolution_adf_autres", "investissement_informatique", "investissement_autre",
                      "cible_adf_taux", "charge_travail_reference", "croissance_charge_travail",
                      "charge_nouvelles_missions", "productivite_reference", "cible_productivite_base",
                      "cible_productivite_taux", "enveloppe_masse_salariale",
                      # service quality (model.service.dossiers): backlog capacity, entraide, targets, telephony staff
                      "capacite_par_etpma_reference", "gain_productivite_service", "part_entraide_pretee",
                      "poids_entraide_recue", "delai_cible", "cible_taux_appels_aboutis", "taux_absenteisme",
                      "part_telephonie")
HORS_MOTEUR = ("adf.cout_immobilier_m2", "adf.evolution_cout_immobilier", "adf.economie_surface_teletravail",
            "adf.evolution_prix_achats", "adf.environnement_utilisateur_par_etpma", "lpfp.taux_evolution_max",
            "productivite.reference_ij", "productivite.croissance_relative_charge_ij", "productivite.cible_ij_base",
            "productivite.cible_ij_taux", "remuneration.rmpp_cadrage", "remuneration.taux_charges_patronales",
            "remuneration.taux_formation", "remuneration.taux_autres_depenses_personnel",
            "service.forme_delai", "telephonie.heures_par_etpma", "telephonie.taux_connexion") + chemins_inducteurs()




def interp_lignes(x: np.ndarray, xp: np.ndarray, fp: np.ndarray) -> np.ndarray:
    """``np.interp(x, xp, fp[i], left=0.0, right=fp[i, -1])`` for every row i of ``fp`` at once, with the
    same arithmetic (so each row is bit for bit the single-row result).

    Parameters
    ----------
    x : points, shape (n,); xp : increasing keys, shape (k,); fp : values, shape (rows, k).

    Returns
    -------
    np.ndarray
        Shape (rows, n).
    """
    x = np.asarray(x, float)
    xp = np.asarray(xp, float)
    fp = np.asarray(fp, float)
    j = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, len(xp) - 1)
    j1 = np.minimum(j + 1, len(xp) - 1)
    dx = np.where(j1 > j, xp[j1] - xp[j], 1.0)
    slope = (fp[:, j1] - fp[:, j]) / dx
    out = slope * (x - xp[j]) + fp[:, j]
    out = np.where(x == xp[j], fp[:, j], out)  # on a key: its value (numpy's rule)
    out = np.where(x < xp[0], 0.0, out)
    return np.where(x >= xp[-1], fp[:, -1:], out)


def etat_par_element(par: Parametres, etat0: EtatInitial, effectif_initial: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Persons and ETP at the start, per batch element (batch, organisme, contrat, age), for headcounts
    ``effectif_initial`` (batch, organisme) that differ between elements: the organismes whose headcount
    differs from ``par``'s start from the reconstruction of their own (``etat0``, which must be the
    reconstruction of ``par``, gives the others)."""
    if not etat0.estimated:
        raise ValueError("effectif_initial differs between the elements of a batch whose initial state is a staff "
                         f"file ({etat0.source}): the file fixes the headcounts")
    eff = np.asarray(effectif_initial, float)
    n = np.broadcast_to(etat0.effectif, (eff.shape[0], *etat0.effectif.shape)).copy()
    e = np.broadcast_to(etat0.etp, n.shape).copy()
    autres = np.flatnonzero((eff != par.par_organisme("effectif_initial")[None]).any(0))
    if autres.size:
        n_r, e_r = reconstruct_par_element(par, eff)
        n[:, autres], e[:, autres] = n_r[:, autres], e_r[:, autres]
    return n, e


def check_lot(par: ParametresLot, replicates: int, etat0: EtatInitial) -> None:
    """Refuse (ValueError: a bug of the caller) a batch whose elements differ in a parameter the engine
    cannot take per element, or whose replicates per point are not ``replicates``."""
    organisme = PARAMETRES_LOT + HORS_MOTEUR_ORGANISME + PARAMETRES_LOT_ETAT
    free = {f"organismes.{o}.{n}" for o in ORGANISMES for n in organisme}
    free.update(HORS_MOTEUR + PARAMETRES_LOT_GLOBAUX)
    if par.replicates != replicates or not par.varies <= free:
        raise ValueError(f"a batch's elements may differ only in {', '.join(PARAMETRES_LOT + PARAMETRES_LOT_GLOBAUX + PARAMETRES_LOT_ETAT)} "
                         f"and in parameters the engine does not read (here: {', '.join(sorted(par.varies - free))}), "
                         f"with {par.replicates} replicates each (asked: {replicates})")
    if any(f"organismes.{o}.effectif_initial" in par.varies for o in ORGANISMES) and not etat0.estimated:
        raise ValueError(f"effectif_initial differs between the elements of a batch whose initial state is a staff file "
                         f"({etat0.source})")


__all__ = ["PARAMETRES_LOT", "PARAMETRES_LOT_GLOBAUX", "PARAMETRES_LOT_ETAT", "HORS_MOTEUR", "HORS_MOTEUR_ORGANISME",
           "interp_lignes", "etat_par_element", "check_lot"]
