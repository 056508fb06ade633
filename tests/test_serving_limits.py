"""What `estimate` and `layouts` say when the workload or the limits cannot be served: the largest
concurrency the KV cache runs at once, the smallest TTFT and TPOT any layout reaches, and a layout the
engine cannot launch (the CLI's lines and exit codes are in docs/gen_bad_input.py's table)."""

from __future__ import annotations

from dsadvisor.physics.estimate import Deployment
from dsadvisor.serving.search import Limits, search
from dsadvisor.serving.server import serve
from dsadvisor.serving.workload import Workload


def r1(catalog, engine="sglang") -> Deployment:
    return Deployment.of(catalog, model=catalog.model("deepseek-r1"), gpu=catalog.gpus["H200-SXM"],
                         quant=catalog.quantizations["fp8"], engine=catalog.engines[engine], gpus=8)


def test_unmet_limits_name_the_smallest_ttft_and_tpot_reachable(catalog):
    found = search(r1(catalog), 2048, 512, Limits(max_ttft_s=0.01, max_tpot_s=0.002))
    assert found.best is None
    fastest = min(p.serving.ttft_s for p in found.points)
    quickest = min(p.serving.tpot_s for p in found.points)
    line = found.unmet()
    assert f"the smallest TTFT reachable is {fastest:.3g} s" in line
    assert f"the smallest TPOT {quickest * 1e3:.3g} ms" in line
    assert "\n" not in line


def test_limits_met_say_nothing(catalog):
    assert search(r1(catalog), 2048, 512, Limits(max_ttft_s=5, max_tpot_s=0.1)).unmet() is None
    assert search(r1(catalog), 2048, 512).unmet() is None  # no limits: nothing to miss


def test_the_shortfall_names_the_concurrency_that_runs(catalog):
    _, s = serve(r1(catalog), Workload(100_000, 2048, 6144))
    assert 0 < s.running < 100_000
    assert f"--concurrency {s.running:,} runs them all" in s.shortfall()
    _, at_most = serve(r1(catalog), Workload(s.running, 2048, 6144))
    assert at_most.running == s.running and at_most.limited_by is None  # that many run without a queue


def test_not_one_request_says_so(catalog):
    _, s = serve(r1(catalog), Workload(1, 2048, 998_000))
    assert s.running == 0 and "not one request of 1,000,048 tokens fits" in s.shortfall()


def test_layouts_leave_out_what_the_engine_cannot_launch(catalog):
    # TensorRT-LLM's enable_attention_dp spans all tp ranks: attention groups are 1 or tp, never between
    found = search(r1(catalog, "tensorrt-llm"), 2048, 512)
    assert all(p.layout.dp_attention in (1, p.layout.tp) for p in found.points)
    assert any(p.layout.dp_attention == 8 for p in found.points)
    sglang = search(r1(catalog), 2048, 512)  # SGLang runs any divisor of tp
    assert any(1 < p.layout.dp_attention < p.layout.tp for p in sglang.points)


def test_estimate_says_how_many_run_at_once(run):
    # a question, not an error: exit 0 and a quiet stderr; the table's first note names the concurrency that
    # runs without a queue (plan --exact-concurrency is the gate that exits 1 on it)
    r = run("estimate", "deepseek-r1", "--gpu", "H200", "--gpus", "8", "--quant", "fp8", "--engine", "sglang",
            "--concurrency", "100000")
    assert r.code == 0 and r.err == ""
    line = next(line for line in r.out.splitlines() if line.startswith("under load: "))
    assert "of the 100,000 requests at once" in line and "runs them all" in line
