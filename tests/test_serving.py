"""The server model: per-request TTFT and TPOT under a closed loop of concurrent requests."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from hypothesis import given, settings, strategies as st

from dsadvisor.errors import InputError
from dsadvisor.physics.estimate import Deployment, estimate
from dsadvisor.serving.scheduler import SCHEDULERS, Scheduler
from dsadvisor.serving.server import COHORT, serve, steady_state
from dsadvisor.serving.server import tokenizer_queue_s as server_tokenizer_wait
from dsadvisor.serving.workload import Workload

MIXED = Scheduler("test", token_budget=8192, mixes_prefill=True, per_request_s=0.0, max_running=1024, source="t")
ALONE = replace(MIXED, mixes_prefill=False)


def deployment(catalog, model="deepseek-r1-distill-qwen-7b", gpu="H100-SXM", engine="vllm", quant="bf16", gpus=1):
    return Deployment.of(catalog, model=catalog.model(model), gpu=catalog.gpus[gpu],
                         quant=catalog.quantizations[quant], engine=catalog.engines[engine], gpus=gpus)


def test_one_request_alone_is_the_single_prompt_estimate(catalog):
    """Nobody else runs: no queue, no batch scheduled ahead, no interference; TTFT = the engine's cost per
    request (vLLM: 28 ms + 9.4 us a prompt token tokenizing) + its prefill, TPOT = a batch-1 step."""
    d = deployment(catalog)
    w = Workload(1, 1024, 512)
    _, s = serve(d, w)
    one = estimate(replace(d, batch=1, context=w.context, prompt_tokens=1024))
    step = estimate(replace(d, batch=1, context=w.mean_context, prompt_tokens=1024)).decode_step_s
    assert SCHEDULERS["vllm"].per_request_s == 0.028 and SCHEDULERS["vllm"].scheduled_ahead == 1
    assert s.ttft_s == pytest.approx(0.028 + 1024 * 9.4e-6 + one.ttft_single_s)
    assert s.tpot_s == pytest.approx(step)
    assert s.queue_s == 0 and s.running == 1 and s.limited_by is None
    assert s.tokens_per_s_total == pytest.approx(512 / (s.ttft_s + 511 * s.tpot_s))


def test_steady_state_by_hand():
    """Two requests, p1 = p = 0.1 s, step 0.01 s, 100 tokens out, prefill alone (no chunks).

    rho = 2 p / (TTFT + 99 TPOT); TPOT = step / (1 - rho / 2);
    TTFT = step / 4 + COHORT * p / 2 + (1 - COHORT) * min(rho/2 * p / (2 (1 - rho)), p) + p1.
    Solved here by bisection on rho, independently of the module's fixed-point loop."""
    p1 = p = 0.1
    step, osl = 0.01, 100

    def residual(rho):
        tpot = step / (1 - rho / 2)
        ttft = step / 4 + COHORT * p / 2 + (1 - COHORT) * min(rho / 2 * p / (2 * (1 - rho)), p) + p1
        return rho - 2 * p / (ttft + (osl - 1) * tpot), ttft, tpot

    lo, hi = 0.0, 0.9
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if residual(mid)[0] < 0 else (lo, mid)
    _, ttft, tpot = residual(lo)
    s = steady_state(p1, p, step, Workload(2, 1000, osl), 2, ALONE, kv=0.0, limit=None)
    assert s.prefill_share == pytest.approx(lo, rel=1e-5)
    assert s.ttft_s == pytest.approx(ttft, rel=1e-6)
    assert s.tpot_s == pytest.approx(tpot, rel=1e-6)
    assert 0.1 < lo < 0.2  # 2 x 0.1 s of prompts per ~1.2 s cycle


