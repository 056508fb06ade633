"""Errors the library raises. The CLI alone turns them into exit codes (see docs/cli.md)."""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable


class DsAdvisorError(Exception):
    """Base class: ``str(err)`` is one line fit for stderr."""


class CatalogError(DsAdvisorError):
    """A catalog file could not be read or did not validate.

    ``problems`` holds one line per problem, each naming file, entry and field; past a limit
    (``Limits.max_problems``) the rest are only counted, in ``more``, and ``more_files`` names the files
    they are in.
    """

    def __init__(self, problems: list[str], more: int = 0, more_files: tuple[str, ...] = ()):
        self.problems, self.more, self.more_files = problems, more, more_files
        rest = len(problems) - 1 + more
        first = problems[0] if problems else f"{more:,} catalog problems"
        super().__init__(first if rest <= 0 or not problems else f"{first} (and {rest:,} more)")

    def more_line(self) -> str:
        """The line that stands for the problems not described ("" when every one is)."""
        if not self.more:
            return ""
        where = (self.more_files[0] if len(self.more_files) == 1 else f"{len(self.more_files):,} files")
        return (f"{where}: {self.more:,} more problem{'s' if self.more != 1 else ''} not shown (only the "
                f"first {len(self.problems):,} are); fix those and validate again")


class CatalogWarning(UserWarning):
    """Something about the catalog a user should hear, though the run goes on (a cache entry ignored and
    rebuilt). ``str(warning)`` is one line; the CLI prints it on stderr as ``dsadvisor: warning: ...``."""


class UnknownNameError(DsAdvisorError):
    """A model, GPU, format or engine name the catalog does not know."""

    def __init__(self, kind: str, name: str, known: Iterable[str], hint: str = ""):
        self.kind, self.name, self.hint = kind, name, hint
        self.suggestions = suggest(name, known)
        super().__init__(self.message())

    def message(self) -> str:
        """The one line, from ``suggestions`` as they are now (a caller may improve on them)."""
        msg = f"unknown {self.kind} {quoted(self.name)}"
        if self.suggestions:
            msg += "; did you mean " + " or ".join(quoted(s) for s in self.suggestions) + "?"  # clipped too
        if self.hint:
            msg += f" ({self.hint})"
        return msg


class InputError(DsAdvisorError):
    """A value or combination of options that cannot describe a deployment."""


class OutputError(DsAdvisorError):
    """A result that cannot be written in the format asked for (a non-finite number in JSON or YAML)."""


class NoGpuError(DsAdvisorError):
    """``--gpu auto`` (``gpu="auto"``) found no local GPU."""


class NoFitError(DsAdvisorError):
    """No deployment passes: ``plan`` has nothing to launch. ``verdict`` is the closest miss, when there is one."""

    def __init__(self, message: str, verdict: object = None):
        self.verdict = verdict
        super().__init__(message)


SHOWN = 80  # the most characters of a user's name or path an error message repeats


def typed(name: str) -> str:
    """A name as a user meant it: NFKC-folded (full-width ``Ｈ１００`` is ``H100``, a no-break space a space) and
    without invisible format characters (a zero-width space or joiner, a byte-order mark: category Cf), as text
    pasted from a web page or a chat carries them."""
    if name.isascii():  # NFKC leaves ASCII as it is and it holds no format character: most names, no cost
        return name
    folded = unicodedata.normalize("NFKC", name)
    return "".join(c for c in folded if unicodedata.category(c) != "Cf")


def quoted(name: str, limit: int = SHOWN) -> str:
    """``repr(name)``; a longer name shortened, with its length: ``'xxxx…' (100,000 characters)``."""
    if len(name) <= limit:
        return repr(name)
    head = name[:limit - 1] + "\u2026"
    return f"{head!r} ({len(name):,} characters)"


def clipped(text: object, limit: int = SHOWN) -> str:
    """``str(text)`` (a path, shown unquoted) shortened like :func:`quoted`: ``xxxx… (100,000 characters)``."""
    text = str(text)
    if len(text) <= limit:
        return text
    return f"{text[:limit - 1]}\u2026 ({len(text):,} characters)"


def suggest(name: str, known: Iterable[str], n: int = 3) -> list[str]:
    """Closest known names, case-insensitively; prefix and substring matches first."""
    known = list(dict.fromkeys(known))
    lowered = {k.lower(): k for k in known}
    key = name.lower().strip()
    contains = [lowered[k] for k in lowered if key and (k.startswith(key) or key in k)]
    close = [lowered[k] for k in difflib.get_close_matches(key, list(lowered), n=n, cutoff=0.6)]
    return list(dict.fromkeys(sorted(contains, key=len) + close))[:n]


class UnsupportedError(InputError):
    """An engine that does not run this format, KV cache or attention on this hardware (its own
    support matrix): one line with the engine's reason and the engines that would run it."""
