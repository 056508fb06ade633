"""TensorRT-LLM over several nodes on Kubernetes: one MPI job over a LeaderWorkerSet's pods.

The manifest is parsed, and both pods' scripts are run in bash with stub programs (mpirun, ssh, sshd,
ssh-keygen, id) that record their argv, under the variables LeaderWorkerSet sets: the leader must reach
each worker by the address LWS gives it and start mpirun over every GPU of the group with node 0's
``trtllm-llmapi-launch trtllm-serve`` argv exactly as the plan's command has it.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml

from dsadvisor.errors import InputError

LEADER = "deepseek-v3-tensorrt-llm-0.deepseek-v3-tensorrt-llm.default"  # LWS: <set>-<group>.<set>.<namespace>
STUB = """#!/bin/sh
n=0
while [ -e "$RECORD_DIR/$n" ]; do n=$((n + 1)); done
printf '%s\\0' "${0##*/}" "$@" > "$RECORD_DIR/$n"
"""


def plan(run, *extra):
    r = run("plan", "DeepSeek-V3", "--gpu", "H100", "--gpus", "16", "--quant", "fp8", "--engine", "tensorrt-llm",
            "--k8s", *extra, "-f", "json")
    assert r.code == 0, r.err
    d = r.json()
    lws, service = yaml.safe_load_all(d["kubernetes"])
    group = lws["spec"]["leaderWorkerTemplate"]
    [leader] = group["leaderTemplate"]["spec"]["containers"]
    [worker] = group["workerTemplate"]["spec"]["containers"]
    return d, lws, service, leader, worker


def stubs(folder: Path, uid: str) -> Path:
    folder.mkdir()
    for name in ("mpirun", "ssh", "sshd", "ssh-keygen"):
        (folder / name).write_text(STUB)
        (folder / name).chmod(0o755)
    (folder / "id").write_text(f"#!/bin/sh\necho {uid}\n")  # `id -u`: root in NGC images
    (folder / "id").chmod(0o755)
    return folder


def run_pod(c: dict, tmp: Path, uid: str = "0", **lws_env) -> tuple[list[list[str]], Path]:
    """Run a container's command and args in bash as its pod would: its env, LWS's variables, a HOME."""
    home, records, keys = tmp / "home", tmp / "records", tmp / "keys"
    for d in (home, records, keys):
        d.mkdir(parents=True)
    (keys / "private.key").write_text("PRIVATE\n")
    (keys / "private.key.pub").write_text("PUBLIC\n")
    env = {e["name"]: e["value"] for e in c["env"]}
    env.update(SSH_KEYS=str(keys), HOME=str(home), RECORD_DIR=str(records), LC_ALL="C",
               PATH=f"{stubs(tmp / 'bin', uid)}:/usr/bin:/bin", **lws_env)
    argv = [a.replace("$$", "$") for a in c["command"] + c.get("args", [])]  # Kubernetes reads $$ as $
    argv[0] = "bash"  # the scripts are POSIX sh; bash runs them the same way here
    subprocess.run(argv, cwd=home, env=env, check=True, timeout=60)
    n = len(list(records.iterdir()))
    return [(records / str(i)).read_bytes().decode().split("\0")[:-1] for i in range(n)], home


def test_a_leader_worker_set_of_one_mpi_job(run):
    d, lws, service, leader, worker = plan(run)
    group = lws["spec"]["leaderWorkerTemplate"]
    assert group["size"] == 2 and group["restartPolicy"] == "RecreateGroupOnPodRestart"
    assert "&id" not in d["kubernetes"] and "*id" not in d["kubernetes"]  # no YAML anchors: each pod its own
    # the leader runs node 0's server argv after trtllm-llmapi-launch, as the pasted command does
    command = shlex.split(d["commands"][0])
    assert leader["args"] == command[command.index("trtllm-llmapi-launch"):]
    assert leader["args"][:3] == ["trtllm-llmapi-launch", "trtllm-serve", "deepseek-ai/DeepSeek-V3"]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):  # trtllm-serve's /health on rank 0
        assert leader[probe]["httpGet"] == {"path": "/health", "port": 8000}
    # a worker serves no HTTP: it is ready when its sshd listens, and mpirun's ranks are its life
    assert worker["readinessProbe"]["tcpSocket"] == {"port": 2222}
    assert "livenessProbe" not in worker and "startupProbe" not in worker and "ports" not in worker
    for c in (leader, worker):
        assert c["resources"]["limits"]["nvidia.com/gpu"] == 8
        assert {"name": "ssh-keys", "mountPath": "/ssh-pk", "readOnly": True} in c["volumeMounts"]
        assert {"name": "model-cache", "mountPath": "/root/.cache/huggingface"} in c["volumeMounts"]
    for role in ("leaderTemplate", "workerTemplate"):
        volumes = {v["name"]: v for v in group[role]["spec"]["volumes"]}
        assert volumes["ssh-keys"]["secret"]["secretName"] == "mpi-ssh-key" and "hostPath" in volumes["model-cache"]
    assert {"name": "GPUS_PER_NODE", "value": "8"} in leader["env"]
    assert service["spec"]["selector"]["role"] == "leader"
    assert any("kubectl create secret generic mpi-ssh-key" in n for n in d["notes"])
    assert not any("has no way to start" in n for n in d["notes"])


def test_kubernetes_expands_no_name_in_the_scripts(run):
    """Kubernetes replaces $(NAME) in command and args when NAME is a variable of the container: the
    scripts' own $(...) are commands and arithmetic, never a bare name."""
    _, _, _, leader, worker = plan(run)
    for c in (leader, worker):
        assert not re.findall(r"\$\([A-Za-z_][A-Za-z0-9_]*\)", c["command"][2])


