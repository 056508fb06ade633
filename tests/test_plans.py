"""`dsadvisor plan` and dsadvisor.launch.plan: launch commands that match the estimate and the engines' docs.

The pinned cases were checked by hand against the catalog (architectures from the models' HF
config.json) and the engines' documented defaults; DOCUMENTED below is the table of flag names
every emitted command is held to, each set copied from the page cited above it.
"""

from __future__ import annotations

import json
import re
import shlex

import pytest
import yaml

from dsadvisor.advice.check import hardware

from dsadvisor.errors import DsAdvisorError, InputError
from dsadvisor.physics.estimate import Deployment, estimate
from dsadvisor.catalog.hardware import DetectedGpu
from dsadvisor.launch.plan import launch_plan

# ------------------------------------------------------------------ documented flags

DOCUMENTED: dict[str, set[str]] = {
    # vLLM engine arguments, docs.vllm.ai/en/latest/configuration/engine_args/ (generated from
    # vllm/engine/arg_utils.py: ModelConfig --dtype --quantization --max-model-len; ParallelConfig
    # --distributed-executor-backend --pipeline-parallel-size --tensor-parallel-size
    # --enable-expert-parallel; CacheConfig --gpu-memory-utilization --kv-cache-dtype; SchedulerConfig
    # --max-num-seqs) and docs.vllm.ai/en/latest/cli/serve/ (--host --port).
    # Data parallel (docs.vllm.ai/en/latest/serving/data_parallel_deployment.html: --data-parallel-size,
    # --data-parallel-size-local, --data-parallel-address, --data-parallel-rpc-port, --data-parallel-start-rank,
    # --headless) and SchedulerConfig --max-num-batched-tokens.
    "vllm serve": {"--tensor-parallel-size", "--pipeline-parallel-size", "--enable-expert-parallel",
                   "--distributed-executor-backend", "--max-model-len", "--max-num-seqs",
                   "--gpu-memory-utilization", "--kv-cache-dtype", "--dtype", "--quantization", "--host", "--port",
                   "--data-parallel-size", "--max-num-batched-tokens", "--data-parallel-size-local",
                   "--data-parallel-address", "--data-parallel-rpc-port", "--data-parallel-start-rank", "--headless",
                   # SpeculativeConfig as one JSON argument (vllm/config/speculative.py; method "mtp")
                   "--speculative-config",
                   # ModelConfig --hf-overrides (engine_args; supported_models.md: the DeepSeek-VL2 series needs it)
                   "--hf-overrides"},
    # Ray cluster for multi-node vLLM, docs.vllm.ai/en/latest/serving/parallelism_scaling/ ("ray start --head",
    # "ray start --address=<ray-head-address>") and docs.ray.io/en/latest/cluster/cli.html#ray-start (--port).
    "ray start": {"--head", "--port", "--address"},
    # SGLang, docs.sglang.io/advanced_features/server_arguments.html: "Common launch commands" (--tp,
    # --nnodes/--node-rank/--dist-init-addr example) and the argument tables (Model and tokenizer,
    # HTTP server, Quantization and data type, Memory and scheduling, Runtime options, MoE,
    # Multi-node distributed serving).
    "sglang.launch_server": {"--model-path", "--tp", "--pp-size", "--ep-size", "--context-length",
                             "--max-running-requests", "--mem-fraction-static", "--dtype", "--quantization",
                             "--kv-cache-dtype", "--nnodes", "--node-rank", "--dist-init-addr", "--host", "--port",
                             # data-parallel attention (advanced_features/dp_dpa_smg_guide: --dp,
                             # --enable-dp-attention) and chunked prefill (--chunked-prefill-size)
                             "--dp", "--enable-dp-attention", "--chunked-prefill-size",
                             # MTP through EAGLE (docs.sglang.io basic_usage/deepseek.md, Multi-token Prediction)
                             "--speculative-algorithm", "--speculative-num-steps", "--speculative-eagle-topk",
                             "--speculative-num-draft-tokens"},
    # TensorRT-LLM, nvidia.github.io/TensorRT-LLM/latest/commands/trtllm-serve/trtllm-serve.html and the click
    # options of tensorrt_llm/commands/serve.py (--tp_size, --pp_size, --ep_size are the documented aliases of
    # --tensor_parallel_size, --pipeline_parallel_size, --moe_expert_parallel_size; --extra_llm_api_options
    # of --config; --kv_cache_free_gpu_memory_fraction of --free_gpu_memory_fraction).
    # --max_num_tokens: same page and the DeepSeek-R1 deployment guide.
    "trtllm-serve": {"--backend", "--tp_size", "--pp_size", "--ep_size", "--max_seq_len", "--max_batch_size",
                     "--kv_cache_free_gpu_memory_fraction", "--extra_llm_api_options", "--host", "--port",
                     "--max_num_tokens"},
    # Open MPI mpirun(1), docs.open-mpi.org/en/v5.0.x/man-openmpi/man1/mpirun.1.html (-H host:slots,..., -n N);
    # multi-node trtllm-serve runs under it through trtllm-llmapi-launch (trtllm-serve docs, multi-node).
    "mpirun": {"-H", "-n"},
    # llama.cpp server, github.com/ggml-org/llama.cpp/blob/master/tools/server/README.md (Common params:
    # -m -c -ngl -sm -ctk -ctv -fa; Server-specific params: -np --host --port).
    "llama-server": {"-m", "-c", "-ngl", "-np", "--split-mode", "--cache-type-k", "--cache-type-v", "-fa",
                     "--host", "--port",
                     # common/arg.cpp: -ncmoe/--n-cpu-moe N, -cmoe/--cpu-moe, -ts/--tensor-split
                     "--n-cpu-moe", "--cpu-moe", "--tensor-split"},
}
VALUES: dict[tuple[str, str], set[str]] = {  # documented choices, same pages
    ("vllm serve", "--kv-cache-dtype"): {"auto", "fp8", "fp8_e4m3", "fp8_e5m2"},
    ("vllm serve", "--dtype"): {"auto", "half", "float16", "bfloat16", "float", "float32"},
    # vllm/model_executor/layers/quantization/__init__.py QuantizationMethods
    ("vllm serve", "--quantization"): {"fp8", "awq", "awq_marlin", "gptq", "gptq_marlin", "compressed-tensors"},
    ("vllm serve", "--distributed-executor-backend"): {"ray", "mp", "uni", "external_launcher"},
    ("sglang.launch_server", "--kv-cache-dtype"): {"auto", "fp8_e5m2", "fp8_e4m3", "bf16", "bfloat16"},
    ("sglang.launch_server", "--dtype"): {"auto", "half", "float16", "bfloat16", "float", "float32"},
    ("sglang.launch_server", "--quantization"): {"awq", "fp8", "gptq", "gptq_marlin", "awq_marlin", "w8a8_int8",
                                                 "w8a8_fp8", "compressed-tensors",
                                                 # server_args.py QUANTIZATION_CHOICES; InferenceX's B200 R1 FP4 scripts
                                                 "modelopt_fp4"},
    ("sglang.launch_server", "--speculative-algorithm"): {"EAGLE", "EAGLE3", "NEXTN", "STANDALONE", "NGRAM"},
    ("trtllm-serve", "--backend"): {"pytorch", "tensorrt", "_autodeploy"},
    ("llama-server", "--cache-type-k"): {"f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "iq4_nl", "q5_0", "q5_1"},
    ("llama-server", "--cache-type-v"): {"f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "iq4_nl", "q5_0", "q5_1"},
    ("llama-server", "-fa"): {"on", "off", "auto"},
    ("llama-server", "--split-mode"): {"none", "layer", "row"},
}
NO_VALUE = {("vllm serve", "--enable-expert-parallel"), ("ray start", "--head"), ("vllm serve", "--headless"),
            ("sglang.launch_server", "--enable-dp-attention"), ("llama-server", "--cpu-moe")}


def invocations(plan):
    """(program, arguments) for every program the plan's commands start."""
    for cmd in plan.commands:
        for line in cmd.split("\n"):
            if line.startswith("#"):
                continue
            toks = shlex.split(line)
            if toks[0] == "export":  # the server's environment (vLLM on a CPU: VLLM_CPU_KVCACHE_SPACE)
                continue
            if toks[0] == "printf":  # writes trtllm-serve's extra options file
                assert toks[-2:] == [">", "extra-llm-api-options.yaml"]
                continue
            if toks[0] == "mpirun":
                i = toks.index("trtllm-llmapi-launch")
                yield "mpirun", toks[1:i]
                toks = toks[i + 1:]
            if toks[:2] == ["vllm", "serve"]:
                yield "vllm serve", toks[2:]
            elif toks[:2] == ["ray", "start"]:
                yield "ray start", toks[2:]
            elif toks[:3] == ["python", "-m", "sglang.launch_server"]:
                yield "sglang.launch_server", toks[3:]
            elif toks[0] == "trtllm-serve":
                yield "trtllm-serve", toks[1:]
            elif toks[0] == "llama-server":
                yield "llama-server", toks[1:]
            else:
                raise AssertionError(f"a program with no documented flag table: {line!r}")


def flags(plan) -> dict[str, dict[str, str | None]]:
    """program -> {flag: value} (None for a switch)."""
    out: dict[str, dict[str, str | None]] = {}
    for prog, args in invocations(plan):
        got = out.setdefault(prog, {})
        i = 0
        while i < len(args):
            a = args[i]
            if a.startswith("-"):
                if (prog, a) in NO_VALUE:
                    got[a] = None
                    i += 1
                else:
                    got[a] = args[i + 1]
                    i += 2
            else:
                i += 1
        # positional arguments (the model) are not flags; their order is checked by the pinned cases
    return out


def check_documented(plan) -> None:
    for prog, got in flags(plan).items():
        unknown = set(got) - DOCUMENTED[prog]
        assert not unknown, f"{prog}: flags not in the documented table: {sorted(unknown)}"
        for flag, value in got.items():
            allowed = VALUES.get((prog, flag))
            if allowed is not None:
                assert value in allowed, f"{prog} {flag} {value!r} is not a documented choice"


def plan_json(run, *args):
    r = run("plan", *args, "--format", "json")
    assert r.code == 0, r.err
    return r.json()


# ------------------------------------------------------------------ pinned cases

def test_32b_on_two_l40s_vllm(run):
    # 32.8B bf16 = 65.5 GB: over one L40S's 0.9 x 47.7 GB, half of it per GPU on two; 40 heads split in 2
    d = plan_json(run, "DeepSeek-R1-Distill-Qwen-32B", "--gpu", "L40S", "--gpus", "2", "--quant", "bf16",
                  "--engine", "vllm", "--concurrency", "1")
    assert d["deployment"]["tensor_parallel"] == 2 and d["deployment"]["pipeline_parallel"] == 1
    assert d["commands"] == [
        "vllm serve deepseek-ai/DeepSeek-R1-Distill-Qwen-32B --tensor-parallel-size 2 --max-model-len 8192 "
        "--max-num-seqs 1 --gpu-memory-utilization 0.9 --dtype bfloat16 --host 0.0.0.0 --port 8000"]
    assert d["env"] == {"CUDA_VISIBLE_DEVICES": "0,1"}
    assert d["kubernetes"] is None
    assert set(d) == {"schema_version", "catalog_overrides", "model", "deployment", "commands", "env", "notes",
                      "gpu_layers", "host_memory_bytes", "kubernetes"}
    assert d["gpu_layers"] is None and d["host_memory_bytes"] == 0


def test_32b_on_two_l40s_sglang(run):
    d = plan_json(run, "DeepSeek-R1-Distill-Qwen-32B", "--gpu", "L40S", "--gpus", "2", "--quant", "bf16",
                  "--engine", "sglang", "--concurrency", "1")
    # --mem-fraction-static: the catalog's 0.83, the fraction the estimate planned with
    assert d["commands"] == [
        "python -m sglang.launch_server --model-path deepseek-ai/DeepSeek-R1-Distill-Qwen-32B --tp 2 "
        "--context-length 8192 --max-running-requests 1 --mem-fraction-static 0.83 --dtype bfloat16 "
        "--host 0.0.0.0 --port 30000"]


def test_v3_on_two_nodes_of_eight_h100_vllm_uses_ray(run):
    # 671B fp8 = 0.69 TB: more than 8 x 80 GB, so 16 GPUs; TP 8 inside a node, PP 2 across; experts split by TP
    # as vLLM does by default (its TP fused-MoE kernel decodes faster than EP's: docs/method.md, "Decode step")
    d = plan_json(run, "DeepSeek-V3", "--gpu", "H100", "--gpus", "16", "--quant", "fp8", "--engine", "vllm",
                  "--concurrency", "1")
    dep = d["deployment"]
    assert (dep["gpus"], dep["nodes"], dep["tensor_parallel"], dep["pipeline_parallel"], dep["expert_parallel"]) \
        == (16, 2, 8, 2, False)
    head, worker = d["commands"]
    assert head.split("\n") == [
        "ray start --head --port 6379",
        "vllm serve deepseek-ai/DeepSeek-V3 --tensor-parallel-size 8 --pipeline-parallel-size 2 "
        "--distributed-executor-backend ray --max-model-len 8192 --max-num-seqs 1 "
        "--gpu-memory-utilization 0.9 --host 0.0.0.0 --port 8000"]
    assert worker == "ray start --address '<head-ip>:6379'"
    assert "--quantization" not in head  # V3 ships in fp8: vLLM reads the scheme from its config
    assert d["env"] == {"CUDA_VISIBLE_DEVICES": "0,1,2,3,4,5,6,7"}


def test_v3_on_two_nodes_sglang_ranks(run):
    d = plan_json(run, "DeepSeek-V3", "--gpu", "H100", "--gpus", "16", "--quant", "fp8", "--engine", "sglang",
                  "--concurrency", "1")
    assert len(d["commands"]) == 2
    for rank, cmd in enumerate(d["commands"]):
        assert cmd == ("python -m sglang.launch_server --model-path deepseek-ai/DeepSeek-V3 --tp 8 --pp-size 2 "
                       "--context-length 8192 --max-running-requests 1 --mem-fraction-static 0.83 "
                       f"--host 0.0.0.0 --port 30000 --nnodes 2 --node-rank {rank} --dist-init-addr '<head-ip>:5000'")


def test_7b_q4_k_m_on_rtx_3060_llamacpp_offloads_every_layer(run):
    # Qwen2-7B shape: 28 layers; 7.6B x 4.89 bits = 4.7 GB + 0.45 GB KV at 8192 tokens fits 12 GB:
    # -ngl 29 = the 28 layers and the output layer
    d = plan_json(run, "DeepSeek-R1-Distill-Qwen-7B", "--gpu", "RTX 3060", "--engine", "llama.cpp",
                  "--quant", "q4_k_m")
    # the catalogued file (lmstudio-community's copy of bartowski's Q4_K_M), where `hf download` puts it
    assert d["commands"] == ["llama-server -m DeepSeek-R1-Distill-Qwen-7B-GGUF/DeepSeek-R1-Distill-Qwen-7B-Q4_K_M.gguf "
                             "-c 8192 -ngl 29 -np 1 --host 0.0.0.0 --port 8080"]
    assert any("GGUF" in n for n in d["notes"])


def test_llamacpp_quantized_kv_and_slots(run):
    d = plan_json(run, "DeepSeek-R1-Distill-Qwen-7B", "--gpu", "RTX 3060", "--engine", "llama.cpp",
                  "--quant", "q4_k_m", "--kv-dtype", "q8_0", "--batch", "2", "--context", "4096")
    # the server splits -c among its -np slots: 2 x 4096
    assert d["commands"] == ["llama-server -m DeepSeek-R1-Distill-Qwen-7B-GGUF/DeepSeek-R1-Distill-Qwen-7B-Q4_K_M.gguf "
                             "-c 8192 -ngl 29 -np 2 --cache-type-k q8_0 --cache-type-v q8_0 -fa on --host 0.0.0.0 --port 8080"]


def test_llamacpp_partial_offload_counts_the_layers_that_fit(run):
    r = run("plan", "DeepSeek-R1-Distill-Qwen-32B", "--gpu", "RTX 3060", "--engine", "llama.cpp",
            "--quant", "q4_k_m")
    assert r.code == 1 and r.out == ""
    assert len(r.err.strip().splitlines()) == 1 and "DSA002" in r.err and "--offload" in r.err
    d = plan_json(run, "DeepSeek-R1-Distill-Qwen-32B", "--gpu", "RTX 3060", "--engine", "llama.cpp",
                  "--quant", "q4_k_m", "--offload")
    # By hand (Qwen2.5-32B config): a layer holds q/k/v/o with biases, 62,921,728 parameters at Q4_K_M's
    # attention bits (4.66), the MLP, 3 x 5120 x 27648, at 4.5 bits for gate/up and 5.53 for down (27648 rows
    # divide into 256-weight super-blocks: no fallback), and two F32 norms: 293.80 MB, plus its KV cache,
    # 2 x 8 heads x 128 x 2 B x 8192 tokens = 33.55 MB: 327.35 MB. The GPU: 12,752,624,025 B less the
    # 0.75 GB runtime and a 512-token compute buffer (512 x (3 x 27648 + 4 x 5120) x 2 B = 105.9 MB)
    # = 11.90 GB, room for 36.4 layers: 36 of 64.
    assert "-ngl 36 " in d["commands"][0]
    assert any("36 of 64 layers" in n and "CPU memory" in n for n in d["notes"])
    # the 28 layers left behind keep weights and KV cache in CPU memory: 28 x 327.35 MB = 9.17 GB
    assert d["gpu_layers"] == 36 and abs(d["host_memory_bytes"] / (28 * 327.35e6) - 1) < 0.005


def test_trtllm_flags_single_node_with_fp8_kv(run):
    d = plan_json(run, "DeepSeek-R1-Distill-Qwen-7B", "--gpu", "H100", "--engine", "tensorrt-llm",
                  "--kv-dtype", "fp8", "--batch", "8")
    assert d["commands"] == [
        "printf 'kv_cache_config:\\n  dtype: fp8\\n' > extra-llm-api-options.yaml\n"
        "trtllm-serve deepseek-ai/DeepSeek-R1-Distill-Qwen-7B --backend pytorch --tp_size 1 --max_seq_len 8192 "
        "--max_batch_size 8 --max_num_tokens 8192 --kv_cache_free_gpu_memory_fraction 0.9 "
        "--extra_llm_api_options extra-llm-api-options.yaml --host 0.0.0.0 --port 8000"]


def test_trtllm_two_nodes_through_mpirun(run):
    d = plan_json(run, "DeepSeek-V3", "--gpu", "H100", "--gpus", "16", "--quant", "fp8",
                  "--engine", "tensorrt-llm", "--concurrency", "1")
    head, worker = d["commands"]
    assert head == ("mpirun -H '<head-ip>:8,<node-1-ip>:8' -n 16 trtllm-llmapi-launch trtllm-serve "
                    "deepseek-ai/DeepSeek-V3 --backend pytorch --tp_size 8 --pp_size 2 --ep_size 8 "
                    "--max_seq_len 8192 --max_batch_size 1 --kv_cache_free_gpu_memory_fraction 0.9 "
                    "--host 0.0.0.0 --port 8000")
    assert worker.startswith("#")


def test_awq_with_no_published_checkpoint_says_convert_it_yourself(run):
    # no AWQ checkpoint of the 32B distill is in the catalog: a placeholder, and how to make it;
    # L40S is compute capability 8.9, so the Marlin kernel
    d = plan_json(run, "DeepSeek-R1-Distill-Qwen-32B", "--gpu", "L40S", "--engine", "vllm", "--quant", "awq")
    assert d["deployment"]["quantization"] == "awq-int4"
    cmd = d["commands"][0]
    assert cmd.startswith("vllm serve '<AWQ-checkpoint-of deepseek-ai/DeepSeek-R1-Distill-Qwen-32B>' ")
    assert "--quantization awq_marlin" in cmd
    assert any("convert it yourself: quantize deepseek-ai/DeepSeek-R1-Distill-Qwen-32B with llm-compressor" in n
               for n in d["notes"])


def test_no_fit_exits_1_with_one_line(run):
    r = run("plan", "DeepSeek-V3", "--gpu", "RTX 3060")
    assert r.code == 1 and r.out == ""
    lines = r.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dsadvisor: error: no deployment of deepseek-v3 fits: DSA002")


def test_kubernetes_manifest(run):
    d = plan_json(run, "DeepSeek-R1-Distill-Qwen-32B", "--gpu", "L40S", "--gpus", "2", "--quant", "bf16",
                  "--engine", "vllm", "--k8s")
    m = yaml.safe_load(d["kubernetes"])
    assert m["kind"] == "Deployment" and m["apiVersion"] == "apps/v1"
    pod = m["spec"]["template"]["spec"]
    c = pod["containers"][0]
    assert c["image"] == "vllm/vllm-openai:v0.24.0"
    # the server's argv as lists, no shell between: exactly the words the pasted command runs
    assert c["command"] == ["vllm"] and c["command"] + c["args"] == shlex.split(d["commands"][0])
    assert c["resources"]["limits"]["nvidia.com/gpu"] == 2
    assert c["resources"]["requests"]["memory"] == "32Gi" and c["resources"]["requests"]["cpu"] == "4"
    assert c["volumeMounts"] == [{"name": "dshm", "mountPath": "/dev/shm"},
                                 {"name": "model-cache", "mountPath": "/root/.cache/huggingface"}]
    assert pod["volumes"] == [{"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": "16Gi"}},
                              {"name": "model-cache", "hostPath": {"path": "/var/lib/dsadvisor/hf-cache",
                                                                   "type": "DirectoryOrCreate"}}]
    assert {"name": "HF_HOME", "value": "/root/.cache/huggingface"} in c["env"]
    assert c["ports"] == [{"containerPort": 8000}]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):  # vLLM's /health
        assert c[probe]["httpGet"] == {"path": "/health", "port": 8000}
    assert m["spec"]["selector"]["matchLabels"] == m["spec"]["template"]["metadata"]["labels"]


