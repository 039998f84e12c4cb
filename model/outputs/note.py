"""The PDF note of a report: its content (texts, key figures, assumptions in words, reading sentences)
and its typesetting by Typst.

The note is laid out by the Typst template ``modeles/note.typ`` (A4, French hyphenation, tables, the
charts embedded as vector SVG); its texts, shared with the workbook and the ``report`` command, are the
table of ``modeles/textes.toml``, one section per language. Both are plain files that a planner can read
and edit: the template receives the run's content as JSON (``sys.inputs.data``: every text already
formatted, numbers with French or English separators) and each chart's SVG (``sys.inputs.chart-<name>``),
so it places text and never evaluates it.

The fonts are matplotlib's own DejaVu Sans (the charts' font, shipped with matplotlib), passed to Typst
with the machine's fonts ignored: the note looks the same on every machine, and DejaVu Sans has the
French glyphs and the narrow no-break space (U+202F) of French numbers.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import tempfile
import tomllib
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from model.outputs import graphiques as g
from model.outputs import graphiques_ajustement as ga
from model.outputs import graphiques_sensibilite as gs
from model.outputs.lecture_run import cog_period
from model.outputs.libelles import cible_label, org_label, probabilite_label, table
from model.outputs.nombres import NNBSP, decimals_needed, format_number, format_percent
from model.outputs.style import typst_compiler
from model.outputs.texte import court, court_description
from model.results.cibles import trajectoires_etpma, une_trajectoire
from model.results.dataset import CIBLE_DIM, CIBLE_UNITE, unite_organisme

MODELES = Path(__file__).resolve().parent / "modeles"
TEMPLATE = MODELES / "note.typ"
SENSITIVITY_FILE = "sensibilite.nc"  # a result of cogsim sensitivity, copied into the run's folder
HEADER_MAX = 90  # characters of the title in the running header (one line at 7 pt)


def _load_texts() -> dict[str, dict[str, str]]:
    with open(MODELES / "textes.toml", "rb") as f:
        return tomllib.load(f)


TEXTS: dict[str, dict[str, str]] = _load_texts()

MONTHS = {"fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
                 "octobre", "novembre", "décembre"),
          "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                 "October", "November", "December")}


# ----------------------------------------------------------------------------- charts of a report
def chart_names(run, sens=None, others: Sequence = (), observations=None) -> list[str]:
    """The charts of a report: every applicable chart of the run, ``comparaison`` with other runs,
    ``tornado`` with a sensitivity result, then the fit charts with the published figures
    (:func:`model.outputs.graphiques_ajustement.applicable_fit`)."""

    return [s.name for s in g.applicable(run)] + (["comparaison"] if others else []) + \
        (["tornado"] if sens is not None else []) + [c.name for c in ga.applicable_fit(run, observations)]


def draw_chart(name: str, run, lang: str, sens=None, others: Sequence = (), fig=None, observations=None,
               organisme: str | None = None):
    """The figure of the chart ``name`` (one of :func:`chart_names`); the charts of the run drawn for
    ``organisme`` alone when given (``report --organisme``)."""

    if name in {c.name for c in ga.FIT_CHARTS}:
        return ga.chart_ajustement(run, name, observations, lang, fig=fig)
    if name == "comparaison":
        return g.chart_comparaison([run, *others], lang, fig=fig, organisme=organisme or "total")
    if name == "tornado":
        return gs.chart_headline(sens, lang, fig=fig, source=g.source_note(run, lang))
    spec = next(s for s in g.CHARTS if s.name == name)
    return spec.draw(run, lang, fig=fig, **({"organisme": organisme} if organisme else {}))


# ----------------------------------------------------------------------------- key figures
def key_figures(run) -> dict[str, Any]:
    """The key figures of a run, as numbers: for each organisme, ``regime_general`` and ``total``, the
    ETPMA of the COG base year and of the last year (mean, 90 % band), its change, the ceiling and its
    saturation, the annual mean headcount on the published perimeter (bodies outside the COG included); the wage bill, its mean yearly growth, the mean RMPP, the dépenses limitatives, the gap
    of ADF excluding IT to the COG target and the productivity gap to the COG target in the last year.

    Returns
    -------
    dict with ``a`` (base year), ``z`` (last year), ``rows`` (organisme names), ``staff`` and
    ``budget`` (one dict of numbers per row; NaN where undefined).
    """


    a, z = cog_period(run)
    years = list(run.years)
    ia, iz = years.index(a), years.index(z)
    nan = float("nan")

    def at(v: str, o: str, i: int) -> float:
        return float(run.mean(v, o)[i]) if v in run.ds else nan

    staff, budget = [], []
    for o in run.organismes:
        lo, hi = run.band("etpma", o) if run.stochastic else ([nan] * len(years), [nan] * len(years))
        ea, ez = at("etpma", o, ia), at("etpma", o, iz)
        staff.append({"etpma_a": ea, "etpma_z": ez, "p05": float(lo[iz]), "p95": float(hi[iz]),
                      "variation": ez - ea, "plafond": at("plafond_emplois", o, iz),
                      "saturation": at("saturation", o, iz),
                      # the published perimeter (COG perimeter + bodies outside the COG: model.budget.perimetres)
                      "effectif_publie": at("effectif_moyen_publie", o, iz)})
        ms_a, ms_z = at("masse_salariale", o, ia), at("masse_salariale", o, iz)
        growth = (ms_z / ms_a) ** (1.0 / (z - a)) - 1.0 if ms_a > 0 and ms_z > 0 and z > a else nan
        rmpp = run.mean("rmpp", o)[ia + 1: iz + 1] if "rmpp" in run.ds else np.array([nan])
        with np.errstate(invalid="ignore"):
            rmpp_mean = float(np.nanmean(rmpp)) if np.isfinite(rmpp).any() else nan
        budget.append({"masse_salariale": ms_z, "evolution_ms": growth, "rmpp": rmpp_mean,
                       "depenses_limitatives": at("depenses_limitatives", o, iz),
                       "ecart_adf": at("ecart_adf", o, iz), "ecart_productivite": at("ecart_productivite", o, iz)})
    return {"a": a, "z": z, "rows": list(run.organismes), "staff": staff, "budget": budget}


# columns of the two key-figure tables: (key, text key, kind)
STAFF_COLUMNS = (("etpma_a", "c_etpma_a", "etp"), ("etpma_z", "c_etpma_z", "etp"), ("band", "c_band", "band"),
                 ("variation", "c_variation", "etp_signed"), ("plafond", "c_plafond", "etp"),
                 ("saturation", "c_saturation", "fraction"), ("effectif_publie", "c_effectif_publie", "etp"))
BUDGET_COLUMNS = (("masse_salariale", "c_ms", "meur"), ("evolution_ms", "c_ms_evol", "fraction_signed"),
                  ("rmpp", "c_rmpp", "percent"), ("depenses_limitatives", "c_dl", "meur"),
                  ("ecart_adf", "c_ecart_adf", "meur_signed"), ("ecart_productivite", "c_ecart_prod", "percent_signed"))


def _cell_text(kind: str, row: dict, key: str, lang: str) -> str:

    pct = NNBSP + "%" if lang == "fr" else "%"
    if kind == "band":
        lo, hi = row["p05"], row["p95"]
        return "–" if not (math.isfinite(lo) and math.isfinite(hi)) else \
            f"{format_number(lo, 0, lang)} – {format_number(hi, 0, lang)}"
    v = row[key]
    if kind == "etp":
        return format_number(v, 0, lang)
    if kind == "etp_signed":
        return format_number(v, 0, lang, sign=True)
    if kind == "meur":
        return format_number(v, 1, lang)
    if kind == "meur_signed":
        return format_number(v, 1, lang, sign=True)
    if kind == "fraction":
        return format_percent(v, 1, lang)
    if kind == "fraction_signed":
        return format_percent(v, 2, lang, sign=True)
    if kind == "percent":
        return "–" if not math.isfinite(v) else format_number(v, 2, lang) + pct
    if kind == "percent_signed":
        return "–" if not math.isfinite(v) else format_number(v, 1, lang, sign=True) + pct
    raise ValueError(kind)


# ----------------------------------------------------------------------------- COG targets
def targets_rows(run) -> dict[str, Any] | None:
    """The COG targets of a run as numbers (None for a run saved without them): one row per target ×
    organisme × year that has a target — the simulated mean, the target's mean, the expected gap
    (``ecart_attendu``) and the probability of meeting it (``probabilite_respect``; 1/0 when the run
    has one path, ``deterministic``), all over every replicate of the run."""
    if "probabilite_respect" not in run.ds:
        return None
    p, e = run.ds["probabilite_respect"], run.ds["ecart_attendu"]
    years = [int(y) for y in run.years]
    orgs = [str(o) for o in run.ds["organisme"].values]
    rows = []
    for c, variable, reference, sens, unite in zip(*(run.ds[k].values for k in (
            CIBLE_DIM, "cible_variable", "cible_reference", "cible_sens", CIBLE_UNITE))):
        pc = p.sel({CIBLE_DIM: c}).transpose("year", "organisme").values
        ec = e.sel({CIBLE_DIM: c}).transpose("year", "organisme").values
        for j, o in enumerate(orgs):
            if not np.isfinite(pc[:, j]).any():
                continue
            simule = run.mean(str(variable), o) if variable in run.ds else np.full(len(years), np.nan)
            valeur = run.mean(str(reference), o) if reference in run.ds else np.full(len(years), np.nan)
            for i, y in enumerate(years):
                if np.isfinite(pc[i, j]):
                    rows.append({"cible": str(c), "variable": str(variable), "sens": "≤" if sens == "<=" else "≥",
                                 "unit": unite_organisme(str(unite), o), "organisme": o, "year": y,
                                 "simule": float(simule[i]), "valeur_cible": float(valeur[i]),
                                 "ecart": float(ec[i, j]), "probabilite": float(pc[i, j])})
    return {"deterministic": une_trajectoire(run.ds), "mode": str(p.attrs.get("mode", "")),
            "replicates": run.replicates, "rows": rows}


def targets_section(run, lang: str = "fr") -> dict[str, Any] | None:
    """The note's section on the COG targets (None for a run saved without them): a paragraph, one
    sentence per ETPMA path ("CNAF, −2 100 ETPMA en 2022 … : 23 % de chances") and a table of the
    probability of meeting each target by organisme in the last year."""
    if "probabilite_respect" not in run.ds:
        return None
    T, C = TEXTS[lang], table(lang)["cibles"]
    p = run.ds["probabilite_respect"]
    one = une_trajectoire(run.ds)
    z = int(run.years[-1])
    colon = "\u202f: " if lang == "fr" else ": "

    def chance(v: float) -> str:
        text = probabilite_label(v, lang, one)
        return text if one or text == "–" else C["chances"].format(p=text)

    lines = []
    for t in trajectoires_etpma(run.ds):
        head = C["etpma"].format(org=org_label(t["organisme"], lang), delta=format_number(t["variation"], 0, lang, True),
                                 z=t["z"], a=t["a"], cible=format_number(t["cible"], 0, lang))
        gap = C["ecart_un" if one else "ecart"].format(e=format_number(t["ecart_attendu"], 0, lang, True) + "\u00a0ETPMA")
        lines.append(f"{head}{colon}{chance(t['probabilite'])}, {gap}.")
    orgs = [str(o) for o in run.ds["organisme"].values]
    last = p.sel(year=z).transpose(CIBLE_DIM, "organisme").values
    rows = [[f"{cible_label(str(c), lang)} ({'≤' if s == '<=' else '≥'})"] +
            [probabilite_label(float(v), lang, one) for v in last[k]]
            for k, (c, s) in enumerate(zip(p[CIBLE_DIM].values, p["cible_sens"].values)) if np.isfinite(last[k]).any()]
    if one:
        text = T["t_targets_det" if p.attrs.get("mode") == "deterministic" else "t_targets_one"].format(z=z)
    else:
        text = T["t_targets"].format(n=run.replicates, z=z)
    return {"text": text, "lines": lines,
            "caption": T["t_targets_caption_det" if one else "t_targets_caption"].format(z=z),
            "table": _table([T["h_cible"]] + [org_label(o, lang) for o in orgs], rows) if rows else None}


# ----------------------------------------------------------------------------- assumptions in words
def _date_text(iso: str, lang: str) -> str:
    d = dt.date.fromisoformat(str(iso)[:10])
    if lang == "fr":
        return f"{'1er' if d.day == 1 else d.day} {MONTHS['fr'][d.month - 1]} {d.year}"
    return f"{d.day} {MONTHS['en'][d.month - 1]} {d.year}"


def _runs(by_year: dict) -> list[tuple[str, str, Any]]:
    """A by-year dict as runs of equal values: [(first year, last year, value)]."""
    items = sorted(by_year.items())
    out: list[list] = []
    for y, v in items:
        if out and out[-1][2] == v:
            out[-1][1] = y
        else:
            out.append([y, y, v])
    return [tuple(r) for r in out]


def _pct_text(percent: float, lang: str, sign: bool = False) -> str:
    """A value already in percent, with the decimals it needs (1.88 → "1,88 %", 3.5 → "3,5 %")."""

    return format_number(percent, decimals_needed([percent], 2), lang, sign) + (NNBSP + "%" if lang == "fr" else "%")


def _share(v: float, lang: str) -> str:

    return format_percent(float(v), 0 if abs(100 * float(v) - round(100 * float(v))) < 1e-9 else 1, lang)


def is_none(v) -> bool:
    """A missing value of a parameter: None, "inf" (no ceiling) or a non-finite number."""
    return v is None or v == "inf" or (isinstance(v, float) and not math.isfinite(v))


def assumptions(run, lang: str = "fr") -> list[tuple[str, list[str]]]:
    """The scenario's assumptions in plain language, from the manifest: (heading, lines) pairs — mode,
    replacement rates, ceilings, extra hires, new missions, ex-RSI transfer, mutualisations, hiring
    freezes, general pay measures, RMPP cadrage, and how the parameters were estimated."""

    T = TEXTS[lang]
    par = run.manifest.get("parameters") or {}
    orgs = list(run.ds["organisme"].values)
    out: list[tuple[str, list[str]]] = []
    seed = run.manifest.get("seed", run.ds.attrs.get("seed"))
    etat = run.manifest.get("etat_initial") or {}
    cal = run.manifest.get("calibration")  # recorded by runs that carry it: shown as given
    calibration = T["calibration"].format(c=cal if isinstance(cal, str) else ", ".join(
        f"{k} {v}" for k, v in cal.items() if not isinstance(v, (dict, list)))) if cal else ""
    out.append(("", [(T["mode_stoch"].format(n=run.replicates, seed=seed) if run.stochastic else T["mode_det"]) + " "
                     + T["estimated"].format(etat=T["etat_estimated"] if etat.get("estimated", True)
                                             else T["etat_given"], calibration=calibration)]))

    def periods(d: dict, fmt: Callable[[Any], str], skip: Callable[[Any], bool] = lambda v: False) -> str:
        parts = []
        rs = _runs(d)
        for i, (ya, yb, v) in enumerate(rs):
            if skip(v):
                continue
            if ya == yb:
                parts.append(T["period1"].format(v=fmt(v), a=ya))
            else:
                parts.append(T["period"].format(v=fmt(v), a=ya, b=yb))
        return ", ".join(parts)

    lines = []
    for o in orgs:
        d = par.get(f"organismes.{o}.taux_remplacement")
        if isinstance(d, dict):
            lines.append(f"{org_label(o, lang)} : {periods(d, lambda v: _share(v, lang))}" if lang == "fr"
                         else f"{org_label(o, lang)}: {periods(d, lambda v: _share(v, lang))}")
    if lines:
        out.append((T["remplacement"], lines))
    lines = []
    # the ceilings in force, from the run (a ceiling stated as a change from a base year's ETPMA is
    # only known once simulated; the mean over the replicates when they differ)
    ceilings = run.ds["plafond_emplois"]
    if "replicate" in ceilings.dims:
        ceilings = ceilings.mean("replicate")
    for o in orgs:
        d = {int(y): float(v) for y, v in zip(ceilings["year"].values, ceilings.sel(organisme=o).values)}
        finite = [(int(y), float(v)) for y, v in sorted(d.items()) if not is_none(v)]
        sep = " : " if lang == "fr" else ": "
        if not finite:
            continue
        (ya, a), (yb, b) = finite[0], finite[-1]
        lines.append(org_label(o, lang) + sep + T["from_to"].format(a=format_number(a, 0, lang), ya=ya,
                                                                    b=format_number(b, 0, lang), yb=yb))
    out.append((T["plafond"], lines or [T["no_ceiling"]]))
    for key, name in (("recrutements_supplementaires", "supplementaires"), ("charge_nouvelles_missions", "missions")):
        lines = []
        for o in orgs:
            d = par.get(f"organismes.{o}.{key}")
            if isinstance(d, dict) and any(float(v) != 0 for v in d.values() if not is_none(v)):
                sep = " : " if lang == "fr" else ": "
                lines.append(org_label(o, lang) + sep + periods(d, lambda v: format_number(float(v), 0, lang),
                                                                skip=lambda v: float(v) == 0))
        if lines:
            out.append((T[name], lines))
    if "transfert_rsi.date_principale" in par:
        def rep(d):
            return ", ".join(f"{org_label(k, lang)} {_share(v, lang)}" for k, v in (d or {}).items())
        out.append((T["transfert"], [T["transfert_text"].format(
            gie=format_number(float(par.get("transfert_rsi.effectif_gie", 0)), 0, lang),
            date_gie=_date_text(par["transfert_rsi.date_gie"], lang), rep_gie=rep(par.get("transfert_rsi.repartition_gie")),
            date=_date_text(par["transfert_rsi.date_principale"], lang), rep=rep(par.get("transfert_rsi.repartition")))]))
    mutu = par.get("mutualisations") or []
    out.append((T["mutualisations"], [T["mutualisation_text"].format(
        nom=m.get("nom", "?"), org=org_label(m.get("organisme", "?"), lang), debut=_date_text(m["debut"], lang),
        mois=m.get("montee_en_charge_mois"), part=_share(m.get("part_effectifs", 0), lang),
        gain=_share(m.get("gain_productivite", 0), lang),
        cout=format_number(float(m.get("cout_transition", 0)), 1, lang)) for m in mutu] or [T["none_f"]]))
    gels = par.get("gels_recrutement") or []
    out.append((T["gels"], [T["gel_text"].format(
        nom=gl.get("nom", "?"), org=org_label(gl.get("organisme", "?"), lang), debut=_date_text(gl["debut"], lang),
        fin=_date_text(gl["fin"], lang), contrats=gl.get("contrats", "")) for gl in gels] or [T["none"]]))
    mesures = par.get("mesures_generales") or []
    if mesures:
        out.append((T["mesures"], ["; ".join(
            f"{_pct_text(100 * float(m.get('taux', 0)), lang, sign=True)} "
            f"{'au' if lang == 'fr' else 'on'} {_date_text(m['date'], lang)}" for m in mesures)]))
    cad = par.get("remuneration.rmpp_cadrage")
    if isinstance(cad, dict):
        out.append((T["cadrage"], [periods(cad, lambda v: _pct_text(float(v), lang), skip=is_none) or T["none"]]))
    return out


def reading(run, kf: dict, lang: str = "fr", organisme: str | None = None) -> list[str]:
    """A few sentences that read the key figures (régime général, total, ADF, productivity), then the
    organisme asked for (``report --organisme``), then service quality (calls answered, processing
    delay) of that organisme or of the régime général."""

    T = TEXTS[lang]
    a, z = kf["a"], kf["z"]
    rows = kf["rows"]
    out = []
    i = rows.index("regime_general")
    s, b = kf["staff"][i], kf["budget"][i]
    band = T["r_band"].format(lo=format_number(s["p05"], 0, lang), hi=format_number(s["p95"], 0, lang)) \
        if run.stochastic else ""
    sat = T["r_sat"].format(sat=format_percent(s["saturation"], 1, lang)) if math.isfinite(s["saturation"]) else ""
    out.append(T["r_rg"].format(z=z, etpma=format_number(s["etpma_z"], 0, lang), band=band,
                                diff=format_number(s["variation"], 0, lang, sign=True), a=a, sat=sat))
    if math.isfinite(b["masse_salariale"]):
        out.append(T["r_ms"].format(ms=format_number(b["masse_salariale"], 1, lang), z=z, a=a,
                                    cagr=format_percent(b["evolution_ms"], 2, lang, sign=True),
                                    dl=format_number(b["depenses_limitatives"], 1, lang)))
    if math.isfinite(b["ecart_adf"]):
        key = "r_adf_above" if b["ecart_adf"] > 0 else "r_adf_below"
        out.append(T[key].format(x=format_number(abs(b["ecart_adf"]), 1, lang), z=z))
    items = []
    pct = NNBSP + "%" if lang == "fr" else "%"
    for o, bb in zip(rows, kf["budget"]):
        if math.isfinite(bb["ecart_productivite"]):
            items.append(f"{org_label(o, lang)} {format_number(bb['ecart_productivite'], 1, lang, sign=True)}{pct}")
    if items:
        out.append(T["r_prod"].format(z=z, items=", ".join(items)))
    t = kf["staff"][rows.index("total")]
    out.append(T["r_total"].format(etpma=format_number(t["etpma_z"], 0, lang), z=z,
                                   diff=format_number(t["variation"], 0, lang, sign=True), a=a))
    if organisme is not None and organisme in rows and organisme not in ("regime_general", "total"):
        j = rows.index(organisme)
        s, b = kf["staff"][j], kf["budget"][j]
        band = T["r_band"].format(lo=format_number(s["p05"], 0, lang), hi=format_number(s["p95"], 0, lang)) \
            if run.stochastic else ""
        out.append(T["r_org"].format(org=org_label(organisme, lang), etpma=format_number(s["etpma_z"], 0, lang), z=z,
                                     band=band, diff=format_number(s["variation"], 0, lang, sign=True), a=a,
                                     ms=format_number(b["masse_salariale"], 1, lang),
                                     dl=format_number(b["depenses_limitatives"], 1, lang)))
    service = _service_sentence(run, organisme or "regime_general", z, lang)
    if service:
        out.append(service)
    return out


def _service_sentence(run, organisme: str, z: int, lang: str) -> str:
    """"Qualité de service en 2022 (CNAF) : taux d'appels aboutis 81,3 % (cible 85 %), délai moyen de
    traitement 43,0 jours (cible 15 jours)." — empty when the run has no service layer."""
    T = TEXTS[lang]
    iz = [int(y) for y in run.years].index(z)
    items = []

    def value(v: str) -> float:
        return float(run.mean(v, organisme)[iz]) if v in run.ds else float("nan")

    calls, target = value("taux_appels_aboutis"), value("cible_taux_appels_aboutis")
    if math.isfinite(calls):
        items.append(T["r_appels" if math.isfinite(target) else "r_appels_sans"].format(
            v=format_percent(calls, 1, lang), c=format_percent(target, 0, lang)))
    delay, dtarget = value("delai_traitement"), value("delai_cible")
    if math.isfinite(delay):
        items.append(T["r_delai" if math.isfinite(dtarget) else "r_delai_sans"].format(
            v=format_number(delay, 1, lang), c=format_number(dtarget, 0, lang)))
    if not items:
        return ""
    return T["r_service"].format(z=z, org=org_label(organisme, lang), items=", ".join(items))




