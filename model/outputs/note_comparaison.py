"""The content of a comparison's note and workbook (``cogsim compare``): what differs between the
scenarios, the key differences "variante − référence" for one organisme or aggregate, a table for every
organisme and the published totals, the probability of meeting each COG target run by run, and a few
sentences that read them. Numbers are formatted here in the note's language; the layout is the Typst
template ``modeles/note_comparaison.typ``.
"""

from __future__ import annotations

import json
import math
from typing import Any, Sequence

from model.outputs.comparaison import PROBABILITE, Comparaison, premiere_annee_differente, synthese, unite_lisible
from model.outputs.graphiques_comparaison import cibles_rows, legend_entries
from model.outputs.libelles import Lang, org_label, probabilite_label, table, unit_label, variable_label
from model.outputs.nombres import NNBSP, format_number, format_percent
from model.outputs.texte import court, court_description
from model.params.catalogue import load_catalogue

MAX_PARAMETRES = 14  # parameters listed in "what differs" (the workbook lists them all)


def _C(lang: Lang) -> dict[str, str]:
    return table(lang)["comparaison"]


def catalogue_title(path: str, lang: Lang) -> tuple[str, str]:
    """(title, unit) of a resolved parameter path from the catalogue (``organismes.cnaf.x`` is listed
    as ``organismes.*.x``); the path itself when the catalogue does not know it."""
    cat = load_catalogue()
    entry = cat.get(path)
    parts = path.split(".")
    if entry is None and len(parts) == 3 and parts[0] == "organismes":
        entry = cat.get(f"organismes.*.{parts[2]}")
    if entry is None:
        return path, ""
    return (entry.title_fr if lang == "fr" else entry.title), entry.unit


def parametres_differents(comp: Comparaison) -> list[tuple[str, list[Any]]]:
    """The resolved parameters whose values differ between the runs (from their manifests): (path,
    [value in each run]), in the reference's order."""
    pars = [r.manifest.get("parameters") or {} for r in comp.runs]
    keys = list(dict.fromkeys(k for p in pars for k in p))
    return [(k, [p.get(k) for p in pars]) for k in keys
            if len({json.dumps(p.get(k), sort_keys=True, default=str) for p in pars}) > 1]


def valeur_courte(v: Any, lang: Lang) -> str:
    """A parameter value in a few words: a by-year table as runs of equal values, events by name."""
    if isinstance(v, dict) and v and all(str(k).isdigit() and len(str(k)) == 4 for k in v):
        items = sorted(v.items())
        out: list[list] = []
        for y, x in items:
            if out and out[-1][2] == x:
                out[-1][1] = y
            else:
                out.append([y, y, x])
        return "; ".join((f"{a}–{b}" if a != b else f"{a}") + f" : {_num(x, lang)}" for a, b, x in out) \
            if lang == "fr" else "; ".join((f"{a}–{b}" if a != b else f"{a}") + f": {_num(x, lang)}" for a, b, x in out)
    if isinstance(v, list):
        return ", ".join(str(e.get("nom", "?")) if isinstance(e, dict) else str(e) for e in v) or "–"
    if v is None:
        return "–"
    return _num(v, lang)


def _num(x: Any, lang: Lang) -> str:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return court(str(x), 60)
    if not math.isfinite(float(x)):
        return "–"
    d = 0 if float(x) == round(float(x)) else (3 if abs(float(x)) < 10 else 1)
    return format_number(float(x), d, lang)


def _fmt_value(v: float, unit: str, lang: Lang, sign: bool = False) -> str:
    if not math.isfinite(v):
        return "–"
    if unit == "1":
        return format_percent(v, 1, lang, sign)
    if unit.startswith("MEUR"):
        return format_number(v, 1, lang, sign)
    if unit in ("jours", "min", "%", "points de %"):
        return format_number(v, 1, lang, sign)
    if abs(v) < 100 and v != round(v):
        return format_number(v, 2, lang, sign)
    return format_number(v, 0, lang, sign)


