"""Every --format of every command that prints results gives parseable output; --version, --help and
shell completion.

* json: one object with ``schema_version`` (docs/json.md);
* yaml: the same data as json;
* csv: the first table, a header row first, every row as wide as the header;
* markdown: every table has a ``|---|`` separator under a header as wide as it, and rows as wide;
  its first table holds the same cells as the csv;
* table: plain text when captured (not a TTY), with or without NO_COLOR: no ANSI escape sequence.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re

import pytest
import yaml

import dsadvisor

from .conftest import run_subprocess

FORMATS = ("table", "json", "yaml", "csv", "markdown")

CASES = {
    "models": ("models",),
    "gpus": ("gpus",),
    "estimate": ("estimate", "deepseek-r1-distill-qwen-7b", "--gpu", "H100"),
    # --all: a second table (the rejected models), which csv leaves out
    "recommend": ("recommend", "--gpu", "RTX 4090", "--top", "3", "--all"),
    "check": ("check", "deepseek-r1-distill-qwen-7b", "--gpu", "H100"),
    # two nodes: multi-line commands, an env, notes and a Kubernetes manifest
    "plan": ("plan", "deepseek-v3", "--gpu", "H100", "--gpus", "16", "--k8s"),
}
IDS = list(CASES)
ANSI = re.compile(r"\x1b[\[\]()#;?]*[0-9;]*[A-Za-z@-~]?|\x1b")
SEPARATOR = re.compile(r"^\|(---\|)+$")


def _out(run, name: str, fmt: str) -> str:
    r = run(*CASES[name], "-f", fmt)
    assert r.code == 0, r.err
    assert r.err == ""
    assert r.out.endswith("\n")
    return r.out


def _cells(line: str) -> list[str]:
    """A markdown row's cells: split on pipes that are not escaped, unescape them."""
    assert line.startswith("| ") and line.endswith(" |"), line
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line[1:-1])]


