"""Modules split into smaller ones keep their import paths: every name ``advice.search`` defined before it was
split (into ``scoring``, ``verdicts``, ``options`` and ``model_search``) is still importable from it,
and is the very object its new module holds; likewise the engine records and the name checks ``catalog.schema``
held (now ``catalog.engine_schema`` and ``catalog.names``), and what ``physics.estimate`` defined before its
deployment and llama.cpp kernel terms moved out (``physics.deployment``, ``physics.decode_kernels``)."""

from __future__ import annotations

import importlib

import pytest

# (module the name lives in now, names advice.search defined before the split that moved there)
SEARCH_MOVED = {
    "scoring": ["WEIGHTS", "SCORE_TIE", "FAST_TOKENS_PER_S", "ENOUGH_HEADROOM", "Score", "quality", "Scored",
                "scored_benchmarks", "task_benchmarks", "Credits", "DOMINANCE_SHARED", "SKILL",
                "dominance_credits", "score", "score_ranges"],
    "verdicts": ["Verdict", "Recommendation", "Hardware", "Skipped", "tier"],
    "options": ["DEFAULT_ENGINES", "gpu_counts", "expected_loss", "availability", "candidate_formats",
                "format_exists_for", "published_recipe", "Option", "options"],
    "model_search": ["evaluate_model", "judge"],
    "search": ["derived", "recommend", "candidates", "check_names", "nothing_fits_advice"],
}


@pytest.mark.parametrize("home", sorted(SEARCH_MOVED))
def test_search_names_import_from_search_as_before(home):
    search = importlib.import_module("dsadvisor.advice.search")
    module = importlib.import_module(f"dsadvisor.advice.{home}")
    for name in SEARCH_MOVED[home]:
        assert getattr(search, name) is getattr(module, name), name


def test_schema_name_checks_import_from_schema_as_before():
    from dsadvisor.catalog import names, schema
    from dsadvisor.catalog.schema import MAX_REPO_NAME, repo_id_problem

    assert repo_id_problem is names.repo_id_problem and MAX_REPO_NAME == names.MAX_REPO_NAME == 96
    with pytest.raises(AttributeError):
        schema.no_such_name  # noqa: B018


def test_engine_records_import_from_schema_as_before():
    from dsadvisor.catalog import engine_schema, schema
    from dsadvisor.catalog.schema import Engine, EngineSpeed

    assert Engine is engine_schema.Engine and EngineSpeed is engine_schema.EngineSpeed
    for name in schema.ENGINE_RECORDS:
        assert getattr(schema, name) is getattr(engine_schema, name), name


# (module the name lives in now, names physics.estimate defined before the split that moved there)
ESTIMATE_MOVED = {
    "deployment": ["Deployment", "choose_layout", "default_ep", "check_layout", "MAX_MTP_DRAFT_TOKENS", "check_mtp",
                   "pin_layout", "per_gpu", "KV_16BIT", "KV_SHORT", "kv_format", "auto_kv_dtype",
                   "kv_bytes_per_element"],
    "decode_kernels": ["quantized_decode_extra_s", "f16_batched_s", "RoutedExperts", "mmq_decode_s", "matmul_tiles_s",
                       "expert_padding", "matmuls_per_step", "tile_unpack_s", "experts_touched_fraction"],
}


@pytest.mark.parametrize("home", sorted(ESTIMATE_MOVED))
def test_estimate_names_import_from_estimate_as_before(home):
    estimate = importlib.import_module("dsadvisor.physics.estimate")
    module = importlib.import_module(f"dsadvisor.physics.{home}")
    for name in ESTIMATE_MOVED[home]:
        assert getattr(estimate, name) is getattr(module, name), name
