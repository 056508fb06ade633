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
# not measured). Infinity Fabric (xGMI, AMD Instinct): XGMI_ALLREDUCE's latency. PCIe and unified: assumed, not
# measured here.
ALLREDUCE_LATENCY_S = {"nvlink": 14.5e-6, "infinity-fabric": 7.9e-6, "pcie": 25e-6, "unified": 5e-6}
# A small all-reduce over Infinity Fabric (xGMI): measured by AMD, rccl-tests all_reduce_perf over 8 x MI300X in
# graph mode (-G 1), 7.5-19.4 us from 1 KB to 1 MB (ROCm blog "Understanding RCCL Bandwidth and xGMI Performance
# on AMD Instinct MI300X", 2 March 2025, RCCL 2.22.3, ROCm 6.3), fitted as latency + 2 (n-1)/n x bytes / bus over
# those rows (within 9 %): (s, bytes/s). Far below the links' 448 GB/s until the messages pass a few MB
# (NCCL_ALLREDUCE's MI300X row); every Infinity Fabric GPU takes it (the MI325X has the MI300X's links, the MI355X
# faster ones: not measured).
XGMI_ALLREDUCE = (7.9e-6, 157e9)
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
    # RCCL 2.22.3 over 8 x MI300X (xGMI, 7 links of 64 GB/s a direction: 448 GB/s), the same rccl-tests table as
    # XGMI_ALLREDUCE, fitted as the rows above over its 8-134 MB rows (within 15 %)
    "MI300X": {8: (49.6e-6, 314e9)},
}
CUSTOM_ALLREDUCE_MAX_BYTES = 8 * 2**20

