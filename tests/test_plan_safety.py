"""Plans are safe to paste: no byte from a catalog, a config.json or a path runs as shell code.

Every command a plan prints is checked with ``bash -n`` and then run in a real bash, in an empty
folder, with stub engines first on PATH (vllm, python, trtllm-serve, llama-server, ray, mpirun, ...)
that only write down their argv. For hostile values (``$(...)``, backticks, ``;``, ``&``, ``|``, a
newline, ``<a>b``, quotes, a leading ``--``) nothing else may run (no file appears) and the stub must
get the value as one literal argument: exactly the words Python's shlex reads in the line. Every
Kubernetes manifest parses with yaml.safe_load and gives the container that same argv as lists.

The hostile ``hf_repo`` values are refused when a catalog is read (tests at the end); the plan tests
switch that check off, so the quoting is proven on its own.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from dsadvisor.catalog import names, schema
from dsadvisor.errors import InputError
from dsadvisor.physics.estimate import Deployment, estimate
from dsadvisor.launch.plan import launch_plan

from .conftest import GOOD_MODEL

ENGINES = ("vllm", "sglang", "tensorrt-llm", "llama.cpp", "ollama")
# Programs a plan may start; each is a stub that records its argv (python: `python -m sglang...`).
STUBS = ("vllm", "python", "python3", "trtllm-serve", "trtllm-llmapi-launch", "llama-server", "ray", "mpirun",
         "ollama")
STUB = """#!/bin/sh
n=0
while [ -e "$RECORD_DIR/$n" ]; do n=$((n + 1)); done
printf '%s\\0' "${0##*/}" "$@" > "$RECORD_DIR/$n"
"""
# What a plan may leave in its folder: TensorRT-LLM's options file (written by printf, a builtin).
EXPECTED_FILES = {"extra-llm-api-options.yaml"}

HOSTILE = (
    "acme/x$(touch pwned-dollar)",
    "acme/x`touch pwned-backtick`",
    "acme/x;touch PWNED;: <a>b",
    "acme/x<a>b",
    "acme/x\ntouch pwned-newline",
    "acme/x'\"$(touch pwned-quotes)\"'",
    "acme/x & touch pwned-amp | touch pwned-pipe # c",
    "acme/x$HOME>pwned-redirect",
)
HOSTILE_FOLDERS = (  # a --config folder's name (no '/': one path component)
    "m$(touch x)<a>b",
    "m`touch y`",
    "m;touch z;",
    "m\ntouch nl",
    "m'\"q",
    "m <a>b & touch amp",
    "--trust-remote-code",
)


# ------------------------------------------------------------------ running a command

@pytest.fixture(scope="module")
def stubs(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("stub-bin")
    for name in STUBS:
        (folder / name).write_text(STUB)
        (folder / name).chmod(0o755)
    return folder


def run_in_bash(script: str, stubs: Path, tmp: Path) -> tuple[list[list[str]], set[str]]:
    """``bash -n`` and then bash on ``script`` in an empty folder: (each stub call's argv, files left)."""
    tmp.mkdir(parents=True)
    work, records, path = tmp / "work", tmp / "records", tmp / "script.sh"
    work.mkdir()
    records.mkdir()
    path.write_text(script + "\n")
    syntax = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True, timeout=60)
    assert syntax.returncode == 0, f"bash -n: {syntax.stderr}\n{script}"
    env = {"PATH": f"{stubs}:/usr/bin:/bin", "RECORD_DIR": str(records), "HOME": str(work), "LC_ALL": "C"}
    done = subprocess.run(["bash", str(path)], cwd=work, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"bash: {done.stderr}\n{script}"
    calls = [(records / str(i)).read_bytes().decode().split("\0")[:-1] for i in range(len(os.listdir(records)))]
    return calls, {p.name for p in work.iterdir()}


def check_snippet(lines: tuple[str, ...], stubs: Path, tmp: Path) -> list[list[str]]:
    """Run one node's lines; nothing but the stubs ran, each with the words its line holds."""
    calls, files = run_in_bash("\n".join(lines), stubs, tmp)
    assert files <= EXPECTED_FILES, f"a payload ran: {files - EXPECTED_FILES}\n{lines}"
    # builtins and system programs a plan may run besides the engines: no stub records them
    programs = [line for line in lines if not line.startswith(("#", "printf ", "export ", "sleep "))]
    assert calls == [shlex.split(line.removesuffix(" &")) for line in programs]  # `&`: Ollama's server
    return calls


def carrying(calls: list[list[str]], value: str) -> list[str]:
    return [a for call in calls for a in call if value in a]


# ------------------------------------------------------------------ plans from the library

@pytest.fixture
def no_repo_check(monkeypatch):
    """Let a hostile hf_repo into a ModelEntry built in Python (the catalog refuses it)."""
    monkeypatch.setattr(names, "check_repo_id", lambda value: value)


# Per engine, deployments that put the value in each place a plan writes it: served as it is, in a
# <placeholder> for a quantized checkpoint, after TensorRT-LLM's fp8-KV setup line, in a GGUF name
# (llama.cpp, with layers kept in CPU memory too); and V3 over two nodes of eight H100s.
SETUPS = {
    "vllm": [("small", "bf16", "auto", 1), ("small", "awq-int4", "auto", 1), ("small", "int8", "fp8-kv", 1),
             ("big", "fp8", "auto", 16)],
    "sglang": [("small", "bf16", "auto", 1), ("small", "gptq-int4", "fp8-kv", 1), ("big", "fp8", "auto", 16)],
    "tensorrt-llm": [("small", "bf16", "fp8-kv", 1), ("small", "awq-int4", "auto", 1), ("big", "fp8", "auto", 16)],
    "llama.cpp": [("small", "q4_k_m", "q8_0-kv", 1), ("big", "q2_k", "auto", 1)],
    "ollama": [("small", "q4_k_m", "q8_0-kv", 1), ("big", "q2_k", "auto", 1)],
}


def _plans(catalog, engine_id: str, entry_changes: dict, path: str | None = None):
    # an id of their own: a checkpoint the catalog lists for the real model (Red Hat AI's W8A8 of the 7B)
    # would be served instead of the hostile repository the test must see reach the command
    models = {"small": replace(catalog.model("DeepSeek-R1-Distill-Qwen-7B"), id="hostile-small", **entry_changes),
              "big": replace(catalog.model("DeepSeek-V3"), id="hostile-big", **entry_changes)}
    h100, eng = catalog.gpus["H100-SXM"], catalog.engine(engine_id)
    value = path or entry_changes.get("hf_repo", "")
    for model, quant, kv, n in SETUPS[engine_id]:
        est = estimate(Deployment.of(catalog, model=models[model], gpu=h100, quant=catalog.quantization(quant),
                                           engine=eng, kv_dtype=kv, gpus=n))
        try:
            plan = launch_plan(catalog, est, models[model], gpu=h100, model_path=path, kubernetes=True)
        except InputError as e:  # trtllm-llmapi-launch would split the value again: refused, nothing printed
            assert engine_id == "tensorrt-llm" and n > 8 and set(value) & set(" \t\n*?["), e
            assert "trtllm-llmapi-launch splits its command at blanks" in str(e)
            continue
        yield plan


def k8s_reads(words: list[str]) -> list[str]:
    """What Kubernetes passes on for a command or args list: ``$$`` is one ``$`` (the plan's own ``$``
    are written doubled so that no ``$(VAR)`` in them is expanded)."""
    return [w.replace("$$", "$") for w in words]


def check_leader_worker_set(plan, value: str) -> None:
    """Every container of a LeaderWorkerSet gets lists of strings; the value reaches the leader's server
    whole, in one argument, with each ``$`` doubled, and never a script's text."""
    lws, service = yaml.safe_load_all(plan.kubernetes)
    group = lws["spec"]["leaderWorkerTemplate"]
    for role in ("leaderTemplate", "workerTemplate"):
        [c] = group[role]["spec"]["containers"]
        for key in ("command", "args"):
            assert isinstance(c.get(key, []), list) and all(isinstance(a, str) for a in c.get(key, []))
        if c["command"][:2] == ["/bin/sh", "-c"]:
            assert value not in c["command"][2] and value.replace("$", "$$") not in c["command"][2]
    leader = group["leaderTemplate"]["spec"]["containers"][0]
    held = [a for a in k8s_reads(leader["args"]) if value in a]
    assert len(held) == 1 and (held[0] == value or held[0].endswith(f" {value}>")), held
    assert all("$(" not in a or a.startswith("$(LWS_") or "$$(" in a for a in leader["args"])


def check_manifest(plan, server: list[str], value: str, stubs: Path, tmp: Path) -> None:
    """The manifest parses and its container runs ``server`` (what bash gave the stub), as lists."""
    if plan.estimate.nodes > 1:
        check_leader_worker_set(plan, value)
        return
    c = yaml.safe_load(plan.kubernetes)["spec"]["template"]["spec"]["containers"][0]
    c = {**c, **{key: k8s_reads(c[key]) for key in ("command", "args") if key in c}}
    for key in ("command", "args"):
        assert isinstance(c.get(key, []), list) and all(isinstance(a, str) for a in c.get(key, []))
    if plan.engine == "llama.cpp":  # the image's entrypoint is llama-server
        assert "command" not in c and c["args"] == server[1:]
    elif plan.engine == "ollama":  # the image's entrypoint is ollama; its settings are the container's env
        assert "command" not in c and c["args"] == ["serve"]
        assert {e["name"] for e in c["env"]} >= {"OLLAMA_CONTEXT_LENGTH", "OLLAMA_NUM_PARALLEL"}
    elif c["command"][:2] == ["/bin/sh", "-c"]:  # a constant setup script, then exec "$@"
        assert c["args"] == server and value not in c["command"][2]
        tmp.mkdir()
        env = {"PATH": f"{stubs}:/usr/bin:/bin", "RECORD_DIR": str(tmp)}
        subprocess.run(c["command"] + c["args"], cwd=tmp, env=env, check=True, timeout=60)
        assert sorted(os.listdir(tmp)) == ["0", "extra-llm-api-options.yaml"]  # the stub's record, the options
        assert (tmp / "0").read_bytes().decode().split("\0")[:-1] == server
    else:
        assert c["command"] + c["args"] == server


def check_plan(plan, value: str, stubs: Path, tmp: Path) -> None:
    per_node = [check_snippet(lines, stubs, tmp / str(node)) for node, lines in enumerate(plan.lines)]
    calls = [c for node in per_node for c in node]
    if plan.engine == "llama.cpp":  # it runs a GGUF: the name is built from letters, digits, ., _, -
        model = calls[0][calls[0].index("-m") + 1]
        assert not carrying(calls, value) and shlex.quote(model) == f"'{model}'" and model.endswith(".gguf>")
    elif plan.engine == "ollama":  # it runs a library tag: no byte of the repository reaches a command
        assert not carrying(calls, value) and calls[0] == ["ollama", "serve"]
    else:  # the value reaches each server whole, in one argument (a placeholder ends with it)
        servers = [c for c in calls if c[0] in ("vllm", "python", "trtllm-serve", "mpirun")]
        assert servers
        for server in servers:
            held = carrying([server], value)
            assert len(held) == 1 and (held[0] == value or held[0].endswith(f" {value}>")), held
    check_manifest(plan, per_node[0][-1], value, stubs, tmp / "manifest")


@pytest.mark.parametrize("engine_id", ENGINES)
def test_a_hostile_hf_repo_never_runs(catalog, engine_id, stubs, tmp_path, no_repo_check):
    for i, value in enumerate(HOSTILE):
        for j, plan in enumerate(_plans(catalog, engine_id, {"hf_repo": value})):
            check_plan(plan, value, stubs, tmp_path / f"{i}-{j}")


@pytest.mark.parametrize("engine_id", ENGINES)
def test_a_hostile_model_path_never_runs(catalog, engine_id, stubs, tmp_path):
    for i, value in enumerate(f"/models/{f}" for f in HOSTILE_FOLDERS):  # the same code as hf_repo
        for j, plan in enumerate(_plans(catalog, engine_id, {}, path=value)):
            check_plan(plan, value, stubs, tmp_path / f"{i}-{j}")


def test_every_engine_and_layout_is_covered(catalog, no_repo_check):
    """Every engine with a launch command is in ENGINES (transformers has none); the multi-node
    plans' own placeholders (Ray workers, SGLang ranks, mpirun hosts) are quoted, and run above."""
    from dsadvisor.advice.search import DEFAULT_ENGINES

    assert set(DEFAULT_ENGINES) == set(ENGINES)
    small = catalog.model("DeepSeek-R1-Distill-Qwen-7B")
    for eng in set(catalog.engines) - set(ENGINES):
        est = estimate(Deployment.of(catalog, model=small, gpu=catalog.gpus["H100-SXM"],
                                           quant=catalog.quantization("bf16"), engine=catalog.engine(eng)))
        with pytest.raises(InputError, match="not a serving engine"):
            launch_plan(catalog, est, small)
    nodes = {p.engine: p.lines for e in ("vllm", "sglang", "tensorrt-llm")  # no blank: TensorRT-LLM serves it
             for p in _plans(catalog, e, {"hf_repo": HOSTILE[3]}) if p.estimate.nodes == 2}
    assert nodes["vllm"][1] == ("ray start --address '<head-ip>:6379'",)
    assert nodes["sglang"][1][0].endswith(" --dist-init-addr '<head-ip>:5000'")
    assert nodes["tensorrt-llm"][0][-1].startswith("mpirun -H '<head-ip>:8,<node-1-ip>:8' -n 16 ")


def test_a_path_that_looks_like_a_flag_stays_a_path(catalog):
    plan = next(_plans(catalog, "vllm", {}, path="--trust-remote-code"))
    assert shlex.split(plan.commands[0])[:3] == ["vllm", "serve", "./--trust-remote-code"]


# ------------------------------------------------------------------ through the CLI

def _qwen7b_config(catalog, **extra) -> str:
    from dsadvisor.catalog.schema import as_dict

    arch = catalog.architecture(catalog.model("DeepSeek-R1-Distill-Qwen-7B"))
    return json.dumps({"model_type": "qwen2", "torch_dtype": "bfloat16", **extra, **as_dict(arch, include={
        "num_hidden_layers", "hidden_size", "intermediate_size", "vocab_size", "num_attention_heads",
        "num_key_value_heads", "max_position_embeddings", "tie_word_embeddings"})})


CLI_PLANS = {"vllm": "awq-int4", "sglang": "awq-int4", "tensorrt-llm": "int8", "llama.cpp": "q4_k_m",
             "ollama": "q4_k_m"}


@pytest.mark.parametrize("engine_id", ENGINES)
def test_a_hostile_config_folder_never_runs(run, catalog, engine_id, stubs, tmp_path, monkeypatch):
    """The issue's `--config` folder `m$(touch x)<a>b` and its kin, pasted from `plan -f json`."""
    models = tmp_path / "models"
    models.mkdir()
    monkeypatch.chdir(models)
    for i, name in enumerate(HOSTILE_FOLDERS):
        folder = models / name
        folder.mkdir()
        (folder / "config.json").write_text(_qwen7b_config(catalog))
        arg = f"--config={name if name.startswith('-') else folder}"  # a relative path starting with -
        r = run("plan", arg, "--gpu", "H100", "--engine", engine_id, "--quant", CLI_PLANS[engine_id], "--k8s",
                "-f", "json")
        assert r.code == 0, r.err
        d = r.json()
        [command] = d["commands"]
        shown = f"./{name}" if name.startswith("-") else str(folder)
        if engine_id == "ollama":  # several lines of constants and a tag: the folder reaches none of them
            calls = check_snippet(tuple(command.split("\n")), stubs, tmp_path / "runs" / str(i))
            assert not carrying(calls, name) and calls[0] == ["ollama", "serve"]
            c = yaml.safe_load(d["kubernetes"])["spec"]["template"]["spec"]["containers"][0]
            assert "command" not in c and c["args"] == ["serve"]
            continue
        [server] = check_snippet((command,), stubs, tmp_path / "runs" / str(i))  # one line (a quoted newline)
        if engine_id == "llama.cpp":
            assert not carrying([server], name)
        else:
            assert [a for a in server if shown in a] == [f"<{q}-checkpoint-of {shown}>" for q in
                                                         {"vllm": ["AWQ"], "sglang": ["AWQ"],
                                                          "tensorrt-llm": ["INT8-SmoothQuant"]}[engine_id]]
        c = yaml.safe_load(d["kubernetes"])["spec"]["template"]["spec"]["containers"][0]
        assert k8s_reads(c.get("command", ["llama-server"]) + c["args"]) == server
    assert sorted(os.listdir(models)) == sorted(HOSTILE_FOLDERS)  # nothing else appeared


@pytest.mark.parametrize("value", ["acme/x$(touch pwned)", "acme/x;touch PWNED;: <a>b", "acme/x\ntouch nl"])
def test_a_hostile_hf_repo_is_refused_when_the_catalog_is_read(run, tmp_path, monkeypatch, value):
    """The issue's reproduction: `plan acme-x --gpu H100 --quant awq-int4` with that entry."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my.yaml").write_text("models:\n" + GOOD_MODEL.replace("acme-7b", "acme-x")
                                      + f"    hf_repo: {json.dumps(value)}\n")
    r = run("plan", "acme-x", "--gpu", "H100", "--quant", "awq-int4", "--catalog", "my.yaml", "-f", "json")
    assert (r.code, r.out) == (4, "")
    [line] = r.err.splitlines()
    assert line.startswith("dsadvisor: ") and "my.yaml: models[0] (id acme-x): field hf_repo: " in line
    assert "is not a Hugging Face repo id" in line
    assert sorted(os.listdir(tmp_path)) == ["my.yaml"]


VALID_REPOS = ["deepseek-ai/DeepSeek-V3", "gpt2", "a/b", "_x/y_", "org.name/model.v1.5", "A1/" + "n" * 96]
INVALID_REPOS = ["a/b/c", "a--b/c", "a/b..c", "a/b.git", "-a/b", "a/b-", "a/.b", "a/", "/a", "", "a b/c",
                 "a/" + "n" * 97, "acme/x$(touch pwned)", "acme/x`id`", "a/b;c", "a/b\n", "é/x", "a/b'c"]


@pytest.mark.parametrize("repo", VALID_REPOS)
def test_hugging_face_repo_ids_load(repo):
    assert schema.repo_id_problem(repo) is None
    entry = schema.validate(schema.ModelEntry, {"id": "acme-x", "name": "x", "status": "described",
                                                "family": "acme", "source": "a card", "hf_repo": repo})
    assert entry.hf_repo == repo


@pytest.mark.parametrize("repo", INVALID_REPOS)
def test_what_huggingface_hub_refuses_is_refused(repo):
    """huggingface_hub's validate_repo_id rules, ASCII only: each of these breaks one."""
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="is not a Hugging Face repo id"):
        schema.validate(schema.ModelEntry, {"id": "acme-x", "name": "x", "status": "described",
                                            "family": "acme", "source": "a card", "hf_repo": repo})
    with pytest.raises(ValueError, match="is not a Hugging Face repo id"):  # built in Python too
        schema.ModelEntry(id="acme-x", name="x", status="described", family="acme", source="a card",
                          hf_repo=repo)


