"""The search's cheaper paths answer as the code they replace: ``options`` built lazily as the eager list of
every format x engine, ``Catalog._loss`` through its index of checkpoint losses as its first definition, the
rates kept per GPU, engine and format as worked out afresh, and the binomial tile sum with its constant hoisted as
the sum written out; each model's checkpoints looked up once as ``availability`` asks the catalog, and the support
matrix's verdict on a format x engine kept per GPU as worked out afresh."""

from __future__ import annotations

import dataclasses
import math

import pytest

from dsadvisor.advice import model_search, options, search
from dsadvisor.advice.rules import Constraints
from dsadvisor.catalog.store import Loss
from dsadvisor.engines import serving_engine
from dsadvisor.physics import rates
from dsadvisor.physics import tiles
from dsadvisor.physics.offload import HOST_CPU


def _eager_options(catalog, model, hw, k, ranges, engines, credits):
    """``options`` as first written: every format x engine built, then sorted."""
    found = []
    scored = search.scored_benchmarks(model, k, ranges, credits)
    for i, fmt in enumerate(search.candidate_formats(catalog, hw.gpu, k, model)):
        loss = catalog.loss(model, fmt)
        q = search.quality(model, k, ranges, loss.percent, credits, scored)
        for j, eng in enumerate(engines):
            if fmt.id in eng.formats:
                art, convert = search.availability(catalog, model, fmt, eng)
                rank = search.tier(loss, convert is None)
                found.append(((-rank, options._loss_key(loss), i, j), search.Option(fmt, eng, loss, art, convert, q, rank)))
    return [o for _, o in sorted(found, key=lambda x: x[0])]


@pytest.mark.parametrize("gpu", ["A100-SXM-40GB", "RTX-4090", "V100-SXM-32GB", HOST_CPU])
def test_lazy_options_are_the_eager_list(catalog, gpu):
    k = Constraints()
    hw = search.Hardware(catalog.gpus[gpu])
    engines = [catalog.engine(e) for e in search.DEFAULT_ENGINES]
    ranges = search.score_ranges(catalog)
    credits = search.dominance_credits(list(catalog.models.values()), search.task_benchmarks(k))
    compared = 0
    for model in catalog.models.values():
        expected = _eager_options(catalog, model, hw, k, ranges, engines, credits)
        assert list(search.options(catalog, model, hw, k, ranges, engines, credits)) == expected, model.id
        compared += len(expected)
    assert compared > 1000  # every model has options here (else this compares empty lists)


def test_options_are_built_only_as_far_as_the_search_reads(catalog, monkeypatch):
    from dsadvisor.advice.check import hardware_kinds

    built = []
    real = options.Option

    def counted(*args):
        built.append(args)
        return real(*args)

    monkeypatch.setattr(options, "Option", counted)
    pairs = 0
    k = Constraints()
    hw = hardware_kinds(catalog, ["A100"], 40.0)
    engines = [catalog.engine(e) for e in search.DEFAULT_ENGINES]
    for model in search.candidates(catalog, k)[0]:
        pairs += sum(fmt.id in e.formats for fmt in search.candidate_formats(catalog, hw[0].gpu, k, model)
                     for e in engines)
    rec = search.recommend(catalog, hw, k)
    assert rec.ranked and len(built) < pairs * 2 // 3  # most models pass before their last options


def _loss_by_definition(catalog, entry, fmt):
    """``Catalog._loss`` as first written: every tier's figures gathered, the closest that has any."""
    if fmt.id in catalog.native_formats(entry):
        return Loss(0.0, "native", "the model's own format (lossless by definition)")
    own = [q for a in catalog.artifacts_of(entry.id) if a.format == fmt.id for q in a.quality_loss]
    tiers = (("this checkpoint", own),
             ("this model", [q for q in fmt.quality_loss if entry.id in q.models]),
             ("this family", [q for q in fmt.quality_loss if entry.family in q.families]),
             ("other models", [q for q in fmt.quality_loss if not q.models and not q.families]))
    for basis, figures in tiers:
        if figures:
            worst = max(figures, key=lambda q: q.percent)
            return Loss(worst.percent, basis, worst.source, worst.note or "")
    return Loss(None, "unknown")


def test_loss_answers_as_its_definition(catalog):
    bases = set()
    for m in catalog.models.values():
        for q in catalog.quantizations.values():
            expected = _loss_by_definition(catalog, m, q)
            assert catalog._loss(m, q) == expected, (m.id, q.id)
            bases.add(expected.basis)
    assert bases >= {"native", "this checkpoint", "this model", "this family", "other models", "unknown"}