def test_kubernetes_llamacpp_passes_arguments_to_the_image_entrypoint(run):
    d = plan_json(run, "DeepSeek-R1-Distill-Qwen-7B", "--gpu", "RTX 3060", "--engine", "llama.cpp",
                  "--quant", "q4_k_m", "--k8s")
    c = yaml.safe_load(d["kubernetes"])["spec"]["template"]["spec"]["containers"][0]
    assert c["image"] == "ghcr.io/ggml-org/llama.cpp:server-cuda" and "command" not in c
    # the container has no `hf download`ed file: llama-server fetches the one the shell line's -m names
    # (common/arg.cpp: --hf-repo REPO --hf-file FILE, into LLAMA_CACHE), kept on the model cache volume
    shell = shlex.split(d["commands"][0])[1:]
    at = shell.index("-m")
    download = next(n for n in d["notes"] if "hf download" in n).split("hf download ")[1].split()
    repo, file = download[0], download[2].strip("'")
    assert shell[at + 1] == f"{repo.rsplit('/', 1)[1]}/{file}"
    assert c["args"] == [*shell[:at], "--hf-repo", repo, "--hf-file", file, *shell[at + 2:]]
    assert {"name": "LLAMA_CACHE", "value": "/root/.cache/huggingface/llama.cpp"} in c["env"]
    assert any("--hf-repo" in n for n in d["notes"])


