"""The catalog's schema for a serving engine: how it takes memory (``EngineMemory``), the constants of its
speed (``EngineSpeed``, each with what measured it), the versions they changed in (``SpeedChange``,
``SpeedVersions``), what it runs where (``SupportLimit``, ``ModelLimit``), and the ``Engine`` entry that holds
them.

Layer 1 (catalog), read after ``catalog.schema``, whose records every entry shares (``Sourced``, the bounds on
figures, the id check) and which still names these (``from dsadvisor.catalog.schema import Engine``). Validated
as the rest of the schema (``schema.validate``): the constraint markers join this module's namespace only then.
"""

from __future__ import annotations

from dataclasses import field
from typing import TYPE_CHECKING, Annotated, Literal, Optional

from dsadvisor.catalog.schema import (MAX_ELEMENTWISE_BYTES, MAX_LAYER_S, MAX_MEMORY_GB, MAX_SHAPE, AttentionKind,
                                      DType, Sourced, Strict, _check_gfx, _check_id, _list)
from dsadvisor.records import record

if TYPE_CHECKING:  # joined by schema.resolve_annotations(): only pydantic reads these markers, when it validates
    from annotated_types import Ge, Gt, Le, MinLen


@record(frozen=True, kw_only=True)
class EngineMemory(Sourced):
    """How an engine takes GPU memory and what it adds to weights and KV cache."""

    policy: Literal["fraction_of_total", "fraction_of_free", "on_demand"]
    default_fraction: Optional[Annotated[float, Gt(0), Le(1)]] = None
    runtime_overhead_gb: Annotated[float, Ge(0), Le(MAX_MEMORY_GB)]  # CUDA context + library workspaces
    cuda_graphs: bool = False  # captured graphs take min(3, max(0.5, 0.1 x weights GB)) GB (vllm-fit's rule)
    # NCCL buffers per GPU when tensor/pipeline parallel
    comm_buffer_gb: Annotated[float, Ge(0), Le(MAX_MEMORY_GB)] = 0
    # prefill chunk sized at profiling (a token count, capped as a shape is: 10**400 is no float)
    max_batched_tokens: Optional[Annotated[int, Gt(0), Le(MAX_SHAPE)]] = None
    kv_duplicated_during_decode: bool = False  # dynamic cache grown by concatenation
    decompressed_mla_cache: bool = False  # caches MLA as per-head K and V instead of the latent
    # the engine releases whose behaviour this models, where it changed between releases (vLLM V0 / V1)
    version: str | None = None
    note: str | None = None


