"""The catalog through the CLI: validating a user's YAML, loading it beside the bundled catalog,
the audit of conflicting sources, and `show` with its lookups."""

from __future__ import annotations

import csv
import os
import re
import textwrap

import pytest
import yaml

from .test_described_catalog import S002, S003, S004

# A released checkpoint a user adds: a fine-tune with DeepSeek-R1-Distill-Qwen-7B's shape.
NEW_MODEL = textwrap.dedent("""\
    schema_version: 1
    sources:
      my-card: "huggingface.co/acme/r1-qwen-7b-legal README"
    models:
      - id: acme-r1-qwen-7b-legal
        name: Acme-R1-Qwen-7B-Legal
        status: released
        kind: model
        family: acme
        aliases: [legal-7b]
        hf_repo: acme/r1-qwen-7b-legal
        source: my-card
        tasks: [reasoning]
        architecture_from: deepseek-r1-distill-qwen-7b
        license: {source: my-card, value: Acme Legal License}
        benchmarks:
          - {name: gpqa, score: 50.2, source: my-card}
    """)

# Several problems at once: a misspelt field, a wrong type, a missing required field, an unknown section.
BAD = textwrap.dedent("""\
    schema_version: 1
    models:
      - id: acme-7b
        name: Acme-7B
        status: released
        family: acme
        source: my-card
        architecture:
          source: config.json
          model_type: qwen2
          num_hidden_layers: many
          hidden_sise: 3584
          intermediate_size: 18944
          vocab_size: 152064
          num_attention_heads: 28
          num_key_value_heads: 4
          head_dim: 128
          max_position_embeddings: 131072
      - id: acme-2b
        status: released
        family: acme
        source: my-card
        params: [{total: 2.0e+9, source: my-card}]
    widgets:
      - id: gizmo
    """)


def _write(path, text: str):
    path.write_text(text, encoding="utf-8")
    return path


def _entry(run, model_id: str) -> dict:
    """A bundled entry as `show -f json` prints it: the whole validated entry, null fields left out."""
    r = run("show", model_id, "-f", "json")
    assert r.code == 0, r.err
    return r.json()["entry"]


def _entry_yaml(run, model_id: str, **changes) -> str:
    """A user file that restates a bundled entry with some fields changed."""
    data = {**_entry(run, model_id), **changes}
    return yaml.safe_dump({"models": [data]}, sort_keys=False, allow_unicode=True)


def _license(run, model_id: str, value: str) -> dict:
    return {**_entry(run, model_id)["license"], "value": value}


# --------------------------------------------------------------- validate

def test_validate_a_valid_file(run, tmp_path):
    path = _write(tmp_path / "my.yaml", NEW_MODEL)
    r = run("catalog", "validate", str(path))
    assert r.code == 0, r.err
    assert r.err == ""
    assert "valid" in r.out and "problem" in r.out and "none" in r.out  # the title wraps to the table's width
    r = run("catalog", "validate", str(path), "-f", "json")
    assert r.code == 0
    assert r.json() == {"schema_version": 1, "files": [str(path)], "valid": True, "problems": [],
                        "more_problems": 0, "catalog_overrides": []}


def test_validate_lists_every_problem_with_file_entry_and_field(run, tmp_path):
    path = _write(tmp_path / "bad.yaml", BAD)
    r = run("catalog", "validate", str(path), "-f", "json")
    assert r.code == 4
    data = r.json()  # stdout stays parseable when the file is bad
    assert data["valid"] is False and data["files"] == [str(path)]
    problems = data["problems"]
    # one stderr line per problem, the same lines
    err_lines = r.err.splitlines()
    assert len(err_lines) == len(problems) >= 4
    assert [line.removeprefix("dsadvisor: ") for line in err_lines] == problems
    assert all(p.startswith(f"{path}: ") for p in problems)

    def one(pattern: str) -> str:
        hits = [p for p in problems if re.search(pattern, p)]
        assert len(hits) == 1, (pattern, problems)
        return hits[0]

    misspelt = one(r"hidden_sise")
    assert "models[0] (id acme-7b)" in misspelt
    assert "field architecture.hidden_sise" in misspelt
    assert "unknown field; did you mean 'hidden_size'?" in misspelt
    wrong_type = one(r"num_hidden_layers")
    assert "models[0] (id acme-7b): field architecture.num_hidden_layers:" in wrong_type
    assert "integer" in wrong_type
    # the misspelling also leaves the real field missing
    assert one(r"field architecture\.hidden_size:") == \
        f"{path}: models[0] (id acme-7b): field architecture.hidden_size: required field is missing"
    missing = one(r"models\[1\]")
    assert missing == f"{path}: models[1] (id acme-2b): field name: required field is missing"
    section = one(r"widgets")
    assert "field widgets: unknown field" in section


