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
* DeepSeek Sparse Attention (V3.2, ``index_topk`` with MLA): each layer adds the
  lightning indexer, wq_b ``q_lora*ih*ihd``, wk ``h*ihd``, k_norm LayerNorm ``2*ihd``
  and weights_proj ``h*ih`` (ih = index_n_heads, ihd = index_head_dim; DeepSeek's
  inference/model.py for V3.2-Exp: 13,959,424 per layer).
* DeepSeek-V4 (``compress_ratios``; transformers' modeling_deepseek_v4.py), per layer:
  q_a ``h*q_lora`` + q_norm ``q_lora`` + q_b ``q_lora*nh*hd``; shared K=V kv ``h*hd`` +
  kv_norm ``hd``; grouped output o_a ``nh*hd*o_lora`` + o_b ``o_groups*o_lora*h``;
  attention sinks ``nh``. A ratio-4 (CSA) layer adds a compressor of overlapping windows,
  kv and gate ``h*2hd`` each + position bias ``4*2hd`` + norm ``hd``, and an indexer:
  kv and gate ``h*2ihd`` each + position bias ``4*2ihd`` + norm ``ihd`` + q_b
  ``q_lora*ih*ihd`` + weights ``h*ih``. A ratio-128 (HCA) layer adds kv and gate
  ``h*hd`` each + position bias ``128*hd`` + norm ``hd``; ratio 0 adds nothing.
  Every layer is MoE (routed + shared experts of moe_intermediate_size; the first
  ``num_hash_layers`` route by a token-id table and carry no score bias). mHC: two
  mixers per layer of ``(2+m)*m x m*h`` + ``(2+m)*m`` + 3 (m = hc_mult), and a final
  head ``m x m*h`` + m + 1: counted with the norms. The MTP layer adds the same
  block, enorm, hnorm, e/h projections ``2h*h``, a norm and its own mHC head.
"""

from __future__ import annotations

from functools import lru_cache

from dsadvisor.catalog.schema import Architecture
from dsadvisor.records import record


@record(frozen=True)
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


def indexer_params(arch: Architecture) -> int:
    """One V3.2 layer's lightning indexer (0 without one)."""
    if arch.index_topk is None or arch.compress_ratios:
        return 0
    h, ih, ihd = arch.hidden_size, arch.index_n_heads or 0, arch.index_head_dim or 0
    q_in = arch.q_lora_rank or h
    return q_in * ih * ihd + h * ihd + 2 * ihd + h * ih


def _v4_compressor(arch: Architecture, ratio: int) -> int:
    """A V4 layer's compressor (and, at ratio 4, its indexer): 0 for a sliding-window-only layer."""
    h, hd = arch.hidden_size, arch.head_dim
    if ratio == 0:
        return 0
    if ratio != 4:  # HCA: non-overlapping windows, no indexer
        return 2 * h * hd + ratio * hd + hd
    ih, ihd, q_in = arch.index_n_heads or 0, arch.index_head_dim or 0, arch.q_lora_rank or h
    compressor = 2 * h * 2 * hd + ratio * 2 * hd + hd
    indexer = 2 * h * 2 * ihd + ratio * 2 * ihd + ihd + q_in * ih * ihd + h * ih
    return compressor + indexer


def _v4_attention(arch: Architecture, ratio: int) -> int:
    h, nh, hd = arch.hidden_size, arch.num_attention_heads, arch.head_dim
    q_lora = arch.q_lora_rank
    q = h * q_lora + q_lora + q_lora * nh * hd if q_lora else h * nh * hd
    o_lora, groups = arch.o_lora_rank, arch.o_groups
    o = nh * hd * o_lora + groups * o_lora * h if o_lora and groups else nh * hd * h
    return q + h * hd + hd + o + nh + _v4_compressor(arch, ratio)


def layer_attention_params(arch: Architecture, index: int) -> int:
    """Layer ``index``'s attention (V4's depends on the layer's compression ratio)."""
    if arch.compress_ratios:
        ratios = arch.compress_ratios
        return _v4_attention(arch, ratios[min(index, len(ratios) - 1)])
    return attention_params(arch)


def total_attention_params(arch: Architecture) -> int:
    """Every main layer's attention: counted per distinct ratio, never looped over the layers."""
    if not arch.compress_ratios:
        return arch.num_hidden_layers * attention_params(arch)
    from collections import Counter

    main = Counter(arch.compress_ratios[: arch.num_hidden_layers])
    return sum(n * _v4_attention(arch, ratio) for ratio, n in main.items())


def hyper_connection_params(arch: Architecture) -> tuple[int, int]:
    """V4's mHC: (one layer's two mixers, the final head); (0, 0) without hc_mult."""
    m = arch.hc_mult
    if not m:
        return 0, 0
    mix = (2 + m) * m
    return 2 * (mix * m * arch.hidden_size + mix + 3), m * m * arch.hidden_size + m + 1


def attention_params(arch: Architecture) -> int:
    """One layer's attention weights (and biases, and MLA's inner norms, and V3.2's indexer).

    For V4 (compress_ratios) this is a layer without compression; see ``layer_attention_params``.
    """
    h, nh = arch.hidden_size, arch.num_attention_heads
    if arch.compress_ratios:
        return _v4_attention(arch, 0)
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
        return q + kv_a + kv_a_norm + kv_b + o + indexer_params(arch)
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


def _router_total(arch: Architecture, router_layer: int) -> int:
    """All MoE layers' gates; hash-routed layers (V4's first num_hash_layers) have no score bias."""
    hashed = min(arch.num_hash_layers, moe_layer_count(arch))
    bias = (arch.n_routed_experts or 0) if arch.scoring_bias else 0
    return moe_layer_count(arch) * router_layer - hashed * bias


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


# count_params's last answers by the architecture's identity, kept with it: hashing a shape's 36 fields for
# the cache below costs more than the lookup (about 850 a recommend run)
_BY_IDENTITY: dict[int, tuple[Architecture, ParamBreakdown]] = {}


def count_params(arch: Architecture) -> ParamBreakdown:
    """Every parameter of ``arch``, split by component (see the module's docstring)."""
    held = _BY_IDENTITY.get(id(arch))
    if held is not None and held[0] is arch:
        return held[1]
    found = _count_params(arch)
    if len(_BY_IDENTITY) >= 4096:
        _BY_IDENTITY.clear()
    _BY_IDENTITY[id(arch)] = (arch, found)
    return found


@lru_cache(maxsize=4096)  # Architecture is frozen and hashable; the search asks for the same shapes often
def _count_params(arch: Architecture) -> ParamBreakdown:
    h, layers = arch.hidden_size, arch.num_hidden_layers
    embedding = arch.vocab_size * h
    lm_head = 0 if arch.tie_word_embeddings else arch.vocab_size * h
    dense_layer = 3 * h * arch.intermediate_size
    routed_l, shared_l, router_l, active_l = _moe_parts(arch)
    moe_layers = moe_layer_count(arch)
    hc_layer, hc_head = hyper_connection_params(arch)
    return ParamBreakdown(
        embedding=embedding,
        lm_head=lm_head,
        attention=total_attention_params(arch),
        dense_mlp=(layers - moe_layers) * dense_layer,
        routed_experts=moe_layers * routed_l,
        shared_experts=moe_layers * shared_l,
        router=_router_total(arch, router_l),
        norms=2 * h * layers + h + layers * hc_layer + hc_head,
        mtp=_mtp_params(arch),
        active_routed=moe_layers * active_l,
    )


def _mtp_params(arch: Architecture) -> int:
    """The multi-token-prediction modules (0 without them).

    Each sits after the main layers (index = num_hidden_layers), MoE-shaped in V3 and V4,
    and shares the main model's embedding and output head.
    """
    if not arch.num_nextn_predict_layers:
        return 0
    h, layers = arch.hidden_size, arch.num_hidden_layers
    routed_l, shared_l, router_l, _ = _moe_parts(arch)
    block = layer_attention_params(arch, layers) + 2 * h
    block += routed_l + shared_l + router_l if is_moe_layer(arch, layers) else 3 * h * arch.intermediate_size
    hc_layer, hc_head = hyper_connection_params(arch)
    extra = h + h + 2 * h * h + h + hc_layer + hc_head  # enorm, hnorm, eh_proj, shared_head.norm, mHC
    return arch.num_nextn_predict_layers * (block + extra)
