"""The estimator's prefill MoE time per layer against NVIDIA's fused-MoE kernel timings (issue 13, helper moe-prefill).

The estimator charges a prompt's MoE layer its routed-expert GEMMs (FLOPs at the engine's linear rate times
``moe_expert_efficiency``) plus ``per_moe_layer_prefill_s`` (2.5 ms, fitted on SGLang / TensorRT-LLM DeepSeek served
runs). aiconfigurator-core 0.12.0 times the whole fused-MoE op (routing, permute, the grouped GEMMs, un-permute;
no all-to-all or all-reduce) for DeepSeek-V3's experts (hidden 7168, width 2048, top 8 of 256) and Qwen3-235B-A22B's
(4096, 1536, top 8 of 128) at 1-16,384 tokens (benchmarks/data/aiconfigurator/moe.csv). This script prints, per
engine, GPU, format, layout (experts split by TP 8, or whole by EP 8) and token count, the kernel's time (the
power-law 1.2 routing aiconfigurator estimates with; balanced in brackets) and the estimator's (GEMMs alone, then
with the floor), and a straight line ``a + b x tokens`` fitted to the kernel over 1,024-16,384 tokens: its
intercept ``a`` is the kernel's fixed part, set beside the experts' weight read per GPU (the bytes one pass must
move at the engine's bandwidth) and the estimator's 2.5 ms.

Kimi-K2.5 (DeepSeek-V3's experts, 384 of them) has no table; its per-token work is DeepSeek's and its weight read
1.5 times DeepSeek's, printed as such. Nothing here is fitted to served runs.

    python benchmarks/moe_prefill_kernels.py [--tokens 1024,4096]

``--ttft`` prints instead the fit runs' measured TTFT at concurrency 1-8 against aiconfigurator's served-run model
(benchmarks/data/aiconfigurator/agg_ttft.csv, written by benchmarks/aiconfigurator_ttft.py), by model and engine.
"""

from __future__ import annotations

import argparse
import csv
import statistics
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "aiconfigurator" / "moe.csv"
TTFT = DATA.with_name("agg_ttft.csv")  # benchmarks/aiconfigurator_ttft.py
# name -> (hidden, expert width, experts, top-k) as moe.csv spells them; Kimi has no rows
SHAPES = {"deepseek-v3": (7168, 2048, 256, 8), "qwen3-235b": (4096, 1536, 128, 8), "kimi-k2.5": (7168, 2048, 384, 8)}
TABLE_SHAPE = {"kimi-k2.5": "deepseek-v3"}  # a shape without rows is read from the rows of the same expert shape
SYSTEMS = {"h200_sxm": "H200-SXM", "b200_sxm": "B200"}
ENGINES = {"VLLM": "vllm", "SGLang": "sglang", "TRTLLM": "tensorrt-llm"}
QUANTS = {"fp8_block": "fp8", "nvfp4": "nvfp4"}
LAYOUTS = {"tp8": ("8", "1"), "ep8": ("1", "8")}  # (moe_tp_size, moe_ep_size)
TOKENS = (1024, 2048, 4096, 8192, 16384)


def kernel_rows(path: Path = DATA) -> dict[tuple, dict[int, tuple[float, float]]]:
    """(shape, system, framework, kernel, dtype, layout) -> tokens -> (power-law 1.2 ms, balanced ms), for the
    GPUs, formats and layouts above."""
    shapes = {v[:4]: k for k, v in SHAPES.items() if k not in TABLE_SHAPE}
    layouts = {v: k for k, v in LAYOUTS.items()}
    out: dict[tuple, dict[int, tuple[float, float]]] = {}
    with path.open(encoding="utf-8") as f:
        for r in csv.DictReader(f):
            shape = shapes.get((int(r["hidden_size"]), int(r["inter_size"]), int(r["num_experts"]), int(r["topk"])))
            layout = layouts.get((r["moe_tp_size"], r["moe_ep_size"]))
            if shape is None or layout is None or r["system"] not in SYSTEMS or r["moe_dtype"] not in QUANTS:
                continue
            key = (shape, r["system"], r["framework"], r["kernel_source"], r["moe_dtype"], layout)
            out.setdefault(key, {})[int(r["num_tokens"])] = (float(r["latency_ms_power_law_1_2"]),
                                                              float(r["latency_ms_balanced"]))
    return out


