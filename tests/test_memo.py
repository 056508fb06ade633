"""Memoised results are keyed by value or kept with their object, never by id().

In a long-lived process (a notebook, a server using the library) a freed object's address is
reused; a cache keyed by ``id()`` then hands one object's result to another. Each test below makes
``id`` return the same number for every object, as address reuse would, and checks that the
second object still gets its own result.
"""

from __future__ import annotations

import dataclasses

from dsadvisor.advice import audit
from dsadvisor.catalog import assumed
from dsadvisor.catalog.schema import Claim, ModelEntry

def _described(total: float) -> ModelEntry:
    return ModelEntry(source="test", id="seed-probe", name="probe", family="seed-articles", status="described",
                      claims=[Claim(source="test", field="params_total", value=total, quote="probe")])


def test_assumed_shape_follows_the_claims_not_the_address(monkeypatch):
    monkeypatch.setattr(assumed, "id", lambda obj: 42, raising=False)  # every object at one address
    small, _ = assumed.assumed_architecture(_described(7e9))
    large, _ = assumed.assumed_architecture(_described(70e9))
    assert large.hidden_size > small.hidden_size
    assert large.num_hidden_layers * large.hidden_size ** 2 > 5 * small.num_hidden_layers * small.hidden_size ** 2


def test_advice_finding_is_kept_with_its_catalog(monkeypatch):
    from dsadvisor.catalog.store import load_catalog

    monkeypatch.setattr(audit, "id", lambda obj: 42, raising=False)
    cat = load_catalog(use_env=False)
    model = next(m for m in cat.models.values() if m.hardware_advice and m.hardware_advice[0].purpose != "training")
    advice = model.hardware_advice[0]
    first = audit.check_advice(cat, model, advice)
    gpu, _ = audit.advised_gpu(cat, advice)
    # the same model and advice in a catalog where the advised GPU has a thousandth of its memory
    tiny = dataclasses.replace(gpu, memory_gb=gpu.memory_gb / 1000, memory_bytes=None)
    other = dataclasses.replace(cat, gpus={**cat.gpus, gpu.id: tiny}, memo={})
    second = audit.check_advice(other, model, advice)
    assert second == audit.advice_finding(other, model, advice)
    assert (first is None) != (second is None) or first != second


def test_with_model_starts_a_fresh_memo(catalog):
    cat = catalog
    cat.memo["probe"] = 1
    assert "probe" not in cat.with_model(next(iter(cat.models.values()))).memo


def test_the_loss_memo_gives_the_uncached_loss_and_follows_the_entry(catalog):
    """``Catalog.loss`` is kept in the catalog's memo with the entry and format it was worked out for:
    asked twice it answers as worked out afresh, and an entry that only shares the id gets its own."""
    cat = dataclasses.replace(catalog, memo={})
    weights = [q for q in cat.quantizations.values() if "weights" in q.applies_to]
    for m in cat.models.values():
        for q in weights:
            assert cat.loss(m, q) == cat._loss(m, q) == cat.loss(m, q)
    model = cat.models["deepseek-r1-distill-qwen-7b"]
    q4 = cat.quantizations["q4_k_m"]
    other_family = dataclasses.replace(model, family="seed-articles")  # same id, another entry
    assert cat.loss(other_family, q4) == cat._loss(other_family, q4)
    assert cat.loss(model, q4) == cat._loss(model, q4)
