"""Do two source trees answer every command byte for byte alike? A speed change must not move a figure.

    python benchmarks/same_output.py --old /tmp/old/src --new src     # PYTHONPATH of each tree
    python benchmarks/same_output.py --old /tmp/old/src --new src --only layouts
    python benchmarks/same_output.py --old /tmp/old/src --new src --terminal 80 --terminal 200

Each command runs as ``python -m dsadvisor ...`` with the tree on PYTHONPATH, NO_COLOR=1, stdout a pipe,
both as a table and with ``-f json``; stdout, stderr and the exit status must be the same (each tree's
own path read as the same). With ``--terminal COLS`` each command's table is also drawn on a pseudo-terminal
COLS wide, in colour (TERM=xterm-256color, no NO_COLOR or COLUMNS), and compared the same way. Prints one
line per command and exits 1 if any differs.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from startup import COMMANDS  # noqa: E402  (the timed commands, and more cases below)

MORE = [
    ["recommend", "--gpu", "H100", "--gpus", "8", "--context", "32768"],
    ["recommend", "--gpu", "T4"],
    ["recommend", "--gpu", "V100", "--vram", "32"],
    ["recommend", "--gpu", "MI300X", "--gpus", "8"],
    ["recommend", "--gpu", "M2-Ultra"],
    ["recommend", "--gpu", "cpu", "--ram", "8"],
    ["recommend", "--gpu", "cpu", "--ram", "256"],
    ["recommend", "--gpu", "RTX-4090", "--ram", "128"],
    ["recommend", "--gpu", "H200", "--gpus", "8", "--engine", "sglang"],
    ["recommend", "--gpu", "B200", "--gpus", "8", "--concurrency", "64"],
    ["recommend", "--gpu", "H100", "--gpus", "16", "--concurrency", "256", "--max-ttft", "3"],
    ["check", "deepseek-v3", "--gpu", "A100", "--vram", "80", "--gpus", "8"],
    ["check", "deepseek-r1", "--gpu", "H200", "--gpus", "8", "--quant", "fp8", "--exact", "--engine", "vllm"],
    ["estimate", "deepseek-v3", "--gpu", "H100", "--gpus", "8", "--quant", "fp8"],
    ["estimate", "deepseek-r1-distill-llama-8b", "--gpu", "RTX-4090", "--quant", "q4_k_m", "--engine", "llama.cpp"],
    ["plan", "deepseek-r1", "--gpu", "H200", "--gpus", "8", "--quant", "fp8"],
    ["plan", "deepseek-v3", "--gpu", "H100", "--gpus", "16", "--quant", "fp8"],
    ["layouts", "deepseek-v3", "--gpu", "H100", "--gpus", "16", "--quant", "fp8"],
    ["layouts", "deepseek-r1-distill-qwen-32b", "--gpu", "A100", "--vram", "80", "--gpus", "4"],
    ["models"],
    ["gpus"],
    ["show", "deepseek-v3"],
]


def answer(src: str, argv: list[str]) -> tuple[int, bytes, bytes]:
    env = dict(os.environ, PYTHONPATH=str(Path(src).resolve()), NO_COLOR="1", COLUMNS="120")
    run = subprocess.run([sys.executable, "-m", "dsadvisor", *argv], capture_output=True, env=env, check=False)
    tree = str(Path(src).resolve().parent).encode()  # `show` names the file an entry came from
    return run.returncode, run.stdout.replace(tree, b"<tree>"), run.stderr.replace(tree, b"<tree>")


def on_a_terminal(src: str, argv: list[str], cols: int) -> tuple[int, bytes, bytes]:
    """``answer`` with stdout a pseudo-terminal ``cols`` wide (colour on): what a person at a terminal sees."""
    import fcntl
    import pty
    import struct
    import termios

    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLUMNS", "LINES")}
    env.update(PYTHONPATH=str(Path(src).resolve()), TERM="xterm-256color")
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 50, cols, 0, 0))
    proc = subprocess.Popen([sys.executable, "-m", "dsadvisor", *argv], stdout=follower, stderr=subprocess.PIPE,
                            env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    err = proc.communicate()[1]
    os.close(leader)
    tree = str(Path(src).resolve().parent).encode()
    return proc.returncode, b"".join(chunks).replace(tree, b"<tree>"), err.replace(tree, b"<tree>")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", required=True, metavar="SRC", help="the src/ directory of the tree before")
    parser.add_argument("--new", required=True, metavar="SRC", help="the src/ directory of the tree after")
    parser.add_argument("--only", action="append", default=[], metavar="WORD")
    parser.add_argument("--terminal", action="append", default=[], type=int, metavar="COLS",
                        help="also compare the tables drawn on a terminal this wide (repeatable)")
    args = parser.parse_args()
    commands = [c for c in COMMANDS + MORE if not args.only or c[0] in args.only]
    differ = 0
    for cmd in commands:
        for argv in (cmd, [*cmd, "-f", "json"] if "-f" not in cmd and cmd[0] != "--version" else None):
            if argv is None:
                continue
            old, new = answer(args.old, argv), answer(args.new, argv)
            same = old == new
            differ += not same
            print(f"{'same' if same else 'DIFFERS'}  exit {old[0]}  {len(old[1]):7,} bytes  dsadvisor {' '.join(argv)}",
                  flush=True)
        for cols in args.terminal if "-f" not in cmd else ():
            old, new = on_a_terminal(args.old, cmd, cols), on_a_terminal(args.new, cmd, cols)
            same = old == new
            differ += not same
            print(f"{'same' if same else 'DIFFERS'}  exit {old[0]}  {len(old[1]):7,} bytes  dsadvisor {' '.join(cmd)}"
                  f"  (a terminal {cols} wide)", flush=True)
    print(f"{differ} of the answers differ")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
