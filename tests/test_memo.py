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


def test_weight_bytes_and_param_counts_follow_their_arguments_not_the_address(monkeypatch):
    from dsadvisor.catalog.store import load_catalog
    from dsadvisor.physics import memory, params

    monkeypatch.setattr(memory, "id", lambda obj: 42, raising=False)
    monkeypatch.setattr(params, "id", lambda obj: 42, raising=False)
    cat = load_catalog(use_env=False)
    archs = [a for a in (cat.architecture(m) for m in cat.models.values()) if a is not None]
    fmts = [q for q in cat.quantizations.values() if "weights" in q.applies_to]
    small, large = min(archs, key=lambda a: a.hidden_size), max(archs, key=lambda a: a.hidden_size)
    for arch in (small, large, small):
        p = params.count_params(arch)
        assert p == params._count_params(arch)
        for fmt in fmts:  # every format, a mix (tensor_bits) among them, asked again after another shape
            assert memory.weight_bytes(p, fmt, arch) == memory._weight_bytes(p, fmt, arch), (arch.source, fmt.id)


def test_native_formats_and_formats_here_are_kept_with_their_objects(monkeypatch):
    from dsadvisor.advice import options
    from dsadvisor.advice.rules import Constraints
    from dsadvisor.catalog.store import load_catalog
    from dsadvisor.physics.offload import HOST_CPU

    cat = load_catalog(use_env=False)
    fp8 = next(m for m in cat.models.values() if m.weights_dtype and m.weights_dtype.value.lower() == "fp8")
    assert cat.native_formats(fp8) == cat._native_formats(fp8)
    other = dataclasses.replace(fp8, weights_dtype=None)  # the same id, another entry: its own answer
    assert cat.native_formats(other) == cat._native_formats(other) != cat.native_formats(fp8)
    monkeypatch.setattr(options, "id", lambda obj: 42, raising=False)
    fmts = [q for q in cat.quantizations.values() if "weights" in q.applies_to]
    for gpu in (cat.gpus["A100-SXM-40GB"], cat.gpus["V100-SXM-32GB"], cat.gpus[HOST_CPU]):
        uncached = [q for q in fmts if q.engines and options._runs_here(cat, gpu, q, Constraints())
                    and q.id != ("fp16" if "bf16" in gpu.dtypes else "bf16")]
        assert options._formats_here(cat, gpu, Constraints(), fmts) == uncached, gpu.id


def test_engine_on_a_device_follows_the_engine_not_the_address(monkeypatch):
    from dsadvisor.catalog.store import load_catalog
    from dsadvisor.physics import rates

    monkeypatch.setattr(rates, "id", lambda obj: 42, raising=False)
    cat = load_catalog(use_env=False)
    one_per_vendor = {g.vendor: g for g in cat.gpus.values()}.values()
    for gpu in one_per_vendor:  # vendors with their own per-layer cost and without, after one another
        for eng in cat.engines.values():
            for fmt in cat.quantizations.values():
                assert rates.engine_for(eng, gpu, fmt) == rates.for_format(rates.on_device(eng, gpu), fmt, gpu)
