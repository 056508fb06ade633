"""Bytes a deployment holds: weights, KV cache, activations, and engine overheads.

Pure functions of an architecture, a format and a parallel layout. docs/method.md
derives every formula; the constants below say what measured them.
"""

from __future__ import annotations

import math

from dsadvisor.physics.params import ParamBreakdown
from dsadvisor.catalog.schema import Architecture, Engine, QuantFormat
from dsadvisor.kept import kept_by_identity
from dsadvisor.records import record

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
# DeepSeek Sparse Attention's indexer cache (V3.2): index_head_dim FP8 values plus one fp32 scale per
# 128 values, per token and layer, whatever the main cache's dtype (DeepSeek's V3.2-Exp inference code
# quantizes the indexer keys to FP8 with 128-wide blocks; aiconfigurator-core's indexer_cache_entry_bytes
# counts the same 132 bytes). V4's CSA indexer keeps FP4 keys: index_head_dim / 2 bytes per compressed
# entry (aiconfigurator-core's deepseek_v4_indexer_cache_entry_bytes). Read from code, not measured here.
INDEXER_FP8_BLOCK, INDEXER_SCALE_BYTES = 128, 4
V4_INDEXER_BYTES_PER_DIM = 0.5
CUDA_GRAPH_MIN_GB, CUDA_GRAPH_MAX_GB, CUDA_GRAPH_WEIGHT_FRACTION = 0.5, 3.0, 0.1
# Logits of the sampler's profiling pass: vLLM profiles max_num_seqs (256)
# sequences' logits in fp32 (vLLM's gpu_model_runner profile_run).
PROFILE_SEQUENCES, LOGIT_BYTES = 256, 4


@record(frozen=True)
class WeightBytes:
    total: int  # whole model, all GPUs
    quantized: int  # linear layers stored in the format
    kept_16bit: int  # embeddings / head / norms the format leaves in 16 bits
    embedding: int  # the input table: looked up, not read whole, per step


SUPER_BLOCK = 256  # weights per k-quant super-block: a row must divide into them (llama.cpp QK_K)


# A mixed format may give the MLPs of one kind of layer their own bits (Unsloth's dynamic GGUFs keep the
# shared experts and the leading dense layers at 6 bits and drop only the routed experts): the class
# "<kind>_gate_up" / "<kind>_down" with kind expert, shared or dense; absent, the plain mlp_* class counts.
MLP_KINDS = ("expert", "shared", "dense")


def _class_bits(fmt: QuantFormat, cls: str, width: int | None = None) -> float:
    bits = fmt.tensor_bits
    if cls in bits:
        return bits[cls]
    base = "mlp_" + cls.split("_", 1)[1] if cls.startswith(MLP_KINDS) else cls
    if base == "mlp_down" and width is not None and width % SUPER_BLOCK and "mlp_down_unaligned" in bits:
        return bits["mlp_down_unaligned"]
    return bits.get(base, fmt.bits_per_weight)


def _mlp_bits(fmt: QuantFormat, width: int | None, kind: str = "mlp") -> float:
    """An MLP's gate, up and down projections (same size each): two thirds gate/up, one third down."""
    return (2 * _class_bits(fmt, f"{kind}_gate_up", width) + _class_bits(fmt, f"{kind}_down", width)) / 3


def routed_expert_bits(fmt: QuantFormat, arch: Architecture) -> float:
    """Bits per weight of the routed experts in ``fmt`` (their own mix where the format has one)."""
    if not fmt.tensor_bits or not arch.is_moe:
        return fmt.expert_bits
    return _mlp_bits(fmt, arch.moe_intermediate_size, "expert")


def _layer_bits(p: ParamBreakdown, fmt: QuantFormat, arch: Architecture | None) -> float:
    """Bits of a mixed format's decoder layers: attention and every kind of MLP at its class's bits."""
    moe_width = arch.moe_intermediate_size if arch is not None and arch.is_moe else None
    dense_width = arch.intermediate_size if arch is not None else None
    shared = arch.n_shared_experts if arch is not None else 0
    shared_width = moe_width * shared if moe_width and shared else None
    return (p.attention * _class_bits(fmt, "attention") + p.dense_mlp * _mlp_bits(fmt, dense_width, "dense")
            + p.routed_experts * _mlp_bits(fmt, moe_width, "expert")
            + p.shared_experts * _mlp_bits(fmt, shared_width, "shared"))


