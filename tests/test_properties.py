"""Properties of the estimator and the search, over generated deployments (hypothesis).

- memory per GPU never decreases as the context, the batch or the format's bits per weight grow;
- more GPUs never raise the weights each GPU holds;
- a deployment that fits, and a model that passes, still do with more VRAM (a ``--vram`` device);
- every figure of an estimate is finite and non-negative;
- ``estimate -f json`` and ``recommend -f json`` parse and carry every key docs/json.md promises,
  with the documented type.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import math
import re
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from dsadvisor.advice.search import Hardware, recommend
from dsadvisor.errors import DsAdvisorError
from dsadvisor.physics.estimate import Deployment, estimate
from dsadvisor.physics.params import is_moe_layer, moe_layer_count
from dsadvisor.catalog.resolve import resolve_hardware
from dsadvisor.advice.rules import Constraints

from .conftest import ROOT

JSON_MD = ROOT / "docs" / "json.md"
PROPERTY = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
CLI = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])


# ------------------------------------------------------------------ drawing deployments

def models_with_shapes(cat) -> list[str]:
    return sorted(m.id for m in cat.models.values() if m.kind == "model" and cat.architecture(m) is not None)


def weight_formats(cat, engine) -> list[str]:
    """The weight formats an engine runs on any model; a publisher's per-model recipe (Unsloth's dynamic
    GGUFs, whose bits_per_weight is the R1 file's average) is left out: on another shape its classes do
    not average to that figure, and the search never offers it there."""
    from dsadvisor.advice.search import published_recipe

    return sorted(f for f in engine.formats if "weights" in cat.quantizations[f].applies_to
                  and not published_recipe(cat.quantizations[f]))


def draw_deployment(data, cat, *, gpu=None) -> Deployment:
    model = cat.models[data.draw(st.sampled_from(models_with_shapes(cat)), label="model")]
    engine = cat.engines[data.draw(st.sampled_from(sorted(cat.engines)), label="engine")]
    quant = cat.quantizations[data.draw(st.sampled_from(weight_formats(cat, engine)), label="quant")]
    kv = data.draw(st.sampled_from(["auto", *engine.kv_dtypes]), label="kv")
    if gpu is None:
        gpu = cat.gpus[data.draw(st.sampled_from(sorted(cat.gpus)), label="gpu")]
    return Deployment.of(
        cat, model=model, gpu=gpu, quant=quant, engine=engine, kv_dtype=kv,
        gpus=data.draw(st.sampled_from([1, 2, 4, 8, 16]), label="gpus"),
        context=data.draw(st.integers(1, 262_144), label="context"),
        batch=data.draw(st.integers(1, 256), label="batch"),
    )


def try_estimate(cat, dep):
    """The estimate, or None when the deployment cannot be run (engine, layout): such pairs are skipped."""
    try:
        return estimate(dep)
    except DsAdvisorError:
        return None


def both(cat, a, b):
    ea, eb = try_estimate(cat, a), try_estimate(cat, b)
    assume(ea is not None and eb is not None)
    return ea, eb


# ------------------------------------------------------------------ monotone memory

@PROPERTY
@given(data=st.data())
def test_memory_never_shrinks_with_more_context(catalog, data):
    dep = draw_deployment(data, catalog)
    short = data.draw(st.integers(1, 131_072), label="short")
    long = data.draw(st.integers(short, 1_000_000), label="long")
    a, b = both(catalog, replace(dep, context=short), replace(dep, context=long))
    assert b.memory.per_gpu >= a.memory.per_gpu
    assert b.memory.kv_cache >= a.memory.kv_cache


@PROPERTY
@given(data=st.data())
def test_memory_never_shrinks_with_a_bigger_batch(catalog, data):
    dep = draw_deployment(data, catalog)
    small = data.draw(st.integers(1, 256), label="small")
    big = data.draw(st.integers(small, 4096), label="big")
    a, b = both(catalog, replace(dep, batch=small), replace(dep, batch=big))
    assert b.memory.per_gpu >= a.memory.per_gpu


@PROPERTY
@given(data=st.data())
def test_memory_never_shrinks_with_more_bits_per_weight(catalog, data):
    """Two weight formats one engine runs, compared by their bits (ties say nothing).

    A format that stores routed experts apart (fp8-fp4experts: 8 bits, experts 4.25) is only ordered
    against another when both its dense and its expert bits are: against NVFP4 (4.5 everywhere) a
    mostly-expert MoE is smaller in it, which is right, not a shrink with more bits.
    Two GGUF formats are not ordered by their labels: llama.cpp measures each file on one shape (Llama-3.1-8B),
    Q2_K's and Q3_K_M's are their blocks' alone, a model whose rows do not divide into 256 takes each mix's
    fallbacks (coder-1.3b's Q4_K_M, 4.89, is larger than its Q4_1, 5.1) and a small model's output head (Q6_K in
    every mix) weighs more (Q4_0's 4.55 holds no class of its own: R1-Distill-Qwen-1.5B's IQ4_XS, 4.46, is larger).
    """
    dep = draw_deployment(data, catalog)
    names = weight_formats(catalog, dep.engine)
    low, high = (catalog.quantizations[n] for n in data.draw(
        st.lists(st.sampled_from(names), min_size=2, max_size=2, unique=True), label="formats"))
    if low.bits_per_weight > high.bits_per_weight:
        low, high = high, low
    assume(low.bits_per_weight < high.bits_per_weight)
    assume(low.expert_bits <= high.expert_bits)
    gguf = set(catalog.engines["llama.cpp"].formats)
    assume(not ({low.id, high.id} <= gguf and high.bits_per_weight < 16))
    a, b = both(catalog, replace(dep, quant=low), replace(dep, quant=high))
    assert b.memory.weights >= a.memory.weights
    assert b.memory.per_gpu >= a.memory.per_gpu


@PROPERTY
@given(data=st.data())
def test_more_gpus_never_raise_weights_per_gpu(catalog, data):
    dep = draw_deployment(data, catalog)
    few = data.draw(st.sampled_from([1, 2, 3, 4, 8]), label="few")
    many = data.draw(st.sampled_from([n for n in (1, 2, 3, 4, 6, 8, 16, 32, 64) if n >= few]), label="many")
    a, b = both(catalog, replace(dep, gpus=few), replace(dep, gpus=many))
    assert b.gpus == many and a.gpus == few
    assert b.memory.weights <= a.memory.weights


# ------------------------------------------------------------------ more VRAM

vram = st.floats(min_value=0.5, max_value=2048, allow_nan=False, allow_infinity=False)


@PROPERTY
@given(data=st.data(), small=vram, extra=st.floats(min_value=0.001, max_value=4096))
def test_what_fits_still_fits_with_more_vram(catalog, data, small, extra):
    n = data.draw(st.sampled_from([1, 2, 4, 8]), label="n")
    lo, hi = resolve_hardware(catalog, None, small, n), resolve_hardware(catalog, None, small + extra, n)
    dep = replace(draw_deployment(data, catalog, gpu=lo.gpu), gpus=n)
    a, b = both(catalog, dep, replace(dep, gpu=hi.gpu))
    assert b.memory.capacity > a.memory.capacity
    assert b.memory.usable >= a.memory.usable
    if a.memory.fits:
        assert b.memory.fits
    assert b.memory.kv_capacity_tokens >= a.memory.kv_capacity_tokens


@settings(max_examples=25, deadline=None)
@given(data=st.data(), small=st.floats(min_value=1, max_value=160), factor=st.floats(min_value=1.01, max_value=8))
def test_a_model_that_passes_still_passes_with_more_vram(catalog, data, small, factor):
    model = catalog.models[data.draw(st.sampled_from(models_with_shapes(catalog)), label="model")]
    n = data.draw(st.sampled_from([1, 2, 8]), label="n")
    k = Constraints(context=data.draw(st.sampled_from([None, 2048, 32768]), label="context"),
                    batch=data.draw(st.integers(1, 64), label="batch"))
    verdicts = []
    for gb in (small, small * factor):
        spec = resolve_hardware(catalog, None, gb, n)
        rec = recommend(catalog, [Hardware(gpu=spec.gpu, max_gpus=spec.count)], k, models=[model])
        verdicts.append((rec.ranked or rec.rejected)[0])
    if verdicts[0].passed:
        assert verdicts[1].passed, [(r.rule, r.message) for r in verdicts[1].failed]


# ------------------------------------------------------------------ every figure finite

def numbers(obj, path=""):
    """(path, value) of every number in a JSON-like object (bools are not numbers here)."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from numbers(v, f"{path}.{k}" if path else k)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from numbers(v, f"{path}[{i}]")
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
        yield path, obj


@PROPERTY
@given(data=st.data(), custom=st.none() | st.floats(min_value=0.001, max_value=100_000))
def test_every_estimate_figure_is_finite_and_not_negative(catalog, data, custom):
    gpu = None if custom is None else resolve_hardware(catalog, None, custom, 1).gpu
    est = try_estimate(catalog, draw_deployment(data, catalog, gpu=gpu))
    assume(est is not None)
    m = est.memory
    for name in ("weights", "kv_cache", "activations", "overhead", "per_gpu", "capacity", "usable"):
        value = getattr(m, name)
        assert math.isfinite(value) and value >= 0, (name, value)
    assert m.per_gpu >= m.weights > 0
    assert est.decode_step_s > 0 and math.isfinite(est.decode_step_s)
    for t in (est.ttft_s, est.ttft_single_s):
        assert t is None or (math.isfinite(t) and t > 0)
    seen = list(numbers(est.as_dict()))
    assert len(seen) > 20
    for path, value in seen:
        assert math.isfinite(value) and value >= 0, (path, value)


# ------------------------------------------------------------------ the closed-form MoE layer count

@settings(max_examples=200, deadline=None)
@given(layers=st.integers(1, 300), first=st.integers(0, 300), freq=st.integers(1, 7))
def test_moe_layer_count_matches_counting_layer_by_layer(catalog, layers, first, freq):
    assume(first <= layers)
    arch = replace(catalog.architecture(catalog.models["deepseek-v3"]), num_hidden_layers=layers,
                   first_k_dense_replace=first, moe_layer_freq=freq)
    assert moe_layer_count(arch) == sum(1 for i in range(layers) if is_moe_layer(arch, i))


def test_moe_layer_count_does_not_loop_over_layers(catalog):
    arch = replace(catalog.architecture(catalog.models["deepseek-v3"]), num_hidden_layers=2**31 - 1)
    assert moe_layer_count(arch) == 2**31 - 1 - 3  # the first 3 layers are dense


# ------------------------------------------------------------------ JSON against docs/json.md

TYPES = {"str": str, "int": int, "bool": bool, "float": (int, float), "null": type(None), "object": dict, "list": list}


def documented(section: str) -> dict[str, str]:
    """key path -> documented type, from the section's table in docs/json.md."""
    body = JSON_MD.read_text(encoding="utf-8").split(f"## `{section}`\n", 1)[1].split("\n## ", 1)[0]
    keys: dict[str, str] = {}
    for row in body.splitlines():
        if not row.startswith("| `"):
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", row)[1:-1]]
        names = re.findall(r"`([^`]+)`", cells[0])
        kinds = [t.strip() for t in cells[1].replace("\\|", "|").split(",")]
        if len(kinds) == 1:
            kinds *= len(names)
        assert len(kinds) == len(names), row
        parent = names[0].rsplit(".", 1)[0] + "." if "." in names[0] else ""
        for name, kind in zip(names, kinds):
            keys[parent + name[1:] if name.startswith(".") else name] = kind
    return keys


def lookup(obj: dict, path: str):
    for part in path.split("."):
        assert isinstance(obj, dict) and part in obj, f"{path}: no {part!r} in {obj!r:.300}"
        obj = obj[part]
    return obj


def of_type(value, kind: str) -> bool:
    for alternative in (k.strip() for k in kind.split("|")):
        if alternative.startswith("list of "):
            item = TYPES[alternative.removeprefix("list of ")]
            if isinstance(value, list) and all(isinstance(v, item) and not isinstance(v, bool) or item is bool
                                               for v in value):
                return True
        elif isinstance(value, TYPES[alternative]) and (alternative in ("bool", "null", "object", "list")
                                                        or not isinstance(value, bool)):
            return True
    return False


def leaves(obj: dict, prefix: str = "") -> set[str]:
    out = set()
    for k, v in obj.items():
        if isinstance(v, dict) and prefix.count(".") < 1 and k != "score":
            out |= leaves(v, f"{prefix}{k}.")
        else:
            out.add(prefix + k)
    return out


def check_estimate(obj: dict) -> None:
    doc = documented("estimate")
    assert obj["schema_version"] == 1
    for path, kind in doc.items():
        if path == "catalog_overrides" and "catalog_overrides" not in obj:  # the document's, not a verdict's
            continue
        assert of_type(lookup(obj, path), kind), (path, kind, lookup(obj, path))
    undocumented = leaves(obj) - set(doc) - {"schema_version"}
    assert not undocumented, f"keys docs/json.md does not describe: {sorted(undocumented)}"


def check_verdict(obj: dict) -> None:
    for path, kind in documented("check").items():
        assert of_type(lookup(obj, path), kind), (path, kind, lookup(obj, path))
    if obj["score"] is not None:
        for key in ("total", "quality", "speed", "headroom", "gpus"):
            assert 0 <= obj["score"][key] <= 1
        assert isinstance(obj["score"]["quality_from"], str)
    if obj["estimate"] is not None:
        check_estimate(obj["estimate"])
    for rule in obj["rules"]:
        assert set(rule) == {"id", "status", "message"} and rule["status"] in ("pass", "fail", "unknown", "skipped")
        assert re.fullmatch(r"DSA\d{3}", rule["id"]) and isinstance(rule["message"], str)


def cli_json(*argv: str) -> tuple[int, dict | None, str]:
    """In-process CLI run (no capsys: hypothesis runs many examples per test)."""
    from dsadvisor.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(argv))
            code = 0
        except SystemExit as exc:
            code = exc.code
    text = out.getvalue()
    assert "Traceback" not in err.getvalue()
    return code, (json.loads(text) if text else None), err.getvalue()


