"""The catalog's schema: a frozen dataclass for every kind of catalog entry.

The records are plain standard-library dataclasses, so a cached catalog loads
without importing pydantic (that import alone costs about as much as a whole
``recommend``). pydantic validates them when YAML is read (``validate``): it
honours the ``Annotated`` constraints below and ``__pydantic_config__``, and
runs each ``__post_init__`` check. Every record forbids unknown keys (a misspelt
field is an error, not a silent default) and is frozen (a loaded catalog is never
mutated). Every figure carries a ``source``: a seed file, a config.json, a paper,
a datasheet or a measurement.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import field
from typing import TYPE_CHECKING, Annotated, Any, Literal, Optional, TypeVar, Union

from dsadvisor.errors import quoted
from dsadvisor.records import record

if TYPE_CHECKING:  # imported by _adapter(): only pydantic reads these markers, when it validates
    from annotated_types import Ge, Gt, Le, MinLen

    from dsadvisor.catalog.engine_schema import (DeviceKind, Engine, EngineMemory, EngineSpeed, ModelLimit,
                                                 RocmTargets, SpeedChange, SpeedVersions, SupportLimit)

SCHEMA_VERSION = 1

# Every schema class is ``@dataclass(frozen=True, kw_only=True)``: immutable, built by keyword only
# (written out on each, not through an alias, so type checkers see the records' fields).


def _list():
    return field(default_factory=list)


class Strict:
    """Base of every record: pydantic refuses keys the dataclass does not declare."""

    __pydantic_config__ = {"extra": "forbid", "allow_inf_nan": False}  # .inf in YAML is no figure


@record(frozen=True, kw_only=True)
class Sourced(Strict):
    source: Annotated[str, MinLen(2)]  # where a figure was read: a seed file, "HF config.json", "GH:V3"


# An id, as each entry's ``id`` must be (a GPU's may hold capitals: "A100-SXM-40GB"). Each pattern is compiled
# the first time it is matched (``re`` keeps it), not when this module is imported: a cached catalog is read
# without building a record, and a run builds an ``Engine`` or two at most (through ``replace``).
_ID = r"^[a-z0-9][a-z0-9._-]*$"
_GPU_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
_GFX = r"^gfx[0-9a-f]{3,4}$"  # an AMD GPU target as ROCm's LLVM names it (gfx90a, gfx942, gfx1151)


def _check_id(value: str, pattern: str = _ID) -> None:
    if not re.match(pattern, value):
        raise ValueError(f"id {quoted(value)} must match {pattern}")


def _check_gfx(value: str) -> None:
    if not re.match(_GFX, value):
        raise ValueError(f"AMD GPU target {quoted(value)} must be named as ROCm names it (gfx942, gfx1151)")


class _RepoId:
    """``Annotated`` marker: pydantic runs ``names.check_repo_id`` on the field, so the error names it
    (``field hf_repo``). pydantic_core is imported only when pydantic builds its validator."""

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        from pydantic_core import core_schema

        from dsadvisor.catalog.names import check_repo_id

        return core_schema.no_info_after_validator_function(check_repo_id, handler(source))


RepoId = _RepoId()


# The records of an engine entry, which live in ``catalog.engine_schema`` (read after this module: they build on
# ``Sourced``), and the name checks of ``catalog.names``: importable from here as before they moved.
ENGINE_RECORDS = ("DeviceKind", "Engine", "EngineMemory", "EngineSpeed", "ModelLimit", "RocmTargets", "SpeedChange",
                  "SpeedVersions", "SupportLimit")


def __getattr__(name: str) -> Any:
    """A name that moved out of this module, from the module that holds it now (imported when first asked for)."""
    if name in ENGINE_RECORDS:
        from dsadvisor.catalog import engine_schema

        return getattr(engine_schema, name)
    if name in ("repo_id_problem", "MAX_REPO_NAME"):
        from dsadvisor.catalog import names

        return getattr(names, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --------------------------------------------------------------------- models

Status = Literal["described", "released"]
# How a release was tuned: instruct (chat / instruction-tuned, RL-tuned from one, or a distill of one),
# base (the pre-trained checkpoint), rl-zero (RL straight from a base, as DeepSeek-R1-Zero: no
# supervised fine-tuning; its card warns of endless repetition and language mixing).
Tuning = Literal["instruct", "base", "rl-zero"]
EntryKind = Literal["model", "edition", "sdk", "peer"]


MAX_SHAPE = 2**31 - 1  # the most any architecture field may be (layers, widths, vocabulary, positions)

# Attention kinds: how a layer attends and what it caches (docs/method.md has each one's KV cache).
# mha / gqa: per-head K and V; mla: MLA's latent (DeepSeek-V2/V3); mla-sparse: MLA plus DeepSeek
# Sparse Attention's lightning indexer (V3.2: each query attends to the index_topk best tokens, the
# indexer keeps its own FP8 key per token); csa-hca: DeepSeek-V4's hybrid of a sliding window with
# compressed KV per layer (compress_ratios: 4 = CSA, top-k over 4:1 compressed entries; 128 = HCA).
AttentionKind = Literal["mha", "gqa", "mla", "mla-sparse", "csa-hca"]
ATTENTION_KINDS: tuple[str, ...] = ("mha", "gqa", "mla", "mla-sparse", "csa-hca")

# Ceilings on the other figures a catalog gives: far above any real device, engine or model, yet low
# enough that the estimator's products of them stay finite (`memory_gb: 1e300` would overflow to inf
# and crash an estimate instead of being refused here, naming the file, entry and field).
MAX_MEMORY_GB = 1e6  # memory, runtime overheads, advised VRAM: a million GB on one device
MAX_MEMORY_BYTES = 10**15  # memory_bytes: the same million GB
MAX_BANDWIDTH_GBS = 1e6  # memory or interconnect bandwidth: 1 PB/s per device (HBM3e: about 8 TB/s)
MAX_TFLOPS = 1e7  # a dense tensor rate: ten exaFLOPS per device (B200 FP8: about 4,500 TFLOPS)
MAX_TDP_W = 1e6  # one device's power: a megawatt
MAX_PARAMS = 1e15  # a parameter count: a quadrillion (the largest models: about 2e12)
MAX_LAYER_S = 1e3  # an engine's fixed cost per layer, seconds (real ones are micro- to milliseconds)
MAX_ELEMENTWISE_BYTES = 1e6  # an engine's unfused element-wise bytes per element (real ones: tens)
# Floors on a device's own figures, for the same reason from below: `memory_gb: 1e-300` left no
# byte to plan with and divided by zero. A megabyte and a megabyte per second, a megaFLOPS: far
# under any device that runs a model (a Raspberry Pi 4: 1 GB, 4 GB/s).
MIN_MEMORY_GB = 1e-3
MIN_BANDWIDTH_GBS = 1e-3
MIN_TFLOPS = 1e-6


@record(frozen=True, kw_only=True)
class Architecture(Sourced):
    """A transformer's shape, named as Hugging Face config.json names it.

    Dense Llama/Qwen2 shapes need the first block; MLA (DeepSeek V2/V3) adds the
    lora ranks and head dims; MoE adds the expert fields.
    """

    model_type: str
    num_hidden_layers: Annotated[int, Gt(0)]
    hidden_size: Annotated[int, Gt(0)]
    intermediate_size: Annotated[int, Gt(0)]
    vocab_size: Annotated[int, Gt(0)]
    num_attention_heads: Annotated[int, Gt(0)]
    num_key_value_heads: Annotated[int, Gt(0)]
    head_dim: Annotated[int, Gt(0)]
    max_position_embeddings: Annotated[int, Gt(0)]
    tie_word_embeddings: bool = False
    attention_bias: bool = False
    # MLA (multi-head latent attention)
    q_lora_rank: Optional[Annotated[int, Gt(0)]] = None
    kv_lora_rank: Optional[Annotated[int, Gt(0)]] = None
    qk_nope_head_dim: Optional[Annotated[int, Gt(0)]] = None
    qk_rope_head_dim: Optional[Annotated[int, Gt(0)]] = None
    v_head_dim: Optional[Annotated[int, Gt(0)]] = None
    # MoE
    moe_intermediate_size: Optional[Annotated[int, Gt(0)]] = None
    n_routed_experts: Optional[Annotated[int, Gt(0)]] = None
    n_shared_experts: Annotated[int, Ge(0)] = 0
    num_experts_per_tok: Optional[Annotated[int, Gt(0)]] = None
    first_k_dense_replace: Annotated[int, Ge(0)] = 0
    moe_layer_freq: Annotated[int, Gt(0)] = 1
    scoring_bias: bool = False  # V3's e_score_correction_bias: one float per routed expert
    # Multi-token prediction modules shipped beside the main layers (V3: 1)
    num_nextn_predict_layers: Annotated[int, Ge(0)] = 0
    sliding_window: Optional[Annotated[int, Gt(0)]] = None
    # The lightning indexer of DeepSeek Sparse Attention (V3.2) and of V4's CSA layers: its query
    # heads and head width, and how many cached entries each query keeps (config.json's names)
    index_n_heads: Optional[Annotated[int, Gt(0)]] = None
    index_head_dim: Optional[Annotated[int, Gt(0)]] = None
    index_topk: Optional[Annotated[int, Gt(0)]] = None
    # DeepSeek-V4: one compression ratio per layer, then one per MTP layer (0: sliding window only,
    # 4: CSA, 128: HCA); the window is sliding_window. Shared-KV MQA of head_dim; grouped low-rank
    # output projection (o_groups x o_lora_rank); hc_mult residual streams mixed by mHC; the first
    # num_hash_layers MoE layers route by a token-id table; experts stored in expert_dtype.
    compress_ratios: tuple[Annotated[int, Ge(0), Le(MAX_SHAPE)], ...] = ()  # a tuple: the record stays hashable
    o_groups: Optional[Annotated[int, Gt(0)]] = None
    o_lora_rank: Optional[Annotated[int, Gt(0)]] = None
    hc_mult: Optional[Annotated[int, Gt(0)]] = None
    num_hash_layers: Annotated[int, Ge(0)] = 0
    expert_dtype: Optional[Literal["fp4", "fp8", "bf16"]] = None
    note: str | None = None

    @property
    def attention(self) -> AttentionKind:
        if self.compress_ratios:
            return "csa-hca"
        if self.kv_lora_rank is not None:
            return "mla-sparse" if self.index_topk else "mla"
        return "mha" if self.num_key_value_heads == self.num_attention_heads else "gqa"

    @property
    def is_mla(self) -> bool:
        """MLA's latent cache and split head dims (V2, V3, and V3.2's sparse MLA)."""
        return self.kv_lora_rank is not None

    @property
    def is_moe(self) -> bool:
        return bool(self.n_routed_experts)

    @property
    def mla_dims(self) -> tuple[int, int, int, int]:
        """kv_lora_rank, qk_nope_head_dim, qk_rope_head_dim, v_head_dim as ints (all set when ``is_mla``,
        which ``__post_init__`` checks; 0 otherwise)."""
        return (self.kv_lora_rank or 0, self.qk_nope_head_dim or 0, self.qk_rope_head_dim or 0,
                self.v_head_dim or 0)

    @property
    def moe_dims(self) -> tuple[int, int, int]:
        """moe_intermediate_size, n_routed_experts, num_experts_per_tok as ints (all set when ``is_moe``,
        which ``__post_init__`` checks; 0 otherwise)."""
        return self.moe_intermediate_size or 0, self.n_routed_experts or 0, self.num_experts_per_tok or 0

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):  # a 400-digit size overflows floats; 10**12 layers never finish
            value = getattr(self, f.name)
            if isinstance(value, int) and value > MAX_SHAPE:
                raise ValueError(f"{f.name} is larger than {MAX_SHAPE:,}; not a transformer's shape")
        if self.kv_lora_rank is not None:
            for name in ("qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim"):
                if getattr(self, name) is None:
                    raise ValueError(f"MLA (kv_lora_rank set) needs {name}")
        elif self.num_attention_heads % self.num_key_value_heads:
            raise ValueError("num_attention_heads must be a multiple of num_key_value_heads")
        moe = (self.moe_intermediate_size, self.n_routed_experts, self.num_experts_per_tok)
        if any(v is not None for v in moe) and not all(v is not None for v in moe):
            raise ValueError(
                "MoE needs moe_intermediate_size, n_routed_experts and num_experts_per_tok together"
            )
        if self.n_routed_experts and (self.num_experts_per_tok or 0) > self.n_routed_experts:
            raise ValueError("num_experts_per_tok cannot exceed n_routed_experts")
        if self.first_k_dense_replace > self.num_hidden_layers:
            raise ValueError("first_k_dense_replace cannot exceed num_hidden_layers")
        self._check_sparse()

    def _check_sparse(self) -> None:
        """The indexer's three figures come together; V4's per-layer ratios cover every layer."""
        index = (self.index_n_heads, self.index_head_dim, self.index_topk)
        if any(v is not None for v in index) and not all(v is not None for v in index):
            raise ValueError("the sparse-attention indexer needs index_n_heads, index_head_dim and index_topk together")
        if not self.compress_ratios:
            return
        layers = self.num_hidden_layers
        if len(self.compress_ratios) not in (layers, layers + self.num_nextn_predict_layers):
            raise ValueError(f"compress_ratios has {len(self.compress_ratios)} entries; it needs one per layer "
                             f"({layers}) or per layer and MTP layer ({layers + self.num_nextn_predict_layers})")
        if not self.sliding_window:
            raise ValueError("compress_ratios (DeepSeek-V4's compressed attention) needs sliding_window")
        if self.kv_lora_rank is not None:
            raise ValueError("give compress_ratios (V4's shared-KV attention) or kv_lora_rank (MLA), not both")
        if any(r == 4 for r in self.compress_ratios) and self.index_topk is None:
            raise ValueError("compress ratio 4 (CSA) needs the indexer (index_n_heads, index_head_dim, index_topk)")


@record(frozen=True, kw_only=True)
class ParamCount(Sourced):
    """A published parameter count, checked against the one computed from the architecture."""

    total: Annotated[float, Gt(0), Le(MAX_PARAMS)]
    active: Optional[Annotated[float, Gt(0), Le(MAX_PARAMS)]] = None
    note: str | None = None


@record(frozen=True, kw_only=True)
class Context(Sourced):
    configured: Optional[Annotated[int, Gt(0)]] = None  # max_position_embeddings
    advertised: Optional[Annotated[int, Gt(0)]] = None  # what the card or README promises
    note: str | None = None


@record(frozen=True, kw_only=True)
class Fact(Sourced):
    """A single sourced value: license, release date, shipped dtype."""

    value: str
    note: str | None = None


@record(frozen=True, kw_only=True)
class Benchmark(Sourced):
    name: str  # normalised lower-case id: mmlu, mmlu-pro, gsm8k, humaneval, math, math-500, aime24, ...
    score: Annotated[float, Ge(0), Le(100)]
    setting: str | None = None  # e.g. "thinking", "non-thinking", "pass@1"
    note: str | None = None


ClaimValue = Union[bool, int, float, str]


@record(frozen=True, kw_only=True)
class Claim(Sourced):
    """One figure an article states about a variant, kept as the article says it.

    ``field`` names what the figure is (see docs/catalog.md for the list);
    ``quote`` is the article's own words so a reader can find it.
    """

    field: Literal[
        "params_total",
        "params_active",
        "params_trainable",
        "params_embedding",
        "params_expert",
        "params_shared",
        "active_fraction",
        "experts",
        "experts_active",
        "layers",
        "training_tokens",
        "context_window",
        "decode_tokens_per_s",
        "latency_ms",
        "first_token_latency_ms",
        "throughput",
        "memory_gb",
        "model_size_gb",
        "benchmark",
        "quality",
        "training_efficiency",
        "cost",
        "release",
        "license",
        "architecture",
        "modalities",
        "hardware",
        "quantization",
        "other",
    ]
    value: ClaimValue
    unit: str | None = None
    benchmark: str | None = None  # for field=benchmark: which one
    condition: str | None = None  # hardware, task or setting the figure was measured under
    quote: str
    note: str | None = None


@record(frozen=True, kw_only=True)
class HardwareAdvice(Sourced):
    """An article's advice on what hardware a variant needs, to check against the estimate."""

    gpu: str  # as the catalog resolves it: "A100-40GB", "RTX 3060", "A100" ...
    gpus: Annotated[int, Gt(0)] = 1
    vram_gb: Optional[Annotated[float, Gt(0), Le(MAX_MEMORY_GB)]] = None
    quant: str | None = None
    purpose: Literal["inference", "training", "unspecified"] = "inference"
    quote: str
    note: str | None = None


