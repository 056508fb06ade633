"""Bad input through the CLI: every case gets its documented exit code and one clear line on stderr.

The table is ``CASES`` in docs/gen_bad_input.py, which also writes docs/bad-input.md from it; the last
test here fails when that page is stale (run `python docs/gen_bad_input.py` and commit it).

For each case: the exit code is the documented one; stderr is one non-empty line starting with
``dsadvisor:`` (catalog problems: one such line per problem, each naming the file); no traceback
anywhere; stdout is empty or parses in the format the command line asked for.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import os
import sys

import pytest
import yaml

from .conftest import ROOT, run_subprocess

GEN = ROOT / "docs" / "gen_bad_input.py"
DOC = ROOT / "docs" / "bad-input.md"


def _generator():
    spec = importlib.util.spec_from_file_location("gen_bad_input", GEN)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while they are built
    spec.loader.exec_module(module)
    return module


gen = _generator()
CASES = gen.CASES


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad-input")
    gen.make_files(root)
    return root


def _parse(text: str, fmt: str):
    """stdout in the requested format; raises if it does not parse."""
    if fmt == "json":
        return json.loads(text)
    if fmt == "yaml":
        return yaml.safe_load(text)
    if fmt == "csv":
        return list(csv.reader(io.StringIO(text)))
    raise AssertionError(f"a bad-input case should ask for a machine-readable format, not {fmt}")


def check_streams(case, code: int, out: str, err: str) -> None:
    """Everything the table promises about one run, whichever way it was run."""
    assert "Traceback" not in out + err
    assert code == case.code, f"{case.id}: exit {code}, expected {case.code}; stderr: {err[:500]}"
    fmt = gen.requested_format(case)
    if code == 0 and (case.cache or case.note):  # the run goes on, and says once why the cache was not used,
        # or which bundled entry a user's file replaced
        assert err.startswith("dsadvisor: note: " if case.note else "dsadvisor: warning: "), err
        assert err.count("\n") == 1, err
        assert case.expect in err, f"{case.id}: {case.expect!r} not in {err[:500]!r}"
    elif code == 0:
        assert err == "", f"{case.id}: exit 0 but stderr says {err[:300]!r}"
    else:
        assert err.endswith("\n")
        lines = err[:-1].split("\n")
        # a 100 KB name or path is shortened, not repeated in full (errors.SHOWN)
        assert max(map(len, lines)) < 400, f"{case.id}: a {max(map(len, lines)):,}-character stderr line"
        # str.splitlines also breaks at \v, \f, \x1c-\x1e, \x85, \u2028, \u2029: none may hide in a line
        assert err.splitlines() == lines
        if case.per_problem:
            assert lines, case.id
            for line in lines:
                assert line.startswith("dsadvisor: ") and case.per_problem in line, line[:300]
        else:
            assert len(lines) == 1, f"{case.id}: {len(lines)} stderr lines: {err[:500]!r}"
            assert lines[0].startswith("dsadvisor:") and lines[0].removeprefix("dsadvisor:").strip()
        assert case.expect in err, f"{case.id}: {case.expect!r} not in {err[:500]!r}"
    if out:
        data = _parse(out, fmt)
        if fmt == "json":
            assert data["schema_version"] == 1
            if case.argv[:2] == ("catalog", "validate"):  # the problems on stdout are the lines on stderr
                assert data["valid"] is (code == 0)
                assert len(data["problems"]) + bool(data["more_problems"]) == len(err.splitlines())
                assert len(data["problems"]) <= 20
    elif code == 0:
        raise AssertionError(f"{case.id}: exit 0 with nothing on stdout")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case, run, workdir, monkeypatch):
    if case.as_root_differs and os.geteuid() == 0:
        pytest.skip("root reads a chmod 000 file")
    monkeypatch.chdir(workdir)
    for key, value in case.env:
        monkeypatch.setenv(key, value)
    if case.no_gpu:
        monkeypatch.setattr("dsadvisor.catalog.hardware.detect_gpus", lambda: [])
    if case.cache:
        monkeypatch.setenv("DSADVISOR_CACHE_DIR", gen.plant_cache(case, workdir))
    r = run(*case.argv)
    check_streams(case, r.code, r.out, r.err)


def test_the_table_covers_every_exit_code_and_group():
    assert {c.code for c in CASES} >= {0, 2, 3, 4, 5, 6}
    assert len({c.id for c in CASES}) == len(CASES)
    assert {c.group for c in CASES} == {gen.NAMES, gen.NUMBERS, gen.TYPES, gen.CONFLICTS, gen.CATALOGS,
                                        gen.CONFIGS, gen.STRINGS, gen.CACHE, gen.GATES, gen.SERVING}


def test_unknown_gpu_suggests_the_family(run):
    r = run("estimate", "deepseek-r1-distill-qwen-7b", "--gpu", "H100x")
    assert r.code == 3
    assert r.err.startswith("dsadvisor: error: unknown GPU 'H100x'; did you mean 'H100'")


# ------------------------------------------------------------------ through a real process

SUBPROCESS = ["unknown-gpu", "catalog-not-utf8", "config-not-json", "catalog-path-newline", "catalog-path-100kb",
              "validate-duplicate-key", "config-nested-too-deep"]


@pytest.mark.parametrize("case_id", SUBPROCESS)
def test_no_traceback_reaches_a_real_stderr(case_id, workdir, monkeypatch):
    case = next(c for c in CASES if c.id == case_id)
    monkeypatch.chdir(workdir)
    p = run_subprocess(*case.argv)
    check_streams(case, p.returncode, p.stdout, p.stderr)


def test_non_ascii_output_on_an_ascii_stdout(monkeypatch):
    """A stdout that cannot carry the catalog's CJK notes (cp1252, PYTHONIOENCODING=ascii) still gets
    parseable JSON and YAML, and a table, instead of a UnicodeEncodeError traceback."""
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    shown = {}
    for fmt in ("json", "yaml", "table"):
        p = run_subprocess("show", "deepseek-1.3b", "-f", fmt, env=env)
        assert p.returncode == 0 and p.stderr == "", p.stderr[-2000:]
        assert p.stdout.isascii()
        shown[fmt] = p.stdout
    utf8 = run_subprocess("show", "deepseek-1.3b", "-f", "json")
    assert not utf8.stdout.isascii()  # the entry does hold non-ASCII text
    assert json.loads(shown["json"]) == json.loads(utf8.stdout)
    assert yaml.safe_load(shown["yaml"]) == json.loads(utf8.stdout)
    assert "\\u4ebf" in shown["table"]


# ------------------------------------------------------------------ the page

def test_bad_input_page_is_current():
    assert DOC.read_text(encoding="utf-8") == gen.render(), (
        "docs/bad-input.md is stale: run `python docs/gen_bad_input.py` and commit the result"
    )


def test_bad_input_page_lists_every_case_and_the_limits():
    from dsadvisor.catalog.loading import USER_LIMITS

    text = DOC.read_text(encoding="utf-8")
    for case in CASES:
        if not case.as_root_differs:
            assert f"\n| {case.id} | " in text
    assert f"{USER_LIMITS.max_bytes:,} bytes" in text
    assert f"| nesting depth | {USER_LIMITS.max_depth} levels |" in text
    assert f"{USER_LIMITS.max_nodes:,}" in text
    for page in (text, (ROOT / "docs" / "catalog.md").read_text(encoding="utf-8")):  # the folder walk's limits
        assert f"{USER_LIMITS.max_walk_entries:,} files and folders" in page
        assert f"{USER_LIMITS.max_yaml_files:,} YAML files" in page