def test_a_batch_scheduled_ahead_costs_a_whole_step_by_hand():
    """Four users, prompts prefilled alone, lock step (every prompt ahead): p1 = p = 0.1 s, step 0.02 s.
    Synchronous: a request waits 3/4 x half a step for the iteration in progress, 3/2 x p for the prompts
    ahead, then its own prefill. One batch scheduled ahead (vLLM's async scheduling, TensorRT-LLM's
    overlap scheduler) adds that batch: 3/4 x a whole step. rho does not enter with in_step = 1."""
    w = Workload(4, 1000, 100, in_step=1.0)
    sync = steady_state(0.1, 0.1, 0.02, w, 4, ALONE, kv=0.0, limit=None)
    ahead = steady_state(0.1, 0.1, 0.02, w, 4, replace(ALONE, scheduled_ahead=1), kv=0.0, limit=None)
    assert sync.ttft_s == pytest.approx(0.75 * 0.01 + 1.5 * 0.1 + 0.1)
    assert ahead.ttft_s == pytest.approx(0.75 * 0.03 + 1.5 * 0.1 + 0.1)
    assert ahead.tpot_s == pytest.approx(sync.tpot_s, rel=0.05)  # only the prompt share moves, a little
    alone = Workload(1, 1000, 100)
    assert steady_state(0.1, 0.1, 0.02, alone, 1, replace(ALONE, scheduled_ahead=1), kv=0.0, limit=None).ttft_s \
        == pytest.approx(0.1)  # nothing runs: the engine is idle and takes it at once


def test_engines_that_schedule_ahead():
    """vLLM (async scheduling), TensorRT-LLM and SGLang (overlap schedulers) run one batch scheduled ahead
    (SGLang none with MTP drafts: tests/test_sglang_served.py); the others' figures are unchanged by it."""
    assert all(SCHEDULERS[e].scheduled_ahead == 1 for e in ("vllm", "tensorrt-llm", "sglang"))
    assert all(SCHEDULERS[e].scheduled_ahead == 0 for e in ("llama.cpp", "ollama", "transformers"))


def test_chunked_prompt_carries_the_others_decode():
    """A 20,000-token prompt with an 8,192-token budget takes 3 iterations; mixed into decode, the
    2 beyond the first each add a decode step to its TTFT."""
    w = Workload(1, 20_000, 10)
    mixed = steady_state(1.0, 1.0, 0.05, w, 1, MIXED, kv=0.0, limit=None)
    alone = steady_state(1.0, 1.0, 0.05, w, 1, ALONE, kv=0.0, limit=None)
    assert mixed.ttft_s - alone.ttft_s == pytest.approx(2 * 0.05)


def test_requests_beyond_the_kv_cache_wait_for_a_slot(catalog):
    """R1 FP8 on 8 x H200 with 128 users of 16K prompts: the replicated MLA cache holds ~28, the rest
    queue. Little's law: the R running requests finish at the rate R / S, S being a request's time at
    concurrency R; so at concurrency C each request's whole cycle is S x C / R."""
    d = deployment(catalog, "deepseek-r1", "H200-SXM", "sglang", "fp8", gpus=8)
    w = Workload(128, 16384, 1024)
    _, s = serve(d, w)
    assert s.limited_by == "kv-cache"
    assert 1 <= s.running < 128
    _, alone = serve(d, replace(w, concurrency=s.running))
    assert alone.running == s.running and alone.limited_by is None
    service = alone.ttft_s + (w.output_tokens - 1) * alone.tpot_s
    cycle = s.ttft_s + (w.output_tokens - 1) * s.tpot_s
    assert cycle == pytest.approx(service * 128 / s.running)
    assert s.tokens_per_s_total == pytest.approx(alone.tokens_per_s_total)  # queued users add no throughput
    assert s.queue_s > 0.5 * s.ttft_s  # most of the wait is for a slot


def test_more_users_never_speed_up_a_request(catalog):
    d = deployment(catalog)
    figures = [serve(d, Workload(c, 2048, 512))[1] for c in (1, 2, 8, 32, 128)]
    tpots = [s.tpot_s for s in figures]
    ttfts = [s.ttft_s for s in figures]
    totals = [s.tokens_per_s_total for s in figures]
    assert tpots == sorted(tpots) and ttfts == sorted(ttfts)
    assert totals[-1] > 10 * totals[0]  # batching is why servers batch


