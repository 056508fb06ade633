"""NVIDIA's per-kernel sum of DeepSeek-R1's decode step at 1-4 sequences on 8 GPUs, op by op (issue 12, round 8).

aiconfigurator-core 0.12.0's own model of a decode step (`aiconfigurator cli estimate --estimate-mode static_gen`)
adds up its measured kernel tables (systems/data/<gpu>/...: the MLA attention block, the fused MoE, the engine's
all-reduce, the router and shared-expert GEMMs) with no per-step or per-kernel launch cost of its own. This script
runs it for R1 on 8 x B200 and 8 x H200, SGLang and TensorRT-LLM, experts split by tensor parallel (`tp`) or whole
by expert parallel (`ep`), 1 and 4 sequences, FP8 (and NVFP4 on the B200), ISL 1024 / OSL 1024 (the steps' mean
context is 1.5K), with the MoE block's two CUDA streams (routed experts; shared expert) unfolded so each kernel's
time is printed, and writes the per-layer figures to benchmarks/data/aiconfigurator/decode_kernel_sums.csv.

aiconfigurator-core is NOT a dsadvisor dependency: run this only in a throwaway venv.

    python3 -m venv /tmp/aic && /tmp/aic/bin/pip install aiconfigurator==0.12.0
    /tmp/aic/bin/python benchmarks/aiconfigurator_kernel_sum.py [--out PATH]

``--dep`` times instead what TensorRT-LLM's disaggregated decode instances run (issue 13): attention data parallel
over 8 GPUs with whole experts by expert parallel (DEP8: ``--attention-dp-size 8 --moe-ep-size 8``), FP8, on the B200
and the H200, at 1-256 sequences per attention-DP rank (``batch``: per rank; the MoE layer takes 8 x batch tokens),
written to decode_kernel_sums_dep.csv. The dispatch / combine all-to-all is in the allreduce_1/2 columns.

    /tmp/aic/bin/python benchmarks/aiconfigurator_kernel_sum.py --dep

vLLM is left out: its B200 FP8 block-scale GEMM table (DeepGemmFp8BlockScaledMMKernel, vLLM 0.24.0) times a
7168 x 2048 GEMM at one token at 263 us (SGLang's DeepGEMM: 8.2 us), which puts its R1 step at 37 ms.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent / "data" / "aiconfigurator" / "decode_kernel_sums.csv"
OUT_DEP = OUT.with_name("decode_kernel_sums_dep.csv")
DEP_BATCHES = (1, 4, 16, 48, 128, 256)  # sequences per attention-DP rank: InferenceX's DEP8 recipes run 8-512
LAYERS = 61  # aiconfigurator's DeepSeek model runs every layer's MLP as MoE (R1's first three are dense)
ISL, OSL = 1024, 1024
LAYOUTS = {"tp": ["--tp-size", "8", "--moe-tp-size", "8", "--moe-ep-size", "1"],
           "ep": ["--tp-size", "8", "--moe-tp-size", "1", "--moe-ep-size", "8"],
           "dep": ["--tp-size", "1", "--attention-dp-size", "8", "--moe-tp-size", "1", "--moe-ep-size", "8"]}
QUANTS = {"fp8": [], "nvfp4": ["--gemm-quant-mode", "nvfp4", "--moe-quant-mode", "nvfp4"]}
# aiconfigurator op -> column; the routed group and the shared-expert group run on two streams (max of the two)
ROUTED = {"generation_router_gemm": "router_us", "generation_moe_pre_dispatch": "allreduce_1_us",
          "generation_moe": "moe_us", "generation_moe_post_dispatch": "allreduce_2_us"}
SHARED = ("generation_shared_gate_up_gemm", "generation_shared_act_gate", "generation_shared_ffn2_gemm")
COLUMNS = ("system", "backend", "backend_version", "layout", "batch", "quant", "isl", "osl", "tpot_ms", "norms_us",
           "attention_us", "router_us", "allreduce_1_us", "moe_us", "allreduce_2_us", "shared_us", "layer_us",
           "logits_us")


def configs():
    for system in ("b200_sxm", "h200_sxm"):
        for backend in ("sglang", "trtllm"):
            for quant in ("fp8", "nvfp4") if system == "b200_sxm" else ("fp8",):
                for layout in LAYOUTS:
                    for batch in (1, 4):
                        yield system, backend, layout, batch, quant


def dep_configs():
    for system in ("b200_sxm", "h200_sxm"):
        for batch in DEP_BATCHES:
            yield system, "trtllm", "dep", batch, "fp8"


def one(argv: list[str]) -> None:
    """aiconfigurator's CLI with the MoE overlap op unfolded into its members (run in a child process)."""
    import warnings

    warnings.filterwarnings("ignore")
    import aiconfigurator.sdk.models as models
    from aiconfigurator.main import main
    from aiconfigurator_core.sdk.operations.overlap import OverlapOp

    built = models.get_model

    def unfolded(*a, **k):
        m = built(*a, **k)
        ops = []
        for op in m.generation_ops:
            ops += list(op._group_a) + list(op._group_b) if isinstance(op, OverlapOp) else [op]
        m.generation_ops = ops
        return m

    models.get_model = unfolded
    sys.argv = ["aiconfigurator", "cli", "estimate", *argv]
    main()


