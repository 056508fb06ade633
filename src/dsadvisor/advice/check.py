"""The library's ``check``: one model's best deployment on one kind of GPU, or its closest miss.

``dsadvisor check`` renders what :func:`check` returns and turns it into an exit code; a program calls
it directly (docs/api.md). The hardware is named as the command line names it (:func:`hardware`):
``gpu="auto"`` reads the local GPUs.
"""

from __future__ import annotations

from collections.abc import Sequence

from dsadvisor.advice.rules import Constraints
from dsadvisor.advice.search import Hardware, Verdict, recommend
from dsadvisor.catalog.schema import ModelEntry
from dsadvisor.catalog.store import Catalog
from dsadvisor.errors import InputError


def hardware(catalog: Catalog, gpu: str | None = None, vram: float | None = None, gpus: int = 1,
             ram: float | None = None, *, exact: bool = False) -> Hardware:
    """One kind of GPU as ``--gpu/--vram/--gpus/--ram`` name it (GB; ``gpu="auto"`` detects).

    ``exact``: use exactly ``gpus`` GPUs rather than the smallest count that passes."""
    from dsadvisor.catalog.resolve import resolve_hardware

    spec = resolve_hardware(catalog, gpu, vram, gpus, ram)
    return Hardware(gpu=spec.gpu, max_gpus=spec.count, free_bytes=spec.free_bytes, exact=exact,
                    host_bytes=spec.host_bytes)


def hardware_kinds(catalog: Catalog, gpus: Sequence[str] | None, vram: float | None = None, count: int = 1,
                   ram: float | None = None) -> list[Hardware]:
    """Several kinds of GPU to choose between (``recommend --gpu A --gpu B``), ``count`` of each."""
    names: list[str | None] = list(gpus) if gpus else [None]
    if len(names) > 1 and vram is not None:
        raise InputError("--vram applies to one --gpu; give each kind by its variant (e.g. A100-SXM-80GB)")
    return [hardware(catalog, name, vram, count, ram) for name in names]


def model_entry(catalog: Catalog, model: str | ModelEntry) -> tuple[Catalog, ModelEntry]:
    """The entry ``model`` names, and a catalog that holds it (a local config.json's entry is lent to it)."""
    if isinstance(model, str):
        return catalog, catalog.model(model)
    if catalog.models.get(model.id) is not model:
        catalog = catalog.with_model(model)
    return catalog, model


def check(catalog: Catalog, model: str | ModelEntry, hardware: Hardware,
          constraints: Constraints | None = None) -> Verdict:
    """The verdict on ``model`` (a catalog name, or an entry such as ``model_from_config`` returns) on
    ``hardware``: its best deployment that passes every rule, or its closest miss with the rules it
    fails. ``verdict.passed`` is true only when every rule listed passed."""
    catalog, entry = model_entry(catalog, model)
    rec = recommend(catalog, [hardware], constraints or Constraints(), models=[entry])
    return (rec.ranked or rec.rejected)[0]
