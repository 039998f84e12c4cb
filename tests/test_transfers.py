"""Layer 3: the ex-RSI transfers conserve persons and ETP; movers keep their age and quotité; the ex-RSI
ends at exactly zero."""

from __future__ import annotations

import numpy as np
import pytest

from model.params.calendrier import HORIZON_DEFAUT, ORGANISMES
from model.engine.simulation import simulate
from model.results.dataset import build_dataset

# the default horizon (2013-2022) the tests' fixtures are built on
ANNEES = HORIZON_DEFAUT.annees

RSI = ORGANISMES.index("rsi")
RECEIVERS = [ORGANISMES.index(o) for o in ("cnam", "cnav", "acoss")]
T_GIE, T_BULK = 78, 84  # 2019-07 and 2020-01 on the monthly clock


@pytest.fixture(scope="module", params=["deterministic", "stochastic"])
def cog_run(request, cog, cog_etat0):
    return request.param, simulate(cog.parametres, cog_etat0, replicates=4, seed=77, mode=request.param)


def test_in_equals_out_every_month(cog_run):
    _, tr = cog_run
    for flows in (tr.flux, tr.flux_etp):
        np.testing.assert_allclose(flows["transferts_entrants"].sum(-1), flows["transferts_sortants"].sum(-1),
                                   rtol=1e-12, atol=1e-9)
        # only the two dated steps move anybody, only out of the ex-RSI, only into cnam/cnav/acoss
        moving = np.flatnonzero(flows["transferts_sortants"].sum((1, 2)))
        assert moving.tolist() == [T_GIE, T_BULK]
        assert np.count_nonzero(np.delete(flows["transferts_sortants"], RSI, axis=2)) == 0
        others = [o for o in range(len(ORGANISMES)) if o not in RECEIVERS]
        assert np.count_nonzero(flows["transferts_entrants"][:, :, others]) == 0


def test_gie_moves_its_headcount_of_cdi(cog_run, cog):
    mode, tr = cog_run
    n_gie = cog.parametres["transfert_rsi.effectif_gie"]
    np.testing.assert_allclose(tr.flux["transferts_sortants"][T_GIE, :, RSI], n_gie)
    np.testing.assert_allclose(tr.flux["transferts_entrants"][T_GIE].sum(-1), n_gie)
    if mode == "deterministic":
        shares = cog.parametres["transfert_rsi.repartition_gie"]
        np.testing.assert_allclose(tr.flux["transferts_entrants"][T_GIE, 0, RECEIVERS],
                                   [n_gie * shares[o] for o in ("cnam", "cnav", "acoss")])


def test_bulk_empties_the_rsi_exactly(cog_run, cog):
    mode, tr = cog_run
    # the bulk transfer runs first in January 2020: it moves the staff of the end of December 2019
    np.testing.assert_allclose(tr.flux["transferts_sortants"][T_BULK, :, RSI], tr.effectif[T_BULK - 1, :, RSI], rtol=1e-12)
    etp_dec = tr.etp_cdi[T_BULK - 1, :, RSI] + tr.etp_cdd[T_BULK - 1, :, RSI]
    np.testing.assert_allclose(tr.flux_etp["transferts_sortants"][T_BULK, :, RSI], etp_dec, rtol=1e-12)
    # and nothing is left, nor ever comes back: not a rounding residue, exactly zero
    assert np.all(tr.effectif[T_BULK:, :, RSI] == 0.0)
    assert np.all(tr.etp_cdi[T_BULK:, :, RSI] == 0.0)
    assert np.all(tr.etp_cdd[T_BULK:, :, RSI] == 0.0)
    for name in ("recrutements", "departs_retraite", "departs_autres"):
        assert np.all(tr.flux[name][T_BULK + 1:, :, RSI] == 0.0), name
    if mode == "deterministic":
        shares = cog.parametres["transfert_rsi.repartition"]
        np.testing.assert_allclose(tr.flux["transferts_entrants"][T_BULK, 0, RECEIVERS],
                                   [tr.effectif[T_BULK - 1, 0, RSI] * shares[o] for o in ("cnam", "cnav", "acoss")])


# ----------------------------------------------------------------------------- ages and quotités
# A tiny ex-RSI of CDI only, in three cells with distinct ages and quotités, nobody else; no flow but the
# transfers. Ages attained in 2012: 30, 45, 55 -> in 2019: 37, 52, 62 (exact ages at 31 Dec: +0.5).
CELLS = {30: (12, 0.5), 45: (9, 0.8), 55: (7, 1.0)}  # age: (persons, quotité)
AGE_2019 = {a: a + 7 for a in CELLS}


