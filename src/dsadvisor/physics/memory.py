"""Bytes a deployment holds: weights, KV cache, activations, and engine overheads.

Pure functions of an architecture, a format and a parallel layout. docs/method.md
derives every formula; the constants below say what measured them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from dsadvisor.physics.params import ParamBreakdown
from dsadvisor.catalog.schema import Architecture, Engine, QuantFormat

GB = 1e9
GIB = 2**30

# Transient activations of a prefill, per token: the MLP's gate, up and act
# outputs (3 x intermediate) and ~4 hidden-sized tensors (residual, normed input,
# attention output, fp32 norm temporaries), in 16-bit. Measured: the
# prefill_peak_over_weights - KV of the 20 H100 transformers rows is
# T x (2.97 I + 4.24 h) x 2 B within 2% (shared/calibration, fit in docs/method.md).
ACT_INTERMEDIATE_PER_TOKEN = 3.0
ACT_HIDDEN_PER_TOKEN = 4.0
# The caching allocator keeps ~10% more than the activations' peak in split
# blocks it cannot hand back (fitted: reserved_end over the peak, same 20 rows).
ALLOCATOR_SLACK = 0.10
# MoE layers allocate per-expert token batches of every size, and the pool ends
# up holding about twice their peak: held-out V2-Lite rows, reserved_end - weights
# - KV = 2.0 x the prefill transient (benchmarks/gpu/results; not in the fit above).
MOE_ALLOCATOR_SLACK = 1.0
# vLLM's CUDA graphs: min(3, max(0.5, 0.1 x weights GB)) GB per GPU (vllm-fit's
# rule, from its measurements; peers.md). Not measured here.
CUDA_GRAPH_MIN_GB, CUDA_GRAPH_MAX_GB, CUDA_GRAPH_WEIGHT_FRACTION = 0.5, 3.0, 0.1
# Logits of the sampler's profiling pass: vLLM profiles max_num_seqs (256)
# sequences' logits in fp32 (vLLM's gpu_model_runner profile_run).
PROFILE_SEQUENCES, LOGIT_BYTES = 256, 4


@dataclass(frozen=True)
class WeightBytes:
    total: int  # whole model, all GPUs
    quantized: int  # linear layers stored in the format
    kept_16bit: int  # embeddings / head / norms the format leaves in 16 bits
    embedding: int  # the input table: looked up, not read whole, per step


def weight_bytes(p: ParamBreakdown, fmt: QuantFormat) -> WeightBytes:
    """Quantized linear weights at the format's bits (scales included); what it keeps in 16 bits at 2 B."""
    keep = set(fmt.kept_16bit)
    kept = p.norms
    kept += p.embedding if "embeddings" in keep else 0
    kept += p.lm_head if "lm_head" in keep else 0
    kept += p.router if "router" in keep else 0
    kept += p.attention if "attention" in keep else 0
    quantized = p.total - kept
    qbytes = int(quantized * fmt.bits_per_weight / 8)
    emb_bits = 16 if "embeddings" in keep else fmt.bits_per_weight
    return WeightBytes(
        total=qbytes + 2 * kept,
        quantized=qbytes,
        kept_16bit=2 * kept,
        embedding=int(p.embedding * emb_bits / 8),
    )


def kv_heads_per_gpu(arch: Architecture, tp: int) -> int:
    """GQA splits kv heads across tensor-parallel ranks; fewer heads than ranks are replicated."""
    return max(1, math.ceil(arch.num_key_value_heads / tp))


def kv_bytes_per_token(arch: Architecture, kv_bytes: float, tp: int = 1, decompressed_mla: bool = False) -> float:
    """KV cache one token takes on one GPU, all layers (pipeline stages divide this further).

    MHA/GQA: K and V per kv head. MLA: one latent (kv_lora_rank) plus one shared
    RoPE key per layer, replicated on every tensor-parallel rank since it has no
    heads to split -- unless the engine decompresses it (transformers keeps
    per-head K of nope+rope and V of v_head_dim).
    """
    layers = arch.num_hidden_layers
    if arch.attention == "mla":
        if decompressed_mla:
            heads = math.ceil(arch.num_attention_heads / tp)
            per_layer = heads * (arch.qk_nope_head_dim + arch.qk_rope_head_dim + arch.v_head_dim)
        else:
            per_layer = arch.kv_lora_rank + arch.qk_rope_head_dim
    else:
        per_layer = 2 * kv_heads_per_gpu(arch, tp) * arch.head_dim
    return layers * per_layer * kv_bytes


def cached_tokens(arch: Architecture, context: int) -> int:
    """Tokens each layer keeps: a sliding window caps them."""
    return min(context, arch.sliding_window) if arch.sliding_window else context


