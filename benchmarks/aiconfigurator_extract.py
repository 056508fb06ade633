"""Regenerate benchmarks/data/aiconfigurator/ from an installed aiconfigurator-core (NVIDIA, Apache-2.0).

aiconfigurator-core is NOT a dsadvisor dependency: run this only in a throwaway venv.

    python3 -m venv /tmp/aic && /tmp/aic/bin/pip install aiconfigurator-core==0.12.0
    /tmp/aic/bin/python benchmarks/aiconfigurator_extract.py \
        [--out benchmarks/data/aiconfigurator] [--configs-out /work/research/configs]

It reads the package's files (systems/silicon_sample.csv, systems/*.yaml and the per-kernel parquet
tables under systems/data/) without importing the package, and writes compact CSVs with the source
path and engine version on every row. The hold-out rule (`split_rows`) needs only the standard library,
so tests re-derive the committed split without pandas. README.md in the output folder describes
every file and column.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import importlib.metadata
import importlib.util
import json
import re
import shutil
from pathlib import Path

OUT = Path(__file__).resolve().parent / "data" / "aiconfigurator"

# ---- silicon_sample split: stdlib only (tests import this) ------------------------------------

# A deployment = everything but the load (batch/concurrency) and the workload (isl/osl) and the
# engine build: all concurrency points, workloads and versions of one layout land on the same side,
# so the hold-out measures layouts the fit never saw, not neighbours on a measured curve.
_LAYOUT = ("tp_size", "pp_size", "attention_dp_size", "moe_tp_size", "moe_ep_size")
SPLIT_FIELDS = (
    ("model_path", "system", "backend", "mode", "precision", "gemm_quant_mode", "moe_quant_mode")
    + _LAYOUT
    + tuple(f"{stage}_{f}" for stage in ("prefill", "decode") for f in (*_LAYOUT, "num_workers"))
)
HOLDOUT_PERCENT = 30  # of deployment components, which comes to ~30% of rows (README.md gives the count)


def _norm(value: str) -> str:
    """'4.0' and '4' are the same layout; text stays as written."""
    try:
        number = float(value)
    except ValueError:
        return value
    return str(int(number)) if number.is_integer() else value


def split_group(row: dict[str, str]) -> str:
    """First 12 hex digits of sha256 over the deployment fields (see SPLIT_FIELDS)."""
    key = "|".join(_norm(row.get(f, "") or "") for f in SPLIT_FIELDS)
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def measurement_key(row: dict[str, str]) -> str:
    """The measured pair to 0.01 ms: one run appears under up to three ids (and two layout spellings), its
    figures written with other digits (``798.5432`` in one file, ``798.54`` in another)."""
    try:
        return f"{float(row['silicon_ttft_ms']):.2f}|{float(row['silicon_tpot_ms']):.2f}"
    except ValueError:
        return row["silicon_ttft_ms"] + "|" + row["silicon_tpot_ms"]


def _kept_copies(rows: list[dict[str, str]]) -> dict[str, str]:
    """Measurement -> the id of the copy kept: the first db-dump row (its config id names InferenceX's launch
    flags, which the calibration reads), else the first in file order."""
    kept: dict[str, tuple[str, bool]] = {}  # measurement -> (id, from a db dump)
    for row in rows:
        key, dump = measurement_key(row), row.get("silicon_data_source", "").startswith("db-dump/")
        if key not in kept or (dump and not kept[key][1]):
            kept[key] = (row["id"], dump)
    return {key: kept_id for key, (kept_id, _) in kept.items()}


def split_components(rows: list[dict[str, str]]) -> dict[str, str]:
    """Deployment group -> the smallest group it shares any measurement with (transitively).

    Duplicated runs would otherwise leak: the same numbers filed under a second layout spelling can
    hash to the other side. Joining groups that share a measurement keeps every copy on one side."""
    parent: dict[str, str] = {}

    def find(g: str) -> str:
        while parent.setdefault(g, g) != g:
            parent[g] = parent[parent[g]]
            g = parent[g]
        return g

    first_group: dict[str, str] = {}
    for row in rows:
        g = find(split_group(row))
        other = find(first_group.setdefault(measurement_key(row), g))
        if other != g:
            parent[max(g, other)] = min(g, other)
    return {g: find(g) for g in list(parent)}


def split_of(group: str) -> str:
    """'holdout' for ~30% of components: int(component, 16) % 100 < 30, else 'fit'."""
    return "holdout" if int(group, 16) % 100 < HOLDOUT_PERCENT else "fit"


def split_rows(rows: list[dict[str, str]]) -> list[tuple[str, str, str]]:
    """(split, component, same_measurement_as) per row, in file order."""
    component = split_components(rows)
    kept = _kept_copies(rows)
    out = []
    for row in rows:
        comp = component[split_group(row)]
        seen = kept[measurement_key(row)]
        out.append((split_of(comp), comp, "" if seen == row["id"] else seen))
    return out


def _source_kind(source: str) -> str:
    if source.startswith("db-dump/"):
        return "db_dump"
    if re.match(r"source_file=\d{4}-\d{2}-\d{2}\.csv", source):
        return "dated_csv"
    return "gap_analysis_csv"


def _field(source: str, name: str) -> str:
    match = re.search(rf"(?:^|; ){name}=([^;]*)", source)
    return match.group(1) if match else ""


def write_split(sample: Path, out: Path) -> dict[str, int]:
    with sample.open(newline="") as f:
        rows = list(csv.DictReader(f))
    counts = {"fit": 0, "holdout": 0}
    with out.open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["id", "split", "split_group", "same_measurement_as", "concurrency", "source_kind", "measured"])
        for row, (split, comp, same) in zip(rows, split_rows(rows)):
            src = row["silicon_data_source"]
            counts[split] += 1
            w.writerow([row["id"], split, comp, same, _field(src, "silicon_concurrency"),
                        _source_kind(src), _field(src, "measured")[:10]])
    return counts


# ---- per-kernel tables (numpy/pandas/pyarrow/yaml/packaging come with aiconfigurator-core) ----

GEMM_SYSTEMS = ("h100_sxm", "h200_sxm", "b200_sxm", "gb200", "a100_sxm", "l40s", "rtx_pro_6000_server")
KERNEL_SYSTEMS = ("h100_sxm", "h200_sxm", "b200_sxm", "gb200")
BACKENDS = ("trtllm", "sglang", "vllm")
POW2 = [2**i for i in range(16)]  # M / tokens 1..32768
# (N, K): small, square, and DeepSeek-V3-like (hidden 7168, expert/shared 2048, o_proj 16384)
GEMM_NK = [(1024, 1024), (4096, 4096), (8192, 8192), (2048, 7168), (7168, 2048), (16384, 7168), (7168, 16384)]
PEAK_KEY = {"bfloat16": "bfloat16_tc_flops", "fp8": "fp8_tc_flops", "fp8_block": "fp8_tc_flops",
            "nvfp4": "fp4_tc_flops", "int8_wo": "bfloat16_tc_flops", "int4_wo": "bfloat16_tc_flops",
            "sq": "int8_tc_flops", "w4a16_mxfp4": "bfloat16_tc_flops"}
# bytes per weight / per activation element; nvfp4 carries one fp8 scale per 16 values
W_BYTES = {"bfloat16": 2, "fp8": 1, "fp8_block": 1, "nvfp4": 0.5625, "int8_wo": 1, "int4_wo": 0.5,
           "sq": 1, "w4a16_mxfp4": 0.53125}
A_BYTES = {"bfloat16": 2, "fp8": 1, "fp8_block": 1, "nvfp4": 0.5625, "int8_wo": 2, "int4_wo": 2,
           "sq": 1, "w4a16_mxfp4": 2}
KV_BYTES = {"bfloat16": 2, "fp8": 1, "float16": 2}


class Package:
    """The installed aiconfigurator-core: its folder, version and system specs."""

    def __init__(self) -> None:
        import yaml

        spec = importlib.util.find_spec("aiconfigurator_core")  # no import: the Rust core is not needed
        if spec is None or not spec.submodule_search_locations:
            raise SystemExit("aiconfigurator-core is not installed in this Python (see the module docstring)")
        self.root = Path(list(spec.submodule_search_locations)[0])
        self.restamped: dict[str, list[str]] = {}  # source -> version written inside the table
        self.version = importlib.metadata.version("aiconfigurator-core")
        self.systems = self.root / "systems"
        self.slots = yaml.safe_load((self.systems / "query_versions.yaml").read_text())
        self.spec = {p.stem: yaml.safe_load(p.read_text()) for p in self.systems.glob("*.yaml")
                     if "gpu" in (yaml.safe_load(p.read_text()) or {})}

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def table(self, system: str, family: str, backend: str, name: str) -> Path | None:
        """The queryable 'current' version's table, else the newest version that has it."""
        from packaging.version import InvalidVersion, Version

        base = self.systems / "data" / system / family / backend
        if not base.is_dir():
            return None
        slot = (self.slots.get("overrides", {}).get(system, {}) or {}).get(backend) \
            or self.slots["defaults"].get(backend, {})
        current = base / str((slot or {}).get("current")) / name
        if current.is_file():
            return current

        def order(p: Path):
            try:
                return (1, Version(p.parent.name))
            except InvalidVersion:
                return (0, Version("0"))

        found = sorted(base.glob(f"*/{name}"), key=order)
        return found[-1] if found else None


