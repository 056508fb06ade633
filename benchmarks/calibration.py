"""Print the estimator's error against every measurement set in the repository.

    python benchmarks/calibration.py           # summary: set x engine x metric x device class x fit/held-out
    python benchmarks/calibration.py --rows    # and every row
    python benchmarks/calibration.py --published-rows  # and every published row, by engine, device class, metric

Sets: benchmarks/data/*.jsonl (H100, the fit set of the memory and decode constants), benchmarks/gpu/results/
(H100, H200, 2 x H200 measured for this project: held out), benchmarks/data/llamacpp-h200/ (llama.cpp on an H200;
the models and formats named in its README are held out, the rest is the fit set of the llama.cpp constants),
benchmarks/data/llamacpp-h200-may2024/ (llama.cpp's May 2024 build b228aba on an H200: the LLaMA-7B shape fit, the
Llama-3-8B shape held out),
benchmarks/data/aiconfigurator/silicon_sample.csv (NVIDIA's served runs: per-request TTFT and TPOT under load,
split fit / held-out by silicon_sample_split.csv; the disaggregated runs as their own set, their instances read
from InferenceX's launch config, data/aiconfigurator/disagg_configs.csv).
Targets (issue 12): decode within 15%, prompt time and batched decode within 25%, weights within 5%.
"""

from __future__ import annotations

import statistics
import sys
from dataclasses import replace
from pathlib import Path

from dsadvisor.catalog.store import load_catalog
from dsadvisor.physics.calibration import (
    compare_decode,
    compare_llamacpp,
    compare_published,
    compare_transformers,
    published_unknown,
    read_rows,
)

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"  # the calibration set the constants were fitted to
HELD_OUT = HERE / "gpu" / "results"  # measured here, not fitted to
LLAMACPP = DATA / "llamacpp-h200" / "h200-lcpp.jsonl"
LLAMACPP_DEPTH = DATA / "llamacpp-h200" / "h200-lcpp-depth.jsonl"  # run 7: long context
# llama.cpp b228aba (2024-05-12) on an H200, rows in the published rows' form (engine_version): LLaMA-7B shape fit,
# Llama-3-8B shape held out (its README)
LLAMACPP_MAY2024 = DATA / "llamacpp-h200-may2024" / "h200-may2024.jsonl"
PUBLISHED = DATA / "published"  # published measurements, each row with its source, conditions and part


def collect(catalog) -> list[tuple[str, list]]:
    """(set name, comparisons) for every measurement set."""
    sets = []
    for path in sorted(DATA.glob("*.jsonl")) + sorted(HELD_OUT.glob("*.jsonl")):
        rows = read_rows(path)
        comps = compare_transformers(catalog, rows) + compare_decode(catalog, rows)
        if path.parent == HELD_OUT:
            comps = [replace(c, held_out=True) for c in comps]
        if comps:
            sets.append((path.stem, comps))
    sets.append(("llamacpp-h200", compare_llamacpp(catalog, read_rows(LLAMACPP))))
    sets.append(("llamacpp-h200-depth", compare_llamacpp(catalog, read_rows(LLAMACPP_DEPTH))))
    sets.append(("llamacpp-h200-may2024", compare_published(catalog, read_rows(LLAMACPP_MAY2024))))
    for path in sorted(PUBLISHED.glob("*.jsonl")):
        rows = comparable(path)
        steps = compare_published(catalog, [r for r in rows if "served" not in r])
        sets.append((path.stem, steps + compare_served(catalog, [r for r in rows if "served" in r])))
    return sets


def compare_served(catalog, rows: list[dict]) -> list:
    """Published served runs (``served``: isl, osl, concurrency): the server model's mean TPOT at that workload
    against the measured one (one step of ``batch`` = concurrency sequences: the TPOT)."""
    from dsadvisor.physics.calibration import Comparison, _published_deployment
    from dsadvisor.serving.server import serve
    from dsadvisor.serving.workload import Workload

    out = []
    for r in rows:
        w = r["served"]
        _, s = serve(_published_deployment(catalog, r), Workload(w["concurrency"], w["isl"], w["osl"]))
        if r.get("per_user_with_ttft"):  # trtllm-bench's per-user rate: OSL over the whole request
            measured = 1 / r["tokens_per_s"]
            estimated = (s.ttft_s + (w["osl"] - 1) * s.tpot_s) / w["osl"]
        else:  # the client's mean TPOT (tokens_per_s = concurrency / TPOT)
            measured, estimated = r["batch"] / r["tokens_per_s"], s.tpot_s
        out.append(Comparison(r["metric"], r["model"], r["batch"], r["tokens"], measured,
                              estimated, quant=r["quant"], engine=r["engine"], device=r["gpu"],
                              held_out=r["part"] == "held-out", gpus=r.get("gpus", 1)))
    return out


