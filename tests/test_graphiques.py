"""The chart kit (model/outputs/graphiques.py): number formats, every chart of every shipped scenario drawn from
its saved run, the files of a chart (PNG 300 dpi, SVG with its text, PDF), French labels, the fan only
for stochastic runs, grey-scale distinct fills, the report's sensitivity chart on a synthetic result, and
bad run folders."""

from __future__ import annotations

import string
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_rgb

from conftest import SCENARIOS
from model.outputs import graphiques as g
from model.outputs import libelles, nombres, style
from model.params.errors import InputError
from model.results.dataset import REGISTRE
from model.results.run import run_scenario

SHIPPED = sorted(SCENARIOS.glob("*.toml"))
NNBSP = "\u202f"

# one cache for this module and test_rapport.py (pytest imports both as top-level modules)
_RUNS: dict[str, Path] = {}


def saved_run(tmp_path_factory, name: str, **kwargs) -> Path:
    """A run folder made once per session: ``name`` is a shipped scenario stem, plus ``-s`` for a small
    stochastic run of it (8 replicates, seed 1); otherwise deterministic."""
    if name not in _RUNS:
        stem, _, kind = name.partition("-")
        out = tmp_path_factory.mktemp("runs") / name
        if kind == "s":
            run_scenario(SCENARIOS / f"{stem}.toml", out=out, replicates=8, seed=1)
        else:
            run_scenario(SCENARIOS / f"{stem}.toml", out=out, deterministic=True)
        _RUNS[name] = out
    return _RUNS[name]


@pytest.fixture(scope="session")
def runs(tmp_path_factory):
    return lambda name: saved_run(tmp_path_factory, name)


def plain(text: str) -> str:
    """Text with narrow no-break spaces as spaces and line breaks joined (to match labels)."""
    return " ".join(text.replace(NNBSP, " ").split())


def svg_text(path: Path) -> str:
    """Every text node of an SVG, joined by newlines (labels are kept as text: svg.fonttype = none)."""
    root = ET.parse(path).getroot()
    return "\n".join(t for el in root.iter() for t in (el.text, el.tail) if t and t.strip())


# ----------------------------------------------------------------------------- formats
def test_french_and_english_number_formats():
    assert nombres.format_number(-12345.67, 1) == f"\u221212{NNBSP}345,7"
    assert nombres.format_number(1234567) == f"1{NNBSP}234{NNBSP}567"
    assert nombres.format_number(54.4, 0, sign=True) == "+54"
    assert nombres.format_number(-0.04, 1) == "0,0"  # no negative zero
    assert nombres.format_number(float("nan")) == "–"
    assert nombres.format_number(-12345.67, 1, lang="en") == "\u221212,345.7"
    assert nombres.format_percent(0.985) == f"98,5{NNBSP}%"
    assert nombres.format_percent(0.985, lang="en") == "98.5%"
    assert libelles.unit_label("MEUR/an") == "M€/an" and libelles.unit_label("MEUR/an", "en") == "€m/yr"
    assert libelles.unit_label("ETPMA_eq/ETPMA") == "ETPMA-éq./ETPMA"


def test_tick_labels_have_the_decimals_they_need():
    f = nombres.NumberFormatter("fr")
    f.set_locs([0.975, 1.0, 1.025])
    assert [f(v) for v in (0.975, 1.0, 1.025)] == ["0,975", "1,000", "1,025"]
    f.set_locs([60000, 65000, 70000])
    assert f(65000) == f"65{NNBSP}000"
    p = nombres.NumberFormatter("fr", percent=True)
    p.set_locs([0.94, 0.96, 0.98, 1.0])
    assert p(0.98) == f"98{NNBSP}%"


def test_stacked_fills_stay_distinct_in_grey_scale():
    """Each component of a stacked bar differs from every other by its grey level or its hatch."""
    def grey(colour):
        r, gr, b = to_rgb(colour)
        return round(0.299 * r + 0.587 * gr + 0.114 * b, 1)

    keys = [(grey(c), h) for c, h in style.FILLS]
    assert len(set(keys)) == len(keys)
    styles = {(SER[0], SER[1], SER[2]) for SER in style.SERIES.values()}
    assert len(styles) >= len(style.SERIES) - 1  # régime général and total share the bold black line


# ----------------------------------------------------------------------------- label tables
def fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}


