"""Plans sized to the workload: every engine serves the concurrency asked (or the class of hardware's
default, said in the notes), with the layout's flags (data-parallel attention, expert parallel) as
each engine documents them, and the most sequences the KV cache holds when it cannot hold them all.

The flag names are held to tests/test_plans.py's DOCUMENTED table (each engine's own docs); these
tests pin what each flag is given.
"""

from __future__ import annotations

import shlex

import pytest

from dsadvisor.advice.check import hardware
from dsadvisor.advice.rules import Constraints
from dsadvisor.errors import InputError, NoFitError
from dsadvisor.launch.plan import plan
from dsadvisor.serving.workload import DEFAULT_CONCURRENCY

R1 = ("deepseek-r1", "--gpu", "H200", "--gpus", "8", "--quant", "fp8", "--context", "16384")


def plan_json(run, *args):
    r = run("plan", *args, "--format", "json")
    assert r.code == 0, r.err
    return r.json()


def words(command: str) -> list[str]:
    return [w for line in command.split("\n") if not line.startswith(("#", "printf ")) for w in shlex.split(line)]


def value(command: str, flag: str) -> str:
    w = words(command)
    return w[w.index(flag) + 1]


# ------------------------------------------------------------------ the concurrency each engine serves

@pytest.mark.parametrize("engine,flag", [("vllm", "--max-num-seqs"), ("sglang", "--max-running-requests"),
                                         ("tensorrt-llm", "--max_batch_size")])
def test_every_engine_serves_the_concurrency_asked(run, engine, flag):
    d = plan_json(run, "DeepSeek-R1-Distill-Qwen-7B", "--gpu", "H100", "--engine", engine, "--concurrency", "24")
    assert d["deployment"]["batch"] == 24
    assert value(d["commands"][0], flag) == "24"


def test_batch_is_concurrency_s_old_name(run):
    d = plan_json(run, "DeepSeek-R1-Distill-Qwen-7B", "--gpu", "H100", "--batch", "24")
    assert value(d["commands"][0], "--max-num-seqs") == "24"


def test_llamacpp_slots_each_get_the_context(run):
    # llama-server splits -c among its -np slots (tools/server/README.md: -np "number of server slots";
    # with -np given the KV cache is not unified, so each slot gets n_ctx / n_parallel)
    d = plan_json(run, "DeepSeek-R1-Distill-Qwen-7B", "--gpu", "RTX-4090", "--engine", "llama.cpp",
                  "--quant", "q4_k_m", "--concurrency", "3", "--context", "4096")
    cmd = d["commands"][0]
    assert value(cmd, "-np") == "3" and value(cmd, "-c") == str(3 * 4096)
    assert any("-c 12288 gives each of the 3 slots 4096 tokens" in n for n in d["notes"])


@pytest.mark.parametrize("gpu,category", [("RTX-4090", "consumer"), ("H100", "datacenter"),
                                          ("RTX-6000-Ada", "workstation"), ("M4-Max-36GB", "apple")])
def test_the_default_concurrency_follows_the_class_of_hardware_and_says_so(run, catalog, gpu, category):
    assert hardware(catalog, gpu).gpu.category == category
    d = plan_json(run, "DeepSeek-R1-Distill-Qwen-1.5B", "--gpu", gpu)
    n = DEFAULT_CONCURRENCY.get(category, 1)
    assert d["deployment"]["batch"] == n
    words = {"apple": "Apple chips"}.get(category, f"{category} GPUs")  # not "apple GPUs"
    assert d["notes"][0].startswith(f"serves {n} concurrent request") and f"default for {words}" in d["notes"][0]


def test_a_given_concurrency_has_no_default_note(run):
    d = plan_json(run, "DeepSeek-R1-Distill-Qwen-7B", "--gpu", "H100", "--concurrency", "1")
    assert not any("the default for" in n for n in d["notes"])
    assert "--max-num-batched-tokens" not in d["commands"][0]  # one request: nothing to budget


def test_several_requests_pin_the_token_budget_the_estimate_assumed(run):
    from dsadvisor.serving.scheduler import SCHEDULERS

    for engine, flag in (("vllm", "--max-num-batched-tokens"), ("sglang", "--chunked-prefill-size"),
                         ("tensorrt-llm", "--max_num_tokens")):
        d = plan_json(run, "DeepSeek-R1-Distill-Qwen-7B", "--gpu", "H100", "--engine", engine, "--concurrency", "8")
        assert value(d["commands"][0], flag) == str(SCHEDULERS[engine].token_budget)


def test_trtllm_on_hopper_takes_a_whole_mla_prompt_in_one_iteration(run):
    # MLA has no chunked context on Hopper (TensorRT-LLM's DeepSeek-R1 best-practice blog)
    d = plan_json(run, *R1, "--engine", "tensorrt-llm", "--concurrency", "8", "--prompt-tokens", "12000")
    assert value(d["commands"][0], "--max_num_tokens") == "12000"


