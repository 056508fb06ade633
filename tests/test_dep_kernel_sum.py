"""TensorRT-LLM's attention-DP + expert-parallel decode (DEP8) against NVIDIA's kernel sum (issue 13; docs/method.md,
"Disaggregated prefill and decode", sixth pass).

aiconfigurator-core 0.12.0's static_gen model of R1's DEP8 decode step on 8 x B200 / 8 x H200 (TensorRT-LLM 1.3.0rc20,
FP8, 1-256 sequences per attention-DP rank; benchmarks/aiconfigurator_kernel_sum.py --dep ->
decode_kernel_sums_dep.csv) against dsadvisor's step at the same layout (benchmarks/kernel_sum_compare.py --dep).
On the B200 the two agree where the disaggregated runs decode (16-256 a rank), so the 3-5 ms a step by which
NVIDIA's served DEP8 runs exceed the estimate is in no kernel table: a finding, not a fit."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from .conftest import load_script

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "benchmarks" / "data" / "aiconfigurator" / "silicon_sample.csv"


@pytest.fixture(scope="module")
def sums():
    return load_script("benchmarks/kernel_sum_compare.py")


@pytest.fixture(scope="module")
def dep(catalog, sums):
    return {(r["system"], int(r["batch"])): (r, x) for r, x in sums.ratios(catalog, dep=True)}


def test_the_dep_kernel_sums_cover_b200_and_h200_at_1_to_256_sequences_a_rank(dep):
    assert sorted(dep) == sorted((s, b) for s in ("b200_sxm", "h200_sxm") for b in (1, 4, 16, 48, 128, 256))
    for (system, batch), (row, _) in dep.items():
        assert row["layout"] == "dep" and row["backend"] == "trtllm" and row["quant"] == "fp8"
    # the MoE layer of 8 x 48 tokens on the B200 (DeepGEMM): the table the expert-read share was fitted on
    assert 250 < float(dep["b200_sxm", 48][0]["moe_us"]) < 300


def test_the_b200_dep8_step_matches_the_kernel_sum_where_the_served_runs_decode(dep):
    """16-256 sequences a rank: within 10 % (1.00x at 48, the disaggregated runs' 1K/1K batch)."""
    for batch in (16, 48, 128, 256):
        assert 0.9 < dep["b200_sxm", batch][1] < 1.1, batch
    assert abs(dep["b200_sxm", 48][1] - 1) < 0.05


def test_the_served_b200_dep8_runs_step_slower_than_the_kernel_sum(dep):
    """NVIDIA's served B200 FP8 DEP8 runs (1K/1K, five decode instances, no MTP; fit part): at 1,920 users (48 a rank)
    and 5,152 (129 a rank) the measured TPOT is 3-5 ms above the kernel sum at that batch (27.4 / 34.3 ms): the
    gap the estimate leaves is not in the kernel tables."""
    ids = {"dsr1_b200_trtllm_fp8_disagg_1024x1024_c1920_cfg564": 48,
           "2026_03_25_deepseek_r1_b200_sxm_trtllm_fp8_disagg_1024x1024_c1920_tp8_0_ep8_0_738": 48,
           "2026_03_25_deepseek_r1_b200_sxm_trtllm_fp8_disagg_1024x1024_c5152_tp8_0_ep8_0_447": 128}
    with SAMPLE.open(encoding="utf-8") as f:
        measured = {r["id"]: float(r["silicon_tpot_ms"]) for r in csv.DictReader(f) if r["id"] in ids}
    assert len(measured) == len(ids)
    for run, batch in ids.items():
        gap = measured[run] - float(dep["b200_sxm", batch][0]["tpot_ms"])
        assert 2.5 < gap < 6.0, (run, gap)


def test_hoppers_dep8_step_is_short_of_the_kernel_sum_at_many_tokens(dep):
    """A finding, not modelled: on the H200 the kernel sum's MoE (CUTLASS, aiconfigurator's power-law routing) grows
    with the tokens an expert gets (478 us at 384 tokens against the B200's DeepGEMM 272 us), and dsadvisor's step
    is 0.83-0.88x of it at 48-256 a rank, while 4-16 a rank stay within 10 %."""
    for batch in (48, 128, 256):
        assert dep["h200_sxm", batch][1] < 0.9, batch
    for batch in (4, 16):
        assert 0.9 < dep["h200_sxm", batch][1] < 1.1, batch
