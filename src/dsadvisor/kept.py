"""``kept_by_identity``: keep a pure function's answers by the identity of its arguments.

The search asks the same few catalog objects the same questions thousands of times a run (a format's weight bytes,
an engine's rates on a GPU); the objects are frozen, so an answer depends only on which objects were asked about.
Each answer is kept with its arguments, so an id that Python reuses for another object never matches, and the
table is emptied when it reaches its limit (a long-lived process asking about many catalogs stays bounded).
"""

from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def kept_by_identity(limit: int) -> Callable[[F], F]:
    """Decorator for a function of three positional catalog objects (the third may be left out: None) whose
    answer depends only on them. Written out for three, not ``*args``: a kept call is the hot path (about 0.35 us
    against 1 us through a generic tuple of ids)."""
    def wrap(fn: F) -> F:
        table: dict[tuple[int, int, int], tuple[Any, Any, Any, Any]] = {}

        @functools.wraps(fn)
        def kept(a: Any, b: Any, c: Any = None) -> Any:
            key = (id(a), id(b), id(c))
            held = table.get(key)
            if held is not None and held[0] is a and held[1] is b and held[2] is c:
                return held[3]
            found = fn(a, b, c)
            if len(table) >= limit:
                table.clear()
            table[key] = (a, b, c, found)
            return found

        kept.kept_answers = table  # type: ignore[attr-defined]
        return kept  # type: ignore[return-value]
    return wrap
