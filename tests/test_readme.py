"""The commands of the README, the planner guide and docs/sweeps.md run as written; their shown outputs are
current.

Every ``cogsim ...`` or ``python run_scenario.py ...`` line of a fenced ``bash`` block of the documents in
:data:`DOCUMENTS` is run, in document order, through the installed console script (as a user runs it
after the README's install), from a temporary folder holding a copy of ``scenarios/``: the documents'
``results/...`` paths land there, never in the repository. A ``text`` block that follows a ``bash`` block
(before the next one) lists lines the block's last command must print (compared with runs of spaces
made single). The README's two install commands are not run (CI runs them); ``source`` lines are skipped.

Cost: the cheap commands (check, describe, run, solve, one report) run in the default suite; the others
(report variants, sweeps, sensitivity, calibration) are only parsed there, and run with ``-m slow``. A
command repeated later in the documents runs once.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import ROOT

COGSIM = Path(sys.executable).parent / "cogsim"
DOCUMENTS = ("README.md", "docs/guide.md", "docs/sweeps.md")
SHELL_META = set("();<>|&")
COSTLY = {"sweep", "sensitivity", "calibrate", "backtest"}


@dataclass
class Command:
    document: str
    line: int  # of the command's first line, 1-based
    args: list[str]  # after the program name
    expected: list[str] = field(default_factory=list)  # lines of a following ``text`` block

    @property
    def id(self) -> str:
        return f"{self.document}:{self.line}"

    @property
    def slow(self) -> bool:
        words = [a for a in self.args if not a.startswith("--lang")]
        name = next((a for a in words if not a.startswith("-")), "")
        if name in COSTLY:
            return True
        # one plain report per run folder is cheap enough; --compare / --lang variants are not
        return name == "report" and len(self.args) > 2


def _fences(text: str):
    """(language, first line number of the body, body) of every fenced block, in order."""
    for m in re.finditer(r"^```(\w*)[^\n]*\n(.*?)^```", text, re.M | re.S):
        yield m.group(1), text.count("\n", 0, m.start(2)) + 1, m.group(2)


def _program_args(words: list[str]) -> list[str] | None:
    """The arguments of a cogsim invocation, or None when the line is not one."""
    if not words:
        return None
    prog = words[0]
    if prog in ("cogsim", ".venv/bin/cogsim"):
        return words[1:]
    if prog in ("python", "python3", ".venv/bin/python") and words[1:2] == ["run_scenario.py"]:
        return words[2:]
    return None


def commands(document: str) -> list[Command]:
    """The cogsim commands of ``document``'s bash blocks, with the output lines shown after them."""
    text = (ROOT / document).read_text(encoding="utf-8")
    found: list[Command] = []
    last_block: list[Command] = []
    for lang, start, body in _fences(text):
        if lang == "text":
            if last_block:
                last_block[-1].expected += [ln.strip() for ln in body.splitlines() if ln.strip()]
            continue
        if lang != "bash":
            continue
        last_block = []
        lines = body.splitlines()
        i = 0
        while i < len(lines):
            first = i
            logical = lines[i]
            while logical.rstrip().endswith("\\") and i + 1 < len(lines):
                i += 1
                logical = logical.rstrip()[:-1] + " " + lines[i]
            i += 1
            if logical.lstrip().startswith(("python3 -m venv", "source ", ".venv/bin/pip ")):
                continue  # the install commands (run by CI) and activating the environment
            lex = shlex.shlex(logical, posix=True, punctuation_chars=True)
            lex.whitespace_split = True
            lex.commenters = "#"
            words = list(lex)
            args = _program_args(words)
            if args is None:
                continue
            meta = [w for w in args if w and set(w) <= SHELL_META]
            assert not meta, (f"{document}:{start + first}: {meta} is read by the shell (a redirection or a "
                              f"pipe), not passed to cogsim: quote the argument that holds it")
            cmd = Command(document, start + first, args)
            found.append(cmd)
            last_block.append(cmd)
    return found


