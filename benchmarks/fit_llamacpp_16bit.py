"""llama.cpp's 16-bit weights above 16 token columns (cuBLAS) on the H200: the constant read off the kernels timed
alone, then the batched decode rows before and after (run 10, benchmarks/data/llamacpp-h200/README.md).

    python benchmarks/fit_llamacpp_16bit.py           # the kernels' table, the constant, the rows' errors
    python benchmarks/fit_llamacpp_16bit.py --rows    # and each row's error at every batch size

Kernels (h200-kernels.jsonl run 5, -run6.jsonl run 6, -run10.jsonl run 10; mmbench.cpp): every F16 / BF16 dense
weight matmul but the output heads, timed at 1 column (the one-column kernel) and at 17-128 columns (cuBLAS). A
matmul's cost above 16 columns beyond its one-column time, the median over its column counts, then the median over
shapes and dtypes, is ``f16_gemm_matmul_s`` (the activations' conversion to 16 bits, the GEMM's fixed cost, the
output's conversion back). The heads are shown, not used: cuBLAS's F16 kernel for a 100k+-row head takes 20-136 us
more at 17-128 columns on the LLaMA shapes (its BF16 kernel does not), a choice of one shape (docs/method.md).
Rows: every 16-bit batched decode row above 16 sequences, before (the weight pass at batched_16bit_weights_per_s,
the catalog's constant with f16_gemm_matmul_s 0) and after (the catalog as it is), fit and held out apart.
"""

from __future__ import annotations

import json
import math
import statistics
import sys
from dataclasses import replace
from pathlib import Path

from dsadvisor.catalog.store import load_catalog
from dsadvisor.physics.calibration import compare_llamacpp, with_engine_speed

from fit_llamacpp import ROWS_ALL

DATA = Path(__file__).resolve().parent / "data" / "llamacpp-h200"
KERNEL_FILES = ("h200-kernels.jsonl", "h200-kernels-run6.jsonl", "h200-kernels-run10.jsonl")
HEAD_ROWS = 100_000  # weight rows of an output head (vocabulary)


def kernel_times() -> dict[tuple[str, str, int, int], dict[int, float]]:
    """(label, dtype, rows, K) -> {columns: us} for the dense 16-bit matmuls (the first timing of each)."""
    out: dict[tuple[str, str, int, int], dict[int, float]] = {}
    for name in KERNEL_FILES:
        for line in (DATA / name).read_text().splitlines():
            r = json.loads(line)
            if r.get("experts") == 0 and r["type"] in ("f16", "bf16"):
                out.setdefault((r["label"], r["type"], r["m"], r["k"]), {}).setdefault(r["n"], r["us"])
    return out


def gemm_matmul_s(show: bool = True) -> float:
    deltas = []
    for (label, dtype, m, k), t in sorted(kernel_times().items()):
        above = [t[n] - t[1] for n in sorted(t) if n > 16] if 1 in t else []
        if not above:
            continue
        d = statistics.median(above)
        head = m >= HEAD_ROWS
        if not head:
            deltas.append(d)
        if show:
            print(f"{label:10} {dtype:4} {m:6}x{k:<5} one column {t[1]:6.1f} us, above 16 columns +{d:5.1f} us"
                  f" (n {min(n for n in t if n > 16)}-{max(t)}){'  head: not used' if head else ''}")
    value = statistics.median(deltas)
    if show:
        print(f"f16_gemm_matmul_s = median of {len(deltas)} shapes and dtypes = {value:.3g} us -> {value * 1e-6:.2g} s")
    return value * 1e-6


def row_errors(catalog, speed, per_row: bool, label: str) -> None:
    rows = [r for r in ROWS_ALL if r["quant"] in ("f16", "bf16")]
    comps = [c for c in compare_llamacpp(with_engine_speed(catalog, "llama.cpp", speed), rows)
             if c.quantity == "batched_decode" and c.batch > 16]
    for part, held in (("fit", False), ("held out", True)):
        e = [c.estimated / c.measured - 1 for c in comps if c.held_out == held]
        within = sum(abs(x) <= 0.15 for x in e) / len(e)
        print(f"{label:6} {part:8} n={len(e):3d} max {max(map(abs, e)):6.1%} median {statistics.median(map(abs, e)):6.1%}"
              f" mean {statistics.mean(e):+6.1%} within 15% {within:4.0%}")
    if per_row:
        by: dict[tuple, list] = {}
        for c in comps:
            by.setdefault((c.model, c.quant, c.held_out), []).append(c)
        for (m, q, h), cs in by.items():
            print(f"  {m:22} {q:4} {'held out' if h else 'fit':8} "
                  + " ".join(f"{c.batch}:{c.estimated / c.measured - 1:+.1%}" for c in cs))


def main() -> None:
    value = gemm_matmul_s()
    catalog = load_catalog()
    speed = catalog.engines["llama.cpp"].speed
    if not math.isclose(speed.f16_gemm_matmul_s, value, rel_tol=0.1):
        print(f"catalog f16_gemm_matmul_s {speed.f16_gemm_matmul_s:.3g} differs from the kernels' {value:.3g}")
    per_row = "--rows" in sys.argv
    row_errors(catalog, replace(speed, f16_gemm_matmul_s=0.0), per_row, "before")
    row_errors(catalog, speed, per_row, "after")


if __name__ == "__main__":
    main()