def test_trtllm_takes_a_long_prompt_whole_on_any_model_and_gpu(run):
    # enable_chunked_prefill is off by default, so a prompt over max_num_tokens would be refused: the plan
    # raises the budget to the prompt (rounded up to 8), also for one request, where the flag is otherwise unset
    for n in ("1", "8"):
        d = plan_json(run, "DeepSeek-R1-Distill-Qwen-7B", "--gpu", "H100", "--engine", "tensorrt-llm",
                      "--concurrency", n, "--prompt-tokens", "12001", "--context", "16384")
        assert value(d["commands"][0], "--max_num_tokens") == "12008"
    d = plan_json(run, "DeepSeek-R1-Distill-Qwen-7B", "--gpu", "H100", "--engine", "tensorrt-llm",
                  "--concurrency", "1", "--prompt-tokens", "4000")
    assert "--max_num_tokens" not in d["commands"][0]  # the default 8192 takes it


def test_trtllm_estimates_a_long_prompt_in_one_iteration():
    from dsadvisor.serving.scheduler import SCHEDULERS
    from dsadvisor.serving.server import steady_state
    from dsadvisor.serving.workload import Workload

    w = Workload(concurrency=1, prompt_tokens=20000, output_tokens=10)
    trt, vllm = SCHEDULERS["tensorrt-llm"], SCHEDULERS["vllm"]
    one = steady_state(1.0, 1.0, 0.01, w, 1, trt, 0.0, None)
    chunked = steady_state(1.0, 1.0, 0.01, w, 1, vllm, 0.0, None)
    # vLLM splits 20,000 tokens into 3 chunks of 8,192: two more decode steps before the first token
    assert one.ttft_s == trt.request_cost_s(20000) + 1.0
    assert abs(chunked.ttft_s - (vllm.request_cost_s(20000) + 1.0 + 2 * 0.01)) < 1e-12


# ------------------------------------------------------------------ the case: FP8 R1 for 128 users

def test_fp8_r1_for_128_users_on_8_h200_with_dp_attention_keeps_fp8(run):
    sg = plan_json(run, *R1, "--concurrency", "128", "--dp-attention", "8", "--engine", "sglang")
    dep = sg["deployment"]
    assert (dep["quantization"], dep["batch"], dep["data_parallel_attention"], dep["tensor_parallel"]) == \
        ("fp8", 128, 8, 8)
    cmd = words(sg["commands"][0])
    assert cmd[cmd.index("--tp") + 1] == "8" and cmd[cmd.index("--dp") + 1] == "8" and "--enable-dp-attention" in cmd
    assert value(sg["commands"][0], "--max-running-requests") == "128"  # SGLang divides it over the ranks
    assert not any("not the 128 asked" in n for n in sg["notes"])

    vl = plan_json(run, *R1, "--concurrency", "128", "--dp-attention", "8", "--engine", "vllm")["commands"][0]
    assert value(vl, "--data-parallel-size") == "8" and value(vl, "--tensor-parallel-size") == "1"
    assert "--enable-expert-parallel" in words(vl)
    assert value(vl, "--max-num-seqs") == "16"  # "--max-num-seqs applies per DP rank"

    trt = plan_json(run, *R1, "--concurrency", "128", "--dp-attention", "8", "--engine", "tensorrt-llm")
    lines = trt["commands"][0].split("\n")
    assert lines[0].startswith("printf ") and "enable_attention_dp: true" in lines[0]
    assert value(trt["commands"][0], "--max_batch_size") == "16"  # per rank
    assert value(trt["commands"][0], "--extra_llm_api_options") == "extra-llm-api-options.yaml"


def test_without_dp_attention_the_kv_cache_holds_fewer_and_the_plan_says_so(run, catalog):
    d = plan_json(run, *R1, "--concurrency", "512", "--engine", "sglang")
    served = d["deployment"]["batch"]
    assert 1 < served < 512
    assert value(d["commands"][0], "--max-running-requests") == str(served)
    assert d["notes"][0].startswith(f"serves {served} concurrent requests, not the 512 asked")
    # the most: one more does not fit on all eight GPUs
    hw = hardware(catalog, "H200", gpus=8, exact=True)
    k = Constraints(context=16384, quants=("fp8",), engines=("sglang",), allow_unknown=True)
    plan(catalog, "deepseek-r1", hw, k, concurrency=served)
    with pytest.raises(NoFitError):
        plan(catalog, "deepseek-r1", hw, k, concurrency=served + 1, exact_concurrency=True)


def test_exact_concurrency_exits_1_naming_the_largest_that_fits(run):
    fewer = plan_json(run, *R1, "--concurrency", "512", "--engine", "sglang")["deployment"]["batch"]
    r = run("plan", *R1, "--concurrency", "512", "--engine", "sglang", "--exact-concurrency", "-f", "json")
    assert r.code == 1 and r.out == ""
    assert len(r.err.strip().splitlines()) == 1
    assert f"--concurrency {fewer} fits" in r.err and "--dp-attention" in r.err


