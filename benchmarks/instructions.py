"""Instructions one whole CLI run executes, counted by valgrind's callgrind: unlike wall or CPU time,
the count does not move with the machine's load (this machine is shared by several jobs on 2 cores).

    python benchmarks/instructions.py                                   # the dsadvisor on PATH
    python benchmarks/instructions.py --exe /tmp/old/.venv/bin/dsadvisor --exe .venv/bin/dsadvisor
    python benchmarks/instructions.py --only recommend                  # the commands naming one word

Each command runs once to warm the catalog cache and write bytecode (as users run), then once under
callgrind (about 30x slower). Figures: millions of instructions. Needs valgrind.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from startup import COMMANDS  # noqa: E402  (the same commands as the wall-time benchmark)


def instructions(exe: str, argv: list[str], env: dict[str, str]) -> float:
    """Millions of instructions of one run of ``exe argv`` (its interpreter and everything it loads)."""
    subprocess.run([exe, *argv], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)
    run = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", exe, *argv],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env, check=False)
    found = re.search(r"Collected : (\d+)", run.stderr)
    if not found:
        raise SystemExit(f"callgrind gave no count for {' '.join(argv)}: {run.stderr[-300:]}")
    return int(found[1]) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exe", action="append", default=[], metavar="PATH")
    parser.add_argument("--only", action="append", default=[], metavar="WORD")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed")
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # users run with bytecode cached
    exes = args.exe or [shutil.which("dsadvisor") or "dsadvisor"]
    commands = [c for c in COMMANDS if not args.only or c[0] in args.only]
    print(f"# millions of instructions (callgrind), one run each after a warm-up: {', '.join(exes)}")
    for cmd in commands:
        counts = "  ".join(f"{instructions(e, cmd, env):8,.0f}" for e in exes)
        print(f"{('dsadvisor ' + ' '.join(cmd))[:72]:72} {counts}", flush=True)


if __name__ == "__main__":
    main()