@record(frozen=True, kw_only=True)
class EngineSpeed(Sourced):
    """What an engine adds to the roofline (docs/method.md derives each term).

    Efficiencies are fractions of the datasheet figure; the per-layer costs are
    the fixed time a layer takes besides its bytes and FLOPs (kernel launches,
    small-kernel tails, and for eager PyTorch the Python that issues them).
    """

    per_layer_decode_s: Annotated[float, Ge(0), Le(MAX_LAYER_S)]
    per_layer_prefill_s: Annotated[float, Ge(0), Le(MAX_LAYER_S)] = 0
    # routing, expert dispatch: besides the dense cost; with expert parallel, where it differs (whole experts on
    # each GPU run one small grouped GEMM each, instead of every expert's thin tensor-parallel slice)
    per_moe_layer_decode_s: Annotated[float, Ge(0), Le(MAX_LAYER_S)] = 0
    # prefill: each MoE layer adds this much to every forward pass that carries prompt tokens (router,
    # top-k, expert dispatch and the grouped GEMMs' fixed cost in eager mode), besides its FLOPs
    per_moe_layer_prefill_s: Annotated[float, Ge(0), Le(MAX_LAYER_S)] = 0
    per_moe_layer_decode_ep_s: Optional[Annotated[float, Ge(0), Le(MAX_LAYER_S)]] = None
    # the two above for formats of another compute dtype whose MoE kernel differs (TensorRT-LLM's fp4
    # min-latency kernel), keyed by compute dtype
    per_moe_layer_decode_s_by_dtype: dict[str, Annotated[float, Ge(0), Le(MAX_LAYER_S)]] = field(default_factory=dict)
    # per_moe_layer_decode_s for 16-bit experts where the engine runs them through another kernel than its
    # block-quantized ones (llama.cpp: mmf with expert ids against mul_mat_vec_q), None: the same
    per_moe_layer_decode_16bit_s: Optional[Annotated[float, Ge(0), Le(MAX_LAYER_S)]] = None
    per_moe_layer_decode_ep_s_by_dtype: dict[str, Annotated[float, Ge(0), Le(MAX_LAYER_S)]] = field(
        default_factory=dict)
    # decode with expert parallel: the share of the datasheet bandwidth at which the fused-MoE kernel reads its whole
    # experts, for one compute dtype on one GPU generation ("fp8@10": compute capability 10.x) where NVIDIA's kernel
    # tables time it below bandwidth_efficiency (TensorRT-LLM's DeepGEMM on B200/GB200); absent: bandwidth_efficiency
    moe_expert_read_efficiency_by_dtype: dict[str, Annotated[float, Gt(0), Le(1)]] = field(default_factory=dict)
    # the figure above resolved for one format and GPU (estimate.for_format); None: bandwidth_efficiency
    moe_expert_read_efficiency: Optional[Annotated[float, Gt(0), Le(1)]] = None
    # the engine's own all-reduce over NVLink inside a decode step's CUDA graph (small messages): a fixed latency
    # and a bus bandwidth; None: the link's NCCL figures (timing.ALLREDUCE_LATENCY_S)
    allreduce_latency_s: Optional[Annotated[float, Ge(0), Le(MAX_LAYER_S)]] = None
    allreduce_bus_gbs: Optional[Annotated[float, Gt(0), Le(1e6)]] = None
    # the two above on one GPU generation where its kernel was timed apart, keyed by the compute capability's major
    # ("10": Blackwell's NVLink 5, slower at a decode step's small messages than Hopper's)
    allreduce_latency_s_by_generation: dict[str, Annotated[float, Ge(0), Le(MAX_LAYER_S)]] = field(
        default_factory=dict)
    allreduce_bus_gbs_by_generation: dict[str, Annotated[float, Gt(0), Le(1e6)]] = field(default_factory=dict)
    # weight-only 4-bit experts (AWQ/GPTQ) through the engine's wna16 MoE kernel, decode: a floor per MoE layer and
    # a cost per (token, routed expert) pair for a whole expert (a tensor-parallel slice takes 1/tp of it), both in
    # seconds on a GPU of int4_moe_reference_gbs of HBM and scaled by bandwidth to others; None: not modelled
    # the engine's F16-weight GEMM accumulates in fp16 (llama.cpp: cuBLAS with CUBLAS_COMPUTE_16F): GeForce cards
    # run it at their fp16_acc16_tflops
    f16_gemm_accumulates_fp16: bool = False
    int4_moe_decode_floor_s: Optional[Annotated[float, Ge(0), Le(MAX_LAYER_S)]] = None
    int4_moe_decode_pair_s: Optional[Annotated[float, Ge(0), Le(MAX_LAYER_S)]] = None
    int4_moe_reference_gbs: Optional[Annotated[float, Gt(0), Le(1e6)]] = None
    bandwidth_efficiency: Annotated[float, Gt(0), Le(1)]
    linear_efficiency: Annotated[float, Gt(0), Le(1)]
    attention_efficiency: Annotated[float, Gt(0), Le(1)]
    # bytes moved by unfused element-wise kernels per token and layer, for each
    # query/key element (transposes, RoPE) and each MLP intermediate element
    qk_elementwise_bytes: Annotated[float, Ge(0), Le(MAX_ELEMENTWISE_BYTES)] = 0
    mlp_elementwise_bytes: Annotated[float, Ge(0), Le(MAX_ELEMENTWISE_BYTES)] = 0
    # achieved fraction of the datasheet rate of the format's compute dtype, where it differs from
    # linear_efficiency (e.g. fp8 GEMMs), keyed by dtype, or by dtype and GPU generation ("fp8@10": compute
    # capability 10.x), which wins over the dtype alone
    linear_efficiency_by_dtype: dict[str, Annotated[float, Gt(0), Le(1)]] = field(default_factory=dict)
    # block-quantized (GGUF) weights: prefill matmuls run on int8 tensor cores at this fraction of the
    # GPU's dense int8 rate, keyed by compute capability ("9.0") or "default", or of its 16-bit rate where
    # no int8 rate is known ("16bit", or the GPU's vendor: "apple"); empty: the format's compute dtype at
    # linear_efficiency
    quantized_linear_efficiency: dict[str, Annotated[float, Gt(0), Le(1)]] = field(default_factory=dict)
    # block-quantized decode: weights the dequantizing matrix-vector kernels get through per second
    # besides the bytes they read, keyed by format id or "default"
    dequant_weights_per_s: dict[str, Annotated[float, Gt(0), Le(1e18)]] = field(default_factory=dict)
    # batched decode (llama.cpp): up to quantized_vector_max_batch sequences the dequantizing vector kernel
    # runs once per sequence, each further sequence getting through dequant_column_weights_per_s weights a
    # second; above it the batched quantized matmul costs a step one pass over the weights at
    # batched_weights_per_s; 16-bit weights at batch > 1 at batched_16bit_weights_per_s
    quantized_vector_max_batch: Annotated[int, Ge(0), Le(MAX_SHAPE)] = 0
    dequant_column_weights_per_s: Optional[Annotated[float, Gt(0), Le(1e18)]] = None
    batched_weights_per_s: Optional[Annotated[float, Gt(0), Le(1e18)]] = None
    batched_16bit_weights_per_s: Optional[Annotated[float, Gt(0), Le(1e18)]] = None
    # the batched quantized matmul's output tiles (llama.cpp MMQ, ggml-cuda/mmq.cuh): at most
    # mmq_max_tile_columns token columns a tile, in steps of mmq_tile_column_step; every tile passes over its
    # weights (batched_weights_per_s) and multiplies all its columns, used or not; 0: not tiled
    mmq_max_tile_columns: Annotated[int, Ge(0), Le(MAX_SHAPE)] = 0
    mmq_tile_column_step: Annotated[int, Gt(0), Le(MAX_SHAPE)] = 1
    # each weight matmul costs this much per column tile (up to mmq_max_tile_columns tokens) besides its
    # weights and FLOPs: a prompt's micro-batch of 512 tokens four times, a batched decode step above
    # quantized_vector_max_batch sequences once (launches, the GPU's fill and drain, stream-k fix-up)
    matmul_tile_s: Annotated[float, Ge(0), Le(MAX_LAYER_S)] = 0
    # every decoded token's logits (vocabulary x 4 bytes) are copied to host memory at this rate; None: not
    # copied (the engine samples on the GPU)
    logits_host_bytes_per_s: Optional[Annotated[float, Gt(0), Le(1e18)]] = None
    # prefill: routed-expert GEMMs reach this share of the linear rate (small per-expert batches,
    # routing imbalance, dispatch); the 16-bit figure where it differs
    moe_expert_efficiency: Annotated[float, Gt(0), Le(1)] = 1.0
    moe_expert_efficiency_16bit: Optional[Annotated[float, Gt(0), Le(1)]] = None
    # moe_expert_efficiency for one compute dtype on one GPU generation ("fp8@10": compute capability 10.x) where
    # the engine's fused-MoE kernel there was timed apart (aiconfigurator's kernel tables)
    moe_expert_efficiency_by_dtype: dict[str, Annotated[float, Gt(0), Le(1)]] = field(default_factory=dict)
    # MLA layers (llama.cpp): the latent projections, the per-head absorbed matmuls and their small kernels
    # cost this much a decode step and layer besides their bytes
    per_mla_layer_decode_s: Annotated[float, Ge(0), Le(MAX_LAYER_S)] = 0
    # MLA decode attention (the absorbed query dots every cached latent) at this many FLOP/s per byte/s of the
    # datasheet bandwidth instead of attention_efficiency of the tensor rate: llama.cpp's flash-attention vector
    # kernel runs it on the CUDA cores
    decode_attention_flops_per_byte: Optional[Annotated[float, Gt(0), Le(1e4)]] = None
    # GQA/MHA decode attention in ggml-cuda's flash-attention kernels (physics/ggml_attention.py): seconds per
    # (query head, cached token) and layer with a 16-bit ("f16") or block-quantized ("quantized") KV cache,
    # floored by the cache's bytes at the bandwidth, and what a quantized cache adds a layer and step; measured
    # on an H200 and taken as they are on other NVIDIA GPUs. Unset: the KV bytes alone
    fattn_head_token_s: dict[str, Annotated[float, Gt(0), Le(1e-6)]] = field(default_factory=dict)
    fattn_quantized_layer_s: Annotated[float, Ge(0), Le(MAX_LAYER_S)] = 0
    # the tensor-core (MMA) kernel one sequence's decode token runs past 8,192 cells with more than 4 query heads a
    # KV head and a 16-bit cache: seconds a layer and step, and per (cached token, layer) floored by the cache's
    # bytes at the bandwidth (physics/ggml_attention.py). Unset: fattn_head_token_s as for the vector kernel
    fattn_mma_layer_s: Optional[Annotated[float, Ge(0), Le(MAX_LAYER_S)]] = None
    fattn_mma_token_s: Annotated[float, Ge(0), Le(1e-6)] = 0
    # prompt attention's share of the 16-bit rate by attention kind ("mha", "gqa", "mla") where the engine's
    # flash-attention kernel reaches different rates by kind (llama.cpp, measured on the H200: GPUs of the
    # mmq_pass_capability generation; attention_efficiency elsewhere and for releases without flash attention)
    attention_efficiency_by_kind: dict[str, Annotated[float, Gt(0), Le(1)]] = field(default_factory=dict)
    # formats whose matrix-vector kernel unpacks one 32-bit word of quants per thread and step (VDR 1 in
    # ggml-cuda/vecdotq.cuh: Q2_K, Q3_K, Q6_K): dequant_weights_per_s["vdr1"] unless the format has its own
    vdr1_formats: list[str] = _list()
    # a format that runs the kernels of a measured one takes that one's per-format figures in every table here
    # (llama.cpp: Q4_K_S's tensors are Q4_K_M's block types with fewer of them bumped, so its Q4_K kernels and
    # Q4_K_M's rates); keys are formats without figures of their own
    format_kernels_as: dict[str, str] = field(default_factory=dict)
    # their batched quantized matmul (MMQ) unpacks its tiles with more instructions too: the quantized prefill
    # rate times this (formats without their own mmq_format_factor)
    vdr1_linear_factor: Annotated[float, Gt(0), Le(1)] = 1.0
    # MMQ's column rate by format relative to quantized_linear_efficiency (Q4_K's), read off the kernels timed
    # alone (llama.cpp on the H200: benchmarks/fit_llamacpp_kernels.py)
    mmq_format_factor: dict[str, Annotated[float, Gt(0), Le(10)]] = field(default_factory=dict)
    # the pass unpacking a block-quantized weight into each MMQ output tile, besides reading its bytes, in weights
    # a second by format, on GPUs of compute capability mmq_pass_capability (where it was measured); other GPUs
    # and formats: batched_weights_per_s
    batched_weights_per_s_by_format: dict[str, Annotated[float, Gt(0), Le(1e18)]] = field(default_factory=dict)
    mmq_pass_capability: str | None = None
    # routed experts' tiles (MUL_MAT_ID) in a batched decode step reach this share of the dense MMQ column rate
    # (None: moe_expert_efficiency, the prompts' figure)
    moe_expert_decode_efficiency: Optional[Annotated[float, Gt(0), Le(1)]] = None
    # llama.cpp's matmul kernels timed alone on the GPU generation mmq_pass_capability (run 6,
    # benchmarks/fit_llamacpp_kernels.py), each dropped on other generations (on_device):
    # the vector kernel (MMVQ, 2 to quantized_vector_max_batch sequences): each further column costs each weight
    # matmul vector_column_s whatever its size, plus its weights at dequant_column_weights_per_s_by_format
    vector_column_s: Annotated[float, Ge(0), Le(MAX_LAYER_S)] = 0
    dequant_column_weights_per_s_by_format: dict[str, Annotated[float, Gt(0), Le(1e18)]] = field(default_factory=dict)
    # and each (token, routed expert) pair is a matrix-vector product of its own (mul_mat_vec_q with expert ids):
    # its expert's weights at the slower of their bytes and this rate by format (else dequant_weights_per_s)
    expert_pair_weights_per_s_by_format: dict[str, Annotated[float, Gt(0), Le(1e18)]] = field(default_factory=dict)
    # MMQ in a decode step: the first tile costs a matmul mmq_decode_matmul_s more than the one-column kernel
    # whose fixed cost per_layer_decode_s holds, and each column it multiplies mmq_column_s plus its weights at
    # mmq_column_weights_per_s_by_format (weight-columns a second, the column rate with the floor apart)
    mmq_decode_matmul_s: Annotated[float, Ge(0), Le(MAX_LAYER_S)] = 0
    mmq_column_s: Annotated[float, Ge(0), Le(MAX_LAYER_S)] = 0
    mmq_column_weights_per_s_by_format: dict[str, Annotated[float, Gt(0), Le(1e18)]] = field(default_factory=dict)
    # and the first tile's pass over the weights beyond the one-column kernel's, weights a second by format (a
    # format without one: no pass beyond the vector kernel's own unpacking)
    mmq_decode_weights_per_s_by_format: dict[str, Annotated[float, Gt(0), Le(1e18)]] = field(default_factory=dict)
    # 16-bit weights at 2-16 sequences (ggml-cuda mmf.cu): a block of 32 weight rows walks the whole reduction
    # dimension K alone, f16_block_s + K x f16_block_k_s; a matmul takes the longer of one block and its
    # weights at f16_small_batch_weights_per_s (every SM busy); 0: batched_16bit_weights_per_s instead
    f16_block_s: Annotated[float, Ge(0), Le(MAX_LAYER_S)] = 0
    f16_block_k_s: Annotated[float, Ge(0), Le(MAX_LAYER_S)] = 0
    f16_small_batch_weights_per_s: Optional[Annotated[float, Gt(0), Le(1e18)]] = None
    # the one-column 16-bit kernel's own time a matmul besides its bytes, which per_layer_decode_s holds: mmf
    # replaces it
    f16_vector_matmul_s: Annotated[float, Ge(0), Le(MAX_LAYER_S)] = 0
    # 16-bit weights above 16 columns (cuBLAS GEMM with its activation and output conversions): each weight matmul
    # costs this much beyond the one-column kernel (its bytes and f16_vector_matmul_s), instead of a pass over the
    # weights at batched_16bit_weights_per_s (0: that pass); measured on the GPU generation mmq_pass_capability
    f16_gemm_matmul_s: Annotated[float, Ge(0), Le(MAX_LAYER_S)] = 0
    # 16-bit routed experts (mmf with expert ids): at up to f16_expert_columns tokens their bytes alone, above
    # that a pass over the experts the step touches at f16_expert_weights_per_s besides their bytes
    f16_expert_columns: Annotated[int, Ge(0), Le(MAX_SHAPE)] = 0
    f16_expert_weights_per_s: Optional[Annotated[float, Gt(0), Le(1e18)]] = None
    # each further sequence of a batched decode step costs this much per layer besides its matmul columns and KV
    # bytes, whatever the weights' format (llama.cpp: attention and cache writes per sequence stream)
    per_sequence_layer_decode_s: Annotated[float, Ge(0), Le(MAX_LAYER_S)] = 0
    # 16-bit weights' batched GEMM (llama.cpp: cuBLAS above a few columns) hides its FLOPs under reading the
    # weights: a decode step of 2-128 sequences takes the longer of the two, not their sum
    batched_16bit_hides_flops: bool = False
    prefill_fixed_s: Annotated[float, Ge(0), Le(MAX_LAYER_S)] = 0  # per request: scheduling, sampling, launch
    # per_layer_decode_s on another GPU vendor's backend (llama.cpp on Apple: Metal), keyed by vendor
    per_layer_decode_s_by_vendor: dict[str, Annotated[float, Ge(0), Le(MAX_LAYER_S)]] = field(default_factory=dict)
    # linear_efficiency (16-bit matmuls) on another GPU vendor's backend, keyed by vendor
    linear_efficiency_by_vendor: dict[str, Annotated[float, Gt(0), Le(1)]] = field(default_factory=dict)
    # block-quantized prompt matmuls dequantize the weights to fp16 and run the 16-bit GEMM (llama.cpp's cuBLAS
    # path before MMQ ran on int8 tensor cores), paying a pass over the weights per micro-batch; set only by a
    # SpeedChange for releases before it
    quantized_prefill_dequantized: bool = False
    # prompts without flash attention: the KQ matrix (tokens x context x heads) goes through memory in F32 between the
    # two attention GEMMs and the soft-max (llama.cpp before FA was its default); set only by a SpeedChange
    prefill_kq_materialized: bool = False
    # a decode step's reads at most sm_count times this (an older release's matrix-vector kernels; None: no ceiling)
    vector_bytes_per_sm_s: Optional[Annotated[float, Gt(0), Le(1e12)]] = None
    # the to-fp16 dequantize kernels of an older release's quantized prompt path unpack at most sm_count times this
    # many weights a second, by format (formats not listed: at the bandwidth)
    dequant_fp16_weights_per_sm_s: dict[str, Annotated[float, Gt(0), Le(1e12)]] = field(default_factory=dict)
    # an older release's prompt runs at this share of the rate the figures above give (its own kernels on one GPU
    # generation, measured); the dequantizing pass, timed on its own, is not scaled
    prefill_rate_share: Annotated[float, Gt(0), Le(1)] = 1.0
    # the releases these figures model and the behaviours that changed between releases
    versions: Optional[SpeedVersions] = None
    note: str | None = None


