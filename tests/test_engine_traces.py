"""Layer 1: the SimPy calendar on tiny cases — exact sequence and times of the traced events.

The clock counts months from January 2013 (t = 0), so a date's month is (year - 2013) * 12 + month - 1:
2015-03 -> 26, 2016-01 -> 36, 2019-07 -> 78 (GIE SI transfer), 2020-01 -> 84 (bulk transfer).
"""

from __future__ import annotations

import pytest

from conftest import d, gel, vague
from model.params.calendrier import HORIZON_DEFAUT
from model.engine.simulation import simulate
from model.results.dataset import build_dataset

# the default horizon (2013-2022) the tests' fixtures are built on
N_MOIS = HORIZON_DEFAUT.n_mois
mois_depuis_debut = HORIZON_DEFAUT.mois_depuis_debut

DATED = {"transfert_gie", "transfert_principal", "fermeture", "debut_mutualisation",
         "fin_montee_en_charge", "debut_gel", "fin_gel"}
MONTHLY = {"depart_retraite", "autre_depart", "fin_cdd", "recrutement_cdi", "recrutement_cdd"}


def dated(trace, kinds=DATED):
    return [(t, ev, org) for t, ev, org, _ in trace if ev in kinds]


GELS = {"debut_gel", "fin_gel"}
MUTU = {"debut_mutualisation", "fin_montee_en_charge"}


def months_of(trace, event, org):
    return sorted({t for t, ev, o, _ in trace if ev == event and o == org})


def test_month_arithmetic_of_the_calendar():
    # independent of the engine: the dates quoted in the module docstring
    assert mois_depuis_debut(d(2013, 1)) == 0
    assert mois_depuis_debut(d(2019, 7)) == 78
    assert mois_depuis_debut(d(2020, 1)) == 84
    assert mois_depuis_debut(d(2022, 12)) == N_MOIS - 1 == 119


@pytest.mark.parametrize("mode", ["deterministic", "stochastic"])
def test_ageing_every_twelve_months(make_par, make_etat, mode):
    etat = make_etat({("cnav", "cdi", 40): (3, 3.0)})
    tr = simulate(make_par(), etat, mode=mode, seed=1, trace=True)
    ageing = [(t, ev) for t, ev, _, _ in tr.trace if ev == "vieillissement"]
    assert ageing == [(12 * y, "vieillissement") for y in range(10)]


@pytest.mark.parametrize("mode", ["deterministic", "stochastic"])
def test_rsi_transfer_at_default_dates(make_par, make_etat, mode):
    etat = make_etat({("rsi", "cdi", 40): (10, 10.0), ("rsi", "cdi", 50): (6, 5.0)})
    par = make_par({"transfert_rsi.effectif_gie": 4.0})
    tr = simulate(par, etat, mode=mode, seed=3, trace=True)
    assert dated(tr.trace) == [
        (78, "transfert_gie", "cnam"), (78, "transfert_gie", "cnav"), (78, "transfert_gie", "acoss"),
        (84, "transfert_principal", "cnam"), (84, "transfert_principal", "cnav"),
        (84, "transfert_principal", "acoss"), (84, "fermeture", "rsi"),
    ]
    moved = {}
    for t, ev, org, v in tr.trace:
        if ev.startswith("transfert"):
            moved.setdefault(ev, {})[org] = v
    # 4 agents to the GIE SI, the 12 others in the bulk
    assert sum(moved["transfert_gie"].values()) == pytest.approx(4.0)
    assert sum(moved["transfert_principal"].values()) == pytest.approx(12.0)
    if mode == "deterministic":  # split as the catalogue's shares
        assert moved["transfert_gie"] == pytest.approx({"cnam": 4 * 0.34, "cnav": 4 * 0.33, "acoss": 4 * 0.33})
        assert moved["transfert_principal"] == pytest.approx(
            {"cnam": 12 * 0.28, "cnav": 12 * 0.32, "acoss": 12 * 0.40})
    else:  # whole persons
        assert all(float(v).is_integer() for ev in moved.values() for v in ev.values())


