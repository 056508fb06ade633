"""Fit the ceiling of 2024 llama.cpp builds' matrix-vector kernels on the fit rows of benchmarks/data/published.

    python benchmarks/fit_vector_ceiling.py

``vector_bytes_per_sm_s_before`` (catalog/engines/engines.yaml, llama.cpp's change of "2025-09-05"): the bytes per
second and SM a decode step of those builds reads at most (a step reads at most sm_count x it). The fit rows are
the six decode rows of 2024 CUDA builds (issue 6763's H100 PCIe and PR 6766's RTX 3090 / 4090, with and without
CUDA graphs). Each row is estimated at two bandwidth efficiencies with the ceiling off, which splits its step into
the bytes it reads and the other terms; the ceiling is the value, on a 0.01 GB/s grid, that minimises the rows'
squared log errors with every row's read rate min(share x bandwidth, sm_count x ceiling). It prints the rate each
row achieved per SM, the ceiling and the rows' errors with it. Held-out rows never enter.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

from dsadvisor.catalog.store import load_catalog
from dsadvisor.physics.calibration import compare_published, read_rows

ROWS = read_rows(Path(__file__).resolve().parent / "data" / "published" / "llamacpp-published.jsonl")


def _without_ceiling(engine, efficiency: float):
    versions = engine.speed.versions
    changes = [replace(c, vector_bytes_per_sm_s_before=None) for c in versions.changes]
    return replace(engine, speed=replace(engine.speed, bandwidth_efficiency=efficiency,
                                         versions=replace(versions, changes=changes)))


def split(catalog, rows: list[dict]) -> list[tuple[dict, float, float]]:
    """(row, bytes a step reads, seconds of its other terms) per row, the ceiling off."""
    engine = catalog.engines["llama.cpp"]
    share = engine.speed.bandwidth_efficiency
    estimates = []
    for efficiency in (share, share / 2):
        catalog.engines["llama.cpp"] = _without_ceiling(engine, efficiency)
        estimates.append(compare_published(catalog, rows))
    catalog.engines["llama.cpp"] = engine
    out = []
    for r, full, half in zip(rows, *estimates):
        read_s = half.estimated - full.estimated  # R / (B share / 2) - R / (B share) = R / (B share)
        out.append((r, read_s * catalog.gpus[r["gpu"]].bandwidth_gbs * 1e9 * share, full.estimated - read_s))
    return out


def main() -> None:
    catalog = load_catalog()
    share = catalog.engines["llama.cpp"].speed.bandwidth_efficiency
    rows = [r for r in ROWS if r["part"] == "fit" and r["metric"] == "decode" and r["engine_version"] < "2025"
            and catalog.gpus[r["gpu"]].vendor == "nvidia" and catalog.gpus[r["gpu"]].sm_count]
    parts = [(r, read, other, catalog.gpus[r["gpu"]]) for r, read, other in split(catalog, rows)]

    def step(read, other, gpu, ceiling):
        return other + read / min(gpu.bandwidth_gbs * 1e9 * share, gpu.sm_count * ceiling)

    def loss(ceiling):
        return sum(math.log(step(read, other, gpu, ceiling) / r["tokens_per_s"] ** -1) ** 2
                   for r, read, other, gpu in parts)

    ceiling = min((i * 1e7 for i in range(300, 2001)), key=loss)
    for r, read, other, gpu in parts:
        measured = 1 / r["tokens_per_s"]
        print(f"{r['gpu']:10} {r['quant']:6} build {r['engine_version']}: achieved "
              f"{read / (measured - other) / gpu.sm_count / 1e9:5.2f} GB/s a SM; with the ceiling "
              f"{step(read, other, gpu, ceiling) / measured - 1:+6.1%}  {r['source']}")
    print(f"vector_bytes_per_sm_s_before: {ceiling:.3g} ({len(parts)} fit rows)")


if __name__ == "__main__":
    main()
