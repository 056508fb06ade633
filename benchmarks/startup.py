"""Wall time of whole CLI invocations, as a user sees them (process start to exit).

    python benchmarks/startup.py            # 15 runs of each command, median and spread
    python benchmarks/startup.py --runs 31  # more runs for a steadier median

Each command runs in a fresh interpreter (`python -m dsadvisor ...` would add runpy;
the installed `dsadvisor` script is what users type, so that is what is timed when
it is on PATH). The catalog cache is warmed first: the timings are of a normal run,
not of the first one after an upgrade. Figures go to docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

COMMANDS = [
    ["--version"],
    ["models", "-f", "json"],
    ["estimate", "deepseek-r1-distill-qwen-32b", "--gpu", "A100", "--vram", "40", "--quant", "awq-int4"],
    ["recommend", "--gpu", "A100", "--vram", "40"],
    ["recommend", "--gpu", "A100", "--vram", "40", "-f", "json"],
    ["check", "deepseek-v3", "--gpu", "H100", "--gpus", "16", "--quant", "fp8"],
]


def timed(argv: list[str], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    exe = shutil.which("dsadvisor")
    base = [exe] if exe else [sys.executable, "-m", "dsadvisor"]
    env_note = f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
    print(f"# {' '.join(base[:1])} ({env_note}), {args.runs} runs each, catalog cache warm")
    interpreter = timed([sys.executable, "-c", "pass"], args.runs)
    print(f"{'command':72} {'median':>8} {'min':>8} {'max':>8}")
    print(f"{'(python -c pass: the interpreter alone)':72} {statistics.median(interpreter) * 1e3:7.0f}ms "
          f"{min(interpreter) * 1e3:7.0f}ms {max(interpreter) * 1e3:7.0f}ms")
    for cmd in COMMANDS:
        subprocess.run(base + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)  # warm
        ts = timed(base + cmd, args.runs)
        label = "dsadvisor " + " ".join(cmd)
        print(f"{label[:72]:72} {statistics.median(ts) * 1e3:7.0f}ms {min(ts) * 1e3:7.0f}ms {max(ts) * 1e3:7.0f}ms")


if __name__ == "__main__":
    main()