def test_the_leader_starts_mpirun_over_every_pod(run, tmp_path):
    d, _, _, leader, _ = plan(run)
    calls, _ = run_pod(leader, tmp_path, LWS_LEADER_ADDRESS=LEADER, LWS_GROUP_SIZE="2")
    worker = "deepseek-v3-tensorrt-llm-0-1.deepseek-v3-tensorrt-llm.default"  # LWS names it <leader pod>-1
    ssh, mpirun = calls
    assert ssh[0] == "ssh" and ssh[-2:] == [worker, "true"] and ssh[ssh.index("-p") + 1] == "2222"
    assert mpirun[:8] == ["mpirun", "--allow-run-as-root", "-H", f"{LEADER}:8,{worker}:8", "-n", "16", "--mca",
                          "plm_rsh_args"]
    assert [mpirun[i + 1] for i, a in enumerate(mpirun) if a == "-x"] == ["PATH", "LD_LIBRARY_PATH", "HF_HOME",
                                                                          "HF_TOKEN"]
    command = shlex.split(d["commands"][0])
    assert mpirun[mpirun.index("trtllm-llmapi-launch"):] == command[command.index("trtllm-llmapi-launch"):]


def test_the_leader_writes_the_options_file_rank_0_reads(run, tmp_path):
    d, _, _, leader, _ = plan(run, "--dp-attention", "16", "--mtp", "1", "--concurrency", "256")
    calls, home = run_pod(leader, tmp_path, uid="1000", LWS_LEADER_ADDRESS=LEADER, LWS_GROUP_SIZE="2")
    mpirun = calls[-1]
    assert "--allow-run-as-root" not in mpirun  # not root: Open MPI needs no leave
    options = yaml.safe_load((home / "extra-llm-api-options.yaml").read_text())
    assert options["enable_attention_dp"] is True
    assert options["speculative_config"] == {"decoding_type": "MTP", "num_nextn_predict_layers": 1}
    assert mpirun[mpirun.index("--extra_llm_api_options") + 1] == "extra-llm-api-options.yaml"
    assert mpirun[mpirun.index("--max_batch_size") + 1] == "16"  # per rank: 256 users over 16 attention ranks


def test_a_worker_runs_sshd_with_the_secrets_key(run, tmp_path):
    _, _, _, _, worker = plan(run)
    calls, home = run_pod(worker, tmp_path, uid="1000", LWS_LEADER_ADDRESS=LEADER, LWS_GROUP_SIZE="2",
                          LWS_WORKER_INDEX="1")
    keygen, sshd = calls
    assert keygen[0] == "ssh-keygen" and keygen[-1] == str(home / ".ssh" / "host_key")
    assert sshd == ["sshd", "-D", "-e", "-f", str(home / ".ssh" / "sshd_config")]
    config = (home / ".ssh" / "sshd_config").read_text().splitlines()
    assert "Port 2222" in config and "PasswordAuthentication no" in config
    assert f"AuthorizedKeysFile {home}/.ssh/authorized_keys" in config
    assert (home / ".ssh" / "authorized_keys").read_text() == "PUBLIC\n"


def test_a_path_trtllm_llmapi_launch_would_split_is_refused(catalog):
    """trtllm-llmapi-launch runs its command unquoted: a blank in the model's path splits it."""
    from dsadvisor.launch.plan import launch_plan
    from dsadvisor.physics.estimate import Deployment, estimate

    v3 = catalog.model("DeepSeek-V3")
    est = estimate(Deployment.of(catalog, model=v3, gpu=catalog.gpus["H100-SXM"], quant=catalog.quantization("fp8"),
                                 engine=catalog.engine("tensorrt-llm"), gpus=16))
    with pytest.raises(InputError, match="trtllm-llmapi-launch splits its command at blanks"):
        launch_plan(catalog, est, v3, model_path="/models/deep seek", kubernetes=True)
    assert launch_plan(catalog, est, v3, model_path="/models/deepseek", kubernetes=True).kubernetes
    one_node = estimate(Deployment.of(catalog, model=catalog.model("DeepSeek-R1-Distill-Qwen-7B"),
                                      gpu=catalog.gpus["H100-SXM"], quant=catalog.quantization("bf16"),
                                      engine=catalog.engine("tensorrt-llm")))  # no launcher: no split
    assert launch_plan(catalog, one_node, catalog.model("DeepSeek-R1-Distill-Qwen-7B"), model_path="/m/a b").commands


def test_a_placeholder_over_several_nodes_says_what_may_replace_it(run):
    r = run("plan", "DeepSeek-V3", "--gpu", "H100", "--gpus", "16", "--quant", "int8", "--engine", "tensorrt-llm",
            "-f", "json")
    assert r.code == 0, r.err
    d = r.json()
    assert "'<INT8-SmoothQuant-checkpoint-of deepseek-ai/DeepSeek-V3>'" in d["commands"][0]
    assert any("must have no blank" in n for n in d["notes"])
