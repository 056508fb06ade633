"""Time a deployment takes: prefill (time to first token) and one decode step.

Decode is memory-bound: every step reads the weights it uses and the whole KV
cache, plus a fixed cost per layer. Prefill is compute-bound: 2 FLOPs per
active parameter per token, plus causal attention, plus (eager engines) the
element-wise traffic and Python cost of each layer. docs/method.md has the
derivation and the fit against shared/calibration.
"""

from __future__ import annotations

import math
from dataclasses import replace

from dsadvisor.physics.memory import cached_tokens
from dsadvisor.physics.params import moe_layer_count
from dsadvisor.catalog.schema import Architecture, Engine
from dsadvisor.records import record

# Tensor-parallel all-reduce: a small message costs a fixed latency, a large one
# 2 (tp-1)/tp x bytes over the link. NVLink: measured, NCCL 2.28 between two H200s
# (NV18) inside a CUDA graph, 14.5 us for 8 KB and 15.9 us for 64 KB
# (benchmarks/gpu/results/h200x2-tp.jsonl; vLLM's custom all-reduce may be faster,
# not measured). PCIe and unified: assumed, not measured here.
ALLREDUCE_LATENCY_S = {"nvlink": 14.5e-6, "pcie": 25e-6, "unified": 5e-6}
DEFAULT_ALLREDUCE_LATENCY_S = 25e-6
# Between pipeline stages on different nodes: one hop of activations over the
# network (InfiniBand NDR 400 Gb/s = 50 GB/s, ~10 us; assumed).
INTER_NODE_BANDWIDTH = 50e9
INTER_NODE_LATENCY_S = 10e-6
ALLREDUCES_PER_LAYER = 2  # after attention and after the MLP
# Tensor parallel across nodes: every all-reduce is NCCL over the network (the engines' own all-reduce kernels
# work over NVLink inside one node). Two ranks on two nodes take 19.9 us for 8 B-1 KB (nccl-tests
# all_reduce_perf, A100 + HDR InfiniBand: NVIDIA/nccl-tests issue 150); each further GPU of a node adds NCCL's
# tree two intra-node LL hops of 0.52 us x 1.8 (NCCL's tuning model, src/graph/tuning.cc: NVLink tree LL hop,
# x1.8 in a multi-node communicator), and each doubling of the nodes another network step.
CROSS_NODE_ALLREDUCE_LATENCY_S = 19.9e-6
CROSS_NODE_INTRA_HOP_S = 0.52e-6 * 1.8


# A prefill's all-reduce too large for the engines' own NVLink kernel (vLLM's custom all-reduce takes at most
# 8 MiB, CustomAllreduce max_size in vllm/distributed/device_communicators/custom_all_reduce.py; larger tensors
# go to NCCL) runs on NCCL, which reaches well under the NVLink datasheet, Blackwell the least: 2 (tp-1)/tp x
# bytes over 300-460 GB/s on H100/H200 (datasheet 450) and 540-740 GB/s on B200/GB200 (900). NCCL 2.29
# all_reduce of fp16 as NVIDIA measured it (aiconfigurator-core systems data, benchmarks/data/aiconfigurator/
# comm_nccl.csv), as latency + ring share x bytes / bus fitted over 8-134 MB per GPU and tensor-parallel size
# (within 3-25 % of the measured times): seconds, bytes/s.
NCCL_ALLREDUCE = {
    "H100-SXM": {2: (27.1e-6, 303e9), 4: (28.1e-6, 342e9), 8: (56.9e-6, 446e9)},
    "H200-SXM": {2: (22.7e-6, 303e9), 4: (25.0e-6, 342e9), 8: (58.2e-6, 459e9)},
    "B200": {2: (23.5e-6, 544e9), 4: (58.7e-6, 731e9), 8: (67.7e-6, 673e9)},
    "GB200": {2: (24.2e-6, 547e9), 4: (61.5e-6, 738e9)},
    "A100-SXM-80GB": {2: (43.0e-6, 191e9), 4: (58.8e-6, 213e9), 8: (72.4e-6, 215e9)},
    "A100-SXM-40GB": {2: (43.0e-6, 191e9), 4: (58.8e-6, 213e9), 8: (72.4e-6, 215e9)},
}
CUSTOM_ALLREDUCE_MAX_BYTES = 8 * 2**20


