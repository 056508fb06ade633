"""Time a deployment takes: prefill (time to first token) and one decode step.

Decode is memory-bound: every step reads the weights it uses and the whole KV
cache, plus a fixed cost per layer. Prefill is compute-bound: 2 FLOPs per
active parameter per token, plus causal attention, plus (eager engines) the
element-wise traffic and Python cost of each layer. docs/method.md has the
derivation and the fit against shared/calibration.
"""

from __future__ import annotations

from dataclasses import dataclass

from dsadvisor.physics.params import moe_layer_count
from dsadvisor.catalog.schema import Architecture, Engine

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


@dataclass(frozen=True)
class Rates:
    """What one GPU sustains for this deployment (datasheet x engine efficiency)."""

    bandwidth: float  # bytes/s
    linear_flops: float | None  # FLOP/s for the weight matmuls in the format's compute dtype
    attention_flops: float | None  # FLOP/s for attention (16-bit)
    link_bandwidth: float  # bytes/s between tensor-parallel GPUs
    link_latency: float  # s per all-reduce


@dataclass(frozen=True)
class Layout:
    """How a deployment splits over its GPUs.

    ``tp`` GPUs per pipeline stage share every layer's matmuls (tensor parallel) or, with ``ep``,
    hold whole experts each; ``dp_attention`` > 1 splits the requests instead for attention:
    that many groups of ``tp // dp_attention`` GPUs each hold the attention weights and only their
    own requests' KV cache (SGLang ``--enable-dp-attention``, vLLM ``--data-parallel-size`` with
    ``--enable-expert-parallel``, TensorRT-LLM ``enable_attention_dp``)."""

    tp: int = 1
    pp: int = 1
    ep: bool = False
    dp_attention: int = 1

    @property
    def gpus(self) -> int:
        return self.tp * self.pp

    @property
    def attention_tp(self) -> int:
        """GPUs that split one attention layer's heads."""
        return self.tp // self.dp_attention


def _allreduce_s(layers: float, message_bytes: float, layout: Layout, rates: Rates) -> float:
    if layout.tp == 1:
        return 0.0
    share = 2 * (layout.tp - 1) / layout.tp
    per = rates.link_latency + share * message_bytes / rates.link_bandwidth
    return ALLREDUCES_PER_LAYER * layers * per


def _pipeline_hops_s(pp: int, message_bytes: float) -> float:
    return (pp - 1) * (INTER_NODE_LATENCY_S + message_bytes / INTER_NODE_BANDWIDTH)


def attention_dims(arch: Architecture) -> tuple[int, int]:
    """Query-key and value head dims attention multiplies by (MLA decompressed for prefill)."""
    if arch.attention == "mla":
        return arch.qk_nope_head_dim + arch.qk_rope_head_dim, arch.v_head_dim
    return arch.head_dim, arch.head_dim


def decode_attention_flops(arch: Architecture, batch: int, context: int) -> float:
    """One new token per sequence attends over ``context`` cached tokens, all layers.

    MLA decodes in the latent space (weights absorbed): each head dots the query
    with the latent+rope key and sums latent values.
    """
    if arch.attention == "mla":
        per_head = (arch.kv_lora_rank + arch.qk_rope_head_dim) + arch.kv_lora_rank
    else:
        dqk, dv = attention_dims(arch)
        per_head = dqk + dv
    return 2.0 * batch * context * arch.num_hidden_layers * arch.num_attention_heads * per_head


def prefill_attention_flops(arch: Architecture, batch: int, tokens: int) -> float:
    """Causal self-attention over a prompt: T^2/2 query-key pairs, QK^T and AV, all layers."""
    dqk, dv = attention_dims(arch)
    return float(batch) * tokens * tokens * arch.num_attention_heads * (dqk + dv) * arch.num_hidden_layers


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
    t += stage_layers * speed.per_layer_decode_s
    t += moe_layer_count(arch) / layout.pp * speed.per_moe_layer_decode_s
    if rates.linear_flops:
        t += linear_flops / layout.gpus / rates.linear_flops
    if rates.attention_flops:
        t += decode_attention_flops(arch, batch, context) / layout.gpus / rates.attention_flops
    t += _allreduce_s(stage_layers, batch * arch.hidden_size * act_bytes, layout, rates)
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
) -> float | None:
    """Seconds to prefill ``batch`` prompts of ``tokens`` tokens together (None: no FLOP rate known).

    Matmuls run at the linear rate but never faster than reading the weights once;
    eager engines add element-wise traffic and a Python cost per layer.
    """
    if not rates.linear_flops or not rates.attention_flops:
        return None
    speed = engine.speed
    layers = arch.num_hidden_layers
    n_tok = batch * tokens
    matmul = max(linear_flops / layout.tp / rates.linear_flops, weight_bytes_per_gpu * layout.pp / rates.bandwidth)
    attention = prefill_attention_flops(arch, batch, tokens) / layout.tp / rates.attention_flops
    q_k_elems = (arch.num_attention_heads + arch.num_key_value_heads) * arch.head_dim / layout.tp
    inter = arch.intermediate_size if not arch.is_moe else arch.num_experts_per_tok * arch.moe_intermediate_size
    elementwise = n_tok * layers * (
        speed.qk_elementwise_bytes * q_k_elems + speed.mlp_elementwise_bytes * inter / layout.tp
    ) / rates.bandwidth
    host = layers * speed.per_layer_prefill_s
    comm = _allreduce_s(layers, n_tok * arch.hidden_size * act_bytes, layout, rates)
    hops = _pipeline_hops_s(layout.pp, n_tok * arch.hidden_size * act_bytes)
    return matmul + attention + elementwise + host + comm + hops
