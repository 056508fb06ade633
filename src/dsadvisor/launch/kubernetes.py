"""A Kubernetes manifest for a one-node plan: the GPUs as nvidia.com/gpu limits, host memory,
/dev/shm in memory, readiness and liveness probes on the server's health endpoint.

Written by yaml.safe_dump, which quotes and escapes every value (a newline, ``: ``, ``#``, a leading
``*``), so a value cannot change the document's structure; the container gets its argv as lists
(``ServingEngine.container``), never a string for a shell to read.
"""

from __future__ import annotations

import math
import re

from dsadvisor.engines.base import ServingEngine

# Host memory for the pod: seed 002's Kubernetes sketch asks for 32Gi and 4 CPUs per GPU server
# (seed article “DEEPSEEK参数量全解析:版本演进与工程实践指南”, 2025-09-25); weights llama.cpp keeps in CPU memory come on top.
K8S_BASE_MEMORY_GIB = 32
K8S_MIN_CPUS = 4
SHM_SIZE = "16Gi"  # /dev/shm for NCCL and the engines' worker processes (vLLM docker --shm-size=16G)


def k8s_name(model_id: str, engine: str) -> str:
    name = re.sub(r"[^a-z0-9-]+", "-", f"{model_id}-{engine}".lower()).strip("-")
    return name[:63].rstrip("-") or "dsadvisor"


def deployment_manifest(engine: ServingEngine, model_id: str, argv: list[str], gpus: int, host_bytes: float,
                        env: dict[str, str], setup: tuple[str, ...] = ()) -> str:
    """A single-node Deployment running ``argv`` (node 0's server) with ``gpus`` GPUs."""
    import yaml

    name = k8s_name(model_id, engine.spec.id)
    memory = f"{K8S_BASE_MEMORY_GIB + math.ceil(host_bytes / 2**30)}Gi"
    container: dict = {"name": "server", "image": engine.image, **engine.container(argv, setup)}
    if env:
        container["env"] = [{"name": k, "value": v} for k, v in env.items()]
    container["ports"] = [{"containerPort": engine.port}]
    container["resources"] = {
        "limits": {"nvidia.com/gpu": gpus, "memory": memory},
        "requests": {"cpu": str(max(K8S_MIN_CPUS, 2 * gpus)), "memory": memory},
    }
    container["volumeMounts"] = [{"name": "dshm", "mountPath": "/dev/shm"}]
    doc = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [container],
                    "volumes": [{"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": SHM_SIZE}}],
                },
            },
        },
    }
    return yaml.safe_dump(doc, sort_keys=False, width=10_000)