def mixed_weight_bytes(p: ParamBreakdown, fmt: QuantFormat, arch: Architecture | None) -> WeightBytes:
    """A mixed format (GGUF k-quant mix): each tensor class at its own measured bits; norms and the
    router in 32 bits as llama.cpp stores them."""
    bits = (_layer_bits(p, fmt, arch)
            + p.embedding * _class_bits(fmt, "embedding") + p.lm_head * _class_bits(fmt, "lm_head"))
    kept = 4 * (p.norms + p.router)
    return WeightBytes(total=int(bits / 8) + kept, quantized=int(bits / 8), kept_16bit=kept,
                       embedding=int(p.embedding * _class_bits(fmt, "embedding") / 8))


def attention_weight_bytes(attention_params: float, fmt: QuantFormat) -> float:
    """Attention weights: 2 B each where the format keeps them 16-bit, else its attention class's bits (a
    mix's own: Q2_K's attention is 3.14 bits, not the 2.63 of its Q2_K block)."""
    return attention_params * (16 if "attention" in fmt.kept_16bit else _class_bits(fmt, "attention")) / 8


def head_bits(fmt: QuantFormat) -> float:
    """Bits per weight of the output head: 16 where the format keeps it, else its class's (a mix's own)."""
    return 16 if "lm_head" in fmt.kept_16bit else _class_bits(fmt, "lm_head")


def mtp_module_bytes(p: ParamBreakdown, fmt: QuantFormat, arch: Architecture | None) -> float:
    """The multi-token-prediction modules' weights (decoder layers of the model's own kind): at the format's
    bits, a mix at the mean of its decoder layers' classes."""
    if not fmt.tensor_bits:
        return p.mtp * fmt.bits_per_weight / 8
    layers = p.attention + p.dense_mlp + p.routed_experts + p.shared_experts
    return p.mtp * _layer_bits(p, fmt, arch) / layers / 8 if layers else 0.0


def mean_bits(p: ParamBreakdown, wb: WeightBytes) -> float:
    """Bits per weight the model's weights average in a format (a mix's classes, 16-bit parts, norms)."""
    return wb.total * 8 / p.total if p.total else 0.0


# the search asks for the same model and format about 1,100 times a recommend run
@kept_by_identity(4096)
def weight_bytes(p: ParamBreakdown, fmt: QuantFormat, arch: Architecture | None = None) -> WeightBytes:
    """Quantized linear weights at the format's bits (scales included; routed experts at its expert bits);
    what it keeps in 16 bits at 2 B. Formats with measured bits per tensor class (``tensor_bits``) add up their
    classes instead."""
    return _weight_bytes(p, fmt, arch)


def _weight_bytes(p: ParamBreakdown, fmt: QuantFormat, arch: Architecture | None) -> WeightBytes:
    if fmt.tensor_bits:
        return mixed_weight_bytes(p, fmt, arch)
    keep = set(fmt.kept_16bit)
    kept = p.norms
    kept += p.embedding if "embeddings" in keep else 0
    kept += p.lm_head if "lm_head" in keep else 0
    kept += p.router if "router" in keep else 0
    kept += p.attention if "attention" in keep else 0
    quantized = p.total - kept
    # routed experts at the format's expert bits (V4's FP4 experts), everything else at its bits
    qbytes = int((quantized - p.routed_experts) * fmt.bits_per_weight / 8 + p.routed_experts * fmt.expert_bits / 8)
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