# Attention data parallel (attention_tp < tp) with an MoE model: the MoE layers see every rank's tokens, so the
# engines exchange them around each MoE layer instead of all-reducing (docs/method.md, "The MoE exchange").
# Up to top_k expert-parallel ranks (every token reaches nearly every rank) TensorRT-LLM gathers the tokens
# and reduce-scatters the outputs (fused_moe_wide_ep.py / fused_moe_cutlass.py select_alltoall_method_type:
# NotEnabled when moe_ep_size <= top_k; communication/allgather_reducescatter.py), as SGLang's DP-attention
# gather does without DeepEP (layers/dp_attention.py) and vLLM's allgather_reducescatter all2all backend.
# NCCL 2.29 all_gather and reduce_scatter of fp16 as NVIDIA measured them (aiconfigurator-core systems data,
# benchmarks/data/aiconfigurator/comm_nccl.csv, 0.5-34 MB in all, both ops): latency + (n-1)/n x bytes / bus,
# fitted per GPU and group size (median error 6-14 %, max 20-44 %): seconds, bytes/s.
NCCL_GATHER = {
    "H100-SXM": {2: (7.9e-6, 172e9), 4: (9.6e-6, 224e9), 8: (12.4e-6, 254e9)},
    "H200-SXM": {2: (7.8e-6, 178e9), 4: (9.7e-6, 232e9), 8: (12.8e-6, 255e9)},
    "B200": {2: (11.5e-6, 329e9), 4: (13.2e-6, 343e9), 8: (16.4e-6, 271e9)},
    "GB200": {2: (11.8e-6, 331e9), 4: (13.5e-6, 339e9)},
    "A100-SXM-80GB": {2: (15.7e-6, 114e9), 4: (17.7e-6, 134e9), 8: (18.3e-6, 135e9)},
    "A100-SXM-40GB": {2: (15.7e-6, 114e9), 4: (17.7e-6, 134e9), 8: (18.3e-6, 135e9)},
}
# Beyond top_k ranks the engines send each token only to the ranks holding its experts (all-to-all dispatch,
# then combine: TensorRT-LLM NVLinkTwoSided on an NVLink domain, with a prepare phase exchanging the routing;
# SGLang / vLLM DeepEP). TensorRT-LLM 1.2's NVLinkTwoSided on GB200 as NVIDIA measured it (aiconfigurator-core
# systems/data/gb200/comm/trtllm/1.3.0rc10/trtllm_alltoall_perf.parquet, DeepSeek routing, EP 8-64, 16-4096
# tokens a rank; dispatch bf16 / fp8 / nvfp4, combine bf16): each phase 13.4 us + the bytes a rank sends at
# 474 GB/s, 53 % of the GPU's 900 GB/s NVLink (median error 6 %, max 32 %); the prepare phase 13-16 us whatever
# the tokens. Taken as that share of any NVLink; across nodes the network port's bandwidth.
ALLTOALL_PHASE_S = 13.4e-6
ALLTOALL_PHASES = 3  # prepare, dispatch, combine
ALLTOALL_LINK_SHARE = 474 / 900
# Bytes an activation element crosses the link as: NVFP4 4 bits + an fp8 scale per 16; FP8 with a float scale
# per 128 (DeepEP, NVLinkTwoSided post-quant dispatch). TensorRT-LLM's all-gather sends NVFP4 and per-tensor
# FP8 quantized but block-FP8 models (DeepSeek's) in bf16 (fused_moe_wide_ep.py forward_chunk); combine: bf16.
FP4_WIRE_BYTES = 0.5625
FP8_WIRE_BYTES = 1 + 4 / 128


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
    # NCCL's measured all-gather / reduce-scatter on this GPU, (GPUs, latency s, bus bytes/s) (NCCL_GATHER);
    # empty: the link's latency and bandwidth
    nccl_gather: tuple[tuple[int, float, float], ...] = ()
    alltoall_bandwidth: float | None = None  # bytes/s a rank sends in an MoE all-to-all; None: the link's
    alltoall_latency: float = ALLTOALL_PHASE_S  # s per all-to-all phase


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
    all-reduce over the network, in prefill and decode alike (no NVLink kernel), at the network port's bandwidth;
    an MoE all-to-all sends the share of its bytes bound for other nodes through that port."""
    if tp <= gpus_per_node:
        return rates
    nodes = math.ceil(tp / gpus_per_node)
    latency = (CROSS_NODE_ALLREDUCE_LATENCY_S * math.ceil(math.log2(nodes))
               + 2 * (gpus_per_node - 1) * CROSS_NODE_INTRA_HOP_S)
    return replace(rates, link_latency=latency, link_bandwidth=INTER_NODE_BANDWIDTH, decode_link_latency=None,
                   decode_link_bandwidth=None, nccl_allreduce=(), nccl_gather=(),
                   alltoall_bandwidth=INTER_NODE_BANDWIDTH / (1 - gpus_per_node / tp),  # the remote share
                   alltoall_latency=max(latency, ALLTOALL_PHASE_S))


def ranks_reached(arch: Architecture, ep: int) -> float:
    """Expected expert-parallel ranks one token's top-k experts sit on (uniform routing, experts dealt out
    evenly): ep x (1 - C(E - E/ep, k) / C(E, k))."""
    _, experts, k = arch.moe_dims
    per_rank = max(1, experts // ep)
    miss = 1.0
    for i in range(k):  # chance that none of the k distinct experts falls on a given rank
        miss *= max(0, experts - per_rank - i) / (experts - i)
    return ep * (1.0 - miss)


def uses_alltoall(arch: Architecture, layout: Layout) -> bool:
    """Whether the MoE exchange of this layout is an all-to-all (expert parallel over more than top_k ranks)."""
    return layout.ep and layout.tp > arch.moe_dims[2]


def wire_bytes(compute_dtype: str, alltoall: bool) -> float:
    """Bytes per element of the dispatched activations (``FP4_WIRE_BYTES``, ``FP8_WIRE_BYTES``, else bf16)."""
    if compute_dtype == "fp4":
        return FP4_WIRE_BYTES
    return FP8_WIRE_BYTES if alltoall and compute_dtype == "fp8" else 2.0


def _gather_s(message_bytes: float, n: int, rates: Rates) -> float:
    """One NCCL all-gather (or reduce-scatter) whose whole gathered buffer is ``message_bytes`` over ``n`` GPUs:
    the measured size nearest below ``n`` (else the smallest), or the link's figures."""
    fits = sorted(rates.nccl_gather)
    latency, bus = next(((lat, b) for g, lat, b in reversed(fits) if g <= n),
                        (fits[0][1], fits[0][2]) if fits else (rates.link_latency, rates.link_bandwidth))
    return latency + (n - 1) / n * message_bytes / bus


def moe_exchange_s(arch: Architecture, layout: Layout, rates: Rates, tokens: int, compute_dtype: str) -> float:
    """Seconds one MoE layer spends moving ``tokens`` (the whole instance's) to their experts and back under
    attention data parallel: an all-to-all of each rank's own tokens to the ranks they reach
    (``uses_alltoall``), else an all-gather of every token and a reduce-scatter of the outputs."""
    hidden = arch.hidden_size
    if uses_alltoall(arch, layout):
        per_rank = tokens / layout.tp * ranks_reached(arch, layout.tp) * hidden
        bandwidth = rates.alltoall_bandwidth or rates.link_bandwidth
        sent = per_rank * (wire_bytes(compute_dtype, True) + 2.0)
        return ALLTOALL_PHASES * rates.alltoall_latency + sent / bandwidth
    gathered = tokens * hidden
    return (_gather_s(gathered * wire_bytes(compute_dtype, False), layout.tp, rates)
            + _gather_s(gathered * 2.0, layout.tp, rates))


