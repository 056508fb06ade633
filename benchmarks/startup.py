"""Wall time of whole CLI invocations, as a user sees them (process start to exit).

    python benchmarks/startup.py            # 15 runs of each command, median and spread
    python benchmarks/startup.py --runs 31  # more runs for a steadier median
    python benchmarks/startup.py --runs 21 --only recommend --only check  # the commands naming one of these
    python benchmarks/startup.py --runs 11 --exe /tmp/old/.venv/bin/dsadvisor --exe .venv/bin/dsadvisor
                                            # A/B: two installs, runs interleaved (A, B, A, B, ...)
    python benchmarks/startup.py --terminal-only --cols 120   # only the runs on a terminal, 120 columns

Each command runs in a fresh interpreter (`python -m dsadvisor ...` would add runpy;
the installed `dsadvisor` script is what users type, so that is what is timed when
it is on PATH), with stdout a pipe; `recommend`, `check`, `estimate` and `layouts` are also timed on a
pseudo-terminal (`--cols N` sets its width; unset, tables are drawn at 80 columns), where tables get boxes,
bold and wrapping (`--terminal-only`: those runs alone). The catalog cache is warmed first: the timings are of a normal run,
not of the first one after an upgrade. Users run with bytecode cached, so PYTHONDONTWRITEBYTECODE is
dropped from the children's environment (the warm-up run writes the .pyc files); `--no-bytecode` keeps it.
With several `--exe`, the runs of one command alternate between them, so a change in the machine's
load hits both alike (the machine is shared: the load average is printed before and after). Each row
gives the wall time (median, min, max) and the median CPU time (user + system) of the child, which
a loaded machine inflates far less.
Figures go to docs/performance.md.
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
    ["recommend", "--gpu", "H100", "--gpus", "8"],
    ["recommend", "--gpu", "RTX-4090"],
    ["recommend", "--gpu", "cpu", "--ram", "64"],
    ["check", "deepseek-v3", "--gpu", "H100", "--gpus", "16", "--quant", "fp8"],
    ["check", "deepseek-r1-distill-qwen-14b", "--gpu", "A100", "--vram", "40"],
    ["plan", "deepseek-r1-distill-qwen-14b", "--gpu", "A100", "--vram", "40"],
    ["layouts", "deepseek-r1", "--gpu", "H200", "--gpus", "8", "--max-ttft", "2", "--max-token-latency", "50"],
    # recommend searching layouts (advice.layouts): a team server under limits, and the FP8 R1 case
    ["recommend", "--gpu", "H200", "--gpus", "8", "--concurrency", "128", "--max-ttft", "2",
     "--max-token-latency", "50"],
    ["check", "deepseek-r1", "--gpu", "H200", "--gpus", "8", "--quant", "fp8", "--context", "16384",
     "--concurrency", "128", "--max-ttft", "2", "--max-token-latency", "50"],
]


# also timed with a terminal as stdout: there the table is drawn with colour, boxes and wrapping, a pipe gets plain text
TERMINAL = [
    ["recommend", "--gpu", "A100", "--vram", "40"],
    ["check", "deepseek-v3", "--gpu", "H100", "--gpus", "16", "--quant", "fp8"],
    ["estimate", "deepseek-r1-distill-qwen-32b", "--gpu", "A100", "--vram", "40", "--quant", "awq-int4"],
    ["layouts", "deepseek-r1", "--gpu", "H200", "--gpus", "8", "--max-ttft", "2", "--max-token-latency", "50"],
]


COLUMNS = 0  # the terminal's width (--cols); 0 leaves the pseudo-terminal's size unset (0 x 0, drawn at 80)


def once(argv: list[str], env: dict[str, str], tty: bool = False) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one run of ``argv``. The CPU time varies far less
    with the machine's load than the wall time does: on a shared 2-core machine, compare both."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    if tty:
        _run_on_a_terminal(argv, env)
    else:
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _run_on_a_terminal(argv: list[str], env: dict[str, str]) -> None:
    import pty

    leader, follower = pty.openpty()
    if COLUMNS:
        import fcntl
        import struct
        import termios

        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 50, COLUMNS, 0, 0))
    proc = subprocess.Popen(argv, stdout=follower, stderr=subprocess.DEVNULL, env=env)
    os.close(follower)
    while True:  # read what it draws, as a terminal would
        try:
            if not os.read(leader, 65536):
                break
        except OSError:
            break
    proc.wait()
    os.close(leader)


def interleaved(bases: list[list[str]], cmd: list[str], runs: int, env: dict[str, str],
                tty: bool = False) -> list[list[tuple[float, float]]]:
    """``runs`` timings of ``cmd`` under each base, alternating between the bases run by run."""
    for base in bases:  # warm: the catalog cache, and the .pyc files unless --no-bytecode
        subprocess.run(base + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, env=env)
    out: list[list[tuple[float, float]]] = [[] for _ in bases]
    for i in range(runs):
        order = range(len(bases)) if i % 2 == 0 else reversed(range(len(bases)))  # neither always goes first
        for j in order:
            out[j].append(once(bases[j] + cmd, env, tty))
    return out


def load() -> str:
    return "load %.2f %.2f %.2f" % os.getloadavg()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--only", action="append", default=[], metavar="WORD",
                        help="time only the commands whose first word is one of these (repeatable)")
    parser.add_argument("--exe", action="append", default=[], metavar="PATH",
                        help="a dsadvisor executable to time (repeatable: A/B, runs interleaved); "
                             "default: the one on PATH")
    parser.add_argument("--no-bytecode", action="store_true",
                        help="keep PYTHONDONTWRITEBYTECODE from the environment (no .pyc cache)")
    parser.add_argument("--cols", type=int, default=0,
                        help="the terminal's width for the runs on a terminal (default: unset, which draws at 80)")
    parser.add_argument("--terminal-only", action="store_true", help="time only the runs on a terminal")
    args = parser.parse_args()
    global COLUMNS
    COLUMNS = args.cols
    env = dict(os.environ)
    if not args.no_bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    commands = [c for c in COMMANDS if (not args.only or c[0] in args.only) and not args.terminal_only]
    terminal = [c for c in TERMINAL if not args.only or c[0] in args.only]
    exe = shutil.which("dsadvisor")
    bases = [[e] for e in args.exe] or [[exe] if exe else [sys.executable, "-m", "dsadvisor"]]
    env_note = f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, " \
               f"bytecode {'not written' if 'PYTHONDONTWRITEBYTECODE' in env else 'cached'}"
    print(f"# {', '.join(b[0] for b in bases)} ({env_note}), {args.runs} runs each, catalog cache warm; {load()}")
    interpreter = [once([sys.executable, "-c", "pass"], env) for _ in range(args.runs)]
    heads = "  |".join(f" {'median':>8} {'min':>7} {'max':>7} {'CPU':>7}" for _ in bases)
    print(f"{'command':64}{heads}")
    print(f"{'(python -c pass: the interpreter alone)':64} {_row(interpreter)}")
    rows = [(c, False) for c in commands] + [(c, True) for c in terminal]
    for cmd, tty in rows:
        label = ("dsadvisor " + " ".join(cmd))[:48 if tty else 64] + ("  (on a terminal)" if tty else "")
        times = interleaved(bases, cmd, args.runs, env, tty)
        print(f"{label:64} " + "  | ".join(_row(ts) for ts in times), flush=True)
    print(f"# done; {load()}")


def _row(runs: list[tuple[float, float]]) -> str:
    """Wall time median, min and max, and the median CPU time (user + system), in ms."""
    ts, cpu = [w for w, _ in runs], [c for _, c in runs]
    return (f"{statistics.median(ts) * 1e3:6.0f}ms {min(ts) * 1e3:5.0f}ms {max(ts) * 1e3:5.0f}ms "
            f"{statistics.median(cpu) * 1e3:5.0f}ms")


if __name__ == "__main__":
    main()
