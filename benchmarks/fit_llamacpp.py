"""Fit llama.cpp's speed constants on the fit part of benchmarks/data/llamacpp-h200 (held-out rows never enter).

    python benchmarks/fit_llamacpp.py

Each constant is fitted on the rows whose physics it models, in order, by a least-squares search over the
log error (estimated / measured): decode at one sequence (bandwidth efficiency, per-layer and per-MoE-layer
cost, the dequantizing kernels' weights per second for each format), prompt processing (the 16-bit and the
int8 matmul rate, the routed-expert share of it, the fixed cost per request), then batched decode (how much
dearer the batched quantized matmul reads its weights). It prints the constants and the fit error; the values
in catalog/engines/engines.yaml are these, rounded. docs/method.md gives each with the rows behind it.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import replace
from pathlib import Path

from dsadvisor.catalog.store import load_catalog
from dsadvisor.physics.calibration import compare_llamacpp, read_rows

ROWS = read_rows(Path(__file__).resolve().parent / "data" / "llamacpp-h200" / "h200-lcpp.jsonl")


class _With:
    """The catalog with llama.cpp's speed constants replaced."""

    def __init__(self, catalog, speed):
        self._c = catalog
        self.engines = dict(catalog.engines)
        self.engines["llama.cpp"] = replace(catalog.engines["llama.cpp"], speed=speed)

    def __getattr__(self, name):
        return getattr(self._c, name)


def errors(catalog, speed, keep) -> list[float]:
    comps = compare_llamacpp(_With(catalog, speed), ROWS)
    return [math.log(c.estimated / c.measured) for c in comps if not c.held_out and keep(c)]


def loss(catalog, speed, keep) -> float:
    e = errors(catalog, speed, keep)
    return sum(x * x for x in e) / max(1, len(e))


def search(catalog, speed, field, keep, lo, hi, key=None, steps=40):
    """The value of ``field`` (or of ``field[key]``) in [lo, hi] (log grid, then refined) with least loss."""
    def with_value(v):
        if key is None:
            return replace(speed, **{field: v})
        return replace(speed, **{field: {**getattr(speed, field), key: v}})
    for _ in range(3):
        grid = [lo * (hi / lo) ** (i / steps) for i in range(steps + 1)]
        best = min(grid, key=lambda v: loss(catalog, with_value(v), keep))
        span = (hi / lo) ** (2 / steps)
        lo, hi = best / span, best * span
    return with_value(best), best


def is_(quantity, *, quants=None, moe=None, batch=None):
    def keep(c):
        return (c.quantity == quantity and (quants is None or c.quant in quants)
                and (moe is None or (c.model == "deepseek-moe-16b") == moe)
                and (batch is None or batch(c.batch)))
    return keep


def fit(catalog):
    s = catalog.engines["llama.cpp"].speed
    s = replace(s, dequant_weights_per_s={}, quantized_linear_efficiency={"default": 0.2},
                quantized_vector_max_batch=8, dequant_column_weights_per_s=None, batched_weights_per_s=None,
                batched_16bit_weights_per_s=None)
    out = {}
    dense16 = is_("decode", quants={"f16"}, moe=False)
    for _ in range(2):  # bandwidth and per-layer cost share the F16 rows; alternate
        s, out["bandwidth_efficiency"] = search(catalog, s, "bandwidth_efficiency", dense16, 0.4, 1.0)
        s, out["per_layer_decode_s"] = search(catalog, s, "per_layer_decode_s", dense16, 5e-6, 2e-4)
    s, out["per_moe_layer_decode_s"] = search(catalog, s, "per_moe_layer_decode_s",
                                              is_("decode", quants={"f16"}, moe=True), 1e-7, 2e-4)
    for q in ("q8_0", "q5_k_m", "q4_k_m", "q3_k_m"):
        s, out[f"dequant_weights_per_s[{q}]"] = search(catalog, s, "dequant_weights_per_s",
                                                       is_("decode", quants={q}), 5e11, 1e14, key=q)
    s, out["linear_efficiency"] = search(catalog, s, "linear_efficiency", is_("prefill", quants={"f16"}, moe=False),
                                         0.1, 1.0)
    s, out["moe_expert_efficiency_16bit"] = search(catalog, s, "moe_expert_efficiency_16bit",
                                                   is_("prefill", quants={"f16"}, moe=True), 0.01, 1.0)
    quantized = {"q8_0", "q5_k_m", "q4_k_m", "q3_k_m"}
    s, out["quantized_linear_efficiency[9.0]"] = search(
        catalog, s, "quantized_linear_efficiency", is_("prefill", quants=quantized, moe=False), 0.01, 0.5, key="9.0")
    s, out["moe_expert_efficiency"] = search(catalog, s, "moe_expert_efficiency",
                                             is_("prefill", quants=quantized, moe=True), 0.05, 1.0)
    small = lambda b: 2 <= b <= 8  # noqa: E731 - the vector kernel's batch sizes (MMVQ_MAX_BATCH_SIZE)
    s, out["dequant_column_weights_per_s"] = search(
        catalog, s, "dequant_column_weights_per_s", is_("batched_decode", quants=quantized, batch=small), 1e12, 1e14)
    s, out["batched_weights_per_s"] = search(
        catalog, s, "batched_weights_per_s", is_("batched_decode", quants=quantized, batch=lambda b: b > 8),
        3e11, 1e14)
    s, out["batched_16bit_weights_per_s"] = search(
        catalog, s, "batched_16bit_weights_per_s", is_("batched_decode", quants={"f16"}), 3e11, 1e14)
    return s, out


def main() -> None:
    catalog = load_catalog()
    speed, out = fit(catalog)
    for k, v in out.items():
        print(f"{k:36} {v:.4g}")
    for q in ("weights", "prefill", "decode", "batched_decode"):
        e = [abs(math.exp(x) - 1) for x in errors(catalog, speed, lambda c, q=q: c.quantity == q)]
        print(f"fit {q:15} n={len(e):3d} max {max(e):6.1%} median {statistics.median(e):6.1%}")


if __name__ == "__main__":
    main()