def _read(pkg: Package, path: Path):
    """A table with its source path; `version` is its folder, the version aiconfigurator files it under."""
    import pandas as pd

    df = pd.read_parquet(path)
    stamped = {str(v) for v in df["version"].unique()} if "version" in df else set()
    if stamped - {path.parent.name}:  # a few tables carry another engine version inside
        pkg.restamped[pkg.rel(path)] = sorted(stamped)
    df["version"] = path.parent.name
    df["source"] = pkg.rel(path)
    return df


def _gpu(pkg: Package, system: str) -> dict:
    return pkg.spec[system]["gpu"]


def _peak(pkg: Package, system: str, dtype: str) -> float:
    return float(_gpu(pkg, system).get(PEAK_KEY.get(dtype, ""), "nan"))


def _peaks(pkg: Package, systems, dtypes):
    """Datasheet dense peak (FLOP/s) per row, from the package's systems/<system>.yaml."""
    import numpy as np

    table = {(s, d): _peak(pkg, s, d) for s, d in set(zip(systems, dtypes))}
    return np.array([table[(s, d)] for s, d in zip(systems, dtypes)])


def _sig(df, cols, digits=4):
    """Round derived floats to `digits` significant figures: the files stay small and diffable."""
    for c in cols:
        df[c] = df[c].map(lambda v: float(f"{v:.{digits}g}") if v == v else v)
    return df


