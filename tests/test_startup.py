"""Start-up discipline: what a normal run imports (timings are in docs/performance.md).

Wall time is machine-dependent and flaky under load; what a run imports is not. A run that
finds the validated catalog cached must not import pydantic or PyYAML (together about half of
the 0.3 s a run took before they were kept off this path), and no run imports rich (the tables
are drawn by hand, on a terminal too: output.terminal).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

HEAVY = ("pydantic", "yaml", "rich", "annotated_types")

PROBE = """
import json, sys
from dsadvisor.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
sys.stderr.write(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {heavy})) + "\\n")
"""


def _imported(tmp_path, *args: str, tty: bool = False) -> set[str]:
    """The heavy top-level packages a second run of ``dsadvisor ARGS`` imported (stdout a pipe or a TTY)."""
    env = dict(os.environ, DSADVISOR_CACHE_DIR=str(tmp_path / "cache"))
    env.pop("DSADVISOR_CATALOG", None)
    code = PROBE.replace("{heavy}", repr(set(HEAVY)))
    for _ in range(2):  # the first run validates and writes the cache; the second is a normal run
        if tty:
            import pty

            leader, follower = pty.openpty()
            proc = subprocess.Popen([sys.executable, "-c", code, *args], env=env, stdout=follower,
                                    stderr=subprocess.PIPE, text=True)
            os.close(follower)
            while True:  # drain the terminal so the child never blocks on a full pty
                try:
                    if not os.read(leader, 65536):
                        break
                except OSError:
                    break
            err = proc.communicate(timeout=120)[1]
            os.close(leader)
        else:
            err = subprocess.run([sys.executable, "-c", code, *args], env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, timeout=120, check=True).stderr
    return {m.split(".")[0] for m in json.loads(err.strip().splitlines()[-1])}


@pytest.mark.parametrize("args", [
    ("recommend", "--gpu", "A100", "--vram", "40", "-f", "json"),
    ("estimate", "deepseek-v3", "--gpu", "H200", "--gpus", "8", "-f", "json"),
    ("check", "deepseek-r1-distill-qwen-7b", "--gpu", "L4"),
    ("--version",),
])
def test_a_cached_run_imports_no_validation_or_yaml(tmp_path, args):
    assert _imported(tmp_path, *args) == set()


def test_a_table_imports_no_rich_even_on_a_terminal(tmp_path):
    assert _imported(tmp_path, "models") == set()  # a pipe gets the plain renderer
    assert _imported(tmp_path, "models", tty=True) == set()  # a terminal the hand-drawn one (output.terminal)


MODULES_PROBE = """
import json, sys
from dsadvisor.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
sys.stderr.write(json.dumps(sorted(sys.modules)) + "\\n")
"""


def test_a_table_run_imports_neither_the_chart_nor_csv(tmp_path):
    """Modules a recommend table to a pipe has no use for: the chart (layouts draws it), csv (-f csv), the checks
    of names a model or an artifact built from YAML holds (catalog.names)."""
    env = dict(os.environ, DSADVISOR_CACHE_DIR=str(tmp_path / "cache"))
    env.pop("DSADVISOR_CATALOG", None)
    for _ in range(2):
        err = subprocess.run([sys.executable, "-c", MODULES_PROBE, "recommend", "--gpu", "A100", "--vram", "40"],
                             env=env, capture_output=True, text=True, timeout=120, check=True).stderr
    loaded = set(json.loads(err.strip().splitlines()[-1]))
    assert "dsadvisor.advice.search" in loaded  # the probe saw the run
    assert not loaded & {"dsadvisor.output.chart", "html", "csv", "dsadvisor.catalog.names"}


def test_a_run_builds_only_the_command_it_names(monkeypatch):
    """typer builds the options of every command the app holds on each run: a run naming one command
    gets an app with that one; the root's help, a misspelt command and shell completion get them all."""
    import typer

    from dsadvisor.cli import _app_for, app

    def built(args):
        return set(typer.main.get_command(_app_for(args)).commands)

    every = built([])
    assert {"recommend", "check", "plan", "layouts", "catalog"} <= every
    assert built(["recommend", "--gpu", "A100"]) == {"recommend"}
    assert built(["catalog", "audit"]) == {"catalog"}
    assert built(["--help"]) == built(["recomend"]) == every
    assert built(["--version"]) == built(["--version", "recommend"]) == set()  # printed before a command is read
    monkeypatch.setenv("_DSADVISOR_COMPLETE", "bash_complete")
    assert built(["recommend"]) == every
    assert _app_for(["recommend"]) is app


def _cli_modules(tmp_path, *args: str) -> set[str]:
    """The dsadvisor.cli modules a run of ``dsadvisor ARGS`` imported."""
    env = dict(os.environ, DSADVISOR_CACHE_DIR=str(tmp_path / "cache"))
    env.pop("DSADVISOR_CATALOG", None)
    err = subprocess.run([sys.executable, "-c", MODULES_PROBE, *args], env=env, capture_output=True, text=True,
                         timeout=120, check=False).stderr
    return {m for m in json.loads(err.strip().splitlines()[-1]) if m.startswith("dsadvisor.cli")}


@pytest.mark.parametrize("args, module", [
    (("recommend", "--gpu", "A100", "--vram", "40"), "advice_commands"),
    (("estimate", "deepseek-r1-distill-qwen-7b", "--gpu", "L4"), "estimate_commands"),
    (("catalog", "audit", "--kind", "params"), "catalog_commands"),
])
def test_a_run_imports_only_the_module_of_its_command(tmp_path, args, module):
    """The other command modules' options (typing.Annotated objects built at import) are not built."""
    assert _cli_modules(tmp_path, *args) == {"dsadvisor.cli", "dsadvisor.cli.shared", f"dsadvisor.cli.{module}"}
    assert len(_cli_modules(tmp_path, "--help")) == 5  # the root's help lists every command


def test_each_command_is_where_command_modules_says():
    from dsadvisor.cli import COMMAND_MODULES, every_command

    app = every_command()
    defined = {c.name: c.callback.__module__ for c in app.registered_commands}
    for group in app.registered_groups:
        defined |= {group.name: c.callback.__module__ for c in group.typer_instance.registered_commands}
    assert defined == {name: f"dsadvisor.cli.{module}" for name, module in COMMAND_MODULES.items()}


def test_the_help_lists_the_commands_in_one_order_whichever_was_imported_first():
    """A program that runs `recommend` and then asks for the root's help gets the help a fresh run prints."""
    code = ("import sys\nfrom dsadvisor.cli import main\nfor argv in sys.argv[1:]:\n    try:\n"
            "        main(argv.split())\n    except SystemExit:\n        pass\n")

    def helps(*runs: str) -> str:
        return subprocess.run([sys.executable, "-c", code, *runs], capture_output=True, text=True, timeout=120,
                              check=True).stdout
    fresh = helps("--help")
    assert "recommend" in fresh and fresh.index("models") < fresh.index("estimate") < fresh.index("recommend")
    assert helps("plan --help", "--help").endswith(fresh)
    assert helps("layouts --help", "--help").endswith(fresh)


def test_version_imports_no_command_module(tmp_path):
    assert _cli_modules(tmp_path, "--version") == {"dsadvisor.cli", "dsadvisor.cli.shared"}