def test_validate_table_output_and_stderr(run, tmp_path):
    path = _write(tmp_path / "bad.yaml", BAD)
    r = run("catalog", "validate", str(path))
    assert r.code == 4
    assert "catalog problems" in r.out and "hidden_sise" in r.out  # long cells fold at the table's width
    assert all(line.startswith(f"dsadvisor: {path}: ") for line in r.err.splitlines())


def test_validate_malformed_yaml_names_file_line_and_column(run, tmp_path):
    path = _write(tmp_path / "syntax.yaml", "models:\n  - id: acme\n    name: a: b\n")
    r = run("catalog", "validate", str(path), "-f", "json")
    assert r.code == 4
    (problem,) = r.json()["problems"]
    m = re.match(rf"{re.escape(str(path))}:(\d+):(\d+): invalid YAML: ", problem)
    assert m, problem
    assert int(m.group(1)) == 3  # the line with the second colon
    assert int(m.group(2)) > 1
    assert r.err.strip() == f"dsadvisor: {problem}"


def test_validate_a_folder_and_several_files(run, tmp_path):
    folder = tmp_path / "cat"
    folder.mkdir()
    _write(folder / "a.yaml", NEW_MODEL)
    _write(folder / "b.yml", BAD)
    r = run("catalog", "validate", str(folder), "-f", "json")
    assert r.code == 4
    assert all(p.startswith(str(folder / "b.yml")) for p in r.json()["problems"])
    r = run("catalog", "validate", str(folder / "a.yaml"), str(folder / "b.yml"), "-f", "json")
    assert r.code == 4 and r.json()["files"] == [str(folder / "a.yaml"), str(folder / "b.yml")]


def test_a_bad_user_file_stops_every_command(run, tmp_path):
    path = _write(tmp_path / "bad.yaml", BAD)
    r = run("models", "--catalog", str(path), "-f", "json")
    assert r.code == 4 and r.out == ""
    assert "did you mean 'hidden_size'?" in r.err


# ----------------------------------------------------------- user catalogs

def _ids(result) -> set[str]:
    assert result.code == 0, result.err
    return {m["id"] for m in result.json()["models"]}


def test_catalog_option_adds_a_model(run, tmp_path):
    path = _write(tmp_path / "my.yaml", NEW_MODEL)
    assert "acme-r1-qwen-7b-legal" not in _ids(run("models", "-f", "json"))
    assert "acme-r1-qwen-7b-legal" in _ids(run("models", "--catalog", str(path), "-f", "json"))
    assert _ids(run("models", "--catalog", str(path), "--family", "acme", "-f", "json")) == {"acme-r1-qwen-7b-legal"}

    for name in ("acme-r1-qwen-7b-legal", "legal-7b", "acme/r1-qwen-7b-legal", "ACME-R1-QWEN-7B-LEGAL"):
        r = run("show", name, "--catalog", str(path), "-f", "json")
        assert r.code == 0, (name, r.err)
        data = r.json()
        assert data["summary"]["id"] == "acme-r1-qwen-7b-legal"
        assert data["summary"]["license"] == "Acme Legal License"
        assert data["origin"] == str(path)
        # the borrowed shape is shown, and counted like the bundled model it comes from
        assert data["entry"]["architecture"]["model_type"] == "qwen2"
    bundled = run("show", "deepseek-r1-distill-qwen-7b", "-f", "json").json()["summary"]
    assert data["summary"]["params_total"] == bundled["params_total"]
    # and every command finds it: estimate by its alias sizes it as the shape it borrows
    mine = run("estimate", "legal-7b", "--catalog", str(path), "--gpu", "RTX 4090", "--quant", "awq-int4", "-f", "json")
    twin = run("estimate", "deepseek-r1-distill-qwen-7b", "--gpu", "RTX 4090", "--quant", "awq-int4", "-f", "json")
    assert mine.code == twin.code == 0, mine.err + twin.err
    assert mine.json()["model"] == "acme-r1-qwen-7b-legal"
    assert mine.json()["memory"] == twin.json()["memory"] and mine.json()["params"] == twin.json()["params"]

    assert run("show", "acme-r1-qwen-7b-legal").code == 3  # not without the file