def test_kubernetes_ollama_pulls_the_model_before_the_server_starts(run):
    """`ollama serve` alone answers GET / with no model, and a request for a model it lacks gets 404: an init
    container pulls the tag into OLLAMA_MODELS on the model cache volume the server then reads."""
    d = plan_json(run, "DeepSeek-R1-Distill-Qwen-7B", "--gpu", "L40S", "--engine", "ollama", "--k8s")
    pod = yaml.safe_load(d["kubernetes"])["spec"]["template"]["spec"]
    [init], [server] = pod["initContainers"], pod["containers"]
    pull = [line for line in d["commands"][0].split("\n") if line.startswith("ollama pull")]
    tag = shlex.split(pull[0])[2]
    assert tag == "deepseek-r1:7b"
    assert init["image"] == server["image"] == "ollama/ollama"
    # the tag reaches the script as "$1" ($$ is Kubernetes' escape for $), never as script text
    assert init["command"][:2] == ["/bin/sh", "-c"] and init["command"][3:] == ["sh", tag]
    assert init["command"][2].endswith('ollama pull "$$1"') and tag not in init["command"][2]
    cache = {"name": "OLLAMA_MODELS", "value": "/root/.cache/huggingface/ollama"}
    assert cache in init["env"] and cache in server["env"]
    assert init["volumeMounts"] == [{"name": "model-cache", "mountPath": "/root/.cache/huggingface"}]
    assert server["args"] == ["serve"]


