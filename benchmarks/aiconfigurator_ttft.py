"""NVIDIA's own kernel-sum TTFT for served runs at low concurrency, beside what the runs measured (issue 13, helper
moe-prefill): how far the measured first token sits above the sum of every kernel aiconfigurator times.

aiconfigurator-core 0.12.0's served-run model (`aiconfigurator cli estimate`, aggregated, in-flight batching) adds
up its measured kernel tables (attention, GEMMs, the fused MoE, the engine's collectives) for a prompt and the
decode steps around it; it has no per-forward host cost. This script runs it for the fit part's aggregated runs at
concurrency 1-8 (silicon_sample_split.csv; held-out runs are not read) of the MoE models aiconfigurator ships a
config for (DeepSeek-R1/V3, Kimi-K2.5, Qwen3-235B-A22B, MiniMax-M2.5, GLM-5) and two dense controls (Llama-3.1-70B,
Qwen3-32B), each with the layout, format, lengths and concurrency (as ``--batch-size``) it was measured with, at most
``--per-group`` runs a (model, engine, GPU, format), and writes benchmarks/data/aiconfigurator/agg_ttft.csv.
``benchmarks/moe_prefill_kernels.py --ttft`` reads that file: measured minus NVIDIA's TTFT by model and engine, and
that residual over the model's MoE layers.

aiconfigurator-core is NOT a dsadvisor dependency: run this only in a throwaway venv (about 5 s a run).

    /tmp/aic/bin/python benchmarks/aiconfigurator_ttft.py [--per-group 4]
"""

from __future__ import annotations

import argparse
import csv
import re
import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "aiconfigurator"
OUT = DATA / "agg_ttft.csv"
# model_path -> MoE layers a forward (config.json: num_hidden_layers less the dense ones; 0 for a dense model)
MODELS = {"deepseek-ai/DeepSeek-R1": 58, "deepseek-ai/DeepSeek-V3": 58, "moonshotai/Kimi-K2.5": 60,
          "Qwen/Qwen3-235B-A22B-FP8": 94, "MiniMaxAI/MiniMax-M2.5": 62, "zhipuai/GLM-5": 75,
          "meta-llama/Llama-3.1-70B": 0, "Qwen/Qwen3-32B": 0}
# the checkpoint aiconfigurator reads for a model measured in a format (its config names the format), by the run's
# gemm_quant_mode; aiconfigurator ships GLM-5 under zai-org's and NVIDIA's names
CHECKPOINTS = {("moonshotai/Kimi-K2.5", "nvfp4"): "nvidia/Kimi-K2.5-NVFP4", ("zhipuai/GLM-5", "nvfp4"): "nvidia/GLM-5-NVFP4",
               ("zhipuai/GLM-5", "fp8"): "zai-org/GLM-5-FP8", ("zhipuai/GLM-5", ""): "zai-org/GLM-5",
               **{("meta-llama/Llama-3.1-70B", q): "meta-llama/Meta-Llama-3.1-70B" for q in ("", "fp8", "nvfp4")}}
COLUMNS = ("id", "model", "backend", "system", "quant", "isl", "osl", "concurrency", "tp", "attention_dp", "moe_tp",
           "moe_ep", "moe_layers", "measured_ttft_ms", "aiconfigurator_ttft_ms")


def runs(per_group: int) -> list[dict]:
    """The fit part's aggregated runs at concurrency 1-8 of MODELS, one measurement each, ``per_group`` at most a
    (model, engine, GPU, format), in file order."""
    with (DATA / "silicon_sample_split.csv").open(encoding="utf-8") as f:
        split = {r["id"]: r for r in csv.DictReader(f)}
    taken: dict[tuple, int] = {}
    out = []
    with (DATA / "silicon_sample.csv").open(encoding="utf-8") as f:
        for r in csv.DictReader(f):
            s = split.get(r["id"])
            if (r["mode"] != "agg" or r["model_path"] not in MODELS or s is None or s["split"] != "fit"
                    or s["same_measurement_as"] or not s["concurrency"] or int(s["concurrency"]) > 8):
                continue
            group = (r["model_path"], r["backend"], r["system"], r["gemm_quant_mode"])
            if taken.get(group, 0) < per_group:
                taken[group] = taken.get(group, 0) + 1
                out.append({**r, "concurrency": s["concurrency"]})
    return out


def argv_of(r: dict) -> list[str]:
    model = CHECKPOINTS.get((r["model_path"], r["gemm_quant_mode"]), r["model_path"])
    quant: list[str] = []
    if r["gemm_quant_mode"] == "nvfp4":
        quant = ["--gemm-quant-mode", "nvfp4", "--moe-quant-mode", "nvfp4"]
    elif r["gemm_quant_mode"] == "fp8" and not MODELS[r["model_path"]]:
        quant = ["--gemm-quant-mode", "fp8"]  # a 16-bit checkpoint served in FP8
    layout = ["--tp-size", r["tp_size"] or "1", "--moe-tp-size", r["moe_tp_size"] or "1",
              "--moe-ep-size", r["moe_ep_size"] or "1"]
    if r["attention_dp_size"] and r["attention_dp_size"] != "1":
        layout += ["--attention-dp-size", r["attention_dp_size"]]
    return ["--model-path", model, "--system", r["system"], "--backend", r["backend"], "--isl", r["isl"],
            "--osl", r["osl"], "--batch-size", r["concurrency"], *layout, *quant]


def estimate(r: dict) -> str:
    """aiconfigurator's TTFT in ms for the run ('' where it answers none)."""
    cmd = [str(Path(sys.executable).with_name("aiconfigurator")), "cli", "estimate", *argv_of(r)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    found = re.search(r"^\s*TTFT:\s+([0-9.]+) ms", done.stdout, re.M)
    return found.group(1) if found else ""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-group", type=int, default=4)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    with args.out.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        for r in runs(args.per_group):
            row = {"id": r["id"], "model": r["model_path"], "backend": r["backend"], "system": r["system"],
                   "quant": r["gemm_quant_mode"], "isl": r["isl"], "osl": r["osl"], "concurrency": r["concurrency"],
                   "tp": r["tp_size"], "attention_dp": r["attention_dp_size"], "moe_tp": r["moe_tp_size"],
                   "moe_ep": r["moe_ep_size"], "moe_layers": MODELS[r["model_path"]],
                   "measured_ttft_ms": f"{float(r['silicon_ttft_ms']):.4g}", "aiconfigurator_ttft_ms": estimate(r)}
            w.writerow(row)
            f.flush()
            print(row["model"], row["backend"], row["system"], row["quant"], row["isl"], row["concurrency"],
                  row["measured_ttft_ms"], row["aiconfigurator_ttft_ms"], flush=True)


if __name__ == "__main__":
    main()
