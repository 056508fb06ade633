"""Reading a Hugging Face ``config.json`` into the catalog's :class:`Architecture`.

Handles the shapes DeepSeek ships or distils onto: ``llama``, ``qwen2``,
``mistral``, ``deepseek`` (DeepSeekMoE-16B: MoE with ordinary multi-head
attention), ``deepseek_v2`` / ``deepseek_v3`` / ``deepseek_v32`` (MLA + MoE; V3.2's
sparse-attention indexer), ``deepseek_v4`` (shared-KV attention with per-layer
compression, mHC, hash-routed first layers; its shared expert is moe_intermediate_size
wide, which stands in for the missing intermediate_size), Mixtral-style MoE
(``num_local_experts``) and Qwen-style MoE (``num_experts``, ``shared_expert_intermediate_size``). Other model types are read with the
generic rules: ``head_dim`` defaults to hidden_size / num_attention_heads,
``num_key_value_heads`` to num_attention_heads, ``tie_word_embeddings`` and
``attention_bias`` to false.

Multimodal configs that nest the language model (``language_config`` in
DeepSeek-VL2 and Janus, ``text_config`` elsewhere: Kimi-K2.5's is DeepSeek-V3's
``kimi_k2``) are read from that part; the vision tower is not counted (a note says so).

Anything that cannot describe a model raises :class:`ValueError` with one line
naming the missing or bad key.
"""

from __future__ import annotations

import math
from typing import Any

from dsadvisor.catalog.schema import Architecture, validate

REQUIRED = (
    "num_hidden_layers",
    "hidden_size",
    "intermediate_size",
    "vocab_size",
    "num_attention_heads",
    "max_position_embeddings",
)

MLA_TYPES = {"deepseek_v2", "deepseek_v3", "deepseek_v32"}
# Model types whose q/k/v projections always carry biases though config.json does not say so.
QKV_BIAS_TYPES = {"qwen2", "qwen2_vl"}
# Model types whose MoE gate carries V3's e_score_correction_bias (one float per routed expert).
SCORING_BIAS_TYPES = {"deepseek_v3", "deepseek_v32", "deepseek_v4"}
# DeepSeek-V4's keys beyond the common ones, read as config.json names them (integers).
V4_INT_KEYS = ("q_lora_rank", "qk_rope_head_dim", "o_groups", "o_lora_rank", "hc_mult", "num_hash_layers")
INDEX_KEYS = ("index_n_heads", "index_head_dim", "index_topk")


def language_part(config: dict[str, Any]) -> dict[str, Any]:
    """The language model's config: the dict itself, or its nested language/text config."""
    if "hidden_size" in config:
        return config
    for key in ("language_config", "text_config", "llm_config"):
        inner = config.get(key)
        if isinstance(inner, dict):
            return inner
    return config


def _int(cfg: dict[str, Any], key: str, default: int | None = None) -> int | None:
    value = cfg.get(key, default)
    if value is None:
        return None
    if (isinstance(value, bool) or not isinstance(value, (int, float))
            or (isinstance(value, float) and not math.isfinite(value)) or int(value) != value):
        raise ValueError(f"config.json key {key!r} must be an integer, not {value!r}")
    return int(value)


def architecture_from_hf_config(config: dict, source: str) -> Architecture:
    """Map a Hugging Face ``config.json`` dict to the catalog's :class:`Architecture`.

    ``source`` names where the config was read (e.g. ``"HF config.json (deepseek-ai/DeepSeek-V3)"``).
    """
    if not isinstance(config, dict):
        raise ValueError(f"config.json must be a JSON object, not {type(config).__name__}")
    cfg = language_part(config)
    model_type = cfg.get("model_type") or config.get("model_type")
    if not model_type:
        raise ValueError("config.json has no 'model_type'")
    model_type = str(model_type)
    if cfg.get("intermediate_size") is None and model_type == "deepseek_v4":
        cfg = {**cfg, "intermediate_size": cfg.get("moe_intermediate_size")}  # the shared expert's width
    for key in REQUIRED:
        if cfg.get(key) is None:
            raise ValueError(f"config.json ({model_type}) has no {key!r}")
    notes: list[str] = []
    fields = _dense_fields(cfg, config, model_type, source)
    fields.update(_attention_fields(cfg, model_type, fields["hidden_size"], fields["num_attention_heads"], notes))
    fields.update(_moe_fields(cfg, model_type, fields["intermediate_size"], notes))
    fields["num_nextn_predict_layers"] = _int(cfg, "num_nextn_predict_layers", 0) or 0
    window = cfg.get("sliding_window")
    if window and cfg.get("use_sliding_window", True):
        fields["sliding_window"] = _int(cfg, "sliding_window")
    fields.update(_sparse_fields(cfg, model_type))
    if cfg is not config and isinstance(config.get("vision_config"), dict):
        notes.append("the vision tower (vision_config) is not counted: it runs once per image, and Kimi-K2.5's "
                     "MoonViT (27 layers of 1,152, about 0.4 B parameters) is under 0.1 % of the weights")
    if notes:
        fields["note"] = "; ".join(notes)
    return _validated(fields, model_type)


