"""Catalog entries summarised for listing, filtering and auditing (no estimates here)."""

from __future__ import annotations

from typing import Any


from dsadvisor.catalog.store import Catalog
from dsadvisor.physics.params import count_params
from dsadvisor.catalog.schema import ModelEntry
from dsadvisor.errors import UnknownNameError
from dsadvisor.records import record


@record(frozen=True)
class ModelSummary:
    id: str
    name: str
    status: str
    kind: str
    family: str
    params_total: float | None  # computed from the architecture; else the largest claim
    params_active: float | None
    params_from: str  # "architecture", "claim", or "unknown"
    attention: str | None
    context: int | None
    license: str | None
    released: str | None
    tasks: tuple[str, ...]
    hf_repo: str | None


def summarize(catalog: Catalog, m: ModelEntry) -> ModelSummary:
    arch = catalog.architecture(m)
    total: float | None
    active: float | None
    if arch is not None:
        p = count_params(arch)
        total, active, src = float(p.total), float(p.active), "architecture"
    else:
        claimed: list[tuple[Any, object]] = [(c.value, c) for c in m.claims if c.field == "params_total" and _is_number(c.value)]
        claimed += [(p.total, p) for p in m.params]
        actives = [p.active for p in m.params if p.active]
        total = max((float(v) for v, _ in claimed), default=None)
        active = max(actives, default=None)
        src = "claim" if total else "unknown"
    context = None
    if m.context:
        context = m.context.advertised or m.context.configured
    elif arch is not None:
        context = arch.max_position_embeddings
    return ModelSummary(
        id=m.id, name=m.name, status=m.status, kind=m.kind, family=m.family,
        params_total=total, params_active=active, params_from=src,
        attention=arch.attention if arch else None, context=context,
        license=m.license.value if m.license else None,
        released=m.released.value if m.released else None,
        tasks=tuple(m.tasks), hf_repo=m.hf_repo,
    )


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


SORT_KEYS = {
    "id": lambda s: s.id,
    "params": lambda s: (s.params_total is None, s.params_total or 0),
    "released": lambda s: (s.released is None, s.released or ""),
    "family": lambda s: (s.family, s.id),
    "status": lambda s: (s.status, s.id),
}


def list_models(
    catalog: Catalog,
    *,
    status: str | None = None,
    family: str | None = None,
    kind: str | None = None,
    task: str | None = None,
    min_params: float | None = None,
    max_params: float | None = None,
    sort: str = "id",
) -> list[ModelSummary]:
    """Summaries of the entries that pass every filter given (params in units of 1). A ``family`` no model has is
    an UnknownNameError, as recommend's --family is (`models --family r1-distil` listed nothing, exit 0)."""
    families = sorted({m.family for m in catalog.models.values()})
    if family is not None and family.lower() not in {f.lower() for f in families}:
        raise UnknownNameError("family", family, families)
    out = []
    for m in catalog.models.values():
        if status and m.status != status:
            continue
        if family and m.family.lower() != family.lower():
            continue
        if kind and m.kind != kind:
            continue
        if task and task not in m.tasks:
            continue
        s = summarize(catalog, m)
        if (min_params is not None or max_params is not None) and s.params_total is None:
            continue
        total = s.params_total or 0.0  # None only when no bound is asked for (left out just above)
        if min_params is not None and total < min_params:
            continue
        if max_params is not None and total > max_params:
            continue
        out.append(s)
    return sorted(out, key=SORT_KEYS[sort])
