"""A stated shape for a described variant that has a parameter count but no config.json.

The articles give totals ("13B", "65B MoE, 8 experts, 15% active") but no layer
counts. The estimator needs a shape, so it assumes the nearest rung of the
LLaMA / GPT-3 ladder (hidden size and head count), picks the layer count that
reproduces the claimed total, and says so in the estimate's basis. Where the
articles disagree on the total, the largest claim is used (the conservative
choice for memory) and the others are named.
"""

from __future__ import annotations

from typing import Any

import math
from functools import lru_cache

from dsadvisor.errors import InputError
from dsadvisor.catalog.schema import Architecture, ModelEntry

# (hidden, heads) of published dense decoders, smallest to largest: LLaMA 7B/13B/33B/65B,
# GPT-3 1.3B/2.7B/175B, DeepSeek LLM 7B/67B (Touvron et al. 2023; Brown et al. 2020; GH:LLM).
LADDER = [(2048, 16), (2560, 32), (4096, 32), (5120, 40), (6656, 52), (8192, 64), (12288, 96), (16384, 128)]
ASSUMED_VOCAB = 102400  # DeepSeek LLM's tokenizer (HF config of deepseek-llm-7b-base)
ASSUMED_CONTEXT = 4096  # DeepSeek LLM's max_position_embeddings
FFN_RATIO = 8 / 3  # SwiGLU intermediate = 8h/3, so a layer holds 12 h^2 parameters


def _claimed(entry: ModelEntry, field: str) -> list[tuple[float, str]]:
    found = [(float(c.value), c.source) for c in entry.claims
             if c.field == field and isinstance(c.value, (int, float)) and not isinstance(c.value, bool)]
    if field == "params_total":
        found += [(p.total, p.source) for p in entry.params]
    return found


def _inputs(entry: ModelEntry) -> tuple:
    """Everything the assumed shape depends on: the id and the claims it is built from (by value,
    so two entries that differ in a claim never share a shape, whatever their ids or addresses)."""
    return (entry.id, *(tuple(_claimed(entry, f)) for f in ("params_total", "experts", "experts_active")))


class _Keyed:
    """An entry hashed by the value of the inputs its shape depends on (ModelEntry holds lists)."""

    __slots__ = ("key", "entry")

    def __init__(self, entry: ModelEntry):
        self.key, self.entry = _inputs(entry), entry

    def __hash__(self) -> int:
        return hash(self.key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Keyed) and other.key == self.key


@lru_cache(maxsize=1024)
def _memo(keyed: _Keyed) -> tuple[Architecture, tuple[str, ...]]:
    arch, notes = _assume(keyed.entry)
    return arch, tuple(notes)


# the last entries asked about, by identity (a frozen entry's claims cannot change): every estimate of a
# described variant asks, and keying it by value reads its claims three times (deepseek-175b: 460 a search)
_LAST: dict[int, tuple[ModelEntry, tuple[Architecture, tuple[str, ...]]]] = {}


def assumed_architecture(entry: ModelEntry) -> tuple[Architecture, list[str]]:
    """The assumed shape (memoised by value: the recommendation search asks for it many times)."""
    held = _LAST.get(id(entry))
    if held is None or held[0] is not entry:
        if len(_LAST) >= 1024:
            _LAST.clear()
        held = _LAST[id(entry)] = (entry, _memo(_Keyed(entry)))
    arch, notes = held[1]
    return arch, list(notes)


def _assume(entry: ModelEntry) -> tuple[Architecture, list[str]]:
    totals = _claimed(entry, "params_total")
    if not totals:
        raise InputError(f"{entry.id} has neither an architecture nor a parameter count to estimate from")
    total, source = max(totals)
    notes = [f"{entry.id} has no config.json: shape assumed from its claimed {total / 1e9:g}B parameters ({source})"]
    others = sorted({f"{v / 1e9:g}B ({s})" for v, s in totals if v != total})
    if others:
        notes.append("conflicting parameter claims not used: " + "; ".join(others))

    # each rung's natural size: 12 h^2 per layer and about h/128 layers (LLaMA 7B: 4096/128 = 32)
    hidden, heads = min(LADDER, key=lambda r: abs(math.log(total / (12 * r[0] ** 3 / 128))))
    inter = int(round(FFN_RATIO * hidden / 256) * 256)
    per_layer_attn = 4 * hidden * hidden
    embed = 2 * ASSUMED_VOCAB * hidden

    experts = _claimed(entry, "experts")
    if experts:
        n_exp = int(experts[0][0])
        top_k = int(next(iter(_claimed(entry, "experts_active")), (2, ""))[0])
        top_k = min(top_k, n_exp)
        # a layer's FFN budget is shared out among the experts
        layers = max(1, round((total - embed) / (per_layer_attn + 3 * hidden * inter)))
        ffn_budget = (total - embed) / layers - per_layer_attn
        moe_inter = max(128, int(ffn_budget / (3 * hidden * n_exp)))
        moe: dict[str, Any] = dict(moe_intermediate_size=moe_inter, n_routed_experts=n_exp, num_experts_per_tok=top_k)
        notes.append(f"MoE assumed: {n_exp} experts of {moe_inter} wide, top-{top_k}, every layer")
    else:
        layers = max(1, round((total - embed) / (per_layer_attn + 3 * hidden * inter)))
        moe = {}
    notes.append(f"assumed LLaMA-style shape: {layers} layers, hidden {hidden}, {heads} heads (MHA), "
                 f"vocab {ASSUMED_VOCAB}, max context {ASSUMED_CONTEXT}")
    arch = Architecture(
        source=f"assumed by dsadvisor from {source}",
        model_type="assumed-dense" if not moe else "assumed-moe",
        num_hidden_layers=layers,
        hidden_size=hidden,
        intermediate_size=inter,
        vocab_size=ASSUMED_VOCAB,
        num_attention_heads=heads,
        num_key_value_heads=heads,
        head_dim=hidden // heads,
        max_position_embeddings=ASSUMED_CONTEXT,
        **moe,
    )
    return arch, notes