def test_kubernetes_over_several_nodes_is_a_leader_worker_set(run):
    d = plan_json(run, "DeepSeek-V3", "--gpu", "H100", "--gpus", "16", "--quant", "fp8", "--engine", "vllm",
                  "--k8s")
    lws, service = yaml.safe_load_all(d["kubernetes"])
    assert (lws["apiVersion"], lws["kind"]) == ("leaderworkerset.x-k8s.io/v1", "LeaderWorkerSet")
    group = lws["spec"]["leaderWorkerTemplate"]
    assert group["size"] == 2
    [leader] = group["leaderTemplate"]["spec"]["containers"]
    [worker] = group["workerTemplate"]["spec"]["containers"]
    # the leader starts Ray's head in a constant script, then execs node 0's `vllm serve` argv
    assert leader["command"][:2] == ["/bin/sh", "-c"] and "ray start --head --port 6379" in leader["command"][2]
    assert leader["args"] == shlex.split(d["commands"][0].split("\n")[1])
    assert worker["command"] + worker["args"] == ["ray", "start", "--address", "$(LWS_LEADER_ADDRESS):6379",
                                                  "--block"]
    assert leader["readinessProbe"]["httpGet"] == {"path": "/health", "port": 8000} and "readinessProbe" not in worker
    for c in (leader, worker):
        assert c["resources"]["limits"]["nvidia.com/gpu"] == 8
    assert service["kind"] == "Service" and service["spec"]["selector"]["role"] == "leader"
    assert any("LeaderWorkerSet" in n for n in d["notes"])


def test_sglang_ranks_come_from_the_leader_worker_set(run):
    d = plan_json(run, "DeepSeek-V3", "--gpu", "H100", "--gpus", "16", "--quant", "fp8", "--engine", "sglang",
                  "--k8s")
    group = next(yaml.safe_load_all(d["kubernetes"]))["spec"]["leaderWorkerTemplate"]
    leader = group["leaderTemplate"]["spec"]["containers"][0]
    worker = group["workerTemplate"]["spec"]["containers"][0]
    argv = leader["command"] + leader["args"]
    assert argv[argv.index("--dist-init-addr") + 1] == "$(LWS_LEADER_ADDRESS):5000"
    assert argv[argv.index("--node-rank") + 1] == "0"
    wargv = worker["command"] + worker["args"]
    assert wargv[wargv.index("--node-rank") + 1] == "$(LWS_WORKER_INDEX)"