@record(frozen=True, kw_only=True)
class Conflict(Strict):
    """A disagreement between sources the catalog keeps instead of resolving."""

    about: str
    claims: Annotated[list[str], MinLen(1)]  # each "value (source)"
    note: str | None = None


@record(frozen=True, kw_only=True)
class ModelEntry(Sourced):
    id: str
    name: str
    status: Status
    tuning: Tuning = "instruct"  # recommend ranks instruct releases; --include-base brings the others in
    kind: EntryKind = "model"
    family: str
    aliases: list[str] = _list()
    hf_repo: Optional[Annotated[str, RepoId]] = None  # checked: it reaches shell commands
    description: str | None = None
    architecture: Architecture | None = None
    architecture_from: str | None = None  # the id of an entry with the same shape (base/chat pairs)
    params: list[ParamCount] = _list()
    context: Context | None = None
    weights_dtype: Fact | None = None
    license: Fact | None = None
    released: Fact | None = None
    benchmarks: list[Benchmark] = _list()
    claims: list[Claim] = _list()
    hardware_advice: list[HardwareAdvice] = _list()
    conflicts: list[Conflict] = _list()
    related: list[str] = _list()  # ids of entries the same name or article points at
    tasks: list[Literal["general", "code", "math", "reasoning", "chat", "vision"]] = _list()

    def __post_init__(self) -> None:
        from dsadvisor.catalog.names import check_repo_id

        _check_id(self.id)
        if self.hf_repo is not None:  # also when built in Python, not read from YAML
            check_repo_id(self.hf_repo)
        if self.architecture is not None and self.architecture_from is not None:
            raise ValueError("give either architecture or architecture_from, not both")
        if self.status == "released" and self.kind == "model":
            if self.architecture is None and self.architecture_from is None and not self.params:
                raise ValueError("a released model needs an architecture (or architecture_from) or params")


