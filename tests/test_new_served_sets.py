"""Served runs first compared after the physics was fitted (issue 13, helper gb300-kimi): NVIDIA's disaggregated
DeepSeek runs on GB300 and the aggregated Kimi-K2.5 runs (DeepSeek-V3's architecture). They are reported apart from
the runs compared before (``serving_calibration.NEW_SETS``), so the base sets' figures stay comparable; nothing was
fitted on them (docs/method.md, "Runs first compared after the fit")."""

from __future__ import annotations

import importlib

import pytest

from .conftest import ROOT


@pytest.fixture(scope="module")
def disagg():
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    return importlib.import_module("disagg_calibration")


def _share(values, tol):
    return sum(abs(v - 1) <= tol for v in values) / len(values)


def test_the_base_sets_are_what_they_were(catalog, disagg, serving_calibration):
    """By default both scripts compare the base set only: the 191 / 74 disaggregated runs and the aggregated runs
    compared before GB300 and Kimi-K2.5 came in; the new sets' runs are counted as reported apart."""
    out, skipped = disagg.compare_rows(catalog)
    assert (sum(o["split"] == "fit" for o in out), sum(o["split"] == "holdout" for o in out)) == (191, 74)
    assert {o["set"] for o in out} == {"base"} and skipped["set gb300 (reported apart)"] == 100
    assert skipped["set kimi (reported apart)"] == 29
    agg, agg_skipped = serving_calibration.compare_rows(catalog)
    assert {o["set"] for o in agg} == {"base"} and agg_skipped["set kimi (reported apart)"] == 65


