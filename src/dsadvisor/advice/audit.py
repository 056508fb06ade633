"""Where sources disagree: the conflicts the catalog records, and the claims its own facts contradict.

Three checks besides the recorded conflicts:
- a described variant's claims against the released entry it is related to (parameters, license);
- an article's hardware advice against the estimator (does the variant fit where the article says?);
- a published parameter count against the one computed from the architecture.
"""

from __future__ import annotations

import math


from dsadvisor.catalog.store import Catalog
from dsadvisor.errors import DsAdvisorError, InputError
from dsadvisor.physics.estimate import Deployment, sizing
from dsadvisor.physics.memory import MemoryPlan
from dsadvisor.catalog.hardware import resolve_gpu
from dsadvisor.physics.params import count_params
from dsadvisor.catalog.schema import Gpu, HardwareAdvice, ModelEntry
from dsadvisor.records import record

PARAM_TOLERANCE = 0.05  # published totals are rounded ("671B"); beyond 5% it is a disagreement
ADVICE_QUANT = {"int8": "int8", "int4": "awq-int4", None: "bf16"}


@record(frozen=True)
class Finding:
    kind: str  # "conflict", "contradiction", "advice", "params"
    model: str
    about: str
    detail: str
    sources: tuple[str, ...]


def advised_gpu(catalog: Catalog, advice: HardwareAdvice) -> tuple[Gpu, str]:
    """The advised GPU; an article's loose name ("A100", "H100 40GB+") becomes its smallest catalog part."""
    try:
        return resolve_gpu(catalog.gpus, advice.gpu, advice.vram_gb), ""
    except InputError:
        family = [g for g in catalog.gpus.values() if g.family.lower() == advice.gpu.lower()]
        if not family:
            raise
        gpu = min(family, key=lambda g: (g.memory_gb, g.id))
        return gpu, f"'{advice.gpu}' read as its smallest part, {gpu.id}"


def check_advice(catalog: Catalog, model: ModelEntry, advice: HardwareAdvice) -> Finding | None:
    """``advice_finding``, memoised on the catalog: it depends on the catalog alone, not on a user's
    constraints, and a model id names one entry within one catalog."""
    key = ("advice", model.id, advice)
    if key not in catalog.memo:
        catalog.memo[key] = advice_finding(catalog, model, advice)
    return catalog.memo[key]  # type: ignore[return-value]


def advice_finding(catalog: Catalog, model: ModelEntry, advice: HardwareAdvice) -> Finding | None:
    """Estimate the variant on the advised hardware (16-bit unless the advice names a format),
    with vLLM and with llama.cpp; the advice holds if either fits."""
    if advice.purpose == "training":
        return None
    where = f"{advice.gpus} x {advice.gpu}"
    try:
        gpu, reading = advised_gpu(catalog, advice)
        tries, last_error = [], None
        for engine_id in ("vllm", "llama.cpp"):  # only the memory is read: sized, not timed
            engine = catalog.engines[engine_id]
            quant = catalog.quantizations[ADVICE_QUANT.get(advice.quant, "bf16")]
            if quant.id not in engine.formats:
                quant = catalog.quantizations["q8_0" if quant.bits_per_weight >= 8 else "q4_k_m"]
            try:
                tries.append((sizing(Deployment.of(catalog, model=model, gpu=gpu, quant=quant, engine=engine,
                                                   gpus=advice.gpus)), quant.id, engine.id))
            except InputError as exc:
                last_error = exc
        if not tries:
            raise last_error or InputError(f"{where}: neither vLLM nor llama.cpp runs the advised format")
    except DsAdvisorError as exc:
        return Finding("advice", model.id, where, f"cannot check: {exc}", (advice.source,))
    sized, quant_id, engine_id = min(tries, key=lambda t: _tightness(t[0].memory))
    m = sized.memory
    detail = (f"article advises {where}" + (f" ({advice.quant})" if advice.quant else "")
              + f"; estimate {'agrees' if m.fits else 'DISAGREES'}: {m.per_gpu / 1e9:.1f} GB per GPU of "
              f"{m.usable / 1e9:.1f} GB usable ({quant_id}, {engine_id}, {sized.params_total / 1e9:.1f}B params"
              + (", assumed shape" if sized.architecture_assumed else "") + ")" + (f"; {reading}" if reading else ""))
    return Finding("advice", model.id, where, detail, (advice.source,))


def _tightness(m: MemoryPlan) -> tuple[bool, float]:
    """A plan that fits first, then the smaller share of usable memory taken."""
    return not m.fits, m.per_gpu / m.usable if m.usable > 0 else math.inf


def _params_findings(catalog: Catalog, m: ModelEntry):
    arch = catalog.architecture(m)
    if arch is None:
        return
    p = count_params(arch)
    for pub in m.params:
        for label, published, computed in (("total", pub.total, p.total), ("active", pub.active, p.active)):
            if published and abs(computed / published - 1) > PARAM_TOLERANCE:
                yield Finding("params", m.id, f"params {label}",
                              f"published {published / 1e9:g}B, computed {computed / 1e9:.2f}B from the architecture",
                              (pub.source, arch.source))


def _related_findings(catalog: Catalog, m: ModelEntry):
    for rid in m.related:
        other = catalog.models.get(rid)
        if other is None or other.status != "released":
            continue
        arch = catalog.architecture(other)
        for c in m.claims:
            if c.field == "params_total" and arch is not None and isinstance(c.value, (int, float)):
                total = count_params(arch).total
                if abs(total / float(c.value) - 1) > PARAM_TOLERANCE:
                    yield Finding("contradiction", m.id, "params_total",
                                  f"article claims {float(c.value) / 1e9:g}B; released {rid} has "
                                  f"{total / 1e9:.1f}B", (c.source, arch.source))
            if c.field == "license" and other.license and str(c.value).lower() not in other.license.value.lower():
                yield Finding("contradiction", m.id, "license",
                              f"article claims {c.value}; released {rid} is {other.license.value}",
                              (c.source, other.license.source))


def audit(catalog: Catalog) -> list[Finding]:
    findings: list[Finding] = []
    for m in sorted(catalog.models.values(), key=lambda e: e.id):
        for c in m.conflicts:
            findings.append(Finding("conflict", m.id, c.about, "; ".join(c.claims) + (f" ({c.note})" if c.note else ""),
                                    tuple(dict.fromkeys(s for s in (m.source,)))))
        findings += _related_findings(catalog, m)
        findings += _params_findings(catalog, m)
        for a in m.hardware_advice:
            f = check_advice(catalog, m, a)
            if f is not None:
                findings.append(f)
    return findings
