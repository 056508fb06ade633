"""The catalog's schema: pydantic models for every kind of catalog entry.

Every model forbids unknown keys (a misspelt field is an error, not a silent
default) and is frozen (a loaded catalog is never mutated). Every figure carries
a ``source``: a seed file, a config.json, a paper, a datasheet or a measurement.
"""

from __future__ import annotations

from typing import Literal, Union

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

SCHEMA_VERSION = 1

Source = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2)]
"""Where a figure was read: e.g. ``seeds/000_7a8938a06f8a1ef0.txt``, ``HF config.json``, ``GH:V3``."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Sourced(Strict):
    source: Source


# --------------------------------------------------------------------- models

Status = Literal["described", "released"]
EntryKind = Literal["model", "edition", "sdk", "peer"]


class Architecture(Sourced):
    """A transformer's shape, named as Hugging Face config.json names it.

    Dense Llama/Qwen2 shapes need the first block; MLA (DeepSeek V2/V3) adds the
    lora ranks and head dims; MoE adds the expert fields.
    """

    model_type: str
    num_hidden_layers: int = Field(gt=0)
    hidden_size: int = Field(gt=0)
    intermediate_size: int = Field(gt=0)
    vocab_size: int = Field(gt=0)
    num_attention_heads: int = Field(gt=0)
    num_key_value_heads: int = Field(gt=0)
    head_dim: int = Field(gt=0)
    max_position_embeddings: int = Field(gt=0)
    tie_word_embeddings: bool = False
    attention_bias: bool = False
    # MLA (multi-head latent attention)
    q_lora_rank: int | None = Field(default=None, gt=0)
    kv_lora_rank: int | None = Field(default=None, gt=0)
    qk_nope_head_dim: int | None = Field(default=None, gt=0)
    qk_rope_head_dim: int | None = Field(default=None, gt=0)
    v_head_dim: int | None = Field(default=None, gt=0)
    # MoE
    moe_intermediate_size: int | None = Field(default=None, gt=0)
    n_routed_experts: int | None = Field(default=None, gt=0)
    n_shared_experts: int = Field(default=0, ge=0)
    num_experts_per_tok: int | None = Field(default=None, gt=0)
    first_k_dense_replace: int = Field(default=0, ge=0)
    moe_layer_freq: int = Field(default=1, gt=0)
    scoring_bias: bool = False  # V3's e_score_correction_bias: one float per routed expert
    # Multi-token prediction modules shipped beside the main layers (V3: 1)
    num_nextn_predict_layers: int = Field(default=0, ge=0)
    sliding_window: int | None = Field(default=None, gt=0)
    note: str | None = None

    @property
    def attention(self) -> Literal["mha", "gqa", "mla"]:
        if self.kv_lora_rank is not None:
            return "mla"
        return "mha" if self.num_key_value_heads == self.num_attention_heads else "gqa"

    @property
    def is_moe(self) -> bool:
        return bool(self.n_routed_experts)

    @model_validator(mode="after")
    def _consistent(self) -> "Architecture":
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
        if self.n_routed_experts and self.num_experts_per_tok > self.n_routed_experts:
            raise ValueError("num_experts_per_tok cannot exceed n_routed_experts")
        if self.first_k_dense_replace > self.num_hidden_layers:
            raise ValueError("first_k_dense_replace cannot exceed num_hidden_layers")
        return self


class ParamCount(Sourced):
    """A published parameter count, checked against the one computed from the architecture."""

    total: float = Field(gt=0)
    active: float | None = Field(default=None, gt=0)
    note: str | None = None


class Context(Sourced):
    configured: int | None = Field(default=None, gt=0)  # max_position_embeddings
    advertised: int | None = Field(default=None, gt=0)  # what the card or README promises
    note: str | None = None


class Fact(Sourced):
    """A single sourced value: license, release date, shipped dtype."""

    value: str
    note: str | None = None


class Benchmark(Sourced):
    name: str  # normalised lower-case id: mmlu, mmlu-pro, gsm8k, humaneval, math, math-500, aime24, ...
    score: float = Field(ge=0, le=100)
    setting: str | None = None  # e.g. "thinking", "non-thinking", "pass@1"
    note: str | None = None


ClaimValue = Union[bool, int, float, str]


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


class HardwareAdvice(Sourced):
    """An article's advice on what hardware a variant needs, to check against the estimate."""

    gpu: str  # as the catalog resolves it: "A100-40GB", "RTX 3060", "A100" ...
    gpus: int = Field(default=1, gt=0)
    vram_gb: float | None = Field(default=None, gt=0)
    quant: str | None = None
    purpose: Literal["inference", "training", "unspecified"] = "inference"
    quote: str
    note: str | None = None


