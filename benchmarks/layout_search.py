"""How long the layout-and-concurrency search takes: R1 FP8 on 8 x H200 under a TTFT and TPOT limit.

    python benchmarks/layout_search.py [--runs 7]

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
    runs = ap.parse_args().runs
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


if __name__ == "__main__":
    main()