def test_vllm_data_parallel_workers_start_at_their_rank(run):
    d = plan_json(run, "DeepSeek-V3", "--gpu", "H100", "--gpus", "16", "--quant", "fp8", "--engine", "vllm",
                  "--dp-attention", "16", "--concurrency", "256", "--context", "4096", "--k8s")
    group = next(yaml.safe_load_all(d["kubernetes"]))["spec"]["leaderWorkerTemplate"]
    leader = group["leaderTemplate"]["spec"]["containers"][0]
    worker = group["workerTemplate"]["spec"]["containers"][0]
    argv = leader["command"] + leader["args"]
    assert argv[argv.index("--data-parallel-address") + 1] == "$(LWS_LEADER_ADDRESS)"
    assert worker["command"][:2] == ["/bin/sh", "-c"] and "--headless" in worker["args"]
    assert "$((LWS_WORKER_INDEX * DP_LOCAL))" in worker["command"][2]
    assert {"name": "DP_LOCAL", "value": "8"} in worker["env"]


@pytest.mark.parametrize("fmt", ["table", "markdown", "csv", "yaml"])
def test_other_formats(run, fmt):
    r = run("plan", "DeepSeek-R1-Distill-Qwen-7B", "--gpu", "H100", "--format", fmt)
    assert r.code == 0, r.err
    assert "vllm serve deepseek-ai/DeepSeek-R1-Distill-Qwen-7B" in r.out


def test_pinned_cases_use_documented_flags(run):
    cases = [
        ("DeepSeek-R1-Distill-Qwen-32B", "--gpu", "L40S", "--gpus", "2", "--quant", "bf16", "--engine", "vllm"),
        ("DeepSeek-V3", "--gpu", "H100", "--gpus", "16", "--quant", "fp8", "--engine", "sglang"),
        ("DeepSeek-R1-Distill-Qwen-7B", "--gpu", "RTX 3060", "--engine", "llama.cpp", "--quant", "q4_k_m"),
    ]
    from types import SimpleNamespace

    for args in cases:
        check_documented(SimpleNamespace(commands=tuple(plan_json(run, *args)["commands"])))


# ------------------------------------------------------------------ every plan, every flag

def _every_plan(catalog):
    """A plan for every engine x weight format x KV dtype it runs, on one GPU, two GPUs, an old GPU
    (no Marlin, no bf16), a small one and two nodes, with a Kubernetes manifest where there is one node."""
    small, big = catalog.model("DeepSeek-R1-Distill-Qwen-7B"), catalog.model("DeepSeek-V3")
    h100, t4, rtx = catalog.gpus["H100-SXM"], catalog.gpus["T4"], catalog.gpus["RTX-3060"]
    # RTX 3060 (12 GB): 16-bit 7B weights do not fit, so llama.cpp keeps layers in CPU memory
    setups = [(small, h100, 1), (small, h100, 2), (small, t4, 1), (small, rtx, 1), (big, h100, 16)]
    for eng_id in ("vllm", "sglang", "tensorrt-llm", "llama.cpp"):
        eng = catalog.engine(eng_id)
        for q in eng.formats:
            for kv in ["auto"] + [k for k in eng.kv_dtypes if k.endswith("-kv")]:
                for model, gpu, n in setups:
                    dep = Deployment.of(catalog, model=model, gpu=gpu, quant=catalog.quantization(q), engine=eng, kv_dtype=kv,
                                     gpus=n, batch=4, context=4096)
                    try:
                        est = estimate(dep)
                    except DsAdvisorError:
                        continue
                    try:
                        yield launch_plan(catalog, est, model, gpu=gpu, kubernetes=True)
                    except InputError:
                        assert not est.memory.fits  # refused only for not fitting
                        continue
    yield from _dp_attention_plans(catalog, big)
    yield from _expert_offload_plans(catalog)
    vl2 = catalog.model("deepseek-vl2")  # vLLM names its class with --hf-overrides
    dep = Deployment.of(catalog, model=vl2, gpu=h100, quant=catalog.quantization("bf16"),
                        engine=catalog.engine("vllm"), gpus=1, batch=4, context=4096)
    yield launch_plan(catalog, estimate(dep), vl2, gpu=h100, kubernetes=True)


def _expert_offload_plans(catalog):
    """R1's routed experts in system memory: some layers' on two GPUs, every layer's on one."""
    from dsadvisor.advice.rules import Constraints
    from dsadvisor.launch.plan import plan

    for gpu, n, ram, quant in (("H100", 2, 256, "ud-q2_k_xl"), ("RTX-4090", 1, 512, "q4_k_m")):
        k = Constraints(allow_unknown=True, quants=(quant,), engines=("llama.cpp",))
        yield plan(catalog, "deepseek-r1", hardware(catalog, gpu, None, n, ram), k)


def _dp_attention_plans(catalog, big):
    """V3 with data-parallel attention on one node of eight H200s (drafting with its MTP layer) and over
    two nodes of eight H100s."""
    from dsadvisor.physics.estimate import pin_layout

    for eng_id in ("vllm", "sglang", "tensorrt-llm"):
        for gpu, n in ((catalog.gpus["H200-SXM"], 8), (catalog.gpus["H100-SXM"], 16)):
            dep = Deployment.of(catalog, model=big, gpu=gpu, quant=catalog.quantization("fp8"),
                                engine=catalog.engine(eng_id), gpus=n, batch=64, context=4096)
            est = estimate(pin_layout(dep, tp=n, dp_attention=n, mtp=1 if n == 8 else None))
            assert est.memory.fits and est.dp_attention == n
            yield launch_plan(catalog, est, big, gpu=gpu, kubernetes=True)


