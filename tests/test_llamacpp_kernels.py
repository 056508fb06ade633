"""llama.cpp's kernel physics (docs/method.md, llama.cpp's decode): the matrix-vector kernel's unpack rate by
kernel class, the batched quantized matmul's pass over the weights per micro-batch, MLA's cost per layer and
the decode attention rate. Each asserts what the model adds, against the constants in engines.yaml."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dsadvisor.physics.estimate import Deployment, dequant_rate, estimate, tile_unpack_s


@pytest.fixture(scope="module")
def lcpp(catalog):
    return catalog.engines["llama.cpp"]


def test_vdr1_formats_take_their_kernel_class_rate(catalog, lcpp):
    """Q6_K has no fitted rate of its own: it unpacks one 32-bit word per thread and step like Q3_K
    (VDR 1 in ggml-cuda/vecdotq.cuh), so it takes that class's rate, slower than the VDR-2 formats'."""
    table = lcpp.speed.dequant_weights_per_s
    q = catalog.quantizations
    assert "q6_k" not in table and "q6_k" in lcpp.speed.vdr1_formats
    assert dequant_rate(lcpp, q["q6_k"]) == table["vdr1"] == dequant_rate(lcpp, q["q3_k_m"])
    assert dequant_rate(lcpp, q["q4_k_m"]) == table["q4_k_m"] > table["vdr1"]
    # Q4_0 and Q2_K have their own since run 9 (benchmarks/fit_llamacpp_formats.py): a format's own rate wins over
    # its class's and the default
    assert dequant_rate(lcpp, q["q4_0"]) == table["q4_0"] > table["default"]
    assert "q2_k" in lcpp.speed.vdr1_formats and dequant_rate(lcpp, q["q2_k"]) == table["q2_k"] != table["vdr1"]


def test_a_quantized_prompt_passes_over_the_weights_once_per_output_tile(catalog, lcpp):
    """512 tokens run in four 128-column tiles, each passing over every weight; 513 tokens take a second
    micro-batch of one token (one tile); untiled engines and 16-bit weights pass over nothing."""
    q = catalog.quantizations
    # the pass is measured per format on the H200 (h200-kernels.jsonl); a format without its own figure has none
    q4 = lcpp.speed.batched_weights_per_s_by_format["q4_k_m"]
    assert tile_unpack_s(lcpp, q["q4_k_m"], 512, 7e9) == pytest.approx(4 * 7e9 / q4)
    assert lcpp.speed.batched_weights_per_s is None and tile_unpack_s(lcpp, q["q2_k"], 512, 7e9) == 0.0
    lcpp = replace(lcpp, speed=replace(lcpp.speed, batched_weights_per_s_by_format={}, batched_weights_per_s=1e13))
    per_pass = 7e9 / 1e13
    assert tile_unpack_s(lcpp, q["q4_k_m"], 512, 7e9) == pytest.approx(4 * per_pass)
    assert tile_unpack_s(lcpp, q["q4_k_m"], 513, 7e9) == pytest.approx(5 * per_pass)
    assert tile_unpack_s(lcpp, q["q4_k_m"], 2048, 7e9) == pytest.approx(16 * per_pass)
    assert tile_unpack_s(lcpp, q["q4_k_m"], 100, 7e9) == pytest.approx(per_pass)
    untiled = replace(lcpp, speed=replace(lcpp.speed, mmq_max_tile_columns=0))
    assert tile_unpack_s(untiled, q["q4_k_m"], 512, 7e9) == pytest.approx(per_pass)
    assert tile_unpack_s(lcpp, q["fp16"], 2048, 7e9) == 0.0  # cuBLAS, no int8 tiles
    assert tile_unpack_s(catalog.engines["vllm"], q["fp16"], 2048, 7e9) == 0.0


def test_mmq_tiles_pad_columns_to_the_tile_width():
    """ggml-cuda/mmq.cuh: J in steps of 8 up to 128; 9 columns multiply 16; an expert's tiles follow the
    binomial count of its tokens (uniform routing), and P(an expert gets a token) is the touched share."""
    from dsadvisor.physics.tiles import dense_tiles, expert_tiles

    assert dense_tiles(9, 8, 128) == dense_tiles(16, 8, 128) == (1, 16)
    assert dense_tiles(129, 8, 128) == (2, 144)  # two tiles of 72
    assert dense_tiles(512, 8, 128) == (4, 512)
    passes, columns = expert_tiles(9, 64, 6, 8, 128)
    assert passes == pytest.approx(1 - (1 - 6 / 64) ** 9)  # one 8-column tile per expert hit
    assert columns == pytest.approx(8 * passes)
    passes64, _ = expert_tiles(64, 64, 6, 8, 128)
    assert 1.0 < passes64 < 1.3  # 6 tokens an expert on average: some take a second tile


def test_batched_decode_above_the_vector_kernel_steps_with_the_tile_width(catalog, lcpp):
    """9 to 16 sequences share one 16-column tile: the step grows by their attention and logits only; 17
    takes a 24-column tile. The MMQ's first tile costs each matmul more than the one-column kernel above 8
    sequences, not below."""
    model = "deepseek-r1-distill-qwen-7b"
    s9, s16, s17 = (_step(catalog, lcpp, model, batch=b) for b in (9, 16, 17))
    assert (s16 - s9) < 0.25 * (s17 - s16) * 8
    no_call = replace(lcpp, speed=replace(lcpp.speed, mmq_decode_matmul_s=0.0))
    assert _step(catalog, lcpp, model, batch=8) == _step(catalog, no_call, model, batch=8)
    assert _step(catalog, lcpp, model, batch=9) - _step(catalog, no_call, model, batch=9) == pytest.approx(
        (28 * 7 + 1) * lcpp.speed.mmq_decode_matmul_s)


def test_every_matmul_pays_a_floor_per_column_whatever_its_size(catalog, lcpp):
    """Each further column costs every weight matmul vector_column_s (2-8 sequences) or mmq_column_s (a tile's
    columns above 8) besides its weights: a 1.5B model's 197 matmuls pay it as a 7B's 197 do."""
    no_floor = replace(lcpp, speed=replace(lcpp.speed, vector_column_s=0.0, mmq_column_s=0.0))
    matmuls = 28 * 7 + 1  # R1-Distill-Qwen-1.5B and -7B: 28 layers of q, k, v, o, gate, up, down; the head
    for model in ("deepseek-r1-distill-qwen-1.5b", "deepseek-r1-distill-qwen-7b"):
        for batch, floor in ((8, 7 * lcpp.speed.vector_column_s), (16, 16 * lcpp.speed.mmq_column_s)):
            added = _step(catalog, lcpp, model, batch=batch) - _step(catalog, no_floor, model, batch=batch)
            assert added == pytest.approx(matmuls * floor)


def test_each_token_expert_pair_reads_its_expert_again_below_the_tiles(catalog, lcpp):
    """2-8 sequences of a MoE: mul_mat_vec_q with expert ids runs one matrix-vector product per (token, expert)
    pair, so 8 tokens read 48 experts' weights though only ~35 distinct ones are touched."""
    model = "deepseek-moe-16b-base"
    step2, step8 = (_step(catalog, lcpp, model, batch=b, quant="q8_0") for b in (2, 8))
    active = 27 * 6 * 3 * 1408 * 2048  # a token's experts: 6 of 64 in 27 MoE layers, gate, up and down
    assert step8 - step2 > 6 * active / lcpp.speed.dequant_weights_per_s["q8_0"]


