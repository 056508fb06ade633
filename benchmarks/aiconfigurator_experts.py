"""Prefill routed-expert efficiency on Blackwell from NVIDIA's kernel tables (benchmarks/data/aiconfigurator/moe.csv,
aiconfigurator-core 0.12.0): what catalog/engines/engines.yaml takes as ``moe_expert_efficiency_by_dtype``
(``fp8@10``, ``fp4@10``), the share of the engine's linear rate a prompt's routed-expert GEMMs reach.

The method is the one behind the engines' 0.42 (docs/method.md, "Prefill"): on one GPU holding every expert
(``moe_tp_size`` = ``moe_ep_size`` = 1), DeepSeek-V3 shapes (hidden 7168, expert width 2048, top-8 of 256), 2,048-16,384
tokens, the fused-MoE kernel's achieved fraction of the datasheet peak (balanced routing, median), divided by the
time routing imbalance adds (aiconfigurator's power-law 1.2 case over balanced, median) and by the fraction the
engine's dense GEMMs reach on that generation (``linear_efficiency_by_dtype``, the rate the estimate multiplies by
this share). B200 and GB200 tables are averaged (they agree within 0.02).

The kernel of each engine and format is the one InferenceX's Blackwell launches run (NVIDIA srt-slurm recipes):
TensorRT-LLM FP8 ``moe_config.backend: DEEPGEMM`` (``deepgemm``); TensorRT-LLM NVFP4 ``backend: TRTLLM``, the
trtllm-gen kernels, which TensorRT-LLM's own tables do not time at prompt sizes (its ``moe_torch_flow_min_latency``
rows are the CUTLASS min-latency mode, which aiconfigurator reads only up to 128 tokens) but FlashInfer ships and
SGLang's ``flashinfer_trtllm`` runner calls (``sglang_flashinfer_trtllm_moe``); SGLang ``--moe-runner-backend
flashinfer_trtllm`` (the same table); vLLM's FlashInfer TRT-LLM experts. Hopper keeps the 0.42 in use.

A launch can name another kernel: TensorRT-LLM's ``moe_config.backend: TRTLLM`` runs FP8 prompts' experts in the
trtllm-gen kernels too, which many srt-slurm recipes set on the prefill side (every B300 FP8 recipe, the B200 FP8
8K-prompt ones; the B200 1K ones keep DEEPGEMM). Its share (``fp8@10+trtllm``) is the same table's FP8 rows, over
TensorRT-LLM's linear rate (``BACKEND_KERNELS``).

    python benchmarks/aiconfigurator_experts.py

Standard library only; nothing here is fitted to served runs.
"""

from __future__ import annotations

import csv
import statistics
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "aiconfigurator"
CATALOG = Path(__file__).resolve().parent.parent / "catalog" / "engines" / "engines.yaml"
BLACKWELL = ("b200_sxm", "gb200")
TOKENS = (2048, 16384)
# (engine, compute dtype) -> (table framework, kernel_source, moe_dtype)
KERNELS = {
    ("tensorrt-llm", "fp8"): ("TRTLLM", "deepgemm", "fp8_block"),
    ("tensorrt-llm", "fp4"): ("SGLang", "sglang_flashinfer_trtllm_moe", "nvfp4"),
    ("sglang", "fp8"): ("SGLang", "sglang_flashinfer_trtllm_moe", "fp8_block"),
    ("sglang", "fp4"): ("SGLang", "sglang_flashinfer_trtllm_moe", "nvfp4"),
    ("vllm", "fp8"): ("VLLM", "vllm_fp8moe_flashinfer_trtllm_trtllmfp8expertsmonolithic", "fp8_block"),
    ("vllm", "fp4"): ("VLLM", "vllm_compressedtensorsw4a4nvfp4moe_flashinfer_trtllm_trtllmnvfp4expertsmonolithic",
                      "nvfp4"),
}

# (engine, dtype, the launch's MoE backend, lower case) -> the kernel's table, for catalog key "<dtype>@10+<backend>"
BACKEND_KERNELS = {
    ("tensorrt-llm", "fp8", "trtllm"): ("SGLang", "sglang_flashinfer_trtllm_moe", "fp8_block"),
}


