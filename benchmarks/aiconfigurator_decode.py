"""Per-engine decode constants from NVIDIA's kernel tables (benchmarks/data/aiconfigurator, aiconfigurator-core 0.12.0).

Prints, for vLLM, SGLang and TensorRT-LLM, what catalog/engines/engines.yaml takes (docs/method.md, "Decode step"):

- all-reduce inside a decode step: each engine's own kernel in a CUDA graph (comm_custom_allreduce.csv;
  implementations trtllm, vllm_graph, sglang_graph), fitted as latency + 2(n-1)/n x bytes / bus bandwidth over
  2-8 GPUs, messages 8 KB-2 MB (a decode step's batch x hidden x 2 bytes), per GPU generation: H100/H200
  (allreduce_latency_s, allreduce_bus_gbs) and B200/GB200 (allreduce_*_by_generation, key "10");
- the fused-MoE layer's floor: its measured time at 1-8 tokens minus the routed-expert bytes it must read at 0.90
  of HBM, DeepSeek-V3 shapes (7168 x 2048, top-8 of 256), by layout class (experts split by tensor parallel,
  moe_tp x 1; or whole experts by expert parallel, 1 x moe_ep) on 4-8 GPUs, balanced routing;
- the dense GEMM's floor and bandwidth share at M <= 16 (gemm.csv: a decode step's weight GEMMs), as a check on
  the per-layer cost: time = floor + bytes / (HBM x share).

    python benchmarks/aiconfigurator_decode.py

Standard library only; no constant is fitted to served runs here.
"""

from __future__ import annotations

import csv
import statistics
from collections import defaultdict
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "aiconfigurator"
HBM = {"h100_sxm": 3.35e12, "h200_sxm": 4.8e12, "b200_sxm": 8.0e12, "gb200": 8.0e12}
HOPPER = ("h100_sxm", "h200_sxm")
BYTES = {"bfloat16": 2.0, "fp8": 1.0, "fp8_block": 1.0, "nvfp4": 0.5625}
DECODE_BW_SHARE = 0.90  # the engines' bandwidth_efficiency (the H100's measured copy rate)


def rows(name: str) -> list[dict]:
    with open(DATA / name, encoding="utf-8") as f:
        return list(csv.DictReader(f))