def test_one_table_per_language_with_the_same_keys_and_fields():
    """FR and EN have the same sections and keys, and each text the same {fields} in both languages
    (a translation cannot drop a figure); a variable named in one table only is named in the other
    language by the Dataset's long name, and only variables of the results are named."""
    assert libelles.TABLES == {"fr": libelles.FR, "en": libelles.EN}
    assert libelles.FR.keys() == libelles.EN.keys()
    for section in libelles.FR:
        fr, en = libelles.FR[section], libelles.EN[section]
        if section != "variables":
            assert fr.keys() == en.keys(), (section, fr.keys() ^ en.keys())
        if section == "messages":  # regular expressions and their replacements, not str.format templates
            continue
        for k in fr.keys() & en.keys():
            assert fields(fr[k]) == fields(en[k]), (section, k)
    named = libelles.FR["variables"].keys() | libelles.EN["variables"].keys()
    assert named <= REGISTRE.keys(), named - REGISTRE.keys()


def test_no_label_copies_the_datasets_long_name():
    """A chart label identical to a variable's long_name_fr / long_name is read from the Dataset, not
    copied: the French name of adf_hors_informatique and taux_appels_aboutis come from the registry."""
    for lang, table, i in (("fr", libelles.FR, 2), ("en", libelles.EN, 1)):
        for section in ("variables", "graphiques"):
            copies = [(k, v) for k, v in table[section].items() for name in REGISTRE if v == REGISTRE[name][i]]
            assert copies == [], (lang, section, copies)
    assert libelles.variable_label("adf_hors_informatique") == REGISTRE["adf_hors_informatique"][2]
    assert libelles.LABELS["fr"]["adf_hors_informatique"] == "ADF hors informatique"   # the report reads it here
    assert libelles.variable_label("taux_appels_aboutis", "en") == "Share of calls answered"


def test_variable_label_order():
    """The table's short name, else the Dataset's attributes, else the registry, else the name."""
    assert libelles.variable_label("masse_salariale", "fr", {"long_name_fr": "x"}) == "Masse salariale"
    assert libelles.variable_label("smpt", "fr", {"long_name_fr": "Salaire moyen"}) == "Salaire moyen"
    assert libelles.variable_label("smpt", "en", {"long_name_fr": "Salaire moyen"}) == REGISTRE["smpt"][1]
    assert libelles.variable_label("smpt", "fr") == "Salaire moyen par tête (SMPT)"
    assert libelles.variable_label("y", "en") == "y"
    assert libelles.org_label("total", "en") == "All organismes" and libelles.org_label("cnaf") == "CNAF"
    with pytest.raises(ValueError, match="lang must be one of"):
        libelles.variable_label("etpma", "de")


def test_service_panels_named_by_the_dataset(runs):
    """The service chart's panel on calls takes its French title from the Dataset's long_name_fr."""
    run = g.load_run(runs("cog_2018_2022"))
    run.ds["taux_appels_aboutis"].attrs["long_name_fr"] = "Appels aboutis (test)"
    fig = g.chart_service(run, "fr")
    assert "Appels aboutis (test)" in [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]


# ----------------------------------------------------------------------------- every chart, every scenario
@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_chart_renders_for_every_shipped_scenario(runs, path):
    run = g.load_run(runs(path.stem))
    specs = g.applicable(run)
    assert [s.name for s in specs] == [s.name for s in g.CHARTS]
    for spec in specs:
        fig = spec.draw(run, "fr")
        fig.set_layout_engine(None)  # the layout is exercised with the saved files (test_rapport)
        fig.draw_without_rendering()  # draws every artist (no raster)
        texts = [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]
        assert any(run.run_id in t for t in texts), f"{spec.name}: no source note with the run id"


def test_a_chart_saved_in_three_formats(runs, tmp_path):
    run = g.load_run(runs("cog_2018_2022-s"))
    paths = g.save_figure(g.chart_trajectoire_etpma(run), tmp_path, "trajectoire_etpma")
    assert [p.suffix for p in paths] == [".png", ".svg", ".pdf"]
    from PIL import Image

    with Image.open(tmp_path / "trajectoire_etpma.png") as im:
        assert im.size[0] == round(style.LARGEUR * style.DPI)  # 300 dpi at 16 cm
        assert tuple(round(d) for d in im.info["dpi"]) == (300, 300)
    assert (tmp_path / "trajectoire_etpma.pdf").read_bytes().startswith(b"%PDF")
    text = plain(svg_text(tmp_path / "trajectoire_etpma.svg"))
    for label in ("ETPMA simulés et plafonds d'emplois de la COG", "Plafond d'emplois (COG)",
                  "Moyenne des réplications", "Bande à 90 % (5ᵉ–95ᵉ centiles)", "Régime général", "65 000",
                  f"run « {run.run_id} »", "8 réplications, graine 1", plain(run.title)):
        assert label in text, label


