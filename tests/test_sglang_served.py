"""SGLang's server behaviour under load (docs/method.md, "Serving under load"): the prefill chunk it
sizes by GPU memory, the host's time per running request, the scheduler's receive interval, and the
accuracy against NVIDIA's served runs that these mechanisms reach."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dsadvisor.physics.estimate import Deployment
from dsadvisor.serving.scheduler import SCHEDULERS, scheduler_for, sglang_chunk
from dsadvisor.serving.server import _queue_s, serve
from dsadvisor.serving.workload import Workload

from .conftest import ROOT


@pytest.mark.parametrize("memory_gb,chunk", [
    (141, 8192),  # H200
    (80, 8192),  # H100
    (180, 16384),  # B200: more memory, a larger chunk
    (288, 16384),  # B300
    (48, 4096),  # L40S
    (24, 2048),  # RTX 4090
])
def test_sglang_sizes_its_prefill_chunk_by_gpu_memory(memory_gb, chunk):
    """server_args.py _handle_gpu_memory_settings (SGLang 0.5.x): chunked_prefill_size."""
    assert sglang_chunk(memory_gb) == chunk
    assert scheduler_for("sglang", memory_gb).token_budget == chunk
    assert scheduler_for("vllm", memory_gb) == SCHEDULERS["vllm"]  # other engines are not sized here


def _llama8b(catalog, gpus=1) -> Deployment:
    from dsadvisor.catalog.resolve import model_from_config

    model, arch = model_from_config(ROOT / "benchmarks" / "data" / "aiconfigurator" / "model_configs" /
                                    "meta-llama--Meta-Llama-3.1-8B_config.json")
    return Deployment.of(catalog, model=model, architecture=arch, gpu=catalog.gpus["H200-SXM"],
                         quant=catalog.quantizations["fp8"], engine=catalog.engines["sglang"], gpus=gpus)


def test_the_host_adds_its_time_per_running_request_to_each_step(catalog):
    """One user: TPOT is the step, and the host's part of it one request's worth, exactly. 64 users with
    one-token prompts (no prompt stalls them): 64 requests' worth."""
    d = _llama8b(catalog)
    sched = scheduler_for("sglang", 141)
    none = replace(sched, host_per_sequence_s=0.0)
    host = replace(sched, host_per_sequence_s=28e-6)
    for users, prompt in ((1, 1000), (64, 1)):
        w = Workload(users, prompt, 4000)
        _, without = serve(d, w, none)
        _, with_host = serve(d, w, host)
        assert with_host.tpot_s - without.tpot_s == pytest.approx(users * 28e-6, rel=0.01)
    assert SCHEDULERS["sglang"].host_per_sequence_s == 28e-6 and SCHEDULERS["vllm"].host_per_sequence_s == 0


def test_each_attention_group_handles_its_own_requests(catalog):
    """With 8 data-parallel attention groups each scheduler steps an eighth of the requests."""
    from dsadvisor.physics.estimate import pin_layout

    from .test_serving import deployment

    d = pin_layout(deployment(catalog, "deepseek-r1", "H200-SXM", "sglang", "fp8", gpus=8), dp_attention=8)
    sched = scheduler_for("sglang", 141)
    w = Workload(64, 1, 2000)
    _, without = serve(d, w, replace(sched, host_per_sequence_s=0.0))
    _, with_host = serve(d, w, sched)
    assert with_host.tpot_s - without.tpot_s == pytest.approx(8 * 28e-6, rel=0.02)


def test_dp_attention_splits_the_prefill_chunk_over_the_groups(catalog):
    """SGLang divides --chunked-prefill-size by the DP size under --enable-dp-attention (server_args.py
    _handle_data_parallelism): 8 groups of an 8,192-token chunk prefill 1,024 tokens each a forward, so a
    4,000-token prompt takes 4 forwards, each of which also carries the other groups' decode step. The
    prompt waits 3 such forwards longer than with the budget whole in every group; one group (no DP
    attention) and the other engines are unchanged."""
    from dsadvisor.physics.estimate import pin_layout
    from dsadvisor.serving.server import dp_chunk_forwards_s

    from .test_serving import deployment

    sched = scheduler_for("sglang", 141)
    assert sched.group_budget(8) == 1024 and sched.group_budget(1) == 8192
    assert SCHEDULERS["vllm"].group_budget(8) == SCHEDULERS["vllm"].token_budget
    assert dp_chunk_forwards_s(sched, 8, 4000, 0.05) == pytest.approx(3 * 0.05)
    assert dp_chunk_forwards_s(sched, 1, 20000, 0.05) == 0.0
    d = pin_layout(deployment(catalog, "deepseek-r1", "H200-SXM", "sglang", "fp8", gpus=8), dp_attention=8)
    w = Workload(64, 4000, 1000)
    _, split = serve(d, w, sched)
    _, whole = serve(d, w, replace(sched, splits_budget_over_dp=False))
    assert split.ttft_s > whole.ttft_s + 2 * split.tpot_s
    tp = deployment(catalog, "deepseek-r1", "H200-SXM", "sglang", "fp8", gpus=8)
    assert serve(tp, w, sched)[1] == serve(tp, w, replace(sched, splits_budget_over_dp=False))[1]