# ------------------------------------------------------------------- hardware

DType = Literal["fp32", "tf32", "fp16", "bf16", "fp8", "int8", "int4", "fp4"]
CpuIsa = Literal["avx2", "avx512", "avx512_bf16", "avx512_vnni", "amx", "neon", "sve", "sve2", "i8mm"]


@record(frozen=True, kw_only=True)
class Interconnect(Sourced):
    kind: Literal["nvlink", "pcie", "infinity-fabric", "unified", "ethernet", "none"]
    bandwidth_gbs: Annotated[float, Ge(0), Le(MAX_BANDWIDTH_GBS)]  # per GPU, one direction, GB/s
    note: str | None = None


@record(frozen=True, kw_only=True)
class Gpu(Sourced):
    id: str
    name: str
    vendor: Literal["nvidia", "amd", "intel", "apple", "qualcomm", "broadcom", "other"]
    family: str  # what a user types with --gpu: "A100", "H100", "RTX 4090"
    variant: str | None = None  # "SXM", "PCIe", "NVL"
    category: Literal["datacenter", "workstation", "consumer", "edge", "apple", "mobile", "cpu"]
    memory_gb: Annotated[float, Ge(MIN_MEMORY_GB), Le(MAX_MEMORY_GB)]  # as marketed
    # as the driver reports it, where measured
    memory_bytes: Optional[Annotated[int, Ge(int(MIN_MEMORY_GB * 1e9)), Le(MAX_MEMORY_BYTES)]] = None
    unified_memory: bool = False
    usable_memory_fraction: Annotated[float, Ge(0.01), Le(1)] = 1.0  # floor: as MIN_MEMORY_GB
    bandwidth_gbs: Annotated[float, Ge(MIN_BANDWIDTH_GBS), Le(MAX_BANDWIDTH_GBS)]
    fp16_tflops: Optional[Annotated[float, Ge(MIN_TFLOPS), Le(MAX_TFLOPS)]] = None
    # GeForce: fp16 tensor math accumulating in fp16 runs at twice fp16_tflops (the fp32-accumulate rate); kernels
    # that accumulate in fp16 (llama.cpp's cuBLAS F16 GEMM) reach this one. None: no such split (datacenter,
    # professional cards)
    fp16_acc16_tflops: Optional[Annotated[float, Ge(MIN_TFLOPS), Le(MAX_TFLOPS)]] = None
    bf16_tflops: Optional[Annotated[float, Ge(MIN_TFLOPS), Le(MAX_TFLOPS)]] = None
    fp8_tflops: Optional[Annotated[float, Ge(MIN_TFLOPS), Le(MAX_TFLOPS)]] = None
    fp4_tflops: Optional[Annotated[float, Ge(MIN_TFLOPS), Le(MAX_TFLOPS)]] = None
    int8_tops: Optional[Annotated[float, Ge(MIN_TFLOPS), Le(MAX_TFLOPS)]] = None
    dtypes: list[DType]
    compute_capability: str | None = None  # NVIDIA CUDA compute capability ("9.0")
    sm_count: Optional[Annotated[int, Ge(1), Le(1024)]] = None  # streaming multiprocessors (the whitepaper's)
    gfx_arch: str | None = None  # AMD GPU target as ROCm names it ("gfx942")
    cpu_isa: list[CpuIsa] = _list()  # the vector/matrix extensions of a CPU device (llama.cpp's kernels)
    # The most of bandwidth_gbs a decode step reaches on this device with any engine, where measured
    # (a CPU's memory system delivers far less of its peak than a GPU's); None: the engines' own figures.
    bandwidth_efficiency: Optional[Annotated[float, Gt(0), Le(1)]] = None
    tdp_w: Optional[Annotated[float, Gt(0), Le(MAX_TDP_W)]] = None  # board / module / socket power as marketed
    interconnect: Interconnect | None = None
    nvidia_smi_names: list[str] = _list()
    aliases: list[str] = _list()
    note: str | None = None

    def __post_init__(self) -> None:
        _check_id(self.id, _GPU_ID)
        if self.gfx_arch is not None:
            _check_gfx(self.gfx_arch)


