"""Documents for the catalog commands: the library's results laid out as data plus display rows."""

from __future__ import annotations

import shlex
from typing import Any

from dsadvisor.catalog.store import Catalog
from dsadvisor.output.render import Document, Table
from dsadvisor.catalog.schema import SCHEMA_VERSION, Gpu, ModelEntry, as_dict
from dsadvisor.advice.summaries import ModelSummary


def fmt_params(n: float | None) -> str:
    if n is None:
        return "?"
    return f"{n / 1e9:.1f}B" if n >= 1e9 else f"{n / 1e6:.0f}M"


def fmt_bytes(n: float | None) -> str:
    return "?" if n is None else f"{n / 1e9:.1f} GB"


def fmt_s(s: float | None) -> str:
    if s is None:
        return "?"
    return f"{s * 1e3:.1f} ms" if s < 1 else f"{s:.2f} s"


def models_doc(rows: list[ModelSummary]) -> Document:
    data = {"schema_version": SCHEMA_VERSION, "count": len(rows), "models": [
        {"id": s.id, "name": s.name, "status": s.status, "kind": s.kind, "family": s.family,
         "params_total": s.params_total, "params_active": s.params_active, "params_from": s.params_from,
         "attention": s.attention, "context": s.context, "license": s.license, "released": s.released,
         "tasks": list(s.tasks), "hf_repo": s.hf_repo}
        for s in rows]}
    table = Table(
        title=f"{len(rows)} models",
        columns=("id", "status", "kind", "family", "params", "active", "attention", "context", "license"),
        rows=tuple((s.id, s.status, s.kind, s.family,
                    fmt_params(s.params_total) + ("*" if s.params_from == "claim" else ""),
                    fmt_params(s.params_active) if s.params_active else "",
                    s.attention or "", str(s.context or ""), s.license or "") for s in rows),
    )
    notes = ("* a described variant: the article's claimed total, not computed from an architecture",) \
        if any(s.params_from == "claim" for s in rows) else ()
    return Document(data=data, tables=(table,), notes=notes)


def show_doc(catalog: Catalog, entry: ModelEntry, summary: ModelSummary) -> Document:
    data = {"schema_version": SCHEMA_VERSION, "summary": models_doc([summary]).data["models"][0],
            "origin": catalog.origin.get(f"models:{entry.id}"),
            "entry": as_dict(entry)}
    arch = catalog.architecture(entry)
    if arch is not None and entry.architecture is None:
        data["entry"]["architecture"] = as_dict(arch)
    fields = [("id", entry.id, entry.source), ("name", entry.name, ""), ("status", entry.status, ""),
              ("kind", entry.kind, ""), ("family", entry.family, "")]
    if entry.hf_repo:
        fields.append(("hf_repo", entry.hf_repo, ""))
    fields.append(("params (computed)" if summary.params_from == "architecture" else "params (claimed)",
                   f"{fmt_params(summary.params_total)} total, {fmt_params(summary.params_active)} active",
                   arch.source if arch else ""))
    for p in entry.params:
        fields.append(("params (published)", f"{fmt_params(p.total)}" + (f" / {fmt_params(p.active)} active"
                       if p.active else ""), p.source))
    if arch is not None:
        for k, v in as_dict(arch, exclude={"source", "note"}).items():
            fields.append((f"architecture.{k}", str(v), arch.source))
    for name in ("context", "weights_dtype", "license", "released"):
        fact = getattr(entry, name)
        if fact is not None:
            shown = as_dict(fact, exclude={"source", "note"})
            fields.append((name, ", ".join(f"{k} {v}" for k, v in shown.items()), fact.source))
    for b in entry.benchmarks:
        fields.append((f"benchmark.{b.name}" + (f" ({b.setting})" if b.setting else ""), f"{b.score:g}", b.source))
    for c in entry.claims:
        label = f"claim.{c.field}" + (f".{c.benchmark}" if c.benchmark else "")
        value = f"{c.value}{' ' + c.unit if c.unit else ''}" + (f" [{c.condition}]" if c.condition else "")
        fields.append((label, value, c.source))
    for a in entry.hardware_advice:
        fields.append(("hardware_advice", f"{a.gpus} x {a.gpu}" + (f" {a.vram_gb:g} GB" if a.vram_gb else "")
                       + f" ({a.purpose})", a.source))
    tables = [Table(title=f"{entry.name} ({entry.status})", columns=("field", "value", "source"),
                    rows=tuple(fields))]
    if entry.conflicts:
        tables.append(Table(title="conflicts between sources", columns=("about", "claims", "note"),
                            rows=tuple((c.about, "; ".join(c.claims), c.note or "") for c in entry.conflicts)))
    return Document(data=data, tables=tuple(tables))