def _collectives_s(arch: Architecture, layers: float, tokens: int, layout: Layout, rates: Rates, *,
                   decode: bool, act_bytes: int, compute_dtype: str) -> float:
    """A pass's tensor- and expert-parallel traffic: two all-reduces a layer of all tokens over the
    tensor-parallel group, or under attention data parallel (MoE models) one all-reduce a layer inside
    each attention group of its own tokens plus the MoE exchange (``moe_exchange_s``) of every MoE layer;
    the dense layers then run whole on each rank (TensorRT-LLM _compute_mlp_tp_size: 1 with attention DP)."""
    if layout.dp_attention == 1 or not arch.is_moe:
        return _allreduce_s(layers, tokens * arch.hidden_size * act_bytes, layout, rates, decode=decode)
    group = Layout(tp=layout.attention_tp, pp=layout.pp)
    own = math.ceil(tokens / layout.dp_attention) * arch.hidden_size * act_bytes
    attention = _allreduce_s(layers, own, group, rates, decode=decode) / ALLREDUCES_PER_LAYER
    moe_layers = moe_layer_count(arch) * layers / arch.num_hidden_layers
    return attention + moe_layers * moe_exchange_s(arch, layout, rates, tokens, compute_dtype)


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
    compute_dtype: str = "bf16",
    attention_s: float | None = None,
) -> float:
    """Seconds for one decode step of the whole batch (= per-token latency).

    ``read_bytes_per_gpu``: weights this step touches plus the KV cache, on one
    GPU (all its layers). ``linear_flops``: 2 x active params x batch, whole model.
    ``compute_dtype``: the format's, for the bytes an MoE exchange sends (``wire_bytes``).
    ``attention_s``: the decode attention of one pipeline stage where the engine's kernels time it apart
    (llama.cpp's flash attention, physics/ggml_attention.py; then the KV cache is not in ``read_bytes_per_gpu``).
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
    if attention_s is not None:
        t += attention_s
    elif attention_rate:
        t += decode_attention_flops(arch, batch, context) / layout.gpus / attention_rate
    t += _collectives_s(arch, stage_layers, batch, layout, rates, decode=True, act_bytes=act_bytes,
                        compute_dtype=compute_dtype)
    # a token passes the stages one after another
    return layout.pp * t + _pipeline_hops_s(layout.pp, batch * arch.hidden_size * act_bytes)


def prompt_attention_rate(arch: Architecture, speed, attention_flops: float) -> float:
    """FLOP/s of a prompt's causal product: the engine's share of the 16-bit rate for this attention kind where it
    has one (``attention_efficiency_by_kind``: llama.cpp's flash attention on the H200's generation), else
    ``attention_efficiency``'s (``attention_flops``, the rate at that share)."""
    by_kind = speed.attention_efficiency_by_kind.get(arch.attention)
    if not by_kind:
        return attention_flops
    from dsadvisor.physics.ggml_attention import gqa_head_share

    share = gqa_head_share(arch.num_attention_heads, arch.num_key_value_heads) if arch.attention == "gqa" else 1.0
    return attention_flops / speed.attention_efficiency * by_kind * share


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
    compute_dtype: str = "bf16",
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
        prefill_attention_flops(arch, per_group, tokens) / layout.attention_tp
        / prompt_attention_rate(arch, speed, rates.attention_flops))
    q_k_elems = (arch.num_attention_heads + arch.num_key_value_heads) * arch.head_dim / layout.tp
    inter = arch.intermediate_size if not arch.is_moe else arch.moe_dims[2] * arch.moe_dims[0]
    elementwise = n_tok * layers * (
        speed.qk_elementwise_bytes * q_k_elems + speed.mlp_elementwise_bytes * inter / layout.tp
    ) / rates.bandwidth
    # the stages run one after another for one prompt: every layer's fixed cost adds up
    host = layers * speed.per_layer_prefill_s + moe_layer_count(arch) * speed.per_moe_layer_prefill_s
    comm = _collectives_s(arch, layers, n_tok, layout, rates, decode=False, act_bytes=act_bytes,
                          compute_dtype=compute_dtype)
    hops = _pipeline_hops_s(layout.pp, n_tok * arch.hidden_size * act_bytes)
    return matmul + attention + elementwise + host + comm + hops + speed.prefill_fixed_s