# -------------------------------------------------------------- quantization

@record(frozen=True, kw_only=True)
class QualityLoss(Sourced):
    """Expected quality loss of a format, in percent of the unquantized score.

    ``models`` and ``families`` say what it was measured on (catalog model ids and families): a figure
    measured on the model itself, or on its family, is used before one measured on other models.
    Both empty: measured on models outside this catalog (Llama, Qwen2), a generic figure.
    """

    percent: Annotated[float, Ge(0), Le(100)]
    models: list[str] = _list()
    families: list[str] = _list()
    note: str | None = None


@record(frozen=True, kw_only=True)
class QuantFormat(Sourced):
    id: str
    name: str
    bits_per_weight: Annotated[float, Gt(0), Le(32)]  # scales and zero points included
    # routed MoE experts stored apart (DeepSeek-V4: FP4 experts beside FP8 attention); None: bits_per_weight
    expert_bits_per_weight: Optional[Annotated[float, Gt(0), Le(32)]] = None
    applies_to: list[Literal["weights", "kv_cache"]] = field(default_factory=lambda: ["weights"])
    kept_16bit: list[Literal["embeddings", "lm_head", "norms", "router", "attention"]] = _list()
    compute_dtype: DType = "bf16"  # the tensor-core rate prefill runs at
    # bits per weight of each tensor class in a mixed format (GGUF k-quant mixes), scales included:
    # attention, mlp_gate_up, mlp_down, embedding, lm_head; mlp_down_unaligned where a down projection's
    # rows do not divide into the format's 256-weight super-blocks and the quantizer falls back
    tensor_bits: dict[str, Annotated[float, Gt(0), Le(32)]] = field(default_factory=dict)
    needs_dtypes: list[DType] = _list()  # hardware must support one of these
    engines: list[str] = _list()
    quality_loss: list[QualityLoss] = _list()
    aliases: list[str] = _list()
    note: str | None = None

    @property
    def expert_bits(self) -> float:
        """Bits per routed-expert weight (the format's own bits unless it stores experts apart)."""
        return self.expert_bits_per_weight or self.bits_per_weight

    @property
    def weight_only(self) -> bool:
        """Activations stay 16-bit: weights are dequantized and multiplied at the 16-bit rate."""
        return self.compute_dtype in ("bf16", "fp16")

    def __post_init__(self) -> None:
        _check_id(self.id)


