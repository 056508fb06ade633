"""SGLang's server behaviour under load (docs/method.md, "Serving under load"): the defaults it sizes
by GPU memory, decode steps above the CUDA-graph capture size, the scheduler's receive interval, and
the accuracy against NVIDIA's served runs that these mechanisms reach."""

from __future__ import annotations

import importlib.util
from dataclasses import replace

import pytest

from dsadvisor.physics.estimate import Deployment
from dsadvisor.serving.scheduler import SCHEDULERS, scheduler_for, sglang_defaults
from dsadvisor.serving.server import _queue_s, serve
from dsadvisor.serving.workload import Workload

from .conftest import ROOT


@pytest.mark.parametrize("memory_gb,tp,expected", [
    (141, 1, (8192, 256)),  # H200, TP < 4
    (141, 8, (8192, 512)),
    (80, 2, (8192, 256)),  # H100
    (180, 1, (16384, 512)),  # B200: more memory, a larger chunk and the full capture size at any TP
    (288, 4, (16384, 512)),  # B300
    (48, 1, (4096, 32)),  # L40S
    (48, 4, (4096, 160)),
    (24, 4, (2048, 80)),  # RTX 4090
    (16, 1, (2048, 8)),
])
def test_sglang_sizes_its_chunk_and_graphs_by_gpu_memory(memory_gb, tp, expected):
    """server_args.py _handle_gpu_memory_settings (SGLang 0.5.x): chunked_prefill_size, cuda_graph_max_bs."""
    assert sglang_defaults(memory_gb, tp) == expected
    sched = scheduler_for("sglang", memory_gb, tp)
    assert (sched.token_budget, sched.graph_max_batch) == expected
    assert scheduler_for("vllm", memory_gb, tp) == SCHEDULERS["vllm"]  # other engines are not sized here


def _llama8b(catalog, gpus=1) -> Deployment:
    from dsadvisor.catalog.resolve import model_from_config

    model, arch = model_from_config(ROOT / "benchmarks" / "data" / "aiconfigurator" / "model_configs" /
                                    "meta-llama--Meta-Llama-3.1-8B_config.json")
    return Deployment.of(catalog, model=model, architecture=arch, gpu=catalog.gpus["H200-SXM"],
                         quant=catalog.quantizations["fp8"], engine=catalog.engines["sglang"], gpus=gpus)


def test_a_decode_batch_above_the_capture_size_pays_each_layer_eagerly(catalog):
    """One user (no other prompt stalls it): TPOT is the step; with the step run eagerly it grows by the
    32 layers x the eager cost per layer, exactly."""
    d, w = _llama8b(catalog), Workload(1, 1000, 1000)
    graphed = replace(scheduler_for("sglang", 141, 1), eager_layer_s=2.7e-4)
    eager = replace(graphed, graph_max_batch=0)
    _, g = serve(d, w, graphed)
    _, e = serve(d, w, eager)
    assert e.tpot_s - g.tpot_s == pytest.approx(32 * 2.7e-4, rel=1e-9)


def test_more_users_than_sglangs_capture_size_run_eagerly_by_default(catalog):
    """H200 at TP 1 captures graphs up to 256 running requests: 257 users take a slower step than 256 by
    more than one more sequence adds."""
    d = _llama8b(catalog)
    _, at_256 = serve(d, Workload(256, 1000, 4000))
    _, at_257 = serve(d, Workload(257, 1000, 4000))
    _, at_255 = serve(d, Workload(255, 1000, 4000))
    one_more = at_256.tpot_s - at_255.tpot_s
    assert at_257.tpot_s - at_256.tpot_s > 32 * SCHEDULERS["sglang"].eager_layer_s * 0.9 > 20 * one_more


def test_a_request_waits_half_the_receive_interval():
    """--scheduler-recv-interval N: the scheduler polls for new requests every N decode steps; a request
    arriving at random waits N / 2 steps (with another user running: (r - 1) / r of that)."""
    step = 0.02
    assert _queue_s(0.0, 0.0, 0.1, step, 2, 0.0) == pytest.approx(0.5 * step / 2)
    assert _queue_s(0.0, 0.0, 0.1, step, 2, 0.0, recv=30) == pytest.approx(0.5 * step * 30 / 2)


def _calibration():
    spec = importlib.util.spec_from_file_location("serving_calibration", ROOT / "benchmarks" / "serving_calibration.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sglang_runs_are_read_as_launched(catalog):
    """InferenceX's B200 script: fp8 KV, 32K chunk, receive every 30 steps from 16 users; its H200 script
    sets no KV dtype (16 bits for R1/V3); the gap-analysis Llama runs keep SGLang's defaults."""
    module = _calibration()
    b200, h200 = catalog.gpus["B200"], catalog.gpus["H200-SXM"]
    row = dict(source_kind="db_dump", system="b200_sxm", concurrency=16)
    kv, sched = module.sglang_as_run(row, b200, 8, "fp8-kv")
    assert (kv, sched.token_budget, sched.recv_interval) == ("fp8-kv", 32768, 30)
    assert module.sglang_as_run({**row, "concurrency": 8}, b200, 8, "fp8-kv")[1].recv_interval == 10
    assert module.sglang_as_run({**row, "system": "h200_sxm"}, h200, 8, "fp8-kv")[0] == "auto"
    kv, sched = module.sglang_as_run({**row, "source_kind": "gap_analysis_csv", "system": "h200_sxm"}, h200, 2, "fp8-kv")
    assert (kv, sched.token_budget, sched.graph_max_batch, sched.recv_interval) == ("auto", 8192, 256, 1)


def test_sglang_against_nvidias_served_runs(catalog):
    """SGLang's rows of aiconfigurator's silicon_sample. The eager cost per layer was fitted on the fit
    part; the held-out part set nothing. Before these mechanisms TPOT within 20 % was 73 % (fit) and 2 %
    (held-out); the floors sit just under today's 82 % / 22 % so a regression fails."""
    rows, _ = _calibration().compare_rows(catalog)
    share = {}
    for split in ("fit", "holdout"):
        part = [r for r in rows if r["split"] == split and r["engine"] == "sglang"]
        share[split] = sum(abs(r["tpot_ratio"] - 1) <= 0.20 for r in part) / len(part)
    assert share["fit"] >= 0.80
    assert share["holdout"] >= 0.20
