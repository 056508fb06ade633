"""What one deployment costs: model x format x KV dtype x GPU x GPU count x engine x context x batch.

``estimate(deployment)`` returns an ``Estimate`` whose ``as_dict()`` is the JSON
contract documented in docs/json.md. A ``Deployment`` holds everything the estimate
computes from; ``Deployment.of(catalog, ...)`` looks those things up in a catalog. Every estimate carries its basis:
the facts it used, what it assumed, and the articles' own claims beside it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from dsadvisor.catalog.assumed import assumed_architecture
from dsadvisor.catalog.store import Catalog
from dsadvisor.errors import InputError, UnknownNameError, suggest
from dsadvisor.catalog.hardware import capacity_bytes
from dsadvisor.physics.memory import (
    MemoryPlan,
    WeightBytes,
    activation_bytes,
    attention_weight_bytes,
    kv_bytes_per_token,
    kv_cache_bytes,
    kv_read_bytes,
    mean_bits,
    mtp_module_bytes,
    plan_memory,
    profile_logit_bytes,
    routed_expert_bits,
    weight_bytes,
)
from dsadvisor.physics.params import ParamBreakdown, count_params, moe_layer_count
from dsadvisor.physics.ggml_matmul import MMF_MAX_COLUMNS, f16_small_batch_extra_s, matmul_shapes
from dsadvisor.physics.tiles import dense_tiles, expert_tiles
from dsadvisor.physics.versions import (at_version, dequantize_pass_s, kq_gemm_flops, kq_materialized_s,
                                       version_notes)
from dsadvisor.catalog.schema import SCHEMA_VERSION, Architecture, Engine, Gpu, ModelEntry, QuantFormat
from dsadvisor.physics.rates import (PCIE_GEN4_GBS, bandwidth_efficiency, block_quantized, dequant_rate, dtype_rate,
                                     engine_for, expert_efficiency, gemm_rate, rates_for, unpack_rate)
from dsadvisor.physics.rates import decode_allreduce, for_format, on_device  # noqa: F401  (imported from here before)
from dsadvisor.physics.offload import (HostExperts, decode_host_s, host_bytes, layer_expert_params,
                                       prefill_host_s, staging_bytes)
from dsadvisor.physics.timing import Layout, Rates, across_nodes, attention_dims, decode_step_s, prefill_s
from dsadvisor.records import record, replace

DEFAULT_CONTEXT_CAP = 8192  # a sensible default, not the model's maximum (llmfit #302)
DEFAULT_PROMPT = 2048


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
    context: int | None = None  # tokens per sequence, prompt + output; None: min(advertised, 8192)
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


@record(frozen=True)
class Basis:
    facts: tuple[str, ...] = ()
    assumptions: tuple[str, ...] = ()
    claims: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


@record(frozen=True)
class Estimate:
    model_id: str
    status: str
    gpu_id: str
    gpus: int
    tp: int
    pp: int
    ep: bool
    dp_attention: int
    nodes: int
    quant_id: str
    kv_dtype: str
    engine_id: str
    context: int
    prompt_tokens: int
    batch: int
    params_total: int
    params_active: int
    architecture_assumed: bool
    memory: MemoryPlan
    ttft_s: float | None  # all ``batch`` prompts prefilled together
    ttft_single_s: float | None  # one prompt alone
    decode_step_s: float
    basis: Basis = field(default_factory=Basis)
    cpu_moe_layers: int = 0  # MoE layers whose routed experts stay in system memory (llama.cpp --n-cpu-moe)
    host_bytes: float = 0.0  # what those experts take in system memory
    mtp: int = 0  # MTP draft tokens per decode step (0: no speculative decoding); serving.speculative times it

    @property
    def decode_tokens_per_s(self) -> float:
        return self.batch / self.decode_step_s

    @property
    def per_sequence_tokens_per_s(self) -> float:
        return 1.0 / self.decode_step_s

    def as_dict(self) -> dict:
        m = self.memory
        return {
            "schema_version": SCHEMA_VERSION,
            "model": self.model_id,
            "status": self.status,
            "deployment": {
                "gpu": self.gpu_id, "gpus": self.gpus, "nodes": self.nodes,
                "tensor_parallel": self.tp, "pipeline_parallel": self.pp, "expert_parallel": self.ep,
                "data_parallel_attention": self.dp_attention,
                "quantization": self.quant_id, "kv_dtype": self.kv_dtype, "engine": self.engine_id,
                "context": self.context, "prompt_tokens": self.prompt_tokens, "batch": self.batch,
                "cpu_moe_layers": self.cpu_moe_layers,
                "mtp_draft_tokens": self.mtp,
            },
            "params": {"total": self.params_total, "active": self.params_active,
                       "assumed": self.architecture_assumed},
            "memory": {
                "weights_bytes": round(m.weights), "kv_cache_bytes": round(m.kv_cache),
                "activation_bytes": round(m.activations), "overhead_bytes": round(m.overhead),
                "per_gpu_bytes": round(m.per_gpu), "gpu_capacity_bytes": round(m.capacity),
                "usable_bytes": round(m.usable), "fits": m.fits,
                "kv_capacity_tokens": m.kv_capacity_tokens, "host_bytes": round(self.host_bytes),
            },
            "latency": {"ttft_s": self.ttft_s, "ttft_single_s": self.ttft_single_s,
                        "decode_step_s": self.decode_step_s},
            "throughput": {"decode_tokens_per_s": self.decode_tokens_per_s,
                           "per_sequence_tokens_per_s": self.per_sequence_tokens_per_s},
            "basis": {k: list(v) for k, v in asdict(self.basis).items()},
        }


# ------------------------------------------------------------------ helpers

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


def quantized_decode_extra_s(engine: Engine, quant: QuantFormat, batch: int, *, weights: float,
                             read_s: float, linear_flops_s: float = 0.0, routed_flops_s: float = 0.0,
                             routed: "RoutedExperts | None" = None, matmuls: int = 0,
                             arch: Architecture | None = None, bandwidth: float = 0.0) -> float:
    """What llama.cpp's matmul kernels add to a decode step of ``batch`` sequences besides reading the weights
    (``weights``: the parameters the step touches; ``read_s``: the seconds their bytes take to read;
    ``linear_flops_s``: the step's matmul FLOPs at the linear rate, ``routed_flops_s`` the routed experts' part).

    Block-quantized, up to ``quantized_vector_max_batch`` sequences: the dequantizing matrix-vector kernel
    cannot go faster than unpacking ``dequant_weights_per_s`` weights a second (by format): where that is slower
    than the read (HBM GPUs), the difference is added; each further sequence costs each matmul
    ``vector_column_s`` and unpacks its weights again (``vector_columns_s``). Above it the batched quantized matmul
    (MMQ): ``mmq_decode_s``. 16-bit weights at batch > 1: ``f16_batched_s``.
    """
    s = engine.speed
    if not block_quantized(engine, quant):
        return f16_batched_s(engine, batch, weights=weights, read_s=read_s, linear_flops_s=linear_flops_s,
                             routed=routed, arch=arch, bandwidth=bandwidth)
    if not s.dequant_weights_per_s:
        return 0.0
    per_s = dequant_rate(engine, quant)
    if s.vector_column_s or s.mmq_decode_matmul_s:  # the kernels' own timings (this GPU generation)
        return _kernel_decode_s(engine, quant, batch, weights=weights, read_s=read_s, linear_flops_s=linear_flops_s,
                                routed_flops_s=routed_flops_s, routed=routed, matmuls=matmuls, per_s=per_s)
    if batch > s.quantized_vector_max_batch:
        return mmq_decode_s(engine, batch, weights=weights, linear_flops_s=linear_flops_s,
                            routed_flops_s=routed_flops_s, routed=routed, matmuls=matmuls,
                            unpack=unpack_rate(engine, quant))
    extra = max(0.0, weights / per_s - read_s) if per_s else 0.0
    if s.dequant_column_weights_per_s:
        extra += (batch - 1) * weights / s.dequant_column_weights_per_s
    return extra


def f16_batched_s(engine: Engine, batch: int, *, weights: float, read_s: float, linear_flops_s: float,
                  routed: "RoutedExperts | None", arch: Architecture | None, bandwidth: float) -> float:
    """16-bit weights at batch > 1: up to 16 sequences the mmf kernel (``physics.ggml_matmul``) where its timings
    are known; above (cuBLAS) each weight matmul ``f16_gemm_matmul_s`` beyond the one-column kernel where that was
    timed (run 10), else a pass at ``batched_16bit_weights_per_s``; the routed experts (mmf with expert ids,
    up to 128 columns) only their bytes where mmf's timings are known. The FLOPs decode_step_s counts run under
    the weight read (``batched_16bit_hides_flops``)."""
    s = engine.speed
    if batch < 2:
        return 0.0
    experts = 0.0
    if s.f16_block_s and arch is not None:
        touched = routed.params * routed.touched if routed else 0.0
        weights -= touched
        if batch > s.f16_expert_columns and s.f16_expert_weights_per_s:
            experts = touched / s.f16_expert_weights_per_s
        if batch <= MMF_MAX_COLUMNS:
            extra = f16_small_batch_extra_s(s, arch, bandwidth) + experts
            return extra - min(linear_flops_s, read_s) if s.batched_16bit_hides_flops else extra
    per = s.batched_16bit_weights_per_s
    if s.f16_gemm_matmul_s and arch is not None:
        extra = s.f16_gemm_matmul_s * sum(count for _, _, count in matmul_shapes(arch)) + experts
    else:
        extra = (weights / per if per else 0.0) + experts
    return extra - min(linear_flops_s, read_s) if s.batched_16bit_hides_flops else extra


def _kernel_decode_s(engine: Engine, quant: QuantFormat, batch: int, *, weights: float, read_s: float,
                     linear_flops_s: float, routed_flops_s: float, routed: "RoutedExperts | None", matmuls: int,
                     per_s: float | None) -> float:
    """Block-quantized batched decode from llama.cpp's kernels timed alone (benchmarks/fit_llamacpp_kernels.py).

    The dense weights' one-column cost (the unpacking beyond the read) stays at every batch. Up to
    ``quantized_vector_max_batch`` sequences each further one costs every dense matmul ``vector_column_s`` and
    its weights at ``dequant_column_weights_per_s_by_format``; each (token, routed expert) pair is a matrix-vector
    product of its own (mul_mat_vec_q with ids), reading its expert again (``expert_pair_weights_per_s_by_format``). Above it MMQ: every dense matmul's
    first tile ``mmq_decode_matmul_s`` and a pass over its weights (``mmq_decode_weights_per_s_by_format``), each
    column it multiplies ``mmq_column_s`` and its weights at ``mmq_column_weights_per_s_by_format``; the routed
    experts as ``mmq_decode_s`` has them."""
    s = engine.speed
    touched = routed.params * routed.touched if routed else 0.0
    routed_read = read_s * touched / weights if routed and weights else 0.0
    dense_w, dense_read = weights - touched, read_s - routed_read
    routed_mm = 3 * routed.layers if routed else 0  # gate, up and down of each MoE layer
    dense_mm = max(0, matmuls - routed_mm)
    extra = max(0.0, dense_w / per_s - dense_read) if per_s else 0.0
    if batch <= s.quantized_vector_max_batch:
        col = s.dequant_column_weights_per_s_by_format.get(quant.id, s.dequant_column_weights_per_s)
        extra += (batch - 1) * (dense_mm * s.vector_column_s + (dense_w / col if col else 0.0))
        if routed and touched:
            pair = s.expert_pair_weights_per_s_by_format.get(quant.id, per_s)
            per_weight = max(routed_read / touched, 1 / pair if pair else 0.0)
            active = routed.params * routed.per_token / routed.experts
            extra += batch * active * per_weight - routed_read
        return extra
    step, widest = s.mmq_tile_column_step, s.mmq_max_tile_columns or batch
    passes, columns = dense_tiles(batch, step, widest)
    col = s.mmq_column_weights_per_s_by_format.get(quant.id)
    dense_flops_s = linear_flops_s - routed_flops_s
    columns_s = columns * dense_w / col if col else dense_flops_s * columns / batch
    unpack = s.mmq_decode_weights_per_s_by_format.get(quant.id)
    extra += passes * (dense_mm * s.mmq_decode_matmul_s + (dense_w / unpack if unpack else 0.0))
    extra += columns * dense_mm * s.mmq_column_s + columns_s - dense_flops_s
    if routed:
        rate = unpack_rate(engine, quant)
        e_passes, e_columns = expert_tiles(batch, routed.experts, routed.per_token, step, widest)
        used = batch * routed.per_token / routed.experts
        expert_eff = s.moe_expert_decode_efficiency or s.moe_expert_efficiency
        extra += (e_passes * routed.params / rate if rate else 0.0) + routed_flops_s * (e_columns / used / expert_eff - 1)
        extra += routed_mm * passes * s.mmq_decode_matmul_s
    return extra


@record(frozen=True)
class RoutedExperts:
    """The routed experts a batched matmul tiles one by one: their parameters (all of them, on this GPU) and
    the routing (experts, experts per token)."""

    params: float
    touched: float  # of them, the share a step reads
    experts: int
    per_token: int
    layers: int = 0  # MoE layers (each runs three routed-expert matmuls)


def mmq_decode_s(engine: Engine, batch: int, *, weights: float, linear_flops_s: float, routed_flops_s: float,
                 routed: RoutedExperts | None, matmuls: int, unpack: float | None = None) -> float:
    """The batched quantized matmul's cost in a decode step besides the FLOPs decode_step_s counts (``batch``
    columns at the quantized rate): every output tile passes over its weights (``unpack`` weights/s,
    ``unpack_rate``) and multiplies all its columns (``physics.tiles``: 9 sequences cost what 16 do; a routed
    expert with 1-2 of the step's tokens still multiplies 8 columns, at ``moe_expert_decode_efficiency`` of the
    dense rate); each matmul costs ``matmul_tile_s`` more. Untiled engines (``mmq_max_tile_columns`` 0): one pass
    over the weights, and the routed experts' FLOPs at the expert efficiency of a prompt's grouped matmuls."""
    s = engine.speed
    rate = unpack
    dense_w = weights - (routed.params * routed.touched if routed else 0.0)
    if not s.mmq_max_tile_columns:
        experts = routed_flops_s * (1 / s.moe_expert_efficiency - 1)
        return (weights / rate if rate else 0.0) + experts
    step, widest = s.mmq_tile_column_step, s.mmq_max_tile_columns
    passes, columns = dense_tiles(batch, step, widest)
    t = (passes * dense_w / rate if rate else 0.0) + (linear_flops_s - routed_flops_s) * (columns / batch - 1)
    if routed:
        e_passes, e_columns = expert_tiles(batch, routed.experts, routed.per_token, step, widest)
        used = batch * routed.per_token / routed.experts  # columns an expert has work for, on average
        expert_eff = s.moe_expert_decode_efficiency or s.moe_expert_efficiency
        t += (e_passes * routed.params / rate if rate else 0.0) + routed_flops_s * (e_columns / used / expert_eff - 1)
    return t + matmuls * passes * s.matmul_tile_s


def matmul_tiles_s(engine: Engine, arch: Architecture, tokens: int) -> float:
    """A prompt's fixed cost per weight matmul and column tile (``matmul_tile_s``): every micro-batch of
    ``max_batched_tokens`` runs each matmul in ceil(tokens / ``mmq_max_tile_columns``) tiles; the output head
    once, for the last token."""
    s, ubatch = engine.speed, engine.memory.max_batched_tokens
    if not s.matmul_tile_s or not s.mmq_max_tile_columns or not ubatch:
        return 0.0
    full, rest = divmod(tokens, ubatch)
    tiles = full * math.ceil(ubatch / s.mmq_max_tile_columns) + math.ceil(rest / s.mmq_max_tile_columns)
    return ((matmuls_per_step(arch) - 1) * tiles + 1) * s.matmul_tile_s


def expert_padding(engine: Engine, quant: QuantFormat, arch: Architecture, tokens: int) -> float:
    """Columns a prompt's routed-expert tiles multiply per column of work (``physics.tiles``: 512 tokens over
    64 experts, 6 each, run 48-column tiles, and the experts given more than 48 tokens a second one: 1.46);
    1 where the engine does not tile block-quantized experts."""
    s, ubatch = engine.speed, engine.memory.max_batched_tokens
    if not arch.is_moe or not s.mmq_max_tile_columns or not ubatch or not block_quantized(engine, quant):
        return 1.0
    _, experts, per_token = arch.moe_dims
    chunk = min(tokens, ubatch)
    _, columns = expert_tiles(chunk, experts, per_token, s.mmq_tile_column_step, s.mmq_max_tile_columns)
    return columns / (chunk * per_token / experts)


def matmuls_per_step(arch: Architecture) -> int:
    """Weight matmuls a forward pass launches: per layer the attention projections (q, k, v, o; MLA: q, the
    latent's down and up projections, o and the absorbed per-head pair) and the MLP's three (an MoE layer's
    shared experts' three and the routed experts' three), and the output head."""
    attention = 6 if arch.is_mla else 4
    moe = moe_layer_count(arch)
    shared = 3 if arch.n_shared_experts else 0
    return arch.num_hidden_layers * (attention + 3) + moe * shared + 1


def tile_unpack_s(engine: Engine, quant: QuantFormat, tokens: int, weights: float,
                  routed: RoutedExperts | None = None) -> float:
    """Block-quantized prompts (llama.cpp's MMQ): each micro-batch of ``max_batched_tokens`` passes over the
    weights once per output tile of columns (``physics.tiles``: 4 passes for 512 tokens in 128-column tiles;
    a routed expert once per tile of its own tokens), at ``unpack_rate`` (the pass batched decode above 8
    sequences pays too), besides the matmul FLOPs."""
    s, ubatch, rate = engine.speed, engine.memory.max_batched_tokens, unpack_rate(engine, quant)
    if not block_quantized(engine, quant) or not rate or not ubatch:
        return 0.0
    if not s.mmq_max_tile_columns:
        return math.ceil(tokens / ubatch) * weights / rate
    step, widest = s.mmq_tile_column_step, s.mmq_max_tile_columns
    dense_w = weights - (routed.params if routed else 0.0)

    def passes(chunk: int) -> float:  # weights passed over by one micro-batch of ``chunk`` tokens
        p = dense_tiles(chunk, step, widest)[0] * dense_w
        if routed:
            p += expert_tiles(chunk, routed.experts, routed.per_token, step, widest)[0] * routed.params
        return p

    full, rest = divmod(tokens, ubatch)
    return (full * passes(ubatch) + (passes(rest) if rest else 0.0)) / rate


def experts_touched_fraction(arch: Architecture, batch: int) -> float:
    """Expected share of routed experts a decode step of ``batch`` tokens reads (uniform routing)."""
    if not arch.is_moe:
        return 1.0
    _, experts, per_token = arch.moe_dims
    return 1.0 - (1.0 - per_token / experts) ** batch


def default_context(entry: ModelEntry, arch: Architecture) -> int:
    limit = arch.max_position_embeddings
    if entry.context and entry.context.advertised:
        limit = min(limit, entry.context.advertised)
    return min(limit, DEFAULT_CONTEXT_CAP)


# ------------------------------------------------------------------ estimate

@dataclass
class _Notes:
    """What an estimate says of its own basis, gathered while it is computed."""

    facts: list[str] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@record(frozen=True)
class _Setup:
    """What both the estimate and a decode step alone (``decode_step``) compute from: the deployment's
    shape, workload and layout, checked, with its parameter and byte counts and the GPU's rates."""

    arch: Architecture
    assumed: bool
    context: int
    prompt: int
    layout: Layout
    kv_name: str
    kv_args: tuple[float, int, bool]  # bytes per element, GPUs splitting the heads, decompressed MLA cache
    kv_share: int
    p: ParamBreakdown
    wb: WeightBytes
    attention: float  # attention weight bytes (kept 16-bit by some formats)
    rates: Rates
    engine: Engine  # with the GPU vendor's per-layer decode cost (``on_device``)
    touched: float  # share of routed experts a decode step of the batch reads
    host: HostExperts | None  # routed experts llama.cpp keeps in system memory (None: none)
    held: float  # their bytes
    held_params: float  # their parameters


def _setup(d: Deployment, notes: _Notes) -> _Setup:
    """Check ``d`` and count what it holds and reads (an InputError when the engine cannot run it)."""
    arch, assumed = _shape(d, notes)
    engine, gpu, quant = at_version(d.engine, d.gpu, d.engine_version), d.gpu, d.quant
    _check_runs(d, arch)
    context, prompt = _workload(d, arch, notes)
    layout = d.layout if d.layout is not None else choose_layout(arch, engine, d.gpus, d.gpus_per_node)
    check_layout(layout, arch, engine, d.gpus, d.gpus_per_node)
    kv_name, kv_elem = kv_bytes_per_element(d)
    p = count_params(arch)
    wb = weight_bytes(p, quant, arch)
    # KV cache: per GPU, whole context, whole batch; pipeline stages split the layers, attention
    # data-parallel groups split the requests
    kv_args = (kv_elem, layout.attention_tp, engine.memory.decompressed_mla_cache)
    attention = attention_weight_bytes(p.attention, quant)
    return _Setup(arch, assumed, context, prompt, layout, kv_name, kv_args, layout.pp * layout.dp_attention, p, wb,
                  attention, across_nodes(rates_for(gpu, engine, quant), layout.tp, d.gpus_per_node),
                  engine_for(engine, gpu, quant, d.moe_backend),
                  experts_touched_fraction(arch, d.batch), *_held(d, arch))


def decode_rates(gpu: Gpu, engine: Engine, rates: Rates) -> Rates:
    """The rates of a decode step: an older release's matrix-vector kernels read at most ``sm_count`` times
    ``vector_bytes_per_sm_s`` (the bytes they keep in flight per SM over the memory latency), below the bandwidth
    on cards with few SMs per byte/s of bandwidth (HBM); GPUs without an SM count in the catalog are not capped."""
    per_sm = engine.speed.vector_bytes_per_sm_s
    if not per_sm or not gpu.sm_count or gpu.sm_count * per_sm >= rates.bandwidth:
        return rates
    return replace(rates, bandwidth=gpu.sm_count * per_sm)


def _decode_step(d: Deployment, s: _Setup) -> float:
    """One decode step of the batch at the full context: the weights it touches (no embedding table;
    MoE: the experts the batch routes to, less those the CPU reads from system memory, timed apart and
    added) and the KV cache, plus the engine's fixed and kernel costs."""
    arch, p, wb, quant = s.arch, s.p, s.wb, d.quant
    s = replace(s, rates=decode_rates(d.gpu, s.engine, s.rates))
    read_weights = (wb.total - wb.embedding - p.routed_experts * routed_expert_bits(quant, arch) / 8 * (1 - s.touched)
                    - s.held * s.touched)
    attention_s = ggml_decode_attention_s(d, s)
    kv_bytes = 0.0 if attention_s is not None else kv_read_bytes(arch, s.context, *s.kv_args) / s.kv_share * d.batch
    step = decode_step_s(arch, s.engine, s.rates, s.layout,
                         read_bytes_per_gpu=per_gpu(read_weights, s.attention, s.layout) + kv_bytes,
                         linear_flops=2.0 * (p.active - p.embedding) * d.batch,
                         batch=d.batch, context=s.context, compute_dtype=quant.compute_dtype,
                         attention_s=attention_s)
    routed_active = p.routed_experts * arch.moe_dims[2] / arch.moe_dims[1] if arch.is_moe else 0.0
    rate = s.rates.linear_flops
    routed_flops_s = 2.0 * routed_active * d.batch / rate if rate else 0.0
    linear_flops_s = 2.0 * (p.active - p.embedding) * d.batch / rate if rate else 0.0
    step += quantized_decode_extra_s(s.engine, quant, d.batch,
                                     weights=p.total - p.embedding - p.routed_experts * (1 - s.touched)
                                     - s.held_params * s.touched,
                                     read_s=read_weights / s.rates.bandwidth,
                                     linear_flops_s=linear_flops_s / s.layout.gpus,
                                     routed_flops_s=routed_flops_s / s.layout.gpus,
                                     routed=_routed(arch, (p.routed_experts - s.held_params) / s.layout.gpus,
                                                    s.touched),
                                     matmuls=matmuls_per_step(arch), arch=arch, bandwidth=s.rates.bandwidth)
    step += logits_copy_s(s.engine, arch, d.batch)
    step += expert_read_extra_s(s.engine, d.gpu, s.layout,
                                p.routed_experts * routed_expert_bits(quant, arch) / 8 * s.touched)
    step += int4_moe_decode_s(s.engine, quant, d.gpu, arch, s.layout, d.batch)
    return step + (decode_host_s(arch, quant, s.host, d.batch) if s.host else 0.0)


def expert_read_extra_s(engine: Engine, gpu: Gpu, layout: Layout, routed_bytes: float) -> float:
    """What reading the step's routed experts (``routed_bytes``, the whole model's) adds under expert parallel where
    the engine's fused-MoE kernel reads whole experts at ``moe_expert_read_efficiency`` of the datasheet bandwidth
    instead of the step's ``bandwidth_efficiency`` (the bytes are already timed at that): each GPU of a stage reads
    1/tp of them, the stages one after another (docs/method.md, "Decode step", MoE layer)."""
    share = engine.speed.moe_expert_read_efficiency
    if not layout.ep or share is None or not routed_bytes:
        return 0.0
    hbm = gpu.bandwidth_gbs * 1e9
    return routed_bytes / layout.tp / hbm * (1 / share - 1 / bandwidth_efficiency(gpu, engine))


def ggml_decode_attention_s(d: Deployment, s: _Setup) -> float | None:
    """llama.cpp's flash-attention decode kernels over the KV cache on an NVIDIA GPU, one pipeline stage
    (physics/ggml_attention.py); None where they do not apply (MLA, sliding-window or sparse attention, another
    engine or vendor): the cache's bytes at the bandwidth then."""
    speed, arch = s.engine.speed, s.arch
    if (not speed.fattn_head_token_s or d.gpu.vendor != "nvidia" or arch.attention not in ("mha", "gqa")
            or arch.sliding_window):
        return None
    from dsadvisor.physics.ggml_attention import decode_attention_s
    kv_elem, tp, decompressed = s.kv_args
    return decode_attention_s(
        layers=arch.num_hidden_layers / s.layout.pp, q_heads=max(1, arch.num_attention_heads // tp),
        kv_heads=max(1, arch.num_key_value_heads // tp), context=s.context,
        batch=max(1, math.ceil(d.batch / s.layout.dp_attention)),
        kv_bytes_per_token_layer=kv_bytes_per_token(arch, kv_elem, tp, decompressed) / arch.num_hidden_layers,
        quantized_kv=d.kv_format is not None, bandwidth=s.rates.bandwidth, head_token_s=speed.fattn_head_token_s,
        quantized_layer_s=speed.fattn_quantized_layer_s, mma_layer_s=speed.fattn_mma_layer_s,
        mma_token_s=speed.fattn_mma_token_s)


def weight_only_int4(quant: QuantFormat) -> bool:
    """AWQ / GPTQ-style 4-bit weights multiplied in 16 bits (not fp4; GGUF blocks run engines without the term)."""
    return quant.bits_per_weight <= 5 and quant.compute_dtype in ("bf16", "fp16")


def int4_moe_decode_s(engine: Engine, quant: QuantFormat, gpu: Gpu, arch: Architecture, layout: Layout,
                      batch: int) -> float:
    """What the engine's wna16 MoE kernel adds to a decode step of 4-bit experts besides their bytes: a floor per
    MoE layer and a cost per (token, routed expert) pair, a tensor-parallel slice of an expert taking 1/tp of a
    whole one's (expert parallel: whole experts, the pairs spread over the GPUs); measured on a GPU of
    ``int4_moe_reference_gbs`` and scaled by HBM bandwidth (catalog/engines/engines.yaml, docs/method.md)."""
    s = engine.speed
    if not arch.is_moe or s.int4_moe_decode_floor_s is None or not weight_only_int4(quant):
        return 0.0
    pairs = batch * arch.moe_dims[2]
    per_pair = s.int4_moe_decode_pair_s or 0.0
    pair_s = pairs * per_pair / layout.tp
    scale = (s.int4_moe_reference_gbs or gpu.bandwidth_gbs) / gpu.bandwidth_gbs
    return moe_layer_count(arch) * (s.int4_moe_decode_floor_s + pair_s) * scale


def _prefill_s(d: Deployment, s: _Setup, batch: int) -> float | None:
    """Seconds to prefill ``batch`` prompts together (None: the GPU has no FLOP rate in the catalog)."""
    arch, layout, p, engine, quant = s.arch, s.layout, s.p, s.engine, d.quant
    prefill_flops = 2.0 * (p.active - p.embedding - p.lm_head) * s.prompt + 2.0 * p.lm_head
    t = prefill_s(arch, engine, s.rates, layout, linear_flops=prefill_flops * batch,
                  attention_s=kq_attention_s(d, s, batch) if engine.speed.prefill_kq_materialized else None,
                  weight_bytes_per_gpu=(s.wb.total - s.held) / layout.gpus, batch=batch, tokens=s.prompt,
                  expert_flops=2.0 * p.active_routed * s.prompt * batch,
                  expert_efficiency=expert_efficiency(engine, quant)
                  / expert_padding(engine, quant, arch, s.prompt),
                  attention_linear_flops=2.0 * p.attention * s.prompt * batch, compute_dtype=quant.compute_dtype)
    if t is None:
        return None
    dequantize = 0.0
    if engine.speed.quantized_prefill_dequantized and block_quantized(engine, quant):  # an older release
        per_sm = engine.speed.dequant_fp16_weights_per_sm_s.get(quant.id)
        # the prompt's last token alone reaches the output matrix (one column: the matrix-vector kernel)
        dequantize = dequantize_pass_s(quant.bits_per_weight, (p.total - p.embedding - p.lm_head) / layout.gpus,
                                       batch * s.prompt, engine.memory.max_batched_tokens or 0, s.rates.bandwidth,
                                       d.gpu.sm_count * per_sm if per_sm and d.gpu.sm_count else None)
    else:  # with op offload the host-held experts are unpacked on the GPU too: every weight counts
        t += tile_unpack_s(engine, quant, batch * s.prompt, (p.total - p.embedding) / layout.gpus,
                           _routed(arch, p.routed_experts / layout.gpus, 1.0))
    t += matmul_tiles_s(engine, arch, batch * s.prompt)
    # an older release's own kernels around the modelled ones (1: the modelled release); its dequantizing pass
    # is timed on its own
    t = t / engine.speed.prefill_rate_share + dequantize
    return t + prefill_host_s(arch, quant, s.host, s.prompt * batch) if s.host else t


def kq_attention_s(d: Deployment, s: _Setup, batch: int) -> float | None:
    """Prompt attention of an older release without flash attention: per micro-batch two batched 16-bit GEMMs
    over the whole rectangle of queries x keys so far (KQ, then KQV; cuBLAS with the weights' F16 GEMM
    settings) at the device's F16 GEMM rate, and the KQ matrix moved through memory between them."""
    heads = s.arch.num_attention_heads // s.layout.attention_tp
    ubatch = s.engine.memory.max_batched_tokens or 0
    rate = gemm_rate(d.gpu, s.engine, "fp16")
    if not rate:
        return None
    flops = kq_gemm_flops(heads, attention_dims(s.arch), s.arch.num_hidden_layers, s.prompt, ubatch)
    return batch * (flops / rate + kq_materialized_s(heads, s.arch.num_hidden_layers, s.prompt, ubatch,
                                                     s.rates.bandwidth))


def prefill_time(d: Deployment) -> float | None:
    """``estimate(d).ttft_s`` alone (all ``d.batch`` prompts prefilled together), with the same checks: the
    serving model needs a batched prefill beside the estimates it has (``serving.server.serve``), and the
    memory plan, decode step and notes of a whole estimate would be thrown away."""
    return _prefill_s(d, _setup(d, _Notes()), d.batch)


def _kv_per_gpu(d: Deployment, s: _Setup, mtp_kv: float) -> float:
    """The KV cache one GPU holds: every sequence of the batch at the full context (``mtp_kv``: the MTP layers'
    share on top)."""
    return kv_cache_bytes(s.arch, s.context, *s.kv_args) / s.kv_share * d.batch * mtp_kv


def kv_cache_per_gpu(d: Deployment) -> float:
    """``estimate(d).memory.kv_cache`` alone, with the same checks: the layout search needs the running batch's
    KV cache at each concurrency, not the rest of a whole estimate (``serving.server.serve_figures``)."""
    notes = _Notes()
    s = _setup(d, notes)
    return _kv_per_gpu(d, s, _mtp_memory(s.layout, s.arch, s.p, d.quant, notes)[1])


def _routed(arch: Architecture, params: float, touched: float) -> RoutedExperts | None:
    if not arch.is_moe:
        return None
    _, experts, per_token = arch.moe_dims
    return RoutedExperts(params, touched, experts, per_token, moe_layer_count(arch))


def logits_copy_s(engine: Engine, arch: Architecture, batch: int) -> float:
    """Copying each sequence's logits (vocabulary x 4 bytes, float32) to host memory after a decode step, where
    the engine samples on the CPU (llama.cpp)."""
    per_s = engine.speed.logits_host_bytes_per_s
    return batch * arch.vocab_size * 4 / per_s if per_s else 0.0


def decode_step(d: Deployment) -> float:
    """``estimate(d).decode_step_s`` alone, with the same checks: the serving model needs the step at
    the mean context of an answer beside the estimate it already has (``serving.server.serve``), and
    the memory plan, prefill and notes of a second estimate would be thrown away."""
    return _decode_step(d, _setup(d, _Notes()))


def estimate(d: Deployment) -> Estimate:
    """Memory per GPU, time to first token and one decode step of deployment ``d``."""
    notes = _Notes()
    s = _setup(d, notes)
    arch, layout, p, wb, engine, gpu, quant = s.arch, s.layout, s.p, s.wb, s.engine, d.gpu, d.quant
    plan = _plan(d, s, notes)
    step = _decode_step(d, s)
    ttft = _prefill_s(d, s, d.batch)
    ttft1 = ttft if d.batch == 1 else _prefill_s(d, s, 1)
    _explain(d, arch, layout, s.touched, ttft, notes, s.host, s.held, mean_bits(p, wb))
    return Estimate(
        model_id=d.model.id, status=d.model.status, gpu_id=gpu.id, gpus=layout.gpus,
        tp=layout.tp, pp=layout.pp, ep=layout.ep, dp_attention=layout.dp_attention, nodes=math.ceil(d.gpus / d.gpus_per_node), quant_id=quant.id,
        kv_dtype=s.kv_name, engine_id=engine.id, context=s.context, prompt_tokens=s.prompt, batch=d.batch,
        params_total=p.total, params_active=p.active, architecture_assumed=s.assumed,
        memory=plan, ttft_s=ttft, ttft_single_s=ttft1, decode_step_s=step,
        basis=Basis(tuple(notes.facts), tuple(notes.assumptions), tuple(_seed_claims(d.model)),
                    tuple(notes.warnings)),
        cpu_moe_layers=s.host.layers if s.host else 0, host_bytes=s.held,
        mtp=layout.mtp,
    )


def _plan(d: Deployment, s: _Setup, notes: _Notes) -> MemoryPlan:
    """What each GPU holds: the weights (and the MTP module's when --mtp loads it), the KV cache, activations."""
    arch, layout, quant = s.arch, s.layout, d.quant
    mtp_weights, mtp_kv = _mtp_memory(layout, arch, s.p, quant, notes)  # loaded only to draft (--mtp)
    kv_tok = kv_bytes_per_token(arch, *s.kv_args) / s.kv_share * mtp_kv
    kv_per_gpu = _kv_per_gpu(d, s, mtp_kv)
    gpu_weights = per_gpu(s.wb.total + mtp_weights - s.held, s.attention, layout) + staging_bytes(arch, quant, s.host)
    return _memory(d, arch, layout, gpu_weights, kv_per_gpu, kv_tok, s.prompt)


@record(frozen=True)
class Sizing:
    """What ``estimate(d)`` says a deployment holds, without its timing (``sizing``)."""

    memory: MemoryPlan
    params_total: int
    architecture_assumed: bool


def sizing(d: Deployment) -> Sizing:
    """``estimate(d)``'s memory plan, total parameters and whether the shape was assumed, with the same checks,
    without timing a decode step and the prompts: the audit's check of an article's hardware advice reads only
    these (40 estimates of every ``recommend``, for the described variants' notes)."""
    notes = _Notes()
    s = _setup(d, notes)
    return Sizing(_plan(d, s, notes), s.p.total, s.assumed)


def _check_runs(d: Deployment, arch: Architecture) -> None:
    """An InputError when the engine cannot run the model's attention or the format, or the batch is empty."""
    engine, quant = d.engine, d.quant
    if arch.attention not in engine.attention:
        raise InputError(f"{engine.name} does not run {arch.attention.upper()} attention")
    if quant.id not in engine.formats:
        raise InputError(f"{engine.name} does not run {quant.id} weights (it runs {', '.join(engine.formats)})")
    if d.batch < 1:
        raise InputError("--batch must be at least 1")


def _held(d: Deployment, arch: Architecture) -> tuple[HostExperts | None, float, float]:
    """The routed experts kept in system memory, their bytes and their parameters (None, 0, 0: none)."""
    host = d.host_experts
    if host is None or not host.layers or not arch.is_moe:
        return None, 0.0, 0.0
    return host, host_bytes(arch, d.quant, host.layers), host.layers * layer_expert_params(arch)


def _mtp_memory(layout: Layout, arch: Architecture, p: ParamBreakdown, quant: QuantFormat,
                notes: _Notes) -> tuple[float, float]:
    """Bytes of the MTP module's weights (all of it on every GPU's share, as the main layers) and the
    factor its KV cache grows the main model's by (one more layer per MTP layer), when --mtp loads it."""
    mtp_params = p.mtp
    if not mtp_params:
        return 0.0, 1.0
    if not layout.mtp:
        notes.assumptions.append("the multi-token-prediction module is not loaded (no speculative decoding)")
        return 0.0, 1.0
    notes.assumptions.append(f"MTP speculative decoding: {layout.mtp} draft token(s) a step; the MTP module "
                             f"({mtp_params / 1e9:.1f}B) is loaded and keeps its own KV cache")
    extra_layers = arch.num_nextn_predict_layers
    return mtp_module_bytes(p, quant, arch), (arch.num_hidden_layers + extra_layers) / arch.num_hidden_layers


def _shape(d: Deployment, notes: _Notes) -> tuple[Architecture, bool]:
    """The architecture to estimate with, and whether it was assumed from a claimed size."""
    if d.architecture is not None:
        notes.facts.append(f"architecture: {d.architecture.source}")
        return d.architecture, False
    arch, said = assumed_architecture(d.model)
    notes.assumptions.extend(said)
    return arch, True


def _workload(d: Deployment, arch: Architecture, notes: _Notes) -> tuple[int, int]:
    """Tokens per sequence and prompt tokens, defaulted and checked."""
    context = d.context or default_context(d.model, arch)
    if d.context is None:
        notes.assumptions.append(f"context {context} tokens per sequence (default: the advertised context, at "
                                 f"most {DEFAULT_CONTEXT_CAP})")
    if context < 1:
        raise InputError("--context must be at least 1 token")
    if context > arch.max_position_embeddings:
        notes.warnings.append(f"context {context} exceeds the configured maximum {arch.max_position_embeddings}")
    prompt = d.prompt_tokens or min(DEFAULT_PROMPT, context)
    if prompt > context:
        raise InputError(f"--prompt-tokens {prompt} exceeds --context {context}")
    return context, prompt


def _memory(d: Deployment, arch: Architecture, layout: Layout, weights_per_gpu: float, kv_per_gpu: float,
            kv_tok: float, prompt: int) -> MemoryPlan:
    """What each GPU holds. Activations: engines that profile reserve their batched-token budget;
    others hold the prompts themselves."""
    mem = d.engine.memory
    if mem.policy == "fraction_of_total" and mem.max_batched_tokens:
        act = activation_bytes(arch, mem.max_batched_tokens, layout.tp) + profile_logit_bytes(arch, layout.tp)
    else:
        tokens = d.batch * prompt if not mem.max_batched_tokens else min(d.batch * prompt, mem.max_batched_tokens)
        act = activation_bytes(arch, tokens, layout.tp)
    capacity = d.capacity_bytes if d.capacity_bytes is not None else capacity_bytes(d.gpu)
    return plan_memory(d.engine, weights_per_gpu=weights_per_gpu, kv_per_gpu=kv_per_gpu,
                       kv_per_token_per_gpu=kv_tok, activations=act, capacity=capacity,
                       gpus=layout.gpus, memory_fraction=d.memory_fraction, moe=arch.is_moe)


def _explain(d: Deployment, arch: Architecture, layout: Layout, touched: float, ttft: float | None,
             notes: _Notes, host: HostExperts | None = None, held: float = 0.0, bits: float = 0.0) -> None:
    """The figures the estimate used, what it assumed, and what the user should know (``bits``: what the
    model's weights average in the format)."""
    if host:
        _explain_host(arch, host, held, notes)
    gpu, quant, engine = d.gpu, d.quant, d.engine
    # a mix's nominal figure is its main block's: the model's own average says what its file holds
    mix = f" (its tensor classes average {bits:.2f} for this model)" if quant.tensor_bits and bits else ""
    notes.facts += [
        f"GPU {gpu.id}: {gpu.bandwidth_gbs:g} GB/s, {gpu.bf16_tflops or gpu.fp16_tflops or 'unknown'} "
        f"TFLOPS 16-bit ({gpu.source})",
        f"format {quant.id}: {quant.bits_per_weight:g} bits per weight{mix}"
        + (f", routed experts {quant.expert_bits:g}" if quant.expert_bits_per_weight else "") + f" ({quant.source})",
        f"engine {engine.id}: memory {engine.memory.policy} ({engine.memory.source}); speed ({engine.speed.source})",
    ]
    if engine.memory.version:
        notes.facts.append(f"engine {engine.id} version modelled: {engine.memory.version}")
    notes.facts += version_notes(engine, gpu, d.engine_version)
    notes.assumptions += [
        "decode step timed at the full context (the slowest step of a sequence)",
        "time to first token: all batch prompts prefilled together (ttft_single_s: one alone)",
    ]
    if arch.is_moe:
        notes.assumptions.append(f"MoE decode reads {touched:.0%} of routed experts at batch {d.batch} "
                                 "(uniform routing)")
    if arch.attention in ("mla-sparse", "csa-hca"):
        notes.assumptions.append(f"sparse attention: each query attends to at most {arch.index_topk} selected "
                                 "entries; the indexer scores every cached key (docs/method.md)")
    if quant.compute_dtype in ("fp8", "int8") and dtype_rate(gpu, quant.compute_dtype) == dtype_rate(gpu, "bf16"):
        notes.warnings.append(f"{gpu.id} has no {quant.compute_dtype} tensor cores: {quant.id} runs weight-only, "
                              "matmuls at the 16-bit rate")
    if quant.needs_dtypes and not set(quant.needs_dtypes) & set(gpu.dtypes):
        notes.warnings.append(f"{quant.id} needs {'/'.join(quant.needs_dtypes)} support, which {gpu.id} lacks")
    if ttft is None:
        notes.warnings.append(f"{gpu.id} has no FLOP rate in the catalog: time to first token unknown")
    _unmeasured_decode(d, arch, layout, notes)


def _explain_host(arch: Architecture, host: HostExperts, held: float, notes: _Notes) -> None:
    """What expert offload assumed: the host's memory system, the PCIe copies of a prompt."""
    from dsadvisor.physics.offload import OP_OFFLOAD_MIN_BATCH, PCIE_COPY_EFFICIENCY, UBATCH
    from dsadvisor.physics.params import moe_layer_count

    h = host.host
    notes.facts.append(
        f"routed experts of {host.layers} of {moe_layer_count(arch)} MoE layers ({held / 1e9:.1f} GB) in system "
        f"memory (llama.cpp --n-cpu-moe); the CPU reads a token's experts at {host.bandwidth / 1e9:.0f} GB/s: "
        f"{h.name}, {h.bandwidth_gbs:g} GB/s x {h.bandwidth_efficiency or 1:g} ({h.source.split(';')[0]})")
    notes.assumptions.append(
        f"prompts: each {UBATCH}-token micro-batch copies the host-held experts it routes to over PCIe "
        f"({host.pcie_gbs:g} GB/s x {PCIE_COPY_EFFICIENCY:g}) and multiplies them on the GPU (ggml op offload, "
        f"from {OP_OFFLOAD_MIN_BATCH} tokens); decode: the CPU's read and the GPU's layers one after the other")


def _unmeasured_decode(d: Deployment, arch: Architecture, layout: Layout, notes: _Notes) -> None:
    """Decode setups the engines' measured kernels do not cover, with the published rows that show the gap
    (benchmarks/data/published/datacenter-published.jsonl, docs/method.md)."""
    if layout.tp > d.gpus_per_node and layout.tp > 1:
        notes.warnings.append(f"tensor parallel {layout.tp} spans nodes: every all-reduce is NCCL over the network, "
                              "taken at InfiniBand's latency (nccl-tests; not measured here), and an Ethernet fabric "
                              "is slower (Google Cloud's GPUDirect-TCPXO: 123-139 us a small all-reduce on 2 x 8 H100, "
                              "4x); published single-request R1 on 16 x H100 (SGLang, TP 16) still decodes at "
                              "0.3-0.45x the estimated speed")
    if arch.is_moe and weight_only_int4(d.quant) and d.engine.id in ("vllm", "sglang", "tensorrt-llm"):
        if d.engine.speed.int4_moe_decode_floor_s is None:
            notes.warnings.append(f"{d.quant.id} experts run a 4-bit MoE kernel that is not measured for "
                                  f"{d.engine.name}; vLLM's (published, 8 x A100) adds 2-4x to a DeepSeek decode step")
        else:
            notes.assumptions.append(f"{d.quant.id} experts: {d.engine.name}'s 4-bit MoE kernel cost from its pull "
                                     "request's DeepSeek-V3-AWQ table on 8 x A100 (vllm PR 13321), scaled by HBM "
                                     "bandwidth to this GPU")


SPEED_AND_MEMORY_CLAIMS = {"decode_tokens_per_s", "latency_ms", "first_token_latency_ms", "memory_gb",
                           "model_size_gb", "throughput"}


def _seed_claims(entry: ModelEntry):
    for c in entry.claims:
        if c.field in SPEED_AND_MEMORY_CLAIMS:
            cond = f" ({c.condition})" if c.condition else ""
            yield f"{c.field} = {c.value}{' ' + c.unit if c.unit else ''}{cond}, claimed by {c.source}"


def host_link_gbs(gpu: Gpu) -> float:
    """The GPU's host link as rated: its PCIe entry, else PCIe 4.0 x16 (an NVLink entry names the link
    between GPUs, not the one to the CPU)."""
    link = gpu.interconnect
    return link.bandwidth_gbs if link and link.kind == "pcie" and link.bandwidth_gbs else PCIE_GEN4_GBS


def offload_experts(d: Deployment, est: Estimate, host: Gpu, host_memory: float) -> tuple[Deployment, Estimate] | None:
    """``d`` with the fewest MoE layers' routed experts in system memory (llama.cpp --n-cpu-moe) that make it
    fit on its GPUs, and its estimate; None when it fits already, has no experts to move, runs on unified
    memory (one pool: nothing to move to), or when the experts it must move exceed ``host_memory`` (bytes
    of system memory, HOST_MEMORY_USABLE of it usable) or moving them all is not enough."""
    from dsadvisor.physics.offload import HOST_MEMORY_USABLE, layers_to_free
    from dsadvisor.physics.params import moe_layer_count

    arch = d.architecture
    if arch is None or not arch.is_moe or est.memory.fits or d.gpu.unified_memory:
        return None
    m = est.memory
    layers = layers_to_free(arch, d.quant, (m.per_gpu - m.usable) * est.gpus)
    while 0 < layers <= moe_layer_count(arch):
        if host_bytes(arch, d.quant, layers) > host_memory * HOST_MEMORY_USABLE:
            return None
        moved = replace(d, host_experts=HostExperts(layers, host, host_link_gbs(d.gpu)))
        e = estimate(moved)
        if e.memory.fits:
            return moved, e
        # still over: free what is left, at least one more layer
        layers += max(1, layers_to_free(arch, d.quant, (e.memory.per_gpu - e.memory.usable) * e.gpus) - 1)
    return None
