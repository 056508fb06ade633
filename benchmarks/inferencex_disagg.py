"""What NVIDIA's disaggregated DeepSeek runs in aiconfigurator's silicon_sample were, read from the
configuration that launched them: SemiAnalysis InferenceX's ``nvidia-master.yaml`` at the run's date.

The sample's disaggregated rows come from InferenceX's Dynamo runs (their images, dates and config ids
are InferenceX's), but the dated-csv rows keep only the GPUs of one prefill and one decode instance:
not how many of each ran, not data-parallel attention, not MTP. InferenceX's config lists, per model,
GPU, engine and sequence lengths, search-space entries: the concurrencies run, each side's
``num-worker``, ``tp``, ``ep``, ``dp-attn``, ``spec-decoding`` and the recipe file (NVIDIA srt-slurm)
that set the engine's flags. A row is matched to the entries of the config at its measurement date
whose concurrency list holds its concurrency and whose instances have its GPUs (and, for db-dump rows
that record them, its attention DP and workers). Rows that two differing entries match are marked
``ambiguous`` and not used: the sample does not say which of them it was.

MTP depth: TensorRT-LLM recipe names end in ``mtp<k>`` (k draft tokens); SGLang recipes set
``speculative-num-steps`` (EAGLE with top-k 1: k draft tokens), read from NVIDIA/srt-slurm.
SGLang's decode
server admits the recipe's ``max-running-requests`` (``decode_max_running``; empty where the recipe sets
none or is not in the srt-slurm snapshot). TensorRT-LLM's fused-MoE kernel on each side is the recipe's
``moe_config.backend`` (``prefill_moe_backend``, ``decode_moe_backend``: DEEPGEMM, TRTLLM, CUTLASS, ...; empty where
the recipe sets none or is not in the snapshot), read after the match so it cannot split a match in two.

    python benchmarks/inferencex_disagg.py --inferencex <InferenceX git dir> --srt-slurm <srt-slurm git dir>

(the git directories of github.com/SemiAnalysisAI/InferenceX and github.com/NVIDIA/srt-slurm; bare
clones are fine). Writes benchmarks/data/aiconfigurator/disagg_configs.csv; deterministic.
"""

from __future__ import annotations

import argparse
import csv
import functools
import re
import subprocess
import sys
from pathlib import Path

import yaml

DATA = Path(__file__).resolve().parent / "data" / "aiconfigurator"
OUT = DATA / "disagg_configs.csv"
GPUS = {"b200_sxm": "b200", "b300_sxm": "b300", "h100_sxm": "h100", "h200_sxm": "h200", "gb200": "gb200",
        "gb300": "gb300"}
FRAMEWORKS = {"trtllm": "dynamo-trt", "sglang": "dynamo-sglang", "vllm": "dynamo-vllm"}
# silicon model_path -> InferenceX's model-prefix (Kimi-K2.5's runs: its GB200 Dynamo entries, from 2026-04)
PREFIXES = {"deepseek-ai/DeepSeek-R1": "dsr1", "deepseek-ai/DeepSeek-V3": "dsr1", "moonshotai/Kimi-K2.5": "kimik2.5"}
CONFIG_PATHS = (".github/configs/nvidia-master.yaml", "configs/nvidia-master.yaml")
FIELDS = ["id", "match", "inferencex_commit", "config_key", "prefill_workers", "prefill_tp", "prefill_ep",
          "prefill_dp_attention", "decode_workers", "decode_tp", "decode_ep", "decode_dp_attention", "mtp",
          "decode_batch", "decode_max_running", "recipe", "prefill_moe_backend", "decode_moe_backend"]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", str(repo), *args], check=True, capture_output=True,
                          text=True).stdout


@functools.lru_cache(maxsize=None)
def config_at(repo: Path, day: str) -> tuple[str, dict]:
    """(commit, parsed nvidia-master.yaml) as of the end of ``day``."""
    for path in CONFIG_PATHS:
        commit = git(repo, "log", "-1", "--format=%H", f"--until={day} 23:59:59", "main", "--", path).strip()
        if commit:
            return commit, yaml.safe_load(git(repo, "show", f"{commit}:{path}"))
    return "", {}


@functools.lru_cache(maxsize=None)
def sglang_draft_tokens(srt: Path, recipe: str) -> int | None:
    """speculative-num-steps of the decode side of an srt-slurm SGLang recipe (None: not found)."""
    try:
        text = git(srt, "show", f"HEAD:{recipe}")
    except subprocess.CalledProcessError:
        return None
    steps = re.findall(r"speculative-num-steps:\s*(\d+)", text)
    return int(steps[-1]) if steps else 0


@functools.lru_cache(maxsize=None)
def engine_flags(srt: Path, recipe: str, side: str) -> dict:
    """One side's engine flags in an srt-slurm recipe (``backend.sglang_config.decode``, ...; {} when the
    recipe is not in the snapshot or sets none)."""
    try:
        text = git(srt, "show", f"HEAD:{recipe}")
    except subprocess.CalledProcessError:
        return {}
    backend = (yaml.safe_load(text) or {}).get("backend") or {}
    return (backend.get("sglang_config") or backend.get("trtllm_config") or {}).get(side) or {}


