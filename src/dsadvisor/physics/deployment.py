"""One candidate deployment and the rules it must keep: the ``Deployment`` an estimate computes from, the GPU
layout it runs in (tensor parallel inside a node, pipeline across nodes: ``choose_layout``, ``check_layout``,
``pin_layout``) and the KV cache dtype it keeps (``kv_format``, ``kv_bytes_per_element``).

Layer 2 (physics), read after ``physics.timing`` (``Layout``) and before ``physics.estimate``, which estimates a
deployment and still names these (``from dsadvisor.physics.estimate import Deployment`` works).
"""

from __future__ import annotations

from dsadvisor.catalog.schema import Architecture, Engine, Gpu, ModelEntry, QuantFormat
from dsadvisor.catalog.store import Catalog
from dsadvisor.errors import InputError, UnknownNameError, suggest
from dsadvisor.physics.offload import HostExperts
from dsadvisor.physics.timing import Layout
from dsadvisor.records import record, replace


@record(frozen=True)
class Deployment:
    """One candidate: everything the estimate computes from, resolved to catalog objects."""

    model: ModelEntry
    gpu: Gpu
    quant: QuantFormat
    engine: Engine
    architecture: Architecture | None  # the model's shape; None: assumed from its claimed size
    kv_dtype: str = "auto"  # as asked: auto, bf16, fp16, or a KV format's id or alias
    kv_format: QuantFormat | None = None  # the format kv_dtype names; None: 16-bit
    gpus: int = 1
    context: int | None = None  # tokens per sequence, prompt + output; None: min(advertised, 8192, or prompt + 512)
    prompt_tokens: int | None = None  # None: min(2048, context)
    batch: int = 1
    gpus_per_node: int = 8
    memory_fraction: float | None = None  # overrides the engine's (vLLM gpu_memory_utilization)
    capacity_bytes: float | None = None  # free memory when detected; None: the card's
    layout: Layout | None = None  # pinned (estimate --tp/--pp/--ep/--dp-attention); None: choose_layout's
    # routed experts llama.cpp keeps in system memory (--n-cpu-moe); None: every weight on the GPUs
    host_experts: HostExperts | None = None
    # the engine release measured (a llama.cpp build date, a version); None: the release the speed figures model
    engine_version: str | None = None
    # the fused-MoE kernel the launch names where the engine lets it choose (TensorRT-LLM ``moe_config.backend``, lower
    # case: "trtllm", "deepgemm"); None: the one the engine's figures model
    moe_backend: str | None = None

    @classmethod
    def of(cls, catalog: Catalog, *, model: ModelEntry, kv_dtype: str = "auto",
           architecture: Architecture | None = None, **rest) -> "Deployment":
        """A deployment whose shape and KV format come from ``catalog``: the model's own (or borrowed)
        architecture unless ``architecture`` is given (a local config.json), and the format
        ``kv_dtype`` names (an UnknownNameError with suggestions if none)."""
        return cls(model=model, architecture=architecture or catalog.architecture(model), kv_dtype=kv_dtype,
                   kv_format=kv_format(catalog, kv_dtype), **rest)


def choose_layout(arch: Architecture, engine: Engine, gpus: int, gpus_per_node: int) -> Layout:
    """Tensor parallel inside a node (a divisor of the head count), pipeline across nodes."""
    if gpus < 1:
        raise InputError("--gpus must be at least 1")
    if gpus > gpus_per_node and not engine.multi_node:
        raise InputError(f"{engine.name} does not run across nodes; {gpus} GPUs exceed {gpus_per_node} per node")
    if not engine.tensor_parallel:
        if gpus > 1 and not engine.pipeline_parallel:
            raise InputError(f"{engine.name} runs on one GPU only")
        return Layout(tp=1, pp=gpus, ep=False)
    tp = max(d for d in range(1, min(gpus, gpus_per_node) + 1)
             if gpus % d == 0 and arch.num_attention_heads % d == 0)
    pp = gpus // tp
    if pp > 1 and not engine.pipeline_parallel:
        raise InputError(f"{engine.name} cannot split {gpus} GPUs: tensor parallel needs a divisor of "
                         f"{arch.num_attention_heads} heads and it has no pipeline parallelism")
    return Layout(tp=tp, pp=pp, ep=default_ep(arch, engine, tp))


