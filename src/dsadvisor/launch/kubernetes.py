"""Kubernetes manifests for a plan: a Deployment for one node, a LeaderWorkerSet (leaderworkerset.x-k8s.io/v1,
kubernetes-sigs/lws) for several: ``size`` pods, one per node, the leader running node 0's server and the
workers joining it. Every pod gets its node's GPUs as nvidia.com/gpu limits, host memory, /dev/shm in
memory, the model cache at the Hugging Face cache path (``HF_HOME``) and startup, readiness and liveness
probes on the server's health endpoint (``ServingEngine.health_path``).

Written by yaml.safe_dump, which quotes and escapes every value (a newline, ``: ``, ``#``, a leading
``*``), so a value cannot change the document's structure; the container gets its argv as lists
(``ServingEngine.container``), never a string for a shell to read. Kubernetes itself expands
``$(VAR)`` in ``command`` and ``args``: every ``$`` of the plan's own argv is written ``$$`` (which
Kubernetes reads back as one ``$``), so only the references LeaderWorkerSet's variables need
(``$(LWS_LEADER_ADDRESS)``, ``$(LWS_WORKER_INDEX)``, added by the engine) are expanded.
"""

from __future__ import annotations

import copy
import math
import re

from dsadvisor.engines.base import ServingEngine

# Host memory for the pod: seed 002's Kubernetes sketch asks for 32Gi and 4 CPUs per GPU server
# (seed article “DEEPSEEK参数量全解析:版本演进与工程实践指南”, 2025-09-25); weights llama.cpp keeps in CPU memory come on top.
K8S_BASE_MEMORY_GIB = 32
K8S_MIN_CPUS = 4
SHM_SIZE = "16Gi"  # /dev/shm for NCCL and the engines' worker processes (vLLM docker --shm-size=16G)


# The longest name a LeaderWorkerSet may take: LWS names the worker StatefulSet of group i "<name>-<i>", and a
# StatefulSet's pods carry the label controller-revision-hash "<statefulset>-<10-character hash>", a label value
# (at most 63 characters): 63 - 11 - 2 = 50 (kubernetes/kubernetes#64023; LWS' own webhook checks only DNS-1035).
LWS_NAME_LIMIT = 50


def k8s_name(model_id: str, engine: str, limit: int = 63) -> str:
    """A name Kubernetes takes for the Deployment, LeaderWorkerSet and Service: a DNS-1035 label (lower-case
    letters, digits and '-', a letter first: a Service's and a LeaderWorkerSet's name must be one, LWS'
    webhook apivalidation.NameIsDNS1035Label) of at most ``limit`` characters."""
    name = re.sub(r"[^a-z0-9-]+", "-", f"{model_id}-{engine}".lower()).strip("-")
    if not name[:1].isalpha():  # "405b-legal" (a user's catalog id) would be refused: prefix a word
        name = f"dsadvisor-{name}".rstrip("-")
    return name[:limit].rstrip("-")


# The model cache: a hostPath folder on each node (DirectoryOrCreate), mounted where the engines'
# Hugging Face downloads go; replace it with a PersistentVolumeClaim to share one copy between nodes.
HF_HOME = "/root/.cache/huggingface"
CACHE_HOST_PATH = "/var/lib/dsadvisor/hf-cache"
# Probes: the startup probe allows an hour (120 x 30 s) before liveness starts, for the server to load the
# checkpoint from the model cache and start (671B FP8, ~690 GB, read at >= 0.2 GB/s from the node's disk).
# The first download does not fit in that hour on a slow link (690 GB needs > 190 MB/s), so it runs before:
# in an init container (no probes, no time limit: ``hf_download``), or, for a server that downloads by itself
# (llama.cpp's --hf-repo), in a budget grown by the checkpoint's bytes at DOWNLOAD_BYTES_S. Readiness takes
# the pod out of the Service while the server cannot answer. Assumed periods and rates, not measured here.
STARTUP = {"periodSeconds": 30, "failureThreshold": 120}
LOAD_BYTES_S = 0.2e9  # the local read the hour assumes (690 GB in an hour: one NVMe disk gives 10x)
DOWNLOAD_BYTES_S = 25e6  # assumed first-download rate (200 Mbit/s) for a server that downloads by itself
READINESS = {"periodSeconds": 10, "failureThreshold": 3}
LIVENESS = {"periodSeconds": 30, "failureThreshold": 5}


