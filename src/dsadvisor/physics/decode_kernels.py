"""What llama.cpp's matmul kernels add to a decode step and a prompt besides reading the weights and the FLOPs
``physics.timing`` counts: the dequantizing matrix-vector kernel, the batched quantized matmul (MMQ) and its
column tiles, the 16-bit batched kernels, and the routed experts' share of a step.

Layer 2 (physics), read after ``physics.rates`` (the unpacking rates) and ``physics.tiles``, and before
``physics.estimate``, which adds these terms to its decode step and prefill and still names them
(``from dsadvisor.physics.estimate import tile_unpack_s`` works).
"""

from __future__ import annotations

import math

from dsadvisor.catalog.schema import Architecture, Engine, QuantFormat
from dsadvisor.physics.ggml_matmul import MMF_MAX_COLUMNS, f16_small_batch_extra_s, matmul_shapes
from dsadvisor.physics.params import moe_layer_count
from dsadvisor.physics.rates import block_quantized, dequant_rate, kernel_format, unpack_rate
from dsadvisor.physics.tiles import dense_tiles, expert_tiles
from dsadvisor.records import record


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
    s, kind = engine.speed, kernel_format(engine, quant)
    touched = routed.params * routed.touched if routed else 0.0
    routed_read = read_s * touched / weights if routed and weights else 0.0
    dense_w, dense_read = weights - touched, read_s - routed_read
    routed_mm = 3 * routed.layers if routed else 0  # gate, up and down of each MoE layer
    dense_mm = max(0, matmuls - routed_mm)
    extra = max(0.0, dense_w / per_s - dense_read) if per_s else 0.0
    if batch <= s.quantized_vector_max_batch:
        col = s.dequant_column_weights_per_s_by_format.get(kind, s.dequant_column_weights_per_s)
        extra += (batch - 1) * (dense_mm * s.vector_column_s + (dense_w / col if col else 0.0))
        if routed and touched:
            pair = s.expert_pair_weights_per_s_by_format.get(kind, per_s)
            per_weight = max(routed_read / touched, 1 / pair if pair else 0.0)
            active = routed.params * routed.per_token / routed.experts
            extra += batch * active * per_weight - routed_read
        return extra
    step, widest = s.mmq_tile_column_step, s.mmq_max_tile_columns or batch
    passes, columns = dense_tiles(batch, step, widest)
    col = s.mmq_column_weights_per_s_by_format.get(kind)
    dense_flops_s = linear_flops_s - routed_flops_s
    columns_s = columns * dense_w / col if col else dense_flops_s * columns / batch
    unpack = s.mmq_decode_weights_per_s_by_format.get(kind)
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