def extract_gemm(pkg: Package):
    import pandas as pd

    frames = []
    for system in GEMM_SYSTEMS:
        for backend in BACKENDS:
            path = pkg.table(system, "gemm", backend, "gemm_perf.parquet")
            if path is not None:
                frames.append(_read(pkg, path).assign(system=system))
        # weight-only int4/int8 GEMMs exist only in older tables (A100 trtllm, H100 sglang 0.5.6)
        for old in sorted((pkg.systems / "data" / system / "gemm").glob("*/*/gemm_perf.parquet")):
            df = _read(pkg, old)
            df = df[df.gemm_dtype.isin(["int4_wo", "int8_wo", "sq"])]
            if len(df) and not any(f.source.iloc[0] == pkg.rel(old) for f in frames):
                frames.append(df.assign(system=system))
    full = _gemm_derived(pkg, pd.concat(frames, ignore_index=True))
    nk = pd.MultiIndex.from_tuples(GEMM_NK)
    pick = full[full.m.isin(POW2) & pd.MultiIndex.from_arrays([full.n, full.k]).isin(nk)].copy()
    pick = pick.drop(columns=["peak_tflops"])  # systems.csv has the peaks
    return _sig(pick, ["latency_ms", "tflops", "frac_peak", "frac_mem_bw", "sol_frac"]), _gemm_summary(full)