def k8s_escaped(argv: list[str]) -> list[str]:
    """``argv`` as Kubernetes passes it on: ``$`` doubled, so no ``$(VAR)`` in it is expanded."""
    return [a.replace("$", "$$") for a in argv]


def hf_download(repo: str) -> tuple[str, ...]:
    """An init container's argv that puts ``repo`` in the Hugging Face cache the server then reads: ``hf
    download`` (huggingface_hub >= 0.34's CLI, cli/download.py: snapshot_download into $HF_HOME/hub, the cache
    vLLM, SGLang and TensorRT-LLM resolve a repository id from)."""
    return ("hf", "download", repo)


def startup(download_bytes: float = 0.0) -> dict:
    """The startup probe's period and failures: the hour for loading, plus ``download_bytes`` (what the server
    downloads by itself at its first start) at DOWNLOAD_BYTES_S."""
    extra = math.ceil(download_bytes / DOWNLOAD_BYTES_S / STARTUP["periodSeconds"])
    return {**STARTUP, "failureThreshold": STARTUP["failureThreshold"] + extra}


def startup_comment(init: tuple[str, ...], download_bytes: float) -> str:
    """The manifest's first lines: what its startup budget assumes."""
    probe = startup(download_bytes)
    s = probe["periodSeconds"] * probe["failureThreshold"]
    text = (f"# startupProbe: {probe['failureThreshold']} x {probe['periodSeconds']} s = {s / 3600:.1f} h for the "
            f"server to start; it assumes the checkpoint loads from the model cache at >= {LOAD_BYTES_S / 1e9:g} GB/s")
    if init:
        text += "\n# and that the init container fetch-model has downloaded it first (no time limit there)"
    elif download_bytes:
        text += (f"\n# plus the server's own first download of {download_bytes / 1e9:.0f} GB at "
                 f">= {DOWNLOAD_BYTES_S / 1e6:g} MB/s; on a slower link, fill the cache first")
    return text + "\n"


def probes(engine: ServingEngine, download_bytes: float = 0.0) -> dict:
    def get() -> dict:  # a fresh mapping each time: shared ones would be written as YAML anchors
        return {"httpGet": {"path": engine.health_path, "port": engine.port}}

    return {"startupProbe": {**get(), **startup(download_bytes)}, "readinessProbe": {**get(), **READINESS},
            "livenessProbe": {**get(), **LIVENESS}}


def container(engine: ServingEngine, spec: dict, gpus: int, host_bytes: float, env: dict[str, str],
              serves: bool = True, mounts: tuple[dict, ...] = (), download_bytes: float = 0.0) -> dict:
    """One pod's container: ``spec`` (command/args), its GPUs and memory, the model cache, /dev/shm (and
    ``mounts``), and probes on the health endpoint when it runs the HTTP server (``serves``), the startup
    probe's budget grown by ``download_bytes`` the server downloads by itself."""
    memory = f"{K8S_BASE_MEMORY_GIB + math.ceil(host_bytes / 2**30)}Gi"
    c: dict = {"name": "server", "image": engine.image, **spec}
    c["env"] = cache_env(engine, env)
    if serves:
        c["ports"] = [{"containerPort": engine.port}]
    c["resources"] = {
        "limits": {"nvidia.com/gpu": gpus, "memory": memory},
        "requests": {"cpu": str(max(K8S_MIN_CPUS, 2 * gpus)), "memory": memory},
    }
    c["volumeMounts"] = [{"name": "dshm", "mountPath": "/dev/shm"}, {"name": "model-cache", "mountPath": HF_HOME},
                         *(dict(m) for m in mounts)]
    if serves:
        c.update(probes(engine, download_bytes))
    return c


def cache_env(engine: ServingEngine, env: dict[str, str]) -> list[dict]:
    """``env`` and the cache variables: HF_HOME, and the engine's own (``cache_env``) in a folder of it."""
    own = {engine.cache_env: f"{HF_HOME}/{engine.spec.id}"} if engine.cache_env else {}
    return [{"name": k, "value": v} for k, v in {**env, "HF_HOME": HF_HOME, **own}.items()]


