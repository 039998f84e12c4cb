"""Sensitivity analysis (model/analysis/sensibilite.py and sensibilite_resultat.py,
model/outputs/graphiques_sensibilite.py) on analytic functions whose indices are known: Sobol' on Ishigami,
per-year Sobol' on a linear model with time-varying coefficients, Morris and OAT on linear / quadratic
functions; equality with SALib's own per-cell ``analyze``; constant cells; bad input; the written files and
charts."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from model.outputs import graphiques_sensibilite as gs
from model.analysis import sensibilite_resultat as sens
from model.params.errors import InputError
from model.analysis.sensibilite import Facteur, analyser, plan

PI = np.pi
ISHIGAMI = [Facteur("x1", -PI, PI), Facteur("x2", -PI, PI), Facteur("x3", -PI, PI)]
# Ishigami (a = 7, b = 0.1) with inputs U(-π, π): V = a²/8 + b·π⁴/5 + b²·π⁸/18 + 1/2 = 13.8446;
# V1 = (1 + b·π⁴/5)²/2, V2 = a²/8, V13 = 8·b²·π⁸/225: S1 = (0.3139, 0.4424, 0), ST = (0.5576, 0.4424, 0.2437)
S1_ISHIGAMI = np.array([0.3139, 0.4424, 0.0])
ST_ISHIGAMI = np.array([0.5576, 0.4424, 0.2437])


def ishigami(X: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    return np.sin(X[:, 0]) + a * np.sin(X[:, 1]) ** 2 + b * X[:, 2] ** 4 * np.sin(X[:, 0])


def one_output(y: np.ndarray, units: str = "ETPMA") -> xr.Dataset:
    return xr.Dataset({"y": ("point", y, {"units": units, "long_name": "test output"})})


# ----------------------------------------------------------------------------- Sobol'
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sobol_on_ishigami(seed):
    """N = 1024 base samples (5 120 evaluations). Each estimate must lie within its own 95 % confidence
    half-width of the analytic value, and within 0.03: the scrambled Sobol' sequence converges faster
    than the bootstrap (which assumes independent draws) says, so the CI (0.02-0.09 here) is
    conservative; 0.03 is about half the typical S1 half-width, so a wrong estimator or a wrong
    column order (errors ≥ 0.1) fails."""
    X = plan(ISHIGAMI, "sobol", 1024, seed)
    assert X.shape == (1024 * 5, 3)
    res = analyser(ISHIGAMI, "sobol", X, one_output(ishigami(X)), seed=seed)["y"]
    for name, truth in (("S1", S1_ISHIGAMI), ("ST", ST_ISHIGAMI)):
        est, half = res.sel(indice=name).values, res.sel(indice=f"{name}_conf").values
        assert np.all(np.abs(est - truth) <= half), (name, est, half)
        assert np.all(np.abs(est - truth) < 0.03), (name, est)
        assert np.all((half > 0) & (half < 0.1))


def linear_by_year():
    """y(t, organisme) = a(t)·x1 + b(t)·x2 + 0·x3, x1 ~ U(0, 1), x2 ~ U(0, 2), x3 ~ U(5, 6); independent
    uniform inputs, so S_i(t) = c_i(t)²·Var(x_i) / Σ_j c_j(t)²·Var(x_j) (no interaction: S1 = ST);
    Var(x1) = 1/12, Var(x2) = 4/12. In 2013-2014 both coefficients are 0: the output does not vary."""
    facteurs = [Facteur("a.x1", 0.0, 1.0), Facteur("b.x2", 0.0, 2.0), Facteur("c.x3", 5.0, 6.0)]
    years = np.arange(2013, 2023)
    a = np.array([0, 0, 1, 1, 1, 1, 2, 3, 4, 5], float)
    b = np.array([0, 0, 0, 0.25, 0.5, 1, 1, 1, 1, 1], float)
    scale = np.array([1.0, -3.0])            # organisme 2: both coefficients × −3 (same indices)
    var = np.array([1 / 12, 4 / 12])
    s_x1 = np.divide(a ** 2 * var[0], a ** 2 * var[0] + b ** 2 * var[1], out=np.full(10, np.nan),
                     where=(a ** 2 + b ** 2) > 0)
    s_x2 = np.where(np.isnan(s_x1), np.nan, 1 - s_x1)
    return facteurs, years, a, b, scale, s_x1, s_x2


def test_sobol_indices_by_year_and_organisme():
    facteurs, years, a, b, scale, s_x1, s_x2 = linear_by_year()
    X = plan(facteurs, "sobol", 512, seed=4)
    y = (X[:, :1, None] * a[None, :, None] + X[:, 1:2, None] * b[None, :, None]) * scale[None, None, :] + 100.0
    Y = xr.Dataset({"etpma": (("point", "year", "organisme"), y, {"units": "ETPMA", "long_name": "ETPMA"}),
                    "ratio": (("point", "year"), y[..., 0] / 100.0, {"units": "1"})},
                   coords={"year": years, "organisme": ["cnaf", "cnam"]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")      # no warning spam for the constant years
        res = analyser(facteurs, "sobol", X, Y, seed=5)
    da = res["etpma"]
    assert da.dims == ("facteur", "indice", "year", "organisme")
    assert list(da.indice.values) == ["S1", "S1_conf", "ST", "ST_conf"]
    assert da.attrs["units"] == "ETPMA" and res["ratio"].dims == ("facteur", "indice", "year")
    for org in ("cnaf", "cnam"):
        for ind in ("S1", "ST"):
            got = da.sel(indice=ind, organisme=org)
            np.testing.assert_allclose(got.sel(facteur="a.x1").values, s_x1, atol=0.03)
            np.testing.assert_allclose(got.sel(facteur="b.x2").values, s_x2, atol=0.03)
            assert np.all(got.sel(facteur="c.x3").values[2:] == 0.0)   # no effect: exactly 0
    # one year checked by value: 2016, a = 1, b = 0.25 → S_x1 = (1/12) / (1/12 + 1/16·4/12) = 0.8
    assert da.sel(indice="ST", facteur="a.x1", year=2016, organisme="cnam").item() == pytest.approx(0.8, abs=0.02)
    assert np.isnan(da.sel(year=[2013, 2014])).all()                      # constant: undefined
    assert da.attrs["n_cellules_constantes"] == 2 * 2 and da.attrs["n_cellules_nan"] == 0
    assert "NaN" in res.attrs["cellules_constantes"]
    np.testing.assert_allclose(res["ratio"].sel(indice="S1").values, da.sel(indice="S1", organisme="cnaf").values)


def test_equal_to_salib_analyze_per_cell():
    """The vectorised analysis gives SALib's own per-cell results (same seeded resamples), first and
    second order, Morris too."""
    from SALib.analyze import morris as salib_morris
    from SALib.analyze import sobol as salib_sobol

    facteurs = [Facteur(f"p{i}", -1.0 + i, 2.0 + 2 * i) for i in range(4)]
    problem = {"num_vars": 4, "names": [f.path for f in facteurs], "bounds": [[f.low, f.high] for f in facteurs]}
    rng = np.random.default_rng(0)
    X = plan(facteurs, "sobol", 64, 3, second_order=True)
    Yv = X @ rng.normal(size=(4, 3)) + np.sin(X[:, :1]) * X[:, 1:2] ** 2
    res = analyser(facteurs, "sobol", X, xr.Dataset({"y": (("point", "c"), Yv)}), seed=11, second_order=True)
    for c in range(3):
        ref = salib_sobol.analyze(problem, Yv[:, c].copy(), calc_second_order=True, seed=11)
        for k in ("S1", "S1_conf", "ST", "ST_conf"):
            np.testing.assert_allclose(res["y"].sel(indice=k).isel(c=c).values, ref[k], rtol=1e-9, atol=1e-12)
        for k in ("S2", "S2_conf"):
            np.testing.assert_allclose(res[f"y__{k}"].isel(c=c).values, ref[k], rtol=1e-9, atol=1e-12)
    Xm = plan(facteurs, "morris", 12, 3)
    Ym = Xm @ rng.normal(size=(4, 3)) + np.sin(Xm[:, :1]) * Xm[:, 1:2] ** 2
    res = analyser(facteurs, "morris", Xm, xr.Dataset({"y": (("point", "c"), Ym)}), seed=11)
    for c in range(3):
        ref = salib_morris.analyze(problem, Xm, Ym[:, c].copy(), seed=11)
        for k in ("mu", "mu_star", "mu_star_conf", "sigma"):
            np.testing.assert_allclose(res["y"].sel(indice=k).isel(c=c).values, ref[k], rtol=1e-9, atol=1e-12)


# ----------------------------------------------------------------------------- Morris and OAT
def test_morris_on_a_linear_function():
    """SALib's elementary effect is Δy / Δ with Δ the step in the unit hypercube, the inputs taken in
    their own units: for y = c·x, every effect is c·(high − low) (output units per full range)."""
    facteurs = [Facteur("a", 0.0, 2.0), Facteur("b", -1.0, 4.0), Facteur("c", 10.0, 20.0)]
    c = np.array([3.0, -2.0, 0.0])
    X = plan(facteurs, "morris", 10, seed=7, levels=4)
    assert X.shape == (10 * 4, 3)
    res = analyser(facteurs, "morris", X, one_output(X @ c + 50.0), seed=1, levels=4)["y"]
    ranges = np.array([2.0, 5.0, 10.0])
    np.testing.assert_allclose(res.sel(indice="mu").values, c * ranges, rtol=1e-10)
    np.testing.assert_allclose(res.sel(indice="mu_star").values, np.abs(c) * ranges, rtol=1e-10)
    np.testing.assert_allclose(res.sel(indice="sigma").values, 0.0, atol=1e-9)
    np.testing.assert_allclose(res.sel(indice="mu_star_conf").values, 0.0, atol=1e-9)
    assert sens.unite_indice(res.to_dataset(name="y"), "y", "mu_star") == "ETPMA"


def test_oat_swing_base_and_elasticity():
    facteurs = [Facteur("p.carre", 1.0, 3.0, base=2.0, label="carré"), Facteur("p.lin", 0.0, 10.0)]
    X = plan(facteurs, "oat")
    np.testing.assert_array_equal(X, [[2, 5], [1, 5], [3, 5], [2, 0], [2, 10]])
    y = X[:, 0] ** 2 + 10 * X[:, 1]                       # base: 4 + 50 = 54
    res = analyser(facteurs, "oat", X, one_output(y, "MEUR/an"))
    da = res["y"]
    assert list(da.indice.values) == ["low", "high", "swing", "elasticity", "base"]
    np.testing.assert_allclose(da.sel(indice="base").values, [54.0, 54.0])
    np.testing.assert_allclose(da.sel(indice="low").values, [51.0, 4.0])
    np.testing.assert_allclose(da.sel(indice="high").values, [59.0, 104.0])
    np.testing.assert_allclose(da.sel(indice="swing").values, [8.0, 100.0])
    # (swing / base output) / (range / base value): (8/54) / (2/2), (100/54) / (10/5)
    np.testing.assert_allclose(da.sel(indice="elasticity").values, [8 / 54, (100 / 54) / 2])
    assert list(res["facteur_label"].values) == ["carré", "p.lin"]
    assert res["facteur_base"].values.tolist() == [2.0, 5.0]
    assert sens.unite_indice(res, "y", "swing") == "MEUR/an" and sens.unite_indice(res, "y", "elasticity") == "1"


def test_constant_and_nan_outputs():
    facteurs = ISHIGAMI
    for methode, n in (("sobol", 16), ("morris", 4), ("oat", None)):
        X = plan(facteurs, methode, n, seed=1)
        P = X.shape[0]
        y = np.stack([np.full(P, 3.0), np.full(P, 0.0), ishigami(X), ishigami(X)], axis=1)
        y[0, 3] = np.nan
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            res = analyser(facteurs, methode, X, xr.Dataset({"y": (("point", "c"), y)}), seed=1)["y"]
        if methode == "sobol":
            assert np.isnan(res.isel(c=[0, 1])).all()
        elif methode == "morris":
            assert (res.isel(c=[0, 1]) == 0).all()
        else:
            assert (res.sel(indice="swing").isel(c=[0, 1]) == 0).all()
            np.testing.assert_array_equal(res.sel(indice="base").isel(c=0), 3.0)
        assert np.isnan(res.isel(c=3)).all()               # a NaN at one point: NaN indices
        if methode == "oat":   # the factors' base values are 0 (midpoints of (−π, π)): elasticity undefined
            assert np.isnan(res.sel(indice="elasticity")).all()
            res = res.drop_sel(indice="elasticity")
        assert np.isfinite(res.isel(c=2)).all()
        assert res.attrs["n_cellules_constantes"] == 2 and res.attrs["n_cellules_nan"] == 1


# ----------------------------------------------------------------------------- bad input
CLI_NAMES = {"source": "command line", "facteur": "--param", "methode": "--method", "n": "--samples",
             "seed": "--seed", "levels": "--levels"}


def messages(exc: pytest.ExceptionInfo) -> list[str]:
    return [str(p) for p in exc.value.problems]


def test_bad_factors_and_options_are_input_errors():
    bad = [Facteur("organismes.cnaf.taux_remplacement", 0.8, 0.5), Facteur("x", 0.0, 1.0, base=2.0),
           Facteur("x", 0.0, 1.0)]
    with pytest.raises(InputError) as e:
        plan(bad, "sobol", 100, seed=None, names=CLI_NAMES)
    m = messages(e)
    assert m[0] == ("command line: --param = 'organismes.cnaf.taux_remplacement=0.8:0.5': "
                    "organismes.cnaf.taux_remplacement: low (0.8) is not below high (0.5) "
                    "(allowed: PATH=LOW:HIGH with LOW < HIGH)")
    assert any("x: base value 2.0 outside [0.0, 1.0]" in s for s in m)
    assert any("factor x given twice" in s for s in m)
    assert any(s.startswith("command line: --seed") for s in m)
    assert any("--samples = 100: not a power of 2" in s for s in m)
    assert len(m) == 5                                     # every problem at once
    with pytest.raises(InputError, match=r"--method = 'fast': unknown method \(allowed: oat, morris, sobol\)"):
        plan(ISHIGAMI, "fast", 8, seed=1, names=CLI_NAMES)
    # without names, the library names the arguments themselves: no command-line option below the cli
    with pytest.raises(InputError) as e:
        plan(bad, "sobol", 100, seed=None)
    assert [p.path for p in e.value.problems] == ["facteurs"] * 3 + ["seed", "n"]
    assert all(p.file == "arguments" for p in e.value.problems)
    with pytest.raises(ValueError, match="unknown input"):
        plan(ISHIGAMI, "oat", names={"samples": "--samples"})
    with pytest.raises(InputError, match="too few trajectories for morris"):
        plan(ISHIGAMI, "morris", 1, seed=1)
    with pytest.raises(InputError, match="bad number of Morris grid levels"):
        plan(ISHIGAMI, "morris", 4, seed=1, levels=3)
    with pytest.raises(InputError, match="no factor"):
        plan([], "oat")


def test_design_and_outputs_that_do_not_match_are_input_errors():
    X = plan(ISHIGAMI, "sobol", 16, seed=1)
    with pytest.raises(InputError, match=r"Y: y.point = 79: length differs .*\(allowed: 80 points\)"):
        analyser(ISHIGAMI, "sobol", X, one_output(np.zeros(79)), seed=1)
    with pytest.raises(InputError, match="not a sobol design for 3 factors"):
        analyser(ISHIGAMI, "sobol", X[:-1], one_output(np.zeros(79)), seed=1)
    with pytest.raises(InputError, match="the leading dim must be 'point'"):
        analyser(ISHIGAMI, "sobol", X, xr.Dataset({"y": ("sample", np.zeros(80))}), seed=1)
    with pytest.raises(InputError, match="rows are not at base/low/high"):
        analyser(ISHIGAMI, "oat", X[:7], one_output(np.zeros(7)))
    with pytest.raises(InputError, match="X: values = 'x2': design values outside the factor's range"):
        Xs = X.copy()
        Xs[0, 1] = 10.0
        analyser(ISHIGAMI, "sobol", Xs, one_output(np.zeros(80)), seed=1)
    with pytest.raises(InputError, match="arguments: conf_level = 1.5: out of range"):
        analyser(ISHIGAMI, "sobol", X, one_output(np.zeros(80)), seed=1, conf_level=1.5)


# ----------------------------------------------------------------------------- files and charts
@pytest.fixture(scope="module")
def resultats():
    facteurs, years, a, b, scale, _, _ = linear_by_year()
    facteurs = [Facteur(f.path, f.low, f.high, label=f"Facteur {f.path}") for f in facteurs]
    out = {}
    for methode, n in (("sobol", 64), ("morris", 8), ("oat", None)):
        X = plan(facteurs, methode, n, seed=2)
        y = (X[:, :1, None] * a[None, :, None] + X[:, 1:2, None] * b[None, :, None] * (1 + 0.3 * X[:, :1, None]))
        y = y * scale[None, None, :] + 1000.0
        Y = xr.Dataset({"masse_salariale": (("point", "year", "organisme"), y,
                                            {"units": "MEUR/an", "long_name": "Wage bill",
                                             "long_name_fr": "Masse salariale"})},
                       coords={"year": years, "organisme": ["cnaf", "total"]})
        out[methode] = analyser(facteurs, methode, X, Y, seed=3)
    return out


def test_written_files_round_trip(resultats, tmp_path):
    res = resultats["sobol"]
    folder = gs.ecrire(res, tmp_path / "sens", manifest={"scenario": "test"}, graphiques=False)
    assert sorted(p.name for p in folder.iterdir()) == [".cogsim.json", "manifest.json", "sensibilite.csv",
                                                        "sensibilite.nc"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]          # no temporary left
    back = sens.lire(folder / "sensibilite.nc")
    xr.testing.assert_allclose(back, res)
    assert back.attrs["method"] == "sobol" and json.loads(back.attrs["facteurs"])[0]["path"] == "a.x1"
    assert back["masse_salariale"].attrs["units"] == "MEUR/an"
    df = pd.read_csv(folder / "sensibilite.csv", dtype={"unit": str})
    assert list(df.columns) == ["variable", "facteur", "indice", "year", "organisme", "unit", "value"]
    assert len(df) == 3 * 4 * 10 * 2                       # facteur × indice × year × organisme
    row = df[(df.facteur == "a.x1") & (df.indice == "ST") & (df.year == 2016) & (df.organisme == "total")]
    assert row["value"].item() == pytest.approx(
        res["masse_salariale"].sel(facteur="a.x1", indice="ST", year=2016, organisme="total").item(), rel=1e-5)
    assert set(df["unit"]) == {"1"}
    oat = sens.tidy_frame(resultats["oat"])
    assert set(oat.loc[oat.indice == "swing", "unit"]) == {"MEUR/an"}
    assert set(oat.loc[oat.indice == "elasticity", "unit"]) == {"1"}


def test_a_failed_write_leaves_nothing(resultats, tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("disk full")
    monkeypatch.setattr(gs, "tidy_frame", boom)
    with pytest.raises(RuntimeError):
        gs.ecrire(resultats["oat"], tmp_path / "sens", graphiques=False)
    assert list(tmp_path.iterdir()) == []


def test_charts_are_written(resultats, tmp_path):
    files = gs.write_charts(resultats["morris"], tmp_path, "fr", cellule={"organisme": "cnaf"}, formats=("png",))
    assert sorted(p.name for p in files) == ["masse_salariale_indices.png", "masse_salariale_par_annee.png"]
    assert all(p.stat().st_size > 10_000 for p in files)
    folder = gs.ecrire(resultats["oat"], tmp_path / "oat", lang="en")
    names = sorted(p.name for p in (folder / "charts").iterdir())
    assert names == sorted(f"masse_salariale_{c}.{f}" for c in ("tornado", "par_annee") for f in ("png", "svg", "pdf"))


def texts(fig) -> str:
    return " | ".join(t.get_text() for t in fig.findobj(lambda x: hasattr(x, "get_text")))


def test_chart_contents(resultats):
    fig = gs.chart_tornado(resultats["oat"], "masse_salariale", "fr", year=2022, organisme="total")
    t = texts(fig)
    assert "Sensibilité (un facteur à la fois) : Masse salariale 2022 — Ensemble" in t
    assert "Facteur a.x1\nde 0 à 1, scénario 0,5" in t and "Facteur à sa valeur haute" in t
    assert "M€/an" in t
    ax = fig.axes[0]
    ticks = sorted(zip(ax.get_yticks(), (x.get_text() for x in ax.get_yticklabels())), reverse=True)
    assert ticks[0][1].startswith("Facteur a.x1") and ticks[-1][1].startswith("Facteur c.x3")   # by swing
    fig = gs.chart_indices(resultats["sobol"], "masse_salariale", "en", year=2020, organisme="cnaf")
    t = texts(fig)
    assert "Sobol' indices: Wage bill 2020 — CNAF" in t and "95% confidence interval" in t
    fig = gs.chart_indices_par_annee(resultats["sobol"], "masse_salariale", "fr", organisme="cnaf")
    t = texts(fig)
    assert "Sensibilité par année (indice total ST) : Masse salariale — CNAF" in t
    assert "Résultat constant : indices non définis" in t      # 2013-2014
    assert "Facteur c.x3" not in t                              # no effect in any year: left out
    with pytest.raises(InputError, match="no tornado chart for this method"):
        gs.chart_tornado(resultats["sobol"], "masse_salariale")
    with pytest.raises(InputError, match="organisme = 'msa': no such organisme"):
        gs.chart_indices(resultats["sobol"], "masse_salariale", organisme="msa")


def test_the_report_reads_the_written_result_at_its_headline(resultats, tmp_path):
    """One sensitivity file: the report reads sensibilite.nc as written, at the headline cell the analysis
    recorded (attribute ``headline``), with the tornado of graphiques_sensibilite."""
    res = resultats["oat"].copy()
    res.attrs[sens.HEADLINE] = json.dumps({"variable": "masse_salariale", "year": 2020, "organisme": "cnaf"})
    back = sens.lire(gs.ecrire(res, tmp_path / "oat", graphiques=False) / "sensibilite.nc")
    assert gs.headline(back) == ("masse_salariale", {"year": 2020, "organisme": "cnaf"})
    cell = back["masse_salariale"].sel(year=2020, organisme="cnaf")
    swing = (cell.sel(indice="high") - cell.sel(indice="low")).values
    drivers = gs.top_drivers(back)
    assert [d[0] for d in drivers] == [str(back["facteur"].values[i]) for i in np.argsort(-np.abs(swing), kind="stable")]
    assert [hi - lo for _, lo, hi in drivers] == pytest.approx(sorted(swing, key=lambda v: -abs(v)))
    assert gs.base_output(back) == pytest.approx(float(cell.sel(indice="base").values[0]))
    t = texts(gs.chart_headline(back, "fr"))
    assert "Sensibilité (un facteur à la fois) : Masse salariale 2020 — CNAF" in t
    sobol = resultats["sobol"]   # no headline recorded: the last year, total
    assert gs.top_drivers(sobol, 1)[0][0] == str(sobol["facteur"].values[
        int(np.nanargmax(sobol["masse_salariale"].sel(indice="ST", year=2022, organisme="total").values))])
    assert "Sobol' indices: Wage bill 2022 — All organismes" in texts(gs.chart_headline(sobol, "en"))


def test_second_order_indices_in_the_csv():
    """Ishigami's only interaction is x1·x3: S2(x1, x3) = V13 / V = 0.2437; one CSV row per pair."""
    X = plan(ISHIGAMI, "sobol", 512, 1, second_order=True)
    res = analyser(ISHIGAMI, "sobol", X, one_output(ishigami(X)), seed=1, second_order=True)
    s2 = res["y__S2"]
    assert s2.dims == ("facteur", "facteur_2") and s2.attrs["units"] == "1"
    assert s2.sel(facteur="x1", facteur_2="x3").item() == pytest.approx(0.2437, abs=0.04)
    assert abs(s2.sel(facteur="x1", facteur_2="x2").item()) < 0.04
    df = sens.tidy_frame(res)
    pairs = df.loc[df.indice == "S2", ["facteur", "facteur_2"]].values.tolist()
    assert pairs == [["x1", "x2"], ["x1", "x3"], ["x2", "x3"]]
    assert list(df.columns) == ["variable", "facteur", "facteur_2", "indice", "unit", "value"]