def _fmt_ecart(v: float, unit: str, lang: Lang) -> str:
    """A difference: shares in points ("−1,4 pt")."""
    if unit == "1":
        return "–" if not math.isfinite(v) else format_number(100 * v, 1, lang, sign=True) + \
            (NNBSP + "pt" if lang == "fr" else " pt")
    return _fmt_value(v, unit, lang, sign=True)


def _unit_text(unit: str, lang: Lang) -> str:
    return "%" if unit == "1" else unit_label(unit, lang)


def tableau_synthese(comp: Comparaison, variante, organisme: str, lang: Lang) -> dict[str, Any]:
    """The key differences of ``variante`` for ``organisme``: one row per indicator (unit, reference and
    variant in the last shared year, difference, its 90 % band, cumulated difference)."""
    C = _C(lang)
    z, a = int(comp.years[-1]), int(comp.years[0])
    paired = comp.paired(variante)
    rows = []
    for s in synthese(comp, variante, organisme):
        name, unit = s["indicateur"], s["unit"]
        band = "–"
        if paired and math.isfinite(s["p05"]):
            band = f"{_fmt_ecart(s['p05'], unit, lang)} ; {_fmt_ecart(s['p95'], unit, lang)}" if lang == "fr" else \
                f"{_fmt_ecart(s['p05'], unit, lang)}; {_fmt_ecart(s['p95'], unit, lang)}"
        rows.append([variable_label(name, lang, comp.reference.ds[name].attrs),
                     _unit_text(unit, lang), _fmt_value(s["reference"], unit, lang),
                     _fmt_value(s["variante"], unit, lang), _fmt_ecart(s["ecart"], unit, lang), band,
                     _fmt_ecart(s["cumul"], unit, lang) if s["flux"] else "–"])
    header = [C["h_indicateur"], C["h_unite"], C["h_ref"].format(z=z), C["h_var"].format(z=z),
              C["h_ecart"].format(z=z), C["h_bande"], C["h_cumul"].format(a=a, z=z)]
    return {"header": header, "rows": rows, "bold": [], "header_width": True}


PAR_ORGANISME = ("etpma", "recrutements", "masse_salariale", "adf", "depenses_limitatives", "delai_traitement",
                 "taux_appels_aboutis")


def tableau_organismes(comp: Comparaison, variante, lang: Lang) -> dict[str, Any]:
    """Differences in the last shared year for every organisme and the published totals."""
    C = _C(lang)
    z = int(comp.years[-1])
    names = [n for n in PAR_ORGANISME if n in comp.indicateurs()]
    rows = []
    for o in comp.organismes:
        row = [org_label(o, lang)]
        for n in names:
            unit = "1" if unite_lisible(comp.reference, n, o, lang) == "%" else str(comp.reference.units_of(n, o))
            row.append(_fmt_ecart(float(comp.ecart(variante, n, o)[-1]), unit, lang))
        rows.append(row)
    header = [C["h_organisme"]] + [f"{variable_label(n, lang, comp.reference.ds[n].attrs)} "
                                   f"({_unit_text(_unit_of(comp, n), lang) if _unit_of(comp, n) != '1' else C['u_pt']})"
                                   for n in names]
    own = {str(x) for x in comp.reference.ds["organisme"].values}
    bold = [i for i, o in enumerate(comp.organismes) if o not in own]
    return {"header": header, "rows": rows, "bold": bold, "caption": C["c_organismes"].format(z=z)}


def _unit_of(comp: Comparaison, name: str) -> str:
    return str(comp.reference.ds[name].attrs.get("units", ""))


