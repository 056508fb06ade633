"""dsadvisor's decode step of DeepSeek-R1 on 8 GPUs against NVIDIA's per-kernel sum (issue 12, round 8).

Reads benchmarks/data/aiconfigurator/decode_kernel_sums.csv (written by aiconfigurator_kernel_sum.py from
aiconfigurator-core 0.12.0's measured kernel tables) and estimates each row's deployment: R1, 8 x B200 or 8 x H200,
SGLang or TensorRT-LLM, experts split by tensor parallel or whole by expert parallel, 1 or 4 sequences, FP8 or NVFP4,
at the rows' mean context (ISL + OSL / 2), with the FP8 KV cache aiconfigurator assumes. Prints the two steps, their
ratio, and the kernel tables' per-layer terms beside the B200's and the H200's.

    python benchmarks/kernel_sum_compare.py [--dep]

``--dep``: TensorRT-LLM's attention-DP + expert-parallel decode on 8 GPUs (DEP8, decode_kernel_sums_dep.csv), FP8, B200
and H200, 1-256 sequences per attention-DP rank (issue 13: the disaggregated runs' decode instances).
"""

from __future__ import annotations

import csv
import statistics
import sys
from pathlib import Path

from dsadvisor.catalog.store import load_catalog
from dsadvisor.physics.estimate import Deployment, decode_step, pin_layout

CSV = Path(__file__).resolve().parent / "data" / "aiconfigurator" / "decode_kernel_sums.csv"
CSV_DEP = CSV.with_name("decode_kernel_sums_dep.csv")
RANKS = 8  # attention-DP ranks of a "dep" row; its batch is per rank
GPUS = {"b200_sxm": "B200", "h200_sxm": "H200-SXM"}
ENGINES = {"sglang": "sglang", "trtllm": "tensorrt-llm"}


def kernel_rows(dep: bool = False) -> list[dict[str, str]]:
    with (CSV_DEP if dep else CSV).open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def estimated_step_s(catalog, row: dict[str, str]) -> float:
    """dsadvisor's decode step for one row of the kernel sums, its layout pinned (a "dep" row: 8 attention-DP ranks
    of ``batch`` sequences each, whole experts by expert parallel)."""
    dep = row["layout"] == "dep"
    d = Deployment.of(catalog, model=catalog.models["deepseek-r1"], gpu=catalog.gpus[GPUS[row["system"]]],
                      quant=catalog.quantizations[row["quant"]], engine=catalog.engines[ENGINES[row["backend"]]],
                      kv_dtype="fp8", context=int(row["isl"]) + int(row["osl"]) // 2, prompt_tokens=int(row["isl"]),
                      batch=int(row["batch"]) * (RANKS if dep else 1), gpus=8)
    return decode_step(pin_layout(d, tp=8, ep=row["layout"] != "tp", dp_attention=RANKS if dep else None))


def ratios(catalog, dep: bool = False) -> list[tuple[dict[str, str], float]]:
    """(row, dsadvisor's step / the kernel sum) for every row (``dep``: of decode_kernel_sums_dep.csv)."""
    return [(r, estimated_step_s(catalog, r) * 1e3 / float(r["tpot_ms"])) for r in kernel_rows(dep)]


def main() -> None:
    catalog = load_catalog()
    out = ratios(catalog, "--dep" in sys.argv[1:])
    print("row                              kernel sum  dsadvisor  ratio   a layer: attention  MoE  all-reduce x2")
    for r, ratio in out:
        label = f"{r['system']} {r['backend']} {r['layout']} b{r['batch']} {r['quant']}"
        print(f"{label:32} {float(r['tpot_ms']):7.2f} ms {float(r['tpot_ms']) * ratio:7.2f} ms  {ratio:5.2f}   "
              f"{float(r['layer_us']):6.1f} us: {float(r['attention_us']):5.1f} {float(r['moe_us']):6.1f} "
              f"{float(r['allreduce_1_us']):5.1f}")
    for system in GPUS:
        errs = [abs(x - 1) for r, x in out if r["system"] == system]
        print(f"{system}: median |dsadvisor / kernel sum - 1| {statistics.median(errs):.1%}, max {max(errs):.1%}, "
              f"{len(errs)} rows")


if __name__ == "__main__":
    main()