def _gemm_derived(pkg: Package, df):
    import numpy as np

    df = df.rename(columns={"latency": "latency_ms", "gemm_dtype": "dtype"})
    sec = df.latency_ms / 1e3
    df["tflops"] = 2 * df.m * df.n * df.k / sec / 1e12
    df["peak_tflops"] = _peaks(pkg, df.system, df.dtype) / 1e12
    df["frac_peak"] = df.tflops / df.peak_tflops
    bw = df.system.map(lambda s: float(_gpu(pkg, s)["mem_bw"]))
    moved = (df.n * df.k * df.dtype.map(W_BYTES) + df.m * df.k * df.dtype.map(A_BYTES) + 2 * df.m * df.n)
    df["frac_mem_bw"] = moved / sec / bw
    df["sol_frac"] = np.maximum(2 * df.m * df.n * df.k / (df.peak_tflops * 1e12), moved / bw) / sec
    cols = ["system", "framework", "version", "kernel_source", "dtype", "m", "n", "k", "latency_ms",
            "tflops", "peak_tflops", "frac_peak", "frac_mem_bw", "sol_frac", "source"]
    return df[cols]


def _gemm_summary(full):
    big = full[(full.n >= 4096) & (full.k >= 4096) & full.m.isin(POW2)]
    keys = ["system", "framework", "version", "kernel_source", "dtype", "m"]
    g = big.groupby(keys)
    out = g.frac_peak.agg(shapes="size", frac_peak_median="median", frac_peak_max="max").reset_index()
    out["tflops_median"] = g.tflops.median().values
    out["sol_frac_median"] = g.sol_frac.median().values
    out["source"] = g.source.first().values
    return _sig(out, ["frac_peak_median", "frac_peak_max", "tflops_median", "sol_frac_median"], 3)


# (hidden, inter, topk, experts) -> (moe_tp, moe_ep) layouts kept: DeepSeek-V3/R1 in every layout up to
# 8 GPUs plus wide EP; Qwen3-235B-A22B (a second fine-grained shape) in the three 8-GPU-or-less extremes.
MOE_KEEP = {(7168, 2048, 8, 256): {(1, 1), (1, 4), (1, 8), (2, 4), (4, 1), (4, 2), (8, 1), (1, 16), (1, 32), (1, 64)},
            (4096, 1536, 8, 128): {(1, 1), (1, 8), (8, 1)}}


def extract_moe(pkg: Package):
    import pandas as pd

    frames = []
    for system in KERNEL_SYSTEMS:
        for backend in BACKENDS:
            path = pkg.table(system, "moe", backend, "moe_perf.parquet")
            if path is not None:
                frames.append(_read(pkg, path).assign(system=system))
    df = pd.concat(frames, ignore_index=True)
    keep = {shape + layout for shape, layouts in MOE_KEEP.items() for layout in layouts}
    row = pd.MultiIndex.from_arrays([df.hidden_size, df.inter_size, df.topk, df.num_experts,
                                     df.moe_tp_size, df.moe_ep_size])
    df = df[row.isin(pd.MultiIndex.from_tuples(sorted(keep))) & df.num_tokens.isin(POW2)]
    keys = ["system", "framework", "version", "kernel_source", "moe_dtype", "num_tokens", "hidden_size",
            "inter_size", "topk", "num_experts", "moe_tp_size", "moe_ep_size", "source"]
    wide = df.pivot_table(index=keys, columns="distribution", values="latency", aggfunc="first").reset_index()
    wide.columns = [c if c in keys else "latency_ms_" + c.replace(".", "_") for c in wide.columns]
    return _moe_derived(pkg, wide)