def _arch(g: Gpu) -> str:
    """What the device's kernels are built for: CUDA compute capability, AMD gfx target or CPU extensions."""
    if g.compute_capability:
        return f"sm {g.compute_capability}"
    return g.gfx_arch or "/".join(g.cpu_isa) or "-"


def gpus_doc(gpus: list[Gpu], capacities: dict[str, float]) -> Document:
    data = {"schema_version": SCHEMA_VERSION, "count": len(gpus), "gpus": [
        {**as_dict(g), "capacity_bytes": round(capacities[g.id])} for g in gpus]}
    table = Table(
        title=f"{len(gpus)} accelerators",
        columns=("id", "family", "variant", "category", "memory", "bandwidth", "bf16/fp16", "fp8", "fp4", "arch",
                 "TDP", "nvidia-smi name"),
        rows=tuple((g.id, g.family, g.variant or "", g.category, f"{g.memory_gb:g} GB", f"{g.bandwidth_gbs:g} GB/s",
                    f"{g.bf16_tflops or g.fp16_tflops or '-'}", f"{g.fp8_tflops or '-'}", f"{g.fp4_tflops or '-'}",
                    _arch(g), f"{g.tdp_w:g} W" if g.tdp_w else "-",
                    g.nvidia_smi_names[0] if g.nvidia_smi_names else "") for g in gpus),
    )
    return Document(data=data, tables=(table,))


def problems_doc(files: list[str], problems: list[str], more: int = 0, more_line: str = "") -> Document:
    """``more``: problems past the limit, counted but not described (``more_line`` says so)."""
    data = {"schema_version": SCHEMA_VERSION, "files": files, "valid": not problems and not more,
            "problems": problems, "more_problems": more}
    rows = tuple((p,) for p in problems) + (((more_line,),) if more_line else ())
    table = Table(title="catalog problems" if problems else "catalog valid", columns=("problem",),
                  rows=rows or (("none",),))
    return Document(data=data, tables=(table,))


def estimate_doc(est, serving=None) -> Document:
    """The breakdown a person reads, and the JSON contract (docs/json.md) as data; ``serving``:
    the per-request figures under load (:class:`dsadvisor.serving.server.Serving`)."""
    m = est.memory
    deploy = (f"{est.model_id} | {est.quant_id} weights, {est.kv_dtype} KV | {est.gpus} x {est.gpu_id} "
              f"(TP {est.tp}, PP {est.pp}{', EP' if est.ep else ''}"
              f"{f', DP-attention {est.dp_attention}' if est.dp_attention > 1 else ''}"
              f"{f', MTP {est.mtp}' if est.mtp else ''}) | {est.engine_id} | context {est.context}, "
              f"prompt {est.prompt_tokens}, batch {est.batch}")
    rows: tuple[tuple[str, str], ...] = (
        ("parameters", f"{fmt_params(est.params_total)} total, {fmt_params(est.params_active)} active"
         + (" (assumed shape)" if est.architecture_assumed else "")),
        ("weights / GPU", fmt_bytes(m.weights)),
        ("KV cache / GPU", fmt_bytes(m.kv_cache)),
        ("activations / GPU", fmt_bytes(m.activations)),
        ("runtime overhead / GPU", fmt_bytes(m.overhead)),
        ("total / GPU", fmt_bytes(m.per_gpu)),
        ("usable / GPU", f"{fmt_bytes(m.usable)} of {fmt_bytes(m.capacity)}"),
        ("fits", "yes" if m.fits else "NO"),
        ("KV room (tokens)", f"{m.kv_capacity_tokens:,}"),
        *((("system memory", f"{fmt_bytes(est.host_bytes)}: routed experts of {est.cpu_moe_layers} MoE layers "
                              "(llama.cpp --n-cpu-moe)"),) if est.cpu_moe_layers else ()),
        ("time to first token", f"{fmt_s(est.ttft_s)} (batch), {fmt_s(est.ttft_single_s)} (one prompt)"),
        ("per-token latency", fmt_s(est.decode_step_s)),
        ("decode throughput", f"{est.decode_tokens_per_s:,.0f} tok/s total, "
                              f"{est.per_sequence_tokens_per_s:,.1f} tok/s per sequence"),
    )
    data = est.as_dict()
    if serving is not None:
        rows += _serving_rows(serving)
        data["serving"] = serving.as_dict()
    basis = est.basis
    notes = [f"fact: {f}" for f in basis.facts] + [f"assumed: {a}" for a in basis.assumptions] \
        + [f"article says: {c}" for c in basis.claims] + [f"warning: {w}" for w in basis.warnings]
    if serving is not None and 0 < serving.running < serving.concurrency:
        notes.insert(0, f"under load: {serving.shortfall()}")
    if serving is not None and est.mtp:
        notes.append(f"MTP acceptance: {_acceptance_source(est.model_id)}")
    return Document(data=data, tables=(Table(title=deploy, columns=("", "estimate"), rows=rows),),
                    notes=tuple(notes))