def _tiny_run(make_par, make_etat, mode, seed):
    etat = make_etat({("rsi", "cdi", a): (n, n * q) for a, (n, q) in CELLS.items()})
    par = make_par({"transfert_rsi.effectif_gie": 10.0,
                    "transfert_rsi.repartition_gie": {"cnam": 0.5, "cnav": 0.5, "acoss": 0.0},
                    "transfert_rsi.repartition": {"cnam": 0.25, "cnav": 0.25, "acoss": 0.5}})
    tr = simulate(par, etat, mode=mode, seed=seed)
    return tr, build_dataset(tr, par).isel(replicate=0)


def _solve_cells(n, plus_50, age_somme):
    """Persons per source cell (ages 37, 52, 62 in 2019) from the December headcount, the count aged 50+
    and the sum of exact ages of an organisme that only holds movers."""
    a1, a2, a3 = (AGE_2019[a] + 0.5 for a in CELLS)
    k1 = n - plus_50
    # k2 + k3 = plus_50 ; a2 k2 + a3 k3 = age_somme - a1 k1
    k3 = (age_somme - a1 * k1 - a2 * plus_50) / (a3 - a2)
    return np.array([k1, plus_50 - k3, k3])


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_gie_movers_keep_age_and_quotite(make_par, make_etat, seed):
    tr, ds = _tiny_run(make_par, make_etat, "stochastic", seed)
    y = ANNEES.index(2019)
    q = np.array([q for _, q in CELLS.values()])
    src = np.array([n for n, _ in CELLS.values()], float)
    total_k = np.zeros(3)
    for org in ("cnam", "cnav", "acoss", "rsi"):
        o = ORGANISMES.index(org)
        n = ds["effectif_31dec"].sel(year=2019, organisme=org).item()
        k = _solve_cells(n, tr.plus_50[y, 0, o], tr.age_somme[y, 0, o])
        np.testing.assert_allclose(k, np.round(k), atol=1e-9)  # whole persons of the three source ages
        assert np.all(k >= -1e-9)
        # the ETP that arrived is exactly the movers' quotités: nobody changed working time on the way
        assert ds["etp_31dec"].sel(year=2019, organisme=org).item() == pytest.approx(float(k @ q), abs=1e-9)
        total_k += k
    np.testing.assert_allclose(total_k, src, atol=1e-9)  # every person is somewhere, at the same age
    n_moved = tr.flux["transferts_entrants"][T_GIE, 0].sum()
    assert n_moved == 10
    assert tr.flux["transferts_entrants"][T_GIE, 0, ORGANISMES.index("acoss")] == 0


def test_bulk_movers_keep_age_and_quotite_deterministic(make_par, make_etat):
    tr, ds = _tiny_run(make_par, make_etat, "deterministic", 0)
    # deterministic: every cell is split by the shares, so each receiver holds the source's age mix
    rsi_2019 = ds.sel(year=2019, organisme="rsi")
    src_mean_age = sum(n * (AGE_2019[a] + 0.5) for a, (n, _) in CELLS.items()) / sum(n for n, _ in CELLS.values())
    src_ratio = sum(n * q for n, q in CELLS.values()) / sum(n for n, _ in CELLS.values())
    assert rsi_2019["age_moyen"].item() == pytest.approx(src_mean_age)
    for org in ("cnam", "cnav", "acoss"):
        r = ds.sel(year=2020, organisme=org)
        assert r["age_moyen"].item() == pytest.approx(src_mean_age + 1)  # one year older in 2020
        assert r["part_plus_50"].item() == pytest.approx((9 + 7) / 28)
        assert r["etp_31dec"].item() / r["effectif_31dec"].item() == pytest.approx(src_ratio)
    assert ds["effectif_31dec"].sel(year=2020).sum().item() == pytest.approx(28)
    assert ds["etp_31dec"].sel(year=2020).sum().item() == pytest.approx(sum(n * q for n, q in CELLS.values()))
    assert ds["effectif_31dec"].sel(year=2020, organisme="rsi").item() == 0.0
    # 2020 ETPMA of the receivers: the GIE movers (10 x 0.75 ETP on average) all year, then the bulk
    assert ds["etpma"].sel(year=2020).sum().item() == pytest.approx(sum(n * q for n, q in CELLS.values()))


def test_gie_larger_than_the_rsi_moves_everybody_once(make_par, make_etat):
    etat = make_etat({("rsi", "cdi", 40): (5, 4.0), ("rsi", "cdd", 30): (2, 2.0)})
    par = make_par({"transfert_rsi.effectif_gie": 350.0, "organismes.rsi.duree_moyenne_cdd": 36.0})
    for mode in ("deterministic", "stochastic"):
        tr = simulate(par, etat, mode=mode, seed=9)
        # the GIE step takes CDI only: the 5 CDI agents, not 350
        assert tr.flux["transferts_sortants"][T_GIE, 0, RSI] == pytest.approx(5.0)
        assert tr.flux_etp["transferts_sortants"][T_GIE, 0, RSI] == pytest.approx(4.0)
        assert tr.etp_cdi[T_GIE, 0, RSI] == 0.0
        assert tr.effectif[T_BULK:, 0, RSI].max() == 0.0
