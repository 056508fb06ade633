"""The document `dsadvisor layouts` prints: the frontier as a table, every point as a chart."""

from __future__ import annotations

from dsadvisor.catalog.schema import SCHEMA_VERSION
from dsadvisor.output.chart import Chart, ChartPoint
from dsadvisor.output.render import Document, Table
from dsadvisor.output.views import fmt_s


def _layout_data(layout) -> dict:
    return {"tensor_parallel": layout.tp, "pipeline_parallel": layout.pp, "expert_parallel": layout.ep,
            "data_parallel_attention": layout.dp_attention, "mtp_draft_tokens": layout.mtp}


def _point_data(p) -> dict:
    split = None if p.split is None else {
        "prefill": _layout_data(p.split.prefill), "prefill_instances": p.split.prefill_workers,
        "decode": _layout_data(p.split.decode), "decode_instances": p.split.decode_workers}
    return {"label": p.label, "layout": _layout_data(p.layout), "disaggregated": split,
            "tokens_per_s_per_gpu": p.tokens_per_s_per_gpu, "serving": p.serving.as_dict()}


def _row(p, limits) -> tuple[str, ...]:
    s = p.serving
    verdict = limits.missed_by(s) or "meets the limits"
    return (p.label, f"{p.tokens_per_s_per_gpu:,.0f}", f"{s.tokens_per_s_per_user:,.1f}", fmt_s(s.ttft_s),
            fmt_s(s.tpot_s), verdict)


def layouts_doc(found, launch: tuple[list[str], list[str]] = ([], [])) -> Document:
    """``found``: a :class:`dsadvisor.serving.search.LayoutSearch`; ``launch``: the shell lines and notes
    that start the best layout when it is disaggregated (:mod:`dsadvisor.launch.disaggregated`)."""
    d, limits = found.deployment, found.limits
    where = f"{d.model.id} on {d.gpus} x {d.gpu.id} | {d.quant.id} | {d.engine.name} | " \
            f"{found.prompt_tokens:,} tokens in, {found.output_tokens:,} out"
    data = {
        "schema_version": SCHEMA_VERSION, "model": d.model.id, "gpu": d.gpu.id, "gpus": d.gpus,
        "engine": d.engine.id, "quantization": d.quant.id, "prompt_tokens": found.prompt_tokens,
        "output_tokens": found.output_tokens,
        "limits": {"max_ttft_s": limits.max_ttft_s, "max_tpot_s": limits.max_tpot_s},
        "best": None if found.best is None else _point_data(found.best),
        "goodput": None if found.goodput is None else _point_data(found.goodput),
        "frontier": [_point_data(p) for p in found.frontier],
        "points": len(found.points),
        "launch": list(launch[0]),
        "launch_notes": list(launch[1]),  # the table's "launch:" notes (JSON had the commands without them)
    }
    rows = tuple(_row(p, limits) for p in found.frontier)
    table = Table(title=f"Pareto frontier: {where}",
                  columns=("layout @ users", "tok/s per GPU", "tok/s per user", "TTFT", "TPOT", "limits"),
                  rows=rows)
    notes = [f"{len(found.points)} points: {len({(p.layout, p.split) for p in found.points})} layouts x concurrency 1-"
             f"{max(p.serving.concurrency for p in found.points)}; each request's TTFT and TPOT as a closed loop "
             "of that many users sees them (docs/method.md#serving-under-load)"]
    if found.best is None:
        notes.append("no layout meets the limits at any concurrency; the frontier shows what is reachable")
    else:
        b, g = found.best, found.goodput
        notes.append(f"best within the limits: {b.label} users, {b.tokens_per_s_per_gpu:,.0f} tok/s per GPU, "
                     f"{b.serving.tokens_per_s_per_user:,.1f} tok/s per user")
        if g is not None:
            notes.append(f"goodput: {b.label.split(' @')[0]} meets the limits up to {g.serving.concurrency} users")
    notes += [f"launch: {n}" for n in launch[1]]
    tables = (table,) + ((Table(title=f"launch {found.best.label.split(' @')[0]}", columns=("command",),
                                rows=tuple((line,) for line in launch[0])),) if launch[0] else ())
    chosen = found.best.label if found.best else None
    front = {p.label for p in found.frontier}
    chart = Chart(title=f"{d.model.id}: {d.gpus} x {d.gpu.id}, {d.engine.name}",
                  x_label="output tokens/s per user", y_label="output tokens/s per GPU",
                  points=tuple(ChartPoint(p.serving.tokens_per_s_per_user, p.tokens_per_s_per_gpu, p.label,
                                          on_frontier=p.label in front, chosen=p.label == chosen)
                               for p in found.points))
    return Document(data=data, tables=tables, notes=tuple(notes), chart=chart)
