"""Errors the library raises. The CLI alone turns them into exit codes (see docs/cli.md)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class DsAdvisorError(Exception):
    """Base class: ``str(err)`` is one line fit for stderr."""


class CatalogError(DsAdvisorError):
    """A catalog file could not be read or did not validate.

    ``problems`` holds one line per problem, each naming file, entry and field.
    """

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(problems[0] if len(problems) == 1 else f"{problems[0]} (and {len(problems) - 1} more)")


class UnknownNameError(DsAdvisorError):
    """A model, GPU, format or engine name the catalog does not know."""

    def __init__(self, kind: str, name: str, known: Iterable[str], hint: str = ""):
        self.kind, self.name = kind, name
        self.suggestions = suggest(name, known)
        msg = f"unknown {kind} {name!r}"
        if self.suggestions:
            msg += "; did you mean " + " or ".join(repr(s) for s in self.suggestions) + "?"
        if hint:
            msg += f" ({hint})"
        super().__init__(msg)


class InputError(DsAdvisorError):
    """A value or combination of options that cannot describe a deployment."""


def suggest(name: str, known: Iterable[str], n: int = 3) -> list[str]:
    """Closest known names, case-insensitively; prefix and substring matches first."""
    known = list(dict.fromkeys(known))
    lowered = {k.lower(): k for k in known}
    key = name.lower().strip()
    contains = [lowered[k] for k in lowered if key and (k.startswith(key) or key in k)]
    close = [lowered[k] for k in difflib.get_close_matches(key, list(lowered), n=n, cutoff=0.6)]
    return list(dict.fromkeys(close + sorted(contains, key=len)))[:n]