def default_ep(arch: Architecture, engine: Engine, tp: int) -> bool:
    """Expert parallel by default where the engine has it and its MoE kernel decodes whole experts faster than
    tensor-parallel slices of them (TensorRT-LLM's; SGLang's and vLLM's TP kernels are the faster, and their
    defaults split experts by TP too)."""
    if not (arch.is_moe and engine.expert_parallel and tp > 1):
        return False
    s = engine.speed
    return s.per_moe_layer_decode_ep_s is None or s.per_moe_layer_decode_ep_s <= s.per_moe_layer_decode_s


def check_layout(layout: Layout, arch: Architecture, engine: Engine, gpus: int, gpus_per_node: int) -> None:
    """A pinned layout the engine and the model can run, on the GPUs given (an InputError if not)."""
    if layout.tp < 1 or layout.pp < 1 or layout.dp_attention < 1:
        raise InputError("--tp, --pp and --dp-attention must be at least 1")
    if layout.gpus != gpus:
        raise InputError(f"--tp {layout.tp} x --pp {layout.pp} is {layout.gpus} GPUs, not --gpus {gpus}")
    if layout.tp > gpus_per_node and not engine.multi_node:
        raise InputError(f"{engine.name} does not run across nodes; --tp {layout.tp} exceeds {gpus_per_node} "
                         "GPUs per node")
    if layout.pp > 1 and not engine.pipeline_parallel:
        raise InputError(f"{engine.name} has no pipeline parallelism")
    if layout.tp > 1 and not engine.tensor_parallel:
        raise InputError(f"{engine.name} has no tensor parallelism")
    if layout.ep and not (arch.is_moe and engine.expert_parallel):
        raise InputError("expert parallel needs a mixture-of-experts model" if not arch.is_moe
                         else f"{engine.name} has no expert parallelism")
    if layout.dp_attention > 1:
        if not (arch.is_moe and engine.data_parallel_attention):
            raise InputError("data-parallel attention needs a mixture-of-experts model (dense models: run "
                             "separate replicas)" if not arch.is_moe
                             else f"{engine.name} has no data-parallel attention")
        if layout.tp % layout.dp_attention:
            raise InputError(f"--dp-attention {layout.dp_attention} must divide --tp {layout.tp}")
    if arch.num_attention_heads % layout.attention_tp:
        raise InputError(f"{layout.attention_tp} GPUs cannot split {arch.num_attention_heads} attention heads")
    if layout.mtp:
        check_mtp(layout.mtp, arch, engine)


MAX_MTP_DRAFT_TOKENS = 3  # the draft lengths published acceptance rates cover (serving.speculative)


def check_mtp(draft_tokens: int, arch: Architecture, engine: Engine) -> None:
    """MTP speculative decoding the model and engine can run (an InputError saying why not)."""
    if draft_tokens < 0 or draft_tokens > MAX_MTP_DRAFT_TOKENS:
        raise InputError(f"--mtp takes 0-{MAX_MTP_DRAFT_TOKENS} draft tokens, not {draft_tokens}")
    if not arch.num_nextn_predict_layers:
        raise InputError("--mtp needs a model that ships a multi-token-prediction layer "
                         "(num_nextn_predict_layers in config.json: DeepSeek-V3, R1, V3.1, V3.2, V4); this one has none")
    if not engine.mtp_speculative:
        raise InputError(f"{engine.name} has no MTP speculative decoding (vLLM, SGLang and TensorRT-LLM do)")