@record(frozen=True)
class Rates:
    """What one GPU sustains for this deployment (datasheet x engine efficiency)."""

    bandwidth: float  # bytes/s
    linear_flops: float | None  # FLOP/s for the weight matmuls in the format's compute dtype
    attention_flops: float | None  # FLOP/s for attention (16-bit)
    link_bandwidth: float  # bytes/s between tensor-parallel GPUs
    link_latency: float  # s per all-reduce
    # a decode step's all-reduce (small messages, the engine's own kernel over NVLink); None: link_latency and
    # link_bandwidth
    decode_link_latency: float | None = None
    decode_link_bandwidth: float | None = None
    decode_attention_flops: float | None = None  # FLOP/s for decode attention where it differs from attention_flops
    # NCCL's measured all-reduce on this GPU for a prefill's large messages, (tp, latency s, bus bytes/s) by
    # tensor-parallel size (NCCL_ALLREDUCE); empty: the link's latency and bandwidth
    nccl_allreduce: tuple[tuple[int, float, float], ...] = ()


@record(frozen=True)
class Layout:
    """How a deployment splits over its GPUs.

    ``tp`` GPUs per pipeline stage share every layer's matmuls (tensor parallel) or, with ``ep``,
    hold whole experts each; ``dp_attention`` > 1 splits the requests instead for attention:
    that many groups of ``tp // dp_attention`` GPUs each hold the attention weights and only their
    own requests' KV cache (SGLang ``--enable-dp-attention``, vLLM ``--data-parallel-size`` with
    ``--enable-expert-parallel``, TensorRT-LLM ``enable_attention_dp``). ``mtp`` > 0: speculative
    decoding with the model's own multi-token-prediction layer drafting that many tokens a step, which
    the main model verifies in one pass (:mod:`dsadvisor.serving.speculative`)."""

    tp: int = 1
    pp: int = 1
    ep: bool = False
    dp_attention: int = 1
    mtp: int = 0  # draft tokens per decode step (0: no speculative decoding)

    @property
    def gpus(self) -> int:
        return self.tp * self.pp

    @property
    def attention_tp(self) -> int:
        """GPUs that split one attention layer's heads."""
        return self.tp // self.dp_attention


def _allreduce_s(layers: float, message_bytes: float, layout: Layout, rates: Rates, *, decode: bool = False) -> float:
    """Two all-reduces a layer over the tensor-parallel group: a latency plus the ring's 2 (tp-1)/tp share of
    the message at the bus bandwidth. ``decode``: the engine's own small-message kernel where it has one."""
    if layout.tp == 1:
        return 0.0
    share = 2 * (layout.tp - 1) / layout.tp
    latency, bandwidth = rates.link_latency, rates.link_bandwidth
    if decode and rates.decode_link_latency is not None and rates.decode_link_bandwidth:
        latency, bandwidth = rates.decode_link_latency, rates.decode_link_bandwidth
    elif not decode and message_bytes > CUSTOM_ALLREDUCE_MAX_BYTES:
        latency, bandwidth = next(((lat, bus) for tp, lat, bus in rates.nccl_allreduce if tp == layout.tp),
                                  (latency, bandwidth))
    per = latency + share * message_bytes / bandwidth
    return ALLREDUCES_PER_LAYER * layers * per


def across_nodes(rates: Rates, tp: int, gpus_per_node: int) -> Rates:
    """``rates`` with a tensor-parallel group of ``tp`` GPUs spread over nodes of ``gpus_per_node``: NCCL's
    all-reduce over the network, in prefill and decode alike (no NVLink kernel), at the network port's bandwidth."""
    if tp <= gpus_per_node:
        return rates
    nodes = math.ceil(tp / gpus_per_node)
    latency = (CROSS_NODE_ALLREDUCE_LATENCY_S * math.ceil(math.log2(nodes))
               + 2 * (gpus_per_node - 1) * CROSS_NODE_INTRA_HOP_S)
    return replace(rates, link_latency=latency, link_bandwidth=INTER_NODE_BANDWIDTH, decode_link_latency=None,
                   decode_link_bandwidth=None, nccl_allreduce=())


def _pipeline_hops_s(pp: int, message_bytes: float) -> float:
    return (pp - 1) * (INTER_NODE_LATENCY_S + message_bytes / INTER_NODE_BANDWIDTH)


