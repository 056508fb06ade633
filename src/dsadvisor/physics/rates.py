"""What an engine reaches on a GPU for a weight format: the datasheet rate of a dtype, the share of it the engine's
kernels reach (by dtype, GPU generation or vendor), the engine's speed constants as they apply on this device and
format (``on_device``, ``for_format``), and the ``Rates`` a decode step and a prompt are timed with (``rates_for``).

Layer 2 (physics), read after ``physics.timing`` (``Rates``) and before ``physics.estimate``, which times a
deployment with these rates and still names them (``from dsadvisor.physics.estimate import rates_for`` works).
"""

from __future__ import annotations

from dsadvisor.catalog.schema import Engine, Gpu, QuantFormat
from dsadvisor.kept import kept_by_identity
from dsadvisor.physics.timing import (ALLREDUCE_LATENCY_S, ALLTOALL_LINK_SHARE, DEFAULT_ALLREDUCE_LATENCY_S,
                                      NCCL_ALLREDUCE, NCCL_GATHER, XGMI_ALLREDUCE, Rates)
from dsadvisor.records import replace

PCIE_GEN4_GBS = 32.0  # a card that names no interconnect talks over PCIe 4 x16

# An AMD RDNA GPU's int8 matrix (WMMA) rate per its 16-bit one, by GFX generation, where its datasheet states no
# int8 figure: AMD's table of WMMA FLOPS per clock per CU (GPUOpen, "Using the Matrix Cores of AMD RDNA 4
# architecture GPUs", https://gpuopen.com/learn/using_matrix_core_amd_rdna4): RDNA 3 (RX 7900 XTX) FP16 512,
# I8 512; RDNA 4 (RX 9070 XT) FP16 1024, I8 2048. RDNA 3.5 (gfx115x: Strix Halo's Radeon 8060S) runs RDNA 3's
# gfx11 WMMA instructions (V_WMMA_I32_16X16X16_IU8 beside V_WMMA_F32_16X16X16_F16). The catalog's stated
# figures agree: RX 7900 XTX int8 122.8 = fp16 122.8, RX 9070 XT int8 389.3 = 2 x 194.6.
INT8_PER_FP16_BY_GFX = {"gfx11": 1.0, "gfx12": 2.0}


def int8_rate(gpu: Gpu) -> float | None:
    """The int8 matrix ops a second of a GPU that lists int8: its datasheet's, else on an AMD RDNA GPU its 16-bit
    WMMA rate times the ISA's int8 ratio (``INT8_PER_FP16_BY_GFX``); None where neither says."""
    if "int8" not in gpu.dtypes:
        return None
    if gpu.int8_tops:
        return gpu.int8_tops * 1e12
    ratio = INT8_PER_FP16_BY_GFX.get((gpu.gfx_arch or "")[:5])
    sixteen = gpu.fp16_tflops or gpu.bf16_tflops
    return sixteen * ratio * 1e12 if ratio and sixteen else None


def int8_ceiling(gpu: Gpu) -> float | None:
    """The int8 matrix ops a second no quantized prompt path may pass: ``int8_rate``; on NVIDIA tensor cores of
    Turing, Ampere and Ada (compute capability 7.5-8.9) that state none, twice the 16-bit rate with a 16-bit
    accumulator (NVIDIA's GA102 whitepaper: RTX 3090 INT8 284 TOPS dense, FP16 142; every such catalog entry that
    states int8 has the same 2 x); elsewhere (a CPU, V100's dp4a, a device without int8) the 16-bit rate."""
    stated = int8_rate(gpu)
    if stated:
        return stated
    sixteen = max(gpu.fp16_acc16_tflops or 0.0, gpu.fp16_tflops or gpu.bf16_tflops or 0.0) * 1e12
    major, _, minor = (gpu.compute_capability or "0.0").partition(".")
    tensor_int8 = gpu.vendor == "nvidia" and "int8" in gpu.dtypes and (7, 5) <= (int(major), int(minor or 0)) < (9, 0)
    return (2 * sixteen if tensor_int8 else sixteen) or None


def dtype_rate(gpu: Gpu, dtype: str) -> float | None:
    int8 = int8_rate(gpu)
    table = {
        "bf16": gpu.bf16_tflops or gpu.fp16_tflops,
        "fp16": gpu.fp16_tflops or gpu.bf16_tflops,
        "fp8": gpu.fp8_tflops if "fp8" in gpu.dtypes else None,
        "int8": int8 / 1e12 if int8 else None,
        "fp4": gpu.fp4_tflops if "fp4" in gpu.dtypes else None,
        "fp32": None,
    }
    tflops = table.get(dtype)
    if tflops is None and dtype in ("fp8", "int8", "int4", "fp4"):
        tflops = gpu.bf16_tflops or gpu.fp16_tflops  # weight-only path: dequantize, multiply in 16 bits
    return tflops * 1e12 if tflops else None


