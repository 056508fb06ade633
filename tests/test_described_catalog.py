"""The described-variants catalog (catalog/models/described/seed-00N.yaml) against its sources.

The expectations below were written by hand from reading the five seed articles,
not computed from the YAML: which variants each article introduces or adds
figures to, and which contradictions it contains. Every claim must quote its
article verbatim, so a reader can find the figure in the seed text.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from dsadvisor.catalog.schema import CatalogFile, ModelEntry, validate

ROOT = Path(__file__).resolve().parents[1]
DESCRIBED = ROOT / "catalog" / "models" / "described"
SEEDS_DIR = ROOT.parent / "shared" / "seeds"

# each seed article as the catalog cites it (title and date), and its file beside the checkout
S000 = "seed article “深度解析:DeepSeek模型版本演进与选型指南” (2025-09-17)"
S001 = "seed article “DeepSeek技术演进全解析:版本特性与选型指南” (2025-09-25)"
S002 = "seed article “DEEPSEEK参数量全解析:版本演进与工程实践指南” (2025-09-25)"
S003 = "seed article “DeepSeek开源模型综述与业内对比:技术解析与生态洞察” (2025-09-17)"
S004 = "seed article “DeepSeek进化全景:从初代到前沿的技术跃迁解析” (2025-09-25)"
SEEDS = (S000, S001, S002, S003, S004)
SEED_FILES = dict(zip(SEEDS, ("000_7a8938a06f8a1ef0.txt", "001_c333ef45faf42891.txt", "002_21eddd77bf1620ab.txt",
                              "003_8835a1d058bdcd15.txt", "004_9655b55607d25359.txt")))

# seed -> ids of the entries that seed introduces or contributes claims to.
EXPECTED: dict[str, set[str]] = {
    S000: {"deepseek-base", "deepseek-pro", "deepseek-lite", "deepseek-ultra"},
    S001: {
        "deepseek-base-edition",
        "deepseek-enterprise-edition",
        "deepseek-lite-edition",
        "deepseek-cloud-edition",
    },
    S002: {
        "deepseek-1.3b",
        "deepseek-6.7b",
        "deepseek-13b",
        "deepseek-33b",
        "deepseek-65b",
        "deepseek-175b",
    },
    S003: {
        "deepseek-v2-described",
        "deepseek-mm1",
        "deepseek-lite-sdk",
        "deepseek-optimizer",
        "deepseek-enterprise-edition",  # "DeepSeek-Enterprise集群方案"
        "deepseek-v3-planned",
        "llama-3-70b",
        "falcon-180b",
        "mistral-8x22b",
    },
    S004: {
        "deepseek-v1",
        "deepseek-v2-described",  # 175亿, against seed 003's 23B
        "deepseek-vision",
        "deepseek-x",
        "deepseek-small",
        "deepseek-base",  # the selection matrix's DeepSeek-Base row
        "deepseek-large",
    },
}

EXPECTED_KIND = {
    "deepseek-base-edition": "edition",
    "deepseek-enterprise-edition": "edition",
    "deepseek-lite-edition": "edition",
    "deepseek-cloud-edition": "edition",
    "deepseek-lite-sdk": "sdk",
    "deepseek-optimizer": "sdk",
    "llama-3-70b": "peer",
    "falcon-180b": "peer",
    "mistral-8x22b": "peer",
}

# Entries another engineer writes (status: released) that `related` may point at.
RELEASED_IDS = {
    "deepseek-v2",
    "deepseek-v3",
    "deepseek-coder-1.3b-base",
    "deepseek-coder-6.7b-base",
    "deepseek-coder-33b-base",
    "deepseek-llm-7b-base",
    "deepseek-llm-67b-base",
    "deepseek-vl2",
}

# GPU names the hardware catalog resolves.
KNOWN_GPUS = {
    "A100-40GB", "A100", "RTX 3060", "RTX A4000", "H100", "V100", "T4",
    "Jetson AGX Xavier", "Raspberry Pi 4B", "Snapdragon 865", "Snapdragon 8 Gen 2",
    "Gaudi2", "RTX A6000",
}

NUMERIC_FIELDS = {
    "params_total", "params_active", "params_trainable", "params_embedding",
    "params_expert", "params_shared", "training_tokens", "decode_tokens_per_s",
    "latency_ms", "first_token_latency_ms", "memory_gb", "model_size_gb",
    "experts", "experts_active", "layers", "active_fraction",
}
# Fields whose figure is an absolute amount in one unit; relative figures go elsewhere.
CANONICAL_UNITS = {
    "latency_ms": "ms",
    "first_token_latency_ms": "ms",
    "memory_gb": "GB",
    "model_size_gb": "GB",
    "decode_tokens_per_s": "tokens/s",
    "training_tokens": "tokens",
    "context_window": "tokens",
}


def _seed_of_file(path: Path) -> str:
    """seed-003.yaml -> the citation of seed article 003."""
    return SEEDS[int(path.stem.split("-")[1])]


@pytest.fixture(scope="module")
def files() -> dict[Path, CatalogFile]:
    paths = sorted(DESCRIBED.glob("seed-*.yaml"))
    assert [p.name for p in paths] == [f"seed-00{i}.yaml" for i in range(5)]
    out = {}
    for p in paths:
        with p.open(encoding="utf-8") as fh:
            out[p] = validate(CatalogFile, yaml.safe_load(fh))
    return out


@pytest.fixture(scope="module")
def entries(files) -> dict[str, ModelEntry]:
    out: dict[str, ModelEntry] = {}
    for cf in files.values():
        for m in cf.models:
            assert m.id not in out, f"duplicate id {m.id}"
            out[m.id] = m
    return out


@pytest.fixture(scope="module")
def seed_texts() -> dict[str, str]:
    if not SEEDS_DIR.is_dir():
        pytest.skip(f"seed articles not found at {SEEDS_DIR}")
    return {s: (SEEDS_DIR / SEED_FILES[s]).read_text(encoding="utf-8") for s in SEEDS}


def _claims_from(entry: ModelEntry, seed: str):
    return [c for c in entry.claims if c.source == seed]


# ------------------------------------------------------------------ structure


def test_files_validate_and_ids_are_unique(files, entries):
    for cf in files.values():
        assert cf.schema_version == 1
        assert cf.models
    assert len(entries) == sum(len(cf.models) for cf in files.values())


def test_exactly_the_expected_entries(entries):
    expected = set().union(*EXPECTED.values())
    assert set(entries) == expected


@pytest.mark.parametrize("seed", SEEDS)
def test_each_seed_contributes_its_entries(entries, seed):
    for entry_id in EXPECTED[seed]:
        assert entry_id in entries, f"{entry_id} missing ({seed})"
        m = entries[entry_id]
        assert m.status == "described"
        assert _claims_from(m, seed), f"{entry_id} has no claim sourced to {seed}"
        assert seed in m.source, f"{entry_id}.source should name {seed}"


def test_entries_live_in_the_file_of_the_first_seed_that_introduces_them(files):
    for path, cf in files.items():
        file_seed = _seed_of_file(path)
        for m in cf.models:
            introduced_by = min((s for s, ids in EXPECTED.items() if m.id in ids), key=SEEDS.index)
            assert introduced_by == file_seed, f"{m.id} belongs in the file of {introduced_by}"


def test_kinds_and_families(entries):
    for entry_id, m in entries.items():
        assert m.kind == EXPECTED_KIND.get(entry_id, "model"), entry_id
        assert m.family == ("peers" if m.kind == "peer" else "seed-articles"), entry_id
        assert m.description and m.name


def test_aliases_do_not_collide(entries):
    seen: dict[str, str] = {}
    for entry_id, m in entries.items():
        for alias in m.aliases:
            key = alias.casefold()
            assert key not in seen, f"alias {alias!r} on both {seen[key]} and {entry_id}"
            assert key not in {i.casefold() for i in entries} - {entry_id}
            seen[key] = entry_id
    # Names the released catalog owns, or that several articles use for different things.
    for taken in ("deepseek-v2", "deepseek-v3", "专业版", "轻量版", "基础版", "企业版", "lite"):
        assert taken.casefold() not in seen, f"ambiguous alias {taken!r} on {seen.get(taken.casefold())}"


def _loose(name: str) -> str:
    """How the catalog's lookup compares names: case, spaces, dots, dashes, slashes ignored."""
    return re.sub(r"[\s_.\-/]", "", name.strip().lower())