def test_format_loss_index_follows_the_format(catalog):
    """The per-format index of figures is kept with the format object: a format replaced under the same id (other
    figures, ties in another order) is indexed anew, and answers as the definition."""
    from dsadvisor.catalog.schema import QualityLoss

    model = next(m for m in catalog.models.values() if m.status == "released" and m.family)
    fmt = next(q for q in catalog.quantizations.values() if q.id not in catalog.native_formats(model)
               and "weights" in q.applies_to and not catalog._checkpoint_losses().get((model.id, q.id)))
    before = catalog._loss(model, fmt)
    figures = [QualityLoss(percent=7.0, models=[model.id, model.id], source="a"),
               QualityLoss(percent=7.0, models=[model.id], source="b"),
               QualityLoss(percent=3.0, families=[model.family], source="c")]
    other = dataclasses.replace(fmt, quality_loss=figures)
    fresh = dataclasses.replace(catalog, quantizations={**catalog.quantizations, fmt.id: other})
    fresh.memo.update(catalog.memo)  # the old format's index is there: the new object must not read it
    assert fresh._loss(model, other) == _loss_by_definition(fresh, model, other)
    assert (fresh._loss(model, other).percent, fresh._loss(model, other).source) == (7.0, "a")
    assert catalog._loss(model, fmt) == before


def test_checkpoint_losses_follow_the_artifacts(catalog):
    with_loss = next(a for a in catalog.artifacts.values() if a.quality_loss)
    model = catalog.models[with_loss.model]
    fmt = catalog.quantizations[with_loss.format]
    assert catalog._loss(model, fmt).basis == "this checkpoint"
    bare = dataclasses.replace(catalog, artifacts={i: dataclasses.replace(a, quality_loss=[])
                                                   for i, a in catalog.artifacts.items()}, memo={})
    assert bare._loss(model, fmt) == _loss_by_definition(bare, model, fmt)
    assert bare._loss(model, fmt).basis != "this checkpoint"


def test_rates_kept_per_gpu_engine_and_format(catalog):
    gpu, engine, fmt = catalog.gpus["H100-SXM"], catalog.engine("vllm"), catalog.quantization("fp8")
    assert rates.rates_for(gpu, engine, fmt) == rates._rates_for(gpu, engine, fmt)
    assert rates.rates_for(gpu, engine, fmt) is rates.rates_for(gpu, engine, fmt)  # kept
    faster = dataclasses.replace(gpu, bandwidth_gbs=gpu.bandwidth_gbs * 2)
    assert rates.rates_for(faster, engine, fmt) == rates._rates_for(faster, engine, fmt) \
        != rates.rates_for(gpu, engine, fmt)
    kept = rates.rates_for.kept_answers
    kept.clear()
    key = (id(gpu), id(engine), id(fmt))
    kept[key] = (faster, engine, fmt, rates._rates_for(faster, engine, fmt))  # another GPU at this id
    assert rates.rates_for(gpu, engine, fmt) == rates._rates_for(gpu, engine, fmt)


def _availability_by_definition(catalog, model, fmt, eng):
    """``availability`` as first written: the catalog asked afresh for each format x engine."""
    art = catalog.artifact(model.id, fmt.id, eng.id)
    if art is not None:
        return art, None
    shipped = catalog.native_formats(model)[0]
    if model.hf_repo is None:
        return None, None if fmt.id in catalog.native_formats(model) else \
            serving_engine(eng).convert_hint(f"<checkpoint of {model.id}>", shipped, fmt.id)
    engine = serving_engine(eng)
    official = catalog.artifact(model.id, shipped, eng.id)
    if engine.makes_at_load(shipped, fmt.id) and (official is not None or eng.id == "transformers"):
        return official, None
    return None, engine.convert_hint(model.hf_repo, shipped, fmt.id)


def test_checkpoints_looked_up_per_model_answer_as_availability(catalog):
    kinds = set()
    for model in catalog.models.values():
        at_hand = options._checkpoints(catalog, model)
        for fmt in catalog.quantizations.values():
            for eng in catalog.engines.values():
                expected = _availability_by_definition(catalog, model, fmt, eng)
                assert search.availability(catalog, model, fmt, eng) == expected, (model.id, fmt.id, eng.id)
                assert at_hand(fmt, eng) == (expected[1] is None, expected[0]), (model.id, fmt.id, eng.id)
                kinds.add((expected[0] is not None, expected[1] is not None))
    assert kinds == {(True, False), (False, False), (False, True)}  # a checkpoint, made at load, convert it


