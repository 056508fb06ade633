"""What hostile user catalogs cost: 35,000 models, 35,000 bad entries, a billion-laughs file.

    python benchmarks/hostile.py                     # the figures in docs/performance.md#hostile-input
    python benchmarks/hostile.py --runs 3            # the median of more runs
    python benchmarks/hostile.py --src /old/src      # the same cases against another checkout's package

Each case runs the CLI in a fresh interpreter with the cache off (cold: the YAML is parsed and validated)
and reports the command's own wall time (from inside the process, start-up excluded), the whole
process's wall time, its CPU time (user + system, start-up included: the steadier figure on a shared
machine), its peak resident memory (``resource.getrusage(RUSAGE_SELF).ru_maxrss``, and
VmHWM from /proc as a check), its exit code, and the lines it printed on stderr.

- ``good``: ``catalog validate`` of one 2.7 MB file of 35,000 valid described models;
- ``cached``: ``gpus --catalog`` of the same file, its validated catalog already cached (one read and
  one SHA-256 of the file, then the pickle);
- ``all-bad``: ``catalog validate`` of 35,000 entries that each carry one unknown field (35,000 problems;
  20 are described and the rest counted since issue 9; before, 35,000 lines);
- ``bomb``: ``catalog validate`` of a 552-byte billion-laughs file (3.5e9 nodes once expanded).

Not run unless named (``--cases config-deep,config-wide,env-walk``):

- ``config-deep``: ``estimate --config`` of a config.json just under the 4 MiB limit that is 2,097,000 arrays
  nested (a JSON bomb for a recursive parser: refused as "not a JSON config", exit 2);
- ``config-wide``: ``estimate --config`` of a config.json just under the limit holding 400,000 small numbers
  (parsed, then refused for what it lacks);
- ``env-walk``: ``models`` with ``$DSADVISOR_CATALOG`` naming a folder of 20,000 empty folders (the walk stops at
  10,000 visited, exit 4).

tests/test_hostile_catalogs.py and tests/test_yaml_safety.py assert the behaviour and bounds with room
for a loaded 2-core machine; these are the real figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

N = 35_000

CHILD = textwrap.dedent("""
    import contextlib, io, json, resource, sys, time
    from dsadvisor.cli import main
    out, err = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(json.loads(sys.argv[1]))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    elapsed = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime  # start-up included; steadier than wall time on a shared machine
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    rss_mb = rss / 2**20 if sys.platform == "darwin" else rss / 1024
    try:
        hwm_mb = int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0]) / 1024
    except (OSError, IndexError):
        hwm_mb = None
    print(json.dumps({"code": code, "seconds": elapsed, "cpu_seconds": cpu, "rss_mb": rss_mb, "hwm_mb": hwm_mb,
                      "stderr_lines": len(err.getvalue().splitlines()), "stdout_bytes": len(out.getvalue()),
                      "last_stderr": (err.getvalue().splitlines() or [""])[-1][:200]}))
""")


def entries(n: int, extra: str = "") -> str:
    """A user catalog of ``n`` described models (flow style: 35,000 fit in the 4 MiB file limit)."""
    return "models:\n" + "".join(
        f"  - {{id: m{i}, name: M{i}, status: described, family: x, source: my card{extra}}}\n" for i in range(n))


def billion_laughs(levels: int = 10, width: int = 9) -> str:
    lines = [f"a0: &a0 [{', '.join(['lol'] * width)}]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, levels)]
    return "\n".join(lines) + f"\nmodels: *a{levels - 1}\n"


def hostile_inputs(root: Path) -> None:
    """The files and folders of the config-deep, config-wide and env-walk cases."""
    depth = 2_097_000  # 2 bytes a level plus the key: 4,194,013 bytes, under the 4,194,304-byte limit
    for name, text in (("deep", '{"a":' + "[" * depth + "]" * depth + "}"),
                       ("wide", '{"model_type": "llama", "a": [' + ",".join(["1.5e3"] * 400_000) + "]}")):
        (root / name).mkdir()
        (root / name / "config.json").write_text(text, encoding="utf-8")
    for i in range(20_000):
        (root / "tree" / f"d{i // 100}" / f"e{i % 100}").mkdir(parents=True)


def measure(argv: list[str], cwd: Path, env: dict[str, str]) -> dict:
    start = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", CHILD, json.dumps(argv)], capture_output=True, text=True, cwd=cwd,
                       env=env, timeout=1800)
    wall = time.perf_counter() - start
    if p.returncode != 0:
        raise SystemExit(f"{argv}: the measuring process failed:\n{p.stderr[-3000:]}")
    return {**json.loads(p.stdout), "process_seconds": wall}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--src", help="the src/ folder of the dsadvisor to measure (default: the installed one)")
    ap.add_argument("--cases", default="good,cached,all-bad,bomb")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="dsadvisor-hostile-") as tmp:
        root = Path(tmp)
        (root / "good.yaml").write_text(entries(N), encoding="utf-8")
        (root / "bad.yaml").write_text(entries(N, ", colour: red"), encoding="utf-8")
        (root / "bomb.yaml").write_text(billion_laughs(), encoding="utf-8")
        extra = {"config-deep", "config-wide", "env-walk"} & set(args.cases.split(","))
        if extra:
            hostile_inputs(root)
        env = {**os.environ, "DSADVISOR_CACHE_DIR": str(root / "cache")}
        env.pop("DSADVISOR_CATALOG", None)
        if args.src:
            env["PYTHONPATH"] = os.pathsep.join([args.src, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        cold = {**env, "DSADVISOR_NO_CACHE": "1"}
        cases = {
            "good": (["catalog", "validate", "good.yaml", "-f", "json"], cold),
            "cached": (["gpus", "--catalog", "good.yaml", "-f", "json"], env),
            "all-bad": (["catalog", "validate", "bad.yaml", "-f", "json"], cold),
            "bomb": (["catalog", "validate", "bomb.yaml", "-f", "json"], cold),
            "config-deep": (["estimate", "--config", "deep", "--gpu", "L40S", "-f", "json"], cold),
            "config-wide": (["estimate", "--config", "wide", "--gpu", "L40S", "-f", "json"], cold),
            "env-walk": (["models", "-f", "json"], {**cold, "DSADVISOR_CATALOG": str(root / "tree")}),
        }
        sizes = {name: (root / name).stat().st_size for name in ("good.yaml", "bad.yaml", "bomb.yaml")}
        print(json.dumps({"files_bytes": sizes, "python": sys.version.split()[0], "src": args.src or "installed"}))
        for name in args.cases.split(","):
            argv, case_env = cases[name]
            if name == "cached":
                measure(argv, root, env)  # fill the cache first
            runs = [measure(argv, root, case_env) for _ in range(args.runs)]
            print(json.dumps({
                "case": name, "argv": " ".join(argv), "runs": args.runs,
                "seconds_median": round(statistics.median(r["seconds"] for r in runs), 2),
                "seconds": [round(r["seconds"], 2) for r in runs],
                "process_seconds": [round(r["process_seconds"], 2) for r in runs],
                "cpu_seconds": [round(r["cpu_seconds"], 2) for r in runs],
                "peak_rss_mb": round(max(r["rss_mb"] for r in runs), 1),
                "vmhwm_mb": round(max(r["hwm_mb"] or 0 for r in runs), 1),
                "exit": sorted({r["code"] for r in runs}),
                "stderr_lines": sorted({r["stderr_lines"] for r in runs}),
                "last_stderr_line": runs[-1]["last_stderr"],
            }, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