def run(system: str, backend: str, layout: str, batch: int, quant: str) -> dict:
    argv = ["--model-path", "deepseek-ai/DeepSeek-R1", "--system", system, "--backend", backend, "--isl", str(ISL),
            "--osl", str(OSL), "--estimate-mode", "static_gen", *LAYOUTS[layout], *QUANTS[quant], "--batch-size",
            str(batch), "--detail", "time"]
    out = subprocess.run([sys.executable, __file__, "--one", *argv], capture_output=True, text=True,
                         check=True).stdout
    total: dict[str, float] = {}  # ms over the whole generation phase: OSL - 1 decode steps
    version = ""
    for line in out.splitlines():
        parts = line.split()
        if parts[:1] == ["Backend:"]:
            version = parts[2].strip("()")
        elif parts and parts[0].startswith("generation_") and len(parts) > 2 and parts[2] == "ms":
            total[parts[0]] = float(parts[1])
    steps = OSL - 1
    per_layer = {k: v / steps / LAYERS * 1e3 for k, v in total.items()}  # us a layer a step
    row = {"system": system, "backend": backend, "backend_version": version, "layout": layout, "batch": batch,
           "quant": quant, "isl": ISL, "osl": OSL}
    row["norms_us"] = per_layer["generation_add_norm_1"] + per_layer["generation_add_norm_2"]
    row["attention_us"] = per_layer["generation_mla_block"]
    for op, column in ROUTED.items():
        row[column] = per_layer[op]
    row["shared_us"] = sum(per_layer[op] for op in SHARED)
    routed = sum(per_layer[op] for op in ROUTED)
    row["layer_us"] = row["norms_us"] + row["attention_us"] + max(routed, row["shared_us"])
    row["logits_us"] = (total["generation_logits_gemm"] + total.get("generation_embedding", 0.0)) / steps * 1e3
    row["tpot_ms"] = (row["layer_us"] * LAYERS + row["logits_us"]) / 1e3
    return {k: (f"{v:.4g}" if isinstance(v, float) else v) for k, v in row.items()}


def main() -> None:
    if sys.argv[1:2] == ["--one"]:
        one(sys.argv[2:])
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--dep", action="store_true", help="TensorRT-LLM DEP8 decode at 1-256 sequences a rank")
    args = ap.parse_args()
    rows = [run(*c) for c in (dep_configs() if args.dep else configs())]
    with (args.out or (OUT_DEP if args.dep else OUT)).open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    for r in rows:
        print(f"{r['system']:9} {r['backend']:7} {r['layout']} b{r['batch']} {r['quant']:5} TPOT {r['tpot_ms']:>6} ms, "
              f"{r['layer_us']:>6} us a layer (attention {r['attention_us']}, MoE {r['moe_us']}, "
              f"all-reduce {r['allreduce_1_us']} x 2)")


if __name__ == "__main__":
    main()
