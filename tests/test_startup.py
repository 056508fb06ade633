"""Start-up discipline: what a normal run imports (timings are in docs/performance.md).

Wall time is machine-dependent and flaky under load; what a run imports is not. A run that
finds the validated catalog cached must not import pydantic or PyYAML (together about half of
the 0.3 s a run took before they were kept off this path), and only a table imports rich.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

HEAVY = ("pydantic", "yaml", "rich", "annotated_types")

PROBE = """
import io, json, sys, contextlib
from dsadvisor.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main(sys.argv[1:])
    except SystemExit:
        pass
print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {heavy})))
"""


def _imported(tmp_path, *args: str) -> set[str]:
    env = dict(os.environ, DSADVISOR_CACHE_DIR=str(tmp_path / "cache"))
    env.pop("DSADVISOR_CATALOG", None)
    code = PROBE.replace("{heavy}", repr(set(HEAVY)))
    for _ in range(2):  # the first run validates and writes the cache; the second is a normal run
        out = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True,
                             timeout=120, check=True).stdout
    return {m.split(".")[0] for m in json.loads(out.splitlines()[-1])}


@pytest.mark.parametrize("args", [
    ("recommend", "--gpu", "A100", "--vram", "40", "-f", "json"),
    ("estimate", "deepseek-v3", "--gpu", "H200", "--gpus", "8", "-f", "json"),
    ("check", "deepseek-r1-distill-qwen-7b", "--gpu", "L4"),
    ("--version",),
])
def test_a_cached_run_imports_no_validation_or_yaml(tmp_path, args):
    assert _imported(tmp_path, *args) == set()


def test_only_a_table_imports_rich(tmp_path):
    assert _imported(tmp_path, "models") == {"rich"}