@settings(max_examples=60, deadline=None)
@given(p1=st.floats(1e-4, 10), ratio=st.floats(0.05, 1), step=st.floats(1e-4, 1), c=st.integers(1, 4096),
       isl=st.integers(1, 200_000), osl=st.integers(1, 50_000), mixed=st.booleans())
def test_steady_state_is_finite_and_ordered(p1, ratio, step, c, isl, osl, mixed):
    s = steady_state(p1, p1 * ratio, step, Workload(c, isl, osl), c, MIXED if mixed else ALONE, kv=0.0, limit=None)
    assert math.isfinite(s.ttft_s) and math.isfinite(s.tpot_s)
    assert s.tpot_s >= step * (1 - 1e-12)
    assert s.ttft_s >= p1 * (1 - 1e-12)
    assert 0 <= s.prefill_share <= 0.98


def test_workload_rejects_nonsense():
    with pytest.raises(InputError, match="--concurrency"):
        Workload(0, 10, 10)
    with pytest.raises(InputError, match="between 0 and 1"):
        Workload(4, 10, 10, in_step=1.5)
    assert Workload(3, 100, 50).context == 150


def test_users_in_lock_step_wait_for_half_of_the_others_prompts():
    """8 users, prompts of p = 0.1 s alone (no chunks), a 10 ms step, 1,000 tokens out. All in step,
    each waits for (8 - 1) / 2 prompts; none in step, only the M/D/1 wait, which is smaller at this
    load; the default (a benchmark's first wave, COHORT = 0.1) lies between."""
    p, step = 0.1, 0.01

    def ttft(in_step):
        return steady_state(p, p, step, Workload(8, 1000, 1000, in_step=in_step), 8, ALONE, kv=0.0, limit=None)

    together, apart, default = ttft(1.0), ttft(0.0), ttft(None)
    assert together.queue_s == pytest.approx(7 / 8 * step / 2 + 3.5 * p)
    assert apart.queue_s < together.queue_s / 5
    assert apart.ttft_s < default.ttft_s < together.ttft_s
    assert COHORT == 0.1


def test_moe_layers_add_their_prefill_cost_once_a_pass(catalog):
    """R1 has 61 layers, the first 3 dense: 58 MoE layers x 2.5 ms = 145 ms on each prefill pass
    (engines.yaml per_moe_layer_prefill_s), for one prompt as for a batch of them; a dense model pays none."""
    r1 = replace(deployment(catalog, "deepseek-r1", "H200-SXM", "sglang", "fp8", gpus=8),
                 context=2048, prompt_tokens=1024)
    speed = r1.engine.speed
    assert speed.per_moe_layer_prefill_s == 2.5e-3
    bare = replace(r1, engine=replace(r1.engine, speed=replace(speed, per_moe_layer_prefill_s=0.0)))
    for batch in (1, 4):
        with_cost, without = estimate(replace(r1, batch=batch)), estimate(replace(bare, batch=batch))
        assert with_cost.ttft_s - without.ttft_s == pytest.approx(58 * 2.5e-3)
    dense = deployment(catalog)
    no_cost = replace(dense, engine=replace(dense.engine, speed=replace(dense.engine.speed,
                                                                        per_moe_layer_prefill_s=0.0)))
    assert estimate(dense).ttft_s == estimate(no_cost).ttft_s


def test_every_engine_has_a_scheduler_with_a_source(catalog):
    assert set(catalog.engines) <= set(SCHEDULERS)
    assert all(len(s.source) > 20 for s in SCHEDULERS.values())


def test_estimate_json_carries_serving_figures(run):
    out = run("estimate", "deepseek-r1-distill-qwen-7b", "--gpu", "H100", "--concurrency", "16",
              "--context", "3072", "--prompt-tokens", "2048", "-f", "json").json()
    s = out["serving"]
    assert (s["concurrency"], s["prompt_tokens"], s["output_tokens"]) == (16, 2048, 1024)
    assert s["tokens_per_s_per_user"] == pytest.approx(1 / s["tpot_s"])
    assert s["tokens_per_s_total"] > 8 * s["tokens_per_s_per_user"] * 0.5
    assert s["ttft_s"] > out["latency"]["ttft_single_s"]  # the others' prompts queue ahead
    legacy = run("estimate", "deepseek-r1-distill-qwen-7b", "--gpu", "H100", "--batch", "16",
                 "--context", "3072", "--prompt-tokens", "2048", "-f", "json").json()
    assert legacy["serving"] == s  # --batch is the old name of --concurrency


