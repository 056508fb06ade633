"""TensorRT-LLM: ``trtllm-serve`` with the PyTorch backend (tensorrt_llm/commands/serve.py;
nvidia.github.io/TensorRT-LLM commands/trtllm-serve); several nodes as one MPI job, ``mpirun ...
trtllm-llmapi-launch trtllm-serve ...`` (the same page, "Multi-node Serving"), on Kubernetes a
LeaderWorkerSet whose leader runs mpirun over SSH to its workers (:mod:`dsadvisor.engines.mpi_pods`).

What has no command-line flag goes in the LLM API options file (``--extra_llm_api_options``;
nvidia.github.io/TensorRT-LLM/deployment-guide/deployment-guide-for-deepseek-r1-on-trtllm.html): the
fp8 KV cache (``kv_cache_config.dtype``) and data-parallel attention (``enable_attention_dp: true``),
which splits attention over all ``tp_size`` ranks, each with its own requests and KV cache.
``--max_batch_size`` is per rank ("Max batch size in each rank",
nvidia.github.io/TensorRT-LLM/blogs/Best_perf_practice_on_DeepSeek-R1_in_TensorRT-LLM.html: 128 per
rank for 1024 concurrent requests on 8 x H200), so each rank gets its share. ``--max_num_tokens``
bounds the tokens one iteration schedules; on Hopper MLA has no chunked context (same blog:
"max_num_tokens has to be at least larger than the max input sequence length").
"""

from __future__ import annotations

import math

from dsadvisor.engines.base import LaunchJob, NodeCommands, ServingEngine
from dsadvisor.engines.common import (HEAD, checkpoint, fraction_flag, join, native_fp8, placeholder,
                                      served_artifact)
from dsadvisor.errors import InputError
from dsadvisor.physics.estimate import Estimate

# The one shell line a plan writes itself, from these constant lines only (no catalog, config.json or
# path byte in it): TensorRT-LLM takes its fp8 KV cache and data-parallel attention from an options file.
OPTIONS_FILE = "extra-llm-api-options.yaml"
FP8_KV_OPTIONS = ("kv_cache_config:", "  dtype: fp8")
ATTENTION_DP_OPTIONS = ("enable_attention_dp: true",)
DEFAULT_MAX_NUM_TOKENS = 8192  # trtllm-serve without --max_num_tokens (BuildConfig.max_num_tokens)


def mtp_options(draft_tokens: int) -> tuple[str, ...]:
    """The options file's MTP speculative decoding (tensorrt_llm.llmapi.MTPDecodingConfig: decoding_type MTP,
    num_nextn_predict_layers = draft tokens a step; nvidia.github.io/TensorRT-LLM features/speculative-decoding).
    Only an int reaches the line, which options_setup writes inside single quotes."""
    return ("speculative_config:", "  decoding_type: MTP", f"  num_nextn_predict_layers: {int(draft_tokens)}")


def options_setup(lines: tuple[str, ...]) -> str:
    """The printf line that writes ``lines`` (constants of this module) to the options file."""
    return "printf '" + "\\n".join(lines) + f"\\n' > {OPTIONS_FILE}"