def bandwidth_efficiency(gpu: Gpu, engine: Engine) -> float:
    """The share of the datasheet bandwidth a decode step reaches: the engine's (measured on GPUs),
    capped by the device's own ceiling where one was measured (a CPU's memory system: about 0.56)."""
    engine_eff = engine.speed.bandwidth_efficiency
    return min(engine_eff, gpu.bandwidth_efficiency) if gpu.bandwidth_efficiency else engine_eff


def _without_kernel_timings(s):
    """The speed without what llama.cpp's kernels timed alone on one GPU generation set (``mmq_pass_capability``):
    the per-format MMQ pass, the column floors and rates, 16-bit mmf blocks, flash attention's prompt rates by
    attention kind (run 7)."""
    if not (s.batched_weights_per_s_by_format or s.vector_column_s or s.mmq_column_s or s.f16_block_s
            or s.mmq_decode_matmul_s or s.expert_pair_weights_per_s_by_format or s.attention_efficiency_by_kind):
        return s
    return replace(s, batched_weights_per_s_by_format={}, vector_column_s=0.0, dequant_column_weights_per_s_by_format={},
                   mmq_decode_matmul_s=0.0, mmq_column_s=0.0, mmq_column_weights_per_s_by_format={},
                   mmq_decode_weights_per_s_by_format={}, f16_block_s=0.0, f16_block_k_s=0.0,
                   f16_small_batch_weights_per_s=None, f16_vector_matmul_s=0.0, f16_gemm_matmul_s=0.0, f16_expert_columns=0,
                   f16_expert_weights_per_s=None, expert_pair_weights_per_s_by_format={},
                   attention_efficiency_by_kind={})


def on_device(engine: Engine, gpu: Gpu) -> Engine:
    """The engine with the per-layer decode cost of the GPU vendor's backend where it has its own, and without
    the per-format MMQ unpacking pass and the other kernel timings on GPUs of another generation than they were
    measured on."""
    s = engine.speed
    if s.mmq_pass_capability and gpu.compute_capability != s.mmq_pass_capability:
        s = _without_kernel_timings(s)
    per_layer = s.per_layer_decode_s_by_vendor.get(gpu.vendor)
    if per_layer is not None:
        s = replace(s, per_layer_decode_s=per_layer)
    return engine if s is engine.speed else replace(engine, speed=s)


def for_format(engine: Engine, quant: QuantFormat, gpu: Gpu | None = None, backend: str | None = None) -> Engine:
    """The engine with the MoE decode costs of the kernel it runs this format's experts with, where it has its own
    (16-bit experts: ``per_moe_layer_decode_16bit_s``; by compute dtype, or by compute dtype on one GPU generation,
    ``fp8@10`` for compute capability 10.x, where the kernel tables time that generation apart). ``backend``: the
    launch's fused-MoE kernel; a prompt's routed experts then take ``moe_expert_efficiency_by_dtype``'s
    ``fp8@10+trtllm`` where the engine has it."""
    s = engine.speed
    if s.per_moe_layer_decode_16bit_s is not None and quant.bits_per_weight >= 16:
        s = replace(s, per_moe_layer_decode_s=s.per_moe_layer_decode_16bit_s)
        engine = replace(engine, speed=s)
    dtype = quant.compute_dtype
    generation = f"{dtype}@{(gpu.compute_capability or '').split('.')[0]}" if gpu is not None else dtype
    tp = s.per_moe_layer_decode_s_by_dtype.get(generation, s.per_moe_layer_decode_s_by_dtype.get(dtype))
    ep = s.per_moe_layer_decode_ep_s_by_dtype.get(generation, s.per_moe_layer_decode_ep_s_by_dtype.get(dtype))
    experts = s.moe_expert_efficiency_by_dtype.get(f"{generation}+{backend}", s.moe_expert_efficiency_by_dtype.get(
        generation)) if backend else s.moe_expert_efficiency_by_dtype.get(generation)
    reads = s.moe_expert_read_efficiency_by_dtype.get(generation)
    if tp is None and ep is None and experts is None and reads is None:
        return engine
    speed = replace(s, per_moe_layer_decode_s=s.per_moe_layer_decode_s if tp is None else tp,
                    per_moe_layer_decode_ep_s=s.per_moe_layer_decode_ep_s if ep is None else ep,
                    moe_expert_efficiency=s.moe_expert_efficiency if experts is None else experts,
                    moe_expert_read_efficiency=reads)
    return replace(engine, speed=speed)


