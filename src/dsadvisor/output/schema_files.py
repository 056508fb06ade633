"""The JSON Schema files shipped in the wheel: one per command's ``--format json`` document.

They are generated from the result types in :mod:`dsadvisor.output.contract`
(``python -m dsadvisor.output.contract``); reading one needs neither pydantic nor that module.
"""

from __future__ import annotations

from importlib import resources

from dsadvisor.errors import UnknownNameError

# The commands whose JSON documents have a schema, as `dsadvisor schema` names them.
COMMANDS = ("estimate", "check", "recommend", "plan", "models", "show", "gpus", "catalog-validate", "catalog-audit",
            "layouts")


def schema_text(command: str) -> str:
    """The shipped JSON Schema of ``command``'s document, as text (JSON)."""
    if command not in COMMANDS:
        raise UnknownNameError("command", command, COMMANDS, hint="`dsadvisor schema` lists them")
    return resources.files("dsadvisor.output").joinpath("schemas").joinpath(f"{command}.schema.json").read_text("utf-8")
