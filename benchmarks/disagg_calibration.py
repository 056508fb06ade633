"""dsadvisor's disaggregated prefill/decode model against NVIDIA's measured disaggregated runs
(aiconfigurator silicon_sample, ``mode == disagg``): each run is estimated with the prefill and decode
instances it was measured with and its concurrency; mean TTFT and TPOT are compared. Nothing is fitted
on these runs; the fit / hold-out parts (silicon_sample_split.csv) are still reported apart, so a later
fit on the fit part keeps an honest hold-out.

    python benchmarks/disagg_calibration.py [--by engine|system|concurrency]
"""

from __future__ import annotations

import argparse
import sys

from serving_calibration import ENGINES, MODELS, QUANTS, SYSTEMS, harness_lengths, report, served_runs


def _layout(r, side: str):
    from dsadvisor.physics.timing import Layout

    tp, dp = int(r[f"{side}_tp_size"] or 1), max(int(r[f"{side}_attention_dp_size"] or 1), 1)
    moe_tp, moe_ep = int(r[f"{side}_moe_tp_size"] or 1), int(r[f"{side}_moe_ep_size"] or 1)
    if dp == 1 and moe_tp > 1 and moe_ep > 1 and tp == moe_tp * moe_ep:  # tp N x ep N spelled as tp N*N
        tp = moe_tp
    return Layout(tp=tp * dp, ep=moe_ep > 1, dp_attention=dp)


def build(cat, r):
    """(Deployment, Split, Workload) for a measured disaggregated run, or why it cannot be built."""
    from dsadvisor.physics.estimate import Deployment
    from dsadvisor.serving.disaggregated import Split
    from dsadvisor.serving.workload import Workload

    if r["mode"] != "disagg":
        return "aggregated (benchmarks/serving_calibration.py)"
    target = MODELS.get(r["model_path"])
    if target is None or not isinstance(target, str):
        return "model not in catalog"
    gpu = cat.gpus.get(SYSTEMS.get(r["system"], ""))
    if gpu is None:
        return f"GPU {r['system']} not in catalog"
    quant = cat.quantizations.get(QUANTS.get(r["gemm_quant_mode"] or r["precision"], ""))
    if quant is None:
        return f"format {r['gemm_quant_mode'] or r['precision']} not in catalog"
    split = Split(_layout(r, "prefill"), int(r["prefill_num_workers"] or 1),
                  _layout(r, "decode"), int(r["decode_num_workers"] or 1))
    # as serving_calibration: the FP8 KV cache aiconfigurator reads into fp8 and nvfp4 runs, the client's
    # mean lengths, Dynamo's fixed-length client in lock step
    kv = "fp8-kv" if quant.id in ("fp8", "nvfp4") else "auto"
    d = Deployment.of(cat, model=cat.model(target), gpu=gpu, quant=quant, kv_dtype=kv,
                      engine=cat.engines[ENGINES[r["backend"]]], gpus=split.gpus, gpus_per_node=8)
    in_step = 1.0 if r["source_kind"] == "gap_analysis_csv" else None
    return d, split, Workload(r["concurrency"], *harness_lengths(r), in_step=in_step)


def compare_rows(cat):
    from dsadvisor.serving.disaggregated import serve_disaggregated

    out = []
    served, skipped = served_runs(cat, build, serve_disaggregated, refused="refused", width=80)
    for r, built, s in served:
        if s.running == 0 or s.ttft_s is None:
            skipped["an instance holds no request"] += 1
            continue
        out.append({"id": r["id"], "split": r["split"], "engine": r["backend"], "system": r["system"],
                    "concurrency": r["concurrency"], "ttft_ratio": s.ttft_s * 1e3 / float(r["silicon_ttft_ms"]),
                    "tpot_ratio": s.tpot_s * 1e3 / float(r["silicon_tpot_ms"])})
    return out, skipped


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--by", default="engine", choices=("engine", "system", "concurrency"))
    args = ap.parse_args(argv)
    from dsadvisor.catalog.store import load_catalog

    out, skipped = compare_rows(load_catalog(use_env=False))
    report(out, args.by)  # fit and hold-out apart, as the aggregated runs are
    print("\nnot compared:", dict(skipped.most_common(8)), f"(+{max(0, len(skipped) - 8)} more reasons)")


if __name__ == "__main__":
    sys.exit(main())
