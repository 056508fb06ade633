"""docs/cli.md is generated from the commands' own help and must match the code as it is now.

If this fails after a change to a command or option: run `python docs/gen_cli.py` and commit docs/cli.md.
"""

from __future__ import annotations

import importlib.util

from .conftest import ROOT

GEN = ROOT / "docs" / "gen_cli.py"
CLI_MD = ROOT / "docs" / "cli.md"


def _generator():
    spec = importlib.util.spec_from_file_location("gen_cli", GEN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_reference_is_current():
    expected = _generator().render()
    assert CLI_MD.read_text(encoding="utf-8") == expected, (
        "docs/cli.md is stale: run `python docs/gen_cli.py` and commit the result"
    )


def test_cli_reference_covers_every_command():
    from typer.main import get_command

    from dsadvisor.cli import app

    root = get_command(app)
    text = CLI_MD.read_text(encoding="utf-8")
    for name in root.list_commands(None):
        assert f"## dsadvisor {name}\n" in text, f"docs/cli.md has no section for `dsadvisor {name}`"


def test_cli_reference_lists_the_exit_codes():
    text = CLI_MD.read_text(encoding="utf-8")
    for code in range(7):
        assert f"\n| {code} | " in text


def test_rules_md_shows_the_exit_codes_cli_md_does():
    """docs/rules.md copied the exit-code table by hand and drifted: its row 1 said the cli.py docstring "does not
    list" plan's exit 1 after the docstring had listed it for a while (and layouts' exit 1 was in neither)."""
    import re

    def table(text: str) -> str:
        found = re.search(r"\| code \| meaning \|\n(\|.*\n)+", text)
        assert found is not None
        return found.group(0)

    assert table((CLI_MD.parent / "rules.md").read_text(encoding="utf-8")) == table(CLI_MD.read_text(encoding="utf-8"))