def comparable(path: Path) -> list[dict]:
    """The rows of a published set one estimate can judge: a token count given, a layout the estimator can pin
    (one GPU, or ``gpus``/``tp`` datacenter rows) and not marked ``comparable: false``; expert-offload rows
    (``cpu_moe_layers``) have their own comparison (tests/test_offload.py). The others are named, not dropped."""
    rows = read_rows(path)
    keep = [r for r in rows if "tokens" in r and r.get("comparable", True) and "cpu_moe_layers" not in r]
    for r in rows:
        if r not in keep:
            why = r.get("not_compared") or ("expert offload, compared in tests/test_offload.py"
                                            if "cpu_moe_layers" in r else "no token count")
            line = (f"{path.stem}: not compared: {r['engine']} {r['gpu']} x{r.get('gpus', 1)} {r['model']} "
                    f"{r['quant']} ({r['source']}): {why}")
            if line not in _NAMED:  # each table reads the sets again; name a row once
                _NAMED.add(line)
                print(line, file=sys.stderr)
    return keep


_NAMED: set[str] = set()


def device_class(catalog, c) -> str:
    """consumer / apple / datacenter / workstation / edge, or multi-GPU for a row on several GPUs."""
    if c.gpus > 1:
        return "multi-GPU"
    return catalog.gpus[c.device].category if c.device in catalog.gpus else "?"


def vendor(catalog, c) -> str:
    """nvidia / amd / apple / ... : the catalog's vendor of the row's GPU."""
    return catalog.gpus[c.device].vendor if c.device in catalog.gpus else "?"


def summary(sets, catalog) -> list[str]:
    groups: dict[tuple, list[float]] = {}
    for name, comps in sets:
        for c in comps:
            if c.engine == "transformers" and c.quantity == "prefill" and c.tokens < 2048:
                continue  # eager short prompts are host-bound and noisy (benchmarks/gpu/README.md); target >= 2K
            cls = device_class(catalog, c)
            part = "held-out" if c.held_out else "fit"
            groups.setdefault((name, c.engine, c.quantity, cls, part), []).append(abs(c.error))
    head = (f"{'set':26} {'engine':12} {'metric':15} {'device':10} {'part':8} {'n':>4} {'max':>7} {'median':>7} "
            f"{'<=15%':>6} {'<=25%':>6}")
    lines = [head, "-" * len(head)]
    for key in sorted(groups):
        e = groups[key]
        within = sum(x <= 0.15 for x in e) / len(e)
        within25 = sum(x <= 0.25 for x in e) / len(e)
        lines.append(f"{key[0]:26} {key[1]:12} {key[2]:15} {key[3]:10} {key[4]:8} {len(e):4d} {max(e):7.1%} "
                     f"{statistics.median(e):7.1%} {within:6.0%} {within25:6.0%}")
    return lines


def published_summary(sets, catalog) -> list[str]:
    """Every published row together (issue 12's target: median error <= 10 %, 80 % within 15 %), by engine, by
    device class and by the GPU's vendor (round 9's AMD rows apart), fit and held-out apart."""
    rows = [c for name, comps in sets if name.endswith("-published") for c in comps]
    groups: dict[tuple, list[float]] = {}
    for c in rows:
        part = "held-out" if c.held_out else "fit"
        for key in (("all published rows", "", part), ("engine", c.engine, part),
                    ("device class", device_class(catalog, c), part), ("GPU vendor", vendor(catalog, c), part)):
            groups.setdefault(key, []).append(abs(c.error))
    head = f"{'published':20} {'':12} {'part':8} {'n':>4} {'median':>7} {'<=15%':>6} {'<=25%':>6} {'max':>7}"
    lines = [head, "-" * len(head)]
    for key in sorted(groups, key=lambda k: (k[0] != "all published rows", k)):
        e = groups[key]
        lines.append(f"{key[0]:20} {key[1]:12} {key[2]:8} {len(e):4d} {statistics.median(e):7.1%} "
                     f"{sum(x <= 0.15 for x in e) / len(e):6.0%} {sum(x <= 0.25 for x in e) / len(e):6.0%} "
                     f"{max(e):7.1%}")
    return lines


