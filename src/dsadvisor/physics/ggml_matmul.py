"""The weight matmuls of one llama.cpp decode step by shape, and what ggml-cuda's 16-bit kernel for 2-16 token
columns (mmf.cu) takes for them.

mmf gives each block 32 rows of the weight (MMF_ROWS_PER_BLOCK) and lets it walk the whole reduction dimension
K alone: a block reads 64 x K bytes at the rate one block reaches, so a matmul of few rows (k/v projections) or
a long K (an MLP's down projection) takes a block's time however few bytes it has, and one of many rows takes
its bytes at the rate of the whole GPU (``f16_small_batch_weights_per_s``). Measured: benchmarks/data/
llamacpp-h200/h200-kernels*.jsonl (run 5 and run 6), benchmarks/fit_llamacpp_kernels.py.
"""

from __future__ import annotations

from dsadvisor.catalog.schema import Architecture, EngineSpeed
from dsadvisor.physics.params import moe_layer_count

# ggml_cuda_should_use_mmf (ggml-cuda/mmf.cu): 16-bit weights take mmf up to 16 token columns, cuBLAS above
MMF_MAX_COLUMNS = 16


def matmul_shapes(arch: Architecture) -> list[tuple[int, int, int]]:
    """(rows, K, how many a step) of the weight matmuls a decode step runs besides the routed experts: the
    attention projections (MLA: the query, the latent's down and up projections and the output), the dense
    layers' MLP, the MoE layers' shared experts, and the output head."""
    h, layers, moe = arch.hidden_size, arch.num_hidden_layers, moe_layer_count(arch)
    heads, kv, hd = arch.num_attention_heads, arch.num_key_value_heads, arch.head_dim
    if arch.is_mla:
        lora, nope, rope, v = arch.mla_dims
        q_in = arch.q_lora_rank or h
        attn = [(heads * (nope + rope), q_in, layers), (lora + rope, h, layers), (heads * (nope + v), lora, layers),
                (h, heads * v, layers)]
        if arch.q_lora_rank:
            attn.append((arch.q_lora_rank, h, layers))
    else:
        attn = [(heads * hd, h, layers), (kv * hd, h, 2 * layers), (h, heads * hd, layers)]
    mlp = [(arch.intermediate_size, h, 2 * (layers - moe)), (h, arch.intermediate_size, layers - moe)]
    if moe and arch.n_shared_experts:
        shared = arch.n_shared_experts * arch.moe_dims[0]
        mlp += [(shared, h, 2 * moe), (h, shared, moe)]
    return [s for s in attn + mlp + [(arch.vocab_size, h, 1)] if s[2] > 0]


def f16_small_batch_extra_s(speed: EngineSpeed, arch: Architecture, bandwidth: float) -> float:
    """What mmf adds to a step of 2-16 sequences over the one-column kernel (the 16-bit weights' bytes at
    ``bandwidth`` bytes/s and ``f16_vector_matmul_s``): each matmul takes the longer of one 32-row block's walk
    along K and its weights at the whole GPU's rate."""
    rate = speed.f16_small_batch_weights_per_s
    if not rate or not speed.f16_block_s:
        return 0.0
    total = 0.0
    for rows, k, count in matmul_shapes(arch):
        weights = rows * k
        took = max(speed.f16_block_s + k * speed.f16_block_k_s, weights / rate)
        total += count * (took - weights * 2 / bandwidth - speed.f16_vector_matmul_s)
    return total