@record(frozen=True, kw_only=True)
class SpeedChange(Sourced):
    """A behaviour of the engine that changed at release ``since``: a deployment that names an older release
    (``Deployment.engine_version``) is estimated with the figures below instead."""

    since: Annotated[str, MinLen(1)]  # the first release with the modelled behaviour: a build date or a version
    what: Annotated[str, MinLen(2)]  # the change, as the engine's history states it
    vendors: list[str] = _list()  # GPU vendors whose backend changed (empty: every one)
    min_compute_capability: str | None = None  # on NVIDIA GPUs from this compute capability only
    per_layer_decode_s_before: Annotated[float, Ge(0), Le(MAX_LAYER_S)] = 0  # added per layer to a decode step
    quantized_prefill_dequantized_before: bool = False  # older releases dequantize block-quantized prompt GEMMs
    prefill_kq_materialized_before: bool = False  # older releases run prompt attention without flash attention
    # older releases' matrix-vector kernels deliver at most this many bytes/s per SM (bytes in flight per SM over
    # the memory latency): a decode step reads at most sm_count times this
    vector_bytes_per_sm_s_before: Optional[Annotated[float, Gt(0), Le(1e12)]] = None
    # older releases' to-fp16 dequantize kernels (one warp a 256-weight block) unpack at most sm_count x this many
    # weights a second, by format: the prompt's dequantizing pass takes the longer of that and its bytes
    dequant_fp16_weights_per_sm_s_before: dict[str, Annotated[float, Gt(0), Le(1e12)]] = field(default_factory=dict)
    # older releases' prompts run at this share of the modelled rate (None: unchanged)
    prefill_rate_share_before: Optional[Annotated[float, Gt(0), Le(1)]] = None