def published_rows(catalog) -> list[str]:
    """Every compared published row, grouped as the misses are read (engine, device class, metric), worst first
    within a group: error, part, GPU x count, model, format, batch, tokens, the release it ran and its source."""
    out = []
    for path in sorted(PUBLISHED.glob("*.jsonl")):
        rows = comparable(path)
        steps, served = [r for r in rows if "served" not in r], [r for r in rows if "served" in r]
        out += zip(steps + served, compare_published(catalog, steps) + compare_served(catalog, served))
    out.sort(key=lambda rc: (rc[0]["engine"], device_class(catalog, rc[1]), rc[0]["metric"], -abs(rc[1].error)))
    return [f"{c.error:+7.1%} {'held-out' if c.held_out else 'fit':8} {r['engine']:12} {device_class(catalog, c):11} "
            f"{r['gpu']} x{r.get('gpus', 1)} {r['model']} {r['quant']} {r['metric']} b{r['batch']} t{r['tokens']} "
            f"[{r.get('engine_version', 'no version')}] {r['source']}" for r, c in out]


def served_summary(catalog) -> list[str]:
    """NVIDIA's served runs: per-request TTFT and TPOT by engine and concurrency band, fit and held-out."""
    sys.path.insert(0, str(HERE))
    import serving_calibration

    out, _ = serving_calibration.compare_rows(catalog)
    return serving_calibration.summary_lines(out)


def disagg_summary(catalog) -> list[str]:
    """NVIDIA's disaggregated runs (InferenceX's Dynamo deployments, instances read from their launch config):
    per-request TTFT and TPOT by engine and concurrency band, fit and held-out (benchmarks/disagg_calibration.py)."""
    sys.path.insert(0, str(HERE))
    import disagg_calibration
    import serving_calibration

    out, _ = disagg_calibration.compare_rows(catalog)
    return serving_calibration.summary_lines(out)


def new_set_summaries(catalog) -> list[str]:
    """The served runs first compared after the fit (serving_calibration.NEW_SETS: GB300, Kimi-K2.5), each set
    apart, aggregated and disaggregated, then every set together: the base tables above stay comparable."""
    sys.path.insert(0, str(HERE))
    import disagg_calibration
    import serving_calibration

    lines = []
    for kind, script in (("aggregated", serving_calibration), ("disaggregated", disagg_calibration)):
        out, _ = script.compare_rows(catalog, sets=serving_calibration.EVERY_SET)
        for name in (*serving_calibration.NEW_SETS, "every set"):
            part = [o for o in out if name in ("every set", o["set"])]
            if part:
                lines += [f"\nserved runs, {kind}, {name} ({len(part)} runs):", *serving_calibration.summary_lines(part)]
    return lines


def main(argv: list[str]) -> None:
    catalog = load_catalog()
    sets = collect(catalog)
    if "--rows" in argv:
        for name, comps in sets:
            print(f"\n{name}")
            print(f"{'metric':15} {'model':22} {'quant':7} {'batch':>5} {'tokens':>6} {'measured':>11} "
                  f"{'estimated':>11} {'error':>7}")
            for c in comps:
                print(f"{c.quantity:15} {c.model:22} {c.quant:7} {c.batch:5d} {c.tokens:6d} {c.measured:11.4g} "
                      f"{c.estimated:11.4g} {c.error:+7.1%}{'  held-out' if c.held_out else ''}")
        print()
    if "--published-rows" in argv:
        print("\n".join(published_rows(catalog)) + "\n")
    print("\n".join(summary(sets, catalog)))
    print("\npublished rows, all sets (target: median <= 10 %, 80 % within 15 %):")
    print("\n".join(published_summary(sets, catalog)))
    print("\nserved runs (aiconfigurator silicon_sample, aggregated; benchmarks/serving_calibration.py):")
    print("\n".join(served_summary(catalog)))
    print("\nserved runs, disaggregated prefill/decode (aiconfigurator silicon_sample; benchmarks/disagg_calibration.py):")
    print("\n".join(disagg_summary(catalog)))
    print("\n".join(new_set_summaries(catalog)))
    for path in sorted(PUBLISHED.glob("*.jsonl")):
        for r in published_unknown(catalog, comparable(path)):
            print(f"no estimate: {path.stem} {r['gpu']} {r['model']} {r['quant']} {r['metric']} ({r['source']}): "
                  "the GPU has no compute rate in the catalog")


if __name__ == "__main__":
    main(sys.argv[1:])