def attention_dims(arch: Architecture) -> tuple[int, int]:
    """Query-key and value head dims attention multiplies by (MLA decompressed for prefill)."""
    if arch.is_mla:
        _, nope, rope, v = arch.mla_dims
        return nope + rope, v
    return arch.head_dim, arch.head_dim


def _v4_layers(arch: Architecture) -> tuple[int, ...]:
    return arch.compress_ratios[: arch.num_hidden_layers]


def _indexer_width(arch: Architecture) -> int:
    """FLOPs-relevant width of one indexer score: heads x head dim (0 without an indexer)."""
    return (arch.index_n_heads or 0) * (arch.index_head_dim or 0)


def decode_attention_flops(arch: Architecture, batch: int, context: int) -> float:
    """One new token per sequence attends over its cached tokens, all layers.

    MLA decodes in the latent space (weights absorbed): each head dots the query
    with the latent+rope key and sums latent values. Sparse attention (V3.2) attends
    to min(context, index_topk) tokens and adds the indexer, which scores every cached
    key (index_n_heads x index_head_dim per key). V4 attends per layer to its window,
    min(context/4, index_topk) CSA entries (plus the indexer over all of them) or every
    context/128 HCA entry, each head dotting and summing head_dim.
    """
    nh = arch.num_attention_heads
    if arch.compress_ratios:
        window = min(context, arch.sliding_window or context)
        pairs = score = 0
        for r in _v4_layers(arch):
            entries = context // r if r else 0
            pairs += window + (min(entries, arch.index_topk or entries) if r == 4 else entries)
            score += entries if r == 4 else 0
        return 2.0 * batch * (pairs * nh * 2 * arch.head_dim + score * _indexer_width(arch))
    if arch.is_mla:
        rank, _, rope, _ = arch.mla_dims
        per_head = (rank + rope) + rank
    else:
        dqk, dv = attention_dims(arch)
        per_head = dqk + dv
    kept = cached_tokens(arch, context)
    attended = min(kept, arch.index_topk) if arch.index_topk else kept
    index = kept * _indexer_width(arch) if arch.index_topk else 0
    return 2.0 * batch * arch.num_hidden_layers * (attended * nh * per_head + index)


def _causal_pairs(tokens: int, ratio: int = 1, topk: int | None = None) -> float:
    """(query, cached entry) pairs of a causal prefill where query t sees t/ratio entries, at most topk."""
    full = tokens * tokens / (2.0 * ratio)
    if topk is None or tokens / ratio <= topk:
        return full
    start = topk * ratio  # from this query on, each sees topk entries
    return start * start / (2.0 * ratio) + (tokens - start) * topk


def prefill_attention_flops(arch: Architecture, batch: int, tokens: int) -> float:
    """Causal self-attention over a prompt: T^2/2 query-key pairs, QK^T and AV, all layers.

    Sparse attention caps each query's pairs at index_topk and adds the indexer's
    score over all T^2/2 pairs; V4 counts each layer's window, CSA and HCA pairs.
    """
    nh = arch.num_attention_heads
    dqk, dv = attention_dims(arch)
    if arch.compress_ratios:
        window = min(tokens, arch.sliding_window or tokens)
        pairs = score = 0.0
        for r in _v4_layers(arch):
            pairs += tokens * window - window * window / 2.0
            if r:
                pairs += _causal_pairs(tokens, r, arch.index_topk if r == 4 else None)
                score += _causal_pairs(tokens, r) if r == 4 else 0.0
        return 2.0 * batch * (pairs * nh * (dqk + dv) + score * _indexer_width(arch))
    if arch.index_topk:
        pairs = _causal_pairs(tokens, 1, arch.index_topk)
        score = _causal_pairs(tokens) * _indexer_width(arch)
        return 2.0 * batch * arch.num_hidden_layers * (pairs * nh * (dqk + dv) + score)
    return float(batch) * tokens * tokens * nh * (dqk + dv) * arch.num_hidden_layers