def test_too_many_users_keep_the_format_best_for_one_and_serve_what_it_holds(catalog):
    """A 7B on a T4 at the default 32 users: no format holds them all. The plan keeps the format the ranking
    picks for one request and serves what its KV cache holds, rather than Q2_K (a third worse on the model's
    benchmarks) because its smaller weights leave room for more sequences."""
    hw = hardware(catalog, "T4")
    best = plan(catalog, "deepseek-r1-distill-qwen-7b", hw, Constraints(batch=1))
    p = plan(catalog, "deepseek-r1-distill-qwen-7b", hw)
    assert p.estimate.quant_id == best.estimate.quant_id != "q2_k"
    q2k = plan(catalog, "deepseek-r1-distill-qwen-7b", hw, Constraints(quants=("q2_k",)))
    assert 1 < p.estimate.batch < q2k.estimate.batch < DEFAULT_CONCURRENCY["datacenter"]
    assert any("a smaller --quant" in n for n in p.notes)
    with pytest.raises(NoFitError):  # the most its KV cache holds, in that format
        plan(catalog, "deepseek-r1-distill-qwen-7b", hw, Constraints(quants=(p.estimate.quant_id,)),
             concurrency=p.estimate.batch + 1, exact_concurrency=True)


def test_the_library_defaults_and_sizes_the_same_way(catalog):
    p = plan(catalog, "deepseek-r1-distill-qwen-7b", hardware(catalog, "H100"))
    assert p.estimate.batch == DEFAULT_CONCURRENCY["datacenter"]
    p = plan(catalog, "deepseek-r1-distill-qwen-7b", hardware(catalog, "H100"), Constraints(batch=6))
    assert p.estimate.batch == 6  # the constraints' concurrency when given


# ------------------------------------------------------------------ pinned layouts

def test_plan_pins_a_layout_like_estimate(run):
    d = plan_json(run, *R1, "--tp", "8", "--dp-attention", "4", "--engine", "vllm", "--concurrency", "64")
    dep = d["deployment"]
    assert (dep["gpus"], dep["tensor_parallel"], dep["data_parallel_attention"]) == (8, 8, 4)
    cmd = d["commands"][0]
    assert value(cmd, "--tensor-parallel-size") == "2" and value(cmd, "--data-parallel-size") == "4"
    assert value(cmd, "--max-num-seqs") == "16"


def test_no_ep_pins_expert_parallel_off(run):
    d = plan_json(run, *R1, "--no-ep", "--engine", "sglang", "--concurrency", "1")
    assert d["deployment"]["expert_parallel"] is False and "--ep-size" not in words(d["commands"][0])


def test_trtllm_attention_dp_spans_every_rank(run):
    r = run("plan", *R1, "--tp", "8", "--dp-attention", "4", "--engine", "tensorrt-llm", "-f", "json")
    assert r.code == 1 and "--dp-attention must be 8 (or 1), not 4" in r.err
    r = run("plan", *R1, "--tp", "8", "--dp-attention", "4", "-f", "json")  # another engine runs it
    assert r.code == 0 and r.json()["deployment"]["engine"] != "tensorrt-llm"


def test_a_pinned_tp_needs_its_gpus(run):
    r = run("plan", *R1, "--tp", "16", "-f", "json")
    assert r.code == 2 and "--tp 16 x --pp 1 is 16 GPUs, more than --gpus 8" in r.err


def test_trtllm_refuses_a_partial_attention_dp_from_the_library(catalog):
    from dsadvisor.launch.plan import launch_plan
    from dsadvisor.physics.estimate import Deployment, estimate, pin_layout

    dep = Deployment.of(catalog, model=catalog.model("deepseek-r1"), gpu=catalog.gpus["H200-SXM"],
                        quant=catalog.quantization("fp8"), engine=catalog.engine("tensorrt-llm"), gpus=8, batch=8)
    est = estimate(pin_layout(dep, tp=8, dp_attention=2))
    with pytest.raises(InputError, match="--dp-attention must be 8"):
        launch_plan(catalog, est, catalog.model("deepseek-r1"))


def test_vllm_data_parallel_over_two_nodes_runs_each_node_s_ranks(run):
    d = plan_json(run, "deepseek-v3", "--gpu", "H100", "--gpus", "16", "--quant", "fp8", "--engine", "vllm",
                  "--dp-attention", "16", "--concurrency", "256", "--context", "4096")
    head, worker = d["commands"]
    assert value(head, "--data-parallel-size") == "16" and value(head, "--data-parallel-size-local") == "8"
    assert value(head, "--data-parallel-address") == "<head-ip>" and "--headless" not in words(head)
    assert "--headless" in words(worker) and value(worker, "--data-parallel-start-rank") == "8"
    assert "ray" not in head and "--distributed-executor-backend" not in words(head)
