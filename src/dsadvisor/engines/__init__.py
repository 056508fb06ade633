"""Layer 3, the serving engines: one interface (``base.ServingEngine``), one module per engine.

``serving_engine(spec)`` gives the implementation for a catalog engine entry; an engine a user's
catalog adds, with no module here, gets the generic one (its support matrix from the catalog data,
no launch command). Modules are imported when first asked for. Imports only the catalog and
physics layers.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dsadvisor.catalog.schema import Engine
    from dsadvisor.catalog.store import Catalog
    from dsadvisor.engines.base import ServingEngine
    from dsadvisor.physics.estimate import Deployment

# catalog engine id -> module in this package holding its ServingEngine subclass ``ENGINE``
MODULES = {"vllm": "vllm", "sglang": "sglang", "tensorrt-llm": "trtllm", "llama.cpp": "llamacpp",
           "transformers": "transformers", "ollama": "ollama"}


# catalog engine id -> (the spec, its implementation): recommend asks about every model x format x
# engine (4,378 calls for one A100 run), and an implementation holds its support-matrix memo. The
# spec is kept and compared by identity, so another catalog's entry of the same id gets its own.
_MADE: dict[str, tuple["Engine", "ServingEngine"]] = {}


def serving_engine(spec: "Engine") -> "ServingEngine":
    """The implementation of catalog engine ``spec`` (one per spec, made when first asked for)."""
    held = _MADE.get(spec.id)
    if held is not None and held[0] is spec:
        return held[1]
    made = _make(spec)
    _MADE[spec.id] = (spec, made)
    return made


def _make(spec: "Engine") -> "ServingEngine":
    name = MODULES.get(spec.id)
    if name is None:
        from dsadvisor.engines.base import ServingEngine

        generic = ServingEngine(spec)
        generic.launches = False
        return generic
    return import_module(f"dsadvisor.engines.{name}").ENGINE(spec)


def require_supported(catalog: "Catalog", dep: "Deployment") -> None:
    """An UnsupportedError with the engine's own reason when ``dep``'s engine does not run it on its
    hardware (the support matrix recommend, check and plan apply through rule DSA004), naming the
    engines that would."""
    from dsadvisor.errors import UnsupportedError

    kv = dep.kv_format or dep.kv_dtype
    if why := serving_engine(dep.engine).cannot_load(dep.model):
        others = [e.id for e in catalog.engines.values() if e.id != dep.engine.id
                  and serving_engine(e).cannot_load(dep.model) is None]
        raise UnsupportedError(f"{why}; try --engine {' or '.join(others)}")
    why = serving_engine(dep.engine).unsupported(dep.gpu, dep.quant, dep.architecture, kv)
    if why is None:
        return
    if serving_engine(dep.engine).unsupported(dep.gpu, dep.quant, dep.architecture) is not None:  # the format
        others = [e.id for e in catalog.engines.values() if e.id != dep.engine.id
                  and serving_engine(e).unsupported(dep.gpu, dep.quant, dep.architecture, kv) is None]
        why += (f"; {', '.join(others)} run{'s' if len(others) == 1 else ''} {dep.quant.id} there (--engine)"
                if others else f"; no engine here runs {dep.quant.id} on {dep.gpu.id}: {_formats_that_run(catalog, dep)}")
    raise UnsupportedError(why)


def _formats_that_run(catalog: "Catalog", dep: "Deployment") -> str:
    """"try --quant A or B or C": the formats some engine runs on the deployment's device, the nearest in size to
    the one asked first (before: "try another --quant", naming none: on a Raspberry Pi 4, q4_0 and the k-quants)."""
    runs = [q for q in catalog.quantizations.values() if "weights" in q.applies_to and not q.expert_bits_per_weight
            and any(serving_engine(e).unsupported(dep.gpu, q, dep.architecture) is None
                    for e in catalog.engines.values())]
    return f"try --quant {' or '.join(_nearest(runs, dep.quant))}" if runs else "try another --quant"


def _nearest(runs: list, quant) -> list[str]:
    """Three of ``runs`` nearest in size to ``quant``, at most two of them first listed for the same engine while
    another's remain: the GGUF formats (a dozen within a bit of each other since run 12) would otherwise crowd
    out AWQ/GPTQ."""
    runs = sorted(runs, key=lambda q: abs(q.bits_per_weight - quant.bits_per_weight))
    first: list = []
    for q in runs:
        if sum(p.engines[:1] == q.engines[:1] for p in first) < 2:
            first.append(q)
    return [q.id for q in (first + [q for q in runs if q not in first])[:3]]


def require_runnable_format(catalog: "Catalog", gpu, quant, engine_ids) -> None:
    """An UnsupportedError when none of ``engine_ids`` runs ``quant`` weights on ``gpu`` (bad input, not a
    deployment that does not fit): the reason of the first engine that lists the format, and the formats
    that do run there. Before, `plan --quant nvfp4` on an H100 said "no deployment fits" (exit 1), and
    `plan --quant awq-int4 --gpu cpu` gave TensorRT-LLM's reason, the last engine tried."""
    from dsadvisor.errors import UnsupportedError

    engines = [serving_engine(catalog.engine(e)) for e in engine_ids]
    if any(e.unsupported(gpu, quant) is None for e in engines):
        return
    listing = [e for e in engines if quant.id in e.spec.formats] or engines
    why = listing[0].unsupported(gpu, quant)
    runs = [q for q in catalog.quantizations.values() if "weights" in q.applies_to and not q.expert_bits_per_weight
            and any(e.unsupported(gpu, q) is None for e in engines)]
    hint = f"; try --quant {' or '.join(_nearest(runs, quant))}" if runs else ""  # the nearest in size first
    raise UnsupportedError(f"no engine runs {quant.id} weights on {gpu.id}: {why}{hint}")


DEFAULT_ENGINE = "vllm"  # estimate's engine when --engine is not given, where it runs


def default_engine(catalog: "Catalog", model, gpu, quant, arch) -> str:
    """The engine ``estimate`` models when --engine is not given: vLLM, unless it cannot run on this device at
    all (an Apple chip, a CPU its backend is not built for) or cannot load the model (Janus); then the first
    engine of the catalog that runs ``quant`` there. Before, `estimate MODEL --gpu 'M4 Max' --ram 64` and
    `estimate janus-pro-7b --gpu A100 --vram 80` exited 2 on vLLM's limits. A format limit (AWQ on a V100) is
    still vLLM's answer to give: the user asked for that format."""
    from dsadvisor.engines.base import device_kind

    vllm = serving_engine(catalog.engine(DEFAULT_ENGINE))
    if (device_kind(gpu) in vllm.spec.devices and vllm.cpu_unsupported(gpu) is None
            and vllm.cannot_load(model) is None):
        return DEFAULT_ENGINE
    for spec in catalog.engines.values():
        engine = serving_engine(spec)
        if engine.cannot_load(model) is None and engine.unsupported(gpu, quant, arch) is None:
            return spec.id
    return DEFAULT_ENGINE
