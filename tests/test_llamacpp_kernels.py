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
    assert dequant_rate(lcpp, q["q4_0"]) == table["default"]


def test_a_quantized_prompt_unpacks_the_weights_once_per_micro_batch(catalog, lcpp):
    q = catalog.quantizations
    per_pass = 7e9 / lcpp.speed.batched_weights_per_s
    assert tile_unpack_s(lcpp, q["q4_k_m"], 512, 7e9) == pytest.approx(per_pass)
    assert tile_unpack_s(lcpp, q["q4_k_m"], 513, 7e9) == pytest.approx(2 * per_pass)
    assert tile_unpack_s(lcpp, q["q4_k_m"], 2048, 7e9) == pytest.approx(4 * per_pass)
    assert tile_unpack_s(lcpp, q["fp16"], 2048, 7e9) == 0.0  # cuBLAS, no int8 tiles
    assert tile_unpack_s(catalog.engines["vllm"], q["fp16"], 2048, 7e9) == 0.0


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