def activation_bytes(arch: Architecture, tokens: int, tp: int, act_bytes: int = 2) -> float:
    """Peak transient activations of one prefill pass over ``tokens`` tokens, per GPU.

    Dense layer: the MLP's gate, up and act outputs (3 x intermediate) and ~4
    hidden-sized tensors. MoE layer: the same for the top-k and shared experts, plus
    the token copies dispatched to and gathered from the k experts (2 x k x hidden).
    MLA: the per-head query, key and value it expands from the latent for the layer
    being computed. The intermediate splits across tensor-parallel ranks.
    """
    h = arch.hidden_size
    per_token = ACT_INTERMEDIATE_PER_TOKEN * arch.intermediate_size / tp + ACT_HIDDEN_PER_TOKEN * h
    if arch.is_moe:
        experts = (arch.num_experts_per_tok + arch.n_shared_experts) * arch.moe_intermediate_size
        moe = ACT_INTERMEDIATE_PER_TOKEN * experts / tp + 2 * arch.num_experts_per_tok * h + ACT_HIDDEN_PER_TOKEN * h
        per_token = max(per_token, moe)
    if arch.attention == "mla":
        qk = arch.qk_nope_head_dim + arch.qk_rope_head_dim
        per_token += arch.num_attention_heads / tp * (2 * qk + arch.v_head_dim)
    return tokens * per_token * act_bytes


def cuda_graph_bytes(weights_per_gpu: float) -> float:
    gb = min(CUDA_GRAPH_MAX_GB, max(CUDA_GRAPH_MIN_GB, CUDA_GRAPH_WEIGHT_FRACTION * weights_per_gpu / GB))
    return gb * GB


def profile_logit_bytes(arch: Architecture, tp: int) -> float:
    return PROFILE_SEQUENCES * arch.vocab_size / tp * LOGIT_BYTES


@dataclass(frozen=True)
class MemoryPlan:
    weights: float
    kv_cache: float
    activations: float
    overhead: float
    per_gpu: float  # what this deployment needs on each GPU
    capacity: float  # the GPU's memory (free memory when detected)
    usable: float  # what the engine lets itself take of it
    fits: bool
    kv_capacity_tokens: int  # tokens of KV the engine could hold in what is left (per sequence, all seqs)


def plan_memory(
    engine: Engine,
    *,
    weights_per_gpu: float,
    kv_per_gpu: float,
    kv_per_token_per_gpu: float,
    activations: float,
    capacity: float,
    gpus: int,
    memory_fraction: float | None = None,
    moe: bool = False,
) -> MemoryPlan:
    """Add the engine's overheads and judge the fit the way that engine reserves memory.

    - fraction_of_total (vLLM, SGLang): everything must fit in fraction x total.
    - fraction_of_free (TensorRT-LLM): weights and runtime first; the KV cache
      gets the fraction of what is then free.
    - on_demand (transformers, llama.cpp): everything must fit in the whole card.
    """
    mem = engine.memory
    overhead = mem.runtime_overhead_gb * GB
    if mem.cuda_graphs:
        overhead += cuda_graph_bytes(weights_per_gpu)
    if gpus > 1:
        overhead += mem.comm_buffer_gb * GB
    kv = kv_per_gpu
    if mem.kv_duplicated_during_decode:
        # torch.cat grows the cache into new blocks; the old ones stay cached, so
        # the pool holds the larger of a second KV copy and the prefill transients
        slack = MOE_ALLOCATOR_SLACK if moe else ALLOCATOR_SLACK
        transient = max(kv_per_gpu, activations * (1 + slack))
    else:
        transient = activations
    need = weights_per_gpu + kv + transient + overhead
    fraction = memory_fraction or mem.default_fraction or 1.0
    if mem.policy == "fraction_of_total":
        usable = capacity * fraction
        fits = need <= usable
        left = usable - (need - kv)
    elif mem.policy == "fraction_of_free":
        free_after_load = capacity - (weights_per_gpu + transient + overhead)
        left = free_after_load * fraction
        usable = capacity - (1 - fraction) * max(0.0, free_after_load)
        fits = free_after_load > 0 and kv <= left
    else:
        usable = capacity
        fits = need <= usable
        left = usable - (need - kv)
    kv_tokens = int(max(0.0, left) / kv_per_token_per_gpu) if kv_per_token_per_gpu > 0 else 0
    return MemoryPlan(
        weights=weights_per_gpu,
        kv_cache=kv,
        activations=transient,
        overhead=overhead,
        per_gpu=need,
        capacity=capacity,
        usable=usable,
        fits=fits,
        kv_capacity_tokens=kv_tokens,
    )