class Conflict(Strict):
    """A disagreement between sources the catalog keeps instead of resolving."""

    about: str
    claims: list[str] = Field(min_length=1)  # each "value (source)"
    note: str | None = None


class ModelEntry(Sourced):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    name: str
    status: Status
    kind: EntryKind = "model"
    family: str
    aliases: list[str] = []
    hf_repo: str | None = None
    description: str | None = None
    architecture: Architecture | None = None
    architecture_from: str | None = None  # the id of an entry with the same shape (base/chat pairs)
    params: list[ParamCount] = []
    context: Context | None = None
    weights_dtype: Fact | None = None
    license: Fact | None = None
    released: Fact | None = None
    benchmarks: list[Benchmark] = []
    claims: list[Claim] = []
    hardware_advice: list[HardwareAdvice] = []
    conflicts: list[Conflict] = []
    related: list[str] = []  # ids of entries the same name or article points at
    tasks: list[Literal["general", "code", "math", "reasoning", "chat", "vision"]] = []

    @model_validator(mode="after")
    def _released_has_shape(self) -> "ModelEntry":
        if self.architecture is not None and self.architecture_from is not None:
            raise ValueError("give either architecture or architecture_from, not both")
        if self.status == "released" and self.kind == "model":
            if self.architecture is None and self.architecture_from is None and not self.params:
                raise ValueError("a released model needs an architecture (or architecture_from) or params")
        return self


# ------------------------------------------------------------------- hardware

DType = Literal["fp32", "tf32", "fp16", "bf16", "fp8", "int8", "int4", "fp4"]


class Interconnect(Sourced):
    kind: Literal["nvlink", "pcie", "infinity-fabric", "unified", "ethernet", "none"]
    bandwidth_gbs: float = Field(ge=0)  # per GPU, one direction, GB/s
    note: str | None = None


class Gpu(Sourced):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    name: str
    vendor: Literal["nvidia", "amd", "intel", "apple", "qualcomm", "broadcom", "other"]
    family: str  # what a user types with --gpu: "A100", "H100", "RTX 4090"
    variant: str | None = None  # "SXM", "PCIe", "NVL"
    category: Literal["datacenter", "workstation", "consumer", "edge", "apple", "mobile", "cpu"]
    memory_gb: float = Field(gt=0)  # as marketed
    memory_bytes: int | None = Field(default=None, gt=0)  # as the driver reports it, where measured
    unified_memory: bool = False
    usable_memory_fraction: float = Field(default=1.0, gt=0, le=1)
    bandwidth_gbs: float = Field(gt=0)
    fp16_tflops: float | None = Field(default=None, gt=0)
    bf16_tflops: float | None = Field(default=None, gt=0)
    fp8_tflops: float | None = Field(default=None, gt=0)
    int8_tops: float | None = Field(default=None, gt=0)
    dtypes: list[DType]
    compute_capability: str | None = None
    interconnect: Interconnect | None = None
    nvidia_smi_names: list[str] = []
    aliases: list[str] = []
    note: str | None = None


# -------------------------------------------------------------- quantization

class QualityLoss(Sourced):
    """Expected quality loss of a format, in percent of the unquantized score."""

    percent: float = Field(ge=0, le=100)
    note: str | None = None


