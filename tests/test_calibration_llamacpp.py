"""llama.cpp measured on an H200 (benchmarks/data/llamacpp-h200): every row compares, held-out rows are
the ones the README names, and the file sizes the estimator gives stay within the weights target."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsadvisor.physics.calibration import (
    LLAMACPP_HELD_OUT_MODELS,
    LLAMACPP_HELD_OUT_QUANTS,
    compare_llamacpp,
    llamacpp_measured,
    read_rows,
)

ROWS = read_rows(Path(__file__).resolve().parents[1] / "benchmarks" / "data" / "llamacpp-h200" / "h200-lcpp.jsonl")


@pytest.fixture(scope="module")
def comps(catalog):
    return compare_llamacpp(catalog, ROWS)


def test_every_catalog_format_row_gives_every_metric(comps, catalog):
    compared = [r for r in ROWS if {"f16": "fp16"}.get(r["quant"], r["quant"]) in catalog.quantizations]
    assert len(compared) == 12  # IQ4_XS has no catalog format
    for r in compared:
        mine = [c for c in comps if c.model == r["model"] and c.quant == r["quant"]]
        assert {c.quantity for c in mine} == {"weights", "prefill", "decode", "batched_decode"}
        assert len(mine) == 1 + len(llamacpp_measured(r))


def test_held_out_rows_are_the_named_models_and_formats(comps):
    held = {(c.model, c.quant) for c in comps if c.held_out}
    assert held == {(c.model, c.quant) for c in comps
                    if c.model in LLAMACPP_HELD_OUT_MODELS or c.quant in LLAMACPP_HELD_OUT_QUANTS}
    assert held and len(held) < len({(c.model, c.quant) for c in comps})


def test_measured_seconds_are_physical():
    """llama-bench's rates turn into seconds per prompt and per token in a plausible range for an H200."""
    for r in ROWS:
        for quantity, batch, tokens, seconds, _ in llamacpp_measured(r):
            assert 1e-3 < seconds < 2.0, (r["model"], r["quant"], quantity, batch, tokens, seconds)