def _acceptance_source(model_id: str) -> str:
    from dsadvisor.serving.speculative import ACCEPTANCE

    return ACCEPTANCE["v4" if model_id.startswith("deepseek-v4") else "v3"].source


def _serving_rows(s) -> tuple[tuple[str, str], ...]:
    load = f"{s.concurrency} request{'s' if s.concurrency != 1 else ''} in flight"
    if s.running < s.concurrency:
        load += f", {s.running} running (the {s.limited_by} holds no more), the rest queued"
    if s.running == 0:
        ttft = "none: not one request fits"
    elif s.ttft_s is None:
        ttft = "unknown (no FLOP rate for this GPU)"
    else:
        ttft = f"{fmt_s(s.ttft_s)} (of which {fmt_s(s.queue_s)} queued)"
    return (
        ("under load", f"{load}; {s.prompt_tokens:,} tokens in, {s.output_tokens:,} out"),
        ("TTFT under load", ttft),
        ("TPOT under load", fmt_s(s.tpot_s)),
        *((("MTP tokens per step", f"{s.tokens_per_step:.2f} (1 + the accepted drafts)"),)
          if s.tokens_per_step > 1 else ()),
        ("tokens/s under load", f"{s.tokens_per_s_per_user:,.1f} per user, {s.tokens_per_s_total:,.0f} in total"),
    )


def _estimate_data(v) -> dict | None:
    if v.estimate is None:
        return None
    data = v.estimate.as_dict()
    if getattr(v, "serving", None) is not None:
        data["serving"] = v.serving.as_dict()
    return data


def _checkpoint_data(a) -> dict | None:
    if a is None:
        return None
    return {"id": a.id, "name": a.name, "repo": a.repo, "file": a.file, "ollama_tag": a.ollama_tag,
            "size_bytes": a.size_bytes, "official": a.official, "source": a.source}


def _verdict_data(v) -> dict:
    return {
        "model": v.model.id, "status": v.model.status, "passed": v.passed,
        "score": None if v.score is None else {
            "total": v.score.total, "quality": v.score.quality, "speed": v.score.speed,
            "headroom": v.score.headroom, "gpus": v.score.gpus, "quality_from": v.score.quality_from,
            "why": why(v)},
        "estimate": _estimate_data(v),
        "checkpoint": _checkpoint_data(v.artifact), "convert": v.convert,
        "rules": [{"id": r.rule, "status": r.status.value, "message": r.message} for r in v.results],
        "notes": list(v.notes),
        "layout": _layout_data(v.layout),
        "plan_command": shlex.join(v.plan_argv) if v.plan_argv else None,
    }


def _layout_data(choice) -> dict | None:
    if choice is None:
        return None
    lim, g = choice.limits, choice.goodput
    return {"label": choice.label, "default": choice.default, "layouts_tried": choice.tried,
            "max_ttft_s": lim.max_ttft_s, "max_tpot_s": lim.max_tpot_s,
            "goodput": None if g is None else {"concurrency": g.concurrency, "limited_by": g.limited_by,
                                               "serving": g.serving.as_dict()}}