def test_every_flag_every_plan_emits_is_documented(catalog):
    plans = list(_every_plan(catalog))
    seen = {(p.engine, p.estimate.nodes > 1) for p in plans}
    assert {("vllm", True), ("sglang", True), ("tensorrt-llm", True), ("llama.cpp", False)} <= seen
    assert any(p.offloaded for p in plans)
    emitted: dict[str, set[str]] = {}
    for p in plans:
        check_documented(p)
        for prog, got in flags(p).items():
            emitted.setdefault(prog, set()).update(got)
        if p.kubernetes is not None and p.estimate.nodes == 1:
            m = yaml.safe_load(p.kubernetes)
            assert m["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == \
                p.estimate.gpus
        elif p.kubernetes is not None:
            group = next(yaml.safe_load_all(p.kubernetes))["spec"]["leaderWorkerTemplate"]
            assert group["size"] == p.estimate.nodes
    # and the table holds no flag the plans never emit (it documents what the code does)
    assert emitted == DOCUMENTED


def test_library_accepts_a_verdict_or_an_estimate(catalog):
    from dsadvisor.advice.search import Hardware, recommend
    from dsadvisor.advice.rules import Constraints

    entry = catalog.model("DeepSeek-R1-Distill-Qwen-7B")
    rec = recommend(catalog, [Hardware(gpu=catalog.gpus["H100-SXM"])], Constraints(engines=("sglang",)),
                    models=[entry])
    v = rec.ranked[0]
    a, b = launch_plan(catalog, v, entry), launch_plan(catalog, v.estimate, entry)
    assert a == b and a.engine == "sglang" and len(a.commands) == 1


def test_vllm_fraction_is_of_the_whole_card_when_planned_on_free_memory(catalog):
    entry = catalog.model("DeepSeek-R1-Distill-Qwen-7B")
    h100 = catalog.gpus["H100-SXM"]
    free = 40 * 2**30
    est = estimate(Deployment.of(catalog, model=entry, gpu=h100, quant=catalog.quantization("bf16"),
                                       engine=catalog.engine("vllm"), capacity_bytes=free))
    plan = launch_plan(catalog, est, entry, gpu_total_bytes=h100.memory_bytes or 85_017_493_504)
    # usable = 0.9 x 40 GiB = 38.65 GB of the card's 85.0 GB: 0.45 (rounded down)
    assert "--gpu-memory-utilization 0.45 " in plan.commands[0]


# ------------------------------------------------------------------ --gpu auto

def test_gpu_auto_without_a_gpu_exits_5(run, monkeypatch):
    monkeypatch.setattr("dsadvisor.catalog.hardware.detect_gpus", lambda: [])
    r = run("estimate", "DeepSeek-R1-Distill-Qwen-7B", "--gpu", "auto")
    assert r.code == 5 and r.out == ""
    assert len(r.err.strip().splitlines()) == 1 and "--gpu auto found no GPU" in r.err


def test_gpu_auto_plans_with_the_free_memory(run, monkeypatch):
    free_mib = 20_000  # 20.97 GB free of an 80 GB H100
    monkeypatch.setattr("dsadvisor.catalog.hardware.detect_gpus",
                        lambda: [DetectedGpu("NVIDIA H100 80GB HBM3", 81559, free_mib)])
    r = run("estimate", "DeepSeek-R1-Distill-Qwen-7B", "--gpu", "auto", "--format", "json")
    assert r.code == 0, r.err
    d = r.json()
    assert d["deployment"]["gpu"] == "H100-SXM"
    assert d["memory"]["gpu_capacity_bytes"] == free_mib * 2**20


def test_plan_with_gpu_auto_rescales_the_vllm_fraction_to_the_whole_card(run, monkeypatch):
    free_mib = 40 * 1024  # 40 GiB free of the H100's 85.0 GB
    monkeypatch.setattr("dsadvisor.catalog.hardware.detect_gpus",
                        lambda: [DetectedGpu("NVIDIA H100 80GB HBM3", 81559, free_mib)])
    d = plan_json(run, "DeepSeek-R1-Distill-Qwen-7B", "--gpu", "auto", "--engine", "vllm", "--quant", "bf16")
    # the estimate used 0.9 x 40 GiB = 38.65 GB; vLLM takes a fraction of the whole card: 38.65 / 85.02 = 0.45
    assert "--gpu-memory-utilization 0.45 " in d["commands"][0]
    assert any("detected free memory" in n for n in d["notes"])


def test_plan_from_a_local_config_serves_its_folder(run, tmp_path, catalog):
    from dsadvisor.catalog.schema import as_dict

    arch = catalog.architecture(catalog.model("DeepSeek-R1-Distill-Qwen-7B"))
    config = {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "torch_dtype": "bfloat16",
              **as_dict(arch, include={"num_hidden_layers", "hidden_size", "intermediate_size", "vocab_size",
                                         "num_attention_heads", "num_key_value_heads",
                                         "max_position_embeddings", "tie_word_embeddings"})}
    (tmp_path / "config.json").write_text(__import__("json").dumps(config))
    d = plan_json(run, "--config", str(tmp_path / "config.json"), "--gpu", "H100", "--engine", "vllm",
                  "--quant", "bf16")
    assert d["commands"][0].startswith(f"vllm serve {tmp_path} --tensor-parallel-size 1 ")


def test_a_described_variant_gets_no_serve_command_no_weights_exist(run):
    r = run("plan", "deepseek-1.3b", "--gpu", "RTX-3060", "-f", "json")
    assert r.code == 1 and r.out == ""
    assert "no public weights exist to serve" in r.err
    assert run("check", "deepseek-1.3b", "--gpu", "RTX-3060").code == 0  # check and estimate still size it
    assert run("estimate", "deepseek-1.3b", "--gpu", "RTX-3060", "--engine", "llama.cpp", "--quant", "q4_k_m").code == 0


def test_device_variables_and_manifests_follow_the_vendor(run):
    apple = plan_json(run, "deepseek-r1-distill-qwen-7b", "--gpu", "M4-Max-36GB", "--k8s")
    assert apple["env"] == {}  # Metal has no CUDA_VISIBLE_DEVICES
    assert apple["kubernetes"] is None and any("no Kubernetes manifest" in n and "Apple" in n for n in apple["notes"])
    nvidia = plan_json(run, "deepseek-r1-distill-qwen-7b", "--gpu", "L40S", "--k8s")
    assert nvidia["env"] == {"CUDA_VISIBLE_DEVICES": "0"} and "nvidia.com/gpu" in nvidia["kubernetes"]


@pytest.mark.parametrize("model", ["deepseek-vl2", "deepseek-vl2-small", "deepseek-vl2-tiny"])
def test_vllm_names_deepseek_vl2s_class(run, model):
    """DeepSeek-VL2's config.json names no top-level architecture: `vllm serve deepseek-ai/deepseek-vl2` stops on
    "No model architectures are specified" unless --hf-overrides names DeepseekVLV2ForCausalLM (vLLM's
    supported-models table). The plan printed the bare command before."""
    plan = plan_json(run, model, "--gpu", "A100", "--vram", "80", "--engine", "vllm")
    (prog, args), = list(invocations(type("P", (), {"commands": plan["commands"]})))
    assert prog == "vllm serve"
    i = args.index("--hf-overrides")
    assert json.loads(args[i + 1]) == {"architectures": ["DeepseekVLV2ForCausalLM"]}
    check_documented(type("P", (), {"commands": plan["commands"]}))


def test_vllm_adds_no_override_to_a_text_model(run):
    plan = plan_json(run, "deepseek-r1-distill-qwen-7b", "--gpu", "A100", "--vram", "80", "--engine", "vllm")
    assert "--hf-overrides" not in plan["commands"][0]


def test_a_cpu_plan_sets_no_gpu_visibility(run):
    """An AMD EPYC is vendor amd: its vLLM CPU plan exported HIP_VISIBLE_DEVICES=0, ROCm's GPU list, to a CPU."""
    cpu = plan_json(run, "deepseek-r1-distill-qwen-7b", "--gpu", "EPYC 9654", "--ram", "384", "--engine", "vllm")
    assert not any(k.endswith("VISIBLE_DEVICES") for k in cpu["env"]), cpu["env"]
    mi = plan_json(run, "deepseek-r1-distill-qwen-7b", "--gpu", "MI300X", "--engine", "vllm")
    assert mi["env"] == {"HIP_VISIBLE_DEVICES": "0"}


@pytest.mark.parametrize("users,context,gib", [
    # R1-Distill-Qwen-7B: 28 layers x 4 KV heads x 128 x (K, V) x 2 bytes = 57,344 bytes a token
    ("1", "8192", 1),  # 8192 x 57,344 = 0.47 GB: 1 GiB
    ("8", "32768", 15),  # 8 x 32768 x 57,344 = 14 GiB exactly; vLLM's null block (128 tokens, 7.3 MB) makes it 15
])
def test_a_vllm_cpu_plan_sizes_the_kv_cache_by_its_environment_variable(run, users, context, gib):
    """vLLM's CPU backend takes its KV cache from VLLM_CPU_KVCACHE_SPACE (GiB; unset, 4 GiB in 0.9, half the
    node's memory later), not --gpu-memory-utilization: the plan passed only the flag, so the cache it started
    was not the one estimated. Now: the variable, the estimate's KV cache rounded up, and no fraction."""
    plan = plan_json(run, "deepseek-r1-distill-qwen-7b", "--gpu", "EPYC 9654", "--ram", "384", "--engine", "vllm",
                     "--concurrency", users, "--context", context)
    lines = plan["commands"][0].split("\n")
    assert lines[0] == f"export VLLM_CPU_KVCACHE_SPACE={gib}"
    assert lines[1].startswith("vllm serve ") and "--gpu-memory-utilization" not in lines[1]
    assert any("VLLM_CPU_KVCACHE_SPACE" in n for n in plan["notes"])
    check_documented(type("P", (), {"commands": plan["commands"]}))
    gpu = plan_json(run, "deepseek-r1-distill-qwen-7b", "--gpu", "H100", "--engine", "vllm")
    assert "VLLM_CPU_KVCACHE_SPACE" not in gpu["commands"][0] and "--gpu-memory-utilization" in gpu["commands"][0]


def test_a_jetson_plan_gives_the_engine_its_share_of_the_shared_memory(run):
    """On a Jetson CUDA reports the whole system memory, and --gpu-memory-utilization is a fraction of it. The
    estimate leaves the system its share (usable_memory_fraction 0.8 on the 8 GB Orin Nano) and gives vLLM 0.9 of
    the rest; the plan printed 0.9, handing vLLM 0.9 of all 8 GB and the system 0.8 GB."""
    for gpu, want in (("Jetson Orin Nano", 0.9 * 0.8), ("Jetson AGX Orin", 0.9 * 0.9)):
        p = plan_json(run, "deepseek-r1-distill-qwen-1.5b", "--gpu", gpu, "--engine", "vllm")
        got = float(flags(type("P", (), {"commands": p["commands"]}))["vllm serve"]["--gpu-memory-utilization"])
        assert want - 0.011 <= got <= want, gpu  # fraction_flag rounds down
        assert any("shares its" in n for n in p["notes"])
    h100 = plan_json(run, "deepseek-r1-distill-qwen-1.5b", "--gpu", "H100", "--engine", "vllm")
    assert "--gpu-memory-utilization 0.9 " in h100["commands"][0]


def test_a_manifest_with_a_placeholder_image_says_to_replace_it(run):
    """TensorRT-LLM's manifest names nvcr.io/nvidia/tensorrt-llm/release:<version> (the user picks the NGC
    release): `kubectl apply` of it as written leaves the pod in InvalidImageName, and the plan said nothing."""
    for gpus, kind in (("1", "Deployment"), ("16", "LeaderWorkerSet")):
        model = "DeepSeek-R1-Distill-Qwen-7B" if gpus == "1" else "DeepSeek-V3"
        d = plan_json(run, model, "--gpu", "H100", "--gpus", gpus, "--engine", "tensorrt-llm", "--k8s")
        doc = next(yaml.safe_load_all(d["kubernetes"]))
        assert doc["kind"] == kind and "release:<version>" in d["kubernetes"]
        assert any("replace the placeholder" in n and "release:<version>" in n for n in d["notes"]), d["notes"]
    d = plan_json(run, "DeepSeek-R1-Distill-Qwen-7B", "--gpu", "H100", "--engine", "vllm", "--k8s")
    assert not any("placeholder" in n for n in d["notes"])


def test_a_manifest_from_a_local_config_mounts_its_folder(run, tmp_path, monkeypatch):
    """`plan --config 'my model' --gpu L40S --k8s` gave the pod `vllm serve 'my model'`, a folder on the machine that
    ran dsadvisor and not in the container: the server stops at once. Now the folder is made absolute and mounted
    read-only from the node at that path (hostPath), in a Deployment and in every pod of a LeaderWorkerSet."""
    from .test_params import DEEPSEEK_V3, QWEN2_7B

    monkeypatch.chdir(tmp_path)
    for name, config, gpus in (("my model", QWEN2_7B, "1"), ("v3 $(x)", DEEPSEEK_V3, "16")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.json").write_text(json.dumps(config))
        d = plan_json(run, "--config", name, "--gpu", "H100", "--gpus", gpus, "--engine", "vllm", "--k8s")
        assert shlex.split(d["commands"][0].split("\n")[-1])[:3] == ["vllm", "serve", name]  # the shell: as typed
        path = str(tmp_path / name)
        volume = {"name": "local-model", "hostPath": {"path": path, "type": "Directory"}}
        mount = {"name": "local-model", "mountPath": path, "readOnly": True}
        doc = next(yaml.safe_load_all(d["kubernetes"]))
        pods = ([doc["spec"]["template"]["spec"]] if gpus == "1" else
                [doc["spec"]["leaderWorkerTemplate"][t]["spec"] for t in ("leaderTemplate", "workerTemplate")])
        for pod in pods:
            assert volume in pod["volumes"] and all(mount in c["volumeMounts"] for c in pod["containers"])
        server = pods[0]["containers"][0]
        argv = [a.replace("$$", "$") for a in server.get("command", [])[-1:] + server["args"]]
        assert path in argv and name not in argv
        assert any(n.startswith(f"the manifest mounts the local checkpoint {path} ") for n in d["notes"])


def test_kubernetes_downloads_before_the_startup_probe_counts(run):
    """A first start of R1 (~690 GB) on a link under ~190 MB/s did not download within the startup probe's hour
    (the server downloaded inside it) and was killed and restarted mid-download. Now an init container (no probes)
    `hf download`s the repository the server names into the HF_HOME the server reads; the probe covers loading."""
    d = plan_json(run, "DeepSeek-R1", "--gpu", "H200", "--gpus", "8", "--engine", "vllm", "--k8s")
    pod = yaml.safe_load(d["kubernetes"])["spec"]["template"]["spec"]
    [init], [server] = pod["initContainers"], pod["containers"]
    assert init["command"] == ["hf", "download", "deepseek-ai/DeepSeek-R1"] and "startupProbe" not in init
    assert server["args"][:2] == ["serve", "deepseek-ai/DeepSeek-R1"] and init["image"] == server["image"]
    home = {"name": "HF_HOME", "value": "/root/.cache/huggingface"}
    assert home in init["env"] and home in server["env"]
    assert init["volumeMounts"] == [{"name": "model-cache", "mountPath": "/root/.cache/huggingface"}]
    assert d["kubernetes"].startswith("# startupProbe: 120 x 30 s") and "fetch-model" in d["kubernetes"].split("\n")[1]
    # over several nodes every pod reads its own node's cache: each fetches first
    d = plan_json(run, "DeepSeek-V3", "--gpu", "H100", "--gpus", "16", "--quant", "fp8", "--engine", "sglang",
                  "--k8s")
    group = next(yaml.safe_load_all(d["kubernetes"]))["spec"]["leaderWorkerTemplate"]
    for t in ("leaderTemplate", "workerTemplate"):
        assert group[t]["spec"]["initContainers"][0]["command"] == ["hf", "download", "deepseek-ai/DeepSeek-V3"]


def test_kubernetes_startup_budget_grows_with_what_llamacpp_downloads(run):
    """llama-server downloads its GGUF itself (--hf-repo): its startup budget is the hour for loading plus the
    file's bytes at the stated rate, and the manifest's first lines say so."""
    from dsadvisor.launch.kubernetes import DOWNLOAD_BYTES_S

    d = plan_json(run, "DeepSeek-R1", "--gpu", "H200", "--gpus", "8", "--engine", "llama.cpp", "--k8s")
    pod = yaml.safe_load(d["kubernetes"])["spec"]["template"]["spec"]
    probe = pod["containers"][0]["startupProbe"]
    gb = float(d["kubernetes"].split("first download of ")[1].split(" GB")[0])
    assert gb > 100  # R1's smallest catalogued GGUF is over 100 GB
    assert probe["periodSeconds"] * probe["failureThreshold"] >= 3600 + gb * 1e9 / DOWNLOAD_BYTES_S - 30
    assert "initContainers" not in pod


@pytest.mark.parametrize("engine, image", [("vllm", "vllm/vllm-openai:v0.24.0"),
                                           ("sglang", "lmsysorg/sglang:v0.5.14-cu129")])
def test_kubernetes_image_is_the_release_the_estimate_models(run, catalog, engine, image):
    """The manifests ran vllm/vllm-openai:latest and lmsysorg/sglang:latest, whatever release that is on the day,
    while the speed figures come from one release's kernel tables: the image pins that release, the catalog's
    note names it, and the plan says so."""
    from dsadvisor.engines import serving_engine

    served = serving_engine(catalog.engine(engine))
    assert f"{served.name} {served.release}" in (catalog.engine(engine).speed.note or "")
    d = plan_json(run, "DeepSeek-R1-Distill-Qwen-7B", "--gpu", "H100", "--engine", engine, "--k8s")
    pod = yaml.safe_load(d["kubernetes"].split("\n---")[0])["spec"]["template"]["spec"]
    assert {c["image"] for c in pod["containers"] + pod.get("initContainers", [])} == {image}
    assert any(image in n and served.release in n for n in d["notes"])


DNS_1035 = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")


def test_kubernetes_names_are_ones_kubernetes_takes(run, tmp_path, monkeypatch):
    """A user's catalog id "405b-legal" over two nodes gave a LeaderWorkerSet and a Service named "405b-legal-vllm":
    both must be DNS-1035 labels, a letter first (LWS' webhook: apivalidation.NameIsDNS1035Label; a Service's name
    likewise), so `kubectl apply` refused both. A long --config folder name gave a 63-character LeaderWorkerSet name,
    whose worker StatefulSet "<name>-0" cannot label its pods (controller-revision-hash "<statefulset>-<hash>" is
    over 63 characters). Names now start with a letter, and a LeaderWorkerSet's holds 50 characters."""
    from .test_params import DEEPSEEK_V3

    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.yaml").write_text(
        "models:\n  - {id: 405b-legal, name: 405B-Legal, status: released, kind: model, family: acme,\n"
        "     hf_repo: acme/405b-legal, source: my-card, tasks: [general], architecture_from: deepseek-v3}\n")
    long = "v3-" + "x" * 70
    (tmp_path / long).mkdir()
    (tmp_path / long / "config.json").write_text(json.dumps(DEEPSEEK_V3))
    for args in (("405b-legal", "--catalog", "c.yaml"), ("--config", long)):
        for gpus in ("8", "16"):
            d = plan_json(run, *args, "--gpu", "H200", "--gpus", gpus, "--exact", "--quant", "fp8", "--engine", "vllm",
                          "--k8s")
            docs = list(yaml.safe_load_all(d["kubernetes"]))
            assert docs[0]["kind"] == ("Deployment" if gpus == "8" else "LeaderWorkerSet")
            for doc in docs:
                name = doc["metadata"]["name"]
                assert DNS_1035.fullmatch(name) and len(name) <= (63 if doc["kind"] == "Deployment" else 50), name
            if args[0] == "405b-legal":
                assert docs[0]["metadata"]["name"] == "dsadvisor-405b-legal-vllm"


def test_notes_name_the_device_class_in_words(run):
    """A plan on a CPU said "the default for cpu GPUs" and "EPYC-9654 is an amd device"; on a Mac "the default for
    apple GPUs". The notes now say CPUs, Apple chips, and the vendor as written (AMD, Apple)."""
    for gpu, default, manifest in (("EPYC 9654", "the default for CPUs", "EPYC-9654 is a CPU"),
                                   ("M4 Max 32-core", "the default for Apple chips", "M4-Max-36GB is an Apple device"),
                                   ("MI300X", "the default for datacenter GPUs", "MI300X is an AMD device")):
        notes = plan_json(run, "deepseek-r1-distill-qwen-1.5b", "--gpu", gpu, "--k8s")["notes"]
        assert any(default in n for n in notes) and any(n.endswith(manifest) for n in notes), notes


def test_the_plan_command_of_a_detected_gpu_plans_on_what_was_free(run, monkeypatch):
    """`recommend --gpu auto` on an H100 with 40 GiB free printed `plan ... --gpu H100-SXM ...`, which plans vLLM
    at --gpu-memory-utilization 0.9 of the whole card (the server stops at start-up: half of it is taken), while
    the recommendation was judged on the free 40 GiB (0.45). It prints --gpu auto, which detects the same."""
    monkeypatch.setattr("dsadvisor.catalog.hardware.detect_gpus",
                        lambda: [DetectedGpu("NVIDIA H100 80GB HBM3", 81559, 40 * 1024)])
    r = run("recommend", "--gpu", "auto", "--engine", "vllm", "--top", "1", "-f", "json")
    assert r.code == 0 and r.json()["ranked"], r.err
    argv = shlex.split(r.json()["ranked"][0]["plan_command"])
    assert argv[3:5] == ["--gpu", "auto"], argv
    planned = run(*argv[1:], "-f", "json")
    assert planned.code == 0 and "--gpu-memory-utilization 0.45 " in planned.json()["commands"][0], planned.err