def _moe_derived(pkg: Package, df):
    import numpy as np

    bal = df["latency_ms_balanced"] / 1e3
    tok = df.num_tokens * df.topk  # token-expert pairs over the whole MoE group
    ranks = df.moe_tp_size * df.moe_ep_size
    df["tokens_per_expert"] = tok / df.num_experts
    flops = tok * df.hidden_size * df.inter_size * 3 * 2 / ranks  # gated: gate+up+down, per GPU
    df["tflops_balanced"] = flops / bal / 1e12
    peak = _peaks(pkg, df.system, df.moe_dtype)
    df["frac_peak_balanced"] = flops / bal / peak
    experts_touched = np.minimum(df.num_experts / df.moe_ep_size, tok / df.moe_ep_size)
    wbytes = df.hidden_size * df.inter_size * 3 / df.moe_tp_size * experts_touched * df.moe_dtype.map(W_BYTES)
    df["weight_gbps_balanced"] = wbytes / bal / 1e9
    bw = df.system.map(lambda s: float(_gpu(pkg, s)["mem_bw"]))
    df["sol_frac_balanced"] = np.maximum(flops / peak, wbytes / bw) / bal
    for c in [c for c in df.columns if c.startswith("latency_ms_power")]:
        df["imbalance_" + c[len("latency_ms_"):]] = df[c] / df["latency_ms_balanced"]
    derived = ("latency", "tflops", "frac", "weight", "sol", "imbalance", "tokens_per")
    num = [c for c in df.columns if c.startswith(derived)]
    src = df.pop("source")
    df["source"] = src
    return _sig(df, num)


ATTN_HEADS = [(64, 8), (8, 1), (32, 32)]  # per-GPU (q, kv) heads, head_dim 128: 70B at TP1 / TP8, MHA 7B


def extract_attention(pkg: Package):
    import pandas as pd

    ctx, gen = [], []
    for system in KERNEL_SYSTEMS:
        for backend in BACKENDS:
            for name, bucket in (("context_attention_perf.parquet", ctx), ("generation_attention_perf.parquet", gen)):
                path = pkg.table(system, "attention", backend, name)
                if path is not None:
                    bucket.append(_read(pkg, path).assign(system=system))
    heads = pd.MultiIndex.from_tuples(ATTN_HEADS)

    def keep(df):
        hk = pd.MultiIndex.from_arrays([df.num_heads, df.num_key_value_heads])
        return df[hk.isin(heads) & (df.head_dim == 128) & (df.window_size == 0)].copy()

    c = keep(pd.concat(ctx, ignore_index=True))
    c = c[c.batch_size.isin([1, 8, 64])]
    g = keep(pd.concat(gen, ignore_index=True))
    g = g[g.batch_size.isin([1, 16, 128])]
    return _ctx_attn_derived(pkg, c), _gen_attn_derived(pkg, g)


def _ctx_attn_derived(pkg: Package, df):
    sec = df.latency / 1e3
    # causal prefill: QK^T and PV, each 2*d flops per (q, k) pair, half the square
    flops = 2 * 2 * df.batch_size * df.num_heads * df.head_dim * df.isl * df.isl / 2
    df["tflops"] = flops / sec / 1e12
    df["frac_peak"] = flops / sec / _peaks(pkg, df.system, df.attn_dtype)
    cols = ["system", "framework", "version", "kernel_source", "batch_size", "isl", "num_heads",
            "num_key_value_heads", "head_dim", "attn_dtype", "kv_cache_dtype", "latency", "tflops", "frac_peak",
            "source"]
    return _sig(df[cols].rename(columns={"latency": "latency_ms"}), ["latency_ms", "tflops", "frac_peak"])


def _gen_attn_derived(pkg: Package, df):
    sec = df.latency / 1e3
    df["kv_len"] = df.isl + df.step  # tokens in the cache at the measured step (aiconfigurator's convention)
    kv = df.batch_size * df.kv_len * df.num_key_value_heads * df.head_dim * 2 * df.kv_cache_dtype.map(KV_BYTES)
    df["kv_gbps"] = kv / sec / 1e9
    df["frac_mem_bw"] = kv / sec / df.system.map(lambda s: float(_gpu(pkg, s)["mem_bw"]))
    cols = ["system", "framework", "version", "kernel_source", "batch_size", "kv_len", "num_heads",
            "num_key_value_heads", "head_dim", "kv_cache_dtype", "latency", "kv_gbps", "frac_mem_bw", "source"]
    return _sig(df[cols].rename(columns={"latency": "latency_ms"}), ["latency_ms", "kv_gbps", "frac_mem_bw"])