ALL = [c for d in DOCUMENTS for c in commands(d)]


def test_the_documents_have_commands():
    docs = {c.document for c in ALL}
    assert docs == set(DOCUMENTS), docs
    assert any(c.expected for c in ALL), "the README shows the output of its solve example"


@pytest.mark.parametrize("cmd", ALL, ids=[c.id for c in ALL])
def test_every_documented_command_parses(cmd):
    """Every command's options exist and its values parse (cheap: no run)."""
    from model.cli.main import build_parser

    try:
        build_parser(cmd.args).parse_args(cmd.args)
    except SystemExit as exc:  # argparse's exit 2
        pytest.fail(f"{cmd.id}: cogsim {shlex.join(cmd.args)} does not parse (exit {exc.code})")


class Workspace:
    """A temporary project folder (a copy of ``scenarios/``) in which the documents' commands run in
    order; each distinct command runs at most once."""

    def __init__(self, root: Path):
        self.root = root
        shutil.copytree(ROOT / "scenarios", root / "scenarios")
        self.done: dict[tuple[str, ...], subprocess.CompletedProcess] = {}

    def run(self, cmd: Command) -> subprocess.CompletedProcess:
        key = tuple(cmd.args)
        if key not in self.done:
            prog = [str(COGSIM)] if COGSIM.exists() else [sys.executable, "-m", "model.cli.main"]
            env = {k: v for k, v in os.environ.items() if k != "COGSIM_LANG"}  # as a reader runs it: French
            self.done[key] = subprocess.run([*prog, *cmd.args], cwd=self.root, capture_output=True, text=True,
                                            timeout=1800, env=env)
        return self.done[key]

    def run_through(self, cmd: Command) -> subprocess.CompletedProcess:
        """Run the cheap commands before ``cmd`` (what it may need: a run before its report), then it."""
        for earlier in ALL[:ALL.index(cmd)]:
            if not earlier.slow:
                r = self.run(earlier)
                assert r.returncode == 0, f"{earlier.id}, run before {cmd.id}, failed:\n{r.stderr[-3000:]}"
        return self.run(cmd)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Workspace:
    return Workspace(tmp_path_factory.mktemp("documents"))


def _squash(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip()


@pytest.mark.parametrize("cmd", [pytest.param(c, marks=pytest.mark.slow) if c.slow else c for c in ALL],
                         ids=[c.id for c in ALL])
def test_every_documented_command_runs(cmd, workspace):
    r = workspace.run_through(cmd)
    shown = f"cogsim {shlex.join(cmd.args)}"
    assert r.returncode == 0, f"{cmd.id}: {shown} exited {r.returncode}\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}"
    assert "Traceback" not in r.stderr
    printed = _squash(r.stdout + "\n" + r.stderr)
    stale = [line for line in cmd.expected if _squash(line) not in printed]
    assert not stale, (f"{cmd.id}: the output shown after {shown} is stale; it now prints:\n{r.stdout}\n"
                       f"update the text block with the current lines")


def test_every_documented_scenario_file_is_valid(tmp_path):
    """The TOML blocks of the documents that are scenario files (a ``[scenario]`` header) pass
    ``cogsim check`` once saved into ``scenarios/`` (where their ``baseline`` is)."""
    work = Workspace(tmp_path)
    files = []
    for document in DOCUMENTS:
        text = (ROOT / document).read_text(encoding="utf-8")
        for lang, line, body in _fences(text):
            if lang == "toml" and re.search(r"^\[scenario\]", body, re.M):
                f = work.root / "scenarios" / f"{Path(document).stem}_{line}.toml"
                f.write_text(body, encoding="utf-8")
                files.append(f.name)
    assert len(files) >= 2, files
    prog = [str(COGSIM)] if COGSIM.exists() else [sys.executable, "-m", "model.cli.main"]
    r = subprocess.run([*prog, "check", *(f"scenarios/{f}" for f in files)], cwd=work.root, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