def tableau_cibles(comp: Comparaison, organisme: str, lang: Lang) -> dict[str, Any] | None:
    """The probability of meeting each COG target in the last shared year, run by run."""
    C = _C(lang)
    z, rows = cibles_rows(comp, organisme, lang)
    if not rows:
        return None
    one = [r.replicates <= 1 for r in comp.runs]
    out = []
    for label, vals in rows:
        cells = [probabilite_label(v, lang, o) for v, o in zip(vals, one)]
        diffs = [("–" if not (math.isfinite(v) and math.isfinite(vals[0])) else
                  format_number(100 * (v - vals[0]), 0, lang, sign=True) + (NNBSP + "pt" if lang == "fr" else " pt"))
                 for v in vals[1:]]
        out.append([label] + cells + diffs)
    header = [C["h_cible"], C["reference"] + f" [{comp.reference.run_id}]"] + \
        [(C["variante"] if len(comp.variantes) == 1 else C["variante_n"].format(n=j + 1)) + f" [{v.run_id}]"
         for j, v in enumerate(comp.variantes)] + \
        [C["h_ecart_proba"] + (f" {j + 1}" if len(comp.variantes) > 1 else "") for j in range(len(comp.variantes))]
    return {"header": header, "rows": out, "bold": [], "caption": C["c_cibles"].format(z=z)}


def lecture(comp: Comparaison, variante, organisme: str, lang: Lang) -> list[str]:
    """Sentences that read the differences of ``variante`` for ``organisme``."""
    C = _C(lang)
    z = int(comp.years[-1])
    per = org_label(organisme, lang)
    s = {r["indicateur"]: r for r in synthese(comp, variante, organisme)}
    out = []
    first = premiere_annee_differente(comp, variante, "etpma", organisme)
    if first is None:
        out.append(C["r_identique"].format(perimetre=per))
        return out
    if "etpma" in s:
        e = s["etpma"]
        out.append(C["r_etpma"].format(perimetre=per, y=first, z=z, ref=format_number(e["reference"], 0, lang),
                                       var=format_number(e["variante"], 0, lang),
                                       d=format_number(e["ecart"], 0, lang, sign=True)))
    if "recrutements" in s:
        out.append(C["r_recrutements"].format(d=format_number(s["recrutements"]["cumul"], 0, lang, sign=True),
                                              a=int(comp.years[0]), z=z))
    if "masse_salariale" in s:
        e = s["masse_salariale"]
        out.append(C["r_ms"].format(z=z, d=format_number(e["ecart"], 1, lang, sign=True),
                                    cumul=format_number(e["cumul"], 1, lang, sign=True)))
    parts = []
    for n in ("adf", "depenses_limitatives"):
        if n in s:
            parts.append(C["r_part"].format(v=variable_label(n, lang), d=format_number(s[n]["ecart"], 1, lang, sign=True)))
    if parts:
        out.append(C["r_budget"].format(z=z, parts=", ".join(parts)))
    if "delai_traitement" in s or "taux_appels_aboutis" in s:
        bits = []
        if "delai_traitement" in s:
            e = s["delai_traitement"]
            bits.append(C["r_delai"].format(ref=format_number(e["reference"], 1, lang),
                                            var=format_number(e["variante"], 1, lang)))
        if "taux_appels_aboutis" in s:
            e = s["taux_appels_aboutis"]
            bits.append(C["r_appels"].format(ref=format_percent(e["reference"], 1, lang),
                                             var=format_percent(e["variante"], 1, lang)))
        out.append(C["r_service"].format(z=z, bits=" ; ".join(bits) if lang == "fr" else "; ".join(bits)))
    zc, rows = cibles_rows(comp, organisme, lang)
    j = 1 + list(comp.variantes).index(variante)
    moved = [(label, vals[0], vals[j]) for label, vals in rows
             if math.isfinite(vals[0]) and math.isfinite(vals[j]) and abs(vals[j] - vals[0]) >= 0.005]
    if moved:
        one = comp.reference.replicates <= 1
        out.append(C["r_cibles"].format(z=zc, items=", ".join(
            f"{label} {probabilite_label(a, lang, one)} → {probabilite_label(b, lang, one)}" for label, a, b in moved)))
    elif rows:
        out.append(C["r_cibles_stables"].format(z=zc))
    return out