MLA_TABLES = ("context_mla_perf.parquet", "generation_mla_perf.parquet",
              "mla_context_module_perf.parquet", "mla_generation_module_perf.parquet")


def extract_mla(pkg: Package):
    import pandas as pd

    frames = []
    for system in KERNEL_SYSTEMS:
        for backend in BACKENDS:
            for name in MLA_TABLES:
                path = pkg.table(system, "mla", backend, name)
                if path is not None:
                    frames.append(_read(pkg, path).assign(system=system))
    df = pd.concat(frames, ignore_index=True)
    # per-GPU heads: DeepSeek's 128 at TP1 and 16 at TP8 (the tables key on num_heads; tp_size is
    # collection metadata, mla.rs CONTEXT_AXES); FP8-block projections for the whole-block module tables
    df = df[df.num_heads.isin([128, 16]) & df.batch_size.isin([1, 64])
            & (df.get("gemm_type", "fp8_block").fillna("fp8_block") == "fp8_block")]
    df["phase"] = df.op_name.map(lambda o: "context" if "context" in o else "generation")
    df["kv_len"] = df.isl + df.step
    gen = df.phase == "generation"
    # decode reads the latent cache: kv_lora 512 + rope 64 per token (one shared "head")
    kv = df.batch_size * df.kv_len * 576 * df.kv_cache_dtype.map(KV_BYTES)
    df["kv_gbps"] = (kv / (df.latency / 1e3) / 1e9).where(gen)
    # prefill attention core: q.k over 192 dims + p.v over 128 dims, causal half
    flops = 2 * df.batch_size * df.num_heads * (192 + 128) * df.isl * df.isl / 2
    df["attn_tflops"] = (flops / (df.latency / 1e3) / 1e12).where(~gen & (df.op_name == "mla_context"))
    for col in ("model", "gemm_type"):
        if col not in df:
            df[col] = ""
    cols = ["system", "framework", "version", "op_name", "kernel_source", "model", "gemm_type", "mla_dtype",
            "kv_cache_dtype", "num_heads", "tp_size", "batch_size", "isl", "kv_len", "latency", "kv_gbps",
            "attn_tflops", "source"]
    return _sig(df[cols].rename(columns={"latency": "latency_ms"}), ["latency_ms", "kv_gbps", "attn_tflops"])


COMM_SYSTEMS = ("h100_sxm", "h200_sxm", "b200_sxm", "gb200", "a100_sxm", "l40s", "rtx_pro_6000_server")
ELT_BYTES = {"half": 2, "bfloat16": 2, "float16": 2, "int8": 1, "fp8": 1}


def extract_comm(pkg: Package):
    import pandas as pd

    nccl, custom = [], []
    for system in COMM_SYSTEMS:
        path = pkg.table(system, "comm", "nccl", "nccl_perf.parquet")
        if path is not None:
            nccl.append(_read(pkg, path).assign(system=system))
        for backend in BACKENDS:
            path = pkg.table(system, "comm", backend, "custom_allreduce_perf.parquet")
            if path is not None:
                custom.append(_read(pkg, path).assign(system=system))
    n = pd.concat(nccl, ignore_index=True).rename(columns={"nccl_dtype": "dtype"})
    n = n[n.dtype == "half"]  # aiconfigurator's default comm dtype; int8 rows only matter for fp8 comm
    c = pd.concat(custom, ignore_index=True).rename(columns={"allreduce_dtype": "dtype"})
    c["framework"] = c.source.str.split("/").str[4]  # the engine whose all-reduce was timed
    # TRT-LLM names the kernel in `implementation`, vLLM/SGLang in `backend` (graph vs eager launch)
    impl = c["implementation"] if "implementation" in c else pd.Series(pd.NA, index=c.index, dtype="object")
    c["implementation"] = impl.fillna(c["backend"]) if "backend" in c else impl
    c["op_name"] = c.op_name.fillna("all_reduce")
    return _comm_derived(n, "nccl_version"), _comm_derived(c, "engine_version")


