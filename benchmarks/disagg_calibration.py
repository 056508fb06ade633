"""dsadvisor's disaggregated prefill/decode model against NVIDIA's measured disaggregated runs
(aiconfigurator silicon_sample, ``mode == disagg``): each run is estimated with the prefill and decode
instances it was launched with and its concurrency; mean TTFT and TPOT are compared. Nothing is fitted
on these runs; the fit / hold-out parts (silicon_sample_split.csv) are reported apart.

The instances come from InferenceX's launch configuration (data/aiconfigurator/disagg_configs.csv,
benchmarks/inferencex_disagg.py): how many prefill and decode instances, attention DP, MTP draft tokens
and the decode batch limit, which the sample's dated-csv rows do not keep. ``--layouts recorded``
builds every run from the sample's own fields instead (one instance of each where it records none, no
MTP, every GPU beyond 8 across the network): what this comparison did before.

    python benchmarks/disagg_calibration.py [--by engine|system|concurrency|source_kind] [--layouts source|recorded]
"""

from __future__ import annotations

import argparse
import csv
import functools
import sys
from dataclasses import replace

from serving_calibration import (BASE, DATA, ENGINES, EVERY_SET, MODELS, QUANTS, SYSTEMS, harness_lengths, report_sets,
                                 run_set, served_runs)

LAYOUTS = {"source": True}
# GPUs one NVLink domain joins: an HGX node's 8, a GB200 NVL72 rack's 72 (catalog GB200 interconnect note;
# nvidia.com/en-us/data-center/gb200-nvl72): InferenceX's GB200 decode instances of 16-48 GPUs stay on NVLink
NVLINK_DOMAIN = {"gb200": 72, "gb300": 72}  # False: the sample's own fields (--layouts recorded)


@functools.lru_cache(maxsize=1)
def source_configs() -> dict[str, dict]:
    """disagg_configs.csv by silicon_sample id."""
    with open(DATA / "disagg_configs.csv", encoding="utf-8") as f:
        return {r["id"]: r for r in csv.DictReader(f)}


def _source_layout(cfg: dict, side: str, mtp: int = 0):
    """One instance as InferenceX launched it: ``tp`` GPUs, experts spread when ``ep`` > 1, attention DP
    over all of them when ``dp_attention``."""
    from dsadvisor.physics.timing import Layout

    tp = int(cfg[f"{side}_tp"])
    return Layout(tp=tp, ep=int(cfg[f"{side}_ep"]) > 1, dp_attention=tp if cfg[f"{side}_dp_attention"] == "1" else 1,
                  mtp=mtp)


def source_split(r):
    """(Split, decode batch limit per instance or None) from the launch configuration, or why not: TensorRT-LLM's
    max_batch_size per attention-DP rank (recipe name ``batch<N>``), SGLang's --max-running-requests."""
    from dsadvisor.serving.disaggregated import Split

    cfg = source_configs().get(r["id"])
    if cfg is None or cfg["match"] == "none":
        return "no InferenceX config lists the run"
    if cfg["match"] == "ambiguous":
        return "InferenceX lists two configurations at this concurrency (MTP or not)"
    if cfg["mtp"] == "?":
        return "MTP depth not in the recipe"
    decode = _source_layout(cfg, "decode", int(cfg["mtp"]))
    split = Split(_source_layout(cfg, "prefill"), int(cfg["prefill_workers"]), decode, int(cfg["decode_workers"]))
    limit = int(cfg["decode_batch"]) * decode.dp_attention if cfg["decode_batch"] else None
    if cfg.get("decode_max_running"):  # SGLang --max-running-requests, the whole server's (split over its DP ranks)
        limit = int(cfg["decode_max_running"])
    return split, limit


def _layout(r, side: str):
    from dsadvisor.physics.timing import Layout

    tp, dp = int(r[f"{side}_tp_size"] or 1), max(int(r[f"{side}_attention_dp_size"] or 1), 1)
    moe_tp, moe_ep = int(r[f"{side}_moe_tp_size"] or 1), int(r[f"{side}_moe_ep_size"] or 1)
    if dp == 1 and moe_tp > 1 and moe_ep > 1 and tp == moe_tp * moe_ep:  # tp N x ep N spelled as tp N*N
        tp = moe_tp
    return Layout(tp=tp * dp, ep=moe_ep > 1, dp_attention=dp)


@functools.lru_cache(maxsize=None)
def _from_config(path):
    """A config.json of serving_calibration.MODELS (Kimi-K2.5's), read once."""
    from dsadvisor.catalog.resolve import model_from_config

    return model_from_config(path)


