"""Fit the per-SM rate of llama.cpp's 2024 to-fp16 dequantize kernels, and the share of the modelled prompt rate
the build reaches on Hopper, on the H200 measurement of b228aba.

    python benchmarks/fit_may2024_dequant.py

Before MMQ (PR 8075, 2024-06-24) a quantized prompt multiplies as the F16 model does, after a pass that
dequantizes every weight to fp16 for each micro-batch (ggml_cuda_op_mul_mat_cublas, ggml-cuda/convert.cu). So a
quantized prompt minus the same model's F16 prompt, measured by the same build on the same GPU, is that pass.
benchmarks/data/llamacpp-h200-may2024 holds both (pp512: one micro-batch; pp2048: four). Per format: the weights
the pass unpacks (all but the token table and the output matrix, which only the last token reaches) x
micro-batches over that difference, per SM (the H200's 132), and the bandwidth the pass would need at that rate
(format bytes read + 2 bytes written per weight). Only the fit rows (LLaMA-7B shape) enter; the held-out rows
(Llama-3-8B shape) are printed with the rate they imply, for comparison.

The prompt share (``prefill_rate_share_before`` of llama.cpp's Hopper change, engines.yaml): the estimate of the
fit F16 rows (pp512, pp2048) with the share left out, over their measured time; its mean. F16 rows have no
dequantizing pass, so the share is all the build's own kernels around the modelled ones.
"""

from __future__ import annotations

import statistics
from pathlib import Path

from dataclasses import replace

from dsadvisor.catalog.store import load_catalog
from dsadvisor.physics.calibration import read_rows
from dsadvisor.physics.params import count_params

DATA = Path(__file__).resolve().parent / "data" / "llamacpp-h200-may2024" / "h200-may2024.jsonl"
UBATCH = 512  # llama-bench's default micro-batch (n_ubatch)


def implied_rates(catalog, rows: list[dict]) -> dict[tuple[str, str], list[float]]:
    """(part, format) -> weights a second and SM, one per prompt length and model."""
    prompts = {(r["model"], r["quant"], r["tokens"]): r for r in rows if r["metric"] == "prefill"}
    out: dict[tuple[str, str], list[float]] = {}
    for (model, quant, tokens), r in sorted(prompts.items()):
        f16 = prompts.get((model, "fp16", tokens))
        if quant == "fp16" or f16 is None:
            continue
        p = count_params(catalog.architecture(catalog.models[model]))
        weights = (p.total - p.embedding - p.lm_head) * -(-tokens // UBATCH)
        extra = tokens / r["tokens_per_s"] - tokens / f16["tokens_per_s"]
        gpu = catalog.gpus[r["gpu"]]
        rate = weights / extra / gpu.sm_count
        need = weights / extra * (catalog.quantizations[quant].bits_per_weight / 8 + 2) / 1e12
        print(f"{r['part']:8} {model:28} {quant:6} pp{tokens}: pass {extra * 1e3:6.2f} ms, "
              f"{rate / 1e9:5.2f} G weights/s a SM, {need:4.2f} TB/s of {gpu.bandwidth_gbs / 1e3:.1f}")
        out.setdefault((r["part"], quant), []).append(rate)
    return out


def prompt_share(catalog, rows: list[dict]) -> dict[str, list[float]]:
    """part -> estimate without the share over the measured time, one per F16 prompt row."""
    from dsadvisor.physics.calibration import compare_published

    engine = catalog.engines["llama.cpp"]
    versions = engine.speed.versions
    changes = [replace(c, prefill_rate_share_before=None) for c in versions.changes]
    catalog.engines["llama.cpp"] = replace(engine, speed=replace(engine.speed, versions=replace(versions,
                                                                                                 changes=changes)))
    try:
        f16 = [r for r in rows if r["metric"] == "prefill" and r["quant"] == "fp16"]
        out: dict[str, list[float]] = {}
        for r, c in zip(f16, compare_published(catalog, f16)):
            out.setdefault(r["part"], []).append(c.estimated / c.measured)
        return out
    finally:
        catalog.engines["llama.cpp"] = engine


def main() -> None:
    catalog = load_catalog()
    rates = implied_rates(catalog, read_rows(DATA))
    for (part, quant), values in sorted(rates.items()):
        print(f"{part:8} {quant:6}: mean {statistics.mean(values):.3g} weights/s a SM ({len(values)} rows)")
    for part, shares in sorted(prompt_share(catalog, read_rows(DATA)).items()):
        print(f"{part:8} F16 prompt share of the modelled rate: {', '.join(f'{x:.3f}' for x in shares)}; "
              f"mean {statistics.mean(shares):.3f}")


if __name__ == "__main__":
    main()