def test_the_documented_tables_are_read():
    est, verdict = documented("estimate"), documented("check")
    assert est["deployment.expert_parallel"] == "bool" and est["deployment.nodes"] == "int"
    assert est["latency.ttft_s"] == "float | null" and est["basis.warnings"] == "list of str"
    assert len(est) >= 30 and set(verdict) == {"model", "status", "passed", "score", "estimate", "checkpoint", "convert", "rules",
                                           "notes", "layout", "plan_command"}


@CLI
@given(data=st.data())
def test_estimate_json_matches_the_documented_schema(catalog, data):
    model = data.draw(st.sampled_from(sorted(m.id for m in catalog.models.values() if m.kind == "model")))
    engine = catalog.engines[data.draw(st.sampled_from(sorted(catalog.engines)))]
    argv = ["estimate", model, "-f", "json", "--engine", engine.id]
    if data.draw(st.booleans(), label="catalog gpu"):
        argv += ["--gpu", data.draw(st.sampled_from(sorted(catalog.gpus)))]
    else:
        argv += ["--vram", repr(data.draw(st.floats(0.5, 2048)))]
    for flag, strategy in (("--quant", st.sampled_from(weight_formats(catalog, engine))),
                           ("--context", st.integers(1, 200_000)), ("--batch", st.integers(1, 512)),
                           ("--gpus", st.sampled_from([1, 2, 4, 8, 16])),
                           ("--memory-fraction", st.floats(0.05, 1.0))):
        if data.draw(st.booleans(), label=flag):
            argv += [flag, str(data.draw(strategy, label=flag + " value"))]
    code, obj, err = cli_json(*argv)
    assert code in (0, 2), (argv, code, err)
    if code == 2:  # an engine that cannot run this format, layout or attention: one line, nothing on stdout
        assert obj is None and len(err.splitlines()) == 1 and err.startswith("dsadvisor: error: ")
        assume(False)
    check_estimate(obj)
    assert obj["model"] == model and obj["deployment"]["engine"] == engine.id