def line_fit(points: dict[int, float]) -> tuple[float, float]:
    """Least-squares ``a + b x tokens`` (a in ms, b in ms a token) over the points."""
    xs, ys = list(points), list(points.values())
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    return my - b * mx, b


def estimator_layer(cat, shape: str, system: str, framework: str, dtype: str, gpus: int = 8) -> dict[str, float]:
    """The estimator's figures for one MoE layer of ``shape`` over ``gpus`` GPUs: ``gemm_ms_per_token`` (the routed
    GEMMs' FLOPs at the linear rate times the engine's expert share), ``floor_ms`` (``per_moe_layer_prefill_s``)
    and ``read_ms`` (the layer's expert weights on one GPU at the engine's bandwidth)."""
    from dsadvisor.physics.rates import engine_for, expert_efficiency, rates_for

    hidden, width, experts, top_k = SHAPES[shape]
    gpu, quant = cat.gpus[SYSTEMS[system]], cat.quantizations[QUANTS[dtype]]
    engine = engine_for(cat.engines[ENGINES[framework]], gpu, quant)
    rates = rates_for(gpu, engine, quant)
    rate = rates.linear_flops * expert_efficiency(engine, quant)
    flops_per_token = 2.0 * 3 * hidden * width * top_k
    weight_bytes = experts * 3 * hidden * width * (quant.expert_bits_per_weight or quant.bits_per_weight) / 8
    return {"gemm_ms_per_token": flops_per_token / gpus / rate * 1e3,
            "floor_ms": engine.speed.per_moe_layer_prefill_s * 1e3,
            "read_ms": weight_bytes / gpus / rates.bandwidth * 1e3}


def comparison(cat, tokens: tuple[int, ...] = TOKENS) -> list[dict]:
    """One row per (shape, system, engine kernel, format, layout): the kernel's and the estimator's ms at each token
    count, the kernel's line over 1K-16K tokens, the estimator's floor and the weight read."""
    rows = []
    table = kernel_rows()
    for shape in SHAPES:
        source = TABLE_SHAPE.get(shape, shape)
        for (s, system, framework, kernel, dtype, layout), points in sorted(table.items()):
            if s != source or not all(t in points for t in tokens):
                continue
            est = estimator_layer(cat, shape, system, framework, dtype)
            a, b = line_fit({t: v[0] for t, v in points.items() if 1024 <= t <= 16384})
            rows.append({"shape": shape, "system": system, "engine": ENGINES[framework], "kernel": kernel,
                         "dtype": dtype, "layout": layout, "kernel_ms": {t: points[t][0] for t in tokens},
                         "balanced_ms": {t: points[t][1] for t in tokens},
                         "gemm_ms": {t: est["gemm_ms_per_token"] * t for t in tokens},
                         "intercept_ms": a, "slope_ms_per_1k": b * 1024, "floor_ms": est["floor_ms"],
                         "read_ms": est["read_ms"], "from_table": source})
    return rows


def show(rows: list[dict], tokens: tuple[int, ...]) -> None:
    for shape in SHAPES:
        part = [r for r in rows if r["shape"] == shape]
        if not part:
            continue
        note = f" (no table: {part[0]['from_table']}'s rows, whose per-token work it shares)" \
            if part[0]["from_table"] != shape else ""
        print(f"\n## {shape}{note}: ms a MoE layer, kernel power-law 1.2 [balanced] / estimator GEMMs "
              f"/ estimator with its floor")
        for r in part:
            cells = "  ".join(f"{t // 1024}K {r['kernel_ms'][t]:.2f} [{r['balanced_ms'][t]:.2f}] / "
                              f"{r['gemm_ms'][t]:.2f} / {r['gemm_ms'][t] + r['floor_ms']:.2f}" for t in tokens)
            print(f"{r['system']:8} {r['engine']:12} {r['dtype']:9} {r['layout']} {r['kernel'][:40]:40} {cells}")
            print(f"{'':8} kernel line: {r['intercept_ms']:.2f} ms + {r['slope_ms_per_1k']:.3f} ms per 1K tokens; "
                  f"expert weight read {r['read_ms']:.2f} ms; estimator floor {r['floor_ms']:.2f} ms")
    summary(rows, tokens)