def test_english_labels(runs):
    run = g.load_run(runs("cog_2018_2022"))
    fig = g.chart_pont_masse_salariale(run, "en")
    texts = " ".join(t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text")))
    assert "Wage-bill bridge" in texts and "€m" in texts and "deterministic" in texts
    assert "Masse salariale" not in texts


def test_fan_only_for_a_stochastic_run(runs):
    def fans(run):
        fig = g.chart_trajectoire_etpma(run)
        return sum(isinstance(c, PolyCollection) for ax in fig.findobj(lambda a: hasattr(a, "collections"))
                   for c in ax.collections)
    stochastic = g.load_run(runs("cog_2018_2022-s"))
    deterministic = g.load_run(runs("cog_2018_2022"))
    assert fans(stochastic) >= 8
    assert fans(deterministic) == 0
    # the band holds the mean
    lo, hi = stochastic.band("etpma", "total")
    m = stochastic.mean("etpma", "total")
    assert np.all(lo <= m + 1e-9) and np.all(m <= hi + 1e-9) and np.any(hi > lo)


def test_bridges_sum_to_the_change(runs):
    run = g.load_run(runs("cog_2018_2022-s"))
    for org in ("cnam", "msa", "regime_general", "total"):
        ms = g.masse_salariale_bridge(run, org)
        total = sum(ms[k] for k in g.MS_EFFETS)
        np.testing.assert_allclose(total[1:], np.diff(ms["masse_salariale"]), rtol=1e-9, atol=1e-6)
        b = g.etpma_bridge(run, org)
        np.testing.assert_allclose(sum(b[k] for k in g.ETPMA_PARTS)[1:], np.diff(b["etpma"]), atol=1e-6)
        assert np.all(b["departs_retraite"][1:] <= 0) and np.all(b["recrutements"][1:] >= 0)
    # transfers net out over all organismes, not in the régime général (the ex-RSI arrives in 2020)
    assert np.nanmax(np.abs(g.etpma_bridge(run, "total")["transferts"])) < 1e-6
    rg = g.etpma_bridge(run, "regime_general")["transferts"]
    assert rg[list(run.years).index(2020)] > 3000


def test_cog_period(runs):
    assert g.cog_period(g.load_run(runs("cog_2018_2022"))) == (2017, 2022)  # first ceilings in 2018
    assert g.cog_period(g.load_run(runs("tendanciel"))) == (2017, 2022)     # no ceiling: LPFP base year


# ----------------------------------------------------------------------------- comparison and sensitivity
def test_comparison_of_several_runs(runs):
    a, b = g.load_run(runs("cog_2018_2022")), g.load_run(runs("cog_2018_2022_un_sur_deux"))
    fig = g.chart_comparaison([a, b], "fr")
    texts = " ".join(t.get_text() for t in fig.findobj(lambda x: hasattr(x, "get_text")))
    assert a.title[:25] in texts and b.title[:25] in texts and a.run_id in texts and b.run_id in texts
    fig.draw_without_rendering()


# the factors of the synthetic sensitivity result: (path, low, base, high, effect on ETPMA per unit)
SYNTHETIC_FACTORS = (("organismes.cnaf.taux_remplacement", 0.5, 0.6, 0.7, 8000.0),
                     ("organismes.cnam.taux_remplacement", 0.4, 0.5, 0.6, 14500.0),
                     ("departs.age_limite", 68.0, 70.0, 72.0, -70.0),
                     ("transfert_rsi.effectif_gie", 300.0, 350.0, 400.0, 0.1))


def synthetic_sensitivity(method: str = "oat") -> xr.Dataset:
    """A result of ``cogsim sensitivity`` (``sensibilite.nc``'s layout, made by the analysis itself) on a
    linear ETPMA of 130 000 at the scenario's values (total, 2022), its headline ETPMA 2022 total."""
    from model.analysis.sensibilite import Facteur, analyser, plan
    from model.analysis.sensibilite_resultat import HEADLINE

    facteurs = [Facteur(p, lo, hi, base=b) for p, lo, b, hi, _ in SYNTHETIC_FACTORS]
    X = plan(facteurs, method, n=None if method == "oat" else 4, seed=1)
    slope = np.array([c for *_, c in SYNTHETIC_FACTORS])
    y = 130000.0 + (X - np.array([b for _, _, b, _, _ in SYNTHETIC_FACTORS])) @ slope
    Y = xr.Dataset({"etpma": (("point", "year", "organisme"), np.stack([np.outer([0.98, 1.0], [0.25, 1.0]) * v
                                                                         for v in y]),
                              {"units": "ETPMA", "long_name": "ETPMA"})},
                   coords={"year": [2021, 2022], "organisme": ["cnaf", "total"]})
    res = analyser(facteurs, method, X, Y, seed=2)
    res.attrs[HEADLINE] = '{"variable": "etpma", "year": 2022, "organisme": "total"}'
    return res


def test_the_reports_sensitivity_chart_and_drivers(tmp_path):
    """The report's tornado is graphiques_sensibilite's chart of the result's headline cell; its drivers
    are the factors with the largest swing (one at a time) or index (Morris, Sobol')."""
    from model.outputs import graphiques_sensibilite as gs

    sens = synthetic_sensitivity()
    assert gs.headline(sens) == ("etpma", {"year": 2022, "organisme": "total"})
    drivers = gs.top_drivers(sens, 3)
    assert [p for p, _, _ in drivers] == ["organismes.cnam.taux_remplacement", "organismes.cnaf.taux_remplacement",
                                          "departs.age_limite"]
    assert drivers[0][1:] == pytest.approx((-1450.0, 1450.0))
    assert gs.base_output(sens) == pytest.approx(130000.0)
    fig = gs.chart_headline(sens, "fr", source="Source : test")
    g.save_figure(fig, tmp_path, "tornado")
    text = svg_text(tmp_path / "tornado.svg")
    assert "Sensibilité (un facteur à la fois) : ETPMA 2022 — Ensemble" in text and "Facteur à sa valeur haute" in text
    # without a recorded headline: the first variable, last year, total
    del sens.attrs["headline"]
    assert gs.headline(sens) == ("etpma", {"year": 2022, "organisme": "total"})
    morris = synthetic_sensitivity("morris")
    assert gs.top_drivers(morris, 1)[0][0] == "organismes.cnam.taux_remplacement"
    gs.chart_headline(morris, "en").draw_without_rendering()


def test_a_malformed_sensitivity_file_is_bad_input(tmp_path):
    from model.analysis.sensibilite_resultat import lire
    from model.results.writers import netcdf_safe

    xr.Dataset({"x": ("parameter", [1.0])}, coords={"parameter": ["a"]}).to_netcdf(tmp_path / "s.nc", engine="netcdf4")
    with pytest.raises(InputError, match="not a sensitivity result"):
        lire(tmp_path / "s.nc")
    netcdf_safe(synthetic_sensitivity()).to_netcdf(tmp_path / "ok.nc", engine="netcdf4")
    assert lire(tmp_path / "ok.nc").attrs["method"] == "oat"


# ----------------------------------------------------------------------------- bad run folders
def test_load_run_reports_bad_folders(tmp_path, runs):
    with pytest.raises(InputError) as e:
        g.load_run(tmp_path / "nope")
    assert str(e.value) == f"{tmp_path / 'nope'}: run folder not found (allowed: a run folder written by " \
                           "`cogsim run` (results.nc, manifest.json))"
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError) as e:
        g.load_run(empty)
    assert len(e.value.problems) == 2  # results.nc and manifest.json, both reported
    other = tmp_path / "other"
    other.mkdir()
    xr.Dataset({"x": ("t", [1.0, 2.0])}).to_netcdf(other / "results.nc", engine="netcdf4")
    (other / "manifest.json").write_text("{}", encoding="utf-8")
    with pytest.raises(InputError, match="not a cogsim run"):
        g.load_run(other)
    (other / "results.nc").write_text("not netcdf", encoding="utf-8")
    with pytest.raises(InputError, match="cannot be read as NetCDF"):
        g.load_run(other)
    good = g.load_run(runs("cog_2018_2022"))
    assert good.run_id == "cog_2018_2022" and not good.stochastic
    assert good.units_of("productivite", "cnaf") == "allocataires pondérés/ETPMA"
