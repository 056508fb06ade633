"""The estimator against hand-computed cases: KV per token, weights, decode physics, fits."""

from __future__ import annotations

import math

import pytest

from dsadvisor.physics.estimate import Deployment, estimate
from dsadvisor.physics.memory import kv_bytes_per_token, weight_bytes
from dsadvisor.physics.params import count_params

# bf16 KV bytes per token, from shared/reference/deepseek-released.md (computed there by hand from the configs)
KV_PER_TOKEN = {
    "deepseek-llm-7b-base": 491_520,
    "deepseek-llm-67b-base": 389_120,
    "deepseek-coder-33b-base": 253_952,
    "deepseek-moe-16b-base": 229_376,
    "deepseek-v2-lite": 31_104,
    "deepseek-v2": 69_120,
    "deepseek-v3": 70_272,
    "deepseek-r1": 70_272,
    "deepseek-r1-distill-qwen-1.5b": 28_672,
    "deepseek-r1-distill-qwen-7b": 57_344,
    "deepseek-r1-distill-qwen-14b": 196_608,
    "deepseek-r1-distill-qwen-32b": 262_144,
    "deepseek-r1-distill-llama-8b": 131_072,
    "deepseek-r1-distill-llama-70b": 327_680,
}


@pytest.mark.parametrize("model_id,expected", sorted(KV_PER_TOKEN.items()))
def test_kv_bytes_per_token_matches_reference(catalog, model_id, expected):
    arch = catalog.architecture(catalog.models[model_id])
    assert kv_bytes_per_token(arch, 2) == expected


def test_mla_cache_is_replicated_under_tensor_parallel(catalog):
    arch = catalog.architecture(catalog.models["deepseek-v3"])
    assert kv_bytes_per_token(arch, 2, tp=8) == 70_272  # latent has no heads to split


def test_gqa_cache_splits_by_kv_heads_and_replicates_below(catalog):
    arch = catalog.architecture(catalog.models["deepseek-r1-distill-qwen-32b"])  # 8 kv heads
    assert kv_bytes_per_token(arch, 2, tp=2) == 262_144 / 2
    small = catalog.architecture(catalog.models["deepseek-r1-distill-qwen-1.5b"])  # 2 kv heads
    assert kv_bytes_per_token(small, 2, tp=4) == 28_672 / 2  # one head per GPU, not half a head


def test_fp8_kv_halves_the_cache(catalog):
    arch = catalog.architecture(catalog.models["deepseek-v3"])
    assert kv_bytes_per_token(arch, 1) == 70_272 / 2


def test_awq_weights_keep_embeddings_and_head_in_16_bit(catalog):
    arch = catalog.architecture(catalog.models["deepseek-r1-distill-qwen-32b"])
    p = count_params(arch)
    w = weight_bytes(p, catalog.quantizations["awq-int4"])
    kept = p.embedding + p.lm_head + p.norms
    assert w.total == int((p.total - kept) * 4.25 / 8) + 2 * kept


def _dep(catalog, model, gpu, quant="bf16", engine="vllm", **kw):
    return Deployment.of(catalog, model=catalog.models[model], gpu=catalog.gpus[gpu],
                         quant=catalog.quantizations[quant], engine=catalog.engines[engine], **kw)


def test_decode_step_by_hand_llama_8b_h100(catalog):
    """bytes / (0.90 x 3.35 TB/s) + 32 layers x 66 us (vLLM's) + matmul and attention FLOPs at the sustained rates."""
    est = estimate(_dep(catalog, "deepseek-r1-distill-llama-8b", "H100-SXM", context=1024, batch=1))
    params, vocab, hidden, layers = 8_030_261_248, 128_256, 4096, 32
    read = 2 * params - 2 * vocab * hidden + 131_072 * 1024  # weights without the embedding table + KV
    flops = 2 * (params - vocab * hidden)
    attention = 2 * 1024 * layers * 32 * (128 + 128)
    expected = read / (3.35e12 * 0.90) + layers * 66e-6 + flops / (989e12 * 0.80) + attention / (989e12 * 0.56)
    assert est.decode_step_s == pytest.approx(expected, rel=1e-9)
    assert est.decode_tokens_per_s == pytest.approx(1 / expected)


def test_moe_decode_reads_only_touched_experts(catalog):
    one = estimate(_dep(catalog, "deepseek-v2-lite", "H100-SXM", context=1024, batch=1))
    many = estimate(_dep(catalog, "deepseek-v2-lite", "H100-SXM", context=1024, batch=64))
    dense_equiv = one.params_total * 2 / (3.35e12 * 0.9)
    assert one.decode_step_s < dense_equiv  # batch 1 reads 6 of 64 experts
    assert many.decode_step_s > one.decode_step_s