@pytest.mark.parametrize("D, T, levels", [(3, 6, 4), (5, 4, 6), (2, 3, 8)])
def test_morris_effect_matrix_is_salibs_bit_for_bit(D, T, levels, monkeypatch):
    """The matrix mapping outputs to elementary effects (built from one SALib call per trajectory) equals,
    bit for bit, SALib's public analyze applied to every unit vector of every trajectory."""
    import warnings

    import model.analysis.sensibilite as S
    from SALib.analyze import morris as morris_analyze

    seen = {}
    einsum = np.einsum

    def spy(subscripts, L, *args, **kwargs):
        if subscripts == "jtk,tkc->jtc":
            seen["L"] = L
        return einsum(subscripts, L, *args, **kwargs)

    monkeypatch.setattr(S.np, "einsum", spy)
    facteurs = [Facteur(f"x{i}", 0.5 * i, 2.0 + i) for i in range(D)]
    X = plan(facteurs, "morris", T, seed=3, levels=levels)
    analyser(facteurs, "morris", X, one_output(np.random.default_rng(1).normal(size=len(X))), seed=5,
             levels=levels)
    problem = {"num_vars": D, "names": [f.path for f in facteurs], "bounds": [[f.low, f.high] for f in facteurs]}
    ref = np.empty((D, T, D + 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for t in range(T):
            for k in range(D + 1):
                ref[:, t, k] = morris_analyze.analyze(problem, X[t * (D + 1):(t + 1) * (D + 1)], np.eye(D + 1)[k],
                                                      num_resamples=2, num_levels=levels, seed=0)["mu"]
    assert np.array_equal(seen["L"], ref)
