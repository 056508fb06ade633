"""vLLM: ``vllm serve`` (engine arguments: docs.vllm.ai; vllm/engine/arg_utils.py); several nodes
through a Ray cluster (``ray start``; docs.vllm.ai serving/parallelism_scaling).

Data-parallel attention (docs.vllm.ai/en/latest/serving/data_parallel_deployment.html): ``dp`` engine
ranks of ``--tensor-parallel-size tp/dp`` GPUs each, ``--data-parallel-size dp``, experts over all of
them with ``--enable-expert-parallel``; "``--max-num-seqs`` applies per DP rank", so each rank gets its
share of the concurrency. Over several nodes every node runs ``vllm serve`` for its own ranks
(``--data-parallel-size-local``, ``--data-parallel-address``/``--data-parallel-rpc-port`` of node 0,
``--headless --data-parallel-start-rank`` on the others), no Ray cluster.
"""

from __future__ import annotations

import math
from dataclasses import replace

from dsadvisor.engines.base import LaunchJob, NodeCommands, ServingEngine
from dsadvisor.engines.common import HEAD, LWS_LEADER, checkpoint, fraction_flag, hf_quantization, join, with_value
from dsadvisor.errors import InputError
from dsadvisor.physics.estimate import Estimate

RAY_PORT = 6379  # Ray's default GCS port (docs.vllm.ai parallelism_scaling, `ray start --head`)
# Constant scripts for LeaderWorkerSet pods (no plan byte in them: the argv follows as "$@"). The leader
# waits until `ray status` lists the group's nodes (LWS_GROUP_SIZE) before it serves; a worker's first
# data-parallel rank is its index times the ranks per node (DP_LOCAL, a number the plan sets).
RAY_LEADER_SCRIPT = "\n".join((
    "set -e", f"ray start --head --port {RAY_PORT}",
    'until [ "$(ray status 2>/dev/null | grep -c \' node_\')" -ge "$LWS_GROUP_SIZE" ]; do sleep 5; done',
    'exec "$@"'))
DP_WORKER_SCRIPT = 'exec "$@" --data-parallel-start-rank "$((LWS_WORKER_INDEX * DP_LOCAL))"'
DP_RPC_PORT = 13345  # node 0's data-parallel RPC port, as in vLLM's data_parallel_deployment.md examples
# DeepSeek-VL2's config.json has no top-level "architectures" (its language_config has DeepseekV2's), and vLLM
# stops on it ("No model architectures are specified") unless told the class: vLLM's supported-models table
# (https://docs.vllm.ai/en/latest/models/supported_models.html, footnote ^: "to use DeepSeek-VL2 series models:
# --hf-overrides '{"architectures": ["DeepseekVLV2ForCausalLM"]}'"), as its offline vision_language.py example does.
VL2_OVERRIDES = '{"architectures": ["DeepseekVLV2ForCausalLM"]}'
# vLLM's CPU backend sizes each worker's KV cache from the environment variable VLLM_CPU_KVCACHE_SPACE, in GiB:
# vllm/platforms/cpu.py (CpuPlatform: 0.9-era check_and_update_config, unset -> a 4 GiB cache; later
# get_device_total_memory, set -> that many GiB as cache_config.cpu_kvcache_space_bytes), and the current
# vllm/v1/worker/cpu_worker.py takes an explicit KV size as given ("Decrease --kv-cache-memory-bytes,
# VLLM_CPU_KVCACHE_SPACE"), reading --gpu-memory-utilization (a fraction of the NUMA node's memory) only when
# none is set. So a CPU plan sets the variable to the estimate's KV cache and passes no memory fraction.
CPU_KV_SPACE = "VLLM_CPU_KVCACHE_SPACE"
GIB = 1 << 30
# tokens a KV block holds on the CPU backend: CpuPlatform's default block_size (128; 16 in 0.9 without IPEX, the
# larger one taken). vllm/v1/core/block_pool.py keeps block 0 as its null block, so the cache holds one block more
# than the sequences' own.
CPU_BLOCK_TOKENS = 128


