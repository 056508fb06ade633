"""kept_by_identity: answers kept by the identity of the arguments, never for an equal but different object."""

from __future__ import annotations

from dsadvisor.kept import kept_by_identity


class Box:
    def __init__(self, n: int) -> None:
        self.n = n

    def __eq__(self, other: object) -> bool:  # equal boxes must still be told apart
        return isinstance(other, Box) and other.n == self.n

    __hash__ = None  # type: ignore[assignment]


def test_an_answer_is_kept_for_the_same_objects_only():
    calls = []

    @kept_by_identity(8)
    def doubled(box: Box, k: Box, unused: object = None) -> int:
        calls.append((box, k))
        return box.n * 2 + k.n

    a, b, k = Box(1), Box(1), Box(0)
    assert doubled(a, k) == 2 and doubled(a, k) == 2
    assert len(calls) == 1
    assert doubled(b, k) == 2  # equal to a, but another object: worked out again
    assert len(calls) == 2
    b.n = 5  # the answer kept for b is b's, computed when asked (the catalog's objects are frozen)
    assert doubled.__name__ == "doubled"


def test_the_table_is_emptied_at_its_limit():
    @kept_by_identity(3)
    def ident(box: Box, other: Box, unused: object = None) -> int:
        return box.n

    boxes = [Box(i) for i in range(10)]
    assert [ident(b, b) for b in boxes] == list(range(10))
    assert len(ident.kept_answers) <= 3  # type: ignore[attr-defined]
