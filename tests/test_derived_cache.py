"""Answers of the catalog alone cached with it (``load_catalog(derive=...)``, ``advice.search.derived``): read back,
they are the answers worked out afresh; the entry's key covers every module of the package, so answers of other code
are never read; a derive that fails costs only speed."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from dsadvisor.advice import audit
from dsadvisor.advice.search import derived
from dsadvisor.catalog import store
from dsadvisor.catalog.store import load_catalog
from dsadvisor.physics.artifacts import size_problems


def _fresh(catalog):
    """The same catalog with nothing kept: every answer worked out again."""
    return dataclasses.replace(catalog, memo={})


def test_derived_answers_read_back_are_the_answers_worked_out_afresh(cache_dir):
    load_catalog(use_env=False, derive=derived)  # built, derived, written
    cached = load_catalog(use_env=False)  # read back, with its memo
    assert ("artifact-sizes",) in cached.memo and cached.memo[("artifact-sizes",)] == []
    fresh = _fresh(cached)
    advised = [(m, a) for m in cached.models.values() if m.status == "described" for a in m.hardware_advice]
    assert len(advised) >= 20
    for m, a in advised:
        assert ("advice", m.id, a) in cached.memo
        assert audit.check_advice(cached, m, a) == audit.advice_finding(fresh, m, a), m.id
    for m in cached.models.values():
        assert ("artifact", m.id) in cached.memo
        assert cached.artifact_index(m.id) == fresh._artifact_index(m.id)
        assert cached.artifacts_of(m.id) == fresh._artifacts_of(m.id)
        assert cached.native_formats(m) == fresh._native_formats(m)
    assert size_problems(fresh) == []


def test_a_cached_run_reads_the_advice_instead_of_estimating_it(cache_dir, run, monkeypatch):
    first = run("recommend", "--gpu", "A100", "--vram", "40", "-f", "json")  # writes the entry with its answers
    assert first.code == 0

    def estimated(*args):
        raise AssertionError("the advice was estimated again")

    monkeypatch.setattr(audit, "advice_finding", estimated)
    again = run("recommend", "--gpu", "A100", "--vram", "40", "-f", "json")
    assert (again.code, again.out, again.err) == (first.code, first.out, first.err)


def test_the_key_covers_every_module_of_the_package(cache_dir, tmp_path, monkeypatch):
    package = Path(store.__file__).resolve().parents[1]
    found = {Path(p).resolve() for p in store.package_sources()}
    assert found == {p.resolve() for p in package.rglob("*.py") if "__pycache__" not in p.parts}
    assert {package / "physics" / "memory.py", package / "advice" / "audit.py", package / "cli" / "shared.py"} <= found
    # an edited module (here: a stand-in in the list) makes another entry
    module = tmp_path / "module.py"
    module.write_text("A = 1\n")
    monkeypatch.setattr(store, "package_sources", lambda: [str(module)])
    before = store.cache_entry(use_env=False)
    module.write_text("A = 22\n")
    assert store.cache_entry(use_env=False) != before


def test_a_derive_that_fails_writes_the_entry_without_its_answers(cache_dir):
    def half(catalog):
        catalog.memo["half"] = 1
        raise RuntimeError("boom")

    built = load_catalog(use_env=False, derive=half)
    assert "half" not in built.memo
    assert "half" not in load_catalog(use_env=False).memo  # written, and without it


def test_a_catalog_read_from_the_cache_is_not_derived_again(cache_dir):
    load_catalog(use_env=False, derive=derived)
    calls = []
    load_catalog(use_env=False, derive=calls.append)
    assert calls == []
