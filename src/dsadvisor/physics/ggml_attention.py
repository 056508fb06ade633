"""llama.cpp's decode attention over a long KV cache on NVIDIA GPUs (GQA / MHA; MLA keeps its own rate).

ggml-cuda picks a flash-attention kernel per call (ggml/src/ggml-cuda/fattn.cu,
``ggml_cuda_get_best_fattn_kernel``, as llama-cpp-python 0.3.36 vendors it): on Ada / Hopper one new token runs
the vector kernel (fattn-vec.cuh: a 128-thread block per query head and slice of the cache, so every query head
reads its KV head's keys and values again) unless the cache is 16-bit and either several sequences share the
call or more than 4 query heads share a KV head over 8,192 or more cached tokens, where the tensor-core kernel
(fattn-mma-f16.cuh) runs; a quantized cache takes the vector kernel. The vector kernel walks every (query head,
cached token) pair: a layer costs the padded cache's tokens times the larger of the cache's bytes at the
bandwidth and the query heads times a cost per pair, one for a 16-bit and one for a quantized cache, plus a fixed
cost per layer with a quantized cache (run 7). One sequence's token in the MMA kernel (8 query heads of a KV head
a tile, stream-k over the cache: fattn-common.cuh ``launch_fattn``) costs the cache's bytes at the bandwidth plus
a fixed cost a layer, whatever its query heads (run 11: R1-Distill-Qwen-1.5B's 12 heads, -7B's 28 and
deepseek-coder-5.7bmqa's 32 over one KV head grow by about their bytes from 8K to 32K tokens after a ~10 us step
at the switch). Several sequences in one call keep the cost per (head, token). Measured in
benchmarks/data/llamacpp-h200 runs 7 and 11 (benchmarks/fit_llamacpp.py --depth; docs/method.md, llama.cpp decode
attention at depth).
"""

from __future__ import annotations

import math

FATTN_KQ_STRIDE = 256  # the cache view the kernels walk is padded to this many cells (fattn-common.cuh)
MMA_MIN_KV = 8192  # fattn.cu: from this many cache cells GQA > 4 decode leaves the vector kernel for the MMA one


def padded_kv(context: int) -> int:
    return max(FATTN_KQ_STRIDE, math.ceil(context / FATTN_KQ_STRIDE) * FATTN_KQ_STRIDE)


def uses_mma_decode(*, q_heads: int, kv_heads: int, context: int, batch: int, quantized_kv: bool) -> bool:
    """Whether one sequence's decode token runs the tensor-core (MMA) kernel: a 16-bit cache, more than 4 query
    heads a KV head and a padded cache of at least ``MMA_MIN_KV`` cells (fattn.cu ``ggml_cuda_get_best_fattn_kernel``
    on Ada / Hopper, head size 128). Several sequences in one call take it too; they keep the cost per (head, token)
    the batched rows were fitted with (docs/method.md, llama.cpp decode attention at depth)."""
    return not quantized_kv and batch == 1 and q_heads > 4 * kv_heads and padded_kv(context) >= MMA_MIN_KV


def decode_attention_s(*, layers: float, q_heads: int, kv_heads: int, context: int, batch: int,
                       kv_bytes_per_token_layer: float, quantized_kv: bool, bandwidth: float, head_token_s: dict,
                       quantized_layer_s: float, mma_layer_s: float | None = None, mma_token_s: float = 0.0) -> float:
    """Seconds of one decode step's attention over ``layers`` layers for ``batch`` sequences of ``context``
    tokens. The vector kernel: per sequence and layer, the padded cache's tokens times max(their bytes at
    ``bandwidth``, query heads x the cost per (head, token)), plus ``quantized_layer_s`` a layer for a quantized
    cache. The MMA kernel (``uses_mma_decode``; where ``mma_layer_s`` is set): ``mma_layer_s`` a layer plus the
    padded cache's tokens times max(their bytes at ``bandwidth``, ``mma_token_s``). The costs were measured on an
    H200 (132 SMs) and are taken as they are on other NVIDIA GPUs (an RTX 4090's 128 SMs run the same kernels;
    its slower memory makes its long-context decode bytes-bound)."""
    tokens = padded_kv(context)
    if mma_layer_s is not None and uses_mma_decode(q_heads=q_heads, kv_heads=kv_heads, context=context, batch=batch,
                                                   quantized_kv=quantized_kv):
        return layers * (mma_layer_s + tokens * max(kv_bytes_per_token_layer / bandwidth, mma_token_s))
    per_head = head_token_s["quantized" if quantized_kv else "f16"]
    per_token = max(kv_bytes_per_token_layer / bandwidth, q_heads * per_head)
    fixed = quantized_layer_s if quantized_kv else 0.0
    return layers * (batch * tokens * per_token + fixed)


def gqa_head_share(q_heads: int, kv_heads: int) -> float:
    """Share of the query heads a prompt's flash-attention tiles compute that are the model's own.

    The MMA kernel packs ``ncols2`` query heads of one KV head into a tile so they share its K / V loads
    (fattn.cu ``ggml_cuda_flash_attn_ext_mma_f16_switch_ncols2``, NVIDIA from Turing on): 8 when more than 4 query
    heads share a KV head, 4 above 2, 2 above 1. A ratio that does not fill its tiles computes padding heads: 5
    query heads a KV head (R1-Distill-Qwen-14B / -32B) are computed as 8, 6 (the 1.5B) as 8, 7 (the 7B) as 8;
    4 (Llama 3 8B) fill their tiles."""
    ratio = q_heads // kv_heads
    ncols2 = 8 if ratio > 4 else 4 if ratio > 2 else 2 if ratio > 1 else 1
    return ratio / (ncols2 * math.ceil(ratio / ncols2))
