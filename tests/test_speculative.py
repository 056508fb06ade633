"""MTP speculative decoding (estimate/plan --mtp, a layout choice in `layouts`): tokens per step from the
published acceptance rates, the step's cost from the physics, the memory it adds, and the flags each
engine's own docs give for it."""

from __future__ import annotations

import json
import shlex

import pytest

from dsadvisor.errors import InputError
from dsadvisor.physics.estimate import Deployment, estimate, pin_layout
from dsadvisor.physics.params import count_params
from dsadvisor.serving.scheduler import SCHEDULERS
from dsadvisor.serving.search import Limits, layouts, search
from dsadvisor.serving.server import serve
from dsadvisor.serving.speculative import ACCEPTANCE, acceptance_for, speculative_step, tokens_per_step
from dsadvisor.serving.workload import Workload
from tests.test_plans import check_documented


def r1(catalog, engine="sglang", **pins) -> Deployment:
    d = Deployment.of(catalog, model=catalog.model("deepseek-r1"), gpu=catalog.gpus["H200-SXM"],
                      quant=catalog.quantizations["fp8"], engine=catalog.engines[engine], gpus=8)
    return pin_layout(d, **pins) if pins else d


# ------------------------------------------------------------------ tokens per step

def test_tokens_per_step_by_hand():
    v3 = ACCEPTANCE["v3"]
    assert tokens_per_step(v3, 0) == 1.0
    assert tokens_per_step(v3, 1) == pytest.approx(1 + 0.882)  # vLLM's DeepSeek-V3 MTP baseline, 1.882
    assert tokens_per_step(v3, 3) == pytest.approx(1 + 0.882 + 0.882 * 0.61 + 0.882 * 0.61 ** 2)
    # the later-draft rate reproduces the acceptance length Nebius measured at 7 drafts (3.20)
    assert tokens_per_step(v3, 7) == pytest.approx(3.20, abs=0.02)


def test_v4_has_its_own_first_draft_rate(catalog):
    v4 = catalog.architecture(catalog.model("deepseek-v4-flash"))
    assert acceptance_for(v4).first == 0.70
    assert acceptance_for(catalog.architecture(catalog.model("deepseek-r1"))).first == 0.882


# ------------------------------------------------------------------ the step's cost

def test_speedup_at_batch_one_by_hand(catalog):
    # batch 1 is memory-bound: verifying 2 tokens reads the weights once (plus the experts the second
    # token routes to), so the speed-up is the 1.882 tokens a step less what the wider pass and the MTP
    # layer add; the hand computation from the three parts must match the model's
    s = speculative_step(r1(catalog, tp=8, mtp=1), 1, 2048 + 256, 2048)
    assert s.tokens_per_step == pytest.approx(1.882)
    assert s.plain_step_s < s.verify_s < 1.15 * s.plain_step_s
    assert s.draft_s < 0.05 * s.plain_step_s  # one layer of 61 and the shared head
    assert s.speedup == pytest.approx(1.882 * s.plain_step_s / (s.verify_s + s.draft_s))
    assert 1.6 < s.speedup < 1.882


def test_sglang_s_published_speedups(catalog):
    # docs.sglang.io basic_usage/deepseek: MTP speeds decoding "1.8x for batch size 1 and 1.5x for
    # batch size 32 respectively on H200 TP8" (--speculative-num-steps 1 ... --num-draft-tokens 2).
    # Nothing was fitted to these: within 10%.
    d = r1(catalog, tp=8, ep=False, mtp=1)
    assert speculative_step(d, 1, 2048, 1024).speedup == pytest.approx(1.8, rel=0.10)
    assert speculative_step(d, 32, 2048, 1024).speedup == pytest.approx(1.5, rel=0.10)


# NVIDIA's B200 min-latency table (TensorRT-LLM docs/source/blogs/tech_blog/blog1_Pushing_Latency_Boundaries_
# Optimizing_DeepSeek-R1_Performance_on_NVIDIA_B200_GPUs.md, "Autoregressive MTP Layers"): R1-FP4 on 8 x B200,
# TP 8, one user, ISL 1K / OSL 2K; per draft count, the acceptance length and TPS/user (no MTP: 111).
TRTLLM_B200_MTP = {1: (1.92, 198), 2: (2.58, 250), 3: (2.82, 253)}


