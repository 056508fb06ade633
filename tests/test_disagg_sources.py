"""The disaggregated runs as InferenceX launched them (benchmarks/data/aiconfigurator/disagg_configs.csv):
the sample's dated-csv rows keep only one instance's GPUs; the launch config gives the instances, attention
DP and MTP, and the comparison takes them from there."""

from __future__ import annotations

import csv
import re
import importlib
import statistics

import pytest

from .conftest import ROOT

CONFIGS = ROOT / "benchmarks" / "data" / "aiconfigurator" / "disagg_configs.csv"


@pytest.fixture(scope="module")
def disagg(monkeypatch_module):
    monkeypatch_module.syspath_prepend(str(ROOT / "benchmarks"))
    return importlib.import_module("disagg_calibration")


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def configs() -> dict[str, dict]:
    with open(CONFIGS, encoding="utf-8") as f:
        return {r["id"]: r for r in csv.DictReader(f)}


def test_a_dated_run_gets_the_instances_and_mtp_of_its_launch_config():
    # InferenceX nvidia-master.yaml (commit 424862790746, 2026-01-28), dsr1-fp4-b300-dynamo-trt 1K/1K, the
    # entry listing 120: 1 prefill DEP2 + 5 decode TEP8, recipe ctx1_gen5_tep8_batch32_eplb0_mtp3.yaml
    # (3 draft tokens); the sample's row says only "prefill tp 2, decode tp 8" (its MoE split miswritten)
    rows = [r for r in configs().values() if r["id"].startswith(
        "2026_03_25_deepseek_r1_b300_sxm_trtllm_fp4_disagg_1024x1024_c120_")]
    assert rows and all(r["match"] == "unique" for r in rows)
    assert {(r["prefill_workers"], r["prefill_tp"], r["prefill_dp_attention"], r["decode_workers"], r["decode_tp"],
             r["decode_dp_attention"], r["mtp"], r["decode_batch"]) for r in rows} == \
        {("1", "2", "1", "5", "8", "0", "3", "32")}


def test_rows_the_config_cannot_tell_apart_are_not_compared(disagg):
    # two entries at one concurrency (one with MTP, one without): the sample does not say which ran
    ambiguous = next(r for r in configs().values() if r["match"] == "ambiguous")
    assert "two configurations" in disagg.source_split({"id": ambiguous["id"]})


def test_launch_configs_bring_dated_tpot_to_the_measured(disagg, catalog):
    # before (the sample's fields: one decode instance for all users, no MTP) the dated-csv runs' TPOT was
    # 2.1-2.5x the measured on the fit part; with the launch config the held-out median is within 20 %
    out, skipped = disagg.compare_rows(catalog)
    held = [o["tpot_ratio"] for o in out if o["split"] == "holdout" and o["source_kind"] == "dated_csv"]
    fit = [o["tpot_ratio"] for o in out if o["split"] == "fit" and o["source_kind"] == "dated_csv"]
    assert len(held) >= 40 and 0.8 < statistics.median(held) < 1.2
    assert statistics.median(fit) < 1.6
    assert skipped["InferenceX lists two configurations at this concurrency (MTP or not)"] > 0


def test_a_recipe_named_after_its_concurrency_keeps_its_mtp_depth():
    # InferenceX nvidia-master.yaml (commit f316a0ef6013), dsr1-fp8-b200-dynamo-trt 1K/1K, spec-decoding "mtp",
    # recipe ctx1_gen7_dep8_batch128_eplb0_mtp3_896.yaml (srt-slurm: speculative_config MTP,
    # num_nextn_predict_layers 3): the name ends in the concurrency, not in mtp3; read as no MTP before
    rows = [r for r in configs().values() if r["recipe"].endswith("_mtp3_896.yaml") and r["match"] == "unique"]
    assert rows and {r["mtp"] for r in rows} == {"3"}
    assert all(r["mtp"] != "0" for r in configs().values() if re.search(r"_mtp[1-9]\d*(_\d+)?\.yaml$", r["recipe"]))


def test_the_recipe_decode_batch_replaces_the_engine_default(disagg, catalog):
    # ctx1_gen1_dep8_batch512_eplb0_mtp0_4096.yaml: max_batch_size 512 on each of 8 attention-DP ranks admits
    # 4,096 requests (TensorRT-LLM executor_request_queue.py: tp_size * max_num_active_requests), above
    # trtllm-serve's default 2,048 that capped it before (every user then waited a whole answer for a slot)
    rid = next(k for k, r in configs().items() if r["recipe"].endswith("ctx1_gen1_dep8_batch512_eplb0_mtp0_4096.yaml"))
    row = next(r for r in importlib.import_module("serving_calibration").rows() if r["id"] == rid)
    d, split, workload, sched, backend = disagg.build(catalog, row)
    assert sched.max_running == 512 * split.decode.dp_attention == 4096 > 2048
    assert backend == "deepgemm"  # the recipe's context servers: moe_config.backend DEEPGEMM


def test_the_recipe_moe_backends_are_kept_per_side(disagg, catalog):
    # srt-slurm's TensorRT-LLM recipes set moe_config.backend on each side: B300 FP8 context servers TRTLLM
    # (trtllm-gen), B200 FP8 1K ones DEEPGEMM; TP decode instances TRTLLM; SGLang recipes none
    rows = [r for r in configs().values() if r["match"] == "unique"]
    b300 = [r for r in rows if "trtllm/b300-fp8/" in r["recipe"]]
    assert b300 and {r["prefill_moe_backend"] for r in b300} == {"TRTLLM"}
    assert {r["prefill_moe_backend"] for r in rows if "trtllm/b200-fp8/1k1k/" in r["recipe"]} == {"DEEPGEMM"}
    tp_decode = [r for r in rows if re.search(r"trtllm/b200-fp8/.*_gen\d+_tp8_", r["recipe"])]
    assert tp_decode and {r["decode_moe_backend"] for r in tp_decode} == {"TRTLLM"}
    assert all(r["prefill_moe_backend"] == "" for r in rows if "sglang" in r["config_key"])
    row = next(r for r in importlib.import_module("serving_calibration").rows() if r["id"] == b300[0]["id"])
    assert disagg.build(catalog, row)[4] == "trtllm"


def test_an_sglang_decode_server_admits_its_recipe_max_running_requests(disagg):
    # srt-slurm recipes/gb200-fp8/1k1k/max-tpt.yaml: the decode server sets max-running-requests 45000 over its 32
    # DP ranks (not SGLang's default, which capped it at 1,024 here before); low-latency.yaml sets 128
    rows = {r["recipe"]: r for r in configs().values() if r["match"] == "unique" and r["decode_max_running"]}
    assert rows["recipes/gb200-fp8/1k1k/max-tpt.yaml"]["decode_max_running"] == "45000"
    assert rows["recipes/gb200-fp8/1k1k/low-latency.yaml"]["decode_max_running"] == "128"
    found = disagg.source_split({"id": rows["recipes/gb200-fp8/1k1k/max-tpt.yaml"]["id"]})
    assert found[1] == 45000
