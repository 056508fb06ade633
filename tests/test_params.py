"""Parameter counts computed from the catalog's architectures, checked against published figures.

* Every released entry with an architecture (own or via ``architecture_from``) and a published
  ``params`` figure: the computed count must round to the published one at the figure's own
  precision (8030261248 exactly; 16.4e9 to +-0.05e9; 671e9 to +-0.5e9). Where it does not, the
  entry's ParamCount note must record the discrepancy with the computed figure written out.
* The calibration set's exact counts (transformers' count of models built from the configs).
* Hugging Face config.json dicts (llama, qwen2, deepseek, deepseek_v2, deepseek_v3) read by
  ``architecture_from_hf_config`` give the catalog's architectures back.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dsadvisor.catalog.hfconfig import architecture_from_hf_config
from dsadvisor.catalog.loading import read_yaml
from dsadvisor.physics.params import ParamBreakdown, count_params
from dsadvisor.catalog.schema import Architecture, CatalogFile, ModelEntry, field_names, validate

RELEASED = Path(__file__).resolve().parents[1] / "catalog" / "models" / "released"

EXPECTED_FILES = {
    "llm.yaml": {"deepseek-llm-7b-base", "deepseek-llm-7b-chat", "deepseek-llm-67b-base", "deepseek-llm-67b-chat"},
    "coder.yaml": {
        f"deepseek-coder-{s}-{v}" for s in ("1.3b", "6.7b", "33b") for v in ("base", "instruct")
    } | {"deepseek-coder-5.7bmqa-base", "deepseek-coder-7b-base-v1.5", "deepseek-coder-7b-instruct-v1.5"},
    "math.yaml": {"deepseek-math-7b-base", "deepseek-math-7b-instruct", "deepseek-math-7b-rl"},
    "moe.yaml": {"deepseek-moe-16b-base", "deepseek-moe-16b-chat"},
    "v2.yaml": {
        "deepseek-v2", "deepseek-v2-chat", "deepseek-v2-lite", "deepseek-v2-lite-chat", "deepseek-v2.5", "deepseek-v2.5-1210",
        "deepseek-coder-v2-lite-base", "deepseek-coder-v2-lite-instruct",
        "deepseek-coder-v2-base", "deepseek-coder-v2-instruct", "deepseek-v2-chat-0628", "deepseek-coder-v2-instruct-0724",
    },
    "v3.yaml": {
        "deepseek-v3", "deepseek-v3-base", "deepseek-v3-0324", "deepseek-v3.1", "deepseek-v3.1-terminus",
        "deepseek-v3.2-exp", "deepseek-prover-v2-671b", "deepseek-v3.1-base",
    },
    "r1.yaml": {"deepseek-r1", "deepseek-r1-zero", "deepseek-r1-0528"},
    "r1-distill.yaml": {
        f"deepseek-r1-distill-{s}" for s in ("qwen-1.5b", "qwen-7b", "qwen-14b", "qwen-32b", "llama-8b", "llama-70b")
    },
    "vl2.yaml": {"deepseek-vl2", "deepseek-vl2-small", "deepseek-vl2-tiny"},
    "janus.yaml": {"janus-pro-7b"},
    "v3.2.yaml": {"deepseek-v3.2", "deepseek-v3.2-speciale", "deepseek-math-v2", "deepseek-v3.2-exp-base"},
    "v4.yaml": {"deepseek-v4-flash", "deepseek-v4-flash-base", "deepseek-v4-pro", "deepseek-v4-pro-base"},
    "small-2025.yaml": {"deepseek-r1-0528-qwen3-8b", "deepseek-prover-v2-7b", "deepseek-ocr"},
    "prover.yaml": {"deepseek-prover-v1", "deepseek-prover-v1.5-base", "deepseek-prover-v1.5-sft", "deepseek-prover-v1.5-rl"},
    "vl.yaml": {"deepseek-vl-7b-base", "deepseek-vl-7b-chat"},
    "esft.yaml": {"esft-vanilla-lite"},
}

SHAPE_FIELDS = [
    name for name in field_names(Architecture) if name not in ("source", "note")
]


# ------------------------------------------------------------------ loading

def _load() -> dict[str, tuple[str, ModelEntry]]:
    entries: dict[str, tuple[str, ModelEntry]] = {}
    for path in sorted(RELEASED.glob("*.yaml")):
        catalog = validate(CatalogFile, read_yaml(path))
        for entry in catalog.models:
            assert entry.id not in entries, f"{entry.id} appears twice"
            entries[entry.id] = (path.name, entry)
    return entries


ENTRIES = _load()


def resolve(entry: ModelEntry) -> Architecture | None:
    if entry.architecture is not None:
        return entry.architecture
    if entry.architecture_from is not None:
        target = ENTRIES[entry.architecture_from][1]
        assert target.architecture is not None, f"{entry.id}: architecture_from {target.id} has no architecture"
        return target.architecture
    return None


def half_unit(published: float) -> float:
    """Half a unit in the last significant digit of a published figure: 16.4e9 -> 0.05e9."""
    n = int(round(published))
    assert n == published, f"{published} is not a whole number of parameters"
    digits = str(n)
    zeros = len(digits) - len(digits.rstrip("0"))
    return 0.5 * 10**zeros


def entry(id_: str) -> ModelEntry:
    return ENTRIES[id_][1]


# ------------------------------------------------------------- catalog shape

def test_files_hold_the_expected_entries():
    by_file: dict[str, set[str]] = {}
    for id_, (fname, _) in ENTRIES.items():
        by_file.setdefault(fname, set()).add(id_)
    assert by_file == EXPECTED_FILES


def test_entries_are_released_models_named_after_their_repo():
    for id_, (_, e) in ENTRIES.items():
        assert e.status == "released" and e.kind == "model", id_
        assert e.hf_repo and e.hf_repo.startswith("deepseek-ai/"), id_
        assert e.hf_repo.split("/")[1].lower() == id_, id_
        assert e.architecture is not None or e.architecture_from is not None or e.params, id_


def test_aliases_are_unique():
    seen: dict[str, str] = {}
    ids = {i.lower() for i in ENTRIES}
    for id_, (_, e) in ENTRIES.items():
        for alias in e.aliases:
            key = alias.lower()
            assert key not in seen, f"alias {alias!r} of {id_} is also {seen[key]}'s"
            assert key not in ids or key == id_, f"alias {alias!r} of {id_} is another entry's id"
            seen[key] = id_


def test_architecture_from_points_at_an_architecture():
    for id_, (_, e) in ENTRIES.items():
        if e.architecture_from is not None:
            assert e.architecture_from in ENTRIES, id_
            assert entry(e.architecture_from).architecture is not None, f"{id_}: chained architecture_from"


def test_sources_mapping_lives_in_llm_yaml():
    catalog = validate(CatalogFile, read_yaml(RELEASED / "llm.yaml"))
    for label in ("GH:V3", "GH:V2", "GH:R1", "GH:LLM", "GH:Coder", "GH:MoE", "GH:Math", "GH:VL2", "HF"):
        assert label in catalog.sources


def test_architecture_details():
    for id_, (_, e) in ENTRIES.items():
        arch = resolve(e)
        if arch is None:
            continue
        assert not arch.tie_word_embeddings, id_
        if arch.is_mla:
            assert arch.head_dim == arch.qk_nope_head_dim + arch.qk_rope_head_dim, id_
            assert arch.num_key_value_heads == arch.num_attention_heads, id_
        elif arch.attention == "csa-hca":  # DeepSeek-V4: one shared K=V head of 512
            assert (arch.head_dim, arch.num_key_value_heads) == (512, 1), id_
        else:
            assert arch.head_dim == 128, id_
        assert arch.attention_bias == (arch.model_type == "qwen2"), id_
    v3 = entry("deepseek-v3").architecture
    assert (v3.num_nextn_predict_layers, v3.scoring_bias, v3.first_k_dense_replace) == (1, True, 3)
    for id_ in ("deepseek-v2", "deepseek-v2-lite", "deepseek-moe-16b-base"):
        assert entry(id_).architecture.first_k_dense_replace == 1
    assert entry("deepseek-moe-16b-base").architecture.attention == "mha"
    assert entry("deepseek-v2-lite").architecture.q_lora_rank is None


# ------------------------------------------------------ computed vs published

PUBLISHED = [
    (id_, i, pc)
    for id_, (_, e) in ENTRIES.items()
    if resolve(e) is not None
    for i, pc in enumerate(e.params)
]


@pytest.mark.parametrize("id_,index,pc", PUBLISHED, ids=[f"{p[0]}#{p[1]}" for p in PUBLISHED])
def test_computed_params_match_published(id_, index, pc):
    counts = count_params(resolve(entry(id_)))
    figures = [("total", pc.total, counts.total)]
    if pc.active is not None:
        figures.append(("active", pc.active, counts.active))
    for what, published, computed in figures:
        tolerance = half_unit(published)
        if abs(computed - published) <= tolerance:
            continue
        # Beyond rounding: the entry must say so, with the computed figure written out.
        note = (pc.note or "").lower()
        assert "discrepancy" in note and f"{computed:,}" in (pc.note or ""), (
            f"{id_}: computed {what} {computed:,} vs published {published:,.0f} (+-{tolerance:,.0f}) "
            "and the ParamCount note does not record the discrepancy"
        )


def test_every_architecture_with_published_params_was_checked():
    checked = {p[0] for p in PUBLISHED}
    assert {"deepseek-r1-distill-llama-8b", "deepseek-v3", "deepseek-v2", "deepseek-v2-lite",
            "deepseek-moe-16b-base", "deepseek-vl2"} <= checked


def test_r1_distill_llama_8b_exact():
    assert count_params(resolve(entry("deepseek-r1-distill-llama-8b"))).total == 8_030_261_248


def test_v3_totals():
    counts = count_params(entry("deepseek-v3").architecture)
    assert counts.total == pytest.approx(671e9, rel=0.015)
    assert counts.active == pytest.approx(37e9, rel=0.015)
    assert counts.total_with_mtp == pytest.approx(685e9, rel=0.015)
    assert counts.mtp == pytest.approx(11.5e9, rel=0.015)  # README_WEIGHTS.md: 11.5B unique
    assert counts.embedding == counts.lm_head == pytest.approx(0.9e9, rel=0.05)  # "0.9B embedding, 0.9B head"
    # every reference to the V3 shape computes the same
    for id_ in ("deepseek-r1", "deepseek-r1-0528", "deepseek-v3.1", "deepseek-prover-v2-671b"):
        assert count_params(resolve(entry(id_))) == counts
    # V3.2-Exp and V3.2: the V3 shape plus the lightning indexer (13,959,424 per layer)
    for id_ in ("deepseek-v3.2-exp", "deepseek-v3.2"):
        assert count_params(resolve(entry(id_))).total == counts.total + 61 * 13_959_424, id_


@pytest.mark.parametrize(
    "id_,total,active",
    [
        ("deepseek-v2", 236e9, 21e9),
        ("deepseek-moe-16b-base", 16.4e9, 2.8e9),
    ],
)
def test_moe_totals_named_in_the_brief(id_, total, active):
    counts = count_params(entry(id_).architecture)
    assert abs(counts.total - total) <= half_unit(total)
    assert abs(counts.active - active) <= half_unit(active)


def test_v2_lite_total_matches_and_active_discrepancy_is_recorded():
    counts = count_params(entry("deepseek-v2-lite").architecture)
    assert abs(counts.total - 15.7e9) <= 0.05e9
    assert counts.active == 2_661_150_208  # published 2.4B: recorded as a discrepancy in the entry
    assert "2,661,150,208" in entry("deepseek-v2-lite").params[0].note


# --------------------------------------------------------------- calibration

# shared/calibration/h100-transformers-memory.jsonl, kind: model rows: the configs used and
# the parameter count of the model transformers 5.17 built from each (exact).
CALIBRATION = [
    ("deepseek-coder-1.3b", "deepseek-coder-1.3b-base", 1_346_471_936, {
        "model_type": "llama", "hidden_size": 2048, "intermediate_size": 5504, "num_hidden_layers": 24,
        "num_attention_heads": 16, "num_key_value_heads": 16, "vocab_size": 32256,
        "max_position_embeddings": 16384, "rope_theta": 100000.0, "tie_word_embeddings": False}),
    ("deepseek-llm-7b", "deepseek-llm-7b-base", 6_910_365_696, {
        "model_type": "llama", "hidden_size": 4096, "intermediate_size": 11008, "num_hidden_layers": 30,
        "num_attention_heads": 32, "num_key_value_heads": 32, "vocab_size": 102400,
        "max_position_embeddings": 4096, "tie_word_embeddings": False}),
    ("r1-distill-qwen-7b", "deepseek-r1-distill-qwen-7b", 7_615_616_512, {
        "model_type": "qwen2", "hidden_size": 3584, "intermediate_size": 18944, "num_hidden_layers": 28,
        "num_attention_heads": 28, "num_key_value_heads": 4, "vocab_size": 152064,
        "max_position_embeddings": 131072, "tie_word_embeddings": False, "use_sliding_window": False}),
    ("r1-distill-qwen-14b", "deepseek-r1-distill-qwen-14b", 14_770_033_664, {
        "model_type": "qwen2", "hidden_size": 5120, "intermediate_size": 13824, "num_hidden_layers": 48,
        "num_attention_heads": 40, "num_key_value_heads": 8, "vocab_size": 152064,
        "max_position_embeddings": 131072, "tie_word_embeddings": False, "use_sliding_window": False}),
]


@pytest.mark.parametrize("name,catalog_id,params,config", CALIBRATION, ids=[c[0] for c in CALIBRATION])
def test_calibration_counts_exact(name, catalog_id, params, config):
    arch = architecture_from_hf_config(config, source=f"calibration {name}")
    assert count_params(arch).total == params
    assert count_params(resolve(entry(catalog_id))).total == params


# ---------------------------------------------------------- hf config reading

LLAMA_8B = {  # deepseek-ai/DeepSeek-R1-Distill-Llama-8B config.json
    "architectures": ["LlamaForCausalLM"],
    "attention_bias": False,
    "attention_dropout": 0.0,
    "bos_token_id": 128000,
    "eos_token_id": 128001,
    "hidden_act": "silu",
    "hidden_size": 4096,
    "initializer_range": 0.02,
    "intermediate_size": 14336,
    "max_position_embeddings": 131072,
    "mlp_bias": False,
    "model_type": "llama",
    "num_attention_heads": 32,
    "num_hidden_layers": 32,
    "num_key_value_heads": 8,
    "pretraining_tp": 1,
    "rms_norm_eps": 1e-05,
    "rope_scaling": {
        "factor": 8.0,
        "high_freq_factor": 4.0,
        "low_freq_factor": 1.0,
        "original_max_position_embeddings": 8192,
        "rope_type": "llama3",
    },
    "rope_theta": 500000.0,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
    "use_cache": True,
    "vocab_size": 128256,
}

QWEN2_7B = {  # deepseek-ai/DeepSeek-R1-Distill-Qwen-7B config.json
    "architectures": ["Qwen2ForCausalLM"],
    "attention_dropout": 0.0,
    "bos_token_id": 151643,
    "eos_token_id": 151643,
    "hidden_act": "silu",
    "hidden_size": 3584,
    "initializer_range": 0.02,
    "intermediate_size": 18944,
    "max_position_embeddings": 131072,
    "max_window_layers": 28,
    "model_type": "qwen2",
    "num_attention_heads": 28,
    "num_hidden_layers": 28,
    "num_key_value_heads": 4,
    "rms_norm_eps": 1e-06,
    "rope_theta": 10000,
    "sliding_window": 4096,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
    "use_cache": True,
    "use_mrope": False,
    "use_sliding_window": False,
    "vocab_size": 152064,
}

DEEPSEEK_V3 = {  # deepseek-ai/DeepSeek-V3 config.json (auto_map left out)
    "architectures": ["DeepseekV3ForCausalLM"],
    "attention_bias": False,
    "attention_dropout": 0.0,
    "aux_loss_alpha": 0.001,
    "bos_token_id": 0,
    "eos_token_id": 1,
    "ep_size": 1,
    "first_k_dense_replace": 3,
    "hidden_act": "silu",
    "hidden_size": 7168,
    "initializer_range": 0.02,
    "intermediate_size": 18432,
    "kv_lora_rank": 512,
    "max_position_embeddings": 163840,
    "model_type": "deepseek_v3",
    "moe_intermediate_size": 2048,
    "moe_layer_freq": 1,
    "n_group": 8,
    "n_routed_experts": 256,
    "n_shared_experts": 1,
    "norm_topk_prob": True,
    "num_attention_heads": 128,
    "num_experts_per_tok": 8,
    "num_hidden_layers": 61,
    "num_key_value_heads": 128,
    "num_nextn_predict_layers": 1,
    "pretraining_tp": 1,
    "q_lora_rank": 1536,
    "qk_nope_head_dim": 128,
    "qk_rope_head_dim": 64,
    "quantization_config": {
        "activation_scheme": "dynamic",
        "fmt": "e4m3",
        "quant_method": "fp8",
        "weight_block_size": [128, 128],
    },
    "rms_norm_eps": 1e-06,
    "rope_scaling": {
        "beta_fast": 32,
        "beta_slow": 1,
        "factor": 40,
        "mscale": 1.0,
        "mscale_all_dim": 1.0,
        "original_max_position_embeddings": 4096,
        "type": "yarn",
    },
    "rope_theta": 10000,
    "routed_scaling_factor": 2.5,
    "scoring_func": "sigmoid",
    "seq_aux": True,
    "tie_word_embeddings": False,
    "topk_group": 4,
    "topk_method": "noaux_tc",
    "torch_dtype": "bfloat16",
    "use_cache": True,
    "v_head_dim": 128,
    "vocab_size": 129280,
}

DEEPSEEK_V2_LITE = {  # deepseek-ai/DeepSeek-V2-Lite config.json (shape keys)
    "architectures": ["DeepseekV2ForCausalLM"],
    "attention_bias": False,
    "first_k_dense_replace": 1,
    "hidden_size": 2048,
    "intermediate_size": 10944,
    "kv_lora_rank": 512,
    "max_position_embeddings": 163840,
    "model_type": "deepseek_v2",
    "moe_intermediate_size": 1408,
    "moe_layer_freq": 1,
    "n_group": 1,
    "n_routed_experts": 64,
    "n_shared_experts": 2,
    "num_attention_heads": 16,
    "num_experts_per_tok": 6,
    "num_hidden_layers": 27,
    "num_key_value_heads": 16,
    "q_lora_rank": None,
    "qk_nope_head_dim": 128,
    "qk_rope_head_dim": 64,
    "tie_word_embeddings": False,
    "topk_group": 1,
    "topk_method": "greedy",
    "v_head_dim": 128,
    "vocab_size": 102400,
}

DEEPSEEK_MOE_16B = {  # deepseek-ai/deepseek-moe-16b-base config.json (shape keys)
    "architectures": ["DeepseekForCausalLM"],
    "attention_bias": False,
    "first_k_dense_replace": 1,
    "hidden_size": 2048,
    "intermediate_size": 10944,
    "max_position_embeddings": 4096,
    "model_type": "deepseek",
    "moe_intermediate_size": 1408,
    "moe_layer_freq": 1,
    "n_routed_experts": 64,
    "n_shared_experts": 2,
    "num_attention_heads": 16,
    "num_experts_per_tok": 6,
    "num_hidden_layers": 28,
    "num_key_value_heads": 16,
    "scoring_func": "softmax",
    "tie_word_embeddings": False,
    "vocab_size": 102400,
}


def _shape(arch: Architecture) -> dict:
    return {name: getattr(arch, name) for name in SHAPE_FIELDS}


@pytest.mark.parametrize(
    "config,catalog_id",
    [
        (LLAMA_8B, "deepseek-r1-distill-llama-8b"),
        (QWEN2_7B, "deepseek-r1-distill-qwen-7b"),
        (DEEPSEEK_V3, "deepseek-v3"),
        (DEEPSEEK_V2_LITE, "deepseek-v2-lite"),
        (DEEPSEEK_MOE_16B, "deepseek-moe-16b-base"),
    ],
    ids=["llama", "qwen2", "deepseek_v3", "deepseek_v2", "deepseek"],
)
def test_hf_config_round_trip(config, catalog_id):
    arch = architecture_from_hf_config(config, source=f"HF config.json ({catalog_id})")
    assert arch.source == f"HF config.json ({catalog_id})"
    assert _shape(arch) == _shape(entry(catalog_id).architecture)
    assert count_params(arch) == count_params(entry(catalog_id).architecture)


def test_hf_config_specifics():
    qwen = architecture_from_hf_config(QWEN2_7B, "t-qwen")
    assert qwen.attention_bias and qwen.sliding_window is None and qwen.head_dim == 128
    v3 = architecture_from_hf_config(DEEPSEEK_V3, "t-v3")
    assert v3.attention == "mla" and v3.head_dim == 192 and v3.scoring_bias and v3.num_nextn_predict_layers == 1
    lite = architecture_from_hf_config(DEEPSEEK_V2_LITE, "t-lite")
    assert lite.q_lora_rank is None and not lite.scoring_bias
    moe = architecture_from_hf_config(DEEPSEEK_MOE_16B, "t-moe")
    assert moe.attention == "mha" and moe.n_shared_experts == 2


def test_hf_config_generic_defaults():
    config = {
        "model_type": "somebody_new", "num_hidden_layers": 2, "hidden_size": 512, "intermediate_size": 1024,
        "vocab_size": 1000, "num_attention_heads": 8, "max_position_embeddings": 2048,
    }
    arch = architecture_from_hf_config(config, "test")
    assert (arch.head_dim, arch.num_key_value_heads) == (64, 8)
    assert not arch.tie_word_embeddings and not arch.attention_bias and not arch.is_moe
    arch = architecture_from_hf_config({**config, "tie_word_embeddings": True}, "test")
    assert count_params(arch).lm_head == 0


def test_hf_config_nested_language_config():
    config = {"model_type": "multi_modality", "language_config": {k: v for k, v in LLAMA_8B.items()}}
    assert _shape(architecture_from_hf_config(config, "test")) == _shape(entry("deepseek-r1-distill-llama-8b").architecture)


def test_hf_config_mixtral():
    mixtral = {  # mistralai/Mixtral-8x7B-v0.1 config.json (shape keys)
        "model_type": "mixtral", "hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 32,
        "num_attention_heads": 32, "num_key_value_heads": 8, "num_local_experts": 8, "num_experts_per_tok": 2,
        "vocab_size": 32000, "max_position_embeddings": 32768, "sliding_window": None,
        "tie_word_embeddings": False,
    }
    counts = count_params(architecture_from_hf_config(mixtral, "test"))
    assert counts.total == 46_702_792_704  # Mixtral-8x7B's well-known exact count
    assert counts.active == pytest.approx(12.9e9, rel=0.01)


def test_hf_config_qwen_moe():
    """Qwen's MoE names (num_experts, moe_intermediate_size, shared_expert_intermediate_size) were not read: a
    Qwen3-30B-A3B config.json was sized as a dense 3.3B model (6.7 GB of bf16 weights instead of 61)."""
    qwen3 = {  # Qwen/Qwen3-30B-A3B config.json (shape keys); its card: 30.5B in total, 3.3B activated
        "model_type": "qwen3_moe", "hidden_size": 2048, "intermediate_size": 6144, "moe_intermediate_size": 768,
        "num_experts": 128, "num_experts_per_tok": 8, "num_hidden_layers": 48, "num_attention_heads": 32,
        "num_key_value_heads": 4, "head_dim": 128, "vocab_size": 151936, "max_position_embeddings": 40960,
        "tie_word_embeddings": False, "decoder_sparse_step": 1, "mlp_only_layers": [],
    }
    counts = count_params(architecture_from_hf_config(qwen3, "test"))
    assert counts.total == pytest.approx(30.5e9, rel=0.01) and counts.active == pytest.approx(3.3e9, rel=0.03)
    qwen15 = {  # Qwen/Qwen1.5-MoE-A2.7B config.json; its card: 14.3B in total, 2.7B activated
        "model_type": "qwen2_moe", "hidden_size": 2048, "intermediate_size": 5632, "moe_intermediate_size": 1408,
        "shared_expert_intermediate_size": 5632, "num_experts": 60, "num_experts_per_tok": 4,
        "num_hidden_layers": 24, "num_attention_heads": 16, "num_key_value_heads": 16, "vocab_size": 151936,
        "max_position_embeddings": 8192, "tie_word_embeddings": False,
    }
    counts = count_params(architecture_from_hf_config(qwen15, "test"))
    assert counts.total == pytest.approx(14.3e9, rel=0.01) and counts.active == pytest.approx(2.7e9, rel=0.01)
    with pytest.raises(ValueError, match="moe_intermediate_size"):
        architecture_from_hf_config({k: v for k, v in qwen3.items() if k != "moe_intermediate_size"}, "test")
    with pytest.raises(ValueError, match="mlp_only_layers"):
        architecture_from_hf_config({**qwen3, "mlp_only_layers": [0, 1]}, "test")


@pytest.mark.parametrize("missing", ["hidden_size", "num_hidden_layers", "vocab_size", "max_position_embeddings"])
def test_hf_config_missing_key_names_it(missing):
    config = {k: v for k, v in LLAMA_8B.items() if k != missing}
    with pytest.raises(ValueError, match=missing) as err:
        architecture_from_hf_config(config, "test")
    assert "\n" not in str(err.value)


def test_hf_config_missing_mla_key_names_it():
    config = {k: v for k, v in DEEPSEEK_V3.items() if k != "qk_rope_head_dim"}
    with pytest.raises(ValueError, match="qk_rope_head_dim"):
        architecture_from_hf_config(config, "test")


def test_hf_config_missing_model_type():
    with pytest.raises(ValueError, match="model_type"):
        architecture_from_hf_config({k: v for k, v in LLAMA_8B.items() if k != "model_type"}, "test")


# ------------------------------------------------------------ the breakdown

def test_breakdown_properties():
    b = ParamBreakdown(
        embedding=10, lm_head=10, attention=5, dense_mlp=3, routed_experts=100, shared_experts=4,
        router=2, norms=1, mtp=7, active_routed=20,
    )
    assert b.total == 135
    assert b.total_with_mtp == 142
    assert b.active == 55
    assert b.non_embedding == 115


def test_dense_breakdown_llama_8b():
    b = count_params(resolve(entry("deepseek-r1-distill-llama-8b")))
    assert b.embedding == b.lm_head == 128256 * 4096
    assert b.routed_experts == b.shared_experts == b.router == b.mtp == b.active_routed == 0
    assert b.attention == 32 * (2 * 4096 * 4096 + 2 * 4096 * 1024)
    assert b.dense_mlp == 32 * 3 * 4096 * 14336
    assert b.norms == 65 * 4096
    assert b.active == b.total
