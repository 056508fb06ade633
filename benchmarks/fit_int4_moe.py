"""Fit vLLM's 4-bit (AWQ/GPTQ) MoE decode cost on the fit part of the published rows.

    python benchmarks/fit_int4_moe.py

The fit rows are vllm-project/vllm PR 13321's own table (DeepSeek-V3-AWQ on 8 x A100 through the moe_wna16 CUDA
kernel that PR added, batch 1-64; benchmarks/data/published/datacenter-published.jsonl, ``part: fit``). What the
estimate lacks at each batch (measured step - estimated step without the term) is fitted, by least squares on the
relative error of the step, as MoE layers x (a floor + a cost per (token, routed expert) pair), in A100 seconds;
the per-pair cost is printed for a whole expert (the rows run TP 8: each GPU reads a 1/8 slice). Prints the two
constants for catalog/engines/engines.yaml (vllm: int4_moe_decode_floor_s, int4_moe_decode_pair_s) and the fit
rows' errors with them. The held-out rows (PR 14138 on A800, tt-inference-server on H100, vLLM 0.7.3 on H100) are
printed by benchmarks/calibration.py, never here.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from dsadvisor.catalog.store import load_catalog
from dsadvisor.physics.calibration import _published_estimate, published_seconds, read_rows
from dsadvisor.physics.params import moe_layer_count

ROWS = Path(__file__).resolve().parent / "data" / "published" / "datacenter-published.jsonl"


def main() -> None:
    catalog = load_catalog()
    vllm = catalog.engines["vllm"]
    bare = replace(vllm, speed=replace(vllm.speed, int4_moe_decode_floor_s=None))
    catalog.engines["vllm"] = bare
    rows = [r for r in read_rows(ROWS) if r["part"] == "fit" and r["quant"] == "awq-int4" and r["engine"] == "vllm"]
    a, b, y = [], [], []  # relative error model: (base + L (F + P x)) / m - 1 = 0
    for r in rows:
        arch = catalog.models[r["model"]].architecture or catalog.models[catalog.models[r["model"]].architecture_from].architecture
        m, base = published_seconds(r), _published_estimate(catalog, r).decode_step_s
        layers, pairs = moe_layer_count(arch), r["batch"] * arch.moe_dims[2] / r["tp"]
        a.append(layers / m), b.append(layers * pairs / m), y.append(1 - base / m)
    saa, sab, sbb = sum(x * x for x in a), sum(x * z for x, z in zip(a, b)), sum(z * z for z in b)
    say, sby = sum(x * t for x, t in zip(a, y)), sum(z * t for z, t in zip(b, y))
    det = saa * sbb - sab * sab
    floor, pair = (say * sbb - sby * sab) / det, (saa * sby - sab * say) / det
    print(f"int4_moe_decode_floor_s: {floor:.3g}   # per MoE layer, A100")
    print(f"int4_moe_decode_pair_s: {pair:.3g}   # per (token, routed expert) pair, whole expert, A100")
    for r, x, z, t in zip(rows, a, b, y):
        print(f"  batch {r['batch']:3d}: error {(floor * x + pair * z) - t:+.1%}")


if __name__ == "__main__":
    main()
