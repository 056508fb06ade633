"""Refresh the outputs docs/guide.md shows after a change to the estimates or the layout.

Each `$ dsadvisor ...` console block is rerun; a shown line the command no longer prints is
replaced by the printed line that starts the same way (a table row by its first two cells, a
border by its shape, a note by its first words). Lines it cannot match are reported, not guessed:
paste those by hand. A `$ dsadvisor ... | python3 NAME.py` line, NAME.py being a ```python block of the
guide that starts `# NAME.py:`, is rerun through that script and its whole output replaced.
tests/test_guide.py checks the result.

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
PIPED = re.compile(r"(dsadvisor [^|<>;]+?)\s*\|\s*python3 ([\w-]+\.py)")  # a command piped into a guide script


def scripts(text: str) -> dict[str, str]:
    """The guide's Python scripts by file name: the ```python blocks that start `# NAME.py:`."""
    found = {}
    for code in re.findall(r"```python\n(.*?)```", text, re.S):
        named = re.match(r"# ([\w-]+\.py):", code)
        if named:
            found[named.group(1)] = code
    return found


def through_script(command: str, script: str, env: dict[str, str]) -> list[str]:
    """What `dsadvisor ARGS | python3 SCRIPT` prints (``command``: the dsadvisor part)."""
    r = subprocess.run([sys.executable, "-m", "dsadvisor", *shlex.split(command)[1:]], capture_output=True,
                       text=True, env=env)
    p = subprocess.run([sys.executable, "-c", script], input=r.stdout, capture_output=True, text=True, env=env)
    return [line.rstrip() for line in (p.stdout + p.stderr).splitlines()]


def _key(line: str) -> str:
    if line.startswith("|"):
        return "|".join(line.split("|")[:3]).strip()
    if line.startswith("+"):
        return "+" + str(line.count("+"))
    return " ".join(line.split()[:3])


def refresh(text: str) -> tuple[str, list[str]]:
    lines, out, unmatched, printed = text.split("\n"), [], [], None
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    in_block = replacing = False
    named = scripts(text)
    for line in lines:
        if replacing and not line.startswith("$ ") and not line.startswith("```"):
            continue  # a piped command's old output: replaced whole
        replacing = False
        if line.startswith("```console"):
            in_block = True
        elif line.startswith("```"):
            in_block, printed = False, None
        elif in_block and line.startswith("$ "):
            command = line[2:]
            printed = None
            piped = PIPED.fullmatch(command)
            if piped and piped.group(2) in named:
                out += [line, *through_script(piped.group(1), named[piped.group(2)], env)]
                replacing = True
                continue
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
