"""How `recommend` grows with the catalog: 1x, 10x and 100x the bundled models.

    python benchmarks/scaling.py              # 1x, 10x, 100x; 7 runs each
    python benchmarks/scaling.py --runs 15 --sizes 1 10 100 300

A k-times catalog is the bundled one plus k-1 copies of every bundled model
(ids suffixed, ``architecture_from`` links kept inside each copy), handed to the
CLI as a user catalog with --catalog, as a user with a large private catalog
would. For each size it prints, for `dsadvisor recommend --gpu A100 --vram 40
-f json` in a fresh process:
  cold:   the first run (YAML parsed and validated, cache written),
  warm:   the median of later runs (validated catalog read from the cache),
  peak:   the largest resident set of the warm runs (ru_maxrss),
and the growth of each against the 1x row. Figures go to docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["recommend", "--gpu", "A100", "--vram", "40", "-f", "json"]


def write_copies(folder: Path, copies: int) -> int:
    """Write ``copies`` suffixed copies of every bundled model; returns how many models that is."""
    import yaml

    from dsadvisor.catalog.loading import bundled_catalog_dir

    models = []
    for path in sorted((bundled_catalog_dir() / "models").rglob("*.yaml")):
        models += yaml.safe_load(path.read_text(encoding="utf-8")).get("models") or []
    class NoAliases(yaml.SafeDumper):  # each copy written out in full, as a user would write it
        def ignore_aliases(self, data):
            return True

    for k in range(1, copies + 1):  # one file per copy: each stays under the user-file size limit
        out = []
        for m in models:
            m = dict(m, id=f"{m['id']}-copy{k}", aliases=[], related=[])
            if m.get("architecture_from"):
                m["architecture_from"] = f"{m['architecture_from']}-copy{k}"
            out.append(m)
        text = yaml.dump({"models": out}, Dumper=NoAliases, sort_keys=False, allow_unicode=True)
        (folder / f"copy{k:03d}.yaml").write_text(text, encoding="utf-8")
    return len(models) * (copies + 1)


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """(wall seconds, child CPU seconds, peak RSS in KiB) of one process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr.decode()[:300]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, after.ru_maxrss  # ru_maxrss of children is the largest so far


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    exe = shutil.which("dsadvisor")
    base = [exe] if exe else [sys.executable, "-m", "dsadvisor"]
    print(f"# dsadvisor {' '.join(ARGS)}; {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    print(f"{'size':>5} {'models':>7} {'cold':>9} {'warm':>9} {'warm cpu':>9} {'peak MiB':>9} {'growth':>8}")
    first = None
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            tmp_path = Path(tmp)
            (tmp_path / "catalog").mkdir()
            n_models = write_copies(tmp_path / "catalog", size - 1)
            env = dict(os.environ, DSADVISOR_CACHE_DIR=str(tmp_path / "cache"))
            env.pop("DSADVISOR_CATALOG", None)
            argv = base + ARGS + (["--catalog", str(tmp_path / "catalog")] if size > 1 else [])
            cold, _, _ = run_once(argv, env)
            # ru_maxrss of children only grows: measure each size's peak in a fresh child
            peak = int(subprocess.run(
                [sys.executable, "-c", _PEAK, *argv], env=env, capture_output=True, text=True, check=True
            ).stdout)
            warm = [run_once(argv, env) for _ in range(args.runs)]
        wall = statistics.median(w for w, _, _ in warm)
        cpu = statistics.median(c for _, c, _ in warm)
        first = first or wall
        print(f"{size:>4}x {n_models:7d} {cold * 1e3:7.0f}ms {wall * 1e3:7.0f}ms {cpu * 1e3:7.0f}ms "
              f"{peak / 1024:9.1f} {wall / first:7.1f}x")


# Runs the command as a child of a fresh interpreter and prints the child's peak RSS (KiB).
_PEAK = (
    "import resource, subprocess, sys\n"
    "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


if __name__ == "__main__":
    main()