# deepseek-1.3b and deepseek-13b are both ids the catalog must carry; loosely they are
# the same word, so "DeepSeek 13B" is (rightly) ambiguous and a user must give the id.
KNOWN_LOOSE_COLLISIONS = {"deepseek13b"}


def test_names_are_unambiguous_when_loosely_compared(entries):
    seen: dict[str, set[str]] = {}
    for entry_id, m in entries.items():
        for n in (m.id, m.name, *m.aliases):
            seen.setdefault(_loose(n), set()).add(entry_id)
    clashes = {k: v for k, v in seen.items() if len(v) > 1}
    assert set(clashes) <= KNOWN_LOOSE_COLLISIONS, clashes


def test_related_ids_resolve(entries):
    for entry_id, m in entries.items():
        for other in m.related:
            assert other != entry_id
            assert other in entries or other in RELEASED_IDS, f"{entry_id} -> unknown {other}"


# ------------------------------------------------------------- against sources


def test_every_claim_has_a_seed_source_and_a_quote(entries):
    for entry_id, m in entries.items():
        assert m.claims, entry_id
        for c in m.claims:
            assert c.source in SEEDS, f"{entry_id}: source {c.source!r}"
            assert c.quote.strip(), f"{entry_id}: empty quote"
        for h in m.hardware_advice:
            assert h.source in SEEDS, f"{entry_id}: hardware source {h.source!r}"
            assert h.quote.strip()
        for p in m.params:
            assert p.source in SEEDS, f"{entry_id}: params source {p.source!r}"