# engine_for's answers by the engine's identity (kept with it), the GPU vendor and compute capability and the
# compute dtype: each answer replaces the engine's 40 speed fields twice, and a search asks again for every deployment
_ENGINES_FOR: dict[tuple[int, str, str, str, bool, str], tuple[Engine, Engine]] = {}


def engine_for(engine: Engine, gpu: Gpu, quant: QuantFormat, backend: str | None = None) -> Engine:
    """``for_format(on_device(engine, gpu), quant, gpu, backend)``: they read the GPU's vendor and compute capability
    (the MMQ pass measured on one generation, the MoE kernels' figures by generation), the format's compute dtype,
    whether it is 16-bit, and the launch's MoE backend."""
    key = (id(engine), gpu.vendor, gpu.compute_capability or "", quant.compute_dtype, quant.bits_per_weight >= 16,
           backend or "")
    held = _ENGINES_FOR.get(key)
    if held is not None and held[0] is engine:
        return held[1]
    found = for_format(on_device(engine, gpu), quant, gpu, backend)
    if len(_ENGINES_FOR) >= 1024:
        _ENGINES_FOR.clear()
    _ENGINES_FOR[key] = (engine, found)
    return found


def kernel_format(engine: Engine, quant: QuantFormat) -> str:
    """The format whose per-format figures ``quant`` takes in the engine's speed tables: itself, or the measured
    format whose kernels it runs (``format_kernels_as``)."""
    return engine.speed.format_kernels_as.get(quant.id, quant.id)


def block_quantized(engine: Engine, quant: QuantFormat) -> bool:
    """Weights the engine multiplies through its own block-quantized kernels (llama.cpp's GGUF k-quants)."""
    return bool(engine.speed.quantized_linear_efficiency) and quant.bits_per_weight < 16


def _linear_rate(gpu: Gpu, engine: Engine, quant: QuantFormat) -> float | None:
    """Achieved FLOP/s of the weight matmuls: block-quantized formats on the int8 tensor cores at the
    engine's fraction for this GPU generation; others at the compute dtype's rate and efficiency."""
    s = engine.speed
    if block_quantized(engine, quant) and not s.quantized_prefill_dequantized:
        table = s.quantized_linear_efficiency
        rate: float | None
        int8 = int8_rate(gpu)
        if int8:  # stated, or an AMD RDNA GPU's by its ISA (RDNA 3.5 Strix Halo took the fallback at 112 % of peak)
            rate, eff = int8, table.get(gpu.compute_capability or "", table.get("default"))
        else:  # no int8 figure (NVIDIA RTX 3060/3090, RTX A4000/A6000, 6000 Ada): the 16-bit rate, fitted on the 3090
            rate, eff = dtype_rate(gpu, "fp16"), table.get(gpu.vendor, table.get("16bit"))
        kind = kernel_format(engine, quant)
        if eff and kind in s.mmq_format_factor:
            eff *= s.mmq_format_factor[kind]
        elif eff and kind in s.vdr1_formats:
            eff *= s.vdr1_linear_factor
        ceiling = int8_ceiling(gpu) or 0.0  # the 16-bit fallback times a format factor > 1: no faster than the chip
        return min(rate * eff, ceiling) if rate and eff else None
    return gemm_rate(gpu, engine, quant.compute_dtype)


def gemm_rate(gpu: Gpu, engine: Engine, dtype: str) -> float | None:
    """Achieved FLOP/s of the engine's GEMMs in ``dtype`` (its library GEMM: cuBLAS for llama.cpp's 16-bit
    matmuls) at the engine's efficiency for that dtype, GPU generation or vendor."""
    s = engine.speed
    linear = dtype_rate(gpu, dtype)
    if s.f16_gemm_accumulates_fp16 and dtype == "fp16" and gpu.fp16_acc16_tflops:
        linear = gpu.fp16_acc16_tflops * 1e12  # GeForce: fp16 accumulate at twice the fp32-accumulate rate
    table = s.linear_efficiency_by_dtype  # "fp8", or "fp8@10" for one GPU generation (compute capability 10.x)
    generation = f"{dtype}@{(gpu.compute_capability or '').split('.')[0]}"
    eff = table.get(generation, table.get(dtype, s.linear_efficiency_by_vendor.get(gpu.vendor, s.linear_efficiency)))
    return linear * eff if linear else None