def _dense_fields(cfg: dict[str, Any], config: dict[str, Any], model_type: str, source: str) -> dict[str, Any]:
    """What every transformer has: sizes, heads, vocabulary, context, tied embeddings, biases."""
    hidden = _int(cfg, "hidden_size")
    heads = _int(cfg, "num_attention_heads")
    assert hidden is not None and heads is not None
    if heads < 1:  # before hidden_size % heads in _attention_fields
        raise ValueError(f"config.json ({model_type}) 'num_attention_heads' must be at least 1, not {heads}")
    bias = cfg.get("attention_bias")  # Qwen2 always has q/k/v biases; others say so with attention_bias
    return {
        "source": source,
        "model_type": model_type,
        "num_hidden_layers": _int(cfg, "num_hidden_layers"),
        "hidden_size": hidden,
        "intermediate_size": _int(cfg, "intermediate_size"),
        "vocab_size": _int(cfg, "vocab_size"),
        "num_attention_heads": heads,
        "num_key_value_heads": _int(cfg, "num_key_value_heads") or heads,
        "max_position_embeddings": _int(cfg, "max_position_embeddings"),
        "tie_word_embeddings": bool(cfg.get("tie_word_embeddings", config.get("tie_word_embeddings", False))),
        "attention_bias": bool(bias) if bias is not None else model_type in QKV_BIAS_TYPES,
    }


def _attention_fields(cfg: dict[str, Any], model_type: str, hidden: int, heads: int,
                      notes: list[str]) -> dict[str, Any]:
    """MLA's lora ranks and split head dims (head_dim is the q/k head width, nope + rope), else head_dim."""
    fields: dict[str, Any] = {}
    if cfg.get("kv_lora_rank") is not None or model_type in MLA_TYPES:
        for key in ("kv_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim"):
            if cfg.get(key) is None:
                raise ValueError(f"config.json ({model_type}) has no {key!r} (needed for MLA)")
            fields[key] = _int(cfg, key)
        fields["q_lora_rank"] = _int(cfg, "q_lora_rank")  # null in V2-Lite: q is projected directly
        fields["head_dim"] = fields["qk_nope_head_dim"] + fields["qk_rope_head_dim"]
        notes.append("MLA: head_dim = qk_nope_head_dim + qk_rope_head_dim; num_key_value_heads is nominal")
        return fields
    head_dim = _int(cfg, "head_dim")
    if head_dim is None:
        if hidden % heads:
            raise ValueError(f"config.json ({model_type}) has no 'head_dim' and hidden_size {hidden} "
                             f"is not a multiple of num_attention_heads {heads}")
        head_dim = hidden // heads
    fields["head_dim"] = head_dim
    return fields


def _sparse_fields(cfg: dict[str, Any], model_type: str) -> dict[str, Any]:
    """V3.2's indexer and V4's compression, mHC and hash routing, where config.json has them."""
    fields: dict[str, Any] = {k: _int(cfg, k) for k in INDEX_KEYS if cfg.get(k) is not None}
    ratios = cfg.get("compress_ratios")
    if ratios is not None:
        if not isinstance(ratios, list) or not all(isinstance(r, int) and not isinstance(r, bool) for r in ratios):
            raise ValueError(f"config.json ({model_type}) 'compress_ratios' must be a list of integers")
        fields["compress_ratios"] = tuple(ratios)
        fields.update({k: _int(cfg, k) for k in V4_INT_KEYS if cfg.get(k) is not None})
        if cfg.get("expert_dtype") in ("fp4", "fp8", "bf16"):
            fields["expert_dtype"] = cfg["expert_dtype"]
    return fields