def test_quotes_occur_in_their_seed(entries, seed_texts):
    missing = []
    for entry_id, m in entries.items():
        for c in [*m.claims, *m.hardware_advice]:
            if c.quote not in seed_texts[c.source]:
                missing.append(f"{entry_id}: {c.quote!r} not in {c.source}")
    assert not missing, "\n".join(missing)


def test_figures_are_numbers_in_their_units(entries):
    for entry_id, m in entries.items():
        for c in m.claims:
            if c.field in NUMERIC_FIELDS:
                assert isinstance(c.value, (int, float)) and not isinstance(c.value, bool), (
                    f"{entry_id}: {c.field} = {c.value!r} is not a number"
                )
            if c.field in CANONICAL_UNITS:
                assert c.unit == CANONICAL_UNITS[c.field], f"{entry_id}: {c.field} in {c.unit!r}"
            if c.field.startswith("params_"):
                assert c.unit == "params"
                assert c.value >= 1e6, f"{entry_id}: {c.field} {c.value} looks like billions, not a count"
            if c.field == "benchmark":
                assert c.benchmark, f"{entry_id}: benchmark claim without a benchmark name"


def test_hardware_advice_names_known_gpus(entries):
    for entry_id, m in entries.items():
        for h in m.hardware_advice:
            assert h.gpu in KNOWN_GPUS, f"{entry_id}: unknown gpu {h.gpu!r}"


def test_conflicts_name_their_sources(entries):
    for entry_id, m in entries.items():
        for k in m.conflicts:
            assert len(k.claims) >= 2, f"{entry_id}: conflict {k.about!r} has one side"
            for side in k.claims:
                assert "(" in side and side.rstrip().endswith(")"), f"{entry_id}: {side!r}"


# --------------------------------------------------------- specific figures


def _values(m: ModelEntry, field: str, seed: str) -> set[float]:
    return {c.value for c in m.claims if c.field == field and c.source == seed}