def layout_words(v) -> str:
    """The searched layout and what it serves, in words: 'TP8 DPA8 MTP3 (best of 12 that fit): 128 users
    within TTFT 2 s / TPOT 50 ms; goodput 180 users'."""
    c, e = v.layout, v.estimate
    if c is None or e is None:
        return ""
    users = f"{e.batch} user{'s' if e.batch != 1 else ''}"
    if not v.passed:  # the soonest layout that holds the users: its misses are what is reachable
        return f"{c.label} (the soonest of {c.tried} that fit) for {users}"
    said = f"{c.label} ({'the default, ' if c.default else ''}best of {c.tried} that fit): {users}"
    if c.limits.given:
        said += f" within {c.limits.words()}"
    g = c.goodput
    if g is not None:
        why = {"ttft": "more miss the TTFT limit", "tpot": "more miss the TPOT limit",
               "kv-cache": "the KV cache holds no more at full length", "scheduler": "the scheduler runs no more",
               "ceiling": "searched no further"}[g.limited_by]
        said += (f"; goodput {g.concurrency:,} users ({why})" if c.limits.given
                 else f"; up to {g.concurrency:,} users ({why})")
    return said


DESCRIBED_TITLE = "described in articles: no public weights"
RECOMMEND_COLUMNS = ("#", "model", "format", "engine", "GPUs", "mem/GPU", "TTFT", "per token", "tok/s", "score",
                     "why")


def _recommend_row(i: int, v) -> tuple[str, ...]:
    """The per-request figures under the asked concurrency: the ones DSA005-DSA008 check."""
    from dsadvisor.serving.server import per_request

    e = v.estimate
    load = per_request(e, v.serving)
    ttft, tpot, total = load.ttft_s, load.tpot_s, load.tokens_per_s_total
    return (str(i), v.model.id, e.quant_id, e.engine_id, f"{e.gpus}x {e.gpu_id}", fmt_bytes(e.memory.per_gpu),
            fmt_s(ttft), fmt_s(tpot), f"{total:,.0f}",
            f"{v.score.total:.2f}", why(v))


def why(v) -> str:
    """A verdict's score in words: the quality and the benchmarks it rests on, the format's loss, the
    speed of one sequence, the GPUs it takes and, when tight, the memory left."""
    sc, e = v.score, v.estimate
    loss = ("" if sc.loss_percent == 0 else f", {e.quant_id} loss unknown" if sc.loss_percent is None
            else f", less {sc.loss_percent:g}% for {e.quant_id}")
    parts = [f"quality {sc.quality:.2f} on {sc.quality_from}{loss}",
             f"{e.per_sequence_tokens_per_s:,.0f} tok/s a sequence"]
    if e.gpus > 1:
        parts.append(f"{e.gpus} GPUs")
    if getattr(v, "layout", None) is not None:
        parts.append(layout_words(v))
    if v.convert is not None:
        parts.append("no published checkpoint: convert it yourself")
    if sc.headroom < 1:
        parts.append("memory nearly full")
    return "; ".join(parts)


def recommend_doc(rec, top: int | None, show_all: bool) -> Document:
    ranked = rec.ranked[:top] if top else rec.ranked
    shown = rec.described[:top] if top else rec.described  # --top holds for each section
    k = rec.constraints
    data: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "hardware": list(rec.hardware),
            "constraints": {f: getattr(k, f) for f in k.__dataclass_fields__},
            "ranked": [_verdict_data(v) for v in ranked], "advice": list(rec.advice),
            "described": [_verdict_data(v) for v in shown], "base_left_out": rec.base_left_out}
    data["constraints"] = {f: list(v) if isinstance(v, tuple) else v for f, v in data["constraints"].items()}
    if show_all:
        data["rejected"] = [_verdict_data(v) for v in rec.rejected]
    rows = tuple(_recommend_row(i, v) for i, v in enumerate(ranked, 1))
    described = tuple(_recommend_row(i, v) for i, v in enumerate(shown, 1))
    tables = [Table(title=f"{len(rec.ranked)} models fit {', '.join(rec.hardware)}"
                    + (f" (top {len(ranked)})" if top and len(rec.ranked) > len(ranked) else ""),
                    columns=RECOMMEND_COLUMNS, rows=rows)]
    if described:
        tables.append(Table(title=f"{DESCRIBED_TITLE}: {len(rec.described)} pass the same rules, never ranked"
                                  + (f" (top {len(shown)})" if len(rec.described) > len(shown) else ""),
                            columns=RECOMMEND_COLUMNS, rows=described))
    if show_all and rec.rejected:
        tables.append(Table(title=f"{len(rec.rejected)} rejected", columns=("model", "closest try", "why not"),
                            rows=tuple((v.model.id,
                                        f"{v.estimate.quant_id} {v.estimate.engine_id} {v.estimate.gpus} GPU"
                                        if v.estimate else "-",
                                        "; ".join(f"{r.rule} {r.message}" for r in v.failed + v.unknown))
                                       for v in rec.rejected)))
    csv = Table(title=tables[0].title, columns=("section", *RECOMMEND_COLUMNS),
                rows=tuple(("ranked", *r) for r in rows) + tuple(("described", *r) for r in described))
    return Document(data=data, tables=tuple(tables), notes=tuple(_recommend_notes(rec, ranked, shown, show_all)),
                    csv=csv)