# a search's estimates, decode steps and MTP steps ask some 30 of these thousands of times
@kept_by_identity(1024)
def rates_for(gpu: Gpu, engine: Engine, quant: QuantFormat) -> Rates:
    """The achieved rates of ``engine`` running ``quant`` on ``gpu`` (``_rates_for``)."""
    return _rates_for(gpu, engine, quant)


def _rates_for(gpu: Gpu, engine: Engine, quant: QuantFormat) -> Rates:
    s = engine.speed
    linear = _linear_rate(gpu, engine, quant)
    attention = dtype_rate(gpu, "bf16")
    link = gpu.interconnect
    nvlink = link is not None and link.kind == "nvlink"
    xgmi = link is not None and link.kind == "infinity-fabric"
    return Rates(
        bandwidth=gpu.bandwidth_gbs * 1e9 * bandwidth_efficiency(gpu, engine),
        linear_flops=linear,
        attention_flops=attention * s.attention_efficiency if attention else None,
        decode_attention_flops=gpu.bandwidth_gbs * 1e9 * s.decode_attention_flops_per_byte
        if s.decode_attention_flops_per_byte else None,
        link_bandwidth=(link.bandwidth_gbs if link and link.bandwidth_gbs else PCIE_GEN4_GBS) * 1e9,
        link_latency=ALLREDUCE_LATENCY_S.get(link.kind, DEFAULT_ALLREDUCE_LATENCY_S) if link
        else DEFAULT_ALLREDUCE_LATENCY_S,
        # the engines' custom all-reduce is an NVLink (peer-to-peer) kernel; over Infinity Fabric RCCL's measured
        # small-message figures; elsewhere NCCL at the link's
        decode_link_latency=decode_allreduce(gpu, engine)[0] if nvlink else XGMI_ALLREDUCE[0] if xgmi else None,
        decode_link_bandwidth=decode_allreduce(gpu, engine)[1] if nvlink else XGMI_ALLREDUCE[1] if xgmi else None,
        nccl_allreduce=tuple((tp, lat, bus) for tp, (lat, bus) in NCCL_ALLREDUCE.get(gpu.id, {}).items()),
        nccl_gather=tuple((n, lat, bus) for n, (lat, bus) in NCCL_GATHER.get(gpu.id, {}).items()),
        alltoall_bandwidth=link.bandwidth_gbs * 1e9 * ALLTOALL_LINK_SHARE
        if link is not None and nvlink and link.bandwidth_gbs else None,
    )


def decode_allreduce(gpu: Gpu, engine: Engine) -> tuple[float | None, float | None]:
    """The engine's own small-message all-reduce in a decode step, (latency s, bus bytes/s), on this GPU's
    generation where NVIDIA timed it apart (``allreduce_*_by_generation``, by compute capability major), else the
    engine's figures; (None, None): the link's NCCL figures."""
    s = engine.speed
    generation = (gpu.compute_capability or "").split(".")[0]
    latency = s.allreduce_latency_s_by_generation.get(generation, s.allreduce_latency_s)
    bus = s.allreduce_bus_gbs_by_generation.get(generation, s.allreduce_bus_gbs)
    return latency, bus * 1e9 if bus else None


def expert_efficiency(engine: Engine, quant: QuantFormat) -> float:
    """Share of the linear rate the routed-expert GEMMs of a prefill reach (16-bit weights may have their own)."""
    s = engine.speed
    if not block_quantized(engine, quant) and s.moe_expert_efficiency_16bit:
        return s.moe_expert_efficiency_16bit
    return s.moe_expert_efficiency


def unpack_rate(engine: Engine, quant: QuantFormat) -> float | None:
    """Weights a second the batched quantized matmul's pass unpacking them into an output tile gets through
    (besides reading them): the format's own measured figure, else ``batched_weights_per_s`` (None: no pass)."""
    s = engine.speed
    return s.batched_weights_per_s_by_format.get(kernel_format(engine, quant), s.batched_weights_per_s)


def dequant_rate(engine: Engine, quant: QuantFormat) -> float | None:
    """Weights a second the dequantizing matrix-vector kernel gets through for this format: its own fitted
    figure, else that of its kernel class (VDR 1 formats unpack one 32-bit word per thread and step), else
    the default."""
    table, s = engine.speed.dequant_weights_per_s, engine.speed
    kind = kernel_format(engine, quant)
    if kind in table:
        return table[kind]
    if kind in s.vdr1_formats and "vdr1" in table:
        return table["vdr1"]
    return table.get("default")
