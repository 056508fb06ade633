"""What one deployment costs: model x format x KV dtype x GPU x GPU count x engine x context x batch.

``estimate(deployment)`` returns an ``Estimate`` whose ``as_dict()`` is the JSON
contract documented in docs/json.md. A ``Deployment`` holds everything the estimate
computes from; ``Deployment.of(catalog, ...)`` looks those things up in a catalog. Every estimate carries its basis:
the facts it used, what it assumed, and the articles' own claims beside it.

Layer 2 (physics), read after ``physics.deployment`` (the ``Deployment``, its layout and KV cache rules) and
``physics.decode_kernels`` (what llama.cpp's matmul kernels add), whose names it still exports.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from dsadvisor.catalog.assumed import assumed_architecture
from dsadvisor.errors import InputError
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
from dsadvisor.physics.versions import (at_version, dequantize_pass_s, kq_gemm_flops, kq_materialized_s,
                                       version_notes)
from dsadvisor.catalog.schema import SCHEMA_VERSION, Architecture, Engine, Gpu, ModelEntry, QuantFormat
from dsadvisor.physics.rates import (PCIE_GEN4_GBS, bandwidth_efficiency, block_quantized, dtype_rate,
                                     engine_for, expert_efficiency, gemm_rate, kernel_format, rates_for)
from dsadvisor.physics.offload import (HostExperts, decode_host_s, host_bytes, layer_expert_params,
                                       prefill_host_s, staging_bytes)
from dsadvisor.physics.timing import Layout, Rates, across_nodes, attention_dims, decode_step_s, prefill_s
from dsadvisor.physics.deployment import Deployment, check_layout, choose_layout, kv_bytes_per_element, per_gpu
from dsadvisor.physics.decode_kernels import (RoutedExperts, expert_padding, experts_touched_fraction, matmul_tiles_s,
                                              matmuls_per_step, quantized_decode_extra_s, tile_unpack_s)
from dsadvisor.records import record, replace
# names defined or imported here before they moved to their own modules, still imported from here
from dsadvisor.physics.rates import decode_allreduce, dequant_rate, for_format, on_device  # noqa: F401
from dsadvisor.physics.deployment import (KV_16BIT, KV_SHORT, MAX_MTP_DRAFT_TOKENS,  # noqa: F401
                                          auto_kv_dtype, check_mtp, default_ep, kv_format, pin_layout)
from dsadvisor.physics.decode_kernels import f16_batched_s, mmq_decode_s  # noqa: F401

DEFAULT_CONTEXT_CAP = 8192  # a sensible default, not the model's maximum (llmfit #302)
DEFAULT_PROMPT = 2048
# The answer a longer --prompt-tokens gets room for when --context is not given: the chat turn's 512-token
# answer (serving.workload.DEFAULT_OUTPUT_TOKENS takes it from here), so a 9000-token prompt is sized at
# 9512 tokens rather than refused against a default it never asked for.
DEFAULT_ANSWER = 512


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

def default_context(entry: ModelEntry, arch: Architecture, prompt: int | None = None) -> int:
    """Tokens per sequence when --context is not given: the advertised context, at most DEFAULT_CONTEXT_CAP,
    or, for a longer ``prompt``, the prompt and a DEFAULT_ANSWER-token answer (still within the model's)."""
    limit = arch.max_position_embeddings
    if entry.context and entry.context.advertised:
        limit = min(limit, entry.context.advertised)
    return min(limit, max(DEFAULT_CONTEXT_CAP, (prompt or 0) + DEFAULT_ANSWER))


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
        per_sm = engine.speed.dequant_fp16_weights_per_sm_s.get(kernel_format(engine, quant))
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
    context = d.context or default_context(d.model, arch, d.prompt_tokens)
    if d.context is None:
        notes.assumptions.append(f"context {context} tokens per sequence (default: " + (
            f"the prompt and a {DEFAULT_ANSWER}-token answer)" if context > DEFAULT_CONTEXT_CAP else
            f"the advertised context, at most {DEFAULT_CONTEXT_CAP})"))
    if context < 1:
        raise InputError("--context must be at least 1 token")
    if context > arch.max_position_embeddings:
        notes.warnings.append(f"context {context} exceeds the configured maximum {arch.max_position_embeddings}")
    prompt = d.prompt_tokens or min(DEFAULT_PROMPT, context)
    if prompt > context:
        raise InputError(f"--prompt-tokens {prompt} exceeds --context {context}" if d.context else
                         f"--prompt-tokens {prompt} exceeds the model's context, {context} tokens")
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