def test_rsi_transfer_follows_its_dates(make_par, make_etat):
    etat = make_etat({("rsi", "cdi", 40): (10, 10.0)})
    par = make_par({"transfert_rsi.date_gie": d(2016, 3), "transfert_rsi.date_principale": d(2018, 11),
                    "transfert_rsi.effectif_gie": 2.0})
    tr = simulate(par, etat, mode="deterministic", trace=True)
    assert [(t, ev) for t, ev, _ in dated(tr.trace)] == [(38, "transfert_gie")] * 3 + \
        [(70, "transfert_principal")] * 3 + [(70, "fermeture")]


def test_both_transfer_steps_in_the_same_month(make_par, make_etat):
    etat = make_etat({("rsi", "cdi", 40): (10, 10.0)})
    par = make_par({"transfert_rsi.date_gie": d(2017, 1), "transfert_rsi.date_principale": d(2017, 1)})
    tr = simulate(par, etat, mode="deterministic", trace=True)
    assert [ev for _, ev, _ in dated(tr.trace)] == ["transfert_gie"] * 3 + ["transfert_principal"] * 3 + \
        ["fermeture"]
    assert {t for t, _, _ in dated(tr.trace)} == {48}
    assert tr.effectif[48:, 0, 5].max() == 0.0


# ----------------------------------------------------------------------------- hiring freezes
def _freeze_case(make_par, make_etat, gels):
    """cnav: 200 CDI and 20 CDD, other exits 10 %/yr, every departure replaced the same month, every CDD
    ending renewed: in deterministic mode there are CDI and CDD hires every month unless frozen."""
    etat = make_etat({("cnav", "cdi", 40): (200, 190.0), ("cnav", "cdd", 30): (20, 20.0)})
    par = make_par({"organismes.cnav.taux_autres_departs": 0.1, "organismes.cnav.taux_remplacement": 1.0,
                    "organismes.cnav.taux_renouvellement_cdd": 1.0, "organismes.cnav.delai_recrutement": 0,
                    "gels_recrutement": tuple(gels)})
    return simulate(par, etat, mode="deterministic", trace=True)


def test_cdi_freeze_stops_cdi_hires_only(make_par, make_etat):
    tr = _freeze_case(make_par, make_etat, [gel("g", "cnav", d(2015, 3), d(2015, 6), "cdi")])
    assert dated(tr.trace, GELS) == [(26, "debut_gel", "cnav"), (29, "fin_gel", "cnav")]
    assert months_of(tr.trace, "recrutement_cdi", "cnav") == [t for t in range(N_MOIS) if t not in (26, 27, 28)]
    assert months_of(tr.trace, "recrutement_cdd", "cnav") == list(range(N_MOIS))
    assert tr.flux["recrutements"][26:29, 0, 2] == pytest.approx(tr.flux["recrutements_cdd"][26:29, 0, 2])


def test_freeze_of_all_contracts(make_par, make_etat):
    tr = _freeze_case(make_par, make_etat, [gel("g", "cnav", d(2015, 3), d(2015, 6), "tous")])
    frozen = (26, 27, 28)
    for ev in ("recrutement_cdi", "recrutement_cdd"):
        assert months_of(tr.trace, ev, "cnav") == [t for t in range(N_MOIS) if t not in frozen]
    assert tr.flux["recrutements"][26:29, 0, 2].tolist() == [0.0, 0.0, 0.0]


def test_overlapping_freezes_stack(make_par, make_etat):
    # A freezes Jan-Jun 2015, B Apr-Sep 2015: hiring resumes only when the last one ends (Oct 2015)
    tr = _freeze_case(make_par, make_etat, [gel("a", "cnav", d(2015, 1), d(2015, 7)),
                                            gel("b", "cnav", d(2015, 4), d(2015, 10))])
    assert dated(tr.trace, GELS) == [(24, "debut_gel", "cnav"), (27, "debut_gel", "cnav"),
                               (30, "fin_gel", "cnav"), (33, "fin_gel", "cnav")]
    assert months_of(tr.trace, "recrutement_cdi", "cnav") == [t for t in range(N_MOIS) if not 24 <= t <= 32]


def test_freeze_ending_in_the_last_month(make_par, make_etat):
    tr = _freeze_case(make_par, make_etat, [gel("g", "cnav", d(2022, 6), d(2022, 12))])
    assert dated(tr.trace, GELS) == [(113, "debut_gel", "cnav"), (119, "fin_gel", "cnav")]
    assert months_of(tr.trace, "recrutement_cdi", "cnav")[-2:] == [112, 119]