FP8_KV_SETUP = options_setup(FP8_KV_OPTIONS)
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

    def layout_problem(self, est: Estimate) -> str | None:
        if est.dp_attention > 1 and est.dp_attention != est.tp:
            return (f"TensorRT-LLM's enable_attention_dp splits attention over all --tp {est.tp} ranks: "
                    f"--dp-attention must be {est.tp} (or 1), not {est.dp_attention}")
        return None

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
        argv += ["--max_seq_len", str(est.context), "--max_batch_size", str(job.per_rank)]
        tokens = self._max_num_tokens(job)
        if tokens:
            argv += ["--max_num_tokens", str(tokens)]
        argv += ["--kv_cache_free_gpu_memory_fraction", fraction_flag(job.fraction)]
        options = self._options(job, notes)
        setup: tuple[str, ...] = ()
        if options:
            setup = (options_setup(options),)
            argv += ["--extra_llm_api_options", OPTIONS_FILE]
        return argv + ["--host", "0.0.0.0", "--port", str(self.port)], setup

    def _options(self, job: LaunchJob, notes: list[str]) -> tuple[str, ...]:
        est = job.estimate
        options: tuple[str, ...] = ()
        if est.kv_dtype == "fp8-kv":
            options += FP8_KV_OPTIONS
            notes.append(f"the fp8 KV cache is set in {OPTIONS_FILE} (kv_cache_config.dtype: fp8); "
                         "trtllm-serve has no flag for it")
        if est.mtp:
            options += mtp_options(est.mtp)
            notes.append(f"MTP speculative decoding is set in {OPTIONS_FILE} (speculative_config: decoding_type "
                         "MTP); trtllm-serve has no flag for it")
        if job.dp > 1:
            problem = self.layout_problem(est)
            if problem:
                raise InputError(problem)
            options += ATTENTION_DP_OPTIONS
            notes.append(f"data-parallel attention is set in {OPTIONS_FILE} (enable_attention_dp: true); "
                         f"--max_batch_size {job.per_rank} is per rank, {job.per_rank * job.dp} in all")
        return options

    @staticmethod
    def _max_num_tokens(job: LaunchJob) -> int | None:
        """The scheduler's token budget, at least the prompt: trtllm-serve leaves chunked context off
        (``enable_chunked_prefill`` False, tensorrt_llm/llmapi/llm_args.py), so a prompt is scheduled whole
        in one iteration and one longer than ``max_num_tokens`` (8192 when unset, BuildConfig) is refused;
        MLA on Hopper has no chunked context at all (blog above). Rounded up to a multiple of 8, which
        BuildConfig requires."""
        prompt = job.estimate.prompt_tokens
        if not job.budget and prompt <= DEFAULT_MAX_NUM_TOKENS:
            return None
        return -(-max(job.budget or DEFAULT_MAX_NUM_TOKENS, prompt) // 8) * 8

    def nodes(self, job: LaunchJob, notes: list[str]) -> NodeCommands:
        argv, setup = self._argv_and_setup(job, notes)
        est = job.estimate
        if est.nodes == 1:
            return NodeCommands([setup + (join(argv),)], argv, setup)
        resplit_check(argv, notes)
        per_node = math.ceil(est.gpus / est.nodes)
        hosts = ",".join([f"{HEAD}:{per_node}"] + [f"<node-{i}-ip>:{per_node}" for i in range(1, est.nodes)])
        launch = ["mpirun", "-H", hosts, "-n", str(est.gpus), LAUNCHER] + argv
        workers: list[tuple[str, ...]] = [("# nothing to run: mpirun on node 0 starts this node's ranks over SSH",)] * (est.nodes - 1)
        note = ("mpirun on node 0 starts every rank (passwordless SSH between nodes, the same container "
                "and model path on each; add --allow-run-as-root inside containers)")
        return NodeCommands([setup + (join(launch),)] + workers, launch, setup, worker_note=note)

    def leader_worker(self, argv: list[str], setup: tuple[str, ...], est: Estimate) -> dict | None:
        """One MPI job over the group's pods: the leader runs node 0's ``trtllm-llmapi-launch trtllm-serve``
        argv under mpirun, the workers an SSH daemon mpirun starts their ranks through."""
        from dsadvisor.engines.mpi_pods import pods

        server = argv[argv.index(LAUNCHER):]  # node 0's line without its mpirun: the pods set the hosts
        return pods(server, setup, math.ceil(est.gpus / est.nodes))


LAUNCHER = "trtllm-llmapi-launch"
# trtllm-llmapi-launch runs its command as ``$task_with_command``, unquoted (tensorrt_llm/llmapi/
# trtllm-llmapi-launch): the shell splits it again at blanks and expands * ? [ in it. Nothing runs from it
# (an expansion's result is not read as code), but an argument holding one of these is no longer one argument.
RESPLIT = frozenset(" \t\n*?[")


def resplit_check(argv: list[str], notes: list[str]) -> None:
    """Refuse an argument trtllm-llmapi-launch would split or expand (a local path with a blank); for a
    ``<placeholder>`` say the checkpoint put in its place must have none."""
    for word in argv:
        if not RESPLIT & set(word):
            continue
        if word.startswith("<") and word.endswith(">"):
            notes.append(f"trtllm-llmapi-launch splits its command at blanks again: the path put in place of "
                         f"{word} must have no blank, *, ? or [")
            continue
        raise InputError(f"TensorRT-LLM over several nodes cannot serve {word!r}: trtllm-llmapi-launch splits its "
                         "command at blanks and expands * ? [ again; use a path without them")


ENGINE = TensorRTLLM
