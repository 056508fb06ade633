"""Documents for the catalog commands: the library's results laid out as data plus display rows."""

from __future__ import annotations

from .catalog import Catalog
from .render import Document, Table
from .schema import SCHEMA_VERSION, Gpu, ModelEntry
from .summaries import ModelSummary


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
            "entry": entry.model_dump(mode="json", exclude_none=True)}
    arch = catalog.architecture(entry)
    if arch is not None and entry.architecture is None:
        data["entry"]["architecture"] = arch.model_dump(mode="json", exclude_none=True)
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
        for k, v in arch.model_dump(exclude_none=True, exclude={"source", "note"}).items():
            fields.append((f"architecture.{k}", str(v), arch.source))
    for name in ("context", "weights_dtype", "license", "released"):
        fact = getattr(entry, name)
        if fact is not None:
            shown = fact.model_dump(exclude_none=True, exclude={"source", "note"})
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


def gpus_doc(gpus: list[Gpu], capacities: dict[str, float]) -> Document:
    data = {"schema_version": SCHEMA_VERSION, "count": len(gpus), "gpus": [
        {**g.model_dump(mode="json", exclude_none=True), "capacity_bytes": round(capacities[g.id])} for g in gpus]}
    table = Table(
        title=f"{len(gpus)} accelerators",
        columns=("id", "family", "variant", "category", "memory", "bandwidth", "bf16/fp16", "fp8", "nvidia-smi name"),
        rows=tuple((g.id, g.family, g.variant or "", g.category, f"{g.memory_gb:g} GB", f"{g.bandwidth_gbs:g} GB/s",
                    f"{g.bf16_tflops or g.fp16_tflops or '-'}", f"{g.fp8_tflops or '-'}",
                    g.nvidia_smi_names[0] if g.nvidia_smi_names else "") for g in gpus),
    )
    return Document(data=data, tables=(table,))


def problems_doc(files: list[str], problems: list[str]) -> Document:
    data = {"schema_version": SCHEMA_VERSION, "files": files, "valid": not problems, "problems": problems}
    table = Table(title="catalog problems" if problems else "catalog valid", columns=("problem",),
                  rows=tuple((p,) for p in problems) or (("none",),))
    return Document(data=data, tables=(table,))