def moe_rows() -> list[dict]:
    with open(DATA / "moe.csv", encoding="utf-8") as f:
        return [r for r in csv.DictReader(f) if r["hidden_size"] == "7168" and r["inter_size"] == "2048"
                and r["num_experts"] == "256" and r["topk"] == "8" and r["moe_tp_size"] == "1"
                and r["moe_ep_size"] == "1" and TOKENS[0] <= int(r["num_tokens"]) <= TOKENS[1]]


def kernel_share(rows: list[dict], system: str, framework: str, kernel: str, dtype: str) -> tuple[float, float]:
    """(median fraction of peak, balanced; median power-law 1.2 / balanced time) of one kernel on one GPU."""
    sel = [r for r in rows if r["system"] == system and r["framework"] == framework
           and r["kernel_source"] == kernel and r["moe_dtype"] == dtype]
    if not sel:
        raise SystemExit(f"no {framework} {kernel} {dtype} rows on {system}")
    frac = statistics.median(float(r["frac_peak_balanced"]) for r in sel)
    skew = statistics.median(float(r["latency_ms_power_law_1_2"]) / float(r["latency_ms_balanced"]) for r in sel)
    return frac, skew


def linear_efficiency(engine: str, dtype: str) -> float:
    """The engine's ``linear_efficiency_by_dtype`` on compute capability 10.x (``fp8@10``, else ``fp4``)."""
    import yaml

    engines = {e["id"]: e for e in yaml.safe_load(CATALOG.read_text(encoding="utf-8"))["engines"]}
    table = engines[engine]["speed"]["linear_efficiency_by_dtype"]
    return float(table.get(f"{dtype}@10", table[dtype]))


def share(rows: list[dict], engine: str, dtype: str, framework: str, kernel: str, moe_dtype: str) -> float:
    """One kernel's prefill routed-expert share of the engine's linear rate on Blackwell, rounded to 0.01."""
    shares = [frac / skew for frac, skew in (kernel_share(rows, s, framework, kernel, moe_dtype) for s in BLACKWELL)]
    return round(statistics.fmean(shares) / linear_efficiency(engine, dtype), 2)


def efficiencies() -> dict[tuple[str, str], float]:
    """(engine, dtype) -> the prefill routed-expert share of the linear rate on Blackwell, rounded to 0.01."""
    rows = moe_rows()
    return {(engine, dtype): share(rows, engine, dtype, *kernel) for (engine, dtype), kernel in KERNELS.items()}


def backend_efficiencies() -> dict[tuple[str, str], float]:
    """(engine, catalog key "<dtype>@10+<backend>") -> the share with the launch's MoE backend (BACKEND_KERNELS)."""
    rows = moe_rows()
    return {(engine, f"{dtype}@10+{backend}"): share(rows, engine, dtype, *kernel)
            for (engine, dtype, backend), kernel in BACKEND_KERNELS.items()}


def main() -> None:
    rows = moe_rows()
    print("prefill routed experts on Blackwell (one GPU, every expert, 2K-16K tokens; B200 | GB200)")
    found = efficiencies()
    for (engine, dtype), (framework, kernel, moe_dtype) in KERNELS.items():
        parts = [kernel_share(rows, s, framework, kernel, moe_dtype) for s in BLACKWELL]
        shown = " | ".join(f"{frac:.2f} of peak / {skew:.2f} skew" for frac, skew in parts)
        print(f"  {engine:12} {dtype}@10  {kernel[:32]:32} {shown}  / linear {linear_efficiency(engine, dtype):.2f}"
              f"  -> {found[(engine, dtype)]:.2f}")
    print("with the launch's MoE backend (moe_expert_efficiency_by_dtype key <dtype>@10+<backend>)")
    by_backend = backend_efficiencies()
    for (engine, dtype, backend), (framework, kernel, moe_dtype) in BACKEND_KERNELS.items():
        parts = [kernel_share(rows, s, framework, kernel, moe_dtype) for s in BLACKWELL]
        shown = " | ".join(f"{frac:.2f} of peak / {skew:.2f} skew" for frac, skew in parts)
        print(f"  {engine:12} {dtype}@10+{backend}  {kernel[:32]:32} {shown}  / linear "
              f"{linear_efficiency(engine, dtype):.2f}  -> {by_backend[(engine, f'{dtype}@10+{backend}')]:.2f}")


if __name__ == "__main__":
    main()