def test_v3_fp8_needs_more_than_one_h100_node_but_fits_8_h200(catalog):
    h100 = estimate(_dep(catalog, "deepseek-v3", "H100-SXM", quant="fp8", gpus=8))
    h200 = estimate(_dep(catalog, "deepseek-v3", "H200-SXM", quant="fp8", gpus=8))
    two_nodes = estimate(_dep(catalog, "deepseek-v3", "H100-SXM", quant="fp8", gpus=16))
    assert not h100.memory.fits and h200.memory.fits and two_nodes.memory.fits
    assert (two_nodes.tp, two_nodes.pp, two_nodes.nodes) == (8, 2, 2)
    # ~671 GB of fp8 weights (embeddings, head, norms, router in 16 bits) over 8 GPUs
    assert 84e9 < h200.memory.weights < 86e9


def test_published_sglang_r1_points_within_15_percent(catalog):
    """peers.md: 8 x H200, SGLang, R1 FP8: batch 4 = 97 tok/s per user, batch 64 = 1,940 tok/s."""
    for batch, measured_step in ((4, 1 / 97), (64, 64 / 1940)):
        est = estimate(_dep(catalog, "deepseek-r1", "H200-SXM", quant="fp8", engine="sglang",
                                     gpus=8, batch=batch, context=4096))
        assert est.decode_step_s == pytest.approx(measured_step, rel=0.15)


def test_vllm_llama_8b_on_a100_40gb_matches_published_single_request(catalog):
    """peers.md: vLLM Llama-3.1-8B bf16 on A100-40GB, one request: 75 tok/s (same shape as R1-Distill-Llama-8B)."""
    est = estimate(_dep(catalog, "deepseek-r1-distill-llama-8b", "A100-SXM-40GB", context=2048))
    assert est.per_sequence_tokens_per_s == pytest.approx(75, rel=0.15)


def test_described_variant_gets_a_stated_assumed_shape(catalog):
    est = estimate(_dep(catalog, "deepseek-6.7b", "A100-SXM-40GB"))
    assert est.architecture_assumed
    assert est.params_total == pytest.approx(6.7e9, rel=0.05)
    assert any("assumed" in a for a in est.basis.assumptions)


def test_conflicting_parameter_claims_are_named(catalog):
    est = estimate(_dep(catalog, "deepseek-v2-described", "H100-SXM"))
    text = " ".join(est.basis.assumptions)
    assert "23B" in text and "17.5B" in text  # the one used and the one not used


def test_estimate_is_finite(catalog):
    est = estimate(_dep(catalog, "deepseek-coder-33b-instruct", "L40S", quant="awq-int4", batch=8))
    d = est.as_dict()
    assert all(math.isfinite(v) for v in (d["memory"]["per_gpu_bytes"], d["latency"]["decode_step_s"]))


def test_vllm_estimate_names_the_engine_version_it_models(catalog):
    """vLLM's memory profiling changed between releases (CUDA graphs inside the budget since 0.21): the basis says
    which behaviour the estimate models."""
    from dsadvisor.physics.estimate import Deployment, estimate

    d = Deployment.of(catalog, model=catalog.models["deepseek-r1-distill-qwen-7b"], gpu=catalog.gpus["H100-SXM"],
                      quant=catalog.quantizations["bf16"], engine=catalog.engines["vllm"])
    facts = estimate(d).basis.facts
    assert any("version modelled" in f and "0.21" in f for f in facts)


def test_moe_expert_gemms_slow_fp8_prefill(catalog):
    """Routed-expert GEMMs run at 0.42 of the dense fp8 rate (aiconfigurator moe.csv): an MoE's prompt costs more
    than its active FLOPs at the dense rate."""
    from dataclasses import replace

    from dsadvisor.physics.estimate import Deployment, estimate

    eng = catalog.engines["sglang"]
    d = Deployment.of(catalog, model=catalog.models["deepseek-v2-lite"], gpu=catalog.gpus["H200-SXM"],
                      quant=catalog.quantizations["bf16"], engine=eng, prompt_tokens=4096, context=8192)
    dense = replace(d, engine=replace(eng, speed=replace(eng.speed, moe_expert_efficiency=1.0)))
    assert estimate(d).ttft_s > 1.2 * estimate(dense).ttft_s