def _moe_fields(cfg: dict[str, Any], model_type: str, intermediate: int, notes: list[str]) -> dict[str, Any]:
    """MoE in DeepSeek's names, or Mixtral's (every layer MoE, experts as wide as intermediate_size)."""
    if cfg.get("n_routed_experts") is not None:
        for key in ("moe_intermediate_size", "num_experts_per_tok"):
            if cfg.get(key) is None:
                raise ValueError(f"config.json ({model_type}) has no {key!r} (needed with n_routed_experts)")
        return {
            "n_routed_experts": _int(cfg, "n_routed_experts"),
            "moe_intermediate_size": _int(cfg, "moe_intermediate_size"),
            "num_experts_per_tok": _int(cfg, "num_experts_per_tok"),
            "n_shared_experts": _int(cfg, "n_shared_experts", 0) or 0,
            "first_k_dense_replace": _int(cfg, "first_k_dense_replace", 0) or 0,
            "moe_layer_freq": _int(cfg, "moe_layer_freq", 1) or 1,
            "scoring_bias": model_type in SCORING_BIAS_TYPES or cfg.get("topk_method") == "noaux_tc",
        }
    if cfg.get("num_experts") is not None:  # Qwen2-MoE / Qwen3-MoE names
        return _qwen_moe_fields(cfg, model_type, notes)
    if cfg.get("num_local_experts") is not None:
        if cfg.get("num_experts_per_tok") is None:
            raise ValueError(f"config.json ({model_type}) has no 'num_experts_per_tok' (needed with num_local_experts)")
        notes.append("Mixtral-style MoE: every layer's MLP is num_local_experts experts of intermediate_size")
        return {"n_routed_experts": _int(cfg, "num_local_experts"),
                "num_experts_per_tok": _int(cfg, "num_experts_per_tok"), "moe_intermediate_size": intermediate}
    return {}


def _qwen_moe_fields(cfg: dict[str, Any], model_type: str, notes: list[str]) -> dict[str, Any]:
    """Qwen's MoE (qwen2_moe, qwen3_moe): ``num_experts`` routed experts of ``moe_intermediate_size`` in every
    layer, and Qwen2-MoE's one shared expert of ``shared_expert_intermediate_size``, counted as that many
    routed-expert widths (its one-number sigmoid gate left out). Before, the keys were not read and such a model
    was sized as a dense one (Qwen3-30B-A3B as 3.3B parameters)."""
    for key in ("moe_intermediate_size", "num_experts_per_tok"):
        if cfg.get(key) is None:
            raise ValueError(f"config.json ({model_type}) has no {key!r} (needed with num_experts)")
    if cfg.get("mlp_only_layers") or (_int(cfg, "decoder_sparse_step", 1) or 1) != 1:
        raise ValueError(f"config.json ({model_type}): dense layers among the MoE layers (mlp_only_layers, "
                         "decoder_sparse_step) are not modelled")
    width = _int(cfg, "moe_intermediate_size") or 0
    shared = _int(cfg, "shared_expert_intermediate_size", 0) or 0
    if width < 1 or shared % width:
        raise ValueError(f"config.json ({model_type}) 'shared_expert_intermediate_size' {shared} is not a multiple "
                         f"of 'moe_intermediate_size' {width}")
    notes.append("Qwen-style MoE: every layer's MLP is num_experts experts of moe_intermediate_size"
                 + (", the shared expert counted as shared_expert_intermediate_size / moe_intermediate_size of them"
                    if shared else ""))
    return {"n_routed_experts": _int(cfg, "num_experts"), "moe_intermediate_size": width,
            "num_experts_per_tok": _int(cfg, "num_experts_per_tok"), "n_shared_experts": shared // width}


def _validated(fields: dict[str, Any], model_type: str) -> Architecture:
    """The Architecture, or one ValueError line naming the first field pydantic refused."""
    from pydantic import ValidationError

    try:
        return validate(Architecture, fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ()))  # none for a check across fields
        msg = str(first.get("msg", "")).removeprefix("Value error, ")
        raise ValueError(f"config.json ({model_type}): " + (f"field {field}: " if field else "") + msg) from None
