"""The search's shortcuts answer as the code they replace: ``records.replace`` as ``dataclasses.replace`` for
every record of the package, ``dominance_credits`` as its quadratic definition for every task, and
``candidate_formats`` with each format's size key kept per format as without it."""

from __future__ import annotations

import dataclasses
import math

import pytest

from dsadvisor import records
from dsadvisor.records import record

from .test_records import RECORDS, _filled


@pytest.mark.parametrize("cls", RECORDS, ids=lambda c: f"{c.__module__}.{c.__qualname__}")
def test_replace_answers_as_dataclasses_replace(cls):
    obj = _filled(cls)
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        try:
            theirs = dataclasses.replace(obj, **{f.name: ("new", f.name)})
        except Exception as exc:  # noqa: BLE001 - a record that checks its values: the same error from both
            with pytest.raises(type(exc)):
                records.replace(obj, **{f.name: ("new", f.name)})
            continue
        mine = records.replace(obj, **{f.name: ("new", f.name)})
        assert type(mine) is type(theirs) and mine == theirs and vars(mine) == vars(theirs), f.name
    with pytest.raises(TypeError):
        records.replace(obj, not_a_field=1)


def test_replace_runs_what_a_record_checks_and_drops_what_is_not_a_field():
    seen = []

    @record(frozen=True)
    class Checked:
        x: int

        def __post_init__(self):
            seen.append(self.x)

    @record(frozen=True)
    class Plain:
        x: int
        y: int = 2
        later: int = dataclasses.field(default=7, init=False)

    assert records.replace(Checked(1), x=5).x == 5 and seen == [1, 5]  # __post_init__ ran on the copy too
    p = Plain(1)
    object.__setattr__(p, "cached", "derived from x=1")  # not a field: a copy must not carry it
    object.__setattr__(p, "later", 9)
    for copy in (records.replace(p, x=3), dataclasses.replace(p, x=3)):
        assert (copy.x, copy.y, copy.later, hasattr(copy, "cached")) == (3, 2, 7, False)


def _credits_by_definition(models, names):
    """dominance_credits as first written: every pair of models, each benchmark's best setting by a scan."""
    from dsadvisor.advice.scoring import DOMINANCE_SHARED, SKILL

    scores = {m.id: {b.name: max(x.score for x in m.benchmarks if x.name == b.name) for b in m.benchmarks}
              for m in models}
    credits: dict = {}
    for a, own in scores.items():
        missing = [n for n in names if n not in own and n in SKILL]
        if not missing or len(own) < DOMINANCE_SHARED:
            continue
        for b, theirs in scores.items():
            shared = own.keys() & theirs.keys()
            if b == a or len(shared) < DOMINANCE_SHARED or any(own[x] < theirs[x] for x in shared):
                continue
            skills = {SKILL.get(x) for x in shared}
            for n in missing:
                if n in theirs and SKILL[n] in skills and theirs[n] > credits.get(a, {}).get(n, (-math.inf, ""))[0]:
                    credits.setdefault(a, {})[n] = (theirs[n], b)
    return credits


def test_dominance_credits_answer_as_their_definition(catalog):
    from dsadvisor.advice.rules import DEFAULT_BENCHMARKS, TASK_BENCHMARKS
    from dsadvisor.advice.scoring import SKILL, dominance_credits

    models = list(catalog.models.values())
    asked = [DEFAULT_BENCHMARKS, *TASK_BENCHMARKS.values(), *((n,) for n in SKILL), tuple(SKILL)]
    found = 0
    for names in asked:
        expected = _credits_by_definition(models, names)
        assert dominance_credits(models, names) == expected, names
        found += len(expected)
    assert found  # the catalog has credits to give (else this compares empty answers)


def test_candidate_formats_answer_as_without_kept_size_keys(catalog, monkeypatch):
    from dsadvisor.advice import options
    from dsadvisor.advice.rules import Constraints
    from dsadvisor.physics.offload import HOST_CPU

    gpus = [catalog.gpus[g] for g in ("A100-SXM-40GB", "RTX-4090", "V100-SXM-32GB", HOST_CPU)]

    def uncached(gpu, model):
        fmts = [q for q in catalog.quantizations.values() if "weights" in q.applies_to]
        fmts = [q for q in fmts if q.engines and options._runs_here(catalog, gpu, q, Constraints())
                and q.id != ("fp16" if "bf16" in gpu.dtypes else "bf16")]
        files = {a.format for a in catalog.artifacts_of(model.id)}
        fmts = [q for q in fmts if options.format_exists_for(q, model) and (q.id in files or not options.published_recipe(q))]
        best: dict = {}
        for q in fmts:
            key = options._size_key(q)
            if key not in best or options._loss_key(catalog.loss(model, q)) < options._loss_key(catalog.loss(model, best[key])):
                best[key] = q
        return [q.id for q in fmts if best[options._size_key(q)] is q]

    for gpu in gpus:
        for model in catalog.models.values():
            assert [q.id for q in options.candidate_formats(catalog, gpu, Constraints(), model)] == uncached(gpu, model)
    # a format replaced under the same id (another size) gets its own key, not the one kept for the old one
    q8 = catalog.quantizations["q8_0"]
    other = dataclasses.replace(q8, bits_per_weight=q8.bits_per_weight + 1)
    assert options._sized(catalog, [other])[0][1] == options._size_key(other) != options._sized(catalog, [q8])[0][1]