def test_freeze_running_past_the_horizon_has_no_end_event(make_par, make_etat):
    # the engine accepts a freeze ending after December 2022 (see test_validation for the loader)
    tr = _freeze_case(make_par, make_etat, [gel("g", "cnav", d(2022, 6), d(2023, 1))])
    assert dated(tr.trace, GELS) == [(113, "debut_gel", "cnav")]
    assert months_of(tr.trace, "recrutement_cdi", "cnav")[-1] == 112


@pytest.mark.parametrize("delai", [0, 3, 11])
def test_a_departure_is_replaced_once_after_the_delay(make_par, make_etat, delai):
    # aged 66 in 2012: reaches the age limit (70) on 1 January 2016 (month 36) and retires
    etat = make_etat({("cnaf", "cdi", 66): (1, 1.0), ("cnaf", "cdi", 40): (5, 5.0)})
    par = make_par({"organismes.cnaf.taux_remplacement": 1.0, "organismes.cnaf.delai_recrutement": delai})
    for mode in ("deterministic", "stochastic"):
        tr = simulate(par, etat, mode=mode, seed=2, trace=True)
        assert months_of(tr.trace, "recrutement_cdi", "cnaf") == [36 + delai]
        assert tr.flux["recrutements"][:, 0, 1].sum() == pytest.approx(1.0)
        assert tr.flux["departs_retraite"][36, 0, 1] == pytest.approx(1.0)


# ----------------------------------------------------------------------------- mutualisations
def _msa_case(make_par, make_etat, vagues):
    """msa: 1 000 full-time CDI aged 40, other exits 10 %/yr, every departure replaced the same month:
    without a wave the ETP stays at exactly 1 000 (deterministic)."""
    etat = make_etat({("msa", "cdi", 40): (1000, 1000.0)})
    par = make_par({"organismes.msa.taux_autres_departs": 0.1, "organismes.msa.taux_remplacement": 1.0,
                    "organismes.msa.delai_recrutement": 0, "mutualisations": tuple(vagues)})
    return par, simulate(par, etat, mode="deterministic", trace=True)


def test_mutualisation_wave_events_and_ramp_up(make_par, make_etat):
    par, tr = _msa_case(make_par, make_etat, [vague("v", "msa", d(2016, 1), 12, 0.5, 0.1, 6.0)])
    # the ramp-up occupies the 12 months 36..47: it starts at 36 and its last month is 47
    assert dated(tr.trace, MUTU) == [(36, "debut_mutualisation", "msa"), (47, "fin_montee_en_charge", "msa")]
    ds = build_dataset(tr, par).isel(replicate=0).sel(organisme="msa")
    # 0.1 x 0.5 x 1 000 ETP at the start of the wave = 50 ETP given back, all in 2016, through hires forgone
    assert ds["gain_mutualisation"].sel(year=2016).item() == pytest.approx(50.0)
    assert ds["gain_mutualisation"].sum().item() == pytest.approx(50.0)
    assert ds["etp_31dec"].sel(year=2015).item() == pytest.approx(1000.0)
    assert ds["etp_31dec"].sel(year=2016).item() == pytest.approx(950.0)
    assert ds["etp_31dec"].sel(year=2022).item() == pytest.approx(950.0)
    # the transition cost is spread evenly over the ramp-up
    assert ds["cout_transition_mutualisation"].values.tolist() == pytest.approx([0, 0, 0, 6.0, 0, 0, 0, 0, 0, 0])


def test_mutualisation_wave_over_several_years(make_par, make_etat):
    par, tr = _msa_case(make_par, make_etat, [vague("v", "msa", d(2016, 1), 60, 0.37, 0.05, 10.0)])
    assert dated(tr.trace, MUTU) == [(36, "debut_mutualisation", "msa"), (95, "fin_montee_en_charge", "msa")]
    ds = build_dataset(tr, par).isel(replicate=0).sel(organisme="msa")
    assert ds["cout_transition_mutualisation"].values.tolist() == pytest.approx([0, 0, 0, 2, 2, 2, 2, 2, 0, 0])
    assert ds["gain_mutualisation"].sum().item() == pytest.approx(0.05 * 0.37 * 1000)


