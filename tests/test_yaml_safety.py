"""Hostile catalog YAML: alias bombs, deep nesting, huge files, Python tags, recursive aliases, duplicates.

Each is refused with exit 4 and one line naming the file, before anything is built from it. The bomb
is measured in a separate process: wall time of the command and the process's peak memory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from dsadvisor.catalog.loading import USER_LIMITS

from .conftest import GOOD_MODEL



def billion_laughs(levels: int = 10, width: int = 9) -> str:
    """`width`**`levels` "lol"s once expanded, in well under 1 KB."""
    lines = [f"a0: &a0 [{', '.join(['lol'] * width)}]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, levels)]
    return "\n".join(lines) + f"\nmodels: *a{levels - 1}\n"


def one_error_line(r, *needles: str) -> str:
    """Exit 4, nothing but one `dsadvisor:` line on stderr naming what it must; no traceback."""
    assert r.code == 4, (r.code, r.err[-2000:])
    assert "Traceback" not in r.out + r.err
    lines = r.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("dsadvisor: "), r.err[:2000]
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


# ------------------------------------------------------------------ billion laughs

MEASURE = textwrap.dedent("""
    import contextlib, io, json, resource, sys, time
    from dsadvisor.cli import main
    out, err = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(json.loads(sys.argv[1]))
            code = 0
        except SystemExit as exc:
            code = exc.code
    elapsed = time.perf_counter() - start
    try:  # this process's own high-water mark (ru_maxrss would carry over the forking parent's across exec)
        status = open("/proc/self/status").read()
        peak_mb = int(status.split("VmHWM:")[1].split()[0]) / 1024
    except (OSError, IndexError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
        peak_mb = peak / 2**20 if sys.platform == "darwin" else peak / 1024
    print(json.dumps({"code": code, "seconds": elapsed, "peak_mb": peak_mb, "out": out.getvalue(),
                      "err": err.getvalue()}))
""")


def measured(*argv: str, cwd) -> dict:
    """Run the CLI in a fresh interpreter; its exit code, streams, the command's wall time and peak RSS."""
    p = subprocess.run([sys.executable, "-c", MEASURE, json.dumps(argv)], capture_output=True, text=True,
                       cwd=cwd, timeout=60)
    assert p.returncode == 0 and "Traceback" not in p.stderr, p.stderr[-3000:]
    return json.loads(p.stdout)


def test_the_bomb_is_small_and_would_be_huge():
    text = billion_laughs()
    assert len(text.encode()) < 1024
    assert 9**10 > 1000 * USER_LIMITS.max_nodes  # 3.5e9 "lol"s, 7000 times the node limit


@pytest.mark.parametrize("argv", [
    ("catalog", "validate", "bomb.yaml", "-f", "json"),
    ("recommend", "--gpu", "H100", "--catalog", "bomb.yaml", "-f", "json"),
], ids=["validate", "recommend"])
def test_billion_laughs_is_refused_fast_and_small(argv, tmp_path):
    (tmp_path / "bomb.yaml").write_text(billion_laughs(), encoding="utf-8")
    m = measured(*argv, cwd=tmp_path)
    assert m["code"] == 4
    lines = m["err"].splitlines()
    assert lines == ["dsadvisor: " + ("error: " if argv[0] == "recommend" else "")
                     + f"bomb.yaml: expands to more than {USER_LIMITS.max_nodes:,} nodes (alias expansion); refused"]
    # The refusal takes ~0.5 s (benchmarks/hostile.py measures it); expanded, the bomb's 3.5e9 nodes would take
    # hours and gigabytes. 10 s is room for a loaded 2-core machine (1.0 s failed 1 run in 3 there) that still
    # tells a refusal from an expansion by three orders of magnitude.
    assert m["seconds"] < 10.0, m
    assert m["peak_mb"] < 100, m
    if argv[0] == "catalog":
        assert json.loads(m["out"])["valid"] is False
    else:
        assert m["out"] == ""


def test_many_aliases_of_one_wide_list_are_refused(run, tmp_path):
    """No recursion at all: 1,000 references to a 1,000-item list is a million nodes."""
    items = ", ".join(str(i) for i in range(1000))
    refs = ", ".join(["*wide"] * 1000)
    (tmp_path / "wide.yaml").write_text(f"x: &wide [{items}]\nmodels: [{refs}]\n", encoding="utf-8")
    one_error_line(run("catalog", "validate", str(tmp_path / "wide.yaml")), "wide.yaml", "alias expansion")


def test_aliases_within_the_limits_are_fine(run, tmp_path):
    """Anchors, aliases and merge keys are ordinary YAML: a file that shares fields with them is valid."""
    text = ("common: &common {status: released, family: acme, source: my model card,\n"
            "                 architecture_from: deepseek-r1-distill-qwen-7b}\n")
    bad = tmp_path / "shared.yaml"
    bad.write_text(text + "models:\n  - {<<: *common, id: acme-a, name: Acme-A}\n"
                   "  - {<<: *common, id: acme-b, name: Acme-B}\n", encoding="utf-8")
    r = run("catalog", "validate", str(bad), "-f", "json")
    # 'common' is not a section: the only problem is that unknown top-level key, not the aliases
    assert r.code == 4 and len(r.json()["problems"]) == 1 and "field common" in r.json()["problems"][0]
    good = tmp_path / "shared-ok.yaml"
    good.write_text("models:\n  - &a {id: acme-a, name: Acme-A, status: released, family: acme,"
                    " source: my model card, architecture_from: deepseek-r1-distill-qwen-7b}\n"
                    "  - {<<: *a, id: acme-b, name: Acme-B}\n", encoding="utf-8")
    r = run("catalog", "validate", str(good), "-f", "json")
    assert r.code == 0 and r.json()["valid"] is True, r.err
    r = run("show", "acme-b", "--catalog", str(good), "-f", "json")
    assert r.code == 0 and r.json()["entry"]["family"] == "acme"


# ------------------------------------------------------------------ nesting and size

def _nested(depth_below_models: int) -> str:
    return "models: " + "[" * depth_below_models + "]" * depth_below_models + "\n"


def test_nesting_up_to_the_limit_is_parsed(run, tmp_path):
    f = tmp_path / "deep-ok.yaml"
    f.write_text(_nested(USER_LIMITS.max_depth - 1), encoding="utf-8")  # the top mapping is level 1
    line = one_error_line(run("catalog", "validate", str(f)), "deep-ok.yaml")
    assert "nested deeper" not in line  # parsed; only the schema objects to a list of lists


def test_nesting_one_beyond_the_limit_is_refused(run, tmp_path):
    f = tmp_path / "deep.yaml"
    f.write_text(_nested(USER_LIMITS.max_depth), encoding="utf-8")
    one_error_line(run("catalog", "validate", str(f)), f"deep.yaml: nested deeper than {USER_LIMITS.max_depth} levels")


@pytest.mark.parametrize("depth", [10_000, 1_000_000])
def test_very_deep_nesting_is_refused_without_recursion(run, tmp_path, depth):
    """libyaml's own limit (1,000 flow levels) may answer first: either way one line, no RecursionError."""
    f = tmp_path / "deep.yaml"
    f.write_text(_nested(depth), encoding="utf-8")
    line = one_error_line(run("catalog", "validate", str(f)), "deep.yaml")
    assert "nested deeper than" in line or "maximum nesting depth" in line


def test_block_style_nesting_is_refused_too(run, tmp_path):
    f = tmp_path / "deep-block.yaml"
    f.write_text("".join("  " * i + f"k{i}:\n" for i in range(200)) + "  " * 200 + "leaf\n", encoding="utf-8")
    one_error_line(run("recommend", "--gpu", "H100", "--catalog", str(f)), "nested deeper than")


def test_a_file_over_the_size_limit_is_refused_unread(run, tmp_path):
    f = tmp_path / "big.yaml"
    with open(f, "wb") as fh:  # sparse: nothing is written to disk
        fh.truncate(USER_LIMITS.max_bytes + 1)
    one_error_line(run("catalog", "validate", str(f)),
                   f"big.yaml: file is over {USER_LIMITS.max_bytes:,} bytes; the limit is {USER_LIMITS.max_bytes:,}")
    one_error_line(run("gpus", "--catalog", str(f)), "the limit is")


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_an_endless_file_is_read_only_up_to_the_limit(run):
    """/dev/zero says it holds 0 bytes: the size limit is enforced on what is read, not on stat."""
    one_error_line(run("catalog", "validate", "/dev/zero"), "/dev/zero: file is over", "the limit is")
    r = run("estimate", "--config", "/dev/zero", "--gpu", "H100")
    assert r.code == 2 and r.err.count("\n") == 1 and "larger than" in r.err


def test_a_file_at_the_size_limit_is_read(run, tmp_path):
    f = tmp_path / "at-limit.yaml"
    body = "models: []\n# "
    f.write_text(body + "x" * (USER_LIMITS.max_bytes - len(body) - 1) + "\n", encoding="utf-8")
    assert f.stat().st_size == USER_LIMITS.max_bytes
    r = run("catalog", "validate", str(f), "-f", "json")
    assert r.code == 0 and r.json()["valid"] is True, r.err[:500]


# ------------------------------------------------------------------ Python tags

@pytest.fixture
def traps(tmp_path, monkeypatch):
    """A module that leaves a file behind if anything imports it, and the files tags would create."""
    marker = tmp_path / "imported.txt"
    (tmp_path / "dsadvisor_trap.py").write_text(f"open({str(marker)!r}, 'w').write('imported')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("dsadvisor_trap", None)
    return tmp_path, marker


PYTHON_TAGS = {
    "apply-os-system": "!!python/object/apply:os.system ['touch {made}']",
    "apply-open": "!!python/object/apply:builtins.open ['{made}', 'w']",
    "new-popen": "!!python/object/new:subprocess.Popen [['touch', '{made}']]",
    "module": "!!python/module:dsadvisor_trap",
    "name": "!!python/name:dsadvisor_trap.anything",
    "object": "!!python/object:dsadvisor_trap.Anything {{a: 1}}",
    "apply-in-an-entry": None,  # the tag deep inside a model entry
}


@pytest.mark.parametrize("kind", list(PYTHON_TAGS))
@pytest.mark.parametrize("command", ["validate", "recommend"])
def test_python_tags_are_refused_and_nothing_is_constructed(run, traps, kind, command):
    folder, marker = traps
    made = folder / f"made-{kind}.txt"
    if PYTHON_TAGS[kind] is None:
        text = "models:\n" + GOOD_MODEL.replace(
            "name: Acme-7B", f"name: !!python/object/apply:builtins.open ['{made}', 'w']")
    else:
        text = "models: " + PYTHON_TAGS[kind].format(made=made) + "\n"
    f = folder / "tagged.yaml"
    f.write_text(text, encoding="utf-8")
    argv = ("catalog", "validate", str(f)) if command == "validate" else ("recommend", "--vram", "24", "--catalog",
                                                                          str(f))
    one_error_line(run(*argv), "tagged.yaml", "could not determine a constructor for the tag", "python/")
    assert not made.exists()
    assert not marker.exists()
    assert "dsadvisor_trap" not in sys.modules


def test_the_trap_works_when_something_does_import_it(traps):
    """The check above could fail: importing the module does leave its file."""
    _, marker = traps
    import importlib

    importlib.import_module("dsadvisor_trap")
    assert marker.read_text() == "imported"
    sys.modules.pop("dsadvisor_trap")


def test_python_tags_refused_in_a_real_process(tmp_path):
    made = tmp_path / "made.txt"
    f = tmp_path / "tagged.yaml"
    f.write_text(f"models: !!python/object/apply:os.system ['touch {made}']\n", encoding="utf-8")
    p = subprocess.run([sys.executable, "-m", "dsadvisor", "catalog", "validate", str(f)], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 4 and "Traceback" not in p.stderr
    assert len(p.stderr.splitlines()) == 1 and "python/object/apply:os.system" in p.stderr
    assert not made.exists()


# ------------------------------------------------------------------ recursive aliases

@pytest.mark.parametrize("text", [
    "a: &a [*a]\nmodels: []\n",
    "a: &a {b: *a}\n",
    "models: &m [{id: x, related: *m}]\n",
    "a: &a [{x: &b [*a]}]\nc: *b\n",
], ids=["list", "mapping", "inside-models", "two-levels"])
def test_recursive_aliases_are_refused(run, tmp_path, text):
    f = tmp_path / "cycle.yaml"
    f.write_text(text, encoding="utf-8")
    one_error_line(run("catalog", "validate", str(f)), "cycle.yaml",
                   "an alias refers to a node that contains it (recursive YAML); refused")
    one_error_line(run("estimate", "deepseek-r1-distill-qwen-7b", "--gpu", "H100", "--catalog", str(f)), "recursive")


# ------------------------------------------------------------------ duplicates

def test_the_same_id_twice_in_one_file_is_refused(run, tmp_path):
    f = tmp_path / "twice.yaml"
    f.write_text("models:\n" + GOOD_MODEL + GOOD_MODEL.replace("Acme-7B", "Acme-7B v2"), encoding="utf-8")
    one_error_line(run("catalog", "validate", str(f)),
                   "twice.yaml: models[1] (id acme-7b): field id: already used by an earlier entry in this file")
    one_error_line(run("show", "acme-7b", "--catalog", str(f)), "already used")


def test_the_same_gpu_id_twice_in_one_file_is_refused(run, catalog, tmp_path):
    gpu = ("  - {id: Acme-1, name: Acme One, vendor: other, family: Acme, category: consumer, memory_gb: 16,\n"
           "     bandwidth_gbs: 500, dtypes: [fp16], source: a datasheet}\n")
    f = tmp_path / "gpus.yaml"
    f.write_text("gpus:\n" + gpu + gpu, encoding="utf-8")
    one_error_line(run("catalog", "validate", str(f)), "gpus[1] (id Acme-1)", "already used")


def test_a_later_file_replaces_an_id_by_design(run, tmp_path):
    """Across files the later one wins (docs/catalog.md): not a duplicate."""
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text("models:\n" + GOOD_MODEL, encoding="utf-8")
    second.write_text("models:\n" + GOOD_MODEL.replace("name: Acme-7B", "name: Acme-7B-v2"), encoding="utf-8")
    r = run("show", "acme-7b", "--catalog", str(first), "--catalog", str(second), "-f", "json")
    assert r.code == 0, r.err
    assert r.json()["entry"]["name"] == "Acme-7B-v2" and r.json()["origin"] == str(second)
    r = run("catalog", "validate", str(first), str(second))
    assert r.code == 0, r.err


def test_a_user_file_may_replace_a_bundled_id(run, tmp_path):
    f = tmp_path / "mine.yaml"
    # (it borrows the 7B's shape: borrowing its own, the replaced entry would be a cycle with no shape)
    f.write_text("models:\n" + GOOD_MODEL.replace("acme-7b", "deepseek-r1-distill-qwen-14b"), encoding="utf-8")
    r = run("show", "deepseek-r1-distill-qwen-14b", "--catalog", str(f), "-f", "json")
    assert r.code == 0 and r.json()["entry"]["name"] == "Acme-7B" and r.json()["origin"] == str(f)


@pytest.mark.parametrize("text,key,line", [
    ("models: []\nmodels: []\n", "models", 2),
    ("models:\n" + GOOD_MODEL + "    id: acme-8b\n", "id", 8),
    ("sources: {a: one, a: two}\n", "a", 1),
], ids=["section", "field", "flow-mapping"])
def test_a_key_twice_in_one_mapping_is_refused(run, tmp_path, text, key, line):
    """PyYAML would keep the last silently; a concatenated file would lose a whole section."""
    f = tmp_path / "dup.yaml"
    f.write_text(text, encoding="utf-8")
    one_error_line(run("catalog", "validate", str(f)), f"dup.yaml:{line}:", f"key {key!r} appears twice")


# ------------------------------------------------------------------ other scalars the constructor chokes on

@pytest.mark.parametrize("value,needle", [
    ("2024-13-45", "month must be in 1..12"),
    ("!!int twelve", "invalid literal for int()"),
    ("!!float many", "could not convert string to float"),
    ("9" * 5000, "4300 digits"),
    ("!custom 1", "could not determine a constructor for the tag '!custom'"),
])
def test_scalars_that_cannot_be_built_are_one_line(run, tmp_path, value, needle):
    f = tmp_path / "scalar.yaml"
    f.write_text(f"sources: {{a: {value}}}\n", encoding="utf-8")
    one_error_line(run("catalog", "validate", str(f)), "scalar.yaml", needle)


@pytest.mark.parametrize("data,needle", [
    (b"sources: {}\x00\n", "unacceptable character #x0000"),
    (b"sources: {a: \xff}\n", "not UTF-8 text (byte 13)"),
    (b"\xef\xbb\xbfsources: {a: b}\n", None),  # a UTF-8 byte-order mark is fine
])
def test_bytes_the_reader_refuses_are_one_line(run, tmp_path, data, needle):
    f = tmp_path / "bytes.yaml"
    f.write_bytes(data)
    r = run("catalog", "validate", str(f))
    if needle is None:
        assert r.code == 0, r.err
    else:
        one_error_line(r, "bytes.yaml", needle)


# ------------------------------------------------------------------ figures beyond any hardware

def _figures_file(tmp_path, catalog, **values):
    """A GPU, an engine (vLLM's own entry, replaced) and a model whose figures are ``values``
    (dotted paths such as ``gpus.memory_gb`` or ``engines.speed.per_layer_decode_s``)."""
    import yaml

    from dsadvisor.catalog.schema import as_dict

    data = {
        "gpus": [{"id": "X-1", "name": "X", "vendor": "nvidia", "family": "XCard", "category": "datacenter",
                  "memory_gb": 80, "bandwidth_gbs": 3000, "fp16_tflops": 900, "bf16_tflops": 900,
                  "dtypes": ["fp16", "bf16", "fp8"], "compute_capability": "9.0", "source": "a datasheet",
                  "interconnect": {"kind": "nvlink", "bandwidth_gbs": 450, "source": "a datasheet"}}],
        "engines": [as_dict(catalog.engines["vllm"])],
        "models": [{"id": "acme-huge", "name": "Acme-Huge", "status": "released", "family": "acme",
                    "source": "my model card", "params": [{"total": 7e9, "source": "my model card"}],
                    "hardware_advice": [{"gpu": "XCard", "vram_gb": 80, "quote": "one card", "source": "an article"}]}],
    }
    for dotted, value in values.items():
        section, *path = dotted.split(".")
        node = data[section][0]
        for key in path[:-1]:
            node = node[key][0] if isinstance(node[key], list) else node[key]
        node[path[-1]] = value
    f = tmp_path / "figures.yaml"
    f.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return f


BOUNDED = {  # every figure that has a ceiling in schema.py, and the ceiling
    "gpus.memory_gb": 1e6, "gpus.memory_bytes": 10**15, "gpus.bandwidth_gbs": 1e6,
    "gpus.fp16_tflops": 1e7, "gpus.bf16_tflops": 1e7, "gpus.fp8_tflops": 1e7, "gpus.int8_tops": 1e7,
    "gpus.interconnect.bandwidth_gbs": 1e6,
    "engines.memory.runtime_overhead_gb": 1e6, "engines.memory.comm_buffer_gb": 1e6,
    "engines.memory.max_batched_tokens": 2**31 - 1,
    "engines.speed.per_layer_decode_s": 1e3, "engines.speed.per_layer_prefill_s": 1e3,
    "engines.speed.per_moe_layer_decode_s": 1e3, "engines.speed.qk_elementwise_bytes": 1e6,
    "engines.speed.mlp_elementwise_bytes": 1e6,
    "models.params.total": 1e15, "models.params.active": 1e15, "models.hardware_advice.vram_gb": 1e6,
}


@pytest.mark.parametrize("dotted", list(BOUNDED))
def test_a_figure_beyond_its_ceiling_is_one_line_naming_file_entry_and_field(run, catalog, tmp_path, dotted):
    """`memory_gb: 1e300` used to validate, overflow to inf and crash estimate/gpus/recommend."""
    value = 10**300 if isinstance(BOUNDED[dotted], int) else 1e300
    f = _figures_file(tmp_path, catalog, **{dotted: value})
    section, *path = dotted.split(".")
    entry = {"gpus": "gpus[0] (id X-1)", "engines": "engines[0] (id vllm)", "models": "models[0] (id acme-huge)"}
    field = ".".join(p + (".0" if p in ("params", "hardware_advice") else "") for p in path)
    for argv in (("catalog", "validate", str(f)), ("gpus", "--catalog", str(f), "-f", "json")):
        one_error_line(run(*argv), f"figures.yaml: {entry[section]}: field {field}: Input should be less than or equal")


def test_every_figure_at_its_ceiling_still_gives_finite_answers(run, catalog, tmp_path):
    f = _figures_file(tmp_path, catalog, **BOUNDED)
    assert run("catalog", "validate", str(f)).code == 0
    for argv in (("estimate", "deepseek-v3", "--gpu", "XCard", "--gpus", "8"),
                 ("estimate", "acme-huge", "--gpu", "XCard"),
                 ("recommend", "--gpu", "XCard", "--top", "3"),
                 ("check", "deepseek-r1-distill-qwen-7b", "--gpu", "XCard"),
                 ("plan", "deepseek-r1-distill-qwen-7b", "--gpu", "XCard"),
                 ("gpus",), ("catalog", "audit"), ("show", "acme-huge")):
        r = run(*argv, "--catalog", str(f), "-f", "json")
        assert r.code in (0, 1) and "Traceback" not in r.err, (argv, r.err[-2000:])
        if r.out:  # `plan` prints nothing when nothing fits
            json.loads(r.out, parse_constant=lambda c: pytest.fail(f"{argv}: {c} in the output"))


FLOORED = {  # a device's figures that have a floor in schema.py, and the floor
    "gpus.memory_gb": 1e-3, "gpus.memory_bytes": 10**6, "gpus.usable_memory_fraction": 0.01,
    "gpus.bandwidth_gbs": 1e-3, "gpus.fp16_tflops": 1e-6, "gpus.bf16_tflops": 1e-6,
    "gpus.fp8_tflops": 1e-6, "gpus.int8_tops": 1e-6,
}


@pytest.mark.parametrize("dotted", list(FLOORED))
def test_a_figure_below_its_floor_is_one_line(run, catalog, tmp_path, dotted):
    """`memory_gb: 1e-300` used to leave 0 bytes to plan with and divide by zero in recommend."""
    value = 1 if isinstance(FLOORED[dotted], int) else 1e-300
    f = _figures_file(tmp_path, catalog, **{dotted: value})
    field = dotted.split(".", 1)[1]
    one_error_line(run("recommend", "--gpu", "XCard", "--catalog", str(f)),
                   f"figures.yaml: gpus[0] (id X-1): field {field}: Input should be greater than or equal")


def test_every_figure_at_its_floor_still_gives_answers(run, catalog, tmp_path):
    f = _figures_file(tmp_path, catalog, **FLOORED)
    for argv in (("recommend", "--gpu", "XCard", "--top", "3"),
                 ("check", "deepseek-r1-distill-qwen-7b", "--gpu", "XCard"),
                 ("plan", "deepseek-r1-distill-qwen-7b", "--gpu", "XCard", "--offload"),
                 ("estimate", "deepseek-r1-distill-qwen-7b", "--gpu", "XCard"), ("catalog", "audit")):
        r = run(*argv, "--catalog", str(f), "-f", "json")
        assert r.code in (0, 1) and "Traceback" not in r.err, (argv, r.err[-2000:])
        if r.out:
            json.loads(r.out, parse_constant=lambda c: pytest.fail(f"{argv}: {c} in the output"))


def test_the_bundled_catalog_is_within_every_ceiling_and_limit(run):
    """Real hardware is far below the ceilings: the bundled files validate as a user's files would."""
    from .conftest import ROOT

    r = run("catalog", "validate", str(ROOT / "catalog"), "-f", "json")
    assert r.code == 0 and r.json()["valid"] is True, r.err[-2000:]


# ------------------------------------------------------------------ a catalog folder's walk

def test_a_huge_catalog_folder_is_not_walked_to_the_end(run, tmp_path, monkeypatch):
    from dsadvisor.catalog import loading, store

    monkeypatch.setattr(store, "USER_LIMITS", loading.Limits(max_walk_entries=50, max_yaml_files=5))
    deep = tmp_path / "big"
    for i in range(60):
        (deep / f"d{i}").mkdir(parents=True)
    one_error_line(run("recommend", "--gpu", "H100", "--catalog", str(deep)),
                   "big: folder holds more than 50 files and folders; name a smaller catalog folder")
    few = tmp_path / "few"
    few.mkdir()
    for i in range(6):
        (few / f"{i}.yml").write_text("sources: {}\n", encoding="utf-8")
    one_error_line(run("catalog", "validate", str(few)), "few: folder holds more than 5 YAML files")
    (few / "5.yml").unlink()
    assert run("catalog", "validate", str(few)).code == 0


def test_the_bundled_catalog_is_walked_without_limits(tmp_path):
    from dsadvisor.errors import CatalogError
    from dsadvisor.catalog.loading import Limits, yaml_files

    for i in range(30):
        (tmp_path / str(i)).touch()
    with pytest.raises(CatalogError, match="more than 20 files and folders"):
        yaml_files(tmp_path, Limits(max_walk_entries=20))
    assert yaml_files(tmp_path, None) == []


def test_symlinked_folders_are_not_followed(tmp_path):
    from dsadvisor.catalog.loading import yaml_files

    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "a.yaml").write_text("sources: {}\n", encoding="utf-8")
    (tmp_path / "real" / "loop").symlink_to(tmp_path)  # a cycle: an unbounded walk never ends
    (tmp_path / "elsewhere").symlink_to(tmp_path / "real")
    (tmp_path / "b.yml").symlink_to(tmp_path / "real" / "a.yaml")  # a symlinked file is still read
    assert yaml_files(tmp_path) == [tmp_path / "b.yml", tmp_path / "real" / "a.yaml"]
