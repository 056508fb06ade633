"""Parameter counts computed from an architecture, split by where the weights live.

The split matters for memory and speed estimates: the embedding table is read by
a lookup (not a matmul), MoE experts are touched only top-k at a time, and
DeepSeek-V3's multi-token-prediction (MTP) module ships in the checkpoint but is
not part of the model's published total.

Formulas (h = hidden_size, per layer):

* norms: 2h per layer (input and post-attention RMSNorm) + h for the final norm.
* MHA / GQA attention: q ``h*nh*hd``, k and v ``h*nkv*hd`` each, o ``nh*hd*h``,
  plus q/k/v biases ``nh*hd + 2*nkv*hd`` when ``attention_bias`` (Qwen2).
* MLA attention (DeepSeek-V2/V3):
  q = ``h*q_lora + q_lora + q_lora*nh*(nope+rope)`` (down projection, its norm, up
  projection) when ``q_lora_rank`` is set, else ``h*nh*(nope+rope)``;
  kv_a = ``h*(kv_lora+rope)``; kv_a_norm = ``kv_lora``;
  kv_b = ``kv_lora*nh*(nope+v)``; o = ``nh*v*h``.
* dense MLP (SwiGLU gate/up/down): ``3*h*intermediate``.
* MoE layer (layer i with ``i >= first_k_dense_replace`` and ``i % moe_layer_freq == 0``):
  routed ``n_routed*3*h*moe_inter``, shared ``n_shared*3*h*moe_inter``,
  router ``h*n_routed`` (+ ``n_routed`` for V3's e_score_correction_bias).
* MTP module (per ``num_nextn_predict_layers``): one decoder layer shaped like
  the last (MoE) layer + enorm h + hnorm h + eh_proj ``2h*h`` + shared_head
  norm h; its embedding and output head are shared with the main model.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from dsadvisor.catalog.schema import Architecture


@dataclass(frozen=True)
class ParamBreakdown:
    embedding: int  # input embedding table
    lm_head: int  # output head (0 when tied)
    attention: int  # all layers' attention (incl. MLA down/up projections and their norms)
    dense_mlp: int  # dense MLP layers (first_k_dense_replace layers for MoE; all layers for dense)
    routed_experts: int  # all routed experts, all MoE layers
    shared_experts: int
    router: int  # gate weights (+ scoring bias)
    norms: int  # layer norms + final norm
    mtp: int  # multi-token-prediction modules (V3), counted separately
    active_routed: int  # routed experts' params touched per token (top-k of each MoE layer)

    @property
    def total(self) -> int:
        """Every parameter of the main model; the MTP modules are not included."""
        return (
            self.embedding
            + self.lm_head
            + self.attention
            + self.dense_mlp
            + self.routed_experts
            + self.shared_experts
            + self.router
            + self.norms
        )

    @property
    def total_with_mtp(self) -> int:
        """What the checkpoint holds: the main model plus its MTP modules."""
        return self.total + self.mtp

    @property
    def active(self) -> int:
        """Parameters one token touches: everything but the routed experts not picked."""
        return self.total - self.routed_experts + self.active_routed

    @property
    def non_embedding(self) -> int:
        return self.total - self.embedding - self.lm_head


def attention_params(arch: Architecture) -> int:
    """One layer's attention weights (and biases, and MLA's inner norms)."""
    h, nh = arch.hidden_size, arch.num_attention_heads
    if arch.kv_lora_rank is not None:
        nope, rope, v = arch.qk_nope_head_dim, arch.qk_rope_head_dim, arch.v_head_dim
        assert nope is not None and rope is not None and v is not None  # the schema checks it
        qk = nope + rope
        if arch.q_lora_rank:
            q = h * arch.q_lora_rank + arch.q_lora_rank + arch.q_lora_rank * nh * qk
        else:
            q = h * nh * qk
        kv_a = h * (arch.kv_lora_rank + rope)
        kv_a_norm = arch.kv_lora_rank
        kv_b = arch.kv_lora_rank * nh * (nope + v)
        o = nh * v * h
        return q + kv_a + kv_a_norm + kv_b + o
    hd, nkv = arch.head_dim, arch.num_key_value_heads
    params = h * nh * hd + 2 * h * nkv * hd + nh * hd * h
    if arch.attention_bias:
        params += nh * hd + 2 * nkv * hd
    return params


def is_moe_layer(arch: Architecture, index: int) -> bool:
    return arch.is_moe and index >= arch.first_k_dense_replace and index % arch.moe_layer_freq == 0


def moe_layer_count(arch: Architecture) -> int:
    """How many layers ``is_moe_layer``: multiples of moe_layer_freq in [first_k_dense_replace, layers).

    Counted, not looped over: a config.json may claim any number of layers.
    """
    if not arch.is_moe:
        return 0
    freq, first, layers = arch.moe_layer_freq, arch.first_k_dense_replace, arch.num_hidden_layers
    return max(0, -(-layers // freq) - -(-first // freq))


def _moe_parts(arch: Architecture) -> tuple[int, int, int, int]:
    """One MoE layer's (routed, shared, router, active routed)."""
    h = arch.hidden_size
    n_routed = arch.n_routed_experts or 0
    expert = 3 * h * (arch.moe_intermediate_size or 0)
    routed = n_routed * expert
    shared = arch.n_shared_experts * expert
    router = h * n_routed + (n_routed if arch.scoring_bias else 0)
    active = (arch.num_experts_per_tok or 0) * expert
    return routed, shared, router, active


@lru_cache(maxsize=4096)  # Architecture is frozen and hashable; the search asks for the same shapes often
def count_params(arch: Architecture) -> ParamBreakdown:
    """Every parameter of ``arch``, split by component (see the module's docstring)."""
    h, layers = arch.hidden_size, arch.num_hidden_layers
    embedding = arch.vocab_size * h
    lm_head = 0 if arch.tie_word_embeddings else arch.vocab_size * h
    attn_layer = attention_params(arch)
    dense_layer = 3 * h * arch.intermediate_size
    routed_l, shared_l, router_l, active_l = _moe_parts(arch)

    moe_layers = moe_layer_count(arch)
    dense_layers = layers - moe_layers

    mtp = 0
    if arch.num_nextn_predict_layers:
        # The MTP layer sits after the main layers (index = num_hidden_layers): MoE-shaped
        # in V3. Its embedding and shared_head.head are the main model's.
        last_is_moe = is_moe_layer(arch, layers)
        block = attn_layer + 2 * h
        block += routed_l + shared_l + router_l if last_is_moe else dense_layer
        extra = h + h + 2 * h * h + h  # enorm, hnorm, eh_proj, shared_head.norm
        mtp = arch.num_nextn_predict_layers * (block + extra)

    return ParamBreakdown(
        embedding=embedding,
        lm_head=lm_head,
        attention=layers * attn_layer,
        dense_mlp=dense_layers * dense_layer,
        routed_experts=moe_layers * routed_l,
        shared_experts=moe_layers * shared_l,
        router=moe_layers * router_l,
        norms=2 * h * layers + h,
        mtp=mtp,
        active_routed=moe_layers * active_l,
    )
