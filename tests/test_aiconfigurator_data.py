"""NVIDIA's aiconfigurator data in benchmarks/data/aiconfigurator: provenance, documentation, hold-out split.

The extracts are regenerated only in a throwaway venv (benchmarks/aiconfigurator_extract.py), so these
tests check what is committed: the copy is verbatim, the split follows its documented rule and does
not leak a run into both sides, and every column is described in the folder's README."""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import json
import re
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
AIC = ROOT / "benchmarks" / "data" / "aiconfigurator"


def _extract_module():
    path = ROOT / "benchmarks" / "aiconfigurator_extract.py"
    spec = importlib.util.spec_from_file_location("aiconfigurator_extract", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # top level is standard library only
    return module


def _rows(name: str) -> list[dict[str, str]]:
    with (AIC / name).open(newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def sample():
    return _rows("silicon_sample.csv")


@pytest.fixture(scope="module")
def split():
    return _rows("silicon_sample_split.csv")


def test_sample_is_the_packaged_file_byte_for_byte():
    manifest = json.loads((AIC / "manifest.json").read_text())
    digest = hashlib.sha256((AIC / "silicon_sample.csv").read_bytes()).hexdigest()
    assert digest == manifest["silicon_sample_sha256"]
    assert manifest["version"] == "0.12.0" and manifest["license"] == "Apache-2.0"


def test_split_follows_the_documented_rule(sample, split):
    module = _extract_module()
    assert [r["id"] for r in split] == [r["id"] for r in sample]
    derived = module.split_rows(sample)
    assert [(r["split"], r["split_group"], r["same_measurement_as"]) for r in split] == derived


def test_no_measurement_on_both_sides(sample, split):
    # to 0.01 ms: copies of one run are written with other digits (a dated csv's 798.5432, a dump's 798.54)
    sides = defaultdict(set)
    for row, s in zip(sample, split):
        sides[(round(float(row["silicon_ttft_ms"]), 2), round(float(row["silicon_tpot_ms"]), 2))].add(s["split"])
    assert all(len(v) == 1 for v in sides.values())
    holdout = sum(s["split"] == "holdout" for s in split) / len(split)
    assert 0.25 <= holdout <= 0.35


def test_a_duplicated_run_under_another_layout_spelling_stays_with_its_copy():
    """The rule joins deployments that share a measured pair, even when they hash apart."""
    module = _extract_module()
    base = {f: "" for f in module.SPLIT_FIELDS} | {"silicon_ttft_ms": "1.5", "silicon_tpot_ms": "2.5"}
    rows = [dict(base, id=f"a{tp}", model_path="m", tp_size=str(tp)) for tp in range(40)]
    rows.append(dict(base, id="b", model_path="m", tp_size="99", silicon_ttft_ms="9", silicon_tpot_ms="9"))
    result = module.split_rows(rows)
    assert len({s for s, _, _ in result[:40]}) == 1  # 40 spellings, one run, one side
    assert all(same == "a0" for _, _, same in result[1:40])
    assert result[40][2] == ""


def test_copies_written_with_other_digits_are_one_run_and_the_dump_copy_is_kept():
    """A dated csv's 798.5432 and a dump's 798.54 are one run: the dump's copy is kept (its config id names the
    launch flags), the other points at it, and both fall on one side however their deployments hash."""
    module = _extract_module()
    base = {f: "" for f in module.SPLIT_FIELDS} | {"silicon_data_source": "source_file=2026-03-25.csv"}
    rows = [dict(base, id=f"dated{tp}", model_path="m", tp_size=str(tp), silicon_ttft_ms="798.5432",
                 silicon_tpot_ms="7.4427173") for tp in range(40)]
    rows.append(dict(base, id="dump", model_path="m", tp_size="99", silicon_ttft_ms="798.54", silicon_tpot_ms="7.44",
                     silicon_data_source="db-dump/2026-04-27; config_id=1"))
    result = module.split_rows(rows)
    assert len({s for s, _, _ in result}) == 1
    assert [same for _, _, same in result] == ["dump"] * 40 + [""]


def test_every_column_of_every_csv_is_documented():
    readme = (AIC / "README.md").read_text()
    documented = set(re.findall(r"`([a-z0-9_]+)`", readme))
    for path in sorted(AIC.glob("*.csv")):
        with path.open(newline="") as f:
            header = next(csv.reader(f))
        missing = [c for c in header if c not in documented]
        assert not missing, f"{path.name}: {missing} not described in README.md"


def test_every_kernel_row_names_its_source_and_engine_version():
    for name in ("gemm.csv", "moe.csv", "attention_context.csv", "attention_generation.csv", "mla.csv",
                 "comm_nccl.csv", "comm_custom_allreduce.csv", "comm_moe_a2a.csv"):
        rows = _rows(name)
        version = next(c for c in rows[0] if c.endswith("version"))
        for row in rows:
            parts = row["source"].split("/")
            assert parts[:3] == ["systems", "data", row["system"]], (name, row["source"])
            assert row[version] and row[version] in parts, (name, row["source"])
