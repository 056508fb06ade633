"""TensorRT-LLM: ``trtllm-serve`` with the PyTorch backend (tensorrt_llm/commands/serve.py;
nvidia.github.io/TensorRT-LLM commands/trtllm-serve); several nodes through MPI and
``trtllm-llmapi-launch``."""

from __future__ import annotations

import math

from dsadvisor.engines.base import LaunchJob, NodeCommands, ServingEngine
from dsadvisor.engines.common import (HEAD, checkpoint, fraction_flag, join, native_fp8, placeholder,
                                      served_artifact)

# The one shell line a plan writes itself (no catalog, config.json or path byte in it): TensorRT-LLM
# takes its fp8 KV cache from an options file, not from a flag.
FP8_KV_SETUP = "printf 'kv_cache_config:\\n  dtype: fp8\\n' > extra-llm-api-options.yaml"
# the ModelOpt quantization each format needs a pre-quantized checkpoint of
MODELOPT = {"fp8": "FP8", "int8": "INT8-SmoothQuant", "int8-wo": "INT8-weight-only",
            "awq-int4": "INT4-AWQ", "gptq-int4": "INT4-GPTQ", "nvfp4": "NVFP4"}


class TensorRTLLM(ServingEngine):
    load_conversions = {"bf16": ("fp16",), "fp16": ("bf16",)}  # --dtype: either 16-bit type from the other
    id = "tensorrt-llm"
    image = "nvcr.io/nvidia/tensorrt-llm/release:<version>"  # NGC; pick a release tag
    port = 8000
    health_path = "/health"  # trtllm-serve's OpenAI server

    def server_argv(self, job: LaunchJob, notes: list[str]) -> list[str]:
        return self._argv_and_setup(job, notes)[0]

    def _argv_and_setup(self, job: LaunchJob, notes: list[str]) -> tuple[list[str], tuple[str, ...]]:
        est = job.estimate
        repo = model = checkpoint(job.entry, notes, job.model_path)
        q = est.quant_id
        art = None if job.model_path else job.artifact
        if art is not None and not art.official and art.repo:
            model = served_artifact("TensorRT-LLM", art, notes)
        elif q in MODELOPT and not (q == "fp8" and native_fp8(job.entry)):
            model = placeholder(MODELOPT[q], repo)
            notes.append(f"TensorRT-LLM loads {q} from a pre-quantized checkpoint and none of {repo} is "
                         f"known: convert it yourself: quantize {repo} with NVIDIA "
                         f"TensorRT Model Optimizer (ModelOpt, {MODELOPT[q]}) and substitute it for {model}")
        argv = ["trtllm-serve", model, "--backend", "pytorch", "--tp_size", str(est.tp)]
        if est.pp > 1:
            argv += ["--pp_size", str(est.pp)]
        if est.ep:
            argv += ["--ep_size", str(est.tp)]
        argv += ["--max_seq_len", str(est.context), "--max_batch_size", str(est.batch),
                 "--kv_cache_free_gpu_memory_fraction", fraction_flag(job.fraction)]
        setup: tuple[str, ...] = ()
        if est.kv_dtype == "fp8-kv":
            setup = (FP8_KV_SETUP,)
            argv += ["--extra_llm_api_options", "extra-llm-api-options.yaml"]
            notes.append("the fp8 KV cache is set in extra-llm-api-options.yaml (kv_cache_config.dtype: fp8); "
                         "trtllm-serve has no flag for it")
        return argv + ["--host", "0.0.0.0", "--port", str(self.port)], setup

    def nodes(self, job: LaunchJob, notes: list[str]) -> NodeCommands:
        argv, setup = self._argv_and_setup(job, notes)
        est = job.estimate
        if est.nodes == 1:
            return NodeCommands([setup + (join(argv),)], argv, setup)
        per_node = math.ceil(est.gpus / est.nodes)
        hosts = ",".join([f"{HEAD}:{per_node}"] + [f"<node-{i}-ip>:{per_node}" for i in range(1, est.nodes)])
        launch = ["mpirun", "-H", hosts, "-n", str(est.gpus), "trtllm-llmapi-launch"] + argv
        workers: list[tuple[str, ...]] = [("# nothing to run: mpirun on node 0 starts this node's ranks over SSH",)] * (est.nodes - 1)
        note = ("mpirun on node 0 starts every rank (passwordless SSH between nodes, the same container "
                "and model path on each; add --allow-run-as-root inside containers)")
        return NodeCommands([setup + (join(launch),)] + workers, launch, setup, worker_note=note)


ENGINE = TensorRTLLM
