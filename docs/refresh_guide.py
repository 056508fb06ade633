"""Refresh the outputs docs/guide.md shows after a change to the estimates or the layout.

Each `$ dsadvisor ...` console block is rerun; a shown line the command no longer prints is
replaced by the printed line that starts the same way (a table row by its first two cells, a
border by its shape, a note by its first words). Lines it cannot match are reported, not guessed:
paste those by hand. tests/test_guide.py checks the result.

    python docs/refresh_guide.py
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

GUIDE = Path(__file__).with_name("guide.md")


def _key(line: str) -> str:
    if line.startswith("|"):
        return "|".join(line.split("|")[:3]).strip()
    if line.startswith("+"):
        return "+" + str(line.count("+"))
    return " ".join(line.split()[:3])


def refresh(text: str) -> tuple[str, list[str]]:
    lines, out, unmatched, printed = text.split("\n"), [], [], None
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    in_block = False
    for line in lines:
        if line.startswith("```console"):
            in_block = True
        elif line.startswith("```"):
            in_block, printed = False, None
        elif in_block and line.startswith("$ "):
            command = line[2:]
            printed = None
            if command.startswith("dsadvisor ") and not re.search(r"[|><;]", command):
                r = subprocess.run([sys.executable, "-m", "dsadvisor", *shlex.split(command)[1:]],
                                   capture_output=True, text=True, env=env)
                printed = [p.rstrip() for p in (r.stdout + r.stderr).splitlines()]
        elif in_block and printed is not None and line.strip() not in ("", "...") and line.rstrip() not in printed:
            same = [p for p in printed if _key(p) == _key(line)]
            if same:
                line = same[0]
            else:
                unmatched.append(line)
        out.append(line)
    return "\n".join(out), unmatched


if __name__ == "__main__":
    new, left = refresh(GUIDE.read_text(encoding="utf-8"))
    GUIDE.write_text(new, encoding="utf-8")
    for line in left:
        print(f"not matched, paste by hand: {line}")