def summary(rows: list[dict], tokens: tuple[int, ...]) -> None:
    """Medians over every engine kernel, GPU, format and layout of one shape."""
    print("\n## medians over engines, GPUs, formats, layouts (ms a MoE layer)")
    for shape in SHAPES:
        part = [r for r in rows if r["shape"] == shape]
        if not part:
            continue
        excess = {t: statistics.median(r["kernel_ms"][t] - r["gemm_ms"][t] for r in part) for t in tokens}
        print(f"{shape:12} {len(part):2d} kernels: intercept {statistics.median(r['intercept_ms'] for r in part):.2f} "
              f"(max {max(r['intercept_ms'] for r in part):.2f}), weight read "
              f"{statistics.median(r['read_ms'] for r in part):.2f}, kernel - estimator GEMMs "
              + ", ".join(f"{t // 1024}K {v:+.2f}" for t, v in excess.items())
              + f"; estimator floor {statistics.median(r['floor_ms'] for r in part):.2f}")


def ttft_residuals(path: Path = TTFT) -> list[dict]:
    """agg_ttft.csv (benchmarks/aiconfigurator_ttft.py) by (model, engine, prompt class: up to 1K tokens or more):
    runs, median measured and aiconfigurator TTFT, and the median of measured minus aiconfigurator's."""
    with path.open(encoding="utf-8") as f:
        runs = [r for r in csv.DictReader(f) if r["aiconfigurator_ttft_ms"]]
    groups: dict[tuple[str, str, str], list[dict]] = {}
    for r in runs:
        groups.setdefault((r["model"], r["backend"], "<=1K" if int(r["isl"]) <= 1024 else ">1K"), []).append(r)
    return [{"model": model, "backend": backend, "prompt": prompt, "runs": len(v), "moe_layers": int(v[0]["moe_layers"]),
             "measured_ms": statistics.median(float(r["measured_ttft_ms"]) for r in v),
             "aiconfigurator_ms": statistics.median(float(r["aiconfigurator_ttft_ms"]) for r in v),
             "residual_ms": statistics.median(float(r["measured_ttft_ms"]) - float(r["aiconfigurator_ttft_ms"])
                                              for r in v)}
            for (model, backend, prompt), v in sorted(groups.items())]


def show_ttft(rows: list[dict]) -> None:
    print("## measured TTFT - aiconfigurator's kernel-sum TTFT, fit runs at concurrency 1-8 (ms, medians)")
    for r in rows:
        print(f"{r['model']:28} {r['backend']:7} prompts {r['prompt']:4} {r['runs']:2d} runs ({r['moe_layers']:2d} MoE "
              f"layers): measured {r['measured_ms']:6.0f}, aiconfigurator {r['aiconfigurator_ms']:6.0f}, residual "
              f"{r['residual_ms']:+6.0f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokens", default=",".join(map(str, TOKENS)), help="token counts to print (moe.csv's)")
    ap.add_argument("--ttft", action="store_true", help="measured TTFT against aiconfigurator's (agg_ttft.csv)")
    args = ap.parse_args()
    if args.ttft:
        show_ttft(ttft_residuals())
        return
    from dsadvisor.catalog.store import load_catalog

    tokens = tuple(int(t) for t in args.tokens.split(","))
    show(comparison(load_catalog(use_env=False), tokens), tokens)


if __name__ == "__main__":
    main()
