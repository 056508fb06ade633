"""R1's one-user decode step on 8 x B200 against NVIDIA's kernel tables (issue 12, round 8; docs/method.md, "Round 8").

The published B200 rows at one user (SGLang's cookbook, TensorRT-LLM's blog) step at about 9 ms, some 150 us a layer.
NVIDIA's measured kernels (aiconfigurator-core 0.12.0, benchmarks/data/aiconfigurator) add up to less, and to no
more per layer on the B200 than on the H200: the floor is not in the kernel tables. What the tables do show on
Blackwell, the engines' own all-reduce being slower at a decode step's small messages, is modelled."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest

from .conftest import load_script
from dsadvisor.physics.estimate import rates_for

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def sums():
    return load_script("benchmarks/kernel_sum_compare.py")


@pytest.fixture(scope="module")
def fits():
    return load_script("benchmarks/aiconfigurator_decode.py")


@pytest.mark.parametrize("engine", ["tensorrt-llm", "sglang"])
def test_blackwells_decode_all_reduce_reproduces_from_nvidias_table(catalog, fits, engine):
    """engines.yaml's Blackwell all-reduce is the fit of the engine's kernel as timed on B200/GB200 (and its
    Hopper figure the fit on H100/H200): rerunning the fit gives the catalog's figures to their printed digits."""
    speed = catalog.engines[engine].speed
    impl = fits.ALLREDUCE_IMPLEMENTATIONS[engine]
    latency, bus, errs = fits.allreduce_fit(impl, fits.GENERATIONS["blackwell"])
    assert speed.allreduce_latency_s_by_generation["10"] == pytest.approx(latency, abs=0.05e-6)
    assert speed.allreduce_bus_gbs_by_generation["10"] == pytest.approx(bus / 1e9, abs=0.5)
    assert statistics.median(errs) < 0.2
    latency, bus, _ = fits.allreduce_fit(impl, fits.GENERATIONS["hopper"])
    assert speed.allreduce_latency_s == pytest.approx(latency, abs=0.05e-6)
    assert speed.allreduce_bus_gbs == pytest.approx(bus / 1e9, abs=0.5)


def test_a_b200_decode_step_takes_blackwells_all_reduce_and_an_h200_keeps_hoppers(catalog):
    fp8 = catalog.quantizations["fp8"]
    b200, h200 = catalog.gpus["B200"], catalog.gpus["H200-SXM"]
    for engine in ("sglang", "tensorrt-llm"):
        speed = catalog.engines[engine].speed
        on_b200 = rates_for(b200, catalog.engines[engine], fp8)
        on_h200 = rates_for(h200, catalog.engines[engine], fp8)
        assert on_b200.decode_link_latency == speed.allreduce_latency_s_by_generation["10"]
        assert on_b200.decode_link_latency > on_h200.decode_link_latency == speed.allreduce_latency_s
    # vLLM's own B200 table is not what its decode runs (FlashInfer's fused all-reduce): Hopper's figure stays
    vllm = catalog.engines["vllm"]
    assert rates_for(b200, vllm, fp8).decode_link_latency == vllm.speed.allreduce_latency_s


def test_the_kernel_tables_hold_no_blackwell_per_layer_floor(sums):
    """Per layer, NVIDIA's measured kernels of R1's decode step (attention block, MoE, all-reduces, norms) add up to
    no more on the B200 than on the H200 at every FP8 engine, layout and batch timed on both."""
    rows = sums.kernel_rows()
    h200 = {(r["backend"], r["layout"], r["batch"]): float(r["layer_us"]) for r in rows if r["system"] == "h200_sxm"}
    pairs = [(float(r["layer_us"]), h200[(r["backend"], r["layout"], r["batch"])]) for r in rows
             if r["system"] == "b200_sxm" and r["quant"] == "fp8"]
    assert len(pairs) == 8
    assert all(b <= 1.02 * h for b, h in pairs)


def test_the_kernel_sum_leaves_the_published_b200_one_user_step_unexplained(sums):
    """SGLang's cookbook measured R1 FP8 at one user on 8 x B200 (TP 8) at 9.2 ms a step; the kernel tables add up to
    under 0.8 of it (a finding: docs/method.md, "Round 8")."""
    path = ROOT / "benchmarks" / "data" / "published" / "sglang-cookbook-published.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    measured = [r["batch"] / r["tokens_per_s"] for r in rows
                if r["gpu"] == "B200" and r["batch"] == 1 and r["quant"] == "fp8" and r.get("tp") == 8]
    kernel = next(float(r["tpot_ms"]) / 1e3 for r in sums.kernel_rows() if (r["system"], r["backend"], r["layout"],
                  r["batch"], r["quant"]) == ("b200_sxm", "sglang", "tp", "1", "fp8"))
    assert len(measured) == 3
    assert kernel < 0.8 * min(measured)


def test_the_decode_step_stays_near_nvidias_kernel_sum_on_b200_and_h200(catalog, sums):
    """dsadvisor's R1 decode step against the kernel sum at the same layouts (SGLang, TensorRT-LLM; TP or EP;
    1 or 4 sequences; FP8, NVFP4 on the B200): every row within 0.7-1.2x, the median within 15 % on each GPU."""
    out = sums.ratios(catalog)
    assert len(out) == 24
    assert all(0.7 < x < 1.2 for _, x in out), [(r["system"], r["backend"], r["layout"], r["batch"], x)
                                                 for r, x in out]
    for system in ("b200_sxm", "h200_sxm"):
        assert statistics.median(abs(x - 1) for r, x in out if r["system"] == system) < 0.15
