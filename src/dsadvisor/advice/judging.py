"""The rules run on one estimated deployment: a verdict scored and judged (``verdict_at``), and judged again on
other hardware or constraints (``judge``, as ``plan --offload`` asks); the shape a model is estimated with.

Layer 5 (advice), read after ``advice.options``: every verdict ``advice.model_search`` and
``advice.search`` keep passed through here.
"""

from __future__ import annotations

from dsadvisor.advice.options import Option
from dsadvisor.advice.rules import Candidate, Constraints, Status, run_rules
from dsadvisor.advice.scoring import score
from dsadvisor.advice.summaries import summarize
from dsadvisor.advice.verdicts import Hardware, Verdict
from dsadvisor.catalog.assumed import assumed_architecture
from dsadvisor.catalog.schema import Architecture, Engine, ModelEntry, QuantFormat
from dsadvisor.catalog.store import Catalog
from dsadvisor.engines import serving_engine
from dsadvisor.errors import InputError
from dsadvisor.physics.estimate import Deployment, Estimate
from dsadvisor.records import replace
from dsadvisor.serving.server import Serving


def architecture_of(catalog: Catalog, model: ModelEntry) -> Architecture | None:
    """The model's architecture, or the shape a described variant's estimate will assume; None without one."""
    arch = catalog.architecture(model)
    if arch is None:
        try:
            arch, _ = assumed_architecture(model)
        except InputError:
            return None
    return arch


def verdict_at(hw: Hardware, k: Constraints, opt: Option, params_total: float | None, max_ctx: int | None,
                model: ModelEntry, dep: Deployment, est: Estimate, served: Serving) -> Verdict:
    """The rules' verdict on ``dep`` as estimated and served, scored."""
    return _judge(hw, k, opt.fmt, opt.eng, params_total, max_ctx,
                  Verdict(model, False, est, (), score(est, opt.q, k.prefer, opt.loss.percent, served),
                          loss=opt.loss, artifact=opt.artifact, convert=opt.convert, serving=served, deployment=dep),
                  arch=dep.architecture, kv=dep.kv_format or dep.kv_dtype)


def _judge(hw: Hardware, k: Constraints, fmt: QuantFormat, eng: Engine, params_total: float | None,
           max_ctx: int | None, v: Verdict, arch: Architecture | None = None,
           kv: QuantFormat | str | None = None) -> Verdict:
    """``v`` with the rules' results on its estimated deployment: passed exactly when every rule passed.
    ``arch`` and ``kv`` (the shape and KV cache estimated) meet the engine's support matrix."""
    offload = hw.offload and serving_engine(eng).offloads
    loss = v.loss.percent if v.loss is not None else 0.0
    results = run_rules(Candidate(v.model, hw.gpu, fmt, eng, v.estimate, k, loss, params_total, max_ctx,
                                  offload=offload, arch=arch, kv=kv, serving=v.serving))
    return replace(v, passed=all(r.status is Status.passed for r in results), results=results)


def judge(catalog: Catalog, v: Verdict, hw: Hardware, k: Constraints) -> Verdict:
    """The rules run again on ``v``'s deployment on ``hw`` (e.g. with ``offload``): the same deployment,
    score, loss and checkpoint; ``passed`` as the new results read."""
    if v.estimate is None:
        raise InputError(f"{v.model.id}: no deployment was estimated, so there is nothing to judge")
    arch = architecture_of(catalog, v.model)
    return _judge(hw, k, catalog.quantization(v.estimate.quant_id), catalog.engine(v.estimate.engine_id),
                  summarize(catalog, v.model).params_total, arch.max_position_embeddings if arch else None, v,
                  arch=arch, kv=v.estimate.kv_dtype)