# ----------------------------------------------------------------------------- the note
def _table(header: list[str], rows: list[list[str]], bold: Sequence[int] = ()) -> dict[str, Any]:
    return {"header": header, "rows": rows, "bold": list(bold)}


def note_content(run, lang: str = "fr", sens=None, charts: Sequence[str] = (), observations=None,
                 organisme: str | None = None) -> dict[str, Any]:
    """Everything the note shows, as texts ready to print (the JSON the template receives).

    ``charts`` are the names of the charts placed in the note, in order; the fit charts among them go to
    the section "Ajustement aux données publiées", there when ``observations``
    (:func:`model.outputs.graphiques_ajustement.charger_observations`) are given.
    """

    T = TEXTS[lang]
    colon = "\u202f: " if lang == "fr" else ": "
    m = run.manifest
    header_sc = (m.get("scenario") or {}).get("header") or {}
    code = m.get("code") or {}
    commit = str(code.get("commit") or "")
    created = str(m.get("created_utc", ""))[:10]
    title = run.title  # already shortened by load_run
    labels = {k: T[k] for k in ("note_title", "scenario", "assumptions", "key_figures", "reading", "charts",
                                "uncertainty", "drivers", "warnings", "targets")}
    scenario = [f"{T[key]}{colon}{court(header_sc[key])}" for key in ("author", "reference", "baseline")
                if header_sc.get(key)]
    manifest_warnings = [w if isinstance(w, str) else
                         f"{w.get('file', '')}: {w.get('path', '')} = {w.get('value', '')}: {w.get('message', '')}"
                         for w in m.get("warnings") or []]
    # key figures
    kf = key_figures(run)
    rows_labels = [g.org_label(o, lang) for o in kf["rows"]]
    bold = [kf["rows"].index("regime_general"), kf["rows"].index("total")]
    fmt = dict(a=kf["a"], z=kf["z"], a1=kf["a"] + 1)
    staff_cols = [c for c in STAFF_COLUMNS if run.stochastic or c[2] != "band"]
    tables = []
    for caption, cols, values in ((T["staff_table"], staff_cols, kf["staff"]),
                                  (T["budget_table"].format(**fmt), BUDGET_COLUMNS, kf["budget"])):
        tables.append({"caption": caption, **_table(
            [T["organisme"]] + [T[c[1]].format(**fmt) for c in cols],
            [[lab] + [_cell_text(kind, row, key, lang) for key, _, kind in cols]
             for lab, row in zip(rows_labels, values)], bold)})
    # uncertainty
    z = kf["z"]
    uncertainty = []
    if run.stochastic:
        lo, hi = run.band("etpma", "total")
        iz = list(run.years).index(z)
        mslo = mshi = [float("nan")] * len(run.years)
        if "masse_salariale" in run.ds:
            mslo, mshi = run.band("masse_salariale", "regime_general")
        uncertainty.append(T["u_band"].format(
            z=z, lo=g.format_number(lo[iz], 0, lang), hi=g.format_number(hi[iz], 0, lang),
            m=g.format_number(run.mean("etpma", "total")[iz], 0, lang),
            mslo=g.format_number(mslo[iz], 1, lang), mshi=g.format_number(mshi[iz], 1, lang)))
    else:
        uncertainty.append(T["u_det"])
    uncertainty.append(T["u_scope"])
    drivers: dict[str, Any] = {"text": T["u_no_sens"].format(file=SENSITIVITY_FILE), "table": None}
    if sens is not None:
        output, cell = gs.headline(sens)
        per = g.org_label(str(cell.get("organisme", "total")), lang)
        out_label = g.LABELS[lang].get(output, output)
        if sens.attrs.get("method") == "oat":
            drivers["text"] = T["u_sens"].format(output=out_label, year=cell.get("year", ""), perimetre=per,
                                                 base=g.format_number(gs.base_output(sens), 0, lang))
            drivers["table"] = _table([T["d_param"], T["d_low"], T["d_high"]],
                                      [[p, g.format_number(lo_, 0, lang, sign=True),
                                        g.format_number(hi_, 0, lang, sign=True)]
                                       for p, lo_, hi_ in gs.top_drivers(sens, 5)])
        else:
            drivers["text"] = T["u_sens_index"].format(method=sens.attrs.get("method", ""), output=out_label,
                                                       year=cell.get("year", ""), perimetre=per)
            drivers["table"] = _table([T["d_param"], T["d_index"]],
                                      [[p, g.format_number(v, 3, lang)] for p, v, _ in gs.top_drivers(sens, 5)])
    return {
        "lang": lang, "labels": labels, "title": title,
        "doc_title": f"{T['note_title']} — {title}",
        "header": f"{T['note_title']} — {court(title, HEADER_MAX)}",
        # {i} and {n} (page number and page count) are filled in by the template
        "footer": T["footer"].format(title="note", run_id=run.run_id, i="{i}", n="{n}"),
        "run_line": T["run_line"].format(run_id=run.run_id, date=_date_text(created, lang) if created else "?",
                                         version=code.get("cogsim", ""),
                                         commit=f", commit {commit[:7]}" if commit else ""),
        "scenario": scenario,
        "description": court_description(header_sc.get("description", "")),
        "assumptions": [{"heading": h, "lines": lines} for h, lines in assumptions(run, lang)],
        "manifest_warnings": manifest_warnings,
        "tables": tables,
        "reading": reading(run, kf, lang, organisme),
        "charts": [c for c in charts if c not in {f.name for f in ga.FIT_CHARTS}],
        "ajustement": ga.note_section(run, observations, charts, lang, T),
        "targets": targets_section(run, lang),
        "uncertainty": uncertainty,
        "drivers": drivers,
        "no_warnings": T["u_warnings_none"],
        "provenance": T["u_provenance"].format(file=(m.get("scenario") or {}).get("file", "?"),
                                               commit=commit or "?", dirty=T["dirty"] if code.get("dirty") else "",
                                               created=m.get("created_utc", "?")),
        "subject": f"run {run.run_id}",
    }