# ------------------------------------------------------------------ artifacts

@record(frozen=True, kw_only=True)
class Artifact(Sourced):
    """A checkpoint that exists: a Hugging Face repository (or a GGUF file in one), or an Ollama tag.

    ``format`` is a quantization id; ``size_bytes`` the download as its page states it (checked against
    the weights the architecture computes for that format); ``engines`` the engine ids that load it;
    ``quality_loss`` published measurements of this very checkpoint against the model as shipped.
    ``source`` is the page read (a URL a user can open).
    """

    id: str
    model: str  # catalog model id
    format: str  # catalog quantization id
    repo: Optional[Annotated[str, RepoId]] = None
    file: str | None = None  # a GGUF file in ``repo`` (the first part of a split file)
    ollama_tag: str | None = None
    size_bytes: Optional[Annotated[int, Gt(0), Le(MAX_MEMORY_BYTES)]] = None
    engines: Annotated[list[str], MinLen(1)]
    license: str | None = None
    official: bool = False  # published by the model's authors, as shipped
    quality_loss: list[QualityLoss] = _list()
    note: str | None = None

    @property
    def name(self) -> str:
        """How a user names it: the Ollama tag, repo/file, or the repository."""
        if self.ollama_tag:
            return self.ollama_tag
        return f"{self.repo}/{self.file}" if self.file else str(self.repo)

    def __post_init__(self) -> None:
        from dsadvisor.catalog.names import FILE, OLLAMA_TAG, check_repo_id

        _check_id(self.id)
        if (self.repo is None) == (self.ollama_tag is None):
            raise ValueError("give exactly one of repo (a Hugging Face repository) or ollama_tag")
        if self.repo is not None:
            check_repo_id(self.repo)
        if self.file is not None and (self.repo is None or not re.match(FILE, self.file) or ".." in self.file):
            raise ValueError(f"file {quoted(self.file)} must be a file name inside repo "
                             "(letters, digits, '._-/'; no '..')")
        if self.ollama_tag is not None and not re.match(OLLAMA_TAG, self.ollama_tag):
            raise ValueError(f"ollama_tag {quoted(self.ollama_tag)} is not an Ollama tag (name:tag, lower-case name)")


