"""Routed experts llama.cpp keeps in system memory: what each GPU then holds, what the host holds, and
what a decoded token and a prompt pay for them.

llama.cpp places tensors by name. ``--cpu-moe`` keeps every MoE layer's routed-expert tensors
(``blk.N.ffn_{up,down,gate}_exps``) in CPU memory, ``--n-cpu-moe N`` those of blocks 0..N-1, and
``-ot/--override-tensor "<regex>=CPU"`` any tensors a pattern names (common/arg.cpp; the pattern is
``LLM_FFN_EXPS_REGEX = "\\.ffn_(up|down|gate|gate_up)_(ch|)exps"`` in common/common.h). With ``-ngl 999``
everything else (attention, shared experts, the leading dense layers, the output head, the KV cache)
stays on the GPUs. DeepSeek-V3/R1's first three blocks are dense and hold no experts, so
``--n-cpu-moe N`` moves N - 3 MoE layers.

Decode: the CPU multiplies the experts it holds, reading the chosen experts' weights from host memory
(one token reads top-k of each layer's experts); the GPU then goes on with the next layer, so the two
parts add up. Prompt: ggml's scheduler lets the GPU backend take over an op whose weights sit in host
memory once its batch has ``OP_OFFLOAD_MIN_BATCH`` rows (ggml-backend.cpp, ``op_offload``, on by default;
``--no-op-offload`` turns it off): each micro-batch (``-ub``, default 512) copies the experts it routes to
over PCIe and multiplies them on the GPU. A 512-token micro-batch of R1 routes to nearly all 256 experts
of every layer, so a prompt costs about one copy of the host-held experts per 512 tokens.
"""

from __future__ import annotations

import math

from dsadvisor.catalog.schema import Architecture, Gpu, QuantFormat
from dsadvisor.physics.memory import routed_expert_bits
from dsadvisor.physics.params import count_params, moe_layer_count
from dsadvisor.records import record

# llama-server's default micro-batch (tools/server/README.md: -ub 512): a prompt goes through in
# chunks of this many tokens, each copying the host-held experts it routes to once
UBATCH = 512
# ggml's op offload threshold (GGML_OP_OFFLOAD_MIN_BATCH, default 32; ggml-cuda.cu
# ggml_backend_cuda_device_offload_op): below it the CPU multiplies host-held weights itself
OP_OFFLOAD_MIN_BATCH = 32
# Share of the GPU's rated host link a prompt's copies of host-held experts reach. Measured (helper lcpp,
# benchmarks/data/llamacpp-h200/h200-offload.jsonl): DeepSeek-V2-Lite Q4_K_M on an H200 machine, pp512 with
# 26 vs 13 MoE layers' experts in host memory at 16 threads gives 57 ms a layer for 366 MB, 6.5 GB/s
# effective, 0.2 of the 32 GB/s the estimate takes for that GPU (its catalog link is NVLink); fitted on those
# two rows, the 8-thread rows held out (-11 %, -2 %). The copies run far under the link's rate: llama.cpp
# copies each expert tensor per micro-batch and the GPU waits for it.
PCIE_COPY_EFFICIENCY = 0.2
# Share of system memory the host-held experts may take: the OS, the server and the page cache keep
# the rest (assumed, as launch.plan's HOST_MEMORY_USABLE for layer offload).
HOST_MEMORY_USABLE = 0.9
# The catalog entry a discrete-GPU machine's CPU and memory are taken from when nothing else names them:
# the generic desktop (dual-channel DDR5-4800, 76.8 GB/s at llama.cpp's measured 0.56; catalog/hardware/cpu.yaml)
HOST_CPU = "CPU"


@record(frozen=True)
class HostExperts:
    """The routed experts of the first ``layers`` MoE layers, kept in ``host``'s memory."""

    layers: int  # MoE layers whose routed experts stay in system memory
    host: Gpu  # the CPU (catalog entry) whose memory system reads them: its bandwidth and efficiency
    pcie_gbs: float  # the GPU's host link, GB/s as rated

    @property
    def bandwidth(self) -> float:
        """Bytes a second the CPU reads the experts at: its datasheet bandwidth times the share llama.cpp
        reaches on CPUs (the catalog entry's bandwidth_efficiency)."""
        return self.host.bandwidth_gbs * 1e9 * (self.host.bandwidth_efficiency or 1.0)

    @property
    def pcie(self) -> float:
        return self.pcie_gbs * 1e9 * PCIE_COPY_EFFICIENCY


def layer_expert_params(arch: Architecture) -> float:
    """Routed-expert parameters of one MoE layer."""
    layers = moe_layer_count(arch)
    return count_params(arch).routed_experts / layers if layers else 0.0


def layer_expert_bytes(arch: Architecture, fmt: QuantFormat) -> float:
    """Bytes of one MoE layer's routed experts in ``fmt``."""
    return layer_expert_params(arch) * routed_expert_bits(fmt, arch) / 8


def host_bytes(arch: Architecture, fmt: QuantFormat, layers: int) -> float:
    """What ``layers`` MoE layers' routed experts take in system memory."""
    return layers * layer_expert_bytes(arch, fmt)


def touched(arch: Architecture, tokens: int) -> float:
    """Share of a layer's routed experts ``tokens`` tokens route to (uniform routing)."""
    _, experts, per_token = arch.moe_dims
    return 1.0 - (1.0 - per_token / experts) ** tokens


def decode_host_s(arch: Architecture, fmt: QuantFormat, h: HostExperts, batch: int) -> float:
    """Seconds a decode step of ``batch`` sequences spends on host-held experts: the CPU reads those the
    batch routes to, or, from ``OP_OFFLOAD_MIN_BATCH`` sequences, the GPU has them copied over PCIe."""
    link = h.pcie if batch >= OP_OFFLOAD_MIN_BATCH else h.bandwidth
    return host_bytes(arch, fmt, h.layers) * touched(arch, batch) / link


def prefill_host_s(arch: Architecture, fmt: QuantFormat, h: HostExperts, tokens: int) -> float:
    """Seconds ``tokens`` prompt tokens add for host-held experts: per micro-batch, a PCIe copy of the
    experts it routes to (op offload), or, for a micro-batch under the threshold, the CPU's read."""
    full, rest = divmod(tokens, UBATCH)
    chunks = [UBATCH] * full + ([rest] if rest else [])
    held = host_bytes(arch, fmt, h.layers)
    return sum(held * touched(arch, n) / (h.pcie if n >= OP_OFFLOAD_MIN_BATCH else h.bandwidth) for n in chunks)


def staging_bytes(arch: Architecture, fmt: QuantFormat, h: HostExperts | None) -> float:
    """GPU memory the scheduler's copies of one layer's host-held experts take during a prompt
    (its compute buffer holds the inputs of the split it runs, one layer's expert tensors at a time)."""
    return layer_expert_bytes(arch, fmt) if h is not None and h.layers else 0.0


def first_blocks(arch: Architecture, layers: int) -> int:
    """``--n-cpu-moe`` counts blocks from 0, dense ones included: the value that covers ``layers`` MoE layers."""
    return layers + (arch.first_k_dense_replace or 0) if layers else 0


def layers_to_free(arch: Architecture, fmt: QuantFormat, over_bytes: float) -> int:
    """MoE layers whose experts must leave the GPUs to free ``over_bytes`` (all GPUs together),
    the staging buffer one layer's copy then needs counted in."""
    per_layer = layer_expert_bytes(arch, fmt)
    if per_layer <= 0:
        return 0
    return min(moe_layer_count(arch), max(1, math.ceil((over_bytes + per_layer) / per_layer)))
