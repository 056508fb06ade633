"""Today's DeepSeek releases: V3.2 (sparse MLA), V4 (compressed hybrid attention), and the smaller 2025 ones.

* The catalog's V3.2 / V4-Flash / V4-Pro architectures are exactly what their config.json files say
  (verbatim copies in benchmarks/data/model_configs/, from aiconfigurator-core 0.12.0).
* Parameters computed from those configs match the cards' totals within their rounding.
* KV cache: V4-Pro keeps about a tenth of V3.2's at 1M tokens (the V4 card), V4-Flash about 7% (the
  V4 report, Section 2.3), derived here from the configs; single-token FLOPs 27% and 10% likewise.
* Sparse attention: decode attends to index_topk entries, not the whole context.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dsadvisor.catalog.hfconfig import architecture_from_hf_config
from dsadvisor.catalog.schema import Architecture, validate
from dsadvisor.physics.memory import kv_bytes_per_token, kv_cache_bytes, kv_read_bytes, weight_bytes
from dsadvisor.physics.params import count_params
from dsadvisor.physics.timing import decode_attention_flops, prefill_attention_flops

CONFIGS = Path(__file__).resolve().parents[1] / "benchmarks" / "data" / "model_configs"
MILLION = 1_048_576  # "1M tokens": max_position_embeddings of V4
SHAPE_FIELDS = [f for f in Architecture.__dataclass_fields__ if f not in ("source", "note")]


def config(model: str) -> dict:
    return json.loads((CONFIGS / f"deepseek-ai--{model}_config.json").read_text())


def arch(catalog, model_id: str) -> Architecture:
    return catalog.architecture(catalog.model(model_id))


# ------------------------------------------------------------ config.json

@pytest.mark.parametrize("model,model_id", [("DeepSeek-V3.2", "deepseek-v3.2"),
                                            ("DeepSeek-V4-Flash", "deepseek-v4-flash"),
                                            ("DeepSeek-V4-Pro", "deepseek-v4-pro")])
def test_catalog_architecture_is_the_config(catalog, model, model_id):
    read = architecture_from_hf_config(config(model), f"config.json ({model})")
    ours = arch(catalog, model_id)
    for name in SHAPE_FIELDS:
        assert getattr(read, name) == getattr(ours, name), f"{model_id}.{name}"


def test_attention_kinds(catalog):
    assert arch(catalog, "deepseek-v3").attention == "mla"
    for model_id in ("deepseek-v3.2", "deepseek-v3.2-speciale", "deepseek-math-v2"):
        assert arch(catalog, model_id).attention == "mla-sparse"
    for model_id in ("deepseek-v4-flash", "deepseek-v4-pro", "deepseek-v4-flash-base", "deepseek-v4-pro-base"):
        assert arch(catalog, model_id).attention == "csa-hca"
    assert arch(catalog, "deepseek-r1-0528-qwen3-8b").attention == "gqa"
    assert arch(catalog, "deepseek-ocr").attention == "mha"


def test_v4_layer_mix(catalog):
    flash, pro = arch(catalog, "deepseek-v4-flash"), arch(catalog, "deepseek-v4-pro")
    main = lambda a: a.compress_ratios[: a.num_hidden_layers]  # noqa: E731
    assert (main(flash).count(4), main(flash).count(128), main(flash).count(0)) == (21, 20, 2)
    assert (main(pro).count(4), main(pro).count(128), main(pro).count(0)) == (30, 31, 0)
    assert len(flash.compress_ratios) == 44 and len(pro.compress_ratios) == 62  # + the MTP layer's


def test_bad_v4_shapes_are_refused():
    good = architecture_from_hf_config(config("DeepSeek-V4-Flash"), "config.json (V4-Flash)")
    base = {f: getattr(good, f) for f in Architecture.__dataclass_fields__}
    with pytest.raises(ValueError, match="compress_ratios has 3 entries"):
        validate(Architecture, {**base, "compress_ratios": (0, 4, 128)})
    with pytest.raises(ValueError, match="needs sliding_window"):
        validate(Architecture, {**base, "sliding_window": None})
    with pytest.raises(ValueError, match="indexer"):
        validate(Architecture, {**base, "index_topk": None})
    bad = {**config("DeepSeek-V4-Flash"), "compress_ratios": "4,128"}
    with pytest.raises(ValueError, match="compress_ratios"):
        architecture_from_hf_config(bad, "x.json")


# ------------------------------------------------------------ parameters vs cards

def test_v32_params_against_its_card(catalog):
    """V3.2 = V3 + the lightning indexer (13,959,424 per layer, DeepSeek's inference/model.py);
    the hub's 685B is the checkpoint with its MTP layer (and FP8 scales): within 0.5%."""
    v3, v32 = count_params(arch(catalog, "deepseek-v3")), count_params(arch(catalog, "deepseek-v3.2"))
    assert v32.total - v3.total == 61 * 13_959_424
    assert v32.total == pytest.approx(671e9, abs=1e9)
    assert v32.total_with_mtp == pytest.approx(685e9, rel=0.005)


@pytest.mark.parametrize("model_id,total,active,half_unit", [
    ("deepseek-v4-flash", 284e9, 13e9, 0.5e9),  # card: "284B parameters (13B activated)"
    ("deepseek-v4-pro", 1.6e12, 49e9, 0.05e12),  # card: "1.6T parameters (49B activated)"
])
def test_v4_params_against_the_card(catalog, model_id, total, active, half_unit):
    """Totals round to the card's figure; the active count does once the input embedding (a lookup, not a
    matmul) is left out."""
    p = count_params(arch(catalog, model_id))
    assert abs(p.total - total) <= half_unit
    assert abs(p.active - p.embedding - active) <= 0.5e9
    assert abs(p.active - active) > 0.5e9  # with the embedding it would not: the catalog note says so


def test_v4_pro_hub_size_is_fp4_packed_experts(catalog):
    """The hub lists DeepSeek-V4-Pro at 861B "parameters": its safetensors elements, where each byte packs
    two FP4 expert weights and every 32 of them carry a one-byte scale. Computed from the config with the
    MTP layer: within 1%."""
    p = count_params(arch(catalog, "deepseek-v4-pro"))
    a = arch(catalog, "deepseek-v4-pro")
    mtp_routed = a.n_routed_experts * 3 * a.hidden_size * a.moe_intermediate_size
    routed = p.routed_experts + mtp_routed
    elements = (p.total_with_mtp - routed) + routed / 2 + routed / 32
    assert elements == pytest.approx(861e9, rel=0.01)


def test_small_2025_params(catalog):
    assert count_params(arch(catalog, "deepseek-r1-0528-qwen3-8b")).total == pytest.approx(8.19e9, abs=0.01e9)
    assert count_params(arch(catalog, "deepseek-prover-v2-7b")).total == pytest.approx(6.91e9, abs=0.01e9)
    ocr = count_params(arch(catalog, "deepseek-ocr"))  # the paper's decoder: DeepSeek3B-MoE-A570M
    assert ocr.total == pytest.approx(3e9, abs=0.1e9)
    assert ocr.active - ocr.embedding == pytest.approx(570e6, abs=5e6)


# ------------------------------------------------------------ KV cache and FLOPs at 1M tokens

@pytest.mark.parametrize("kv_bytes", [2, 1])  # bf16 and fp8 caches: the ratio holds for both
@pytest.mark.parametrize("model_id,stated,band", [
    ("deepseek-v4-pro", 0.10, 0.015),   # V4 card: "10% of KV cache compared with DeepSeek-V3.2"
    ("deepseek-v4-flash", 0.07, 0.01),  # V4 report, Section 2.3: about 7% (13.7x smaller)
])
def test_v4_kv_cache_is_a_tenth_of_v32_at_1m_tokens(catalog, kv_bytes, model_id, stated, band):
    v32 = kv_cache_bytes(arch(catalog, "deepseek-v3.2"), MILLION, kv_bytes)
    v4 = kv_cache_bytes(arch(catalog, model_id), MILLION, kv_bytes)
    assert abs(v4 / v32 - stated) <= band, f"{model_id}: {v4 / v32:.3f} of V3.2's KV cache"


@pytest.mark.parametrize("model_id,stated,band", [
    ("deepseek-v4-pro", 0.27, 0.03),    # V4 card: "27% of single-token inference FLOPs"
    ("deepseek-v4-flash", 0.10, 0.03),  # V4 report, Section 2.3: about 10% (9.8x lower)
])
def test_v4_single_token_flops_against_v32_at_1m_tokens(catalog, model_id, stated, band):
    def flops(a: Architecture) -> float:
        p = count_params(a)
        return 2.0 * (p.active - p.embedding) + decode_attention_flops(a, 1, MILLION)

    ratio = flops(arch(catalog, model_id)) / flops(arch(catalog, "deepseek-v3.2"))
    assert abs(ratio - stated) <= band, f"{model_id}: {ratio:.3f} of V3.2's FLOPs"


def test_v32_kv_holds_latent_plus_fp8_indexer_key(catalog):
    """Per token and layer: MLA's latent + RoPE key (576 elements) and the indexer's 128 FP8 values with one
    fp32 scale (132 bytes)."""
    v3, v32 = arch(catalog, "deepseek-v3"), arch(catalog, "deepseek-v3.2")
    assert kv_bytes_per_token(v3, 2) == 61 * 576 * 2
    assert kv_bytes_per_token(v32, 2) == 61 * (576 * 2 + 132)
    assert kv_bytes_per_token(v32, 1) == 61 * (576 + 132)


def test_v4_kv_window_is_constant_and_compressed_part_grows(catalog):
    flash = arch(catalog, "deepseek-v4-flash")
    # up to the window every layer holds whole tokens: 43 layers x 512 x 2 bytes each, nothing compressed yet
    assert kv_cache_bytes(flash, 3, 2) == 43 * 3 * 512 * 2
    long, longer = kv_cache_bytes(flash, 2**20, 2), kv_cache_bytes(flash, 2**21, 2)
    window = 43 * 128 * 512 * 2
    assert longer - window == pytest.approx(2 * (long - window), rel=1e-3)
    assert (long - window) / 2**20 == pytest.approx(kv_bytes_per_token(flash, 2), rel=1e-3)


# ------------------------------------------------------------ sparse attention in the timing

def test_sparse_decode_attends_to_topk_not_the_context(catalog):
    v32 = arch(catalog, "deepseek-v3.2")
    dense = arch(catalog, "deepseek-v3")  # the same MLA without the indexer
    short, long = 2048, 131072
    assert decode_attention_flops(v32, 1, short) == pytest.approx(
        decode_attention_flops(dense, 1, short) + 2.0 * 61 * short * 64 * 128)
    # past index_topk the main attention stays at 2048 tokens; only the indexer's scoring grows
    main = lambda a, n: decode_attention_flops(a, 1, n) - 2.0 * 61 * n * 64 * 128  # noqa: E731
    assert main(v32, long) == pytest.approx(main(v32, short))
    assert decode_attention_flops(v32, 1, long) < decode_attention_flops(dense, 1, long) / 10
    assert kv_read_bytes(v32, long, 2) < kv_cache_bytes(v32, long, 2) / 5
    assert kv_read_bytes(dense, long, 2) == kv_cache_bytes(dense, long, 2)
    assert prefill_attention_flops(v32, 1, 32768) < prefill_attention_flops(dense, 1, 32768)


# ------------------------------------------------------------ weights, engines, estimates

def test_v4_ships_fp4_experts(catalog):
    """V4 instruct: FP8 with FP4 (MXFP4, 4.25 bits) routed experts. V4-Pro's weights (MTP not loaded)
    come to about 850 GB, against 1.6 TB were the experts FP8 too."""
    fmt = catalog.quantization("fp8-fp4experts")
    assert fmt.expert_bits == 4.25 and fmt.bits_per_weight == 8
    pro = count_params(arch(catalog, "deepseek-v4-pro"))
    native = weight_bytes(pro, fmt).total
    assert native == pytest.approx(850e9, rel=0.01)
    assert weight_bytes(pro, catalog.quantization("fp8")).total > 1.8 * native
    from dsadvisor.catalog.resolve import default_quant
    assert default_quant(catalog.model("deepseek-v4-pro")) == "fp8-fp4experts"
    assert default_quant(catalog.model("deepseek-v4-pro-base")) == "fp8"
    assert default_quant(catalog.model("deepseek-v3.2")) == "fp8"


def test_fp4_expert_format_is_offered_only_where_it_ships(catalog):
    from dsadvisor.advice.search import format_exists_for

    fmt = catalog.quantization("fp8-fp4experts")
    assert format_exists_for(fmt, catalog.model("deepseek-v4-flash"))
    assert not format_exists_for(fmt, catalog.model("deepseek-v3"))
    assert not format_exists_for(fmt, catalog.model("deepseek-v4-flash-base"))


def test_engines_that_run_the_new_attention_kinds(catalog):
    for engine in ("vllm", "sglang", "llama.cpp"):
        assert {"mla-sparse", "csa-hca"} <= set(catalog.engines[engine].attention), engine
    assert "mla-sparse" in catalog.engines["tensorrt-llm"].attention  # V3.2-Exp in its DeepSeek-V3 example
    assert "csa-hca" not in catalog.engines["tensorrt-llm"].attention


def test_estimates_for_v32_and_v4(run):
    r = run("estimate", "deepseek-v4-flash", "--gpu", "H200", "--gpus", "4", "--engine", "vllm", "-f", "json")
    assert r.code == 0, r.err
    flash = r.json()
    assert flash["deployment"]["quantization"] == "fp8-fp4experts"
    assert flash["memory"]["weights_bytes"] * 4 == pytest.approx(155.6e9, rel=0.02)
    r = run("estimate", "deepseek-v4-flash", "--gpu", "H200", "--gpus", "4", "--engine", "vllm",
            "--context", str(MILLION), "-f", "json")
    assert r.code == 0, r.err
    # a whole 1M-token sequence: about 6.2 GB of bf16 KV (on every GPU, the one shared head is replicated)
    assert r.json()["memory"]["kv_cache_bytes"] == pytest.approx(6.16e9, rel=0.02)
    r = run("estimate", "deepseek-v3.2", "--gpu", "H200", "--gpus", "8", "--engine", "sglang", "-f", "json")
    assert r.code == 0, r.err
    assert any("sparse attention" in a for a in r.json()["basis"]["assumptions"])
    r = run("estimate", "deepseek-v4-pro", "--gpu", "H200", "--gpus", "8", "--engine", "tensorrt-llm")
    assert r.code != 0 and "CSA-HCA" in r.err and "Traceback" not in r.err


# ------------------------------------------------------------ the released catalog against the sources

# DeepSeek's releases since the reference list, each with the page that names its repository.
NEW_RELEASES = {
    "deepseek-v3.2": "https://huggingface.co/deepseek-ai/DeepSeek-V3.2",
    "deepseek-v3.2-speciale": "https://huggingface.co/deepseek-ai/DeepSeek-V3.2-Speciale",
    "deepseek-math-v2": "https://huggingface.co/deepseek-ai/DeepSeek-Math-V2",
    "deepseek-v3.2-exp-base": "https://huggingface.co/deepseek-ai/DeepSeek-V3.2 (card metadata: base_model)",
    "deepseek-v4-flash": "https://huggingface.co/deepseek-ai/DeepSeek-V4-Flash",
    "deepseek-v4-flash-base": "https://huggingface.co/deepseek-ai/DeepSeek-V4-Flash-Base",
    "deepseek-v4-pro": "https://huggingface.co/deepseek-ai/DeepSeek-V4-Pro",
    "deepseek-v4-pro-base": "https://huggingface.co/deepseek-ai/DeepSeek-V4-Pro-Base",
    "deepseek-r1-0528-qwen3-8b": "https://huggingface.co/deepseek-ai/DeepSeek-R1-0528 (its distill section)",
    "deepseek-prover-v2-7b": "https://github.com/deepseek-ai/DeepSeek-Prover-V2 (README section 4)",
    "deepseek-ocr": "https://github.com/deepseek-ai/DeepSeek-OCR",
    "deepseek-v2.5-1210": "https://huggingface.co/collections/deepseek-ai/deepseek-v25 (236B, beside DeepSeek-V2.5)",
}


# Releases older than the reference list's that it leaves out, each with the page that names its repository.
EARLIER_RELEASES = {
    "deepseek-coder-5.7bmqa-base": "https://github.com/deepseek-ai/DeepSeek-Coder (README: 1B, 5.7B, 6.7B and 33B)",
    "deepseek-coder-7b-base-v1.5": "https://huggingface.co/collections/deepseek-ai/deepseek-coder",
    "deepseek-coder-7b-instruct-v1.5": "https://huggingface.co/collections/deepseek-ai/deepseek-coder",
    "deepseek-vl-7b-base": "https://github.com/deepseek-ai/DeepSeek-VL (README section 3)",
    "deepseek-vl-7b-chat": "https://github.com/deepseek-ai/DeepSeek-VL (README section 3)",
    "deepseek-prover-v1": "https://huggingface.co/collections/deepseek-ai/deepseek-prover",
    "deepseek-prover-v1.5-base": "https://github.com/deepseek-ai/DeepSeek-Prover-V1.5 (README section 3)",
    "deepseek-prover-v1.5-sft": "https://github.com/deepseek-ai/DeepSeek-Prover-V1.5 (README section 3)",
    "deepseek-prover-v1.5-rl": "https://github.com/deepseek-ai/DeepSeek-Prover-V1.5 (README section 3)",
    "deepseek-v2-chat-0628": "https://huggingface.co/deepseek-ai/DeepSeek-V2-Chat-0628",
    "deepseek-coder-v2-instruct-0724": "https://huggingface.co/collections/deepseek-ai/deepseekcoder-v2",
    "deepseek-v3.1-base": "https://huggingface.co/collections/deepseek-ai/deepseek-v31",
    "esft-vanilla-lite": "https://github.com/deepseek-ai/ESFT (scripts/eval.sh: --base_model_path deepseek-ai/ESFT-vanilla-lite)",
}

def test_released_models_count_against_the_sources(run):
    from tests.test_models_cli import RELEASED

    r = run("models", "--status", "released", "-f", "json")
    assert r.code == 0
    ids = {m["id"] for m in r.json()["models"]}
    assert set(NEW_RELEASES) <= ids and set(EARLIER_RELEASES) <= ids
    assert ids == RELEASED | set(NEW_RELEASES) | set(EARLIER_RELEASES)
    assert r.json()["count"] == len(RELEASED) + len(NEW_RELEASES) + len(EARLIER_RELEASES) == 69


# Releases the sources name that the catalog does not hold yet: no config.json (or no figures) could be read
# for them. Listed so the count above is known to be short by exactly these; each with where it was seen.
NOT_YET = {
    "deepseek-ai/DeepSeek-OCR-2": "https://github.com/deepseek-ai/DeepSeek-OCR (successor; config.json seen without its language_config); "
                                  "https://huggingface.co/docs/transformers/model_doc/deepseek_ocr2 (a DeepSeek-V2 MoE decoder; "
                                  "transformers' DeepseekOcr2TextConfig keeps DeepseekV2Config defaults, not the release's shape)",
    "deepseek-ai/Janus-Pro-1B": "https://github.com/deepseek-ai/Janus (the 1B beside Janus-Pro-7B)",
    "deepseek-ai/DeepSeek-V4.1-Flash": "https://github.com/deepseek-ai/FlashMLA (README: FlashMLA powers DeepSeek-V4.1); "
                                       "https://huggingface.co/nvidia/DeepSeek-V4.1-Flash-NVFP4 (multimodal MoE with a Causal "
                                       "Encoder-Decoder and Compressed Sparse Attention 2, an attention kind not modelled)",
    "deepseek-ai/DeepSeek-V4-Flash-0731": "https://huggingface.co/long10024070/DeepSeek-V4-Flash-0731-FP8 (an FP8 copy, deepseek_v4)",
    # The 1.3B-class vision models: their language model is DeepSeek-LLM-1.3B (never released alone); no
    # config.json of theirs with its whole shape was read (the checkpoints' own configs were seen only as file
    # lists). transformers' test fixture hf-internal-testing/tiny-processor-janus carries a 24-layer,
    # 2048-wide, 5632 MLP text_config, but it is a converted test file, not these checkpoints' config.
    "deepseek-ai/Janus-1.3B": "https://huggingface.co/deepseek-ai/Janus-1.3B/commit/08b9a5dafcb70d2acef7c0c4d6589efa1721dae4 (first commit: config.json, model.safetensors)",
    "deepseek-ai/JanusFlow-1.3B": "https://huggingface.co/deepseek-ai/JanusFlow-1.3B/tree/main (config.json 1.6 kB, model.safetensors 4.09 GB)",
    "deepseek-ai/deepseek-vl-1.3b-base": "https://github.com/deepseek-ai/DeepSeek-VL (README section 3; built on DeepSeek-LLM-1.3B-Base, shape not published)",
    "deepseek-ai/deepseek-vl-1.3b-chat": "https://huggingface.co/deepseek-ai/deepseek-vl-1.3b-chat/tree/7c5b3f5f9285ceb64cf4fb8d6c417ed758f2d074 (config.json 1.03 kB, not read)",
    # ESFT (arXiv 2407.01906): 12 expert sets of esft-vanilla-lite (catalogued), each holding only the experts its task
    # tuned (2.3-4.3 GB against the base's 31.4 GB) and loaded onto the base (scripts/download_adapters.sh, eval.sh):
    # not standalone checkpoints. One stands for the twelve, ESFT-{token,gate}-{math,code,intent,summary,law,translation}-lite.
    "deepseek-ai/ESFT-token-intent-lite": "https://huggingface.co/deepseek-ai/ESFT-token-intent-lite/tree/main (one 3.2 GB shard, expert_cfg.json; "
                                          "card: \"a specialized expert set of the base model at deepseek-ai/ESFT-vanilla-lite\")",
    # DeepSpec: speculative-decoding drafters trained for other makers' targets (Qwen3, Gemma 4), not DeepSeek models.
    "deepseek-ai/DeepSpec": "https://huggingface.co/collections/deepseek-ai/deepseek-v25 (the DeepSpec collection in deepseek-ai's list); "
                            "https://github.com/deepseek-ai/DeepSpec (config/dflash/dflash_qwen3_8b.py: drafts for Qwen3 / Gemma 4)",
}


def test_not_yet_catalogued_releases_are_really_absent(catalog):
    for repo in NOT_YET:
        assert not any(m.hf_repo == repo for m in catalog.models.values()), repo


def test_v32_exp_has_the_v32_shape(catalog):
    """V3.2-Exp (its inference code) and V3.2 (its config.json): the same sparse-MLA shape."""
    exp, v32 = arch(catalog, "deepseek-v3.2-exp"), arch(catalog, "deepseek-v3.2")
    assert exp.attention == "mla-sparse"
    assert all(getattr(exp, f) == getattr(v32, f) for f in SHAPE_FIELDS)


def test_v4_native_format_is_lossless_and_its_official_checkpoint(catalog):
    v4 = catalog.model("deepseek-v4-flash")
    assert catalog.native_formats(v4)[0] == "fp8-fp4experts"
    assert catalog.loss(v4, catalog.quantization("fp8-fp4experts")).percent == 0.0
    assert catalog.native_formats(catalog.model("deepseek-v3.2"))[0] == "fp8"


def test_a_local_v4_config_is_read_in_its_shipped_format(run):
    """`estimate --config` on V4's config.json: expert_dtype fp4 beside an fp8 quantization_config is V4's
    fp8-fp4experts, not plain FP8 (which would double the expert bytes)."""
    r = run("estimate", "--config", str(CONFIGS / "deepseek-ai--DeepSeek-V4-Flash_config.json"),
            "--gpu", "H200", "--gpus", "4", "--engine", "vllm", "-f", "json")
    assert r.code == 0, r.err
    assert r.json()["deployment"]["quantization"] == "fp8-fp4experts"
    r = run("estimate", "--config", str(CONFIGS / "deepseek-ai--DeepSeek-V3.2_config.json"),
            "--gpu", "H200", "--gpus", "8", "--engine", "vllm", "-f", "json")
    assert r.code == 0, r.err
    assert r.json()["deployment"]["quantization"] == "fp8"


# ------------------------------------------------------------ releases older than the reference list

def test_coder_v15_has_the_llm_7b_shape_not_the_coder_one(catalog):
    """Coder-7B-v1.5 "is continue pre-trained from Deepseek-LLM 7B" (its card): its config.json copy has
    LLM-7B's 30 layers, 102400 vocabulary and 4K positions, not Coder-6.7B's 32 layers and 32256 tokens."""
    v15, llm, coder = (arch(catalog, i) for i in ("deepseek-coder-7b-base-v1.5", "deepseek-llm-7b-base",
                                                  "deepseek-coder-6.7b-base"))
    assert all(getattr(v15, f) == getattr(llm, f) for f in SHAPE_FIELDS)
    assert (v15.num_hidden_layers, v15.vocab_size) != (coder.num_hidden_layers, coder.vocab_size)
    assert arch(catalog, "deepseek-coder-7b-instruct-v1.5") == v15


def test_provers_have_the_deepseekmath_shape(catalog):
    """Prover-V1 is DeepSeekMath 7B fine-tuned; Prover-V1.5-Base its continued pre-training (GH README)."""
    math7b = arch(catalog, "deepseek-math-7b-base")
    for model_id in ("deepseek-prover-v1", "deepseek-prover-v1.5-base", "deepseek-prover-v1.5-sft",
                     "deepseek-prover-v1.5-rl", "deepseek-prover-v2-7b"):
        assert all(getattr(arch(catalog, model_id), f) == getattr(math7b, f) for f in SHAPE_FIELDS), model_id
    assert count_params(math7b).total == pytest.approx(7e9, abs=0.1e9)  # the README's "7B parameters"


def test_coder_mqa_is_its_published_size_with_one_kv_head(catalog):
    """deepseek-coder-5.7bmqa-base: Coder-6.7B's layers with one KV head come to the README's 5.7B, and its
    KV cache is a 32nd of Coder-6.7B's."""
    mqa, mha = arch(catalog, "deepseek-coder-5.7bmqa-base"), arch(catalog, "deepseek-coder-6.7b-base")
    assert count_params(mqa).total == pytest.approx(5.7e9, abs=0.05e9)
    assert kv_bytes_per_token(mqa, 2) * 32 == kv_bytes_per_token(mha, 2)


def test_updates_of_earlier_releases_estimate_as_their_parent(run):
    """A fine-tune with its parent's architecture sizes exactly as the parent does."""
    for new, parent, gpu in (("deepseek-v2-chat-0628", "deepseek-v2-chat", ["--gpu", "H200", "--gpus", "8"]),
                             ("deepseek-coder-v2-instruct-0724", "deepseek-coder-v2-instruct", ["--gpu", "H200", "--gpus", "8"]),
                             ("deepseek-v3.1-base", "deepseek-v3-base", ["--gpu", "H200", "--gpus", "8"]),
                             # no serving engine loads DeepSeek-VL (vLLM, SGLang, TensorRT-LLM: no class for its
                             # MultiModalityCausalLM; llama.cpp and Ollama: no converter): transformers for both
                             ("deepseek-vl-7b-chat", "deepseek-llm-7b-chat", ["--gpu", "A100", "--vram", "40",
                                                                             "--engine", "transformers"])):
        a, b = (run("estimate", m, *gpu, "-f", "json") for m in (new, parent))
        assert a.code == 0 and b.code == 0, (a.err, b.err)
        assert a.json()["memory"]["weights_bytes"] == b.json()["memory"]["weights_bytes"], new


def test_esft_vanilla_is_v2_lite_with_a_4k_context(catalog):
    """ESFT-vanilla-lite: DeepSeek-V2-Lite's layers (its shards, 31.41 GB, are 15.7B parameters at 2 bytes) with
    the 4096 positions and no YaRN of the ESFT checkpoints' config.json."""
    esft, lite = arch(catalog, "esft-vanilla-lite"), arch(catalog, "deepseek-v2-lite")
    differs = [f for f in SHAPE_FIELDS if getattr(esft, f) != getattr(lite, f)]
    assert differs == ["max_position_embeddings"] and esft.max_position_embeddings == 4096
    assert 2 * count_params(esft).total == pytest.approx(31.41e9, rel=0.002)