# -------------------------------------------------------------- catalog file

@record(frozen=True, kw_only=True)
class CatalogFile(Strict):
    """One YAML file: any of these sections; a user's file has the same form."""

    schema_version: int = SCHEMA_VERSION
    sources: dict[str, str] = field(default_factory=dict)
    models: list[ModelEntry] = _list()
    gpus: list[Gpu] = _list()
    quantizations: list[QuantFormat] = _list()
    engines: list[Engine] = _list()
    artifacts: list[Artifact] = _list()

    def __post_init__(self) -> None:
        if self.schema_version != SCHEMA_VERSION:
            raise ValueError(f"unsupported schema_version {self.schema_version}; "
                             f"this dsadvisor reads {SCHEMA_VERSION}")


# ----------------------------------------------------------------- validation

R = TypeVar("R")


def validate(cls: type[R], data: Any) -> R:
    """``data`` (parsed YAML or JSON) as a ``cls`` record, or a pydantic ``ValidationError``.

    The one place pydantic is imported: only reading YAML or a config.json needs it.
    """
    return _adapter(cls).validate_python(data)


_ADAPTERS: dict[type, Any] = {}


def resolve_annotations() -> None:
    """Make this module's string annotations resolvable by pydantic (validation, JSON Schema).

    The annotations above are strings (PEP 563) that pydantic resolves in this module's
    namespace; the constraint markers join it only now, so a cached run never imports them.
    """
    import annotated_types

    from dsadvisor.catalog import engine_schema

    markers = {n: getattr(annotated_types, n) for n in ("Ge", "Gt", "Le", "MinLen")}
    globals().update(markers)
    vars(engine_schema).update(markers)
    globals().update({n: getattr(engine_schema, n) for n in ENGINE_RECORDS})  # CatalogFile's engines


def _adapter(cls: type) -> Any:
    if cls not in _ADAPTERS:
        from pydantic import TypeAdapter

        resolve_annotations()
        _ADAPTERS[cls] = TypeAdapter(cls)
    return _ADAPTERS[cls]


def as_dict(obj: Any, *, exclude: frozenset[str] | set[str] = frozenset(), include: set[str] | None = None) -> dict[str, Any]:
    """A record as JSON-ready data, fields that are None left out (nested records too)."""
    out = {}
    for f in dataclasses.fields(obj):
        if f.name in exclude or (include is not None and f.name not in include):
            continue
        value = _plain(getattr(obj, f.name))
        if value is not None:
            out[f.name] = value
    return out


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return as_dict(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def field_names(cls: Any) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)]