def typeset(content: dict[str, Any], charts: dict[str, str | Path], path: str | Path,
            template: str | Path = TEMPLATE) -> int:
    """Compile ``template`` with ``content`` (:func:`note_content`) and the charts' SVG files (by name)
    into the PDF ``path``; returns the number of pages.

    Raises
    ------
    typst.TypstError
        The template does not compile (an edited template with a mistake): Typst's message says where.
    """
    inputs = {"data": json.dumps(content, ensure_ascii=False, allow_nan=False)}
    for name in content["charts"] + ((content.get("ajustement") or {}).get("charts") or []):
        inputs[f"chart-{name}"] = Path(charts[name]).read_text(encoding="utf-8")
    compiler = typst_compiler(template, Path(template).parent, inputs)
    pdf = compiler.compile(format="pdf")
    pages = json.loads(compiler.query("<pages>", field="value", one=True))
    Path(path).write_bytes(pdf)
    return int(pages)


def write_note(run, path: str | Path, lang: str = "fr", sens=None, others: Sequence = (),
               charts: dict[str, Path] | None = None, observations=None, organisme: str | None = None) -> int:
    """Write the PDF note of a run (A4): scenario and assumptions, key figures, charts, uncertainty.

    Parameters
    ----------
    run : a saved run (:func:`model.outputs.graphiques.load_run`).
    path : the PDF to write.
    lang : ``"fr"`` or ``"en"``.
    sens : a sensitivity result (tornado chart and top drivers), or None.
    others : other runs for the comparison chart.
    charts : the SVG files of the charts by name (:func:`chart_names`), as the report writes them; drawn
        here (in a temporary folder) when not given.
    observations : the published figures (:func:`model.outputs.graphiques_ajustement.charger_observations`):
        the section "Ajustement aux données publiées" and its charts; none without them.

    Returns
    -------
    int
        The number of pages.
    """
    if charts is None:


        with tempfile.TemporaryDirectory() as tmp:
            drawn = {name: g.save_figure(draw_chart(name, run, lang, sens, others, observations=observations,
                                                    organisme=organisme), tmp, name, formats=("svg",))[0]
                     for name in chart_names(run, sens, others, observations)}
            return write_note(run, path, lang, sens, others, charts=drawn, observations=observations,
                              organisme=organisme)
    return typeset(note_content(run, lang, sens, list(charts), observations, organisme), charts, path)