def test_user_entry_with_a_bundled_id_replaces_it(run, tmp_path):
    model_id = "deepseek-r1-distill-qwen-7b"
    benchmarks = _entry(run, model_id)["benchmarks"]
    assert [b["score"] for b in benchmarks if b["name"] == "gpqa"] != [12.5]
    for b in benchmarks:
        if b["name"] == "gpqa":
            b["score"] = 12.5
    license = _license(run, model_id, "Acme Replacement License")
    path = _write(tmp_path / "override.yaml", _entry_yaml(run, model_id, license=license, benchmarks=benchmarks))

    before = run("show", model_id, "-f", "json").json()
    assert before["summary"]["license"] != "Acme Replacement License"
    r = run("show", model_id, "--catalog", str(path), "-f", "json")
    assert r.code == 0, r.err
    data = r.json()
    assert data["origin"] == str(path)
    assert data["summary"]["license"] == "Acme Replacement License"
    assert [b["score"] for b in data["entry"]["benchmarks"] if b["name"] == "gpqa"] == [12.5]
    # one entry with that id, not two
    listed = [m for m in run("models", "--catalog", str(path), "-f", "json").json()["models"] if m["id"] == model_id]
    assert len(listed) == 1 and listed[0]["license"] == "Acme Replacement License"
    # the replacement reaches the rules: --license filters on it
    r = run("check", model_id, "--gpu", "H100", "--license", "acme replacement license", "--catalog", str(path))
    assert r.code == 0, r.err
    r = run("check", model_id, "--gpu", "H100", "--license", "MIT", "--catalog", str(path))
    assert r.code == 1 and any(x["status"] == "fail" for x in r.json()["rules"])
    r = run("check", model_id, "--gpu", "H100", "--license", "acme replacement license")  # only the file has it
    assert r.code == 3 and "unknown license 'acme replacement license'" in r.err


def test_environment_variable_works_like_the_option(run, tmp_path, monkeypatch):
    new = _write(tmp_path / "new.yaml", NEW_MODEL)
    other = _write(tmp_path / "other.yaml",
                   _entry_yaml(run, "deepseek-v3", license=_license(run, "deepseek-v3", "Env License")))
    monkeypatch.setenv("DSADVISOR_CATALOG", os.pathsep.join([str(new), str(other)]))
    ids = _ids(run("models", "-f", "json"))
    assert "acme-r1-qwen-7b-legal" in ids
    r = run("show", "deepseek-ai/DeepSeek-V3", "-f", "json")
    assert r.code == 0 and r.json()["summary"]["license"] == "Env License"
    assert r.json()["origin"] == str(other)
    # validate ignores $DSADVISOR_CATALOG: it checks only the files it is given
    bad = _write(tmp_path / "bad.yaml", BAD)
    monkeypatch.setenv("DSADVISOR_CATALOG", str(bad))
    assert run("catalog", "validate", str(new)).code == 0
    assert run("models", "-f", "json").code == 4