# ------------------------------------------------------------------ the manifest's YAML

YAML_HOSTILE = ["a: b", "- x", "# c", "---", "...", "*alias", "&anchor x", "!!python/object:os.system", "{a: 1}",
                "[1, 2]", "'", '"', "a\nb", "a\n\nb && c", "\t", "\u2028", "null", "~", "true", "no", "0x10",
                "1e3", "", " lead", "trail ", "%TAG", "@", "`", "|", ">", "? k", "\x85", "\ufeffbom"]


def test_manifest_values_are_yaml_escaped(catalog):
    from dsadvisor.engines import serving_engine
    from dsadvisor.launch.kubernetes import deployment_manifest

    for engine in ENGINES:
        argv = [{"llama.cpp": "llama-server"}.get(engine, "vllm"), *YAML_HOSTILE]
        served = serving_engine(catalog.engine(engine))
        init = ("/bin/sh", "-c", "exit 0", "sh", *YAML_HOSTILE, "$(HOME)")  # Ollama's pull: a tag as "$1"
        text = deployment_manifest(served, "acme-x", argv, 1, 0.0, {"X": "a\nb: c"}, init=init)
        doc = yaml.safe_load(text)
        assert doc["kind"] == "Deployment" and list(doc) == ["apiVersion", "kind", "metadata", "spec"]
        [i] = doc["spec"]["template"]["spec"]["initContainers"]
        [c] = doc["spec"]["template"]["spec"]["containers"]
        assert k8s_reads(c.get("command", argv[:1]) + c["args"]) == argv  # exactly, as strings
        assert k8s_reads(i["command"]) == list(init)
        own = [{"name": served.cache_env, "value": f"/root/.cache/huggingface/{engine}"}] if served.cache_env else []
        assert c["env"] == i["env"] == [{"name": "X", "value": "a\nb: c"},
                                        {"name": "HF_HOME", "value": "/root/.cache/huggingface"}, *own]