def test_ruled_out_kept_per_gpu_format_and_engine(catalog):
    k = Constraints()
    model = catalog.model("deepseek-r1-distill-qwen-7b")
    answers = set()
    for gpu in ("A100-SXM-40GB", "V100-SXM-32GB", HOST_CPU):
        hw = search.Hardware(catalog.gpus[gpu])
        for opt in search.options(catalog, model, hw, k, {}, list(catalog.engines.values())):
            uncached = serving_engine(opt.eng).unsupported_uncached(hw.gpu, opt.fmt) is not None
            assert model_search._ruled_out(hw, opt) == uncached == model_search._ruled_out(hw, opt)
            answers.add(uncached)
    assert answers == {True, False}
    hw = search.Hardware(catalog.gpus["A100-SXM-40GB"])
    opt = next(search.options(catalog, model, hw, k, {}, [catalog.engine("vllm")]))
    older = search.Hardware(dataclasses.replace(hw.gpu, compute_capability="6.0"))  # another GPU, same name
    assert model_search._ruled_out(hw, opt) is False and model_search._ruled_out(older, opt) is True


def _expected_ceil_written_out(n, p, width):
    if p >= 1.0 or n > 4096:
        return float(math.ceil(n / width)) if p >= 1.0 else n * p / width + 0.5
    log_p, log_q = math.log(p), math.log1p(-p)
    total, below = 0.0, 0.0
    for k in range(n + 1):
        below += math.exp(math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) + k * log_p
                          + (n - k) * log_q)
        if k % width == 0:
            total += max(0.0, 1.0 - below)
        if k > n * p and 1.0 - below < 1e-13:
            break
    return total


@pytest.mark.parametrize("case", [(512, 0.25, 128), (512, 0.03125, 16), (512, 0.0375, 24), (9, 0.5, 8),
                                  (4000, 8 / 256, 16), (1, 0.1, 8), (64, 1.0, 16), (5000, 0.1, 8)])
def test_tile_sum_is_the_sum_written_out(case):
    assert tiles._expected_ceil.__wrapped__(*case) == _expected_ceil_written_out(*case)  # bit for bit


def test_sizing_is_the_estimates_memory_params_and_shape(catalog):
    """``sizing`` (the audit's hardware-advice check) reads what ``estimate`` would say of memory, parameters and
    shape, and refuses what it refuses, for every model (described variants' assumed shapes included)."""
    from dsadvisor.errors import InputError
    from dsadvisor.physics.estimate import Deployment, estimate, pin_layout, sizing

    setups = [("A100-SXM-40GB", "vllm", "bf16", 1), ("RTX-4090", "llama.cpp", "q4_k_m", 1),
              ("H200-SXM", "sglang", "fp8", 8), ("V100-SXM-32GB", "vllm", "awq-int4", 2)]
    sized = refused = 0
    for model in catalog.models.values():
        for gpu, engine, fmt, n in setups:
            d = Deployment.of(catalog, model=model, gpu=catalog.gpus[gpu], quant=catalog.quantization(fmt),
                              engine=catalog.engine(engine), gpus=n)
            if n == 8 and d.architecture is not None and d.architecture.num_nextn_predict_layers:
                d = pin_layout(d, tp=8, mtp=1)  # the MTP module's weights and KV cache counted too
            try:
                e = estimate(d)
            except InputError as exc:
                with pytest.raises(InputError, match=str(exc)[:40].replace("(", r"\(").replace(")", r"\)")):
                    sizing(d)
                refused += 1
                continue
            s = sizing(d)
            assert (s.memory, s.params_total, s.architecture_assumed) == (e.memory, e.params_total,
                                                                         e.architecture_assumed), (model.id, gpu)
            sized += 1
    assert sized > 150 and refused  # both paths compared (an engine that cannot run a model's attention)


@pytest.mark.parametrize("gpu, vram", [("A100", 40.0), ("RTX-4090", None), ("cpu", None)])
def test_ranked_and_described_split_as_the_membership_test(catalog, monkeypatch, gpu, vram):
    """``recommend`` splits its ranked verdicts by the described test itself, where it asked ``v not in described``
    (a comparison of whole verdicts): the same two lists, in the same order."""
    from dsadvisor.advice.check import hardware_kinds

    seen = []
    real = search._with_layouts

    def kept(*args, **kwargs):
        out = real(*args, **kwargs)
        seen.append(out)
        return out

    monkeypatch.setattr(search, "_with_layouts", kept)
    rec = search.recommend(catalog, hardware_kinds(catalog, [gpu], vram, 1, 64.0 if gpu == "cpu" else None),
                           Constraints())
    every = seen[-1]
    described = [v for v in every if v.model.status == "described"]
    assert list(rec.described) == described and described
    assert list(rec.ranked) == [v for v in every if v not in described] and rec.ranked
