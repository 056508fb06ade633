"""No prompt path runs faster than its device's peak: over every GPU, weight format and engine of the catalog,
the achieved weight-matmul rate (and a prompt's routed-expert rate, and attention's) stays at or under the peak
of the dtype the kernels multiply in.

The int8 peak is ``physics.rates.int8_ceiling`` (stated; an RDNA GPU's by its ISA; Turing-Ada tensor cores' 2 x
16-bit, checked below against every entry that states both); a 16-bit path's is the datasheet's 16-bit rate.

Found by round 9's Strix Halo row: the catalog's Ryzen AI Max+ 395 lists int8 without an int8 figure, so
llama.cpp's quantized prompt took the "16bit" fallback (1.0 of the 16-bit rate) times Q4_0's 1.12: 112 % of the
chip's 59.4 TFLOP/s. The fix reads an RDNA GPU's int8 rate off its ISA (physics/rates.py INT8_PER_FP16_BY_GFX).
"""

from __future__ import annotations

import pytest

from dsadvisor.physics.rates import (INT8_PER_FP16_BY_GFX, block_quantized, dtype_rate, engine_for,
                                     expert_efficiency, int8_ceiling, int8_rate, rates_for)


def path_peak(gpu, engine, quant) -> float | None:
    """The peak of the dtype the engine's weight matmuls run in on this GPU for this format."""
    s = engine.speed
    if block_quantized(engine, quant) and not s.quantized_prefill_dequantized:
        return int8_ceiling(gpu)
    peak = dtype_rate(gpu, quant.compute_dtype)
    if s.f16_gemm_accumulates_fp16 and quant.compute_dtype == "fp16" and gpu.fp16_acc16_tflops:
        peak = gpu.fp16_acc16_tflops * 1e12
    return peak


def _over_peak(catalog) -> list[str]:
    over = []
    for gpu in catalog.gpus.values():
        for engine in catalog.engines.values():
            for quant in catalog.quantizations.values():
                device = engine_for(engine, gpu, quant)
                rates = rates_for(gpu, device, quant)
                peak = path_peak(gpu, device, quant)
                if rates.linear_flops is None or peak is None:
                    continue
                experts = rates.linear_flops * expert_efficiency(device, quant)
                attention_peak = dtype_rate(gpu, "bf16")
                for what, rate, ceiling in (("linear", rates.linear_flops, peak), ("experts", experts, peak),
                                            ("attention", rates.attention_flops, attention_peak)):
                    if rate and ceiling and rate > ceiling * (1 + 1e-9):
                        over.append(f"{gpu.id} {engine.id} {quant.id} {what}: {rate / ceiling:.0%} of peak")
    return over


def test_no_prompt_path_above_its_peak(catalog):
    assert _over_peak(catalog) == []


def test_strix_halo_int8_is_its_wmma_rate(catalog):
    """RDNA 3.5's int8 WMMA runs at its 16-bit rate (40 CU x 512 x 2.9 GHz = 59.4 T), and llama.cpp's Q4_0 prompt
    takes the int8 path at MMQ's default share times Q4_0's factor (0.284 x 1.12 = 31.8 % of 59.4 T), not 112 %."""
    gpu = catalog.gpus["Ryzen-AI-Max-395-128GB"]
    assert int8_rate(gpu) == pytest.approx(59.4e12)
    llama, q4_0 = catalog.engines["llama.cpp"], catalog.quantizations["q4_0"]
    linear = rates_for(gpu, engine_for(llama, gpu, q4_0), q4_0).linear_flops
    assert linear == pytest.approx(59.4e12 * 0.284 * 1.12, rel=1e-6)


def test_rdna_int8_ratio_agrees_with_stated_figures(catalog):
    """The ISA ratio reproduces every AMD RDNA entry that states its int8 figure (RX 7900 XTX/XT, RX 9070 XT)."""
    checked = 0
    for gpu in catalog.gpus.values():
        ratio = INT8_PER_FP16_BY_GFX.get((gpu.gfx_arch or "")[:5])
        if ratio and gpu.int8_tops:
            assert gpu.int8_tops == pytest.approx(ratio * gpu.fp16_tflops, rel=0.01), gpu.id
            checked += 1
    assert checked >= 3


def test_nvidia_int8_ceiling_agrees_with_stated_figures(catalog):
    """Turing/Ampere/Ada tensor cores: int8 = 2 x the 16-bit (16-bit accumulate) rate, on every entry stating both."""
    checked = 0
    for gpu in catalog.gpus.values():
        cc = gpu.compute_capability or ""
        if gpu.vendor == "nvidia" and gpu.int8_tops and cc[:1] in ("7", "8") and cc != "7.0":
            sixteen = max(gpu.fp16_acc16_tflops or 0.0, gpu.fp16_tflops or 0.0)
            assert gpu.int8_tops == pytest.approx(2 * sixteen, rel=0.02), gpu.id
            checked += 1
    assert checked >= 20
    assert int8_ceiling(catalog.gpus["RTX-3090"]) == pytest.approx(284e12)


def test_nvidia_without_int8_figure_keeps_its_fitted_fallback(catalog):
    """The RTX 3090's prompt fit rows went through the 16-bit fallback: it must not move (1.0 x 71 T x Q4_0 1.12)."""
    gpu = catalog.gpus["RTX-3090"]
    assert int8_rate(gpu) is None
    llama, q4_0 = catalog.engines["llama.cpp"], catalog.quantizations["q4_0"]
    assert rates_for(gpu, engine_for(llama, gpu, q4_0), q4_0).linear_flops == pytest.approx(71e12 * 1.12)