def test_leader_worker_set_values_are_yaml_escaped(catalog):
    """The same hostile values through a LeaderWorkerSet (and its Service): two documents, lists of
    strings, the argv exactly as given once Kubernetes reads back each doubled ``$``."""
    from dsadvisor.engines import serving_engine
    from dsadvisor.launch.kubernetes import leader_worker_set

    argv = ["vllm", "serve", *YAML_HOSTILE, "$(HOME)"]
    pods = {"leader": {"command": argv[:1], "args": [a.replace("$", "$$") for a in argv[1:]]},
            "worker": {"command": ["ray"], "args": ["start", "--address", "$(LWS_LEADER_ADDRESS):6379"]},
            "worker_env": {"Y": "a\nb: c"}}
    text = leader_worker_set(serving_engine(catalog.engine("vllm")), "acme-x", pods, 2, 8, {"X": "- x"})
    lws, service = yaml.safe_load_all(text)
    assert lws["kind"] == "LeaderWorkerSet" and service["kind"] == "Service"
    group = lws["spec"]["leaderWorkerTemplate"]
    [leader] = group["leaderTemplate"]["spec"]["containers"]
    [worker] = group["workerTemplate"]["spec"]["containers"]
    assert k8s_reads(leader["command"] + leader["args"]) == argv
    assert "$$(HOME)" in leader["args"]  # Kubernetes does not expand it
    assert {"name": "Y", "value": "a\nb: c"} in worker["env"] and {"name": "X", "value": "- x"} in leader["env"]