def test_estimate_table_says_what_waits(run):
    out = run("estimate", "deepseek-r1", "--gpu", "H200", "--gpus", "8", "--quant", "fp8", "--engine", "sglang",
              "--concurrency", "128", "--context", "17408", "--prompt-tokens", "16384").out
    assert "128 requests in flight" in out and "kv-cache holds no more" in out


def test_against_nvidia_served_runs(catalog, serving_calibration):
    """aiconfigurator's silicon_sample, aggregated runs dsadvisor can build: the fit part set the
    per-request and MoE-layer prefill costs, the held-out part did not. Bounds sit below today's
    figures (docs/method.md: TTFT within 25% on 41.2% fit / 41.6% held-out) so a regression shows;
    the issue's targets (TTFT within 25% on 70%, TPOT within 20% on 80%) are not met yet."""
    rows, _ = serving_calibration.compare_rows(catalog)
    for split in ("fit", "holdout"):
        part = [r for r in rows if r["split"] == split]
        assert len(part) >= 100
        ttft = sorted(r["ttft_ratio"] for r in part)
        tpot = [abs(r["tpot_ratio"] - 1) <= 0.20 for r in part]
        assert 0.6 <= ttft[len(ttft) // 2] <= 1.6, split
        assert sum(abs(x - 1) <= 0.25 for x in ttft) / len(ttft) >= 0.38, split
        # 0.62: per-engine decode constants (all-reduce and MoE kernels from NVIDIA's kernel tables, the per-layer
        # cost from the fit part) and the squared layouts read as run took TPOT within 20 % from 52 % / 44 %
        # (fit / held-out) to 71 % / 69 %; the bound leaves room for the server model's interference terms
        assert sum(tpot) / len(tpot) >= 0.62, split


def test_dp_attention_splits_the_mla_cache_by_requests(catalog):
    """R1 FP8 on 8 x H200, 128 users at 16K: with TP the latent cache is replicated on every GPU
    (each holds all 128 requests' KV); with 8 attention groups each GPU holds 16 requests' KV and
    the whole attention weights (the rest of the model split 8 ways)."""
    from dsadvisor.physics.estimate import pin_layout
    from dsadvisor.physics.memory import kv_bytes_per_token
    from dsadvisor.physics.params import count_params

    d = replace(deployment(catalog, "deepseek-r1", "H200-SXM", "sglang", "fp8", gpus=8),
                batch=128, context=17408, prompt_tokens=16384)
    tp = estimate(d)
    dp = estimate(pin_layout(d, dp_attention=8))
    arch = catalog.architecture(catalog.model("deepseek-r1"))
    per_token = kv_bytes_per_token(arch, 2.0)  # bf16 latent + rope key, all 61 layers
    assert per_token == 61 * (512 + 64) * 2
    assert tp.memory.kv_cache == pytest.approx(per_token * 17408 * 128)
    assert dp.memory.kv_cache == pytest.approx(per_token * 17408 * 128 / 8)
    attention = count_params(arch).attention * 1.0  # fp8: a byte a weight
    assert dp.memory.weights - tp.memory.weights == pytest.approx(attention * 7 / 8, rel=1e-6)
    assert not tp.memory.fits and dp.memory.fits
    assert dp.dp_attention == 8 and dp.as_dict()["deployment"]["data_parallel_attention"] == 8
    _, served = serve(pin_layout(d, dp_attention=8), Workload(128, 16384, 1024))
    assert served.running == 128 and served.limited_by is None


@pytest.mark.parametrize("pin,message", [
    (dict(dp_attention=3), "must divide"),
    (dict(tp=4), "is 4 GPUs, not --gpus 8"),
    (dict(dp_attention=8, engine="llama.cpp"), "llama.cpp"),
])
def test_a_layout_the_engine_or_model_cannot_run_says_why(catalog, pin, message):
    from dsadvisor.physics.estimate import pin_layout

    engine = pin.pop("engine", "sglang")
    d = deployment(catalog, "deepseek-r1", "H200-SXM", "vllm", "fp8", gpus=8)
    d = replace(d, engine=catalog.engines[engine])
    with pytest.raises(InputError, match=message):
        estimate(pin_layout(d, **pin))


def test_dense_models_get_no_dp_attention(catalog):
    from dsadvisor.physics.estimate import pin_layout

    d = deployment(catalog, "deepseek-r1-distill-llama-70b", "H100-SXM", "sglang", "fp8", gpus=8)
    with pytest.raises(InputError, match="mixture-of-experts"):
        estimate(pin_layout(d, dp_attention=8))


def test_estimate_cli_pins_a_layout(run):
    out = run("estimate", "deepseek-r1", "--gpu", "H200", "--tp", "8", "--dp-attention", "8", "--engine", "sglang",
              "--quant", "fp8", "-f", "json").json()
    dep = out["deployment"]
    assert (dep["gpus"], dep["tensor_parallel"], dep["data_parallel_attention"], dep["expert_parallel"]) == \
        (8, 8, 8, True)
    bad = run("estimate", "deepseek-r1", "--gpu", "H200", "--tp", "8", "--dp-attention", "3", "--engine", "sglang")
    assert bad.code == 2 and "must divide" in bad.err and bad.out == ""


# ----------------------------------------------------------------- work done (counts, not clocks)

DECODE_CASES = [  # model, gpu, engine, quant, gpus, batch, context, kv, pinned layout
    ("deepseek-r1-distill-qwen-7b", "H100-SXM", "vllm", "bf16", 1, 1, 5120, "auto", None),
    ("deepseek-r1-distill-qwen-14b", "A100-SXM-80GB", "llama.cpp", "q4_k_m", 1, 3, 3000, "auto", None),
    ("deepseek-r1-distill-qwen-32b", "RTX-4090", "llama.cpp", "q4_k_m", 2, 1, 8192, "q8_0", None),
    ("deepseek-v2-lite", "L40S", "vllm", "fp8", 1, 8, 4096, "fp8", None),
    ("deepseek-r1", "H200-SXM", "sglang", "fp8", 8, 128, 16384, "auto", dict(tp=8, dp_attention=8)),
    ("deepseek-v3", "H100-SXM", "tensorrt-llm", "fp8", 16, 32, 6000, "fp8", None),
    ("deepseek-r1-distill-llama-70b", "A100-SXM-80GB", "sglang", "awq-int4", 2, 16, 10000, "auto", None),
]


@pytest.mark.parametrize("model, gpu, engine, quant, gpus, batch, context, kv, pin", DECODE_CASES)
def test_a_decode_step_alone_is_the_estimates(catalog, model, gpu, engine, quant, gpus, batch, context, kv, pin):
    """``decode_step`` (what the server model asks at an answer's mean context) is exactly the full
    estimate's decode step: the same code, without the memory plan, prefill and notes."""
    from dsadvisor.physics.estimate import decode_step, pin_layout

    d = Deployment.of(catalog, model=catalog.model(model), gpu=catalog.gpus[gpu], quant=catalog.quantizations[quant],
                      engine=catalog.engines[engine], gpus=gpus, batch=batch, context=context, kv_dtype=kv)
    if pin:
        d = pin_layout(d, **pin)
    assert decode_step(d) == estimate(d).decode_step_s


@pytest.mark.parametrize("change", [dict(batch=0), dict(context=100, prompt_tokens=200), dict(kv_dtype="fp8")])
def test_a_decode_step_alone_refuses_what_the_estimate_refuses(catalog, change):
    from dsadvisor.physics.estimate import decode_step

    d = replace(deployment(catalog, model="deepseek-r1-distill-llama-70b"), **change)
    with pytest.raises(InputError) as full:
        estimate(d)
    with pytest.raises(InputError) as alone:
        decode_step(d)
    assert str(alone.value) == str(full.value)


def test_serving_figures_of_an_estimate_cost_no_second_estimate(catalog, monkeypatch):
    """recommend estimates each deployment once and serves that estimate (``serve_estimated``): at one
    request in flight the figures under load reuse it, and the step at the answer's mean context is a
    decode step alone. A count of full estimates per deployment judged, not a clock."""
    import dataclasses

    from dsadvisor.advice import model_search, search
    from dsadvisor.advice.rules import Constraints
    from dsadvisor.physics import estimate as physics
    from dsadvisor.serving import server

    counts = {"search": 0, "serving": 0, "judged": 0}

    def counting(where, real):
        def wrapped(*args, **kwargs):
            done = real(*args, **kwargs)
            counts[where] += 1  # made: a deployment that cannot be built raises and is not judged
            return done
        return wrapped

    monkeypatch.setattr(model_search, "estimate", counting("search", physics.estimate))
    monkeypatch.setattr(server, "estimate", counting("serving", physics.estimate))
    monkeypatch.setattr(model_search, "_judge", counting("judged", model_search._judge))
    fresh = dataclasses.replace(catalog, memo={})
    for gpu in ("A100-SXM-80GB", "RTX-4090"):
        counts.update(search=0, serving=0, judged=0)
        rec = search.recommend(fresh, [search.Hardware(fresh.gpus[gpu])], Constraints())
        assert rec.ranked and counts["judged"] > 20
        assert counts["serving"] == 0
        assert counts["search"] == counts["judged"]  # one estimate per deployment judged


def test_blackwell_matmuls_take_their_generation_s_measured_share(catalog):
    """linear_efficiency_by_dtype keyed by dtype and GPU generation ("fp8@10": compute capability 10.x)
    wins over the dtype alone: vLLM's fp8 GEMMs reach 0.49 of the B200's fp8 datasheet rate and 0.62 of
    the H200's (NVIDIA's GEMM tables); NVFP4 0.40 of the B200's fp4 rate on TensorRT-LLM."""
    from dsadvisor.physics.estimate import rates_for

    vllm, trt = catalog.engines["vllm"], catalog.engines["tensorrt-llm"]
    b200, h200 = catalog.gpus["B200"], catalog.gpus["H200-SXM"]
    fp8, nvfp4 = catalog.quantizations["fp8"], catalog.quantizations["nvfp4"]
    assert b200.compute_capability.startswith("10.") and h200.compute_capability == "9.0"
    assert rates_for(b200, vllm, fp8).linear_flops == pytest.approx(b200.fp8_tflops * 1e12 * 0.49)
    assert rates_for(h200, vllm, fp8).linear_flops == pytest.approx(h200.fp8_tflops * 1e12 * 0.62)
    assert rates_for(b200, trt, nvfp4).linear_flops == pytest.approx(b200.fp4_tflops * 1e12 * 0.40)


def test_dp_attention_runs_a_prompt_s_attention_on_its_own_group(catalog):
    """R1 FP8 on 8 x H200, one 8,192-token prompt: with 8 attention groups its attention (the MLA
    projections and the causal product) runs on one GPU instead of eight; the experts and the rest
    stay spread. So the prefill grows by 7/8 of those FLOPs at one GPU's rates (compute-bound here), and its
    traffic changes from two all-reduces a layer to an all-gather and a reduce-scatter a MoE layer
    (timing.moe_exchange_s, tests/test_moe_exchange.py)."""
    from dsadvisor.physics.estimate import pin_layout, rates_for
    from dsadvisor.physics.params import count_params, moe_layer_count
    from dsadvisor.physics.timing import Layout, _allreduce_s, moe_exchange_s, prefill_attention_flops

    d = replace(deployment(catalog, "deepseek-r1", "H200-SXM", "sglang", "fp8", gpus=8),
                context=9216, prompt_tokens=8192)
    arch = catalog.architecture(catalog.model("deepseek-r1"))
    rates = rates_for(d.gpu, d.engine, d.quant)
    projections = 2.0 * count_params(arch).attention * 8192
    expected = 7 / 8 * (projections / rates.linear_flops + prefill_attention_flops(arch, 1, 8192) / rates.attention_flops)
    tp_layout, dp_layout = Layout(tp=8), Layout(tp=8, dp_attention=8)
    expected += (moe_layer_count(arch) * moe_exchange_s(arch, dp_layout, rates, 8192, "fp8")
                 - _allreduce_s(arch.num_hidden_layers, 8192 * arch.hidden_size * 2, tp_layout, rates))
    tp, dp = estimate(pin_layout(d, dp_attention=1)), estimate(pin_layout(d, dp_attention=8))
    assert dp.ttft_single_s - tp.ttft_single_s == pytest.approx(expected, rel=1e-6)
    assert expected > 0.2  # the MLA product alone is ~0.3 s of one H200 at 8K tokens


def test_vllm_tokenizing_grows_with_the_prompt_not_the_gpus(catalog):
    """vLLM's API server tokenizes the prompt text on the host (scheduler.VLLM_TOKENIZE_S_PER_TOKEN): a request
    alone pays 9.4 us a prompt token on top of the GPU's prefill, the same at TP 1 and TP 8; TensorRT-LLM's
    server tokenizes faster (2.9 us), SGLang's cost has no per-token part."""
    from dsadvisor.serving.scheduler import TRTLLM_TOKENIZE_S_PER_TOKEN, VLLM_TOKENIZE_S_PER_TOKEN

    assert SCHEDULERS["vllm"].request_cost_s(8192) - SCHEDULERS["vllm"].request_cost_s(1024) == \
        pytest.approx(7168 * VLLM_TOKENIZE_S_PER_TOKEN)
    assert SCHEDULERS["tensorrt-llm"].request_cost_s(1000) == pytest.approx(0.024 + 1000 * TRTLLM_TOKENIZE_S_PER_TOKEN)
    assert SCHEDULERS["sglang"].request_cost_s(8192) == SCHEDULERS["sglang"].per_request_s
    for gpus in (1, 8):
        d = deployment(catalog, gpus=gpus)
        _, s = serve(d, Workload(1, 4096, 64))
        one = estimate(replace(d, batch=1, context=4096 + 64, prompt_tokens=4096))
        assert s.ttft_s - one.ttft_single_s == pytest.approx(0.028 + 4096 * VLLM_TOKENIZE_S_PER_TOKEN)


def test_prompts_arriving_together_queue_for_the_one_tokenizer():
    """All users in lock step (in_step 1): each waits for half of the others' tokenizing on top of the GPU's
    queue; without a per-token cost nothing changes; one user alone never waits."""
    tok = replace(MIXED, per_prompt_token_s=1e-5)
    w = Workload(9, 1000, 100, in_step=1.0)
    plain = steady_state(0.1, 0.05, 0.01, w, 9, MIXED, 0.0, None)
    tokenized = steady_state(0.1, 0.05, 0.01, w, 9, tok, 0.0, None)
    # own tokenizing 10 ms + half of the 8 others' 10 ms each; rho moves a little with the longer TTFT, and
    # with it the GPU's queue and TPOT: compare the queues apart
    assert tokenized.ttft_s - tokenized.queue_s - (plain.ttft_s - plain.queue_s) == pytest.approx(0.01)
    assert server_tokenizer_wait(tokenized.prefill_share, 0.05, 0.01, 9, 1.0) == pytest.approx(4 * 0.01)
    assert server_tokenizer_wait(0.5, 0.05, 0.0, 9, 1.0) == 0.0
    assert server_tokenizer_wait(0.5, 0.05, 0.01, 1, 1.0) == 0.0
    alone = steady_state(0.1, 0.05, 0.01, Workload(1, 1000, 100), 1, tok, 0.0, None)
    assert alone.ttft_s == pytest.approx(0.01 + 0.1)