def test_catalog_option_is_repeatable_and_the_later_file_wins(run, tmp_path):
    new = _write(tmp_path / "new.yaml", NEW_MODEL)
    first = _write(tmp_path / "first.yaml",
                   _entry_yaml(run, "deepseek-v3", license=_license(run, "deepseek-v3", "First")))
    second = _write(tmp_path / "second.yaml",
                    _entry_yaml(run, "deepseek-v3", license=_license(run, "deepseek-v3", "Second")))
    r = run("show", "deepseek-v3", "--catalog", str(new), "--catalog", str(first), "--catalog", str(second),
            "-f", "json")
    assert r.code == 0, r.err
    assert r.json()["summary"]["license"] == "Second" and r.json()["origin"] == str(second)
    r = run("models", "--catalog", str(new), "--catalog", str(second), "--catalog", str(first), "-f", "json")
    rows = {m["id"]: m for m in r.json()["models"]}
    assert rows["deepseek-v3"]["license"] == "First" and "acme-r1-qwen-7b-legal" in rows


def test_catalog_folder(run, tmp_path):
    folder = tmp_path / "mine"
    (folder / "sub").mkdir(parents=True)
    _write(folder / "new.yaml", NEW_MODEL)
    _write(folder / "sub" / "v3.yml", _entry_yaml(run, "deepseek-v3", license=_license(run, "deepseek-v3", "Folder")))
    _write(folder / "README.txt", "not yaml: ignored")
    r = run("models", "--catalog", str(folder), "-f", "json")
    rows = {m["id"]: m for m in r.json()["models"]}
    assert "acme-r1-qwen-7b-legal" in rows and rows["deepseek-v3"]["license"] == "Folder"
    empty = tmp_path / "empty"
    empty.mkdir()
    r = run("models", "--catalog", str(empty))
    assert r.code == 4 and "holds no .yaml or .yml file" in r.err
    r = run("models", "--catalog", str(tmp_path / "missing.yaml"))
    assert r.code == 4 and "no such file" in r.err


# ------------------------------------------------------------------ audit

def _audit(run, *args):
    r = run("catalog", "audit", *args, "-f", "json")
    assert r.code == 0, r.err
    data = r.json()
    assert data["schema_version"] == 1 and data["count"] == len(data["findings"])
    return data["findings"]


def test_audit_lists_conflicts_between_sources(run):
    findings = _audit(run)
    kinds = {f["kind"] for f in findings}
    assert kinds == {"conflict", "contradiction", "advice", "params"}

    def find(kind, model, about):
        hits = [f for f in findings if (f["kind"], f["model"], f["about"]) == (kind, model, about)]
        assert hits, (kind, model, about)
        return hits

    # the V2 the seed articles describe: 23B (seed 003) against 17.5B (seed 004) against the released 236B
    (v2,) = find("conflict", "deepseek-v2-described", "params_total")
    assert "23e9" in v2["detail"] and "17.5e9" in v2["detail"] and "236e9" in v2["detail"]
    assert any(S003 in s for s in v2["sources"]) or S003 in v2["detail"]
    contradictions = find("contradiction", "deepseek-v2-described", "params_total")
    claimed = {re.search(r"article claims ([\d.]+)B", f["detail"]).group(1) for f in contradictions}
    assert claimed == {"23", "17.5"}
    assert all("released deepseek-v2 has 235.7B" in f["detail"] for f in contradictions)
    assert {s for f in contradictions for s in f["sources"]} >= {S003, S004}
    # the 1.3B tier whose own breakdown (128M trainable + 2M embedding) sums to 130M
    (tier,) = find("conflict", "deepseek-1.3b", "params_total")
    assert "1.3e9" in tier["detail"] and "128M trainable" in tier["detail"]
    assert tier["sources"] == [S002]
    (c,) = find("contradiction", "deepseek-1.3b", "params_total")
    assert "0.13B" in c["detail"] and "deepseek-coder-1.3b-base" in c["detail"]
    # a published count against the computed one (V2-Lite's 2.4B active includes no embedding)
    (lite,) = find("params", "deepseek-v2-lite", "params active")
    assert "published 2.4B" in lite["detail"] and "computed 2.66B" in lite["detail"]
    # an article's hardware advice the estimate disagrees with
    (advice,) = find("advice", "deepseek-175b", "1 x A100")
    assert "DISAGREES" in advice["detail"]