def init_container(engine: ServingEngine, argv: tuple[str, ...], env: dict[str, str]) -> dict:
    """A container that runs ``argv`` in the engine's image, with its environment and the model cache,
    before the server starts (it fetches into the cache what the server will read)."""
    return {"name": "fetch-model", "image": engine.image, "command": k8s_escaped(list(argv)),
            "env": cache_env(engine, env), "volumeMounts": [{"name": "model-cache", "mountPath": HF_HOME}]}


def volumes() -> list[dict]:
    return [{"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": SHM_SIZE}},
            {"name": "model-cache", "hostPath": {"path": CACHE_HOST_PATH, "type": "DirectoryOrCreate"}}]


def deployment_manifest(engine: ServingEngine, model_id: str, argv: list[str], gpus: int, host_bytes: float,
                        env: dict[str, str], setup: tuple[str, ...] = (), init: tuple[str, ...] = (),
                        local: tuple[dict, dict] | tuple[()] = (), download_bytes: float = 0.0) -> str:
    """A single-node Deployment running ``argv`` (node 0's server) with ``gpus`` GPUs, after ``init`` (an
    init container's argv) when there is one; ``local``: a volume and its mount (a local checkpoint folder);
    ``download_bytes``: what the server downloads by itself at its first start (its startup budget grows)."""
    import yaml

    name = k8s_name(model_id, engine.spec.id)
    local_volumes, local_mounts = ([local[0]], (local[1],)) if local else ([], ())
    c = container(engine, engine.container(k8s_escaped(argv), setup), gpus, host_bytes, env, mounts=local_mounts,
                  download_bytes=download_bytes)
    pod: dict = {"initContainers": [init_container(engine, init, env)]} if init else {}
    doc = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                         "spec": {**pod, "containers": [c], "volumes": volumes() + local_volumes}},
        },
    }
    return startup_comment(init, download_bytes) + yaml.safe_dump(doc, sort_keys=False, width=10_000)


def leader_worker_set(engine: ServingEngine, model_id: str, lws: dict, nodes: int, gpus_per_node: int,
                      env: dict[str, str], init: tuple[str, ...] = ()) -> str:
    """A LeaderWorkerSet of ``nodes`` pods (``lws``: the engine's ``leader``/``worker`` container specs, the
    ``env`` both add and the ``leader_env``/``worker_env`` each adds; optionally the workers' own
    ``worker_readiness`` probe and ``volumes`` every pod mounts at ``mounts``) and a Service on the leader's
    HTTP port; ``init``: an init container's argv every pod runs first (each node reads its own cache)."""
    import yaml

    name = k8s_name(model_id, engine.spec.id, LWS_NAME_LIMIT)
    env = {**env, **lws.get("env", {})}
    mounts = tuple(lws.get("mounts", ()))
    leader = container(engine, lws["leader"], gpus_per_node, 0.0, {**env, **lws.get("leader_env", {})},
                       mounts=mounts)
    worker = container(engine, lws["worker"], gpus_per_node, 0.0, {**env, **lws.get("worker_env", {})},
                       serves=False, mounts=mounts)
    if "worker_readiness" in lws:  # a worker that serves no HTTP but must be up before the leader starts
        worker["readinessProbe"] = copy.deepcopy(lws["worker_readiness"])

    def pod(c: dict) -> dict:  # fresh mappings for each pod: shared ones would be written as YAML anchors
        first = {"initContainers": [init_container(engine, init, env)]} if init else {}
        return {**first, "containers": [c], "volumes": volumes() + copy.deepcopy(list(lws.get("volumes", ())))}

    set_doc = {
        "apiVersion": "leaderworkerset.x-k8s.io/v1",
        "kind": "LeaderWorkerSet",
        "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "leaderWorkerTemplate": {
                "size": nodes,
                "restartPolicy": "RecreateGroupOnPodRestart",
                "leaderTemplate": {"metadata": {"labels": {"role": "leader"}}, "spec": pod(leader)},
                "workerTemplate": {"spec": pod(worker)},
            },
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"selector": {"leaderworkerset.sigs.k8s.io/name": name, "role": "leader"},
                 "ports": [{"port": engine.port, "targetPort": engine.port}]},
    }
    return startup_comment(init, 0.0) + yaml.safe_dump_all([set_doc, service], sort_keys=False, width=10_000)