def indexer_entry_bytes(arch: Architecture) -> float:
    """One cached indexer key: V3.2's FP8 key with its scales, V4's FP4 key (0 without an indexer)."""
    dim = arch.index_head_dim
    if not dim:
        return 0.0
    if arch.compress_ratios:
        return dim * V4_INDEXER_BYTES_PER_DIM
    return dim + -(-dim // INDEXER_FP8_BLOCK) * INDEXER_SCALE_BYTES


def _main_ratios(arch: Architecture) -> tuple[int, ...]:
    """V4's compression ratio of each main layer (the MTP layers' entries left out)."""
    return arch.compress_ratios[: arch.num_hidden_layers]


def kv_bytes_per_token(arch: Architecture, kv_bytes: float, tp: int = 1, decompressed_mla: bool = False) -> float:
    """KV cache one more token takes on one GPU, all layers (pipeline stages divide this further).

    MHA/GQA: K and V per kv head. MLA: one latent (kv_lora_rank) plus one shared
    RoPE key per layer, replicated on every tensor-parallel rank since it has no
    heads to split -- unless the engine decompresses it (transformers keeps
    per-head K of nope+rope and V of v_head_dim). Sparse MLA (V3.2) adds the
    indexer's FP8 key. V4 (csa-hca): a layer of ratio r adds one shared K=V entry
    of head_dim every r tokens (and, at r = 4, an FP4 indexer key); its sliding
    window is a constant (``kv_cache_bytes``), so this is the long-context rate.
    """
    if arch.compress_ratios:
        hd = arch.head_dim * kv_bytes
        return sum((hd + (indexer_entry_bytes(arch) if r == 4 else 0)) / r for r in _main_ratios(arch) if r)
    layers = arch.num_hidden_layers
    if arch.is_mla:
        rank, nope, rope, v = arch.mla_dims
        if decompressed_mla:
            heads = math.ceil(arch.num_attention_heads / tp)
            per_layer = heads * (nope + rope + v)
        else:
            per_layer = rank + rope
        return layers * (per_layer * kv_bytes + indexer_entry_bytes(arch))
    per_layer = 2 * kv_heads_per_gpu(arch, tp) * arch.head_dim
    return layers * per_layer * kv_bytes


def kv_cache_bytes(arch: Architecture, context: int, kv_bytes: float, tp: int = 1,
                   decompressed_mla: bool = False) -> float:
    """One sequence's KV cache for ``context`` tokens on one GPU, all layers.

    V4: every layer keeps its last sliding_window tokens whole, and a layer of ratio r
    one compressed entry per r tokens (plus an indexer key at r = 4). Others: the
    per-token rate times the tokens kept (a sliding window caps them).
    """
    if arch.compress_ratios:
        hd = arch.head_dim * kv_bytes
        window = min(context, arch.sliding_window or context) * hd
        total = 0.0
        for r in _main_ratios(arch):
            total += window
            if r:
                total += (context // r) * (hd + (indexer_entry_bytes(arch) if r == 4 else 0))
        return total
    return kv_bytes_per_token(arch, kv_bytes, tp, decompressed_mla) * cached_tokens(arch, context)


def kv_read_bytes(arch: Architecture, context: int, kv_bytes: float, tp: int = 1,
                  decompressed_mla: bool = False) -> float:
    """KV cache one decode step reads for one sequence, all layers.

    Dense attention reads the whole cache. Sparse attention reads every indexer key
    (the indexer scores them all) but only the index_topk entries it picks: V3.2's
    latents of min(context, topk) tokens; V4's window, min(context/4, topk) CSA entries,
    and every HCA entry (HCA is dense over its 128:1 compressed cache).
    """
    topk = arch.index_topk
    if arch.compress_ratios:
        hd = arch.head_dim * kv_bytes
        total = 0.0
        for r in _main_ratios(arch):
            total += min(context, arch.sliding_window or context) * hd
            entries = context // r if r else 0
            if r == 4:
                total += min(entries, topk or entries) * hd + entries * indexer_entry_bytes(arch)
            else:
                total += entries * hd
        return total
    if arch.attention == "mla-sparse" and topk:
        per_token = kv_bytes_per_token(arch, kv_bytes, tp, decompressed_mla)
        index = arch.num_hidden_layers * indexer_entry_bytes(arch)
        return (per_token - index) * min(context, topk) + index * context
    return kv_cache_bytes(arch, context, kv_bytes, tp, decompressed_mla)


def cached_tokens(arch: Architecture, context: int) -> int:
    """Tokens each layer keeps: a sliding window caps them (V4's compressed layers keep all)."""
    if arch.compress_ratios:
        return context
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
        width, _, top_k = arch.moe_dims
        experts = (top_k + arch.n_shared_experts) * width
        moe = ACT_INTERMEDIATE_PER_TOKEN * experts / tp + 2 * top_k * h + ACT_HIDDEN_PER_TOKEN * h
        per_token = max(per_token, moe)
    if arch.is_mla:
        _, nope, rope, v = arch.mla_dims
        per_token += arch.num_attention_heads / tp * (2 * (nope + rope) + v)
    elif arch.compress_ratios:  # V4: per-head queries and outputs of head_dim (K = V is one shared head)
        per_token += arch.num_attention_heads / tp * 2 * arch.head_dim
    return tokens * per_token * act_bytes


def cuda_graph_bytes(weights_per_gpu: float) -> float:
    gb = min(CUDA_GRAPH_MAX_GB, max(CUDA_GRAPH_MIN_GB, CUDA_GRAPH_WEIGHT_FRACTION * weights_per_gpu / GB))
    return gb * GB


def profile_logit_bytes(arch: Architecture, tp: int) -> float:
    return PROFILE_SEQUENCES * arch.vocab_size / tp * LOGIT_BYTES


@record(frozen=True)
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