def line_fit(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """Least squares y = a + b x."""
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    return my - b * mx, b


def rate_fit(xs: list[float], ys: list[float]) -> tuple[float, float, list[float]]:
    """y = fixed + x / rate by least squares: (fixed, rate, each point's relative error)."""
    fixed, slope = line_fit(xs, ys)
    return fixed, 1 / slope, [abs((fixed + slope * x) / y - 1) for x, y in zip(xs, ys)]


GENERATIONS = {"hopper": HOPPER, "blackwell": ("b200_sxm", "gb200")}  # compute capability 9.x, 10.x
ALLREDUCE_IMPLEMENTATIONS = {"tensorrt-llm": "trtllm", "vllm": "vllm_graph", "sglang": "sglang_graph"}


def allreduce_fit(impl: str, systems: tuple[str, ...]) -> tuple[float, float, list[float]]:
    """latency (s), bus bandwidth (bytes/s) and relative errors of one implementation's all-reduce in a CUDA graph,
    fitted as latency + 2(n-1)/n x bytes / bus over 2-8 GPUs and 8 KB-2 MB on ``systems``."""
    xs, ys = [], []
    for r in rows("comm_custom_allreduce.csv"):
        n, b = int(r["num_gpus"]), int(r["message_bytes"])
        if r["implementation"] == impl and r["system"] in systems and n in (2, 4, 8) and 8192 <= b <= 2 ** 21:
            xs.append(2 * (n - 1) / n * b)
            ys.append(float(r["latency_ms"]) * 1e-3)
    return rate_fit(xs, ys)


def allreduce() -> list[str]:
    out = ["all-reduce in a CUDA graph (2-8 GPUs, 8 KB-2 MB): latency + 2(n-1)/n x bytes / bus bandwidth;",
           "Hopper = H100/H200 (allreduce_latency_s, allreduce_bus_gbs), Blackwell = B200/GB200 (..._by_generation '10')"]
    for generation, systems in GENERATIONS.items():
        for engine, impl in ALLREDUCE_IMPLEMENTATIONS.items():
            a, bus, errs = allreduce_fit(impl, systems)
            out.append(f"  {generation:9} {engine:12} {a * 1e6:4.1f} us + bytes / {bus / 1e9:4.0f} GB/s   "
                       f"median error {statistics.median(errs):.0%}, max {max(errs):.0%}, {len(errs)} points")
    return out


def moe_floors() -> list[str]:
    out = ["fused-MoE layer floor at 1-8 tokens (DeepSeek-V3 shapes; time - expert bytes / (0.90 HBM)), median (range)"]
    groups: dict[tuple, list[float]] = defaultdict(list)
    for r in rows("moe.csv"):
        tokens, tp, ep = int(r["num_tokens"]), int(r["moe_tp_size"]), int(r["moe_ep_size"])
        if r["hidden_size"] != "7168" or tokens > 8 or r["system"] not in HBM or tp * ep not in (4, 8):
            continue
        if (tp > 1) == (ep > 1) or r["moe_dtype"] not in ("fp8_block", "nvfp4"):
            continue
        if r["moe_dtype"] == "nvfp4" and "cutlass" in r["kernel_source"]:
            continue  # TRT-LLM's fp4 tables hold two kernels; decode runs the min-latency one
        hidden, inter, topk, experts = 7168, 2048, 8, 256
        touched = min(experts, tokens * topk) / (tp * ep)  # balanced routing: distinct experts, spread evenly
        expert_bytes = touched * 3 * hidden * inter * BYTES[r["moe_dtype"]]
        floor = float(r["latency_ms_balanced"]) * 1e-3 - expert_bytes / (HBM[r["system"]] * DECODE_BW_SHARE)
        gen = "hopper" if r["system"] in HOPPER else "blackwell"
        groups[(r["framework"], r["moe_dtype"], "tp" if tp > 1 else "ep", gen)].append(floor)
    for key in sorted(groups):
        f = groups[key]
        out.append(f"  {key[0]:7} {key[1]:10} {key[2]:3} {key[3]:9} {statistics.median(f) * 1e6:5.0f} us "
                   f"({min(f) * 1e6:.0f}-{max(f) * 1e6:.0f}, {len(f)} points)")
    return out


# expert-parallel decode: the fused-MoE kernel each engine's recipes run for a compute dtype on a GPU generation, as
# (table framework, kernel_source, moe_dtype); TensorRT-LLM FP8 on B200/GB200 has DeepGEMM only (its deployment
# guide's MoE backend matrix: B200/GB200 EP <= 8 FP8 -> DEEPGEMM), on H100/H200 CUTLASS
EXPERT_READ_KERNELS = {
    ("tensorrt-llm", "fp8", "blackwell"): ("TRTLLM", "deepgemm", "fp8_block"),
    ("tensorrt-llm", "fp8", "hopper"): ("TRTLLM", "moe_torch_flow_cutlass", "fp8_block"),
}
EXPERT_READ_MAX_TOKENS_PER_EXPERT = 8  # the memory-bound plateau: the FLOPs are under 2 % of the time up to here


def expert_read_fit(framework: str, kernel: str, dtype: str, systems: tuple[str, ...],
                    ep: bool = True) -> tuple[float, float, list[float]]:
    """(floor s, share of HBM, relative errors) of one fused-MoE kernel reading whole experts (``ep``: 1 x moe_ep,
    else moe_tp x 1) on 4-64 GPUs: time = floor + expert bytes a GPU reads / (HBM x share), least squares over the
    rows with at most EXPERT_READ_MAX_TOKENS_PER_EXPERT tokens an expert (balanced routing: min(256, 8 tokens)
    distinct experts, spread evenly; DeepSeek-V3 shapes, 3 x 7168 x 2048 weights an expert)."""
    xs, ys = [], []
    for r in rows("moe.csv"):
        tokens, tp, n = int(r["num_tokens"]), int(r["moe_tp_size"]), int(r["moe_ep_size"])
        if (r["hidden_size"], r["inter_size"], r["num_experts"], r["topk"]) != ("7168", "2048", "256", "8"):
            continue
        if (r["framework"], r["kernel_source"], r["moe_dtype"]) != (framework, kernel, dtype) or r["system"] not in systems:
            continue
        if (tp, n)[0 if ep else 1] != 1 or tp * n < 4 or tokens * 8 / 256 > EXPERT_READ_MAX_TOKENS_PER_EXPERT:
            continue
        experts = min(256, tokens * 8) / (tp * n)
        xs.append(experts * 3 * 7168 * 2048 * BYTES[dtype] / HBM[r["system"]])
        ys.append(float(r["latency_ms_balanced"]) * 1e-3)
    return rate_fit(xs, ys)


def expert_reads() -> list[str]:
    out = ["expert-parallel MoE layer, 1-8 tokens an expert: floor + expert bytes / (HBM x share)",
           "(per_moe_layer_decode_ep_s_by_dtype and moe_expert_read_efficiency_by_dtype, key 'fp8@10')"]
    for (engine, dtype, generation), kernel in EXPERT_READ_KERNELS.items():
        for systems in (GENERATIONS[generation],) + tuple((s,) for s in GENERATIONS[generation]):
            floor, share, errs = expert_read_fit(*kernel, systems)
            out.append(f"  {engine:12} {dtype} {generation:9} {'+'.join(systems):17} {kernel[1][:22]:22} "
                       f"{floor * 1e6:4.1f} us + {share:.3f} of HBM   median error {statistics.median(errs):.0%}, "
                       f"max {max(errs):.0%}, {len(errs)} points")
        floor, share, _ = expert_read_fit(*kernel, GENERATIONS[generation], ep=False)
        out.append(f"  {'':12} {dtype} {generation:9} experts split by TP (not used): {floor * 1e6:4.1f} us + "
                   f"{share:.3f} of HBM")
    return out


# TensorRT-LLM recipes that set moe_config.backend TRTLLM on the generation side (every Blackwell FP8 TP/TEP decode in
# srt-slurm; B200 8K and B300 DEP) run trtllm-gen's FP8 kernel, which TensorRT-LLM's table does not time but
# FlashInfer's does (SGLang's flashinfer_trtllm runner): not used (docs/method.md, "Disaggregated prefill and decode",
# sixth pass: taking it unmasks an MTP acceptance below MT-Bench's on the served runs)
TRTLLM_GEN_FP8 = ("SGLang", "sglang_flashinfer_trtllm_moe", "fp8_block")


def recipe_backend_reads() -> list[str]:
    out = ["TensorRT-LLM moe_config.backend TRTLLM (trtllm-gen FP8, FlashInfer's table; not used): floor + bytes / share"]
    for ep in (True, False):
        floor, share, errs = expert_read_fit(*TRTLLM_GEN_FP8, GENERATIONS["blackwell"], ep=ep)
        out.append(f"  {'whole experts by EP' if ep else 'experts split by TP':20} {floor * 1e6:4.1f} us + {share:.3f} of "
                   f"HBM   median error {statistics.median(errs):.0%}, {len(errs)} points")
    return out


def gemm_floors() -> list[str]:
    out = ["weight GEMM at M <= 16 (gemm.csv): time = floor + bytes / (HBM x share)"]
    groups: dict[tuple, tuple[list, list]] = defaultdict(lambda: ([], []))
    for r in rows("gemm.csv"):
        if int(r["m"]) > 16 or r["system"] not in HOPPER or r["dtype"] not in BYTES:
            continue
        xs, ys = groups[(r["framework"], r["kernel_source"], r["dtype"])]
        xs.append(int(r["n"]) * int(r["k"]) * BYTES[r["dtype"]] / HBM[r["system"]])
        ys.append(float(r["latency_ms"]) * 1e-3)
    for key in sorted(groups):
        xs, ys = groups[key]
        a, slope = line_fit(xs, ys)
        if slope > 0 and 1 / slope <= 1:  # vLLM's fp8-block kernels at small M sit at a fixed 60-200 us: no fit
            out.append(f"  {key[0]:7} {key[1][:34]:34} {key[2]:9} floor {a * 1e6:4.1f} us, share {1 / slope:.2f}")
    return out


if __name__ == "__main__":
    print("\n".join(allreduce() + [""] + moe_floors() + [""] + expert_reads() + [""] + recipe_backend_reads() + [""]
                    + gemm_floors()))