@pytest.mark.parametrize("drafts", sorted(TRTLLM_B200_MTP))
def test_tensorrt_llm_s_published_mtp_table(catalog, drafts):
    # Nothing was fitted to this table. What it measures of the mechanism: tokens a step (the acceptance
    # length) and how much dearer a step with k drafts is than a plain one (acceptance / TPS x 111: 1.08,
    # 1.15, 1.24), hence the speed-up (TPS / 111: 1.78, 2.25, 2.28). Its plain step (9.0 ms) is the
    # 2025 release's and is not compared here (docs/method.md, "Multi-GPU at low batch, published").
    accepted, tps = TRTLLM_B200_MTP[drafts]
    d = pin_layout(Deployment.of(catalog, model=catalog.model("deepseek-r1"), gpu=catalog.gpus["B200"],
                                 quant=catalog.quantizations["nvfp4"], engine=catalog.engines["tensorrt-llm"],
                                 gpus=8), tp=8, ep=False, mtp=drafts)
    s = speculative_step(d, 1, 1024 + 1024, 1024)
    assert s.tokens_per_step == pytest.approx(accepted, rel=0.07)
    assert (s.verify_s + s.draft_s) / s.plain_step_s == pytest.approx(accepted / tps * 111, rel=0.05)
    assert s.speedup == pytest.approx(tps / 111, rel=0.07)


def test_benefit_falls_as_the_step_becomes_compute_bound(catalog):
    # more sequences: the verification's k + 1 tokens a sequence cost FLOPs, not just reads; with
    # data-parallel attention and three drafts the speculation ends up slower than none
    d = r1(catalog, tp=8, ep=True, dp_attention=8, mtp=3)
    s = {b: speculative_step(d, b, 1536, 1024).speedup for b in (1, 1024, 8192)}
    assert s[1] > s[1024] > s[8192]
    assert s[1] > 2.0 and s[8192] < 1.0


def test_serving_tpot_at_one_user_is_the_speculative_step(catalog):
    d = r1(catalog, tp=8, mtp=1)
    w = Workload(1, 2048, 512)
    _, served = serve(d, w)
    spec = speculative_step(d, 1, w.mean_context, 2048)
    host = SCHEDULERS["sglang"].host_per_sequence_s / spec.tokens_per_step  # one request's host work per step
    assert served.tpot_s == pytest.approx(spec.per_token_s + host)  # one user: no prompt of another stalls it
    assert served.tokens_per_step == pytest.approx(1.882)
    _, plain = serve(r1(catalog, tp=8), w)
    assert served.tpot_s < plain.tpot_s / 1.6


# ------------------------------------------------------------------ memory

def test_mtp_loads_its_layer_and_its_kv(catalog):
    with_mtp, without = estimate(r1(catalog, tp=8, mtp=1)), estimate(r1(catalog, tp=8))
    mtp_params = count_params(catalog.architecture(catalog.model("deepseek-r1"))).mtp
    # fp8: a byte a parameter, the module split over 8 GPUs as the main model's MoE layers are
    assert with_mtp.memory.weights - without.memory.weights == pytest.approx(mtp_params / 8, rel=1e-6)
    assert with_mtp.memory.kv_cache / without.memory.kv_cache == pytest.approx(62 / 61)
    assert with_mtp.decode_step_s == without.decode_step_s  # the main model's own step is unchanged
    assert "not loaded" in " ".join(without.basis.assumptions)


# ------------------------------------------------------------------ what cannot run it

@pytest.mark.parametrize("model,engine,why", [
    ("deepseek-r1-distill-qwen-7b", "vllm", "ships a multi-token-prediction layer"),
    ("deepseek-r1", "transformers", "transformers has no MTP speculative decoding"),
])
def test_mtp_needs_the_layer_and_an_engine_that_drafts_with_it(catalog, model, engine, why):
    d = Deployment.of(catalog, model=catalog.model(model), gpu=catalog.gpus["H200-SXM"],
                      quant=catalog.quantizations["bf16"], engine=catalog.engines[engine], gpus=8)
    with pytest.raises(InputError, match=why):
        estimate(pin_layout(d, mtp=1))


@pytest.mark.parametrize("args,why", [
    (("deepseek-r1-distill-qwen-7b", "--gpu", "H100", "--mtp", "1"), "ships a multi-token-prediction layer"),
    (("deepseek-r1", "--gpu", "H200", "--gpus", "8", "--quant", "fp8", "--mtp", "4"), "--mtp must be between 0 and 3"),
])
def test_cli_refuses_mtp_in_one_line(run, args, why):
    r = run("estimate", *args)
    assert r.code == 2 and why in r.err and len(r.err.strip().splitlines()) == 1


CHECK_V3 = ("deepseek-v3", "--gpu", "H200", "--gpus", "8", "--quant", "fp8", "--engine", "vllm")


@pytest.mark.parametrize("draft", ["1", "2"])
def test_check_judges_the_pinned_mtp_and_its_plan_command_keeps_it(run, draft):
    """A CI gate pins the layout it deploys: check --mtp judges that layout, and the plan command it
    names starts it (plan drafts nothing unless told). Was: no such option (exit 2)."""
    r = run("check", *CHECK_V3, "--mtp", draft)
    assert r.code == 0, r.err
    d = r.json()
    assert d["estimate"]["deployment"]["mtp_draft_tokens"] == int(draft)
    argv = shlex.split(d["plan_command"])
    assert argv[argv.index("--mtp") + 1] == draft
    plan = run(*argv[1:], "-f", "json")
    assert plan.code == 0, plan.err
    assert plan.json()["deployment"]["mtp_draft_tokens"] == int(draft)


