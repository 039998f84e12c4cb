"""Safe by construction: every bad input file gets exit code 2, fast, with a message that does not quote it.

One test per class of problem: non-regular files (FIFO, device, directory), size cap, encoding (BOM,
invalid UTF-8), secrets never echoed, capped error lists, oversized CSV fields, deep TOML nesting,
duplicate years, an incomplete initial state, pooled shares over 100 %, non-finite observations and a
calibration with nothing to fit.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

import pytest

from model.params.calendrier import ORGANISMES
from model.analysis.observations import COLONNES
from model.analysis.observations import load_observations
from model.params.calibres import parametres_calibres
from model.cli.main import main
from model.params.errors import InputError, Problem
from model.params.effectifs import read_csv
from model.analysis.grille import load_sweep_file
from model.params.lecture import TAILLE_MAX
from model.params.scenario import default_parametres, load_scenario

SECRET = "PASSWORD=hunter2-secret"
HEADER = "organisme,contrat,age,effectif,etp\n"
ONE_EACH = "".join(f"{o},{c},50,1,1\n" for o in ORGANISMES for c in ("cdi", "cdd"))


@contextlib.contextmanager
def within(seconds: int):
    """Fail (instead of hanging forever) if the block takes longer than ``seconds``."""
    def alarm(signum, frame):
        raise TimeoutError(f"took more than {seconds} s")
    old = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    t0 = time.perf_counter()
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert time.perf_counter() - t0 < seconds


def run(argv: list[str], capsys) -> tuple[int, str]:
    with within(5):
        code = main(["--lang", "en", *map(str, argv)])  # the messages as the library writes them
    return code, capsys.readouterr().err


def scenario(tmp_path: Path, body: str, name: str = "sc.toml") -> Path:
    path = tmp_path / name
    path.write_text('[scenario]\ntitle = "t"\n' + body, encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- 1. one bounded reader
def test_baseline_dev_zero_is_refused_at_once(tmp_path, capsys):
    sc = scenario(tmp_path, 'baseline = "/dev/zero"\n')
    code, err = run(["check", str(sc)], capsys)
    assert code == 2 and "/dev/zero: not a regular file (a device)" in err


@pytest.mark.parametrize("where", ["baseline", "etat_initial", "sweep", "observations", "fitted"])
def test_a_fifo_is_refused_at_once_wherever_it_is_read(tmp_path, where, capsys):
    fifo = tmp_path / ("pipe.csv" if where == "observations" else "pipe")
    os.mkfifo(fifo)
    with within(5), pytest.raises(InputError) as info:
        if where == "baseline":
            load_scenario(scenario(tmp_path, f'baseline = "{fifo.name}"\n'))
        elif where == "etat_initial":
            load_scenario(scenario(tmp_path, f'[etat_initial]\nfichier = "{fifo.name}"\n'))
        elif where == "sweep":
            load_sweep_file(fifo, default_parametres())
        elif where == "observations":
            load_observations(tmp_path)
        else:
            parametres_calibres(fifo)
    assert "not a regular file (a named pipe)" in str(info.value)


def test_a_fifo_as_scenario_exits_2(tmp_path, capsys):
    os.mkfifo(tmp_path / "pipe.toml")
    code, err = run(["check", str(tmp_path / "pipe.toml")], capsys)
    assert code == 2 and "not a regular file (a named pipe)" in err


def test_a_file_over_the_cap_is_refused_with_the_cap_stated(tmp_path, capsys):
    sc = scenario(tmp_path, "# " + "x" * TAILLE_MAX + "\n")
    code, err = run(["check", str(sc)], capsys)
    assert code == 2 and "file larger than 4 MiB" in err and "xxxx" not in err


def test_a_directory_is_refused(tmp_path, capsys):
    (tmp_path / "dir.toml").mkdir()
    sc = scenario(tmp_path, 'baseline = "dir.toml"\n')
    code, err = run(["check", str(sc)], capsys)
    assert code == 2 and "not a regular file (a directory)" in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_file_is_refused(tmp_path, capsys):
    sc = scenario(tmp_path, "")
    sc.chmod(0)
    code, err = run(["check", str(sc)], capsys)
    assert code == 2 and "cannot read the file (Permission denied)" in err


def test_a_byte_order_mark_is_accepted(tmp_path):
    bom = "\ufeff"
    (tmp_path / "state.csv").write_text(bom + HEADER + ONE_EACH, encoding="utf-8")
    sc = tmp_path / "sc.toml"
    sc.write_text(bom + '[scenario]\ntitle = "t"\n[etat_initial]\nfichier = "state.csv"\n', encoding="utf-8")
    assert load_scenario(sc).header["title"] == "t"
    assert read_csv(tmp_path / "state.csv").effectif.sum() == 12
    obs = tmp_path / "obs"
    obs.mkdir()
    (obs / "o.csv").write_text(bom + ",".join(COLONNES) + "\n" + OBS_ROW.format(value="2.5"), encoding="utf-8")
    assert [o.value for o in load_observations(obs)] == [2.5]


def test_invalid_utf8_exits_2(tmp_path, capsys):
    (tmp_path / "sc.toml").write_bytes(b'[scenario]\ntitle = "caf\xe9"\n')
    code, err = run(["check", str(tmp_path / "sc.toml")], capsys)
    assert code == 2 and "not UTF-8 text (byte 23)" in err
    (tmp_path / "state.csv").write_bytes(HEADER.encode() + b"cnaf,cdi,40,\xff,1\n")
    with pytest.raises(InputError, match="not UTF-8 text"):
        read_csv(tmp_path / "state.csv")


# ----------------------------------------------------------------------------- 2. no file content echoed
@pytest.mark.parametrize("content", [SECRET + "\n", '[database]\npassword = "hunter2-secret"\n',
                                     "[scenario]\n" + SECRET + "\n"])
@pytest.mark.parametrize("used_as", ["baseline", "etat_initial"])
def test_a_secrets_file_is_never_quoted(tmp_path, content, used_as, capsys):
    (tmp_path / "secrets.env").write_text(content, encoding="utf-8")
    body = 'baseline = "secrets.env"\n' if used_as == "baseline" else '[etat_initial]\nfichier = "secrets.env"\n'
    code, err = run(["check", str(scenario(tmp_path, body))], capsys)
    assert code == 2 and "secrets.env" in err
    assert "hunter2" not in err


def test_values_in_messages_are_cut(tmp_path, capsys):
    long = "a" * 200 + "hunter2"
    code, err = run(["check", str(scenario(tmp_path, f'[organismes.cnaf]\ntaux_remplacement = "{long}"\n'))], capsys)
    assert code == 2 and "wrong type" in err and "hunter2" not in err and "…" in err
    assert len(str(Problem("f", "p", {str(i): "x" * 50 for i in range(1000)}, "m"))) < 200


# ----------------------------------------------------------------------------- 3. errors capped
def test_at_most_20_problems_are_printed(tmp_path, capsys):
    body = "[organismes.cnaf]\n" + "".join(f"inconnu_{i} = 1\n" for i in range(30))
    code, err = run(["check", str(scenario(tmp_path, body))], capsys)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 21 and lines[-1] == "error: ... and 10 more problems"


def test_a_huge_bad_csv_stops_early(tmp_path, capsys):
    (tmp_path / "state.csv").write_text(HEADER + "x,cdi,40,1,1\n" * 300_000, encoding="utf-8")
    t0 = time.perf_counter()
    with pytest.raises(InputError) as info:
        read_csv(tmp_path / "state.csv")
    assert time.perf_counter() - t0 < 5 and len(info.value.problems) <= 1000
    code, err = run(["check", str(scenario(tmp_path, '[etat_initial]\nfichier = "state.csv"\n'))], capsys)
    assert code == 2 and len(err.splitlines()) == 21 and "more problems" in err


# ----------------------------------------------------------------------------- 4. huge fields, deep nesting
def test_a_csv_field_over_the_limit_names_file_and_line(tmp_path, capsys):
    (tmp_path / "state.csv").write_text(HEADER + ONE_EACH + "cnaf,cdi,40,1," + "9" * 200_000 + "\n",
                                        encoding="utf-8")
    code, err = run(["check", str(scenario(tmp_path, '[etat_initial]\nfichier = "state.csv"\n'))], capsys)
    assert code == 2 and "state.csv: line 14: unreadable CSV (field larger than field limit" in err
    obs = tmp_path / "obs"
    obs.mkdir()
    (obs / "o.csv").write_text(",".join(COLONNES) + "\n" + OBS_ROW.format(value="9" * 200_000), encoding="utf-8")
    code, err = run(["calibrate", "--data", str(obs), "--out", str(tmp_path / "out")], capsys)
    assert code == 2 and "o.csv: line 2: unreadable CSV (field larger than field limit" in err


@pytest.mark.parametrize("body", ["a = " + "[" * 5000 + "]" * 5000,
                                  "a = " + "{b = " * 5000 + "1" + "}" * 5000])
def test_toml_nested_too_deep_exits_2(tmp_path, body, capsys):
    code, err = run(["check", str(scenario(tmp_path, body + "\n"))], capsys)
    assert code == 2 and "nested too deep" in err
    (tmp_path / "sweep.toml").write_text(body + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="nested too deep"):
        load_sweep_file(tmp_path / "sweep.toml", default_parametres())


def test_deep_dotted_keys_do_not_crash(tmp_path, capsys):
    code, err = run(["check", str(scenario(tmp_path, "a." * 3000 + "b = 1\n"))], capsys)
    assert code == 2 and "unknown key" in err


# ----------------------------------------------------------------------------- 5. one year, two keys
def test_two_keys_for_one_year_are_refused(tmp_path, capsys):
    body = '[organismes.cnaf]\ntaux_remplacement = {2018 = 0.5, "02018" = 0.9}\n'
    code, err = run(["check", str(scenario(tmp_path, body))], capsys)
    assert code == 2 and "year 2018 given twice (keys '2018' and '02018')" in err


# ----------------------------------------------------------------------------- 6. incomplete initial state
def test_an_initial_state_with_only_its_header_is_refused(tmp_path, capsys):
    (tmp_path / "state.csv").write_text(HEADER, encoding="utf-8")
    code, err = run(["check", str(scenario(tmp_path, '[etat_initial]\nfichier = "state.csv"\n'))], capsys)
    assert code == 2 and "no staff for 12 of the 12 organisme × contract cells (cnam cdi, cnam cdd" in err


def test_an_initial_state_with_missing_rows_names_them(tmp_path):
    rows = "".join(r for r in ONE_EACH.splitlines(keepends=True) if not r.startswith(("msa,cdd", "rsi,")))
    (tmp_path / "state.csv").write_text(HEADER + rows, encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_csv(tmp_path / "state.csv")
    assert "no staff for 3 of the 12 organisme × contract cells (msa cdd, rsi cdi, rsi cdd)" in str(info.value)


# ----------------------------------------------------------------------------- 7. pooled shares
def test_waves_pooling_more_than_all_staff_are_refused(tmp_path, capsys):
    wave = ('[[mutualisations]]\nnom = "{nom}"\norganisme = "cnaf"\ndebut = 2019-01-01\nmontee_en_charge_mois = 12\n'
            'part_effectifs = {part}\ngain_productivite = 0.05\ncout_transition = 1.0\n')
    body = wave.format(nom="v1", part=0.6) + wave.format(nom="v2", part=0.5)
    code, err = run(["check", str(scenario(tmp_path, body))], capsys)
    assert code == 2 and "the waves of cnaf pool 110% of its staff" in err and "v1 = 0.6" in err
    ok = wave.format(nom="v1", part=0.6) + wave.format(nom="v2", part=0.4)
    assert run(["check", str(scenario(tmp_path, ok))], capsys)[0] == 0


# ----------------------------------------------------------------------------- 8. observations
OBS_ROW = "x1,etpma,cnaf,2016,,level,{value},ETPMA,100,official,false,fit,src,,,\n"


@pytest.mark.parametrize("value, message", [("inf", "not a finite number"), ("nan", "not a finite number"),
                                            ("-Infinity", "not a finite number"), ("beaucoup", "not a number")])
def test_a_non_finite_observation_exits_2(tmp_path, value, message, capsys):
    (tmp_path / "o.csv").write_text(",".join(COLONNES) + "\n" + OBS_ROW.format(value=value), encoding="utf-8")
    code, err = run(["calibrate", "--data", str(tmp_path), "--out", str(tmp_path / "out")], capsys)
    assert code == 2 and f"o.csv: row 2, column value = '{value}': {message}" in err


def test_calibrate_with_only_headers_exits_2(tmp_path, capsys):
    (tmp_path / "o.csv").write_text(",".join(COLONNES) + "\n", encoding="utf-8")
    code, err = run(["calibrate", "--data", str(tmp_path), "--out", str(tmp_path / "out")], capsys)
    assert code == 2 and "no observation" in err


def test_calibrate_with_no_observation_in_the_window_exits_2(tmp_path, capsys):
    (tmp_path / "o.csv").write_text(",".join(COLONNES) + "\n" + OBS_ROW.format(value="30000"), encoding="utf-8")
    code, err = run(["calibrate", "--data", str(tmp_path), "--window", "2013-2015", "--out", str(tmp_path / "out")],
                    capsys)
    assert code == 2 and "no observation to fit in the window 2013-2015" in err
    assert not (tmp_path / "out").exists()
