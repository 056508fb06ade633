"""Kimi-K2.5 through ``--config`` (issue 13, helper gb300-kimi): its config.json nests DeepSeek-V3's language model in
``text_config`` beside a vision tower, and its quantization_config (compressed-tensors W4A16, group 32) packs only the
routed experts. Read as such, its weights are the checkpoint's published size (Unsloth's guide: 600 GB)."""

from __future__ import annotations

import json

import pytest

from dsadvisor.catalog.resolve import default_quant, model_from_config

from .conftest import ROOT

KIMI = ROOT / "benchmarks" / "data" / "aiconfigurator" / "model_configs" / "moonshotai--Kimi-K2.5_config.json"


def test_the_language_model_is_read_from_text_config():
    model, arch = model_from_config(KIMI)
    assert (arch.num_hidden_layers, arch.num_attention_heads, arch.hidden_size) == (61, 64, 7168)
    assert (arch.n_routed_experts, arch.num_experts_per_tok, arch.n_shared_experts) == (384, 8, 1)
    assert (arch.first_k_dense_replace, arch.moe_intermediate_size, arch.intermediate_size) == (1, 2048, 18432)
    assert (arch.kv_lora_rank, arch.q_lora_rank, arch.qk_rope_head_dim, arch.vocab_size) == (512, 1536, 64, 163840)
    assert arch.attention == "mla" and arch.scoring_bias  # noaux_tc routing, as V3
    assert "vision tower" in (arch.note or "")  # said, not counted


def test_its_weights_are_the_published_checkpoint(catalog):
    """Routed experts at 4 + 16/32 bits, everything else bf16: 60 MoE layers x 384 experts x 3 x 7,168 x 2,048."""
    from dataclasses import replace

    from dsadvisor.physics.estimate import Deployment, estimate

    model, arch = model_from_config(KIMI)
    assert model.weights_dtype is not None and default_quant(model) == "int4-experts"
    d = Deployment.of(catalog, model=model, architecture=arch, gpu=catalog.gpus["H200-SXM"],
                      quant=catalog.quantizations["int4-experts"], engine=catalog.engines["vllm"], gpus=8)
    e = estimate(replace(d, context=4096))
    routed = 60 * 384 * 3 * 7168 * 2048
    rest = e.params_total - routed
    weights = e.memory.weights * 8
    assert weights == pytest.approx(routed * 4.5 / 8 + rest * 2, rel=0.002)
    assert weights == pytest.approx(600e9, rel=0.02)  # the ~600 GB the checkpoint downloads as
    assert e.memory.fits  # 8 x H200, as Moonshot's deployment guide serves it


def test_other_compressed_tensors_checkpoints_stay_as_they_were(tmp_path):
    """Only W4A16 integer experts beside 16-bit attention and shared experts is int4-experts: a compressed-tensors
    config that quantizes attention too (or activations: NVIDIA's NVFP4 Kimi) keeps its torch_dtype."""
    config = json.loads(KIMI.read_text(encoding="utf-8"))
    quant = config["text_config"]["quantization_config"]
    quant["ignore"] = ["lm_head"]
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    assert model_from_config(path)[0].weights_dtype is None
    quant["ignore"] = ["lm_head", "re:.*self_attn.*", "re:.*shared_experts.*"]
    quant["config_groups"]["group_0"]["input_activations"] = {"num_bits": 4, "type": "float"}
    path.write_text(json.dumps(config), encoding="utf-8")
    assert model_from_config(path)[0].weights_dtype is None


def test_estimate_config_on_gb300(run):
    r = run("estimate", "--config", str(KIMI), "--gpu", "GB300", "--gpus", "4", "--format", "json")
    assert r.code == 0, r.err
    out = r.json()
    assert out["deployment"]["quantization"] == "int4-experts" and out["memory"]["fits"]
    assert out["deployment"]["gpu"] == "GB300"
