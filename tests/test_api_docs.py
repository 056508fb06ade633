"""docs/api.md: every Python example runs, in order, in one namespace, against the installed library."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
API_MD = ROOT / "docs" / "api.md"


def blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", API_MD.read_text(), re.S)


def test_the_page_has_an_example_of_each_call():
    text = "".join(blocks())
    for call in ("api.load_catalog(", "api.estimate(", "api.recommend(", "api.check(", "api.plan("):
        assert call in text, call


def test_every_example_runs(capsys):
    namespace: dict[str, object] = {"__name__": "api_md"}
    for i, code in enumerate(blocks()):
        exec(compile(code, f"docs/api.md example {i + 1}", "exec"), namespace)  # noqa: S102
    out = capsys.readouterr().out
    assert "DSA001 SGLang does not run q8_0" in out and "vllm serve" in out


def test_the_api_returns_the_objects_the_cli_renders(catalog):
    import dataclasses

    from dsadvisor import api

    v = api.check(catalog, "deepseek-r1-distill-qwen-7b", "RTX 3060")
    p = api.plan(catalog, "deepseek-r1-distill-qwen-7b", "RTX 3060")
    for obj in (v, v.estimate, p, api.estimate(catalog, "deepseek-r1-distill-qwen-7b", "L4")):
        assert dataclasses.is_dataclass(obj) and type(obj).__dataclass_params__.frozen  # type: ignore[union-attr]


def test_importing_the_package_loads_nothing():
    code = "import sys, dsadvisor; print(sorted(m for m in sys.modules if m.startswith('dsadvisor')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['dsadvisor']"


def test_the_guides_library_example_runs_and_agrees_with_the_command(capsys, run):
    guide = (ROOT / "docs" / "guide.md").read_text()
    (code,) = [b for b in re.findall(r"```python\n(.*?)```", guide, re.S) if "from dsadvisor import api" in b]
    exec(compile(code, "docs/guide.md api example", "exec"), {"__name__": "guide_md"})  # noqa: S102
    printed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    r = run("recommend", "--gpu", "A100", "--vram", "40", "--released-only", "-f", "json")
    assert printed == [v["model"] for v in r.json()["ranked"][:3]]
