"""What a huge name costs the output: bytes written and wall time, in-process, per command.

    python benchmarks/long_names.py            # the figures in docs/performance.md#hostile-input
    python benchmarks/long_names.py --runs 5   # the median of more runs

A user catalog gives one model a 1,000,000-character name; `show` draws it as a table and as markdown,
and `show` of a 200,006-character typo of a 200,005-character name prints the "did you mean" line.
Before the output clipped cells (issue 9) the table was 27,002,851 bytes and the error line 200,161.
tests/test_gate.py asserts bounds with room (200 KB, 400 characters); these are the real figures.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

MODEL = """\
  - id: acme-7b
    status: released
    family: acme
    source: my model card
    architecture_from: deepseek-r1-distill-qwen-7b
"""


def _run(argv: list[str]) -> tuple[int, int, int, float]:
    """(exit code, stdout bytes, stderr bytes, seconds) of one in-process run."""
    from dsadvisor.cli import main

    out, err = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(argv)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return code, len(out.getvalue().encode()), len(err.getvalue().encode()), time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["DSADVISOR_CACHE_DIR"] = str(Path(tmp) / "cache")
        big, long = Path(tmp) / "big.yaml", Path(tmp) / "long.yaml"
        big.write_text("models:\n" + MODEL + f"    name: {json.dumps('Acme-' + 'x' * 999_995)}\n")
        name = "acme-" + "y" * 200_000
        long.write_text("models:\n" + MODEL + f"    name: {json.dumps(name)}\n")
        cases = {
            "show, 1 MB name, table": ["show", "acme-7b", "--catalog", str(big), "-f", "table"],
            "show, 1 MB name, markdown": ["show", "acme-7b", "--catalog", str(big), "-f", "markdown"],
            "show, 200 KB typo: the did-you-mean line": ["show", name + "z", "--catalog", str(long)],
        }
        _run(cases["show, 1 MB name, table"])  # warm: validate and cache the catalog once
        for label, argv in cases.items():
            results = [_run(argv) for _ in range(runs)]
            code, out, err, _ = results[0]
            seconds = statistics.median(r[3] for r in results)
            print(f"{label}: exit {code}, stdout {out:,} B, stderr {err:,} B, {seconds:.2f} s (median of {runs})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