def test_16bit_weights_at_a_few_sequences_take_a_block_walk_along_k(catalog, lcpp):
    """mmf gives a block 32 weight rows to walk along K alone: LLaMA-7B-shaped F16 weights at 2 sequences cost
    each short-and-long matmul a block's walk, not a pass over all weights (measured: deepseek-llm-7b F16
    4.40 -> 5.58 ms from 1 to 2 sequences)."""
    from dsadvisor.physics.ggml_matmul import f16_small_batch_extra_s, matmul_shapes
    arch = catalog.models["deepseek-llm-7b-base"].architecture
    shapes = matmul_shapes(arch)
    assert (4096, 11008, 30) in shapes and (11008, 4096, 60) in shapes and (102400, 4096, 1) in shapes
    extra = f16_small_batch_extra_s(lcpp.speed, arch, 0.9 * 4.8e12)
    assert 0.5e-3 < extra < 1.5e-3
    step1 = _step(catalog, lcpp, "deepseek-llm-7b-base", quant="fp16")
    step2 = _step(catalog, lcpp, "deepseek-llm-7b-base", batch=2, quant="fp16")
    assert step2 - step1 == pytest.approx(1.18e-3, rel=0.5)


def test_logits_go_to_host_memory_per_sequence(catalog, lcpp):
    """Each sequence's logits (vocabulary x 4 bytes) are copied to the host after a step: 128 sequences of
    R1-Distill-Qwen-7B move 78 MB."""
    model = "deepseek-r1-distill-qwen-7b"
    none = replace(lcpp, speed=replace(lcpp.speed, logits_host_bytes_per_s=None))
    for b in (1, 128):
        added = _step(catalog, lcpp, model, batch=b) - _step(catalog, none, model, batch=b)
        assert added == pytest.approx(b * 152064 * 4 / lcpp.speed.logits_host_bytes_per_s)


