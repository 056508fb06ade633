"""Fit llama.cpp's prompt rates off Hopper on the fit rows of benchmarks/data/published (held-out rows never enter).

    python benchmarks/fit_published_prompts.py

Four constants, each set by the one published prompt row that names it (README "fit rows"), with the engine as
that row's build ran it (``engine_version``: builds before 2025-08-30 ran without flash attention, so their
prompts run attention as F16 GEMMs and pay the KQ matrix's traffic, estimate.kq_attention_s):

- ``quantized_linear_efficiency["default"]``: MMQ's share of the dense int8 rate on CUDA GPUs other than
  compute capability 9.0 (RTX 4090, llama 8B Q4_0 pp512, ggml-org/llama.cpp PR 7676);
- ``quantized_linear_efficiency["16bit"]``: MMQ's share of the 16-bit rate where the catalog has no int8 figure
  (RTX 3090, llama 8B Q6_K pp2048, PR 7860);
- ``linear_efficiency_by_vendor["apple"]``: Metal's F16 matmul share of the 16-bit rate (M2 Ultra, LLaMA 7B F16
  pp512, PR 3084);
- ``quantized_linear_efficiency["apple"]``: Metal's k-quant matmul share of the 16-bit rate (M2 Ultra, LLaMA 7B
  Q4_K_M pp512, PR 3084).

Each is found by bisection so that its row's estimated prompt time equals the measured one (one row each: these
are findings of one table, docs/method.md says so). It prints the values; catalog/engines/engines.yaml holds them,
rounded.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from dsadvisor.catalog.store import load_catalog
from dsadvisor.physics.calibration import compare_published, read_rows, with_engine_speed

ROWS = read_rows(Path(__file__).resolve().parent / "data" / "published" / "llamacpp-published.jsonl")
# (speed field, key, the fit row's source, GPU, format)
CONSTANTS = [
    ("quantized_linear_efficiency", "default", "https://github.com/ggml-org/llama.cpp/pull/7676", "RTX-4090", "q4_0"),
    ("quantized_linear_efficiency", "16bit", "https://github.com/ggml-org/llama.cpp/pull/7860", "RTX-3090", "q6_k"),
    ("linear_efficiency_by_vendor", "apple", "https://github.com/ggml-org/llama.cpp/pull/3084", "M2-Ultra-192GB",
     "fp16"),
    ("quantized_linear_efficiency", "apple", "https://github.com/ggml-org/llama.cpp/pull/3084", "M2-Ultra-192GB",
     "q4_k_m"),
]


def fit_row(source: str, gpu: str, quant: str) -> dict:
    rows = [r for r in ROWS if r["source"] == source and r["gpu"] == gpu and r["quant"] == quant
            and r["metric"] == "prefill" and r["part"] == "fit"]
    assert len(rows) == 1, (source, gpu, quant, len(rows))
    return rows[0]


def ratio(catalog, speed, row: dict) -> float:
    """Estimated / measured prompt time of ``row`` with llama.cpp's speed ``speed``."""
    (c,) = compare_published(with_engine_speed(catalog, "llama.cpp", speed), [row])
    return c.estimated / c.measured


def with_value(speed, field: str, key: str, value: float):
    table = dict(getattr(speed, field))
    table[key] = value
    return replace(speed, **{field: table})


def fit_one(catalog, speed, field: str, key: str, row: dict) -> float:
    """The value of ``field[key]`` at which ``row`` is estimated as measured (a higher share: a shorter prompt)."""
    lo, hi = 0.01, 4.0
    for _ in range(60):
        mid = (lo * hi) ** 0.5
        if ratio(catalog, with_value(speed, field, key, mid), row) > 1:
            lo = mid
        else:
            hi = mid
    return (lo * hi) ** 0.5


def main() -> None:
    catalog = load_catalog()
    speed = catalog.engines["llama.cpp"].speed
    for field, key, source, gpu, quant in CONSTANTS:
        row = fit_row(source, gpu, quant)
        before = getattr(speed, field)[key]
        error = ratio(catalog, speed, row) - 1
        value = fit_one(catalog, speed, field, key, row)
        speed = with_value(speed, field, key, value)
        print(f"{field}[{key!r}]: {before:g} (row at {error:+.1%}) -> {value:.4f} "
              f"({gpu} {quant} {row['tokens']} tokens, build {row.get('engine_version')}, {source})")


if __name__ == "__main__":
    main()