@pytest.mark.parametrize("kind", ["conflict", "contradiction", "advice", "params"])
def test_audit_kind_filters(run, kind):
    everything = _audit(run)
    only = _audit(run, "--kind", kind)
    assert only and all(f["kind"] == kind for f in only)
    assert only == [f for f in everything if f["kind"] == kind]


def test_audit_bad_kind_and_table(run):
    r = run("catalog", "audit", "--kind", "conflicts")
    assert r.code == 2 and "did you mean 'conflict'?" in r.err and r.out == ""
    r = run("catalog", "audit", "--kind", "params")
    assert r.code == 0 and "deepseek-v2-lite" in r.out and "deepseek-1.3b" not in r.out


def test_audit_includes_a_user_files_conflicts(run, tmp_path):
    text = NEW_MODEL + (  # a key of the model entry, indented as its other keys
        "    conflicts:\n"
        "      - about: license\n"
        "        claims: [\"Acme Legal License (my-card)\", \"MIT (a blog post)\"]\n")
    path = _write(tmp_path / "my.yaml", text)
    findings = _audit(run, "--catalog", str(path), "--kind", "conflict")
    mine = [f for f in findings if f["model"] == "acme-r1-qwen-7b-legal"]
    assert len(mine) == 1 and mine[0]["about"] == "license" and "MIT (a blog post)" in mine[0]["detail"]


# ------------------------------------------------------------------- show

def test_show_json_has_sources_and_conflicts(run):
    r = run("show", "deepseek-v2-described", "-f", "json")
    assert r.code == 0
    data = r.json()
    assert data["schema_version"] == 1 and data["summary"]["status"] == "described"
    assert data["origin"].endswith(os.path.join("described", "seed-003.yaml"))
    entry = data["entry"]
    claims = {(c["field"], c["value"]): c["source"] for c in entry["claims"] if c["field"] == "params_total"}
    assert claims == {("params_total", 23e9): S003,
                      ("params_total", 17.5e9): S004}
    conflicts = {c["about"]: c for c in entry["conflicts"]}
    assert "params_total" in conflicts and "license" in conflicts
    assert any("17.5e9" in claim for claim in conflicts["params_total"]["claims"])

    released = run("show", "deepseek-v3", "-f", "json").json()["entry"]
    assert released["architecture"]["source"].startswith("GH:V3")
    assert released["license"]["source"] and released["license"]["value"]
    assert released["weights_dtype"]["value"] == "fp8" and released["weights_dtype"]["source"]
    assert all(b["source"] for b in released["benchmarks"])


def test_show_table_has_a_source_column_and_a_conflicts_table(run):
    r = run("show", "deepseek-1.3b")
    assert r.code == 0
    assert "source" in r.out and "conflicts between sources" in r.out
    assert S002 in r.out
    r = run("show", "deepseek-r1-distill-qwen-7b", "-f", "csv")
    rows = list(csv.reader(r.out.splitlines()))
    assert rows[0] == ["field", "value", "source"]
    fields = {row[0]: row for row in rows[1:]}
    assert fields["architecture.hidden_size"][1:] == ["3584", "HF config.json (deepseek-ai/DeepSeek-R1-Distill-Qwen-7B)"]


@pytest.mark.parametrize("name", [
    "deepseek-ai/DeepSeek-V2-Lite", "DeepSeek-V2-Lite", "deepseek-v2-lite", "DEEPSEEK-AI/DEEPSEEK-V2-LITE",
    "deepseek-ai/deepseek-v2-lite", "  DeepSeek-V2-Lite ",
])
def test_show_lookup_by_hf_repo_with_or_without_prefix_any_case(run, name):
    r = run("show", name, "-f", "json")
    assert r.code == 0, r.err
    assert r.json()["summary"]["id"] == "deepseek-v2-lite"
    assert r.json()["summary"]["hf_repo"] == "deepseek-ai/DeepSeek-V2-Lite"