def test_mutualisation_wave_cut_by_the_horizon(make_par, make_etat):
    par, tr = _msa_case(make_par, make_etat, [vague("v", "msa", d(2022, 7), 12, 0.5, 0.1, 12.0)])
    assert dated(tr.trace, MUTU) == [(114, "debut_mutualisation", "msa")]
    ds = build_dataset(tr, par).isel(replicate=0).sel(organisme="msa")
    assert ds["cout_transition_mutualisation"].sel(year=2022).item() == pytest.approx(6.0)
    assert ds["gain_mutualisation"].sel(year=2022).item() == pytest.approx(25.0)


def test_reported_mutualisation_gain_is_real_during_a_freeze(make_par, make_etat):
    v = vague("v", "msa", d(2016, 1), 12, 0.5, 0.1, 1.0)
    g = gel("g", "msa", d(2016, 1), d(2017, 1))
    par_f = make_par({"organismes.msa.taux_autres_departs": 0.1, "organismes.msa.taux_remplacement": 1.0,
                      "organismes.msa.delai_recrutement": 0, "gels_recrutement": (g,)})
    par_b = par_f.with_values({"mutualisations": (v,)})
    etat = make_etat({("msa", "cdi", 40): (1000, 1000.0)})
    only_freeze, both = (build_dataset(simulate(p, etat, mode="deterministic"), p).isel(replicate=0).sel(organisme="msa")
                         for p in (par_f, par_b))
    reported = both["gain_mutualisation"].sum().item()
    real = only_freeze["etp_31dec"].sel(year=2022).item() - both["etp_31dec"].sel(year=2022).item()
    assert reported == pytest.approx(real, abs=1e-6)


# ----------------------------------------------------------------------------- order within a month
def test_dated_events_come_first_within_their_month(cog, cog_etat0):
    par = cog.parametres.with_values({
        "gels_recrutement": (gel("g", "cnav", d(2019, 7), d(2020, 1)), gel("h", "cnaf", d(2016, 1), d(2017, 1))),
    })
    for mode in ("deterministic", "stochastic"):
        tr = simulate(par, cog_etat0, mode=mode, seed=11, trace=True)
        times = [t for t, *_ in tr.trace]
        assert times == sorted(times)
        by_month: dict[int, list[str]] = {}
        for t, ev, _, _ in tr.trace:
            by_month.setdefault(t, []).append(ev)
        months_with_dated = {t for t, evs in by_month.items() if DATED & set(evs)}
        # transfers (78, 84), the MSA wave (36, 95), the two freezes (36, 48, 78, 84)
        assert months_with_dated == {36, 48, 78, 84, 95}
        for t, evs in by_month.items():
            kinds = ["dated" if ev in DATED else "ageing" if ev == "vieillissement" else "flow" for ev in evs]
            assert kinds == sorted(kinds, key=["dated", "ageing", "flow"].index), (t, evs)
            assert set(evs) - DATED - {"vieillissement"} <= MONTHLY
            # every month has departures and hires of replicate 0 in this scenario
            assert "recrutement_cdi" in evs and ("autre_depart" in evs or "depart_retraite" in evs), t


def test_events_dated_in_the_first_month_come_before_its_flows(make_par, make_etat):
    # month 0 is the one month where every process starts at the same time as the tick
    etat = make_etat({("rsi", "cdi", 40): (10, 10.0), ("msa", "cdi", 40): (100, 100.0)})
    par = make_par({"transfert_rsi.date_gie": d(2013, 1), "transfert_rsi.effectif_gie": 4.0,
                    "organismes.msa.taux_autres_departs": 0.1, "organismes.msa.taux_remplacement": 1.0,
                    "organismes.msa.delai_recrutement": 0,
                    "mutualisations": (vague("v", "msa", d(2013, 1), 3, 0.5, 0.1, 1.0),),
                    "gels_recrutement": (gel("g", "msa", d(2013, 1), d(2013, 2)),)})
    tr = simulate(par, etat, mode="deterministic", trace=True)
    month0 = [(ev, org) for t, ev, org, _ in tr.trace if t == 0]
    assert month0[:6] == [("transfert_gie", "cnam"), ("transfert_gie", "cnav"), ("transfert_gie", "acoss"),
                          ("debut_mutualisation", "msa"), ("debut_gel", "msa"), ("vieillissement", "")]
    assert ("recrutement_cdi", "msa") not in month0  # frozen in January 2013
    assert tr.effectif[0, 0, 5] == 6.0  # the GIE agents left the ex-RSI before January was recorded
    assert tr.flux["transferts_sortants"][0, 0, 5] == 4.0