def decode_step_s(
    arch: Architecture,
    engine: Engine,
    rates: Rates,
    layout: Layout,
    *,
    read_bytes_per_gpu: float,
    linear_flops: float,
    batch: int,
    context: int,
    act_bytes: int = 2,
) -> float:
    """Seconds for one decode step of the whole batch (= per-token latency).

    ``read_bytes_per_gpu``: weights this step touches plus the KV cache, on one
    GPU (all its layers). ``linear_flops``: 2 x active params x batch, whole model.
    """
    speed = engine.speed
    stage_layers = arch.num_hidden_layers / layout.pp
    t = read_bytes_per_gpu / rates.bandwidth
    t += stage_layers * (speed.per_layer_decode_s + (batch - 1) * speed.per_sequence_layer_decode_s)
    moe_floor = speed.per_moe_layer_decode_s
    if layout.ep and speed.per_moe_layer_decode_ep_s is not None:
        moe_floor = speed.per_moe_layer_decode_ep_s
    t += moe_layer_count(arch) / layout.pp * moe_floor
    if arch.is_mla:
        t += stage_layers * speed.per_mla_layer_decode_s
    if rates.linear_flops:
        t += linear_flops / layout.gpus / rates.linear_flops
    # MLA's absorbed decode attention (every head dots the whole latent) runs in llama.cpp's flash-attention
    # vector kernel at its own rate; GQA/MHA decode attention stays at the tensor rate (it is bandwidth-bound)
    attention_rate = (rates.decode_attention_flops if arch.is_mla else None) or rates.attention_flops
    if attention_rate:
        t += decode_attention_flops(arch, batch, context) / layout.gpus / attention_rate
    t += _allreduce_s(stage_layers, batch * arch.hidden_size * act_bytes, layout, rates, decode=True)
    # a token passes the stages one after another
    return layout.pp * t + _pipeline_hops_s(layout.pp, batch * arch.hidden_size * act_bytes)


def prefill_s(
    arch: Architecture,
    engine: Engine,
    rates: Rates,
    layout: Layout,
    *,
    linear_flops: float,
    weight_bytes_per_gpu: float,
    batch: int,
    tokens: int,
    act_bytes: int = 2,
    expert_flops: float = 0.0,
    expert_efficiency: float = 1.0,
    attention_linear_flops: float = 0.0,
    attention_s: float | None = None,
) -> float | None:
    """Seconds to prefill ``batch`` prompts of ``tokens`` tokens together (None: no FLOP rate known).

    Matmuls run at the linear rate (routed experts at ``expert_efficiency`` of it) but never faster than
    reading the weights once; eager engines add element-wise traffic and a Python cost per layer, and each
    MoE layer a fixed cost per pass (``per_moe_layer_prefill_s``); every request pays the engine's fixed cost.
    ``attention_s``: the causal product's time where the caller times it another way (an older release without
    flash attention); None: at the attention rate.
    """
    if not rates.linear_flops or not rates.attention_flops:
        return None
    speed = engine.speed
    layers = arch.num_hidden_layers
    n_tok = batch * tokens
    # routed-expert GEMMs (part of linear_flops) run at expert_efficiency of the linear rate. With
    # data-parallel attention a prompt's attention (its projections, part of linear_flops, and the
    # causal product) runs on its own group's attention_tp GPUs only; the groups share the batch.
    per_group = math.ceil(batch / layout.dp_attention)
    spread = linear_flops - attention_linear_flops - expert_flops + expert_flops / expert_efficiency
    own_group = attention_linear_flops * per_group / batch
    gemm_s = (spread / layout.tp + own_group / layout.attention_tp) / rates.linear_flops
    matmul = max(gemm_s, weight_bytes_per_gpu * layout.pp / rates.bandwidth)
    attention = attention_s if attention_s is not None else (
        prefill_attention_flops(arch, per_group, tokens) / layout.attention_tp / rates.attention_flops)
    q_k_elems = (arch.num_attention_heads + arch.num_key_value_heads) * arch.head_dim / layout.tp
    inter = arch.intermediate_size if not arch.is_moe else arch.moe_dims[2] * arch.moe_dims[0]
    elementwise = n_tok * layers * (
        speed.qk_elementwise_bytes * q_k_elems + speed.mlp_elementwise_bytes * inter / layout.tp
    ) / rates.bandwidth
    # the stages run one after another for one prompt: every layer's fixed cost adds up
    host = layers * speed.per_layer_prefill_s + moe_layer_count(arch) * speed.per_moe_layer_prefill_s
    comm = _allreduce_s(layers, n_tok * arch.hidden_size * act_bytes, layout, rates)
    hops = _pipeline_hops_s(layout.pp, n_tok * arch.hidden_size * act_bytes)
    return matmul + attention + elementwise + host + comm + hops + speed.prefill_fixed_s