def test_a_dp_attention_plan_says_how_sglang_splits_the_chunk(run):
    """The plan pins the server-wide chunk and says what each rank gets of it, the figure the estimate used."""
    r = run("plan", "deepseek-r1", "--gpu", "H200-SXM", "--gpus", "8", "--exact", "--quant", "fp8", "--engine",
            "sglang", "--prompt-tokens", "2048", "--context", "2560", "--concurrency", "64", "--tp", "8",
            "--dp-attention", "8")
    assert r.code == 0
    assert "--chunked-prefill-size 8192" in r.out
    assert "each of the 8 ranks prefills 1,024 prompt tokens a forward" in r.out + r.err
    r = run("plan", "deepseek-r1", "--gpu", "H200-SXM", "--gpus", "8", "--exact", "--quant", "fp8", "--engine",
            "sglang", "--prompt-tokens", "2048", "--context", "2560", "--concurrency", "64", "--tp", "8")
    assert r.code == 0 and "divides --chunked-prefill-size" not in r.out + r.err


def test_sglang_schedules_a_batch_ahead_except_with_mtp(catalog):
    """event_loop_overlap launches batch N + 1 before it processes N, so a new request waits a whole step more;
    SGLang 0.5.x turns the overlap off for EAGLE/MTP drafts, so an MTP layout does not."""
    from dsadvisor.physics.estimate import pin_layout

    from .test_serving import deployment

    sched = scheduler_for("sglang", 141)
    assert sched.scheduled_ahead == 1 and sched.speculation_stops_overlap
    base = deployment(catalog, "deepseek-r1", "H200-SXM", "sglang", "fp8", gpus=8)
    w = Workload(32, 1000, 1000)
    plain = pin_layout(base, tp=8)
    _, ahead = serve(plain, w, sched)
    _, none = serve(plain, w, replace(sched, scheduled_ahead=0))
    assert ahead.ttft_s - none.ttft_s == pytest.approx(31 / 32 * ahead.tpot_s * (1 - ahead.prefill_share * 31 / 32),
                                                      rel=0.15)
    mtp = pin_layout(base, tp=8, mtp=3)
    assert serve(mtp, w, sched)[1] == serve(mtp, w, replace(sched, scheduled_ahead=0))[1]


def test_a_request_waits_half_the_receive_interval():
    """--scheduler-recv-interval N: the scheduler polls for new requests every N decode steps; a request
    arriving at random waits N / 2 steps (with another user running: (r - 1) / r of that)."""
    step = 0.02
    assert _queue_s(0.0, 0.0, 0.1, step, 2, 0.0) == pytest.approx(0.5 * step / 2)
    assert _queue_s(0.0, 0.0, 0.1, step, 2, 0.0, recv=30) == pytest.approx(0.5 * step * 30 / 2)


def test_sglang_runs_are_read_as_launched(catalog, serving_calibration):
    """InferenceX's B200 script: fp8 KV, 32K chunk, receive every 30 steps from 16 users; its H200 script
    sets no KV dtype (16 bits for R1/V3); the gap-analysis Llama runs keep SGLang's defaults."""
    module = serving_calibration
    b200, h200 = catalog.gpus["B200"], catalog.gpus["H200-SXM"]
    row = dict(source_kind="db_dump", system="b200_sxm", concurrency=16)
    kv, sched = module.sglang_as_run(row, b200, 8, "fp8-kv")
    assert (kv, sched.token_budget, sched.recv_interval) == ("fp8-kv", 32768, 30)
    assert module.sglang_as_run({**row, "concurrency": 8}, b200, 8, "fp8-kv")[1].recv_interval == 10
    assert module.sglang_as_run({**row, "system": "h200_sxm"}, h200, 8, "fp8-kv")[0] == "auto"
    kv, sched = module.sglang_as_run({**row, "source_kind": "gap_analysis_csv", "system": "h200_sxm"}, h200, 2, "fp8-kv")
    assert (kv, sched.token_budget, sched.recv_interval) == ("auto", 8192, 1)
    # InferenceX's NVFP4 script (dsr1_fp4_b200.sh, which dsr1_fp4_b300.sh copies): a 16K chunk and the receive
    # interval by users at every TP, where the FP8 script gives TP 4 an 8K chunk and a receive interval of 10
    fp4 = {**row, "gemm_quant_mode": "nvfp4"}
    for tp in (4, 8):
        kv, sched = module.sglang_as_run(fp4, b200, tp, "fp8-kv")
        assert (kv, sched.token_budget, sched.recv_interval) == ("fp8-kv", 16384, 30)
        assert module.sglang_as_run({**fp4, "concurrency": 8}, b200, tp, "fp8-kv")[1].recv_interval == 10
    fp8_tp4 = module.sglang_as_run(row, b200, 4, "fp8-kv")[1]
    assert (fp8_tp4.token_budget, fp8_tp4.recv_interval) == (8192, 10)