def test_gb300_disaggregated_runs(catalog, disagg):
    """126 GB300 runs (R1/V3, SGLang and TensorRT-LLM, FP8 and NVFP4): 100 built from their InferenceX launch config
    (26 that two configurations match are not compared). TPOT carries as on GB200/B200 (fit 77.8 %, held-out 81.1 %
    within 20 %); TTFT is short on SGLang as on the other GPUs (median ratio 0.56 fit)."""
    out, skipped = disagg.compare_rows(catalog, sets=("gb300",))
    fit = [o for o in out if o["split"] == "fit"]
    held = [o for o in out if o["split"] == "holdout"]
    assert (len(fit), len(held)) == (63, 37) and {o["system"] for o in out} == {"gb300"}
    assert "GPU gb300 not in catalog" not in skipped
    for part, ttft_min, tpot_min in ((fit, 0.38, 0.75), (held, 0.60, 0.78)):
        assert _share([o["ttft_ratio"] for o in part], 0.25) >= ttft_min
        assert _share([o["tpot_ratio"] for o in part], 0.20) >= tpot_min
    sglang = sorted(o["ttft_ratio"] for o in fit if o["engine"] == "sglang")
    assert sglang[len(sglang) // 2] < 0.7  # the SGLang TTFT gap of the base set, on GB300 too


def test_kimi_aggregated_runs(catalog, serving_calibration):
    """110 aggregated Kimi-K2.5 runs on vLLM: 65 NVFP4 ones compared (46 fit, 19 held-out), the 45 INT4 weight-only
    ones not (their format's physics is not the catalog's awq-int4: docs/method.md). The decode step carries to
    another model of DeepSeek-V3's architecture (TPOT within 20 % on 91 % / 84 %); TTFT does not: the MoE-layer
    prefill floor fitted on SGLang and TensorRT-LLM DeepSeek runs (2.5 ms a layer, taken by vLLM without a run of
    its own) puts the estimate at 1.5-1.8x the measured (a finding, not fitted)."""
    out, skipped = serving_calibration.compare_rows(catalog, sets=("kimi",))
    fit = [o for o in out if o["split"] == "fit"]
    held = [o for o in out if o["split"] == "holdout"]
    assert (len(fit), len(held)) == (46, 19) and {(o["engine"], o["quant"]) for o in out} == {("vllm", "nvfp4")}
    assert sum(n for k, n in skipped.items() if k.startswith("INT4 weight-only experts")) == 45
    assert _share([o["tpot_ratio"] for o in fit], 0.20) >= 0.88
    assert _share([o["tpot_ratio"] for o in held], 0.20) >= 0.80
    ttft = sorted(o["ttft_ratio"] for o in fit)
    assert 1.3 < ttft[len(ttft) // 2] < 2.0


def test_kimi_disaggregated_runs(catalog, disagg):
    """54 disaggregated Kimi-K2.5 NVFP4 runs on GB200 (Dynamo): the 29 of 2026-04-07/18 are built from InferenceX's
    launch config (kimik2.5-fp4-gb200-dynamo-trt / -vllm, srt-slurm recipes), all in the fit part; the 25 of 2026-04-02
    predate the entries. Both parts of the disaggregated model carry: TTFT within 25 % on 79 %, TPOT within 20 % on
    90 % (no MoE-layer cost sets a disaggregated run's TTFT apart as much as it does an aggregated one's)."""
    out, skipped = disagg.compare_rows(catalog, sets=("kimi",))
    assert len(out) == 29 and {o["split"] for o in out} == {"fit"} and {o["engine"] for o in out} == {"trtllm", "vllm"}
    assert _share([o["ttft_ratio"] for o in out], 0.25) >= 0.75
    assert _share([o["tpot_ratio"] for o in out], 0.20) >= 0.85


def test_every_set_together_counts_each_run_once(catalog, disagg, serving_calibration):
    every = serving_calibration.EVERY_SET
    out, _ = disagg.compare_rows(catalog, sets=every)
    assert len(out) == 191 + 74 + 100 + 29 and len({o["id"] for o in out}) == len(out)
    agg, _ = serving_calibration.compare_rows(catalog, sets=every)
    base, _ = serving_calibration.compare_rows(catalog)
    assert len(agg) == len(base) + 65 + 178 and len({o["id"] for o in agg}) == len(agg)


def test_qwen3_235b_aggregated_runs(catalog, serving_calibration):
    """201 runs of NVIDIA's gap analysis (Qwen3-235B-A22B-FP8: GQA, 128 experts in all 94 layers, no MLA): 178
    compared, 19 whose layout fields disagree not. TensorRT-LLM's decode carries (TPOT within 20 % on 94 % of the
    fit part) while every engine's TTFT is far above the measured (median ratio 2.3-4.5 fit): 94 MoE layers x the
    2.5 ms floor fitted on DeepSeek is 235 ms a prompt (docs/method.md, a finding, not fitted)."""
    out, skipped = serving_calibration.compare_rows(catalog, sets=("qwen3-235b",))
    fit = [o for o in out if o["split"] == "fit"]
    held = [o for o in out if o["split"] == "holdout"]
    assert (len(fit), len(held)) == (117, 61)
    assert skipped["layout fields disagree (tp x attention DP is not moe TP x EP)"] == 19
    trt = [o for o in fit if o["engine"] == "trtllm"]
    assert _share([o["tpot_ratio"] for o in trt], 0.20) >= 0.9
    ttft = sorted(o["ttft_ratio"] for o in fit)
    assert ttft[len(ttft) // 2] > 2


def test_kimi_int4_runs_read_by_their_bytes_alone(catalog, serving_calibration, monkeypatch):
    """``--int4-bytes-only``: the 45 INT4 weight-only runs (all held out) as int4-experts, the checkpoint's bytes with
    no Marlin MoE cost. A check, not the default: on the H200 the decode step is the bytes (TPOT within 20 % on 97 %,
    median 0.86), on the B200 it is not (median 0.76: vLLM 0.15's INT4 experts there cost more than their bytes)."""
    monkeypatch.setitem(serving_calibration.BYTES_ONLY, "int4_wo", "int4-experts")
    out, _ = serving_calibration.compare_rows(catalog, keep=lambda r: r["gemm_quant_mode"] == "int4_wo",
                                              sets=("kimi",))
    assert len(out) == 45 and {o["split"] for o in out} == {"holdout"}
    h200 = [o["tpot_ratio"] for o in out if o["system"] == "h200_sxm"]
    b200 = sorted(o["tpot_ratio"] for o in out if o["system"] == "b200_sxm")
    assert len(h200) == 30 and _share(h200, 0.20) >= 0.9
    assert b200[len(b200) // 2] < 0.8
