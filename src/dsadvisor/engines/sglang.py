"""SGLang: ``python -m sglang.launch_server`` (docs.sglang.io advanced_features/server_arguments);
several nodes with ``--nnodes``/``--node-rank``/``--dist-init-addr``.

Data-parallel attention: ``--tp N --dp D --enable-dp-attention`` (docs.sglang.io
advanced_features/dp_dpa_smg_guide; the DeepSeek-V3.2 model card's launch command ``--tp 8 --dp 8
--enable-dp-attention``). ``--max-running-requests`` is the whole server's: each DP rank takes
``max_running_requests // dp_size`` of it (python/sglang/srt/model_executor/model_runner.py), so
it gets the concurrency as it is. Expert parallel: ``--ep-size`` (alias ``--ep``; cookbook
reference/server_arguments). Prompt tokens per prefill batch: ``--chunked-prefill-size``.
"""

from __future__ import annotations

from dsadvisor.engines.base import LaunchJob, NodeCommands, ServingEngine
from dsadvisor.engines.common import (HEAD, LWS_INDEX, LWS_LEADER, checkpoint, fraction_flag, hf_quantization, join,
                                      with_value)
from dsadvisor.physics.estimate import Estimate

DIST_PORT = 5000  # any free port on node 0; the SGLang docs use 50000 / 20000 in their examples
MTP_NOTE = ("SGLang drafts with the MTP layer through EAGLE (docs.sglang.io basic_usage/deepseek, Multi-token "
            "Prediction); it captures CUDA graphs for fewer running requests when speculating: above 32, "
            "add --cuda-graph-bs with your batch sizes")


def dp_chunk_note(budget: int, dp: int) -> str:
    """What SGLang makes of --chunked-prefill-size under --enable-dp-attention (server_args.py
    _handle_data_parallelism divides it by the DP size), which the estimate counts."""
    return (f"with --enable-dp-attention SGLang divides --chunked-prefill-size by --dp: each of the {dp} ranks "
            f"prefills {max(1, budget // dp):,} prompt tokens a forward, as estimated; {budget * dp:,} would give "
            f"each rank {budget:,}, at SGLang's own risk of the \"MoE kernel issues\" it divides to avoid")


def mtp_flags(draft_tokens: int) -> list[str]:
    """SGLang's MTP speculative decoding, one chain of ``draft_tokens`` (docs.sglang.io
    basic_usage/deepseek.md: ``--speculative-algorithm EAGLE --speculative-num-steps 1
    --speculative-eagle-topk 1 --speculative-num-draft-tokens 2`` for one draft; a chain of k steps
    verifies k + 1 tokens)."""
    return ["--speculative-algorithm", "EAGLE", "--speculative-num-steps", str(draft_tokens),
            "--speculative-eagle-topk", "1", "--speculative-num-draft-tokens", str(draft_tokens + 1)]


class SGLang(ServingEngine):
    # 16-bit checkpoints become fp8 at load (--quantization fp8, dynamic scales) and either 16-bit dtype
    load_conversions = {"fp8": ("bf16", "fp16"), "fp8-marlin": ("bf16", "fp16", "fp8"), "bf16": ("fp16",),
                        "fp16": ("bf16",)}
    id = "sglang"
    # docs.sglang.io platforms/cpu_server: "enabled and optimized on the CPUs equipped with Intel AMX"
    cpu_isa = ("amx",)
    cpu_reason = "SGLang's CPU backend needs Intel AMX (4th-generation Xeon Scalable or newer)"
    # docs.sglang.io install (docker); release images are tagged v<release>-cu129 / -cu130 (CUDA 12.9 / 13.0,
    # .github/workflows/_docker-build-and-publish.yml): pinned to the release whose kernel tables the catalog's
    # speed figures come from (engines.yaml: SGLang 0.5.14, aiconfigurator), CUDA 12.9 for the older drivers
    image = "lmsysorg/sglang:v0.5.14-cu129"
    release = "0.5.14"
    port = 30000
    health_path = "/health"  # sglang/srt/entrypoints/http_server.py

    def server_argv(self, job: LaunchJob, notes: list[str]) -> list[str]:
        est = job.estimate
        repo = checkpoint(job.entry, notes, job.model_path)
        model, extra = hf_quantization("SGLang", job.entry, est.quant_id, job.gpu, repo, notes,
                                       None if job.model_path else job.artifact)
        if est.quant_id == "nvfp4" and "--quantization" not in extra:
            # ModelOpt NVFP4 checkpoints (hf_quant_config.json): recent releases detect them by themselves
            # (configs/model_config.py _parse_quant_hf_config), older ones need the flag; InferenceX's B200 scripts
            # pass it (https://github.com/SemiAnalysisAI/InferenceX, single_node dsr1_fp4_b200.sh)
            extra += ["--quantization", "modelopt_fp4"]
        if est.kv_dtype == "fp8-kv":
            extra += ["--kv-cache-dtype", "fp8_e4m3"]
        argv = ["python", "-m", "sglang.launch_server", "--model-path", model, "--tp", str(est.tp)]
        if job.dp > 1:
            argv += ["--dp", str(job.dp), "--enable-dp-attention"]
        if est.pp > 1:
            argv += ["--pp-size", str(est.pp)]
        if est.ep:
            argv += ["--ep-size", str(est.tp)]
        if est.mtp:
            argv += mtp_flags(est.mtp)
            notes.append(MTP_NOTE)
        argv += ["--context-length", str(est.context), "--max-running-requests", str(est.batch)]
        if job.budget:
            argv += ["--chunked-prefill-size", str(job.budget)]
            if job.dp > 1:
                notes.append(dp_chunk_note(job.budget, job.dp))
        argv += ["--mem-fraction-static", fraction_flag(job.fraction)] + extra
        return argv + ["--host", "0.0.0.0", "--port", str(self.port)]

    def nodes(self, job: LaunchJob, notes: list[str]) -> NodeCommands:
        base = self.server_argv(job, notes)
        est = job.estimate
        if est.nodes == 1:
            return NodeCommands([(join(base),)], base)
        ranks = [base + ["--nnodes", str(est.nodes), "--node-rank", str(i), "--dist-init-addr",
                         f"{HEAD}:{DIST_PORT}"] for i in range(est.nodes)]
        note = (f"run each node's command (replace {HEAD} with node 0's address, port {DIST_PORT} open); "
                "node 0 serves HTTP")
        return NodeCommands([(join(r),) for r in ranks], ranks[0], worker_note=note)


    def leader_worker(self, argv: list[str], setup: tuple[str, ...], est: Estimate) -> dict | None:
        """Every pod runs the same server with its rank (LWS_WORKER_INDEX: 0 on the leader) and the
        leader's address for --dist-init-addr."""
        leader = with_value(argv, "--dist-init-addr", f"{LWS_LEADER}:{DIST_PORT}")
        worker = with_value(leader, "--node-rank", LWS_INDEX)
        return {"leader": self.container(leader, setup), "worker": self.container(worker, setup)}


ENGINE = SGLang
