"""User catalogs built to hurt (issue 9): thousands of bad entries, more files than the limit spread over
several entries, and ``architecture_from`` chains that come back on themselves.

Timings of the large cases are measured by benchmarks/hostile.py, not asserted here.
"""

from __future__ import annotations

import json

import pytest

from dsadvisor.catalog.loading import USER_LIMITS


def _entries(n: int, extra: str = "", start: int = 0) -> str:
    return "models:\n" + "".join(
        f"  - {{id: m{i}, name: M{i}, status: described, family: x, source: my card{extra}}}\n"
        for i in range(start, start + n))


def _bad_lines(err: str) -> list[str]:
    lines = err.splitlines()
    assert all(line.startswith("dsadvisor: ") for line in lines) and "Traceback" not in err
    return lines


# ------------------------------------------------------------------ a bounded number of problems

def test_5000_bad_entries_give_20_problems_and_a_count(run, tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text(_entries(5000, ", colour: red"), encoding="utf-8")  # one unknown field each
    r = run("catalog", "validate", str(f), "-f", "json")
    assert r.code == 4
    data = r.json()
    assert data["valid"] is False and len(data["problems"]) == USER_LIMITS.max_problems == 20
    assert data["more_problems"] == 4980
    lines = _bad_lines(r.err)
    assert lines[:20] == [f"dsadvisor: {p}" for p in data["problems"]]
    assert lines[20:] == [f"dsadvisor: {f}: 4,980 more problems not shown (only the first 20 are); "
                          "fix those and validate again"]


def test_a_command_with_a_bad_catalog_prints_the_same_bounded_list(run, tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text(_entries(500, ", colour: red"), encoding="utf-8")
    r = run("recommend", "--gpu", "H100", "--catalog", str(f), "-f", "json")
    assert r.code == 4 and r.out == ""
    lines = _bad_lines(r.err)
    assert len(lines) == 21 and lines[-1].endswith("480 more problems not shown (only the first 20 are); "
                                                   "fix those and validate again")


def test_problems_over_several_files_are_counted_with_their_files(run, tmp_path):
    files = []
    for k, name in enumerate("abcd"):
        f = tmp_path / f"{name}.yaml"
        f.write_text(_entries(10, ", colour: red", start=10 * k), encoding="utf-8")
        files.append(str(f))
    r = run("catalog", "validate", *files, "-f", "json")
    assert r.code == 4 and r.json()["more_problems"] == 20 and len(r.json()["problems"]) == 20
    assert all("a.yaml" in p or "b.yaml" in p for p in r.json()["problems"])
    assert _bad_lines(r.err)[-1] == ("dsadvisor: 2 files: 20 more problems not shown (only the first 20 are); "
                                     "fix those and validate again")


def test_a_good_catalog_has_no_count(run, tmp_path):
    f = tmp_path / "good.yaml"
    f.write_text(_entries(30), encoding="utf-8")
    r = run("catalog", "validate", str(f), "-f", "json")
    assert r.code == 0 and r.json()["valid"] is True and r.json()["more_problems"] == 0


# ------------------------------------------------------------------ the file limits hold for all entries together

def test_the_yaml_file_limit_holds_across_catalog_folders(run, tmp_path):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        for i in range(600):
            (tmp_path / folder / f"{i:04}.yaml").touch()
    r = run("recommend", "--gpu", "H100", "--catalog", str(tmp_path / "a"), "--catalog", str(tmp_path / "b"))
    assert r.code == 4
    assert _bad_lines(r.err) == [f"dsadvisor: error: {tmp_path / 'b'}: with the 600 YAML files named before it "
                                 "(--catalog and $DSADVISOR_CATALOG), more than 1,000 YAML files in all; "
                                 "name fewer or smaller catalogs"]


def test_the_yaml_file_limit_holds_across_the_environment_and_the_flags(run, tmp_path, monkeypatch):
    (tmp_path / "a").mkdir()
    for i in range(999):
        (tmp_path / "a" / f"{i:04}.yaml").touch()
    one, two = tmp_path / "one.yaml", tmp_path / "two.yaml"
    one.touch()
    two.touch()
    monkeypatch.setenv("DSADVISOR_CATALOG", f"{tmp_path / 'a'}:{one}")
    assert run("gpus", "-f", "json").code == 0  # 1,000 files: at the limit
    r = run("gpus", "--catalog", str(two), "-f", "json")
    assert r.code == 4 and "with the 1,000 YAML files named before it" in r.err and str(two) in r.err


def test_a_thousand_and_one_files_named_one_by_one_are_refused(run, tmp_path):
    f = tmp_path / "one.yaml"
    f.touch()
    r = run("catalog", "validate", *[str(f)] * (USER_LIMITS.max_yaml_files + 1), "-f", "json")
    assert r.code == 4 and "more than 1,000 YAML files in all" in r.err
    assert r.json()["valid"] is False


def test_the_walk_limit_holds_across_catalog_folders(run, tmp_path):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "x.yaml").touch()
        for i in range(USER_LIMITS.max_walk_entries // 2 + 10):
            (tmp_path / folder / f"{i:05}.txt").touch()
    r = run("gpus", "--catalog", str(tmp_path / "a"), "--catalog", str(tmp_path / "b"), "-f", "json")
    assert r.code == 4
    assert "folder holds more than 10,000 files and folders with the catalog folders before it" in r.err


# ------------------------------------------------------------------ architecture_from cycles

def _borrowing(*pairs: tuple[str, str]) -> str:
    return "models:\n" + "".join(
        f"  - {{id: {a}, name: {a.upper()}, status: described, family: x, source: my card, architecture_from: {b}}}\n"
        for a, b in pairs)


@pytest.mark.parametrize("pairs,cycle", [
    ((("acme-a", "acme-b"), ("acme-b", "acme-a")), "acme-a -> acme-b -> acme-a"),
    ((("acme-b", "acme-a"), ("acme-a", "acme-b")), "acme-a -> acme-b -> acme-a"),  # said from the smallest id
    ((("acme-c", "acme-c"),), "acme-c -> acme-c"),
    ((("acme-z", "acme-x"), ("acme-x", "acme-y"), ("acme-y", "acme-x")), "acme-x -> acme-y -> acme-x"),
], ids=["two", "two-other-order", "self", "a-chain-into-a-cycle"])
def test_an_architecture_from_cycle_fails_validate_once(run, tmp_path, pairs, cycle):
    f = tmp_path / "cycle.yaml"
    f.write_text(_borrowing(*pairs), encoding="utf-8")
    r = run("catalog", "validate", str(f), "-f", "json")
    assert r.code == 4
    assert r.json()["problems"] == [f"{f}: models (id {cycle.split()[0]}): field architecture_from: a cycle, "
                                    f"{cycle}; one of them needs an architecture"]


def test_a_cycle_fails_every_command_with_the_catalog_exit_code_not_undetermined(run, tmp_path):
    f = tmp_path / "cycle.yaml"
    f.write_text(_borrowing(("acme-a", "acme-b"), ("acme-b", "acme-a")), encoding="utf-8")
    for argv in (("check", "acme-a", "--gpu", "H100"), ("estimate", "acme-a", "--gpu", "H100", "-f", "json")):
        r = run(*argv, "--catalog", str(f))
        assert r.code == 4, (argv, r.err)
        assert "a cycle, acme-a -> acme-b -> acme-a" in r.err


def test_a_long_chain_without_a_cycle_is_valid(run, tmp_path):
    """Each id is walked once: 3,000 entries, each borrowing the next, end at a released shape."""
    n = 3000
    pairs = [(f"acme-{i}", f"acme-{i + 1}") for i in range(n)] + [(f"acme-{n}", "deepseek-r1-distill-qwen-7b")]
    f = tmp_path / "chain.yaml"
    f.write_text(_borrowing(*pairs), encoding="utf-8")
    r = run("catalog", "validate", str(f), "-f", "json")
    assert r.code == 0, r.err[:500]
    est = run("estimate", "acme-0", "--gpu", "H100", "--catalog", str(f), "-f", "json")
    assert est.code == 0 and json.loads(est.out)["params"]["total"] > 7e9


# ------------------------------------------------------------------ a user's file that replaces a bundled entry

BIG_H100 = ("gpus:\n  - {id: H100-SXM, name: NVIDIA H100 SXM5 80GB, vendor: nvidia, family: H100, category: datacenter,"
            "\n     memory_gb: 800, bandwidth_gbs: 33500, dtypes: [fp16, bf16, fp8], source: my datasheet}\n")


def _note_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("dsadvisor: note: ")]


@pytest.mark.parametrize("via", ["env", "flag"])
def test_a_replaced_bundled_gpu_is_said_on_every_run(run, tmp_path, monkeypatch, via):
    """DSADVISOR_CATALOG=o.yaml turning `check deepseek-v3 --gpu H100` from 1 to 0 must not be silent."""
    assert run("check", "deepseek-v3", "--gpu", "H100").code == 1
    f = tmp_path / "o.yaml"
    f.write_text(BIG_H100, encoding="utf-8")
    extra = ()
    if via == "env":
        monkeypatch.setenv("DSADVISOR_CATALOG", str(f))
    else:
        extra = ("--catalog", str(f))
    for _ in range(2):  # built, then from the cache: said both times
        r = run("check", "deepseek-v3", "--gpu", "H100", *extra)
        assert r.code == 0
        assert _note_lines(r.err) == [f"dsadvisor: note: {f} replaces the bundled gpu 'H100-SXM'"] == r.err.splitlines()
        assert r.json()["catalog_overrides"] == [{"id": "H100-SXM", "kind": "gpu", "file": str(f)}]
    table = run("estimate", "deepseek-v3", "--gpu", "H100", *extra)  # a table says it too, on stderr
    assert table.code == 0 and len(_note_lines(table.err)) == 1


def test_every_json_document_carries_the_overrides(run, tmp_path):
    f = tmp_path / "o.yaml"
    f.write_text(BIG_H100, encoding="utf-8")
    good = tmp_path / "good.yaml"
    good.write_text(_entries(1), encoding="utf-8")
    commands = [("estimate", "deepseek-r1-distill-qwen-7b", "--gpu", "H100"), ("check", "deepseek-v3", "--gpu", "H100"),
                ("recommend", "--gpu", "H100", "--top", "1"), ("plan", "deepseek-r1-distill-qwen-7b", "--gpu", "H100"),
                ("models",), ("show", "deepseek-v3"), ("gpus",), ("catalog", "audit")]
    want = [{"id": "H100-SXM", "kind": "gpu", "file": str(f)}]
    for argv in commands:
        r = run(*argv, "--catalog", str(f), "-f", "json")
        assert r.code == 0, (argv, r.err[-500:])
        assert r.json()["catalog_overrides"] == want, argv
        assert len(_note_lines(r.err)) == 1, argv
        plain = run(*argv, "-f", "json")
        assert plain.json()["catalog_overrides"] == [] and _note_lines(plain.err) == [], argv
    r = run("catalog", "validate", str(f), str(good), "-f", "json")
    assert r.code == 0 and r.json()["catalog_overrides"] == want and len(_note_lines(r.err)) == 1


def test_several_replaced_entries_are_one_note(run, tmp_path):
    ids = ["RTX-3060", "RTX-3090", "RTX-4090", "RTX-5090", "M2-24GB", "H100-SXM"]
    f = tmp_path / "o.yaml"
    f.write_text("gpus:\n" + "".join(
        f"  - {{id: {g}, name: My {g}, vendor: other, family: X, category: consumer, memory_gb: 24, "
        f"bandwidth_gbs: 900, dtypes: [fp16], source: my datasheet}}\n" for g in ids), encoding="utf-8")
    r = run("gpus", "--catalog", str(f), "-f", "json")
    assert r.code == 0, r.err
    notes = _note_lines(r.err)
    assert len(notes) == 1 == len(r.err.splitlines())
    assert notes[0].startswith(f"dsadvisor: note: your catalog files replace 6 bundled entries: gpu 'RTX-3060' ({f}), ")
    assert notes[0].endswith(", and 1 more")
    assert [o["id"] for o in r.json()["catalog_overrides"]] == ids


def test_a_user_entry_replacing_another_users_entry_is_not_a_bundled_override(run, tmp_path):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text(_entries(1), encoding="utf-8")
    b.write_text(_entries(1), encoding="utf-8")
    r = run("gpus", "--catalog", str(a), "--catalog", str(b), "-f", "json")
    assert r.code == 0 and r.err == "" and r.json()["catalog_overrides"] == []


def test_every_document_type_declares_catalog_overrides():
    """emit() adds the key to every document, so every document's type (and shipped schema) must name it."""
    from dsadvisor.output.contract import DOCUMENTS

    for name, doc in DOCUMENTS.items():
        assert "catalog_overrides" in doc.__required_keys__, name