def moe_backends(srt: Path, recipe: str) -> dict:
    """The recipe's ``moe_config.backend`` on each side (TensorRT-LLM; empty where it sets none)."""
    return {f"{side}_moe_backend": ((engine_flags(srt, recipe, side) if recipe else {}).get("moe_config") or {})
            .get("backend", "") for side in ("prefill", "decode")}


def recipe_of(side: dict) -> str:
    for s in side.get("additional-settings") or []:
        if s.startswith("CONFIG_FILE="):
            return s.split("=", 1)[1]
    return ""


def describe(entry: dict, srt: Path) -> dict:
    """The fields a matched search-space entry gives."""
    pre, dec = entry["prefill"], entry["decode"]
    recipe = recipe_of(pre) or recipe_of(dec)
    mtp: int | str = 0
    if entry.get("spec-decoding", "none") not in ("none", None):
        m = re.search(r"_mtp(\d+)(?:_\d+)?\.yaml$", recipe)  # name may end in the concurrency: _mtp3_896.yaml
        found = int(m.group(1)) if m else sglang_draft_tokens(srt, recipe) if recipe else None
        mtp = "?" if found is None else found
    batch = re.search(r"_batch(\d+)_", recipe)
    # SGLang's decode server admits --max-running-requests over all its DP ranks (recipe flag; unset: the
    # engine's default, left to dsadvisor's scheduler); TensorRT-LLM's is the recipe name's batch per rank
    running = engine_flags(srt, recipe, "decode").get("max-running-requests", "") if recipe else ""
    return {"prefill_workers": pre["num-worker"], "prefill_tp": pre["tp"], "prefill_ep": pre["ep"],
            "prefill_dp_attention": int(bool(pre["dp-attn"])), "decode_workers": dec["num-worker"],
            "decode_tp": dec["tp"], "decode_ep": dec["ep"], "decode_dp_attention": int(bool(dec["dp-attn"])),
            "mtp": mtp, "decode_batch": batch.group(1) if batch else "", "decode_max_running": running,
            "recipe": recipe}


def gpus(r: dict, side: str) -> int:
    return int(r[f"{side}_tp_size"] or 1) * max(1, int(r[f"{side}_attention_dp_size"] or 1))


def candidates(r: dict, concurrency: int, source_kind: str, cfg: dict, srt: Path) -> list[tuple[str, dict]]:
    gpu, fw = GPUS.get(r["system"]), FRAMEWORKS.get(r["backend"])
    out = []
    for key, c in cfg.items():
        if not (isinstance(c, dict) and c.get("disagg") and c.get("model-prefix") == PREFIXES.get(r["model_path"])
                and c.get("precision") == r["precision"] and c.get("framework") == fw
                and str(c.get("runner", "")).split("-")[0] == gpu):
            continue
        for seq in c.get("seq-len-configs", []):
            if (seq["isl"], seq["osl"]) != (int(r["isl"]), int(r["osl"])):
                continue
            for e in seq["search-space"]:
                if concurrency not in e.get("conc-list", []):
                    continue
                if e["prefill"]["tp"] != gpus(r, "prefill") or e["decode"]["tp"] != gpus(r, "decode"):
                    continue
                if source_kind == "db_dump" and not recorded_layout_agrees(r, e):
                    continue
                out.append((key, describe(e, srt)))
    return out


def recorded_layout_agrees(r: dict, e: dict) -> bool:
    """A db-dump row records each side's attention DP and workers: the entry must have them. vLLM's rows record no
    attention DP where the recipe runs it (Kimi-K2.5's ``dep4`` prefill: vLLM's --data-parallel-size, which the
    sample's attention_dp_size does not carry): there the workers alone must agree."""
    for side in ("prefill", "decode"):
        dp = max(1, int(r[f"{side}_attention_dp_size"] or 1)) > 1
        dp_differs = bool(e[side]["dp-attn"]) != dp and r["backend"] != "vllm"
        if dp_differs or e[side]["num-worker"] != int(r[f"{side}_num_workers"] or 1):
            return False
    return True


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--inferencex", type=Path, required=True, help="git directory of SemiAnalysisAI/InferenceX")
    ap.add_argument("--srt-slurm", type=Path, required=True, help="git directory of NVIDIA/srt-slurm")
    args = ap.parse_args(argv)
    split = {s["id"]: s for s in csv.DictReader(open(DATA / "silicon_sample_split.csv", encoding="utf-8"))}
    rows = []
    for r in csv.DictReader(open(DATA / "silicon_sample.csv", encoding="utf-8")):
        s = split[r["id"]]
        if r["mode"] != "disagg" or r["model_path"] not in PREFIXES or s["source_kind"] == "gap_analysis_csv":
            continue
        row = {"id": r["id"]}
        commit, cfg = config_at(args.inferencex, s["measured"])
        found = candidates(r, int(s["concurrency"] or 0), s["source_kind"], cfg, args.srt_slurm)
        kinds = {tuple(sorted(d.items())) for _, d in found}
        row["inferencex_commit"] = commit[:12]
        if not found:
            row["match"] = "none"
        elif len(kinds) > 1:
            row["match"] = "ambiguous"
            row["config_key"] = " | ".join(sorted({k for k, _ in found}))
        else:
            row.update(match="unique", config_key=found[0][0], **found[0][1])
            row.update(moe_backends(args.srt_slurm, row["recipe"]))
        rows.append(row)
    with open(OUT, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["match"]] = counts.get(row["match"], 0) + 1
    print(f"{OUT.name}: {len(rows)} rows, {counts}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