def _comm_derived(df, version_name: str):
    sec = df.latency / 1e3
    df["message_bytes"] = df.message_size * df.dtype.map(ELT_BYTES)
    df["algbw_gbps"] = df.message_bytes / sec / 1e9
    # nccl-tests bus bandwidth: all-reduce moves 2(n-1)/n of the buffer per rank, the others (n-1)/n
    factor = (df.num_gpus - 1) / df.num_gpus * df.op_name.map(lambda o: 2 if o == "all_reduce" else 1)
    df["busbw_gbps"] = df.algbw_gbps * factor
    cols = ["system", "framework", "version", "op_name", "kernel_source", "dtype", "num_gpus", "message_size",
            "message_bytes", "latency", "algbw_gbps", "busbw_gbps", "source"]
    if "implementation" in df:
        cols.insert(5, "implementation")
    out = df[cols].rename(columns={"latency": "latency_ms", "version": version_name})
    return _sig(out, ["latency_ms", "algbw_gbps", "busbw_gbps"])


def extract_a2a(pkg: Package):
    """MoE dispatch/combine all-to-all (TRT-LLM / vLLM tables, SGLang DeepEP low-latency and normal)."""
    import pandas as pd

    frames = []
    for system in KERNEL_SYSTEMS:
        for backend in ("trtllm", "vllm"):
            path = pkg.table(system, "comm", backend, "moe_a2a_perf.parquet")
            if path is not None:
                df = _read(pkg, path).assign(system=system)
                # stored in microseconds (aiconfigurator's rs/perf_database/moe_a2a.rs says so too)
                frames.append(df.assign(latency=df.latency / 1e3))
        for mode in ("ll", "normal"):
            path = pkg.table(system, "comm", "sglang", f"wideep_deepep_{mode}_perf.parquet")
            if path is not None:
                frames.append(_deepep_long(_read(pkg, path).assign(system=system), mode))
    df = pd.concat(frames, ignore_index=True).rename(columns={"latency": "latency_ms"})
    df = df[(df.hidden_size == 7168) & (df.topk == 8) & (df.num_experts == 256)]  # DeepSeek-V3/R1 routing
    cols = ["system", "framework", "version", "kernel_source", "comm_backend", "phase", "comm_dtype", "ep_size",
            "node_num", "hidden_size", "topk", "num_experts", "num_tokens", "sms", "latency_ms", "source"]
    return _sig(df[cols], ["latency_ms"])


def _deepep_long(df, mode: str):
    """SGLang's legacy DeepEP tables -> one row per phase, as aiconfigurator's loader does (rs moe_a2a.rs)."""
    import pandas as pd

    base = {"system": df.system, "framework": df.framework, "version": df.version,
            "kernel_source": df.kernel_source, "comm_backend": "deepep_" + ("ll" if mode == "ll" else "ht"),
            "comm_dtype": "default", "ep_size": df.node_num * 8, "node_num": df.node_num,
            "hidden_size": df.hidden_size, "topk": df.num_topk, "num_experts": df.num_experts,
            "num_tokens": df.num_token, "source": df.source}
    parts = []
    for phase in ("dispatch", "combine"):
        if mode == "ll":
            us, sms = df[f"{phase}_avg_t_us"], 0
        else:
            us, sms = df[f"{phase}_transmit_us"] + df[f"{phase}_notify_us"], df[f"{phase}_sms"]
        parts.append(pd.DataFrame({**base, "phase": phase, "sms": sms, "latency": us / 1e3}))
    return pd.concat(parts, ignore_index=True)