def cpu_kv_space(job: LaunchJob) -> int | None:
    """VLLM_CPU_KVCACHE_SPACE for a CPU plan: the estimate's KV cache per worker plus vLLM's null block, in whole
    GiB rounded up (0 read as "not set" in vLLM 0.9, so at least 1); None on a GPU."""
    if job.gpu is None or job.gpu.category not in ("cpu", "mobile"):  # the devices cpu_unsupported calls CPUs
        return None
    est = job.estimate
    kv = est.memory.kv_cache
    null_block = kv * CPU_BLOCK_TOKENS / max(1, est.batch * est.context)  # one block of one sequence's KV
    return max(1, math.ceil((kv + null_block) / GIB))


def mtp_config(draft_tokens: int) -> str:
    """vLLM's MTP speculative decoding (vllm/config/speculative.py SpeculativeConfig: method "mtp", the
    draft from the target's own MTP layer; "deepseek_mtp", the older name, is mapped to it with a
    deprecation warning). One JSON argument: the plan quotes it for the shell."""
    return '{"method": "mtp", "num_speculative_tokens": ' + str(int(draft_tokens)) + "}"


class VLLM(ServingEngine):
    # 16-bit checkpoints become fp8 at load (--quantization fp8, dynamic scales) and either 16-bit dtype
    load_conversions = {"fp8": ("bf16", "fp16"), "fp8-marlin": ("bf16", "fp16", "fp8"), "bf16": ("fp16",),
                        "fp16": ("bf16",)}
    id = "vllm"
    # docs.vllm.ai getting_started/installation/cpu: x86 (AVX2, AVX-512 recommended) or Arm (NEON) builds
    cpu_isa = ("avx2", "avx512", "neon")
    cpu_reason = "vLLM's CPU backend is built for x86 with AVX2/AVX-512 or Arm with NEON"
    # docs.vllm.ai deployment/docker (tags v<release>, e.g. FROM vllm/vllm-openai:v0.11.0): pinned to the release
    # whose kernel tables the catalog's speed figures come from (engines.yaml: vLLM 0.24.0, aiconfigurator)
    image = "vllm/vllm-openai:v0.24.0"
    release = "0.24.0"
    port = 8000
    health_path = "/health"  # vLLM's OpenAI server (docs.vllm.ai deployment/k8s probes)

    def server_argv(self, job: LaunchJob, notes: list[str]) -> list[str]:
        est = job.estimate
        repo = checkpoint(job.entry, notes, job.model_path)
        model, extra = hf_quantization("vLLM", job.entry, est.quant_id, job.gpu, repo, notes,
                                       None if job.model_path else job.artifact)
        if est.kv_dtype == "fp8-kv":
            extra += ["--kv-cache-dtype", "fp8"]
        argv = ["vllm", "serve", model, "--tensor-parallel-size", str(est.tp // job.dp)]
        if job.entry.family == "vl2" or job.arch.model_type == "deepseek_vl_v2":
            argv += ["--hf-overrides", VL2_OVERRIDES]
        if job.dp > 1:
            argv += ["--data-parallel-size", str(job.dp)]
        if est.pp > 1:
            argv += ["--pipeline-parallel-size", str(est.pp)]
        if est.ep:
            argv += ["--enable-expert-parallel"]
        if est.nodes > 1 and job.dp == 1:
            argv += ["--distributed-executor-backend", "ray"]
        if est.mtp:
            argv += ["--speculative-config", mtp_config(est.mtp)]
        argv += ["--max-model-len", str(est.context), "--max-num-seqs", str(job.per_rank)]
        if job.budget:  # SchedulerConfig max_num_batched_tokens: prompt tokens per step (chunked prefill)
            argv += ["--max-num-batched-tokens", str(job.budget)]
        if cpu_kv_space(job) is None:  # on a CPU the KV cache is VLLM_CPU_KVCACHE_SPACE (nodes)
            argv += ["--gpu-memory-utilization", fraction_flag(job.fraction)]
        return argv + extra + ["--host", "0.0.0.0", "--port", str(self.port)]

    def nodes(self, job: LaunchJob, notes: list[str]) -> NodeCommands:
        commands = self._nodes(job, notes)
        space = cpu_kv_space(job)
        if space is None:
            return commands
        env = ((CPU_KV_SPACE, str(space)),)
        notes.append(f"vLLM's CPU backend sizes its KV cache from {CPU_KV_SPACE} (GiB), not --gpu-memory-utilization: "
                     f"{space} GiB ({space * GIB / 1e9:.1f} GB) holds the estimate's {job.estimate.memory.kv_cache / 1e9:.2f} "
                     "GB (each sequence at full length) and vLLM's null block; export it where `vllm serve` starts")
        export = join(["export", *(f"{k}={v}" for k, v in env)])
        lines = [(export, *node) for node in commands.lines]
        return replace(commands, lines=lines, env=env)

    def _nodes(self, job: LaunchJob, notes: list[str]) -> NodeCommands:
        argv = self.server_argv(job, notes)
        est = job.estimate
        if est.nodes == 1:
            return NodeCommands([(join(argv),)], argv)
        if job.dp > 1:
            return self._dp_nodes(job, argv)
        head: list[tuple[str, ...]] = [(join(["ray", "start", "--head", "--port", str(RAY_PORT)]), join(argv))]
        workers: list[tuple[str, ...]] = [(join(["ray", "start", "--address", f"{HEAD}:{RAY_PORT}"]),)] * (est.nodes - 1)
        others = "node 1" if est.nodes == 2 else f"nodes 1-{est.nodes - 1}"
        note = (f"start Ray on node 0, then join {others} (replace {HEAD} with node 0's address); run `vllm serve` "
                f"on node 0 once `ray status` shows {est.gpus} GPUs. Every node needs the same vLLM version and "
                "the model at the same path")
        return NodeCommands(head + workers, argv, worker_note=note)

    def layout_problem(self, est: Estimate) -> str | None:
        if est.dp_attention > 1 and est.nodes > 1 and est.dp_attention % est.nodes:
            return (f"vLLM runs whole data-parallel ranks on each node: --dp-attention {est.dp_attention} over "
                    f"{est.nodes} nodes splits a rank; use a multiple of {est.nodes}")
        return None

    def _dp_nodes(self, job: LaunchJob, argv: list[str]) -> NodeCommands:
        """One ``vllm serve`` per node for its own data-parallel ranks; node 0 serves HTTP."""
        est = job.estimate
        problem = self.layout_problem(est)
        if problem:
            raise InputError(problem)
        local = job.dp // est.nodes
        ranks = [argv + ["--data-parallel-size-local", str(local), "--data-parallel-address", HEAD,
                         "--data-parallel-rpc-port", str(DP_RPC_PORT)]]
        ranks += [argv + ["--headless", "--data-parallel-size-local", str(local), "--data-parallel-start-rank",
                          str(i * local), "--data-parallel-address", HEAD, "--data-parallel-rpc-port",
                          str(DP_RPC_PORT)] for i in range(1, est.nodes)]
        note = (f"run each node's command (replace {HEAD} with node 0's address, port {DP_RPC_PORT} open); "
                f"each node runs {local} data-parallel ranks and node 0 serves HTTP")
        return NodeCommands([(join(r),) for r in ranks], ranks[0], worker_note=note)


    def leader_worker(self, argv: list[str], setup: tuple[str, ...], est: Estimate) -> dict | None:
        """Data-parallel ranks: each pod runs ``vllm serve`` for its own ranks, the workers headless from
        rank LWS_WORKER_INDEX x local. Else Ray: the leader starts the head, waits for the group's nodes
        (LWS_GROUP_SIZE) and serves; the workers join it and block."""
        if est.dp_attention > 1:
            leader = with_value(argv, "--data-parallel-address", LWS_LEADER)
            local = leader[leader.index("--data-parallel-size-local") + 1]
            return {"leader": {"command": leader[:1], "args": leader[1:]},
                    "worker": {"command": ["/bin/sh", "-c", DP_WORKER_SCRIPT, "sh"], "args": leader + ["--headless"]},
                    "worker_env": {"DP_LOCAL": local}}
        head = {"command": ["/bin/sh", "-c", RAY_LEADER_SCRIPT, "sh"], "args": list(argv)}
        join_head = ["ray", "start", "--address", f"{LWS_LEADER}:{RAY_PORT}", "--block"]
        return {"leader": head, "worker": {"command": join_head[:1], "args": join_head[1:]}}


ENGINE = VLLM
