"""Instructions one whole CLI run executes, counted by valgrind's callgrind: unlike wall or CPU time,
the count does not move with the machine's load (this machine is shared by several jobs on 2 cores).

    python benchmarks/instructions.py                                   # the dsadvisor on PATH
    python benchmarks/instructions.py --exe /tmp/old/.venv/bin/dsadvisor --exe .venv/bin/dsadvisor
    python benchmarks/instructions.py --only recommend                  # the commands naming one word
    python benchmarks/instructions.py --terminal --cols 120             # the table drawn on a terminal

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
from startup import COMMANDS, TERMINAL  # noqa: E402  (the same commands as the wall-time benchmark)


def instructions(exe: str, argv: list[str], env: dict[str, str], cols: int | None = None) -> float:
    """Millions of instructions of one run of ``exe argv`` (its interpreter and everything it loads); with
    ``cols``, stdout is a pseudo-terminal that wide (0: size unset, drawn at 80), else a pipe to nowhere."""
    subprocess.run([exe, *argv], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", exe, *argv]
    if cols is None:
        run = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
                             check=False)
        stderr = run.stderr
    else:
        stderr = _on_a_terminal(command, env, cols)
    found = re.search(r"Collected : (\d+)", stderr)
    if not found:
        raise SystemExit(f"callgrind gave no count for {' '.join(argv)}: {stderr[-300:]}")
    return int(found[1]) / 1e6


def _on_a_terminal(command: list[str], env: dict[str, str], cols: int) -> str:
    """Run ``command`` with stdout a pseudo-terminal ``cols`` wide, reading what it draws; its stderr."""
    import fcntl
    import pty
    import struct
    import termios
    import threading

    leader, follower = pty.openpty()
    if cols:
        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 50, cols, 0, 0))
    proc = subprocess.Popen(command, stdout=follower, stderr=subprocess.PIPE, text=True, env=env)
    os.close(follower)

    def drain() -> None:
        while True:
            try:
                if not os.read(leader, 65536):
                    return
            except OSError:
                return

    reader = threading.Thread(target=drain)
    reader.start()
    stderr = proc.communicate()[1]
    reader.join()
    os.close(leader)
    return stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exe", action="append", default=[], metavar="PATH")
    parser.add_argument("--only", action="append", default=[], metavar="WORD")
    parser.add_argument("--terminal", action="store_true", help="count the runs drawn on a terminal instead")
    parser.add_argument("--cols", type=int, default=0, help="that terminal's width (default: unset, drawn at 80)")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed")
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # users run with bytecode cached
    exes = args.exe or [shutil.which("dsadvisor") or "dsadvisor"]
    commands = [c for c in (TERMINAL if args.terminal else COMMANDS) if not args.only or c[0] in args.only]
    cols = args.cols if args.terminal else None
    where = f"stdout a terminal of {cols or 'unset (80)'} columns" if args.terminal else "stdout a pipe"
    print(f"# millions of instructions (callgrind), one run each after a warm-up, {where}: {', '.join(exes)}")
    for cmd in commands:
        counts = "  ".join(f"{instructions(e, cmd, env, cols):8,.0f}" for e in exes)
        print(f"{('dsadvisor ' + ' '.join(cmd))[:72]:72} {counts}", flush=True)


if __name__ == "__main__":
    main()
