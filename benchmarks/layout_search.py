"""How long the layout-and-concurrency search takes: R1 FP8 on 8 x H200 under a TTFT and TPOT limit.

    python benchmarks/layout_search.py [--runs 7] [--aiconfigurator /tmp/aic/bin/aiconfigurator]

Prints the median wall time of the library call (`serving.search.search`) and of the whole command
(`dsadvisor layouts ...` in a fresh process, catalog cache warm), and the chosen configuration's
figures. The issue's bound: under 1 s on a 2-core machine (aiconfigurator takes 104 s for the same
question; see docs/performance.md for the side-by-side run).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

ARGS = ["layouts", "deepseek-r1", "--gpu", "H200", "--gpus", "8", "--quant", "fp8", "--engine", "sglang",
        "--prompt-tokens", "4000", "--output-tokens", "1000", "--max-ttft", "2", "--max-token-latency", "50",
        "-f", "json"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--aiconfigurator", metavar="PATH", help="an `aiconfigurator` executable (pip install "
                    "aiconfigurator==0.12.0 in a throwaway venv): also run its estimate of the chosen configuration")
    args = ap.parse_args()
    runs = args.runs
    from dsadvisor.catalog.store import load_catalog
    from dsadvisor.physics.estimate import Deployment
    from dsadvisor.serving.search import Limits, search

    cat = load_catalog(use_env=False)
    d = Deployment.of(cat, model=cat.model("deepseek-r1"), gpu=cat.gpus["H200-SXM"], quant=cat.quantizations["fp8"],
                      engine=cat.engines["sglang"], gpus=8)
    limits = Limits(max_ttft_s=2.0, max_tpot_s=0.05)
    library = []
    for _ in range(runs):
        t = time.perf_counter()
        found = search(d, 4000, 1000, limits)
        library.append(time.perf_counter() - t)
    command = []
    subprocess.run([sys.executable, "-m", "dsadvisor", *ARGS], capture_output=True, check=True)  # warm the cache
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "dsadvisor", *ARGS], capture_output=True, check=True)
        command.append(time.perf_counter() - t)
    b, g = found.best, found.goodput
    print(f"points served: {len(found.points)} ({len({p.layout for p in found.points})} layouts)")
    print(f"search (library): median {statistics.median(library) * 1e3:.0f} ms of {runs}")
    print(f"dsadvisor layouts (process): median {statistics.median(command) * 1e3:.0f} ms of {runs}")
    print(f"best: {b.label}, TTFT {b.serving.ttft_s:.3f} s, TPOT {b.serving.tpot_s * 1e3:.1f} ms, "
          f"{b.tokens_per_s_per_gpu:.0f} tok/s/GPU, {b.serving.tokens_per_s_per_user:.1f} tok/s/user; "
          f"goodput {g.serving.concurrency} users")
    if args.aiconfigurator:
        side_by_side(args.aiconfigurator, b, d)


def aiconfigurator_args(layout, concurrency: int, accepted: float = 0.0) -> list[str]:
    """aiconfigurator's agg layout for one of ours: attention TP x attention DP ranks, experts by TP or EP over all
    GPUs, batch per attention rank; the KV cache in bf16 as dsadvisor's default (aiconfigurator's is fp8); MTP with
    the draft tokens dsadvisor expects accepted a step."""
    experts = ["--moe-tp-size", "1", "--moe-ep-size", str(layout.tp)] if layout.ep else \
        ["--moe-tp-size", str(layout.tp), "--moe-ep-size", "1"]
    return ["--tp-size", str(layout.attention_tp), "--attention-dp-size", str(layout.dp_attention), *experts,
            "--pp-size", str(layout.pp), "--batch-size", str(max(1, concurrency // layout.dp_attention)),
            "--kvcache-quant-mode", "bfloat16",
            *(["--nextn", str(layout.mtp), "--nextn-accepted", f"{accepted:.3f}"] if layout.mtp else [])]


def side_by_side(aiconfigurator: str, best, d) -> None:
    """aiconfigurator's `cli estimate` of the configuration dsadvisor chose, in the same run, and the ratios."""
    from dsadvisor.serving.speculative import acceptance_for, tokens_per_step

    mtp = best.layout.mtp
    accepted = tokens_per_step(acceptance_for(d.architecture), mtp) - 1 if mtp else 0.0
    cmd = [aiconfigurator, "cli", "estimate", "--model-path", "deepseek-ai/DeepSeek-R1", "--system", "h200_sxm",
           "--backend", "sglang", "--isl", "4000", "--osl", "1000", "--estimate-mode", "agg",
           *aiconfigurator_args(best.layout, best.serving.concurrency, accepted)]
    t = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    took = time.perf_counter() - t

    def figure(name: str) -> float:
        line = next(x for x in out.splitlines() if x.strip().startswith(name + ":"))
        return float(line.split(":", 1)[1].split()[0].replace(",", ""))

    s = best.serving
    ours = {"TTFT ms": s.ttft_s * 1e3, "TPOT ms": s.tpot_s * 1e3, "tokens/s/gpu": best.tokens_per_s_per_gpu,
            "tokens/s/user": s.tokens_per_s_per_user}
    theirs = {"TTFT ms": figure("TTFT"), "TPOT ms": figure("TPOT"), "tokens/s/gpu": figure("tokens/s/gpu"),
              "tokens/s/user": figure("tokens/s/user")}
    print(f"aiconfigurator cli estimate of {best.label} ({took:.1f} s): {' '.join(cmd[3:])}")
    for key in ours:
        print(f"  {key:14} dsadvisor {ours[key]:9.1f}  aiconfigurator {theirs[key]:9.1f}  "
              f"ratio {ours[key] / theirs[key]:.2f}")


if __name__ == "__main__":
    main()