def test_check_mtp_0_pins_no_drafting(run):
    """--mtp 0 is "off" (its help): check's layout search may not draft when the gate pins none."""
    args = ("check", "deepseek-r1-0528", "--gpu", "H200", "--gpus", "8", "--quant", "fp8", "--engine", "sglang",
            "--max-token-latency", "12", "--concurrency", "4")
    searched, off = run(*args), run(*args, "--mtp", "0")
    assert searched.code == 0 and searched.json()["estimate"]["deployment"]["mtp_draft_tokens"] > 0  # else moot
    assert off.code == 0, off.err
    assert off.json()["estimate"]["deployment"]["mtp_draft_tokens"] == 0
    assert "--mtp" not in shlex.split(off.json()["plan_command"])


@pytest.mark.parametrize("args,code,why", [
    (("deepseek-r1-distill-qwen-7b", "--gpu", "H100", "--mtp", "1"), 1, "ships a multi-token-prediction layer"),
    ((*CHECK_V3, "--mtp", "4"), 2, "--mtp must be between 0 and 3"),
])
def test_check_refuses_mtp_as_plan_does(run, args, code, why):
    """The range is bad input (exit 2, as estimate and plan); a model without the layer fails the check (as plan
    finds no deployment)."""
    r = run("check", *args)
    assert r.code == code and why in r.err and len(r.err.strip().splitlines()) == 1


# ------------------------------------------------------------------ the search

def test_search_offers_mtp_only_where_it_runs(catalog):
    assert {lay.mtp for lay in layouts(r1(catalog))} == {0, 1, 3}
    distill = Deployment.of(catalog, model=catalog.model("deepseek-r1-distill-llama-70b"),
                            gpu=catalog.gpus["H200-SXM"], quant=catalog.quantizations["bf16"],
                            engine=catalog.engines["sglang"], gpus=8)
    assert {lay.mtp for lay in layouts(distill)} == {0}


def test_mtp_wins_a_tight_token_latency_limit(catalog):
    found = search(r1(catalog), 2048, 512, Limits(max_tpot_s=0.012))
    assert found.best is not None and found.best.layout.mtp > 0
    assert "MTP" in found.best.label


# ------------------------------------------------------------------ plans: each engine's own flags

def _plan(run, engine: str, draft: str = "1") -> dict:
    r = run("plan", "deepseek-r1", "--gpu", "H200", "--gpus", "8", "--quant", "fp8", "--engine", engine,
            "--concurrency", "16", "--mtp", draft, "-f", "json")
    assert r.code == 0, r.err
    return r.json()


def test_sglang_plan_drafts_through_eagle(run):
    cmd = _plan(run, "sglang", "3")["commands"][0]
    w = shlex.split(cmd)
    got = {f: w[w.index(f) + 1] for f in ("--speculative-algorithm", "--speculative-num-steps",
                                          "--speculative-eagle-topk", "--speculative-num-draft-tokens")}
    assert got == {"--speculative-algorithm": "EAGLE", "--speculative-num-steps": "3",
                   "--speculative-eagle-topk": "1", "--speculative-num-draft-tokens": "4"}


def test_vllm_plan_passes_one_quoted_json_argument(run):
    d = _plan(run, "vllm")
    w = shlex.split(d["commands"][0])
    assert json.loads(w[w.index("--speculative-config") + 1]) == {"method": "mtp", "num_speculative_tokens": 1}
    assert "'{\"method\": \"mtp\", \"num_speculative_tokens\": 1}'" in d["commands"][0]  # quoted for the shell
    assert d["deployment"]["mtp_draft_tokens"] == 1


def test_trtllm_plan_writes_the_mtp_options(run):
    cmd = _plan(run, "tensorrt-llm", "2")["commands"][0]
    setup = cmd.split("\n")[0]
    assert "speculative_config:\\n  decoding_type: MTP\\n  num_nextn_predict_layers: 2" in setup
    assert "--extra_llm_api_options extra-llm-api-options.yaml" in cmd


@pytest.mark.parametrize("engine", ["vllm", "sglang", "tensorrt-llm"])
def test_mtp_plans_use_documented_flags_only(catalog, engine):
    from dsadvisor.advice.check import hardware
    from dsadvisor.advice.rules import Constraints
    from dsadvisor.launch.plan import plan

    hw = hardware(catalog, "H200", None, 8, None, exact=True)
    p = plan(catalog, catalog.model("deepseek-r1"), hw,
             Constraints(batch=8, engines=(engine,), quants=("fp8",), mtp=1, allow_unknown=True), concurrency=8)
    assert p.estimate.mtp == 1
    check_documented(p)
