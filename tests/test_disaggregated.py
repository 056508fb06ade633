"""Disaggregated prefill/decode (serving.disaggregated): separate prefill and decode instances, the KV
cache sent between them, TPOT free of prompts, and the splits the layout search offers."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from dsadvisor.errors import InputError
from dsadvisor.physics.estimate import Deployment, decode_step, estimate, pin_layout, rates_for
from dsadvisor.physics.params import count_params
from dsadvisor.physics.timing import Layout
from dsadvisor.serving.disaggregated import Split, check_split, decoding, serve_disaggregated, splits, transfer_s
from dsadvisor.serving.search import search
from dsadvisor.serving.scheduler import SGLANG_HOST_PER_SEQUENCE_S, scheduler_for
from dsadvisor.serving.server import serve
from dsadvisor.serving.workload import Workload

TP8 = Layout(tp=8, ep=True)
ONE_EACH = Split(TP8, 1, TP8, 1)


def r1(catalog, gpus=16, engine="sglang") -> Deployment:
    return Deployment.of(catalog, model=catalog.model("deepseek-r1"), gpu=catalog.gpus["H200-SXM"],
                         quant=catalog.quantizations["fp8"], engine=catalog.engines[engine], gpus=gpus)


def test_kv_transfer_by_hand(catalog):
    # R1's MLA cache: a 512-wide latent and a 64-wide RoPE key per layer, 61 layers, bf16; 2,048 prompt
    # tokens. The latent has no heads to split: every tensor-parallel GPU of the decode instance keeps the
    # whole of it, so each of its 8 GPUs receives a whole copy over its own 50 GB/s port (two nodes, 16 GPUs),
    # the 8 prefill GPUs sending one copy each; inside one node NVLink (450 GB/s a direction per GPU).
    copy = (512 + 64) * 2 * 61 * 2048
    assert transfer_s(r1(catalog), ONE_EACH, 2048) == pytest.approx(copy / 50e9)
    small = Split(Layout(tp=4, ep=True), 1, Layout(tp=4, ep=True), 1)
    assert transfer_s(r1(catalog, gpus=8), small, 2048) == pytest.approx(copy / 450e9)
    # attention DP on the prefill side: the prompt's cache is on its own rank alone, which sends all 8 copies
    dpa = Layout(tp=8, ep=True, dp_attention=8)
    assert transfer_s(r1(catalog), Split(dpa, 1, TP8, 1), 2048) == pytest.approx(8 * copy / 50e9)
    # ... and to a decode instance with attention DP too, one rank receives one copy
    assert transfer_s(r1(catalog), Split(dpa, 1, dpa, 1), 2048) == pytest.approx(copy / 50e9)


def test_decode_never_waits_for_a_prompt(catalog):
    # disaggregated TPOT is the decode instance's own step at the users decoding (those not in or waiting for
    # their prefill: Little's law, within the fixed point's one sequence), with SGLang's host time per running
    # request as aggregated serving takes it (28 us each, one attention group); the same instance serving
    # prompts too (aggregated, one of two replicas) is stretched by the other requests' prompts
    d, users = r1(catalog), 64
    _, dis = serve_disaggregated(d, ONE_EACH, Workload(users, 2048, 512))
    decoding_now = math.ceil(decoding(dis, users))
    assert decoding_now < users

    def tpot(batch: int) -> float:
        return decode_step(replace(pin_layout(r1(catalog, gpus=8), tp=8, ep=True), batch=batch,
                                   context=2048 + 256, prompt_tokens=2048)) + batch * SGLANG_HOST_PER_SEQUENCE_S

    assert any(dis.tpot_s == pytest.approx(tpot(b)) for b in (decoding_now - 1, decoding_now, decoding_now + 1))
    _, agg = serve(pin_layout(r1(catalog, gpus=8), tp=8, ep=True), Workload(users, 2048, 512))
    assert agg.tpot_s > 1.05 * dis.tpot_s
    # the first token pays the KV transfer and joins a decode step the aggregated server does not
    assert dis.ttft_s > transfer_s(d, ONE_EACH, 2048)


def test_decode_host_time_is_per_attention_group(catalog):
    # with 8 attention groups each group's scheduler handles its 8 of the 64 requests: 8 x 28 us a step
    dpa = Split(TP8, 1, Layout(tp=8, ep=True, dp_attention=8), 1)
    _, dis = serve_disaggregated(r1(catalog), dpa, Workload(64, 2048, 512))
    quiet = replace(scheduler_for("sglang", 141), host_per_sequence_s=0.0)
    _, bare = serve_disaggregated(r1(catalog), dpa, Workload(64, 2048, 512), quiet)
    assert dis.tpot_s - bare.tpot_s == pytest.approx(8 * SGLANG_HOST_PER_SEQUENCE_S, rel=1e-9)


def test_first_token_pays_the_prompts_tokenizing_and_its_queue(catalog):
    # TensorRT-LLM's context server tokenizes each prompt on one thread (Scheduler.per_prompt_token_s): one
    # user alone pays exactly its 2,048 tokens' tokenizing; 64 users arriving together (in lock step) also
    # wait for half of the 63 others' tokenizing at the one prefill instance, at least 31.5 prompts' worth
    base = scheduler_for("tensorrt-llm")
    bare, timed = replace(base, per_prompt_token_s=0.0), replace(base, per_prompt_token_s=5e-6)
    d, tokenize = r1(catalog, engine="tensorrt-llm"), 5e-6 * 2048
    one = [serve_disaggregated(d, ONE_EACH, Workload(1, 2048, 512), s)[1].ttft_s for s in (bare, timed)]
    assert one[1] - one[0] == pytest.approx(tokenize, rel=1e-9)
    cohort = [serve_disaggregated(d, ONE_EACH, Workload(64, 2048, 512, in_step=1.0), s)[1].ttft_s
              for s in (bare, timed)]
    assert cohort[1] - cohort[0] >= tokenize * (1 + 63 / 2) * 0.99


def test_prefill_pool_takes_the_engines_own_chunk(catalog):
    # SGLang sizes its prefill chunk by GPU memory (16,384 tokens on a B200, 8,192 on an H200): two 8K
    # prompts share a prefill batch on the B200. Before, the disaggregated model took 8,192 on every GPU.
    d = replace(r1(catalog, gpus=16), gpu=catalog.gpus["B200"])
    w = Workload(64, 8192, 512)
    own = serve_disaggregated(d, ONE_EACH, w)[1]
    assert own == serve_disaggregated(d, ONE_EACH, w, scheduler_for("sglang", 180))[1]
    assert own.ttft_s < serve_disaggregated(d, ONE_EACH, w, scheduler_for("sglang", 141))[1].ttft_s


def test_prompts_queue_at_the_prefill_pool(catalog):
    d = r1(catalog)
    ttft = [serve_disaggregated(d, ONE_EACH, Workload(c, 4096, 512))[1].ttft_s for c in (1, 64, 512)]
    assert ttft[0] < ttft[1] < ttft[2]


@pytest.mark.parametrize("split,engine,why", [
    (ONE_EACH, "transformers", "does not serve prefill and decode from separate instances"),
    (Split(TP8, 1, TP8, 2), "sglang", "is 24 GPUs, not --gpus 16"),
    (Split(TP8, 0, TP8, 2), "sglang", "at least one prefill and one decode instance"),
])
def test_splits_that_cannot_run(catalog, split, engine, why):
    with pytest.raises(InputError, match=why):
        check_split(r1(catalog, engine=engine), split)


def test_search_offers_disaggregated_layouts(catalog):
    assert splits(r1(catalog, engine="transformers")) == []
    found = search(r1(catalog), 2048, 512)
    disaggregated = [p for p in found.points if p.split is not None]
    assert disaggregated and all(p.split.gpus == 16 for p in disaggregated)
    assert disaggregated[0].label.startswith("1P TP8 EP + 1D TP8 EP")
    assert not [p for p in search(r1(catalog, gpus=8), 2048, 512).points if p.split]  # one instance needs 8


def test_sglang_pool_commands(catalog):
    # SGLang's PD page: --disaggregation-mode prefill|decode, --base-gpu-id past GPU 0, and the router
    # listing every server (docs.sglang.io advanced_features/pd_disaggregation)
    import shlex

    from dsadvisor.launch.disaggregated import pool_commands

    d = Deployment.of(catalog, model=catalog.model("deepseek-r1-distill-llama-70b"), gpu=catalog.gpus["H200-SXM"],
                      quant=catalog.quantizations["fp8"], engine=catalog.engines["sglang"], gpus=8)
    split = Split(Layout(tp=2), 2, Layout(tp=4), 1)
    lines, notes = pool_commands(catalog, d, split, 64, 2048, 512)
    commands = [shlex.split(line) for line in lines if not line.startswith("#")]
    servers, router = commands[:-1], commands[-1]
    modes = [w[w.index("--disaggregation-mode") + 1] for w in servers]
    assert modes == ["prefill", "prefill", "decode"]
    assert [w[w.index("--base-gpu-id") + 1] if "--base-gpu-id" in w else "0" for w in servers] == ["0", "2", "4"]
    assert [w[w.index("--tp") + 1] for w in servers] == ["2", "2", "4"]
    assert router[:4] == ["python", "-m", "sglang_router.launch_router", "--pd-disaggregation"]
    assert router.count("--prefill") == 2 and router.count("--decode") == 1
    assert "http://<node-0-ip>:31000" in router
    # two prefill servers on one node: each its own KV bootstrap port (SGLang's default 8998 would clash),
    # and the router told each one after the server's URL
    assert [w[w.index("--disaggregation-bootstrap-port") + 1] for w in servers[:2]] == ["8998", "8999"]
    assert "--disaggregation-bootstrap-port" not in servers[2]
    prefills = [i for i, w in enumerate(router) if w == "--prefill"]
    assert [router[i + 2] for i in prefills] == ["8998", "8999"]
    assert any("<node-N-ip>" in n for n in notes)
    # pasted as one block, `python -m sglang.launch_server` stays in the foreground and holds back the other
    # servers and the router: the note says to start each in its own shell
    assert any("start each in its own shell" in n for n in notes)
    with pytest.raises(InputError, match="written for SGLang"):
        pool_commands(catalog, replace(d, engine=catalog.engines["vllm"]), split, 64, 2048, 512)


def test_layouts_prints_the_pools_of_a_disaggregated_best(run):
    r = run("layouts", "deepseek-r1-distill-llama-70b", "--gpu", "H200", "--gpus", "8", "--quant", "fp8",
            "--max-ttft", "5", "--max-token-latency", "40", "-f", "json")
    assert r.code == 0, r.err
    doc = r.json()  # long answers under a tight TPOT: decode instances free of prompts win here
    assert doc["best"]["disaggregated"]["decode_instances"] >= 1
    assert doc["launch"][-1].startswith("python -m sglang_router.launch_router --pd-disaggregation")
    assert sum(line.startswith("python -m sglang.launch_server") for line in doc["launch"]) == \
        doc["best"]["disaggregated"]["prefill_instances"] + doc["best"]["disaggregated"]["decode_instances"]


def test_the_disaggregated_calibration_accounts_for_every_run(catalog, monkeypatch):
    """benchmarks/disagg_calibration.py serves NVIDIA's runs through serving_calibration's shared loop: every
    run of the sample is compared or counted under a reason, and the disaggregated ones are compared."""
    import importlib

    from .conftest import ROOT

    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    disagg = importlib.import_module("disagg_calibration")
    out, skipped = disagg.compare_rows(catalog)
    runs = list(importlib.import_module("serving_calibration").rows())
    assert len(out) + sum(skipped.values()) == len(runs)
    assert skipped["aggregated (benchmarks/serving_calibration.py)"] == sum(r["mode"] == "agg" for r in runs)
    assert {o["split"] for o in out} == {"fit", "holdout"} and len(out) >= 100
    assert all(o["ttft_ratio"] > 0 and o["tpot_ratio"] > 0 for o in out)


def test_a_saturated_prefill_instance_leaves_the_decode_batch_short(catalog):
    # 64 users of 4,096-token prompts and 64-token answers on one prefill and one decode TP8 instance: the prompts
    # keep the prefill instance busy (saturated), each user spends much of its cycle waiting for or in its prefill,
    # and only those decoding (Little's law) share the decode step, which is then shorter than all 64 users'
    d, users = r1(catalog), 64
    s = serve_disaggregated(d, ONE_EACH, Workload(users, 4096, 64))[1]
    assert s.saturated and s.running == users
    assert decoding(s, users) < 0.8 * users
    every_user = decode_step(replace(pin_layout(r1(catalog, gpus=8), tp=8, ep=True), batch=users,
                                     context=4096 + 32, prompt_tokens=4096)) + users * SGLANG_HOST_PER_SEQUENCE_S
    assert s.tpot_s < every_user


def test_against_nvidia_disaggregated_runs(catalog, monkeypatch):
    """benchmarks/disagg_calibration.py's figures (docs/method.md, "Disaggregated prefill and decode", fourth pass:
    TTFT within 25 % on 49.7 % fit / 36.5 % held-out, TPOT within 20 % on 68.1 % / 67.6 %; since round 8's Blackwell
    decode all-reduce 47.6 % / 35.1 % and 67.5 % / 67.6 %: the decode step enters TTFT through the slot wait, and four
    B300 fit runs cross the 25 % line by under 2 points; since the Blackwell expert-parallel expert reads, fit TTFT
    45.5 % and TPOT 74.3 %: four fit MTP3 runs whose TTFT was already 22-24 % over cross the line as their
    TPOT, 0.71-0.77 of the measured, comes closer; since the recipes' context-server MoE backend, fit TTFT 50.8 % and
    TPOT 73.8 %: ten B200/B300 FP8 runs whose recipe runs trtllm-gen come in, one B300 TPOT at 0.809 goes to 0.798).
    The bounds sit a little below them so a regression shows;
    the issue's targets (70 % / 80 %) are not met."""
    import importlib

    from .conftest import ROOT

    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    out, _ = importlib.import_module("disagg_calibration").compare_rows(catalog)
    for split, ttft_min, tpot_min in (("fit", 0.50, 0.73), ("holdout", 0.34, 0.65)):
        part = [o for o in out if o["split"] == split]
        ttft = sorted(o["ttft_ratio"] for o in part)
        assert sum(abs(x - 1) <= 0.25 for x in ttft) / len(ttft) >= ttft_min, split
        assert sum(abs(o["tpot_ratio"] - 1) <= 0.20 for o in part) / len(part) >= tpot_min, split
        assert 0.7 <= ttft[len(ttft) // 2] <= 1.3, split


def test_the_prefill_instances_take_their_launchs_moe_backend(catalog):
    """TensorRT-LLM recipes set the context servers' ``moe_config.backend`` apart from the generation servers': with
    TRTLLM (trtllm-gen) the prefill instances' FP8 experts run at 0.30 of the linear rate instead of DeepGEMM's 0.47
    (``fp8@10+trtllm``), so a prompt's prefill and its wait grow while the decode step stays the same. R1 FP8 on
    8 x B200: one DEP8 prefill instance, one DEP8 decode instance, 8K prompts, 64 users."""
    d = Deployment.of(catalog, model=catalog.model("deepseek-r1"), gpu=catalog.gpus["B200"],
                      quant=catalog.quantizations["fp8"], engine=catalog.engines["tensorrt-llm"], kv_dtype="fp8-kv",
                      gpus=16)
    dep8 = Layout(tp=8, ep=True, dp_attention=8)
    split, work = Split(dep8, 1, dep8, 1), Workload(64, 8192, 1024)
    _, default = serve_disaggregated(d, split, work)
    _, trtllm = serve_disaggregated(d, split, work, None, "trtllm")
    _, deepgemm = serve_disaggregated(d, split, work, None, "deepgemm")  # no figures of its own: the default's
    assert deepgemm == default
    assert trtllm.ttft_s > default.ttft_s * 1.1
    # the prompt alone: its routed FLOPs at 1/0.30 instead of 1/0.47 of the linear rate
    one = replace(pin_layout(replace(d, gpus=8), tp=8, ep=True), batch=1, context=8192 + 512, prompt_tokens=8192)
    slower = estimate(replace(one, moe_backend="trtllm")).ttft_single_s - estimate(one).ttft_single_s
    rate = rates_for(one.gpu, one.engine, one.quant).linear_flops
    routed = 2.0 * count_params(one.architecture).active_routed * 8192
    assert slower == pytest.approx(routed / 8 / rate * (1 / 0.30 - 1 / 0.47), rel=1e-6)


def test_layouts_json_carries_the_launch_notes(run):
    """layouts -f json gave the disaggregated `launch` lines without the notes the table prints after them (replace
    each <node-N-ip>; start each server in its own shell): a program reading the JSON could not run them."""
    r = run("layouts", "deepseek-r1-distill-llama-70b", "--gpu", "H200", "--gpus", "8", "--quant", "fp8",
            "--max-ttft", "5", "--max-token-latency", "40", "-f", "json")
    doc = r.json()
    assert doc["launch"] and any("<node-N-ip>" in n for n in doc["launch_notes"])
    assert any("own shell" in n for n in doc["launch_notes"])
    plain = run("layouts", "deepseek-r1-distill-qwen-7b", "--gpu", "H100", "--gpus", "1", "-f", "json").json()
    assert plain["launch"] == [] and plain["launch_notes"] == []
