"""Wall time of whole CLI invocations, as a user sees them (process start to exit).

    python benchmarks/startup.py            # 15 runs of each command, median and spread
    python benchmarks/startup.py --runs 31  # more runs for a steadier median
    python benchmarks/startup.py --runs 21 --only recommend --only check  # the commands naming one of these

Each command runs in a fresh interpreter (`python -m dsadvisor ...` would add runpy;
the installed `dsadvisor` script is what users type, so that is what is timed when
it is on PATH), with stdout a pipe; `recommend` is also timed on a pseudo-terminal,
where the table is drawn with rich. The catalog cache is warmed first: the timings are of a normal run,
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
    ["check", "deepseek-r1-distill-qwen-14b", "--gpu", "A100", "--vram", "40"],
]


# also timed with a terminal as stdout: that run draws with rich (colour, boxes), a pipe gets plain text
TERMINAL = [["recommend", "--gpu", "A100", "--vram", "40"]]


def timed(argv: list[str], runs: int, tty: bool = False) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        if tty:
            _run_on_a_terminal(argv)
        else:
            subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        out.append(time.perf_counter() - start)
    return out


def _run_on_a_terminal(argv: list[str]) -> None:
    import pty

    leader, follower = pty.openpty()
    proc = subprocess.Popen(argv, stdout=follower, stderr=subprocess.DEVNULL)
    os.close(follower)
    while True:  # read what it draws, as a terminal would
        try:
            if not os.read(leader, 65536):
                break
        except OSError:
            break
    proc.wait()
    os.close(leader)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--only", action="append", default=[], metavar="WORD",
                        help="time only the commands whose first word is one of these (repeatable)")
    args = parser.parse_args()
    commands = [c for c in COMMANDS if not args.only or c[0] in args.only]
    terminal = [c for c in TERMINAL if not args.only or c[0] in args.only]
    exe = shutil.which("dsadvisor")
    base = [exe] if exe else [sys.executable, "-m", "dsadvisor"]
    env_note = f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
    print(f"# {' '.join(base[:1])} ({env_note}), {args.runs} runs each, catalog cache warm")
    interpreter = timed([sys.executable, "-c", "pass"], args.runs)
    print(f"{'command':72} {'median':>8} {'min':>8} {'max':>8}")
    print(f"{'(python -c pass: the interpreter alone)':72} {statistics.median(interpreter) * 1e3:7.0f}ms "
          f"{min(interpreter) * 1e3:7.0f}ms {max(interpreter) * 1e3:7.0f}ms")
    for cmd in commands:
        subprocess.run(base + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)  # warm
        ts = timed(base + cmd, args.runs)
        label = "dsadvisor " + " ".join(cmd)
        print(f"{label[:72]:72} {statistics.median(ts) * 1e3:7.0f}ms {min(ts) * 1e3:7.0f}ms {max(ts) * 1e3:7.0f}ms")
    for cmd in terminal:
        ts = timed(base + cmd, args.runs, tty=True)
        label = "dsadvisor " + " ".join(cmd) + "  (on a terminal)"
        print(f"{label[:72]:72} {statistics.median(ts) * 1e3:7.0f}ms {min(ts) * 1e3:7.0f}ms {max(ts) * 1e3:7.0f}ms")


if __name__ == "__main__":
    main()