def content(comp: Comparaison, perimetres: Sequence[str], charts: Sequence[str], lang: Lang = "fr") -> dict[str, Any]:
    """Everything the comparison's note shows, as texts ready to print (the JSON of the template)."""
    C = _C(lang)
    ref = comp.reference
    runs = []
    for j, r in enumerate(comp.runs):
        sc = r.manifest.get("scenario") or {}
        mode = C["m_stoch"].format(n=r.replicates, seed=r.manifest.get("seed", "?")) if r.stochastic else C["m_det"]
        runs.append({"role": legend_entries(comp, lang, 10 ** 6)[j].split(C["colon"])[0], "title": r.title,
                     "line": C["run_line"].format(run_id=r.run_id, file=sc.get("file", "?"), mode=mode),
                     "description": court_description((sc.get("header") or {}).get("description", ""))})
    diffs = parametres_differents(comp)
    params = []
    for path, vals in diffs[:MAX_PARAMETRES]:
        title, _ = catalogue_title(path, lang)
        params.append([court(title, 70) + f" ({path})"] + [court(valeur_courte(v, lang), 90) for v in vals])
    par_table = {"header": [C["h_parametre"], C["reference"]] +
                 [C["variante"] if len(comp.variantes) == 1 else C["variante_n"].format(n=j + 1)
                  for j in range(len(comp.variantes))], "rows": params, "bold": []} if params else None
    paired = all(comp.paired(v) for v in comp.variantes)
    sections = []
    for p in perimetres:
        for v in comp.variantes:
            sections.append({
                "title": C["s_perimetre"].format(perimetre=org_label(p, lang)) +
                ("" if len(comp.variantes) == 1 else f" — {v.run_id}"),
                "reading": lecture(comp, v, p, lang),
                "table": tableau_synthese(comp, v, p, lang),
                "caption": C["c_synthese"].format(perimetre=org_label(p, lang), var=v.run_id, ref=ref.run_id),
                "cibles": tableau_cibles(comp, p, lang) if v is comp.variantes[0] else None,
            })
    code = ref.manifest.get("code") or {}
    title = C["n_title"].format(perimetre=", ".join(org_label(p, lang) for p in perimetres))
    return {
        "lang": lang, "title": title, "doc_title": title, "subject": "cogsim compare",
        "header": court(C["n_header"].format(ref=ref.run_id, var=", ".join(v.run_id for v in comp.variantes),
                                             perimetre=", ".join(org_label(p, lang) for p in perimetres)), 110),
        "footer": C["n_footer"].format(i="{i}", n="{n}"),
        "labels": {k: C[k] for k in ("l_runs", "l_lecture_generale", "l_parametres", "l_organismes", "l_charts",
                                     "l_reading")},
        "runs": runs,
        "convention": C["n_convention"].format(ref=ref.run_id) + " " + (C["n_paired"] if paired else C["n_unpaired"]),
        "years": C["n_years"].format(a=int(comp.years[0]), z=int(comp.years[-1])),
        "parametres": par_table,
        "parametres_more": C["n_more"].format(n=len(diffs) - MAX_PARAMETRES) if len(diffs) > MAX_PARAMETRES else "",
        "sections": sections,
        "organismes": [tableau_organismes(comp, v, lang) for v in comp.variantes],
        "charts": list(charts),
        "provenance": C["n_provenance"].format(version=code.get("cogsim", "?"),
                                               commit=str(code.get("commit") or "?")[:7]),
    }


__all__ = ["content", "lecture", "parametres_differents", "tableau_cibles", "tableau_organismes", "tableau_synthese",
           "valeur_courte", "catalogue_title", "PROBABILITE"]