# ------------------------------------------------------------------ host memory no machine has

def test_offload_refuses_layers_no_machine_can_hold(run, tmp_path):
    """The issue's config.json: its CPU-kept layers needed 2e28 bytes, a `39069...Gi` request."""
    config = {"model_type": "llama", "hidden_size": 2**31 - 1, "num_hidden_layers": 1000,
              "num_attention_heads": 1, "vocab_size": 32000, "intermediate_size": 2**31 - 1,
              "max_position_embeddings": 4096}
    (tmp_path / "config.json").write_text(json.dumps(config))
    for extra in ((), ("--ram", "512")):
        r = run("plan", "--config", str(tmp_path), "--gpu", "H100", "--offload", "--k8s", *extra, "-f", "json")
        assert (r.code, r.out) == (2, "")
        [line] = r.err.splitlines()
        assert line.startswith("dsadvisor: ") and "more than the 64 TiB any machine has" in line
        assert "-ngl 0" in line and "lower-bit format or more GPUs" in line


def test_the_host_memory_ceiling_is_what_refuses(run, monkeypatch):
    """The 32B on an RTX 3060 keeps 9.17 GB in CPU memory: planned under a 10 GB ceiling, refused under 9."""
    args = ("plan", "DeepSeek-R1-Distill-Qwen-32B", "--gpu", "RTX 3060", "--engine", "llama.cpp",
            "--quant", "q4_k_m", "--offload", "--k8s", "-f", "json")
    monkeypatch.setattr("dsadvisor.engines.llamacpp.MAX_HOST_BYTES", 10e9)
    d = run(*args).json()
    assert 9.0e9 < d["host_memory_bytes"] < 10e9
    c = yaml.safe_load(d["kubernetes"])["spec"]["template"]["spec"]["containers"][0]
    assert c["resources"]["requests"]["memory"] == "41Gi"  # 32 + ceil(9.17 GB / GiB)
    monkeypatch.setattr("dsadvisor.engines.llamacpp.MAX_HOST_BYTES", 9e9)
    r = run(*args)
    assert r.code == 2 and "more than the 0.00819 TiB any machine has" in r.err