def pin_layout(d: Deployment, *, tp: int | None = None, pp: int | None = None, ep: bool | None = None,
               dp_attention: int | None = None, mtp: int | None = None) -> Deployment:
    """``d`` with the layout these pin; what they leave out defaults as ``choose_layout`` would.
    A single-GPU ``d`` grows to ``tp x pp`` GPUs. Checked when estimated (``check_layout``). Only ``mtp``
    given: the layout ``choose_layout`` picks, drafting with the MTP layer (``mtp=0``: not drafting)."""
    if (tp, pp, ep, dp_attention) == (None, None, None, None) and mtp is not None and d.architecture is not None:
        chosen = choose_layout(d.architecture, d.engine, d.gpus, d.gpus_per_node)
        return replace(d, layout=replace(chosen, mtp=mtp))
    pp = pp or 1
    gpus = d.gpus if d.gpus > 1 or tp is None else tp * pp
    tp = tp or max(1, gpus // pp)
    arch = d.architecture
    # data-parallel attention hands each rank's tokens to the experts' owners: expert parallel (SGLang's
    # --enable-dp-attention recipes, vLLM's --data-parallel-size with --enable-expert-parallel)
    moe_ep = arch is not None and (default_ep(arch, d.engine, tp) or (
        (dp_attention or 1) > 1 and arch.is_moe and d.engine.expert_parallel))
    layout = Layout(tp=tp, pp=pp, ep=moe_ep if ep is None else ep, dp_attention=dp_attention or 1, mtp=mtp or 0)
    return replace(d, gpus=gpus, layout=layout)


def per_gpu(total: float, attention: float, layout: Layout) -> float:
    """Bytes of ``total`` on one GPU: attention split over its group, the rest over every GPU."""
    return (total - attention) / layout.gpus + attention / (layout.attention_tp * layout.pp)


KV_16BIT = ("auto", "bf16", "fp16")  # 2 bytes an element; auto is bf16 (fp16 without bf16 hardware)
KV_SHORT = {"fp8": "fp8-kv", "q8_0": "q8_0-kv", "q4_0": "q4_0-kv"}  # --kv-dtype fp8 names the KV-only format


def kv_format(catalog: Catalog, kv_dtype: str) -> QuantFormat | None:
    """The KV cache format ``--kv-dtype`` names; None for the 16-bit ones. Unknown: an UnknownNameError
    that suggests KV cache dtypes (not weight formats); a weight-only format: an InputError."""
    if kv_dtype in KV_16BIT:
        return None
    try:
        fmt = catalog.quantization(KV_SHORT.get(kv_dtype.lower(), kv_dtype))
    except UnknownNameError:
        kv = [q for q in catalog.quantizations.values() if "kv_cache" in q.applies_to and q.id not in KV_16BIT]
        known = [*KV_16BIT, *KV_SHORT, *(q.id for q in kv), *(a for q in kv for a in q.aliases)]
        every = [*KV_16BIT, *KV_SHORT, *(q.id for q in kv if q.id not in KV_SHORT.values())]
        hint = "" if suggest(kv_dtype, known) else "choose from " + ", ".join(every)  # nothing close: list them
        raise UnknownNameError("KV cache dtype", kv_dtype, known, hint) from None
    if "kv_cache" not in fmt.applies_to:
        raise InputError(f"{fmt.id} is not a KV cache dtype")
    return fmt


def auto_kv_dtype(gpu: Gpu) -> str:
    """The 16-bit KV cache an engine keeps when asked for none: bf16, or fp16 on a chip without bf16
    (a T4 or V100: sm75 and older have no bf16, so engines fall back to fp16 there)."""
    return "bf16" if "bf16" in gpu.dtypes else "fp16"


def kv_bytes_per_element(d: Deployment) -> tuple[str, float]:
    fmt, engine = d.kv_format, d.engine
    if fmt is None:
        if d.kv_dtype not in KV_16BIT:
            raise InputError(f"KV cache dtype {d.kv_dtype!r} has no format: build the deployment with "
                             "Deployment.of(catalog, ...)")
        return (auto_kv_dtype(d.gpu) if d.kv_dtype == "auto" else d.kv_dtype), 2.0
    if fmt.id not in engine.kv_dtypes and not set(fmt.aliases) & set(engine.kv_dtypes):
        raise InputError(f"{engine.name} has no {fmt.id} KV cache (it offers {', '.join(engine.kv_dtypes)})")
    return fmt.id, fmt.bits_per_weight / 8