class QuantFormat(Sourced):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    name: str
    bits_per_weight: float = Field(gt=0, le=32)  # scales and zero points included
    applies_to: list[Literal["weights", "kv_cache"]] = ["weights"]
    kept_16bit: list[Literal["embeddings", "lm_head", "norms", "router", "attention"]] = []
    weight_only: bool = True  # activations stay 16-bit; compute runs at the 16-bit rate
    compute_dtype: DType = "bf16"  # the tensor-core rate prefill runs at
    needs_dtypes: list[DType] = []  # hardware must support one of these
    engines: list[str] = []
    quality_loss: list[QualityLoss] = []
    aliases: list[str] = []
    note: str | None = None


# -------------------------------------------------------------------- engines

class EngineMemory(Sourced):
    """How an engine takes GPU memory and what it adds to weights and KV cache."""

    policy: Literal["fraction_of_total", "fraction_of_free", "on_demand"]
    default_fraction: float | None = Field(default=None, gt=0, le=1)
    runtime_overhead_gb: float = Field(ge=0)  # CUDA context + library workspaces
    cuda_graphs: bool = False  # captured graphs take min(3, max(0.5, 0.1 x weights GB)) GB (vllm-fit's rule)
    comm_buffer_gb: float = Field(default=0, ge=0)  # NCCL buffers per GPU when tensor/pipeline parallel
    max_batched_tokens: int | None = Field(default=None, gt=0)  # prefill chunk sized at profiling
    kv_duplicated_during_decode: bool = False  # dynamic cache grown by concatenation
    decompressed_mla_cache: bool = False  # caches MLA as per-head K and V instead of the latent
    note: str | None = None


class EngineSpeed(Sourced):
    """What an engine adds to the roofline (docs/method.md derives each term).

    Efficiencies are fractions of the datasheet figure; the per-layer costs are
    the fixed time a layer takes besides its bytes and FLOPs (kernel launches,
    small-kernel tails, and for eager PyTorch the Python that issues them).
    """

    per_layer_decode_s: float = Field(ge=0)
    per_layer_prefill_s: float = Field(default=0, ge=0)
    per_moe_layer_decode_s: float = Field(default=0, ge=0)  # routing, expert dispatch: besides the dense cost
    bandwidth_efficiency: float = Field(gt=0, le=1)
    linear_efficiency: float = Field(gt=0, le=1)
    attention_efficiency: float = Field(gt=0, le=1)
    # bytes moved by unfused element-wise kernels per token and layer, for each
    # query/key element (transposes, RoPE) and each MLP intermediate element
    qk_elementwise_bytes: float = Field(default=0, ge=0)
    mlp_elementwise_bytes: float = Field(default=0, ge=0)
    note: str | None = None


class Engine(Sourced):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    name: str
    formats: list[str]
    kv_dtypes: list[str]
    attention: list[Literal["mha", "gqa", "mla"]]
    devices: list[Literal["cuda", "rocm", "metal", "cpu", "gaudi"]]
    min_compute_capability: str | None = None
    tensor_parallel: bool = True
    pipeline_parallel: bool = True
    expert_parallel: bool = False
    multi_node: bool = False
    cpu_offload: bool = False
    memory: EngineMemory
    speed: EngineSpeed
    aliases: list[str] = []
    note: str | None = None


# -------------------------------------------------------------- catalog file

class CatalogFile(Strict):
    """One YAML file: any of these sections; a user's file has the same form."""

    schema_version: int = SCHEMA_VERSION
    sources: dict[str, str] = {}
    models: list[ModelEntry] = []
    gpus: list[Gpu] = []
    quantizations: list[QuantFormat] = []
    engines: list[Engine] = []

    @field_validator("schema_version")
    @classmethod
    def _known_version(cls, v: int) -> int:
        if v != SCHEMA_VERSION:
            raise ValueError(f"unsupported schema_version {v}; this dsadvisor reads {SCHEMA_VERSION}")
        return v