def _markdown_tables(text: str) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, rows) of every table; asserts the layout as it goes."""
    lines = text.splitlines()
    tables = []
    for i, line in enumerate(lines):
        if not SEPARATOR.match(line):
            continue
        assert i >= 3 and lines[i - 3].startswith("### ") and lines[i - 2] == "", lines[i - 3:i + 1]
        header = _cells(lines[i - 1])
        assert line.count("---") == len(header), (line, header)
        rows, j = [], i + 1
        while j < len(lines) and lines[j].startswith("|"):
            row = _cells(lines[j])
            assert len(row) == len(header), (lines[j], header)
            rows.append(row)
            j += 1
        assert j == len(lines) or lines[j] == "", f"table ends with a stray line: {lines[j]!r}"
        tables.append((lines[i - 3][4:], header, rows))
    return tables


@pytest.mark.parametrize("name", IDS)
def test_json_is_one_object_with_schema_version(run, name):
    data = json.loads(_out(run, name, "json"))
    assert isinstance(data, dict)
    assert data["schema_version"] == 1


@pytest.mark.parametrize("name", IDS)
def test_yaml_carries_the_json_data(run, name):
    data = yaml.safe_load(_out(run, name, "yaml"))
    assert data == json.loads(_out(run, name, "json"))
    assert data["schema_version"] == 1


@pytest.mark.parametrize("name", IDS)
def test_csv_header_and_consistent_columns(run, name):
    rows = list(csv.reader(io.StringIO(_out(run, name, "csv"))))
    assert len(rows) >= 2, "a header and at least one row"
    header = rows[0]
    assert len(header) >= 2 and all(header[1:]) and len(set(header)) == len(header)
    assert all(len(r) == len(header) for r in rows), {len(r) for r in rows}


@pytest.mark.parametrize("name", IDS)
def test_markdown_tables_and_their_separator_rows(run, name):
    tables = _markdown_tables(_out(run, name, "markdown"))
    assert tables, "at least one table"
    assert all(rows for title, _header, rows in tables if not title.startswith("0 "))
    # the first table is the one csv prints: the same header and cells (recommend's CSV adds the
    # described variants' section under the ranking, with a section column)
    rows = list(csv.reader(io.StringIO(_out(run, name, "csv"))))
    _, header, body = tables[0]
    if name == "recommend":
        assert rows[0] == ["section", *header]
        _, described_header, described = tables[1]
        assert described_header == header
        assert rows[1:] == [["ranked", *r] for r in body] + [["described", *r] for r in described]
        assert [t[1] for t in tables[2:]] == [["model", "closest try", "why not"]]
        return
    assert header == rows[0]
    assert body == rows[1:]


def test_counts_agree_across_formats(run):
    """The human formats show what the data holds: one row per model / GPU."""
    models = json.loads(_out(run, "models", "json"))
    assert len(list(csv.reader(io.StringIO(_out(run, "models", "csv"))))) == 1 + models["count"]
    gpus = json.loads(_out(run, "gpus", "json"))
    (title, _header, rows), = _markdown_tables(_out(run, "gpus", "markdown"))
    assert len(rows) == gpus["count"] and title == f"{gpus['count']} accelerators"
    assert [r[0] for r in rows] == [g["id"] for g in gpus["gpus"]]


@pytest.mark.parametrize("no_color", [False, True], ids=["plain", "NO_COLOR"])
@pytest.mark.parametrize("name", IDS)
def test_table_has_no_ansi_escapes_when_captured(run, monkeypatch, name, no_color):
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    out = _out(run, name, "table")
    assert "\x1b" not in out and not ANSI.search(out)
    assert "+--" in out or "|" in out  # the ASCII box of a captured table, not rich's unicode one
    assert not set("─│┃━┏┡") & set(out)


def test_table_has_no_ansi_escapes_in_a_subprocess_with_no_color():
    env = {**os.environ, "NO_COLOR": "1", "TERM": "xterm-256color"}
    env.pop("DSADVISOR_CATALOG", None)
    p = run_subprocess("estimate", "deepseek-r1-distill-qwen-7b", "--gpu", "H100", env=env)
    assert p.returncode == 0, p.stderr
    assert "\x1b" not in p.stdout and "weights / GPU" in p.stdout


# ------------------------------------------------------- version, help, completion

def test_version(run):
    r = run("--version")
    assert r.code == 0 and r.err == ""
    assert r.out == f"dsadvisor {dsadvisor.__version__}\n"
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", dsadvisor.__version__)


def _commands():
    """(argv path, click command) for every command, from the app itself."""
    import typer

    from dsadvisor.cli import app

    root = typer.main.get_command(app)
    out = []

    def walk(path, cmd):
        out.append((path, cmd))
        for sub_name, sub in sorted(getattr(cmd, "commands", {}).items()):
            walk(path + (sub_name,), sub)

    walk((), root)
    return out


COMMANDS = _commands()


def test_every_command_is_covered():
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"models", "show", "gpus", "estimate", "recommend", "check", "plan", "catalog validate",
            "catalog audit"} <= names
    assert set(CASES) <= names


@pytest.mark.parametrize("path,command", COMMANDS, ids=[" ".join(p) or "root" for p, _ in COMMANDS])
def test_help_exits_0_and_mentions_every_option(run, path, command):
    r = run(*path, "--help")
    assert r.code == 0 and r.err == ""
    assert r.out.startswith(f"Usage: dsadvisor{' ' if path else ''}{' '.join(path)} ")
    first_line = (command.help or "").strip().splitlines()[0] if command.help else ""
    assert first_line.split()[0] in r.out
    for param in command.params:
        for opt in param.opts:
            if opt.startswith("-"):
                assert re.search(rf"(^|[\s,]){re.escape(opt)}\b", r.out, re.M), f"{opt} not in {path} --help"
    if path and path[-1] not in ("catalog",):
        assert "--help" in r.out


def test_short_help_option(run):
    assert run("estimate", "-h").out == run("estimate", "--help").out


@pytest.mark.parametrize("shell, registers", [("bash", "complete "), ("zsh", "compdef "), ("fish", "complete ")])
def test_root_help_offers_shell_completion(run, monkeypatch, shell, registers):
    """With shellingham installed (typer depends on it) --show-completion is a flag for the shell pytest runs
    under, found by walking up the process tree: under `sh -c` (git's exec, a hook, many CI steps) that is
    dash, for which typer has no script, and a word after the flag is ignored. The shell is fixed here."""
    import shellingham

    monkeypatch.setattr(shellingham, "detect_shell", lambda *a, **k: (shell, f"/bin/{shell}"))
    out = run("--help").out
    assert "--install-completion" in out
    assert "--show-completion" in out
    r = run("--show-completion")
    assert r.code == 0, r.err
    assert "_DSADVISOR_COMPLETE" in r.out and registers in r.out and "dsadvisor" in r.out


def test_no_arguments_prints_help(run):
    r = run()
    assert r.code in (0, 2)  # click >= 8.2 treats no_args_is_help as a usage error (exit 2)
    assert "Usage: dsadvisor" in r.out + r.err
    for name in ("models", "estimate", "recommend", "check", "plan", "catalog"):
        assert re.search(rf"^\s+{name}\s", r.out + r.err, re.M)


# ---------------------------------------------------- check in a subprocess (CI use)

def test_check_in_a_subprocess_exit_codes_stdout_and_stderr():
    """What a CI job sees: exit 0 with the JSON verdict and a silent stderr; exit 1 with the full verdict
    on stdout and one line on stderr; exit 3 and nothing on stdout for an unknown model."""
    model = "deepseek-r1-distill-qwen-7b"
    ok = run_subprocess("check", model, "--gpu", "H100", "--max-ttft", "1", "--min-tokens-per-s", "40")
    assert ok.returncode == 0, ok.stderr
    assert ok.stderr == ""
    verdict = json.loads(ok.stdout)
    assert verdict["schema_version"] == 1
    assert verdict["model"] == model and verdict["status"] == "released" and verdict["passed"] is True
    assert verdict["rules"] and all(r["status"] == "pass" for r in verdict["rules"])
    assert {"DSA002", "DSA005", "DSA007"} <= {r["id"] for r in verdict["rules"]}
    assert verdict["estimate"]["model"] == model and verdict["estimate"]["memory"]["fits"] is True
    assert verdict["estimate"]["latency"]["ttft_s"] <= 1
    assert verdict["estimate"]["throughput"]["per_sequence_tokens_per_s"] >= 40
    assert 0 < verdict["score"]["total"] <= 1

    fail = run_subprocess("check", model, "--gpu", "H100", "--min-tokens-per-s", "100000")
    assert fail.returncode == 1
    verdict = json.loads(fail.stdout)  # the whole verdict, not a summary
    assert verdict["schema_version"] == 1 and verdict["passed"] is False and verdict["model"] == model
    assert verdict["estimate"] is not None and verdict["score"] is not None
    failed = [r for r in verdict["rules"] if r["status"] == "fail"]
    assert [r["id"] for r in failed] == ["DSA007"]
    lines = fail.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0] == f"dsadvisor: check failed: DSA007 {failed[0]['message']}"

    unknown = run_subprocess("check", "deepseek-v9", "--gpu", "H100")
    assert unknown.returncode == 3
    assert unknown.stdout == ""
    assert unknown.stderr.startswith("dsadvisor: error: unknown model 'deepseek-v9'")
    assert len(unknown.stderr.splitlines()) == 1


def test_plain_table_matches_rich_layout_and_counts_wide_characters(monkeypatch):
    """The pipe renderer draws what rich's ASCII box draws, and aligns CJK text by display width."""
    from dsadvisor.output.render import Document, PlainTableRenderer, Table
    from tests.test_terminal import rich_drawing

    doc = Document(data={}, tables=(Table("two rows", ("id", "value"), (("a", "1"), ("bbbb", "22"))),),
                   notes=("a note",))
    monkeypatch.setenv("NO_COLOR", "1")
    rich_text = rich_drawing(doc, width=200)
    assert PlainTableRenderer().render(doc) == "\n".join(line.rstrip() for line in rich_text.splitlines()) + "\n"
    wide = PlainTableRenderer().render(Document(data={}, tables=(Table("t", ("x",), (("深度求索",), ("abc",))),)))
    rows = [line for line in wide.splitlines() if line.startswith("|")]
    assert rows[1] == "| 深度求索 |" and rows[2] == "| abc      |"  # 4 wide characters = 8 columns
