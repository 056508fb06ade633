"""The shipped JSON Schema files: current with the result types, and true of real outputs.

The shipped schemas let a later minor version add keys; these tests validate with a strict copy
(no key that the schema does not name), so a key the views add without declaring it in
``output/contract.py`` fails here.
"""

from __future__ import annotations

import copy
import json

import pytest

jsonschema = pytest.importorskip("jsonschema")

from dsadvisor.output.schema_files import COMMANDS, schema_text  # noqa: E402

from .conftest import GOOD_MODEL  # noqa: E402

# One real run per document, with options that fill the optional parts (rejected rows, notes, rules).
RUNS = {
    "estimate": ["estimate", "deepseek-r1-distill-qwen-7b", "--gpu", "RTX-4090", "-f", "json"],
    "check": ["check", "deepseek-v3", "--gpu", "H100", "--gpus", "8", "--quant", "fp8"],
    "recommend": ["recommend", "--gpu", "A100", "--vram", "40", "--all", "-f", "json"],
    "plan": ["plan", "deepseek-r1-distill-qwen-14b", "--gpu", "A100", "--vram", "40", "--k8s",
             "-f", "json"],
    "models": ["models", "-f", "json"],
    "show": ["show", "deepseek-v3", "-f", "json"],
    "gpus": ["gpus", "-f", "json"],
    "catalog-audit": ["catalog", "audit", "-f", "json"],
    "layouts": ["layouts", "deepseek-r1", "--gpu", "H200", "--quant", "fp8", "--max-ttft", "2", "-f", "json"],
}


def strict(schema):
    """The schema with every object closed: keys it does not name are errors."""
    schema = copy.deepcopy(schema)

    def close(node):
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node:
                node.setdefault("additionalProperties", False)
            for value in node.values():
                close(value)
        elif isinstance(node, list):
            for value in node:
                close(value)

    close(schema)
    return schema


def validate(command: str, document) -> None:
    schema = strict(json.loads(schema_text(command)))
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])


def test_every_command_has_a_type_and_a_shipped_file():
    from dsadvisor.output.contract import DOCUMENTS

    assert set(DOCUMENTS) == set(COMMANDS)
    for command in COMMANDS:
        schema = json.loads(schema_text(command))
        assert schema["$schema"].endswith("2020-12/schema")
        jsonschema.Draft202012Validator.check_schema(schema)


def test_shipped_files_are_generated_from_the_current_types():
    """Regenerate with `python -m dsadvisor.output.contract` after changing a result type."""
    pydantic = pytest.importorskip("pydantic")
    if tuple(int(p) for p in pydantic.VERSION.split(".")[:2]) < (2, 10):
        pytest.skip("older pydantic words some schemas differently; the files are made with a current one")
    from dsadvisor.output.contract import json_schema

    stale = [c for c in COMMANDS if json.loads(schema_text(c)) != json_schema(c)]
    assert not stale, f"stale schema files: {stale} (run python -m dsadvisor.output.contract)"


@pytest.mark.parametrize("command", sorted(RUNS))
def test_real_output_validates(run, command):
    result = run(*RUNS[command])
    assert result.code in (0, 1), result.err
    validate(command, result.json())


def test_recommend_with_nothing_that_fits_validates(run):
    result = run("recommend", "--gpu", "RTX-3060", "--min-accuracy", "99", "--benchmark", "mmlu", "-f", "json")
    assert result.json()["ranked"] == []
    validate("recommend", result.json())


def test_catalog_validate_output_validates_for_good_and_bad_files(run, tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text("models:\n" + GOOD_MODEL, encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text("models:\n  - id: X Y\n", encoding="utf-8")
    for path, code in ((good, 0), (bad, 4)):
        result = run("catalog", "validate", str(path), "-f", "json")
        assert result.code == code, result.err
        validate("catalog-validate", result.json())


def test_strict_validation_catches_an_undeclared_key(run):
    document = run(*RUNS["plan"]).json()
    document["undeclared"] = 1
    with pytest.raises(AssertionError, match="undeclared"):
        validate("plan", document)


def test_schema_command_prints_the_shipped_file(run):
    result = run("schema", "check")
    assert result.code == 0
    assert json.loads(result.out) == json.loads(schema_text("check"))
    listing = run("schema")
    assert listing.out.split() == list(COMMANDS)


def test_schema_command_unknown_name_suggests(run):
    result = run("schema", "pln")
    assert result.code == 3
    assert "did you mean 'plan'" in result.err
    assert result.out == ""


def test_schema_takes_format_as_every_command_does(run):
    """README: "Every command takes --format"; `dsadvisor schema check -f json` answered "No such option: -f" (exit
    2), so a pipeline that passes -f json to each command broke on this one. -f json is the schema as printed
    without it, -f yaml the same document, and a format a schema cannot be is refused in one line."""
    import yaml

    plain = run("schema", "check")
    assert plain.code == 0
    as_json = run("schema", "check", "-f", "json")
    assert as_json.code == 0 and as_json.out == plain.out
    as_yaml = run("schema", "check", "--format", "yaml")
    assert as_yaml.code == 0 and yaml.safe_load(as_yaml.out) == json.loads(plain.out)
    listed = run("schema", "-f", "json")
    assert listed.code == 0 and json.loads(listed.out) == list(COMMANDS)
    assert run("schema").out.split() == list(COMMANDS)  # no format: one name a line, as before
    bad = run("schema", "check", "-f", "csv")
    assert bad.code == 2 and bad.out == "" and bad.err.count("\n") == 1 and "'json', 'yaml'" in bad.err