def test_sglang_against_nvidias_served_runs(catalog, serving_calibration):
    """SGLang's rows of aiconfigurator's silicon_sample. The host time per request was fitted on the fit
    part; the held-out part set nothing. Before these mechanisms TPOT within 20 % was 73 % (fit) and 2 %
    (held-out); the floors sit just under today's 85 % / 60 % so a regression fails. The 94 B200/B300 NVFP4
    runs (all in the fit part, compared since SGLang runs nvfp4; nothing was fitted on them) keep their own
    floor, just under their 61 %, so they neither hide nor excuse a regression in the others."""
    rows, _ = serving_calibration.compare_rows(catalog)
    share = {}
    for split, fp4 in (("fit", False), ("holdout", False), ("fit", True)):
        part = [r for r in rows if r["split"] == split and r["engine"] == "sglang" and ("_fp4_" in r["id"]) == fp4]
        share[split, fp4] = sum(abs(r["tpot_ratio"] - 1) <= 0.20 for r in part) / len(part)
    assert share["fit", False] >= 0.83
    assert share["holdout", False] >= 0.55
    assert share["fit", True] >= 0.58


def test_sglang_ttft_against_nvidias_served_runs(catalog, serving_calibration):
    """SGLang's TTFT within 25 %: fit 36.6 % (63 of 172; 33.1 % before InferenceX's NVFP4 runs were read with
    their own script's chunk and receive interval), held-out 15.0 % (6 of 40). The floors sit just under, so a
    regression fails; the issue's 70 % is far off (docs/method.md, "Serving under load": NVIDIA's gap-analysis
    clients, InferenceX's cold B200 NVFP4 runs of 2025-11 and the B300 prompt path)."""
    rows, _ = serving_calibration.compare_rows(catalog)
    share = {}
    for split in ("fit", "holdout"):
        part = [r for r in rows if r["split"] == split and r["engine"] == "sglang"]
        share[split] = sum(abs(r["ttft_ratio"] - 1) <= 0.25 for r in part) / len(part)
    assert share["fit"] >= 0.36
    assert share["holdout"] >= 0.14


def test_sglang_serves_nvidias_fp4_checkpoint_on_blackwell(run):
    """SGLang runs ModelOpt NVFP4 on Blackwell (--quantization modelopt_fp4, as the InferenceX B200 DeepSeek-R1
    FP4 scripts launch it); before, the catalog said it did not, and --engine sglang --quant nvfp4 was refused."""
    r = run("plan", "deepseek-r1", "--gpu", "B200", "--gpus", "8", "--quant", "nvfp4", "--engine", "sglang",
            "-f", "json")
    command = r.json()["commands"][0]
    assert "--model-path nvidia/DeepSeek-R1-FP4 " in command and "--quantization modelopt_fp4" in command


def test_sglang_nvfp4_on_hopper_is_bad_input_with_the_reason(run):
    """An H100 has no fp4 tensor cores: a format no engine runs there is one line and exit 2 (docs/cli.md)."""
    r = run("plan", "deepseek-r1", "--gpu", "H100", "--gpus", "8", "--quant", "nvfp4", "--engine", "sglang")
    assert r.code == 2 and r.out == ""
    line, = r.err.strip().splitlines()
    assert "no engine runs nvfp4 weights on H100-SXM" in line and "fp4 hardware support" in line


def test_the_groups_table_counts_every_run_once(catalog, serving_calibration):
    """``serving_calibration.py --groups sglang``: the groups' runs and TTFT hits add up to the engine's rows."""
    rows, _ = serving_calibration.compare_rows(catalog)
    lines = serving_calibration.group_lines(rows, "sglang")
    counts = [line.split()[-4:-1] for line in lines[1:]]
    mine = [r for r in rows if r["engine"] == "sglang"]
    assert sum(int(c[0]) for c in counts) == len(mine) > 0
    assert sum(int(c[1]) for c in counts) == sum(abs(r["ttft_ratio"] - 1) <= 0.25 for r in mine)
    assert sum(int(c[2]) for c in counts) == sum(abs(r["tpot_ratio"] - 1) <= 0.20 for r in mine)