def extract_systems(pkg: Package):
    import pandas as pd

    rows = []
    for system, spec in sorted(pkg.spec.items()):
        gpu, node = spec.get("gpu", {}), spec.get("node", {})
        rows.append({"system": system, **{k: gpu.get(k) for k in (
            "mem_bw", "mem_capacity", "bfloat16_tc_flops", "fp8_tc_flops", "fp4_tc_flops", "int8_tc_flops",
            "power", "sm_version", "mem_bw_empirical_scaling_factor", "mem_empirical_constant_latency")},
            **{k: node.get(k) for k in ("num_gpus_per_node", "intra_node_bw", "inter_node_bw", "p2p_latency")},
            "source": f"systems/{system}.yaml"})
    return pd.DataFrame(rows)


MODEL_CONFIGS = ("deepseek-ai--DeepSeek-V3.2", "nvidia--DeepSeek-V3.2-NVFP4",
                 "deepseek-ai--DeepSeek-V4-Flash", "nvidia--DeepSeek-V4-Flash-NVFP4",
                 "sgl-project--DeepSeek-V4-Flash-FP8",
                 "deepseek-ai--DeepSeek-V4-Pro", "nvidia--DeepSeek-V4-Pro-NVFP4", "sgl-project--DeepSeek-V4-Pro-FP8",
                 "deepseek-ai--DeepSeek-V3", "deepseek-ai--DeepSeek-R1", "nvidia--DeepSeek-V3.1-NVFP4")


def copy_configs(pkg: Package, dest: Path) -> list[tuple[str, str]]:
    dest.mkdir(parents=True, exist_ok=True)
    copied = []
    for stem in MODEL_CONFIGS:
        for suffix in ("_config.json", "_hf_quant_config.json"):
            src = pkg.root / "model_configs" / f"{stem}{suffix}"
            if src.is_file():
                shutil.copyfile(src, dest / src.name)
                copied.append((src.name, pkg.rel(src)))
    return copied


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--configs-out", type=Path, default=None, help="also copy DeepSeek model configs here")
    args = ap.parse_args()
    pkg = Package()
    args.out.mkdir(parents=True, exist_ok=True)
    sample = pkg.systems / "silicon_sample.csv"
    shutil.copyfile(sample, args.out / "silicon_sample.csv")  # verbatim: the sha256 below proves it
    counts = write_split(sample, args.out / "silicon_sample_split.csv")
    gemm, gemm_summary = extract_gemm(pkg)
    ctx, gen = extract_attention(pkg)
    nccl, custom = extract_comm(pkg)
    files = {"gemm.csv": gemm, "gemm_summary.csv": gemm_summary, "moe.csv": extract_moe(pkg),
             "attention_context.csv": ctx, "attention_generation.csv": gen, "mla.csv": extract_mla(pkg),
             "comm_nccl.csv": nccl, "comm_custom_allreduce.csv": custom, "comm_moe_a2a.csv": extract_a2a(pkg),
             "systems.csv": extract_systems(pkg)}
    for name, df in files.items():
        df.sort_values(list(df.columns[:6])).to_csv(args.out / name, index=False, lineterminator="\n")
    manifest = {"package": "aiconfigurator-core", "version": pkg.version, "license": "Apache-2.0",
                "silicon_sample_sha256": _sha256(sample), "split_counts": counts,
                "files": {n: {"rows": len(df), "sources": sorted(df.source.unique())} for n, df in files.items()}}
    used = sorted({src for df in files.values() for src in df.source.unique()})
    manifest["source_sha256"] = {src: _sha256(pkg.root / src) for src in used}
    manifest["version_inside_table_differs"] = {k: v for k, v in sorted(pkg.restamped.items()) if k in used}
    if args.configs_out:
        manifest["model_configs"] = dict(copy_configs(pkg, args.configs_out))
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    for name in ["silicon_sample.csv", "silicon_sample_split.csv", *files, "manifest.json"]:
        print(f"{name:32} {(args.out / name).stat().st_size:>9,} bytes")
    print("split:", counts)


if __name__ == "__main__":
    main()