def test_show_unknown_model_suggests_close_names(run):
    r = run("show", "deepseek-v3.5")
    assert r.code == 3 and r.out == ""
    (line,) = r.err.splitlines()
    assert line.startswith("dsadvisor: error: unknown model 'deepseek-v3.5'; did you mean ")
    suggested = re.findall(r"'([^']+)'", line.split("did you mean", 1)[1])
    assert 1 <= len(suggested) <= 3
    assert any(s.lower() in ("deepseek-v3", "deepseek-v3.1") for s in suggested)
    r = run("show", "deepseek-r1-distil-qwen-7b", "-f", "json")
    assert r.code == 3 and r.out == "" and "deepseek-r1-distill-qwen-7b" in r.err.lower()


def test_a_family_prefix_suggests_its_releases_first(run):
    """`show deepseek-v4` suggested V3, V2 and V1 (difflib's close matches came before the names that start with
    what was typed, though suggest()'s docstring puts prefix and substring matches first); now V4's releases."""
    r = run("show", "deepseek-v4")
    assert r.code == 3 and r.out == ""
    suggested = re.findall(r"'([^']+)'", r.err.split("did you mean", 1)[1])
    assert suggested and all(s.lower().startswith("deepseek-v4-") for s in suggested), r.err


# ------------------------------------------------------------------ unknown fields: what is suggested

GPU_ENTRY = ("gpus:\n  - id: X-1\n    name: X\n    vendor: other\n    family: X\n    category: consumer\n"
             "    memory_gb: 24\n    bandwidth_gbs: 900\n    dtypes: [fp16]\n    source: a datasheet\n")


@pytest.mark.parametrize("text,field,expected", [
    # a misplaced key at the top: the top-level sections, never the key itself
    ("conflicts: []\n", "conflicts",
     "unknown field; a file's top level holds schema_version, sources, models, gpus, quantizations, engines, artifacts"),
    ("model: []\n", "model", "unknown field; did you mean 'models'?"),
    # inside a record: that record's own fields
    (GPU_ENTRY + "    memory_gbs: 24\n", "memory_gbs", "unknown field; did you mean 'memory_gb'?"),
    (GPU_ENTRY + "    interconnect: {kind: pcie, bandwidth_gbs: 32, source: xx, bandwith_gbs: 3}\n",
     "interconnect.bandwith_gbs", "unknown field; did you mean 'bandwidth_gbs'?"),
    (GPU_ENTRY + "    conflicts: []\n", "conflicts", "unknown field"),  # a model's field, not a GPU's
    (GPU_ENTRY + "    quote: datasheet\n", "quote", "unknown field; did you mean 'note'?"),  # a GPU's closest
    ("models:\n  - {id: a, name: A, status: described, family: a, source: xx, conflict: []}\n", "conflict",
     "unknown field; did you mean 'conflicts'?"),
    ("models:\n  - {id: a, name: A, status: described, family: a, source: xx,\n"
     "     claims: [{field: other, value: 1, quote: q, source: xx, sourc: x}]}\n", "claims.0.sourc",
     "unknown field; did you mean 'source'?"),
])
def test_an_unknown_field_is_never_offered_itself(run, tmp_path, text, field, expected):
    f = _write(tmp_path / "fields.yaml", text)
    r = run("catalog", "validate", str(f))
    assert r.code == 4
    (line,) = [p for p in r.err.splitlines() if f"field {field}:" in p]
    assert line.endswith(f"field {field}: {expected}"), line
    assert f"did you mean '{field.rsplit('.', 1)[-1]}'" not in line


def test_gpu_category_choices_are_the_schemas():
    import typing

    import annotated_types

    from dsadvisor.catalog import schema
    from dsadvisor.cli.catalog_commands import GPU_CATEGORIES

    hints = typing.get_type_hints(schema.Gpu, vars(schema), vars(annotated_types))
    assert GPU_CATEGORIES == typing.get_args(hints["category"])


@pytest.mark.parametrize("category", ["edge", "apple"])
def test_gpus_category_filters(run, category):
    r = run("gpus", "--category", category, "-f", "json")
    assert r.code == 0 and r.err == ""
    rows = r.json()["gpus"]
    assert rows and {g["category"] for g in rows} == {category}
