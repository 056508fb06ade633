"""dsadvisor's server model against NVIDIA's measured serving runs (aiconfigurator silicon_sample).

Each aggregated run (one engine instance, fixed concurrency, random prompts of ``isl`` tokens and
answers of ``osl``) is estimated with the layout it was measured with, and the mean TTFT and TPOT
are compared. Rows are split fit / hold-out by benchmarks/data/aiconfigurator/silicon_sample_split.csv;
the two are reported separately. Rows dsadvisor cannot build yet (an engine, GPU or layout it does
not model) are counted by reason.

    python benchmarks/serving_calibration.py [--rows out.csv] [--by engine|model|system|concurrency] [--intercepts]
                                             [--groups sglang|trtllm|vllm]
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import csv
import re
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data" / "aiconfigurator"
CONFIGS = DATA / "model_configs"

MODELS = {  # silicon model_path -> catalog id or a config.json shipped with aiconfigurator-core
    "deepseek-ai/DeepSeek-R1": "deepseek-r1",
    "deepseek-ai/DeepSeek-V3": "deepseek-v3",
    "meta-llama/Llama-3.1-8B-Instruct": CONFIGS / "meta-llama--Meta-Llama-3.1-8B_config.json",
    "meta-llama/Llama-3.1-70B": CONFIGS / "meta-llama--Meta-Llama-3.1-70B_config.json",
    "Qwen/Qwen3-32B": CONFIGS / "Qwen--Qwen3-32B_config.json",
    # DeepSeek-V3's language model (MLA, 384 routed experts) with a vision tower the runs do not use
    "moonshotai/Kimi-K2.5": CONFIGS / "moonshotai--Kimi-K2.5_config.json",
    # GQA attention (64 query, 4 KV heads) with 128 routed experts in all 94 layers: MoE without MLA
    "Qwen/Qwen3-235B-A22B-FP8": CONFIGS / "Qwen--Qwen3-235B-A22B-FP8_config.json",
}
SYSTEMS = {"h100_sxm": "H100-SXM", "h200_sxm": "H200-SXM", "b200_sxm": "B200", "gb200": "GB200",
           "b300_sxm": "B300", "gb300": "GB300"}
ENGINES = {"vllm": "vllm", "sglang": "sglang", "trtllm": "tensorrt-llm"}
# Formats measured whose physics the catalog does not have, and why (not compared)
NOT_MODELLED = {
    "int4_wo": "INT4 weight-only experts (Kimi's compressed-tensors W4A16, group 32): awq-int4 would pack the "
               "16-bit attention and shared experts too, and its int4 MoE constants time vLLM's moe_wna16 "
               "kernel, not the Marlin MoE these run",
}
# --int4-bytes-only: the INT4 weight-only runs read as int4-experts (the checkpoint's bytes, no Marlin MoE cost), a
# check on the held-out part (every such run is held out), never a default
BYTES_ONLY: dict[str, str] = {}
QUANTS = {"fp8": "fp8", "fp8_block": "fp8", "bfloat16": "bf16", "float16": "fp16", "bf16": "bf16", "nvfp4": "nvfp4"}


# Runs first compared after the physics was fitted (2026-12-03, helper gb300-kimi), reported apart so that the
# figures of the runs compared before ("base") stay comparable: the GB300 runs (the catalog had no GB300),
# Kimi-K2.5's (DeepSeek-V3's architecture on another model) and Qwen3-235B-A22B's (an MoE without MLA). A run's set
# is the first that takes it.
NEW_SETS = {"gb300": lambda r: r["system"] == "gb300", "kimi": lambda r: r["model_path"].startswith("moonshotai/Kimi"),
            "qwen3-235b": lambda r: r["model_path"].startswith("Qwen/Qwen3-235B")}
BASE = ("base",)
EVERY_SET = ("base", *NEW_SETS)


def run_set(r) -> str:
    """The set a measured run is reported in: ``base`` or one of ``NEW_SETS``."""
    return next((name for name, takes in NEW_SETS.items() if takes(r)), "base")


def rows():
    split = {r["id"]: r for r in csv.DictReader(open(DATA / "silicon_sample_split.csv", encoding="utf-8"))}
    for r in csv.DictReader(open(DATA / "silicon_sample.csv", encoding="utf-8")):
        s = split[r["id"]]
        if s["same_measurement_as"] or not s["concurrency"]:
            continue
        yield {**r, "split": s["split"], "concurrency": int(s["concurrency"]), "source_kind": s["source_kind"]}


def build(cat, r):
    """(Deployment, Workload) for a measured run, or the reason it cannot be built."""
    from dsadvisor.catalog.resolve import model_from_config
    from dsadvisor.physics.estimate import Deployment, pin_layout
    from dsadvisor.serving.workload import Workload

    if r["mode"] != "agg":
        return "disaggregated (not modelled)"
    target = MODELS.get(r["model_path"])
    if target is None:
        return "model not in catalog"
    gpu = cat.gpus.get(SYSTEMS.get(r["system"], ""))
    if gpu is None:
        return f"GPU {r['system']} not in catalog"
    if not r["precision"]:
        return "precision not recorded"
    if r["gemm_quant_mode"] in NOT_MODELLED and r["gemm_quant_mode"] not in BYTES_ONLY:
        return NOT_MODELLED[r["gemm_quant_mode"]]
    quant = cat.quantizations.get({**QUANTS, **BYTES_ONLY}.get(r["gemm_quant_mode"] or r["precision"], ""))
    if quant is None:
        return f"format {r['gemm_quant_mode']} not in catalog"
    if int(r["pp_size"] or 1) > 1:
        return "pipeline parallel"
    if r["system"] == "gb200" and r["source_kind"] != "gap_analysis_csv" and "DeepSeek" in r["model_path"]:
        return "InferenceX's GB200 DeepSeek runs are disaggregated (labelled agg)"
    if isinstance(target, Path):
        model, arch = model_from_config(target)
    else:
        model, arch = cat.model(target), None
    tp, dp, ep = layout_of(r)
    as_spelled = (tp, dp) == (int(r["tp_size"] or 1), int(r["attention_dp_size"] or 1))
    if run_set(r) != "base" and as_spelled and tp * dp != int(r["moe_tp_size"] or 1) * int(r["moe_ep_size"] or 1):
        return "layout fields disagree (tp x attention DP is not moe TP x EP)"
    # aiconfigurator, which NVIDIA scores against these runs, reads an FP8 KV cache into every fp8, fp8_block
    # and nvfp4 run (sdk/models/helpers.py, "FMHA quant mode"); NVIDIA's ModelOpt checkpoints ship
    # kv_cache_quant_algo FP8
    kv = "fp8-kv" if quant.id in ("fp8", "nvfp4") else "auto"
    sched = None
    if r["backend"] == "sglang":
        kv, sched = sglang_as_run(r, gpu, tp * dp, kv)
    elif r["backend"] == "trtllm":
        sched = launched_scheduler(r, tp, dp)
    d = Deployment.of(cat, model=model, architecture=arch, gpu=gpu, quant=quant, kv_dtype=kv,
                      engine=cat.engines[ENGINES[r["backend"]]], gpus=tp * dp)
    d = pin_layout(d, tp=tp * dp, ep=ep, dp_attention=dp)
    # the gap-analysis runs' client sends prompts and answers of one nominal length (assumed: the files do
    # not say); at 8 users or fewer these runs match users in lock step
    in_step = 1.0 if r["source_kind"] == "gap_analysis_csv" else None
    return d, Workload(r["concurrency"], *harness_lengths(r), in_step=in_step), sched


def sglang_as_run(r, gpu, tp: int, kv: str):
    """(KV cache dtype, scheduler) of an SGLang run as it was launched.

    InferenceX's runs (the db-dump rows: their config ids are InferenceX's) use its launch scripts
    (benchmarks/single_node/fixed_seq_len/dsr1_fp8_{h200,b200,b300}.sh in SemiAnalysisAI/InferenceX,
    unchanged in these flags from 2025-11 to 2026-06): on B200/B300 ``--kv-cache-dtype fp8_e4m3``,
    ``--chunked-prefill-size 32768`` at TP 8 (8192 at TP 4) and ``--scheduler-recv-interval`` 30 at
    16 users or more, 10 below (10 at TP 4); on H200 no KV dtype (SGLang's ``auto``: the checkpoint's
    16 bits, DeepSeek-R1/V3 carry no KV scales) and a 32768-token chunk. Its NVFP4 runs use another script,
    dsr1_fp4_b200.sh (dsr1_fp4_b300.sh copies it "as-is"): ``--chunked-prefill-size 16384`` and the receive
    interval 30 at 16 users or more (10 below) at every TP, with ``--data-parallel-size=1`` (InferenceX
    d8fe8f73e 2025-11-10 to 626932a11 2026-03-27, and 9ebeafb4e 2026-04-17 for B300; its DP-attention lane
    came in 2026-06). The other rows' flags are
    not recorded: SGLang's defaults by GPU memory (``scheduler_for``), and for NVIDIA's gap-analysis
    Llama runs, whose checkpoint is Meta's 16-bit one quantized at load, a 16-bit KV cache (``auto``)."""
    from dataclasses import replace

    from dsadvisor.serving.scheduler import scheduler_for

    sched = scheduler_for("sglang", gpu.memory_gb)
    if r["source_kind"] == "gap_analysis_csv":
        return "auto", sched
    if r["source_kind"] != "db_dump":
        return kv, sched
    if r["system"] == "h200_sxm":
        return "auto", replace(sched, token_budget=32768)
    if r.get("gemm_quant_mode") == "nvfp4":
        return "fp8-kv", replace(sched, token_budget=16384, recv_interval=30 if r["concurrency"] >= 16 else 10)
    if tp >= 8:
        return "fp8-kv", replace(sched, token_budget=32768, recv_interval=30 if r["concurrency"] >= 16 else 10)
    return "fp8-kv", replace(sched, token_budget=8192, recv_interval=10)