def build(cat, r):
    """(Deployment, Split, Workload, Scheduler, the prefill side's MoE backend or None) for a measured disaggregated
    run, or why it cannot be built."""
    from dsadvisor.physics.estimate import Deployment
    from dsadvisor.serving.disaggregated import Split
    from dsadvisor.serving.workload import Workload

    if r["mode"] != "disagg":
        return "aggregated (benchmarks/serving_calibration.py)"
    target = MODELS.get(r["model_path"])
    if target is None:
        return "model not in catalog"
    gpu = cat.gpus.get(SYSTEMS.get(r["system"], ""))
    if gpu is None:
        return f"GPU {r['system']} not in catalog"
    quant = cat.quantizations.get(QUANTS.get(r["gemm_quant_mode"] or r["precision"], ""))
    if quant is None:
        return f"format {r['gemm_quant_mode'] or r['precision']} not in catalog"
    limit = None
    if LAYOUTS["source"]:
        found = source_split(r)
        if isinstance(found, str):
            return found
        split, limit = found
    else:
        split = Split(_layout(r, "prefill"), int(r["prefill_num_workers"] or 1),
                      _layout(r, "decode"), int(r["decode_num_workers"] or 1))
    # as serving_calibration: the FP8 KV cache aiconfigurator reads into fp8 and nvfp4 runs, the client's
    # mean lengths, Dynamo's fixed-length client in lock step
    kv = "fp8-kv" if quant.id in ("fp8", "nvfp4") else "auto"
    model, arch = (cat.model(target), None) if isinstance(target, str) else _from_config(target)
    d = Deployment.of(cat, model=model, architecture=arch, gpu=gpu, quant=quant, kv_dtype=kv,
                      engine=cat.engines[ENGINES[r["backend"]]], gpus=split.gpus,
                      gpus_per_node=NVLINK_DOMAIN.get(r["system"], 8) if LAYOUTS["source"] else 8)
    in_step = 1.0 if r["source_kind"] == "gap_analysis_csv" else None
    from dsadvisor.serving.scheduler import scheduler_for

    # served through Dynamo, whose frontend tokenizes (as serving_calibration's Dynamo-served runs)
    sched = replace(scheduler_for(d.engine.id, d.gpu.memory_gb), per_prompt_token_s=0.0)
    if limit is not None:  # the recipe's max batch per decode instance: it replaces the engine's default
        # (TensorRT-LLM max_batch_size, per attention-DP rank: executor_request_queue.py
        # _fetch_new_requests_attention_dp admits tp_size * max_num_active_requests), not capped by it
        sched = replace(sched, max_running=limit)
    # the recipe's context-server MoE kernel (TensorRT-LLM moe_config.backend; the engine's default where unset)
    cfg = source_configs().get(r["id"]) if LAYOUTS["source"] else None
    backend = (cfg or {}).get("prefill_moe_backend", "").lower() or None
    return d, split, Workload(r["concurrency"], *harness_lengths(r), in_step=in_step), sched, backend


def compare_rows(cat, keep=None, sets=BASE):
    """One dict per run served (estimate / measured ratios) and the reasons for the rest, counted. ``sets``: which
    of serving_calibration's sets (``EVERY_SET``: the GB300 runs besides the base)."""
    from dsadvisor.serving.disaggregated import serve_disaggregated

    out = []
    served, skipped = served_runs(cat, build, serve_disaggregated, refused="refused", width=80, keep=keep, sets=sets)
    for r, built, s in served:
        if s.running == 0 or s.ttft_s is None:
            skipped["an instance holds no request"] += 1
            continue
        out.append({"id": r["id"], "split": r["split"], "set": run_set(r), "quant": r["gemm_quant_mode"], "engine": r["backend"], "system": r["system"],
                    "concurrency": r["concurrency"], "source_kind": r["source_kind"], "ttft_ratio": s.ttft_s * 1e3 / float(r["silicon_ttft_ms"]),
                    "tpot_ratio": s.tpot_s * 1e3 / float(r["silicon_tpot_ms"])})
    return out, skipped


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--by", default="engine", choices=("engine", "system", "concurrency", "source_kind", "quant"))
    ap.add_argument("--layouts", default="source", choices=("source", "recorded"),
                    help="instances from InferenceX's launch config (default) or the sample's own fields")
    ap.add_argument("--sets", default=",".join(EVERY_SET),
                    help=f"sets compared, comma-separated ({', '.join(EVERY_SET)}; each reported apart, then all)")
    ap.add_argument("--only-source", action="store_true",
                    help="with --layouts recorded: only the runs the launch config identifies")
    args = ap.parse_args(argv)
    LAYOUTS["source"] = args.layouts == "source"
    from dsadvisor.catalog.store import load_catalog

    keep = None
    if args.only_source:
        keep = lambda r: isinstance(source_split(r), tuple)  # noqa: E731
    out, skipped = compare_rows(load_catalog(use_env=False), keep, tuple(args.sets.split(",")))
    report_sets(out, args.by)  # fit and hold-out apart, as the aggregated runs are
    print("\nnot compared:", dict(skipped.most_common(8)), f"(+{max(0, len(skipped) - 8)} more reasons)")


if __name__ == "__main__":
    sys.exit(main())