def test_v2_keeps_both_articles_sizes_and_a_conflict(entries):
    v2 = entries["deepseek-v2-described"]
    assert 23e9 in _values(v2, "params_total", S003)
    assert 17.5e9 in _values(v2, "params_total", S004)
    assert {p.total for p in v2.params} >= {23e9, 17.5e9}
    conflict = next(k for k in v2.conflicts if k.about == "params_total")
    text = " ".join(conflict.claims)
    assert S003 in text and S004 in text
    # Seed 003's licence against the released model's.
    assert "Apache 2.0" in _values(v2, "license", S003)
    lic = next(k for k in v2.conflicts if k.about == "license")
    assert any("DeepSeek Model License" in side for side in lic.claims)
    assert "deepseek-v2" in v2.related


def test_1_3b_conflict_on_its_parameter_count(entries):
    m = entries["deepseek-1.3b"]
    assert {1.3e9, 1.3e8} <= _values(m, "params_total", S002)
    assert 1.28e8 in _values(m, "params_trainable", S002)
    assert 2e6 in _values(m, "params_embedding", S002)
    assert any(k.about == "params_total" for k in m.conflicts)


def test_13b_conflict_on_its_parameter_count(entries):
    m = entries["deepseek-13b"]
    assert {13e9, 1.3e9} <= _values(m, "params_total", S002)
    assert any(k.about == "params_total" for k in m.conflicts)


def test_base_merges_seed_000_and_seed_004(entries):
    base = entries["deepseek-base"]
    assert 13e9 in _values(base, "params_total", S000)
    assert 2.8e12 in _values(base, "training_tokens", S000)
    assert 45 in _values(base, "decode_tokens_per_s", S000)
    advice = [h for h in base.hardware_advice if h.source == S004]
    assert [(h.gpu, h.gpus) for h in advice] == [("A100", 8)]


def test_seed_000_headline_figures(entries):
    pro, lite = entries["deepseek-pro"], entries["deepseek-lite"]
    assert 65e9 in _values(pro, "params_total", S000)
    assert 8 in _values(pro, "experts", S000)
    assert 15 in _values(pro, "active_fraction", S000)
    assert 5.2e12 in _values(pro, "training_tokens", S000)
    assert 18 in _values(pro, "decode_tokens_per_s", S000)
    assert [(h.gpu, h.gpus) for h in pro.hardware_advice] == [("A100", 8)]
    assert 3.5e9 in _values(lite, "params_total", S000)
    assert 120 in _values(lite, "decode_tokens_per_s", S000)
    assert {200, 5.1} <= _values(lite, "latency_ms", S000)


def test_seed_002_typical_configs(entries):
    def advice(entry_id):
        return {(h.gpu, h.vram_gb) for h in entries[entry_id].hardware_advice}

    assert ("RTX 3060", 4) in advice("deepseek-1.3b")
    assert ("RTX A4000", 12) in advice("deepseek-6.7b")
    assert ("A100-40GB", 40) in advice("deepseek-6.7b")
    for entry_id in ("deepseek-13b", "deepseek-33b", "deepseek-65b", "deepseek-175b"):
        assert {("A100", 40), ("H100", 40)} <= advice(entry_id), entry_id
    assert 32 in _values(entries["deepseek-33b"], "layers", S002)
    assert entries["deepseek-65b"].context.advertised == 20000


def test_seed_004_selection_matrix(entries):
    def advice(entry_id):
        return {(h.gpu, h.gpus) for h in entries[entry_id].hardware_advice if h.source == S004}

    assert advice("deepseek-small") == {("V100", 1)}
    assert advice("deepseek-base") == {("A100", 8)}
    assert advice("deepseek-vision") == {("A100", 16), ("T4", 4)}
    assert advice("deepseek-large") == {("H100", 1024)}


def test_planned_v3_is_marked_against_the_release(entries):
    v3 = entries["deepseek-v3-planned"]
    assert v3.context.advertised == 10_000_000
    assert {k.about for k in v3.conflicts} >= {"release", "context_window"}
    assert "deepseek-v3" in v3.related