@record(frozen=True, kw_only=True)
class SpeedVersions(Strict):
    modelled: Annotated[str, MinLen(2)]  # the releases the speed figures are fitted on
    # how releases are named: build dates (YYYY-MM-DD, llama.cpp's builds) or dotted release numbers
    scheme: Literal["date", "release"] = "release"
    changes: list[SpeedChange] = _list()


DeviceKind = Literal["cuda", "rocm", "metal", "cpu", "gaudi", "cpu-x86", "cpu-arm"]


@record(frozen=True, kw_only=True)
class SupportLimit(Sourced):
    """Where an engine does NOT run some formats or attention kinds, in the engine's own docs' words.

    A limit applies to a deployment when its format is in ``formats`` (empty: any), its attention
    kind in ``attention`` (empty: any) and its device kind in ``on_devices`` (empty: any); it then requires
    the device kind to be in ``devices`` (empty: any), on CUDA at least ``min_compute_capability``,
    and the device to list one of ``needs_dtypes``. ``reason`` is shown as the engine's word.
    Device kinds are cuda, rocm, metal, gaudi and cpu; ``cpu-x86`` and ``cpu-arm`` name a CPU of
    one instruction set (a CPU whose instruction set is unknown matches neither).
    """

    formats: list[str] = _list()
    attention: list[AttentionKind] = _list()
    on_devices: list[DeviceKind] = _list()  # the device kinds the limit applies on (empty: any)
    devices: list[DeviceKind] = _list()
    min_compute_capability: str | None = None
    needs_dtypes: list[DType] = _list()  # the device must list one of these number formats
    reason: Annotated[str, MinLen(2)]
    since_version: str | None = None  # the engine release the limit was read for