@CLI
@given(data=st.data())
def test_recommend_json_matches_the_documented_schema(catalog, data):
    argv = ["recommend", "-f", "json", "--vram", repr(data.draw(st.floats(1, 1024), label="vram")),
            "--gpus", str(data.draw(st.sampled_from([1, 2, 8]), label="gpus"))]
    top = data.draw(st.integers(1, 12), label="top")
    show_all = data.draw(st.booleans(), label="all")
    argv += ["--top", str(top)] + (["--all"] if show_all else [])
    for flag, strategy in (("--context", st.integers(256, 131_072)), ("--batch", st.integers(1, 64)),
                           ("--prefer", st.sampled_from(["balanced", "quality", "speed", "efficiency"])),
                           ("--task", st.sampled_from(["general", "code", "math", "reasoning", "chat"])),
                           ("--max-token-latency", st.floats(1, 500)),
                           ("--engine", st.sampled_from(sorted(catalog.engines)))):
        if data.draw(st.booleans(), label=flag):
            argv += [flag, str(data.draw(strategy, label=flag + " value"))]
    if data.draw(st.booleans(), label="released only"):
        argv.append("--released-only")
    code, obj, err = cli_json(*argv)
    assert code == 0 and err == "", (argv, err)
    assert obj["schema_version"] == 1
    assert isinstance(obj["hardware"], list) and all(isinstance(h, str) for h in obj["hardware"])
    fields = {f.name: f for f in dataclasses.fields(Constraints)}
    assert set(obj["constraints"]) == set(fields)
    for name, value in obj["constraints"].items():
        kind = str(fields[name].type)
        if kind.startswith("tuple"):
            assert isinstance(value, list)
        elif value is not None:
            assert of_type(value, kind.replace(" | None", "")), (name, kind, value)
    assert isinstance(obj["ranked"], list) and len(obj["ranked"]) <= top
    assert isinstance(obj["advice"], list) and all(isinstance(a, str) for a in obj["advice"])
    assert ("rejected" in obj) is show_all
    # a known loss first, then a checkpoint that exists before one to make, then the score
    keys = [("loss unknown" in v["score"]["why"], v["convert"] is not None, -v["score"]["total"]) for v in obj["ranked"]]
    assert keys == sorted(keys)
    for v in obj["ranked"]:
        check_verdict(v)
        assert v["passed"] is True and v["estimate"]["memory"]["fits"] is True
    for v in obj.get("rejected", []):
        check_verdict(v)
        assert v["passed"] is False


@pytest.mark.parametrize("argv", [
    ("estimate", "deepseek-v3", "--gpu", "H200", "--gpus", "8", "-f", "json"),
    ("estimate", "deepseek-r1-distill-qwen-7b", "--gpu", "RTX-3060", "--quant", "q4_k_m", "--engine", "llama.cpp",
     "-f", "json"),
    ("estimate", "DeepSeek-V2-Lite", "--vram", "16", "--engine", "transformers", "-f", "json"),
])
def test_known_estimates_match_the_schema(argv):
    code, obj, err = cli_json(*argv)
    assert code == 0, err
    check_estimate(obj)
