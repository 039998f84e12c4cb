"""Layer 2: the stock–flow identity, every month and every organisme, persons and ETP.

    stock[t] = stock[t-1] + recrutements[t] - departs_retraite[t] - departs_autres[t]
               + transferts_entrants[t] - transferts_sortants[t],      stock[-1] = initial state

(``departs_autres`` includes the CDD endings and ``recrutements`` the CDD hires, per the Trajectoire
docstring). Parameters, dates and seeds are varied with hypothesis.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import by_year, gel, vague
from model.params.calendrier import HORIZON_DEFAUT, ORGANISMES
from model.engine.simulation import simulate

# the default horizon (2013-2022) the tests' fixtures are built on
N_MOIS = HORIZON_DEFAUT.n_mois
date_du_mois = HORIZON_DEFAUT.date_du_mois


def check_identities(tr, etat0, stochastic: bool) -> None:
    f, fe = tr.flux, tr.flux_etp
    for stock, flows, init in ((tr.effectif, f, etat0.effectif), (tr.etp_cdi + tr.etp_cdd, fe, etat0.etp)):
        before = np.concatenate([np.broadcast_to(init.sum((1, 2)), (1, *stock.shape[1:])), stock[:-1]])
        change = (flows["recrutements"] - flows["departs_retraite"] - flows["departs_autres"]
                  + flows["transferts_entrants"] - flows["transferts_sortants"])
        np.testing.assert_allclose(stock, before + change, rtol=0, atol=1e-6 * max(1.0, init.sum()))
        assert stock.min() >= -1e-9
        for name in flows:
            assert flows[name].min() >= -1e-9, name
    # the parts are within their wholes
    assert np.all(f["fins_cdd"] <= f["departs_autres"] + 1e-9)
    assert np.all(f["recrutements_cdd"] <= f["recrutements"] + 1e-9)
    # transfers move people between organismes: none created or lost
    for flows in (f, fe):
        np.testing.assert_allclose(flows["transferts_entrants"].sum(-1), flows["transferts_sortants"].sum(-1),
                                   rtol=1e-12, atol=1e-9)
    if stochastic:  # persons are whole in the stochastic mode
        assert np.array_equal(tr.effectif, np.round(tr.effectif))
        for name, x in f.items():
            assert np.array_equal(x, np.round(x)), name


@pytest.mark.parametrize("mode", ["deterministic", "stochastic"])
def test_identity_on_the_default_scenario(cog, cog_etat0, mode):
    tr = simulate(cog.parametres, cog_etat0, replicates=3, seed=2024, mode=mode)
    check_identities(tr, cog_etat0, mode == "stochastic")
    np.testing.assert_array_equal(tr.effectif_initial, cog_etat0.effectif)


month = st.integers(0, N_MOIS - 1)


@st.composite
def variations(draw):
    ch = {}
    for o in draw(st.lists(st.sampled_from(ORGANISMES), max_size=3, unique=True)):
        ch[f"organismes.{o}.taux_remplacement"] = by_year(draw(st.floats(0.0, 1.5)))
        ch[f"organismes.{o}.delai_recrutement"] = draw(st.integers(0, 12))
        ch[f"organismes.{o}.taux_renouvellement_cdd"] = by_year(draw(st.floats(0.0, 2.0)))
        ch[f"organismes.{o}.recrutements_supplementaires"] = by_year(draw(st.sampled_from([0.0, 120.0, 1000.0])))
        if draw(st.booleans()):
            ch[f"organismes.{o}.plafond_emplois"] = by_year(draw(st.floats(0.0, 80000.0)))
    # the bulk transfer on 2013-01-01 (month 0) is a known bug, tested alone below
    p = draw(st.integers(1, N_MOIS - 1))
    g = draw(st.integers(0, p))
    ch["transfert_rsi.date_gie"] = date_du_mois(g)
    ch["transfert_rsi.date_principale"] = date_du_mois(p)
    ch["transfert_rsi.effectif_gie"] = draw(st.sampled_from([0.0, 350.0, 9000.0]))  # 9 000 > the ex-RSI
    if draw(st.booleans()):
        a = draw(st.integers(0, N_MOIS - 2))
        b = draw(st.integers(a + 1, N_MOIS))  # N_MOIS: frozen to the end of the horizon
        ch["gels_recrutement"] = (gel("g", draw(st.sampled_from(ORGANISMES)), date_du_mois(a), date_du_mois(b),
                                      draw(st.sampled_from(["cdi", "tous"]))),)
    if draw(st.booleans()):
        ch["mutualisations"] = (vague("v", draw(st.sampled_from(ORGANISMES[:5])), date_du_mois(draw(month)),
                                      draw(st.integers(1, 60)), draw(st.floats(0, 1)), draw(st.floats(0, 0.5)),
                                      1.0),)
    return ch


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ch=variations(), seed=st.integers(0, 2**32), mode=st.sampled_from(["stochastic", "deterministic"]))
def test_identity_holds_whatever_the_parameters(cog, cog_etat0, ch, seed, mode):
    tr = simulate(cog.parametres.with_values(ch), cog_etat0, replicates=2, seed=seed, mode=mode)
    check_identities(tr, cog_etat0, mode == "stochastic")
    rsi = ORGANISMES.index("rsi")
    t_bulk = (ch["transfert_rsi.date_principale"].year - 2013) * 12 + ch["transfert_rsi.date_principale"].month - 1
    assert tr.effectif[t_bulk:, :, rsi].max() == 0.0
    assert np.abs(tr.etp_cdi[t_bulk:, :, rsi] + tr.etp_cdd[t_bulk:, :, rsi]).max() == 0.0


@pytest.mark.parametrize("mode", ["deterministic", "stochastic"])
def test_both_transfer_steps_in_the_first_month(cog, cog_etat0, mode):
    d0 = date_du_mois(0)
    par = cog.parametres.with_values({"transfert_rsi.date_gie": d0, "transfert_rsi.date_principale": d0})
    tr = simulate(par, cog_etat0, replicates=1, seed=1, mode=mode)
    rsi = ORGANISMES.index("rsi")
    assert tr.effectif[:, 0, rsi].max() == 0.0
    check_identities(tr, cog_etat0, mode == "stochastic")