@record(frozen=True, kw_only=True)
class ModelLimit(Sourced):
    """Model families an engine has no model class for: their checkpoints do not load in it at all, on any
    hardware (vLLM and the ``MultiModalityCausalLM`` of Janus and DeepSeek-VL). ``reason`` is the engine's word."""

    families: Annotated[list[str], MinLen(1)]
    reason: Annotated[str, MinLen(2)]


@record(frozen=True, kw_only=True)
class RocmTargets(Sourced):
    """The AMD GPU targets an engine's ROCm build is made for, as ROCm's LLVM names them (``gfx942``), read from
    the engine's own build files or docs (``source``); an AMD GPU whose ``gfx_arch`` is not listed is refused
    with ``note`` as the engine's word. An AMD GPU of unknown target (one known by --vram alone) is not refused."""

    gfx: Annotated[list[str], MinLen(1)]
    note: Annotated[str, MinLen(2)]  # what the engine's ROCm build targets, in its own words

    def __post_init__(self) -> None:
        for name in self.gfx:
            _check_gfx(name)


@record(frozen=True, kw_only=True)
class Engine(Sourced):
    id: str
    name: str
    formats: list[str]
    kv_dtypes: list[str]
    attention: list[AttentionKind]
    devices: list[Literal["cuda", "rocm", "metal", "cpu", "gaudi"]]
    min_compute_capability: str | None = None
    rocm_gfx: RocmTargets | None = None  # on AMD GPUs only these targets (None: any AMD GPU ROCm runs on)
    tensor_parallel: bool = True
    pipeline_parallel: bool = True
    expert_parallel: bool = False
    data_parallel_attention: bool = False  # attention split by requests, MoE by experts (DeepSeek MLA)
    # speculative decoding drafted by the model's own MTP layer (num_nextn_predict_layers; estimate --mtp)
    mtp_speculative: bool = False
    multi_node: bool = False
    memory: EngineMemory
    speed: EngineSpeed
    support: list[SupportLimit] = _list()
    cannot_load: list[ModelLimit] = _list()  # model families it has no model class for
    aliases: list[str] = _list()
    note: str | None = None

    def __post_init__(self) -> None:
        _check_id(self.id)