def _recommend_notes(rec, ranked, described, show_all: bool) -> list[str]:
    notes = list(rec.advice)
    notes += [f"{v.model.id}: {n}" for v in (*ranked, *described) for n in v.notes]
    if rec.base_left_out:
        notes.append(f"{rec.base_left_out} base and RL-zero releases left out (not chat models); "
                     "--include-base ranks them")
    if not show_all and rec.rejected:
        notes.append(f"{len(rec.rejected)} models rejected; --all shows why")
    if ranked and ranked[0].plan_argv:
        notes.append(f"start the first: {shlex.join(ranked[0].plan_argv)}")
    if ranked:
        notes.append("score = weighted quality (benchmarks vs the catalog's best, less the format's expected "
                     f"loss), speed, memory headroom, GPUs used; --prefer {rec.constraints.prefer}")
    return notes


def check_doc(v) -> Document:
    data = {"schema_version": SCHEMA_VERSION, **_verdict_data(v)}
    rows = tuple((r.rule, r.status.value, r.message) for r in v.results)
    title = f"{v.model.id}: " + ("PASS" if v.passed else ("FAIL" if v.failed else "UNDETERMINED"))
    if v.estimate:
        e = v.estimate
        title += f" ({e.quant_id}, {e.engine_id}, {e.gpus} x {e.gpu_id})"
    notes = v.notes + ((f"layout: {layout_words(v)}",) if v.layout is not None else ()) + \
        ((f"start it: {shlex.join(v.plan_argv)}",) if v.plan_argv else ())
    return Document(data=data, tables=(Table(title=title, columns=("rule", "result", "detail"), rows=rows),),
                    notes=notes)


def audit_doc(findings) -> Document:
    data = {"schema_version": SCHEMA_VERSION, "count": len(findings), "findings": [
        {"kind": f.kind, "model": f.model, "about": f.about, "detail": f.detail, "sources": list(f.sources)}
        for f in findings]}
    counts: dict[str, int] = {}
    for f in findings:
        counts[f.kind] = counts.get(f.kind, 0) + 1
    table = Table(title="conflicts between sources and claims the catalog's facts contradict",
                  columns=("kind", "model", "about", "detail", "sources"),
                  rows=tuple((f.kind, f.model, f.about, f.detail, "; ".join(f.sources)) for f in findings))
    return Document(data=data, tables=(table,),
                    notes=(", ".join(f"{n} {k}" for k, n in sorted(counts.items())),))


def plan_doc(plan) -> Document:
    """Launch commands per node (plans.Plan): one row per command line; env, notes and manifest under them."""
    e = plan.estimate
    data = {"schema_version": SCHEMA_VERSION, "model": plan.model, "deployment": e.as_dict()["deployment"],
            "commands": list(plan.commands), "env": plan.env_dict, "notes": list(plan.notes),
            "gpu_layers": plan.gpu_layers, "host_memory_bytes": round(plan.host_bytes),
            "kubernetes": plan.kubernetes}
    # one row per shell line (a quoted argument may hold a newline of its own: it stays in its row)
    rows = tuple((str(node), line) for node, lines in enumerate(plan.lines) for line in lines)
    title = (f"{plan.model}: {e.quant_id} weights, {e.kv_dtype} KV on {e.gpus} x {e.gpu_id} (TP {e.tp}, PP {e.pp}"
             f"{', EP' if e.ep else ''}{f', DP attention {e.dp_attention}' if e.dp_attention > 1 else ''}"
             f"{f', MTP {e.mtp}' if e.mtp else ''}{f', {e.nodes} nodes' if e.nodes > 1 else ''}) with {plan.engine}")
    notes = [f"env: {' '.join(f'{k}={v}' for k, v in plan.env)}"] if plan.env else []
    notes += [f"note: {n}" for n in plan.notes]
    if plan.kubernetes:
        notes.append("Kubernetes manifest:\n" + plan.kubernetes.rstrip("\n"))
    return Document(data=data, tables=(Table(title=title, columns=("node", "command"), rows=rows),),
                    notes=tuple(notes))
