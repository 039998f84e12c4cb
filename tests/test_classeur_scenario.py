"""Scenarios in Excel: `cogsim template` writes a workbook of every parameter; every command reads it like its
TOML twin (same validation, same results); a bad cell exits 2 naming the sheet, the cell and what is allowed,
with nothing written."""

from __future__ import annotations

import numpy as np
import openpyxl
import pytest
import xarray as xr

from model.cli.main import main
from model.params.catalogue import load_catalogue
from model.params.classeur_scenario import HEADER_SHEET, lire_classeur
from model.params.scenario import load_scenario

from conftest import COG


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    out = tmp_path_factory.mktemp("tpl") / "scenario.xlsx"
    assert main(["template", "--baseline", str(COG), "--out", str(out)]) == 0
    return out


def _edit(src, dst, edits):
    """Copy the workbook ``src`` to ``dst`` with ``edits(wb)`` applied (as a planner in Excel would)."""
    wb = openpyxl.load_workbook(src)
    edits(wb)
    wb.save(dst)
    return dst


def _set_years(wb, path, values: dict):
    ws = wb[path.split(".")[0]]
    head = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        if row[0].value == path:
            for y, v in values.items():
                row[head.index(y)].value = v
            return
    raise AssertionError(path)


def test_template_holds_every_parameter_with_title_unit_range_and_source(template):
    wb = openpyxl.load_workbook(template)
    visible = [ws.title for ws in wb.worksheets if ws.sheet_state == "visible"]
    assert visible[0] == HEADER_SHEET and "organismes" in visible and "gels_recrutement" in visible
    paths = {row[0].value for ws in wb.worksheets if ws.sheet_state == "visible" and ws.title != HEADER_SHEET
             for row in ws.iter_rows(min_row=2) if row and row[0].value}
    for p in load_catalogue().values():
        if p.type != "events":
            assert set(p.paths()) <= paths, p.path
    ws = wb["organismes"]
    head = [c.value for c in ws[1]]
    assert head[:4] == ["Chemin", "Titre", "Unité", "Valeur"] and 2013 in head and 2022 in head
    assert head[-2:] == ["Plage autorisée", "Source"]
    row = next(r for r in ws.iter_rows(min_row=2, values_only=True) if r[0] == "organismes.cnaf.taux_remplacement")
    base = load_scenario(COG).parametres["organismes.cnaf.taux_remplacement"]
    assert [row[head.index(y)] for y in range(2013, 2023)] == pytest.approx(list(base))
    assert row[1].startswith("Taux de remplacement") and "[0, 3]" in row[-2] and row[-1]


def test_an_unchanged_template_is_its_baseline(template):
    raw, _ = lire_classeur(template, "scenario.xlsx")
    assert set(raw) == {"scenario"}
    assert load_scenario(template).parametres.to_json() == load_scenario(COG).parametres.to_json()


def test_a_changed_cell_gives_the_results_of_its_toml_twin(template, tmp_path):
    def edits(wb):
        _set_years(wb, "organismes.cnaf.taux_remplacement", {2020: 0.3, 2021: 0.3, 2022: 0.3})
        g = wb["gels_recrutement"]
        g.insert_rows(2)
        for i, v in enumerate(["gel_cnaf_2020", "cnaf", "2020-01-01", "2021-01-01", "cdi"]):
            g.cell(row=2, column=i + 1, value=v)

    xlsx = _edit(template, tmp_path / "variante.xlsx", edits)
    twin = tmp_path / "variante.toml"
    twin.write_text(f'[scenario]\ntitle = "twin"\nbaseline = "{COG}"\n[organismes.cnaf]\n'
                    'taux_remplacement = {2020 = 0.3}\n[[gels_recrutement]]\nnom = "gel_cnaf_2020"\n'
                    'organisme = "cnaf"\ndebut = 2020-01-01\nfin = 2021-01-01\ncontrats = "cdi"\n', encoding="utf-8")
    for src, out in ((xlsx, "rx"), (twin, "rt")):
        assert main(["run", str(src), "--replicates", "2", "--out", str(tmp_path / out)]) == 0
    a, b = xr.open_dataset(tmp_path / "rx" / "results.nc"), xr.open_dataset(tmp_path / "rt" / "results.nc")
    for v in a.data_vars:
        np.testing.assert_array_equal(a[v].values, b[v].values, err_msg=v)
    # and the other commands read it too
    assert main(["check", str(xlsx)]) == 0
    assert main(["describe", str(xlsx), "--changed"]) == 0


def test_a_bad_cell_exits_2_naming_sheet_cell_and_what_is_allowed(template, tmp_path, capsys):
    def edits(wb):
        _set_years(wb, "organismes.cnaf.taux_remplacement", {2021: 5})
        _set_years(wb, "organismes.cnam.taux_remplacement", {2022: "abc"})

    bad = _edit(template, tmp_path / "bad.xlsx", edits)
    out = tmp_path / "run"
    assert main(["run", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "sheet 'organismes', cell" in err and "taux_remplacement.2021 = 5" in err and "[0, 3]" in err
    assert "'abc'" in err and err.count("sheet 'organismes'") == 2
    assert not out.exists() and not any(p.name.startswith(".run") for p in tmp_path.iterdir())
    assert main(["check", str(bad)]) == 2
    assert main(["sweep", str(bad), "--grid", "organismes.msa.taux_remplacement=0.5,0.6", "--out",
                 str(tmp_path / "sw")]) == 2
    assert not (tmp_path / "sw").exists()


def test_template_refuses_an_existing_file_and_a_non_xlsx_name(template, tmp_path, capsys):
    assert main(["template", "--out", str(template)]) == 2
    assert "exists already" in capsys.readouterr().err
    assert main(["template", "--out", str(tmp_path / "x.toml")]) == 2
    assert not (tmp_path / "x.toml").exists()


def test_a_file_that_is_not_a_workbook_is_bad_input(tmp_path, capsys):
    f = tmp_path / "faux.xlsx"
    f.write_text("not a zip", encoding="utf-8")
    assert main(["check", str(f)]) == 2
    assert "not a readable XLSX workbook" in capsys.readouterr().err
