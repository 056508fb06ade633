"""dsadvisor as a library: what the command line does, as Python calls (docs/api.md).

Each call returns the frozen object the command renders: ``estimate`` an
:class:`~dsadvisor.physics.estimate.Estimate`, ``recommend`` a
:class:`~dsadvisor.advice.search.Recommendation`, ``check`` a :class:`~dsadvisor.advice.search.Verdict`,
``plan`` a :class:`~dsadvisor.launch.plan.Plan`. Names are the ones the command line takes (a model's
id, name, Hugging Face repo or alias; a GPU's family, variant or ``nvidia-smi`` name, or ``"auto"``);
sizes are in GB as ``--vram`` and ``--ram`` take them. Errors are the classes in :mod:`dsadvisor.errors`,
never an exit: ``UnknownNameError`` (with ``suggestions``), ``InputError``, ``CatalogError``,
``NoFitError`` (``plan``: nothing fits; ``verdict`` is the closest miss) and ``NoGpuError``.

    >>> from dsadvisor import api
    >>> catalog = api.load_catalog()
    >>> api.check(catalog, "deepseek-r1-distill-qwen-7b", "RTX 3060").passed
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dsadvisor.advice.check import hardware, hardware_kinds
from dsadvisor.advice.check import check as _check
from dsadvisor.advice.rules import RULES, Constraints, RuleResult, Status
from dsadvisor.advice.search import Hardware, Recommendation, Verdict
from dsadvisor.advice.search import recommend as _recommend
from dsadvisor.catalog.resolve import default_quant, model_from_config
from dsadvisor.catalog.schema import ModelEntry
from dsadvisor.catalog.store import Catalog, load_catalog
from dsadvisor.errors import CatalogError, DsAdvisorError, InputError, NoFitError, NoGpuError, UnknownNameError
from dsadvisor.launch.plan import Plan
from dsadvisor.launch.plan import plan as _plan
from dsadvisor.physics.estimate import Deployment, Estimate
from dsadvisor.physics.estimate import estimate as _estimate

__all__ = [
    "load_catalog", "hardware", "deployment", "estimate", "recommend", "check", "plan", "model_from_config",
    "Catalog", "Constraints", "Hardware", "Deployment", "Estimate", "Recommendation", "Verdict", "RuleResult",
    "Status", "RULES", "Plan", "ModelEntry",
    "DsAdvisorError", "CatalogError", "InputError", "UnknownNameError", "NoFitError", "NoGpuError",
]


def _entry(catalog: Catalog, model: str | ModelEntry) -> ModelEntry:
    return catalog.model(model) if isinstance(model, str) else model


def deployment(catalog: Catalog, model: str | ModelEntry, gpu: str | None = None, *, vram: float | None = None,
               gpus: int = 1, ram: float | None = None, quant: str | None = None, engine: str = "vllm",
               kv_dtype: str = "auto", context: int | None = None, prompt_tokens: int | None = None,
               batch: int = 1, memory_fraction: float | None = None) -> Deployment:
    """One deployment as ``dsadvisor estimate`` builds it from its options (``quant``: as shipped by
    default). ``dsadvisor.serving.server.estimate_serving(d)`` gives its figures under load too."""
    entry = _entry(catalog, model)
    hw = hardware(catalog, gpu, vram, gpus, ram)
    return Deployment.of(catalog, model=entry, gpu=hw.gpu, quant=catalog.quantization(quant or default_quant(entry, hw.gpu)),
                         engine=catalog.engine(engine), kv_dtype=kv_dtype, gpus=hw.max_gpus, context=context,
                         prompt_tokens=prompt_tokens, batch=batch, memory_fraction=memory_fraction,
                         capacity_bytes=hw.free_bytes, architecture=entry.architecture)


def estimate(catalog: Catalog, model: str | ModelEntry, gpu: str | None = None, **options: Any) -> Estimate:
    """Memory, time to first token, per-token latency and throughput of one deployment
    (``dsadvisor estimate``); ``options`` are :func:`deployment`'s."""
    return _estimate(deployment(catalog, model, gpu, **options))


def recommend(catalog: Catalog, gpu: str | Sequence[str] | None = None, *, vram: float | None = None,
              gpus: int = 1, ram: float | None = None, constraints: Constraints | None = None) -> Recommendation:
    """The models that fit, ranked, and the rest with the rules they fail (``dsadvisor recommend``).
    ``gpu``: one kind, or several to choose between (``gpus`` of each)."""
    names = [gpu] if isinstance(gpu, str) else list(gpu or ())
    return _recommend(catalog, hardware_kinds(catalog, names, vram, gpus, ram), constraints or Constraints())


def check(catalog: Catalog, model: str | ModelEntry, gpu: str | None = None, *, vram: float | None = None,
          gpus: int = 1, ram: float | None = None, exact: bool = False,
          constraints: Constraints | None = None) -> Verdict:
    """One model's verdict: its best deployment that passes every rule, or its closest miss with the
    rules it fails (``dsadvisor check``; the command's exit code is ``verdict.passed``, ``failed``,
    ``unknown``). ``model``: a catalog name, or the entry :func:`model_from_config` reads."""
    return _check(catalog, model, hardware(catalog, gpu, vram, gpus, ram, exact=exact), constraints)


def plan(catalog: Catalog, model: str | ModelEntry, gpu: str | None = None, *, vram: float | None = None,
         gpus: int = 1, ram: float | None = None, exact: bool = False, constraints: Constraints | None = None,
         offload: bool = False, kubernetes: bool = False, model_path: str | None = None) -> Plan:
    """The commands that start the deployment :func:`check` picks (``dsadvisor plan``); raises
    ``NoFitError`` when none fits."""
    return _plan(catalog, model, hardware(catalog, gpu, vram, gpus, ram, exact=exact), constraints,
                 offload=offload, kubernetes=kubernetes, model_path=model_path)