def _step(catalog, engine, model, context=640, batch=1, quant="q4_k_m"):
    d = Deployment.of(catalog, model=catalog.models[model], gpu=catalog.gpus["H200-SXM"],
                      quant=catalog.quantizations[quant], engine=engine, context=context, prompt_tokens=min(512, context),
                      batch=batch)
    return estimate(d).decode_step_s


def test_mla_layers_cost_their_fixed_time_and_others_do_not(catalog, lcpp):
    without = replace(lcpp, speed=replace(lcpp.speed, per_mla_layer_decode_s=0.0))
    layers = 27  # DeepSeek-V2-Lite
    added = _step(catalog, lcpp, "deepseek-v2-lite") - _step(catalog, without, "deepseek-v2-lite")
    assert added == pytest.approx(layers * lcpp.speed.per_mla_layer_decode_s)
    assert _step(catalog, lcpp, "deepseek-moe-16b-base") == _step(catalog, without, "deepseek-moe-16b-base")


def test_decode_attention_runs_at_its_own_rate(catalog, lcpp):
    """llama.cpp's flash-attention vector kernel: 8K of context costs a V2-Lite (MLA) step far more than its
    latent cache's bytes."""
    fast = replace(lcpp, speed=replace(lcpp.speed, decode_attention_flops_per_byte=None))
    grow = _step(catalog, lcpp, "deepseek-v2-lite", 8320) - _step(catalog, lcpp, "deepseek-v2-lite", 128)
    grow_fast = _step(catalog, fast, "deepseek-v2-lite", 8320) - _step(catalog, fast, "deepseek-v2-lite", 128)
    assert grow > 5 * grow_fast
    assert 0.4e-3 < grow < 2e-3  # measured: 1.0 ms (tg128 314.6 -> 239.1 tok/s)
    # GQA and MHA keep the tensor rate: the term leaves a dense model's step alone
    dense = _step(catalog, lcpp, "deepseek-r1-distill-qwen-7b", 8320) - _step(catalog, fast,
                                                                            "deepseek-r1-distill-qwen-7b", 8320)
    assert dense == 0.0


def test_kernel_timings_stay_on_the_generation_they_were_measured_on(catalog, lcpp):
    """The floors, MMQ's decode tile and mmf's blocks were timed on the H200 (compute capability 9.0): an RTX 4090
    keeps the row-fitted figures (2.1e13 weights/s a further column) and none of them."""
    from dsadvisor.physics.estimate import on_device
    ada, hopper = on_device(lcpp, catalog.gpus["RTX-4090"]).speed, on_device(lcpp, catalog.gpus["H200-SXM"]).speed
    assert hopper.vector_column_s > 0 and hopper.mmq_column_s > 0 and hopper.f16_block_s > 0
    assert ada.vector_column_s == ada.mmq_column_s == ada.f16_block_s == ada.mmq_decode_matmul_s == 0
    assert not ada.expert_pair_weights_per_s_by_format and ada.dequant_column_weights_per_s == 2.07e13


def test_16bit_experts_keep_their_own_moe_layer_cost(catalog, lcpp):
    """F16 experts run another kernel than block-quantized ones (MUL_MAT_ID ~5 us beyond its bytes at one token,
    against 1-3 us): a MoE-16B F16 step pays per_moe_layer_decode_16bit_s a MoE layer, Q8_0 per_moe_layer_decode_s."""
    model, layers = "deepseek-moe-16b-base", 27
    s = lcpp.speed
    assert s.per_moe_layer_decode_16bit_s > s.per_moe_layer_decode_s
    for quant, per in (("fp16", s.per_moe_layer_decode_16bit_s), ("q8_0", s.per_moe_layer_decode_s)):
        none = replace(lcpp, speed=replace(s, per_moe_layer_decode_s=0.0, per_moe_layer_decode_16bit_s=0.0))
        added = _step(catalog, lcpp, model, quant=quant) - _step(catalog, none, model, quant=quant)
        assert added == pytest.approx(layers * per)
