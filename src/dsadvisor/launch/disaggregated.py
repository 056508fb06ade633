"""The commands that start a disaggregated layout: SGLang's prefill and decode servers and the router in
front of them, as SGLang's PD disaggregation page launches them (docs.sglang.io
advanced_features/pd_disaggregation: ``--disaggregation-mode prefill|decode``, ``--base-gpu-id`` for an
instance that starts past GPU 0, ``python -m sglang_router.launch_router --pd-disaggregation --prefill
URL --decode URL``). Each server's other flags are the ones ``plan`` writes for that instance alone.

Every prefill server also listens on a bootstrap port for the KV transfer handshake (SGLang
``--disaggregation-bootstrap-port``, 8998 by default in python/sglang/srt/server_args.py): two prefill
servers on one node would both take 8998, so each gets its own (8998 + its index) and the router is told
it (``--prefill URL BOOTSTRAP_PORT``, as sglang_router's PD examples pass it).
"""

from __future__ import annotations

import math
from dataclasses import replace

from dsadvisor.catalog.store import Catalog
from dsadvisor.engines import serving_engine
from dsadvisor.engines.base import LaunchJob
from dsadvisor.engines.common import join, with_value
from dsadvisor.errors import InputError
from dsadvisor.physics.estimate import Deployment, estimate
from dsadvisor.physics.timing import Layout
from dsadvisor.records import record
from dsadvisor.serving.disaggregated import Split
from dsadvisor.serving.scheduler import scheduler_for

PREFILL_PORT, DECODE_PORT, ROUTER_PORT = 30000, 31000, 8000
BOOTSTRAP_PORT = 8998  # SGLang's default --disaggregation-bootstrap-port


@record(frozen=True)
class Instance:
    role: str  # "prefill" or "decode"
    index: int
    node: int
    first_gpu: int  # on its node
    layout: Layout

    @property
    def port(self) -> int:
        return (PREFILL_PORT if self.role == "prefill" else DECODE_PORT) + self.index

    @property
    def bootstrap_port(self) -> int | None:
        return BOOTSTRAP_PORT + self.index if self.role == "prefill" else None

    @property
    def host(self) -> str:
        return f"<node-{self.node}-ip>"


def instances(split: Split, gpus_per_node: int) -> list[Instance]:
    """Prefill instances first, then decode ones, each on consecutive GPUs of one node."""
    out, offset = [], 0
    for role, layout, count in (("prefill", split.prefill, split.prefill_workers),
                                ("decode", split.decode, split.decode_workers)):
        for i in range(count):
            if offset % gpus_per_node + layout.gpus > gpus_per_node:  # an instance stays on one node
                offset = math.ceil(offset / gpus_per_node) * gpus_per_node
            out.append(Instance(role, i, offset // gpus_per_node, offset % gpus_per_node, layout))
            offset += layout.gpus
    return out


def pool_commands(catalog: Catalog, d: Deployment, split: Split, concurrency: int, prompt_tokens: int,
                  output_tokens: int) -> tuple[list[str], list[str]]:
    """(shell lines, notes): a comment and a command per instance, then the router."""
    if d.engine.id != "sglang":
        raise InputError(f"launch commands for disaggregated layouts are written for SGLang; {d.engine.name} serves "
                         "them through NVIDIA Dynamo (see its docs)")
    engine = serving_engine(d.engine)
    arch = d.architecture
    assert arch is not None
    notes: list[str] = []
    lines: list[str] = []
    for inst in instances(split, d.gpus_per_node):
        users = math.ceil(concurrency / (split.decode_workers if inst.role == "decode" else split.prefill_workers))
        est = estimate(replace(d, gpus=inst.layout.gpus, layout=inst.layout, batch=users,
                               context=prompt_tokens + output_tokens, prompt_tokens=prompt_tokens))
        job = LaunchJob(d.model, est, arch, d.quant, d.gpu, engine.memory_fraction(est.memory, None, notes),
                        artifact=catalog.artifact(d.model.id, d.quant.id, d.engine.id),
                        token_budget=scheduler_for(d.engine.id).token_budget)
        argv = with_value(engine.server_argv(job, notes), "--port", str(inst.port))
        argv += ["--disaggregation-mode", inst.role] + (["--base-gpu-id", str(inst.first_gpu)] if inst.first_gpu else [])
        if inst.bootstrap_port is not None:
            argv += ["--disaggregation-bootstrap-port", str(inst.bootstrap_port)]
        last = inst.first_gpu + inst.layout.gpus - 1
        lines += [f"# {inst.role} {inst.index}: node {inst.node}, GPUs {inst.first_gpu}-{last}", join(argv)]
    every = instances(split, d.gpus_per_node)
    router = ["python", "-m", "sglang_router.launch_router", "--pd-disaggregation"]
    for inst in every:
        router += [f"--{inst.role}", f"http://{inst.host}:{inst.port}"]
        if inst.bootstrap_port is not None:
            router.append(str(inst.bootstrap_port))
    lines += ["# the router: clients send requests here", join(router + ["--host", "0.0.0.0", "--port",
                                                                          str(ROUTER_PORT)])]
    notes.append("each server stays in the foreground: start each in its own shell on its node (pasted as one "
                 "block, the first would hold the rest back), then the router once they answer /health; "
                 "replace each <node-N-ip> with that node's address; the KV cache moves over Mooncake by "
                 "default (RDMA: add --disaggregation-ib-device), or NIXL with --disaggregation-transfer-backend "
                 "nixl (docs.sglang.io advanced_features/pd_disaggregation)")
    return lines, list(dict.fromkeys(notes))