def measured_on(r) -> str:
    """The run's date (YYYY-MM-DD) from its source field, '' when not recorded."""
    m = re.search(r"measured=(\d{4}-\d\d-\d\d)", r["silicon_data_source"])
    return m.group(1) if m else ""


def launched_scheduler(r, tp: int, dp: int):
    """The scheduler a TensorRT-LLM run of InferenceX was launched with (None: the engine's defaults).

    Read from InferenceX's launch scripts at the run's date (github.com/SemiAnalysisAI/InferenceX,
    benchmarks/): Llama-3.1-70B (70b_*_trt_slurm.sh at 9596d23d7, measured 2025-10-29) used
    --max_num_tokens 16384 and, for 1K/1K at TP < 8 only, batch_wait_timeout_iters 20 with
    batch_wait_max_tokens_ratio 0.9. DeepSeek-R1 (dsr1_*_trt*.sh) used --max_num_tokens
    (C + ISL + 64) rounded up to 64, at least 8192 from 64af5a771 (2026-01-21) on; with attention DP,
    attention_dp_config enable_balance, timeout_iters 60, batching_wait_iters 0; B200 FP8 from
    ec7bafaae (2026-01-29) on, for 1K/1K at 64 users or more, batch_wait_timeout_iters 40 with
    batch_wait_max_tokens_ratio 0.8 (which the engine ignores with attention DP)."""
    from dataclasses import replace

    from dsadvisor.serving.scheduler import scheduler_for

    if r["backend"] != "trtllm":
        return None
    if r["source_kind"] == "gap_analysis_csv":  # served by Dynamo, whose frontend tokenizes
        return replace(scheduler_for("tensorrt-llm"), per_prompt_token_s=0.0)
    sched = scheduler_for("tensorrt-llm")
    isl, osl, c, day = int(r["isl"]), int(r["osl"]), r["concurrency"], measured_on(r)
    one_k = isl == 1024 and osl == 1024
    if "Llama-3.1-70B" in r["model_path"]:
        waits = dict(batch_wait_iters=20, batch_wait_ratio=0.9) if one_k and tp * dp < 8 else {}
        return replace(sched, token_budget=16384, **waits)
    if "DeepSeek" not in r["model_path"]:
        return None
    budget = -(-(c + isl + 64) // 64) * 64
    if day >= "2026-01-21":
        budget = max(budget, 8192)
    waits = {}
    if r["system"] == "b200_sxm" and r["precision"] == "fp8" and day >= "2026-01-29" and one_k and c >= 64:
        waits = dict(batch_wait_iters=40, batch_wait_ratio=0.8)
    return replace(sched, token_budget=budget, adp_balance_iters=60 if dp > 1 else 0, **waits)


# InferenceX's client (the source of the db-dump and dated-csv rows): vLLM's benchmark_serving.py with
# --random-range-ratio 0.8, so prompt and answer lengths are drawn uniformly from [0.8, 1.0] of the
# nominal ones (mean 0.9), --num-prompts 10 x concurrency, --ignore-eos
# (README.md "Benchmark Client Configuration" of InferenceMAX, read in the copy at
# https://github.com/jyothisambolu/InferenceMAX).
RANGE_RATIO = 0.8


def harness_lengths(r) -> tuple[int, int]:
    """Mean prompt and answer lengths the run's client sent: InferenceX's draws for its rows, the nominal
    lengths for NVIDIA's gap-analysis runs (their client's spread is not recorded)."""
    isl, osl = int(r["isl"]), int(r["osl"])
    if r["source_kind"] == "gap_analysis_csv":
        return isl, osl
    mean = (1 + RANGE_RATIO) / 2
    return round(isl * mean), round(osl * mean)


def layout_of(r) -> tuple[int, int, bool]:
    """(attention TP, attention DP groups, expert parallel) of a measured agg run.

    aiconfigurator's agg layout is tp_size x attention_dp_size GPUs, the MoE split over all of them by
    moe_tp_size x moe_ep_size. 153 DeepSeek rows spell an 8-GPU (4-GPU) run squared: the id says
    ``tp8_ep8`` and the fields say tp_size 64 (or attention_dp_size 64), moe_tp_size 8, moe_ep_size 8, i.e.
    64 GPUs -- on one 8-GPU B200/H200 node, whose concurrency (= batch_size x attention_dp_size) matches 8
    ranks, not 64. Those are read as moe_ep_size GPUs: tp_size and attention_dp_size divided by moe_tp_size.
    InferenceX's vLLM DP-attention lane (kimik2.5_fp4_b200.sh: ``--tensor-parallel-size 1 --data-parallel-size
    $TP --enable-expert-parallel`` on TP GPUs) is spelled tp_size 4, attention_dp_size 4, moe_ep_size 16 (Kimi-K2.5,
    MiniMax-M2.5 rows): read as 4 GPUs, attention DP 4, experts over 4. An id that names the spelled TP (NVIDIA's
    Qwen3-235B ``..._tp4_epnone_...`` with moe 2 x 2) is read as spelled."""
    tp, dp = int(r["tp_size"] or 1), int(r["attention_dp_size"] or 1)
    moe_tp, moe_ep = int(r["moe_tp_size"] or 1), int(r["moe_ep_size"] or 1)
    if moe_tp > 1 and moe_tp == moe_ep and tp * dp == moe_tp * moe_ep and f"_tp{tp}_" not in r.get("id", ""):
        tp, dp = max(1, tp // moe_tp), max(1, dp // moe_tp)
    elif tp > 1 and tp == dp and moe_tp == 1 and moe_ep == tp * dp:  # the DP lane squared the same way
        tp = 1
    return tp, dp, moe_ep > 1


def served_runs(cat, build, serve, refused: str = "estimate refused", width: int = 90, keep=None, sets=BASE):
    """(row, what ``build`` made of it, its Serving) for every measured run that ``build`` can make a
    deployment of and ``serve`` serves, and the reasons for the rest, counted (``refused``: the words
    before an error's own, cut to ``width``; ``keep``: a filter on the measured rows; ``sets``: the sets
    compared, the others counted as reported apart). benchmarks/disagg_calibration.py serves its runs through it too."""
    from dsadvisor.errors import DsAdvisorError

    served, skipped = [], collections.Counter()
    for r in rows():
        if keep is not None and not keep(r):
            continue
        built = build(cat, r)
        if isinstance(built, str):
            skipped[built] += 1
            continue
        if run_set(r) not in sets:
            skipped[f"set {run_set(r)} (reported apart)"] += 1
            continue
        try:
            served.append((r, built, serve(*built)[1]))
        except DsAdvisorError as exc:
            skipped[f"{refused}: {exc}"[:width]] += 1
    return served, skipped


def compare_rows(cat, keep=None, sets=BASE):
    """One dict per measured run dsadvisor can build (estimate / measured ratios), and the reasons
    for the rest, counted. ``keep``: a filter on the measured rows; ``sets``: which sets (``EVERY_SET``)."""
    from dsadvisor.serving.scheduler import scheduler_for
    from dsadvisor.serving.server import serve

    out = []
    served, skipped = served_runs(cat, build, serve, keep=keep, sets=sets)
    for r, built, s in served:
        if s.ttft_s is None:
            skipped["no FLOP rate" if s.running else "the estimate holds no request (KV cache)"] += 1
            continue
        out.append({"id": r["id"], "split": r["split"], "set": run_set(r), "quant": r["gemm_quant_mode"], "engine": r["backend"], "model": r["model_path"],
                    "system": r["system"], "concurrency": r["concurrency"], "isl": r["isl"], "osl": r["osl"],
                    "tp": r["tp_size"], "ep": r["moe_ep_size"], "running": s.running,
                    "source_kind": r["source_kind"], "ttft_ms": float(r["silicon_ttft_ms"]), "tpot_ms": float(r["silicon_tpot_ms"]), "ttft_est_ms": s.ttft_s * 1e3,
                    "per_request_ms": scheduler_for(built[0].engine.id).request_cost_s(built[1].prompt_tokens) * 1e3,
                    "ttft_ratio": s.ttft_s * 1e3 / float(r["silicon_ttft_ms"]),
                    "tpot_ratio": s.tpot_s * 1e3 / float(r["silicon_tpot_ms"])})
    return out, skipped


def band(c: int) -> str:
    return "1-8" if c <= 8 else "9-32" if c <= 32 else "33-128" if c <= 128 else "129-256" if c <= 256 else ">256"


def summary_lines(out) -> list[str]:
    """Error table of the served runs: engine x metric x concurrency band x part (benchmarks/calibration.py)."""
    groups: dict[tuple, list[float]] = collections.defaultdict(list)
    for o in out:
        part = "held-out" if o["split"] == "holdout" else "fit"
        for metric in ("ttft", "tpot"):
            err = abs(o[f"{metric}_ratio"] - 1)
            for eng, b in ((o["engine"], band(o["concurrency"])), (o["engine"], "all"), ("all", "all")):
                groups[(eng, f"served {metric.upper()}", b, part)].append(err)
    head = (f"{'engine':8} {'metric':12} {'concurrency':11} {'part':8} {'n':>4} {'max':>8} {'median':>7} "
            f"{'<=20%':>6} {'<=25%':>6}")
    lines = [head, "-" * len(head)]
    for key in sorted(groups):
        e = groups[key]
        lines.append(f"{key[0]:8} {key[1]:12} {key[2]:11} {key[3]:8} {len(e):4d} {max(e):8.1%} "
                     f"{statistics.median(e):7.1%} {sum(x <= .20 for x in e) / len(e):6.0%} "
                     f"{sum(x <= .25 for x in e) / len(e):6.0%}")
    return lines


def intercepts(out) -> None:
    from dsadvisor.serving.scheduler import scheduler_for

    """The per-request cost that would close each low-load residual: runs at concurrency <= 8 with
    1,024-token prompts, measured TTFT - estimate + the engine's per-request cost, median by group; and the
    per-prompt-token cost the 8,192-token prompts' residual implies beyond that."""
    groups = collections.defaultdict(list)
    for o in out:
        if o["concurrency"] <= 8 and o["isl"] == "1024":
            key = (o["split"], o["engine"], o["model"].split("/")[-1], o["source_kind"], o["osl"])
            groups[key].append(o["ttft_ms"] - o["ttft_est_ms"] + o["per_request_ms"])
    for key, v in sorted(groups.items()):
        print(" ".join(map(str, key)), f"n={len(v)} median {statistics.median(v):.0f} ms")
    # what scheduler.PER_REQUEST_S takes: the fit part's Llama-3.1-70B runs of each engine, all TPs and GPUs
    for engine in sorted({o["engine"] for o in out}):
        v = [o["ttft_ms"] - o["ttft_est_ms"] + o["per_request_ms"] for o in out
             if o["engine"] == engine and o["split"] == "fit" and o["concurrency"] <= 8 and o["isl"] == "1024"
             and "Llama-3.1-70B" in o["model"]]
        if v:
            tokenizing = scheduler_for(ENGINES[engine]).per_prompt_token_s * harness_lengths({"source_kind": "",
                                                                                             "isl": 1024, "osl": 1})[0]
            print(f"PER_REQUEST_S {engine}: fit Llama-3.1-70B n={len(v)} median {statistics.median(v) - tokenizing * 1e3:.1f} ms"
                  f" (and {tokenizing * 1e3:.1f} ms tokenizing the prompt)")
    # what scheduler.VLLM_TOKENIZE_S_PER_TOKEN takes: how much more the 8,192-token prompts' residual is than the
    # 1,024-token ones' at concurrency <= 8 (fit part, InferenceX's runs), over the tokens between their means
    for engine in sorted({o["engine"] for o in out}):
        medians = {}
        for isl in ("1024", "8192"):
            v = [o["ttft_ms"] - o["ttft_est_ms"] for o in out if o["engine"] == engine and o["split"] == "fit"
                 and o["concurrency"] <= 8 and o["isl"] == isl and o["source_kind"] != "gap_analysis_csv"]
            if v:
                medians[isl] = (len(v), statistics.median(v))
        if len(medians) == 2:
            (n1, r1), (n8, r8) = medians["1024"], medians["8192"]
            tokens = (8192 - 1024) * (1 + RANGE_RATIO) / 2
            print(f"per prompt token {engine}: fit residual 1K n={n1} {r1:.1f} ms, 8K n={n8} {r8:.1f} ms: "
                  f"{(r8 - r1) / tokens * 1e3:+.1f} us a token more than modelled")


def adp_hold_scan(cat) -> None:
    """holds.ADP_HOLD_FACTOR against the fit part's TensorRT-LLM runs with attention-DP balancing only
    (the held-out part is not read): TTFT share within 25% and median ratio per candidate factor."""
    from dsadvisor.serving import holds

    saved = holds.ADP_HOLD_FACTOR
    try:
        for factor in (1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0):
            holds.ADP_HOLD_FACTOR = factor
            out, _ = compare_rows(cat, keep=lambda r: r["split"] == "fit" and r["backend"] == "trtllm"
                                  and layout_of(r)[1] > 1)
            ratios = sorted(o["ttft_ratio"] for o in out)
            print(f"factor {factor:.1f}: {len(out)} fit runs, TTFT within 25% "
                  f"{sum(abs(x - 1) <= .25 for x in ratios) / len(ratios):.0%}, median ratio {statistics.median(ratios):.2f}")
    finally:
        holds.ADP_HOLD_FACTOR = saved


@contextlib.contextmanager
def host_overlapped():
    """Within it, a prompt's forward takes ``max(its GPU work, the MoE layers' fixed cost)`` instead of their sum: the
    fixed cost read as host time (eager launches, the sync sizing the grouped GEMMs) that the GPU's work hides once
    it is longer (``--moe-prefill-scan SET --overlap``; a finding, not the model)."""
    from dataclasses import replace

    from dsadvisor.physics import estimate
    from dsadvisor.physics.timing import moe_layer_count

    summed = estimate.prefill_s

    def overlapped(arch, engine, rates, layout, **kw):
        speed = engine.speed
        t = summed(arch, replace(engine, speed=replace(speed, per_moe_layer_prefill_s=0.0)), rates, layout, **kw)
        if t is None:
            return None
        return max(t - speed.prefill_fixed_s, moe_layer_count(arch) * speed.per_moe_layer_prefill_s) \
            + speed.prefill_fixed_s

    estimate.prefill_s = overlapped
    try:
        yield
    finally:
        estimate.prefill_s = summed


def moe_prefill_scan(cat, name: str, overlap: bool = False) -> None:
    """``per_moe_layer_prefill_s`` against the fit part of one set only (the held-out part is not read): per
    engine, TTFT within 25 % (median ratio) and TPOT within 20 % per candidate, every engine given the candidate
    (docs/method.md, a finding on Kimi-K2.5 and Qwen3-235B). ``overlap``: the cost hidden under the GPU's work
    (``host_overlapped``), candidates up to 4 ms."""
    from dataclasses import replace

    saved = dict(cat.engines)
    values = (0.0, 0.5e-3, 1.0e-3, 1.5e-3, 2.0e-3, 2.5e-3) + ((3.0e-3, 3.5e-3, 4.0e-3) if overlap else ())
    try:
        for value in values:
            for key in ENGINES.values():
                cat.engines[key] = replace(saved[key], speed=replace(saved[key].speed, per_moe_layer_prefill_s=value))
            with host_overlapped() if overlap else contextlib.nullcontext():
                out, _ = compare_rows(cat, keep=lambda r: r["split"] == "fit", sets=(name,))
            for engine in sorted({o["engine"] for o in out}):
                part = [o for o in out if o["engine"] == engine]
                ttft, tpot = [o["ttft_ratio"] for o in part], [o["tpot_ratio"] for o in part]
                print(f"{value * 1e3:.1f} ms {engine:7} {len(part):3d} fit runs: TTFT within 25% "
                      f"{sum(abs(x - 1) <= .25 for x in ttft) / len(ttft):6.1%} (median ratio "
                      f"{statistics.median(ttft):.2f}), TPOT within 20% {sum(abs(x - 1) <= .20 for x in tpot) / len(tpot):6.1%}")
    finally:
        cat.engines.update(saved)


def group_lines(out, engine: str) -> list[str]:
    """One engine's runs by part, source, GPU, format, tp/ep as the row records them (``layout_of`` reads the
    squared ones) and month (the run's date): runs, TTFT within 25 % and TPOT within 20 %, median TTFT ratio;
    where the misses sit (``--groups ENGINE``)."""
    dated = {r["id"]: (r["gemm_quant_mode"], measured_on(r)[:7]) for r in rows()}
    groups: dict[tuple, list[dict]] = collections.defaultdict(list)
    for o in out:
        if o["engine"] == engine:
            quant, month = dated[o["id"]]
            groups[(o["split"], o["source_kind"], o["system"], quant, f"tp{o['tp']} ep{o['ep']}", month)].append(o)
    lines = [f"{'part':8} {'source':17} {'system':9} {'format':10} {'layout':10} {'month':7} {'runs':>4} "
             f"{'ttft25':>6} {'tpot20':>6} {'median':>6}"]
    for key, g in sorted(groups.items()):
        ttft = sum(abs(o["ttft_ratio"] - 1) <= 0.25 for o in g)
        tpot = sum(abs(o["tpot_ratio"] - 1) <= 0.20 for o in g)
        median = statistics.median(o["ttft_ratio"] for o in g)
        lines.append(f"{key[0]:8} {key[1]:17} {key[2]:9} {key[3]:10} {key[4]:10} {key[5] or '-':7} {len(g):4d} "
                     f"{ttft:6d} {tpot:6d} {median:6.2f}")
    return lines


def compare(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--groups", metavar="ENGINE", help="one engine's runs by source, GPU, format, layout and month")
    ap.add_argument("--by", default="engine", choices=("engine", "model", "system", "concurrency", "quant"))
    ap.add_argument("--rows", type=Path)
    ap.add_argument("--intercepts", action="store_true", help="the per-request cost each low-load group implies")
    ap.add_argument("--table", action="store_true", help="TPOT error by engine as a markdown table")
    ap.add_argument("--holds", action="store_true", help="scan the attention-DP hold factor on the fit part")
    ap.add_argument("--moe-prefill-scan", metavar="SET",
                    help="scan the MoE-layer prefill cost on one new set's fit part, by engine (a finding)")
    ap.add_argument("--overlap", action="store_true",
                    help="with --moe-prefill-scan: the MoE-layer cost hidden under the GPU's prefill work (max, not sum)")
    ap.add_argument("--int4-bytes-only", action="store_true",
                    help="compare Kimi's INT4 weight-only runs as int4-experts (its bytes alone; all held out)")
    ap.add_argument("--sets", default=",".join(EVERY_SET),
                    help=f"sets compared, comma-separated ({', '.join(EVERY_SET)}; each reported apart, then all)")
    args = ap.parse_args(argv)
    from dsadvisor.catalog.store import load_catalog

    if args.holds:
        adp_hold_scan(load_catalog(use_env=False))
        return 0
    if args.moe_prefill_scan:
        moe_prefill_scan(load_catalog(use_env=False), args.moe_prefill_scan, args.overlap)
        return 0

    if args.int4_bytes_only:
        BYTES_ONLY["int4_wo"] = "int4-experts"
    out, skipped = compare_rows(load_catalog(use_env=False), sets=tuple(args.sets.split(",")))
    if args.groups:
        print("\n".join(group_lines(out, args.groups)))
        return 0
    if args.intercepts:
        intercepts(out)
        return 0
    if args.table:
        print("\n".join(tpot_table(out)))
        return 0
    report_sets(out, args.by)
    print("\nnot compared:", dict(skipped.most_common()))
    if args.rows:
        with open(args.rows, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=list(out[0]))
            w.writeheader()
            w.writerows(out)


def stats(ratios, tol):
    errs = [abs(x - 1) for x in ratios]
    return (f"n={len(ratios):4d} median|err| {statistics.median(errs):6.1%}  within {tol:.0%}: "
            f"{sum(e <= tol for e in errs) / len(errs):6.1%}  median ratio {statistics.median(ratios):5.2f}")


def tpot_table(out) -> list[str]:
    """TPOT |estimate / measured - 1| by part and engine: runs, max, median, share within 15% and 20%."""
    lines = ["| part | engine | runs | max | median | within 15% | within 20% |", "|---|---|---:|---:|---:|---:|---:|"]
    for split in ("fit", "holdout"):
        part = [o for o in out if o["split"] == split]
        for engine in ("all", *sorted({o["engine"] for o in part})):
            errs = [abs(o["tpot_ratio"] - 1) for o in part if engine in ("all", o["engine"])]
            if errs:
                lines.append(f"| {split} | {engine} | {len(errs)} | {max(errs):.0%} | {statistics.median(errs):.1%} | "
                             f"{sum(e <= .15 for e in errs) / len(errs):.0%} | {sum(e <= .20 for e in errs) / len(errs):.0%} |")
    return lines


def report_sets(out, by):
    """The base set's report as before, then each new set's apart, then every set together."""
    report([o for o in out if o["set"] == "base"], by)
    for name in NEW_SETS:
        part = [o for o in out if o["set"] == name]
        if part:
            print(f"\n#### set {name} (reported apart: first compared after the fit)")
            report(part, by)
    if len({o["set"] for o in out}) > 1:
        print("\n#### every set together")
        report(out, by)


def report(out, by):
    for split in ("fit", "holdout"):
        part = [o for o in out if o["split"] == split]
        if not part:
            continue
        print(f"== {split}: estimate / measured ==")
        print(f"  all      TTFT {stats([o['ttft_ratio'] for o in part], .25)}")
        print(f"  all      TPOT {stats([o['tpot_ratio'] for o in part], .20)}")
        groups = collections.defaultdict(list)
        for o in part:
            groups[o[by]].append(o)
        for key, g in sorted(groups.items(), key=lambda kv: str(kv[0])):
            print(f"  {str(key)[:28]:28s} TTFT {stats([o['ttft_ratio'] for o in g], .25)}")
            print(f"  {'':28s} TPOT {stats([o['tpot_ratio'] for o in g], .20)}")


if __name__ == "__main__":
    sys.exit(compare())
