"""Generate docs/bad-input.md: every bad input tests/test_bad_input.py tries, and the answer it gets.

    python docs/gen_bad_input.py          # rewrite docs/bad-input.md
    python docs/gen_bad_input.py --check  # exit 1 if docs/bad-input.md is out of date

``CASES`` is the table the test runs: each case is a command line, the exit code it must
get and a piece of text its one stderr line must hold. ``render()`` runs every case
through the CLI (in-process, in a scratch folder that ``make_files`` fills with the bad
files) and writes down what actually came back, so the page cannot drift from the code:
tests/test_bad_input.py compares it with the committed file.
"""

from __future__ import annotations

import contextlib
import io
import os
import shlex
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

OUT = Path(__file__).resolve().parent / "bad-input.md"
MODEL = "deepseek-r1-distill-qwen-7b"
LONG = "x" * 100_000  # a 100 KB name
LONG_SHOWN = "x" * 79 + "\u2026"  # all of it a message repeats (errors.SHOWN characters)


@dataclass(frozen=True)
class Case:
    id: str
    group: str
    argv: tuple[str, ...]
    code: int  # the documented exit code
    expect: str = ""  # text the stderr line must contain
    per_problem: str = ""  # catalog problems: one stderr line per problem, each naming this file
    env: tuple[tuple[str, str], ...] = ()
    no_gpu: bool = False  # --gpu auto on a machine without a GPU
    as_root_differs: bool = False  # root reads any file: skipped (and left out of the page) as root
    cache: str = ""  # a spoiled cache entry the run meets (see plant_cache); its one stderr line is a warning
    note: bool = False  # the run succeeds, and its one stderr line is a note (a bundled entry replaced)


def _c(id, group, *argv, code, expect="", **kw) -> Case:
    return Case(id=id, group=group, argv=tuple(argv), code=code, expect=expect, **kw)


E = ("estimate", MODEL, "--gpu", "H100", "-f", "json")  # a good estimate to spoil with one flag
R = ("recommend", "--gpu", "H100", "-f", "json")

NAMES, NUMBERS, TYPES, CONFLICTS, CATALOGS, CONFIGS, STRINGS, CACHE, GATES = (
    "Unknown names", "Numbers out of range", "Wrong types and usage", "Conflicting flags",
    "Catalog files", "config.json", "Long strings and control characters", "The catalog cache",
    "CI gates (check)")
SERVING = "Workloads and layouts the hardware or engine cannot serve"
R1_8 = ("deepseek-r1", "--gpu", "H200", "--gpus", "8", "--quant", "fp8")
G = ("gpus", "-f", "json")  # a run that loads the catalog (from the cache when it can)
NO_HOME = (("DSADVISOR_CACHE_DIR", ""), ("XDG_CACHE_HOME", ""), ("HOME", ""))
C = ("check", MODEL, "--gpu", "H100")  # a passing check to spoil with one flag

CASES: tuple[Case, ...] = (
    # ---------------------------------------------------------------- names (exit 3)
    _c("unknown-model", NAMES, "estimate", "deepseek-r1-distill-qwen-7bx", "--gpu", "H100", "-f", "json", code=3,
       expect="unknown model 'deepseek-r1-distill-qwen-7bx'; did you mean 'DeepSeek-R1-Distill-Qwen-7B'"),
    _c("unknown-ollama-tag", NAMES, "plan", "deepseek-r1:13b", "--gpu", "RTX 4090", "-f", "json", code=3,
       expect="unknown Ollama tag 'deepseek-r1:13b'; did you mean 'deepseek-r1:32b' or 'deepseek-r1:14b'"),
    _c("unknown-gpu", NAMES, *E[:3], "H100x", "-f", "json", code=3,
       expect="unknown GPU 'H100x'; did you mean 'H100'"),
    _c("unknown-engine", NAMES, *E, "--engine", "vllmm", code=3, expect="unknown engine 'vllmm'; did you mean 'vLLM'?"),
    _c("unknown-quant", NAMES, *E, "--quant", "awqq", code=3,
       expect="unknown quantization format 'awqq'; did you mean 'awq'?"),
    _c("unknown-kv-dtype", NAMES, *E, "--kv-dtype", "fp9", code=3,
       expect="unknown KV cache dtype 'fp9'; did you mean 'fp8'?"),
    _c("unknown-kv-dtype-recommend", NAMES, *R, "--kv-dtype", "xyz", code=3,
       expect="unknown KV cache dtype 'xyz' (choose from auto, bf16, fp16, fp8, q8_0, q4_0)"),
    _c("unknown-model-show", NAMES, "show", "deepseek-v9", "-f", "json", code=3, expect="unknown model 'deepseek-v9'"),
    _c("unknown-model-check", NAMES, "check", "deepseek-v9", "--gpu", "H100", code=3, expect="unknown model"),
    _c("unknown-model-plan", NAMES, "plan", "deepseek-v9", "--gpu", "H100", "-f", "json", code=3,
       expect="unknown model"),
    _c("unknown-engine-recommend", NAMES, *R, "--engine", "sglng", code=3, expect="unknown engine 'sglng'"),
    _c("unknown-quant-recommend", NAMES, *R, "--quant", "int3", code=3, expect="unknown quantization format 'int3'"),
    _c("ambiguous-gpu", NAMES, *R[:2], "A100", "-f", "json", code=2, expect="A100 comes in 40 and 80 GB"),
    _c("mac-without-ram", NAMES, *R[:2], "Apple M4 Max", "-f", "json", code=2,
       expect="M4 Max comes in 36, 48, 64 and 128 GB: give --ram"),
    _c("cpu-without-ram", NAMES, *R[:2], "cpu", "-f", "json", code=2,
       expect="--gpu cpu runs on system memory: give its size with --ram GB"),
    _c("unknown-gpu-recommend", NAMES, "recommend", "--gpu", "H100", "--gpu", "B300x", "-f", "json", code=3,
       expect="unknown GPU 'B300x'"),
    _c("empty-model-name", NAMES, "estimate", "", "--gpu", "H100", "-f", "json", code=2,
       expect="Invalid value for 'model': '' is blank"),
    _c("empty-gpu-name", NAMES, *E[:3], "", "-f", "json", code=2, expect="Invalid value for '--gpu': '' is blank"),
    _c("no-gpu-found", NAMES, *E[:3], "auto", "-f", "json", code=5, expect="--gpu auto found no GPU", no_gpu=True),
    # ---------------------------------------------------------------- numbers (exit 2)
    _c("vram-1e30", NUMBERS, "estimate", MODEL, "--vram", "1e30", "-f", "json", code=2,
       expect="--vram must be between 0.001 and 100000, not 1e+30"),
    _c("vram-nan", NUMBERS, "estimate", MODEL, "--vram", "nan", "-f", "json", code=2,
       expect="--vram must be a finite number, not nan"),
    _c("vram-inf", NUMBERS, "estimate", MODEL, "--vram", "inf", "-f", "json", code=2,
       expect="--vram must be a finite number, not inf"),
    _c("vram-negative", NUMBERS, "estimate", MODEL, "--vram", "-24", "-f", "json", code=2, expect="--vram must be"),
    _c("vram-zero", NUMBERS, "recommend", "--vram", "0", "-f", "json", code=2, expect="--vram must be"),
    _c("context-negative", NUMBERS, *E, "--context", "-1", code=2, expect="--context must be between 1 and"),
    _c("context-zero", NUMBERS, *R, "--context", "0", code=2, expect="--context must be between 1 and"),
    _c("context-huge", NUMBERS, *E, "--context", "99999999999999999999999", code=2, expect="--context must be"),
    _c("prompt-over-context", NUMBERS, *E, "--context", "4096", "--prompt-tokens", "5000", code=2,
       expect="--prompt-tokens 5000 exceeds --context 4096"),
    _c("gpus-zero", NUMBERS, *E, "--gpus", "0", code=2, expect="--gpus must be between 1 and"),
    _c("gpus-negative", NUMBERS, *R, "--gpus", "-8", code=2, expect="--gpus must be between 1 and"),
    _c("gpus-absurd", NUMBERS, *E, "--gpus", "1000000", code=2, expect="--gpus must be between 1 and"),
    _c("batch-zero", NUMBERS, *E, "--concurrency", "0", code=2, expect="--concurrency must be between 1 and"),
    _c("batch-absurd", NUMBERS, *R, "--batch", "10000000", code=2, expect="--concurrency must be between 1 and"),
    _c("max-ttft-negative", NUMBERS, *R, "--max-ttft", "-1", code=2, expect="--max-ttft must be greater than 0"),
    _c("max-ttft-nan", NUMBERS, *R, "--max-ttft", "nan", code=2, expect="--max-ttft must be a finite number"),
    _c("max-token-latency-zero", NUMBERS, *R, "--max-token-latency", "0", code=2,
       expect="--max-token-latency must be greater than 0"),
    _c("min-tokens-inf", NUMBERS, "check", MODEL, "--gpu", "H100", "--min-tokens-per-s", "inf", code=2,
       expect="--min-tokens-per-s must be a finite number"),
    _c("min-accuracy-101", NUMBERS, *R, "--min-accuracy", "101", "--task", "math", code=2,
       expect="--min-accuracy must be between 0 and 100, not 101"),
    _c("min-accuracy-negative", NUMBERS, *R, "--min-accuracy", "-5", "--benchmark", "mmlu", code=2,
       expect="--min-accuracy must be between 0 and 100"),
    _c("memory-fraction-1.5", NUMBERS, *E, "--memory-fraction", "1.5", code=2,
       expect="--memory-fraction must be greater than 0 and at most 1, not 1.5"),
    _c("memory-fraction-zero", NUMBERS, *E, "--memory-fraction", "0", code=2, expect="--memory-fraction must be"),
    _c("memory-fraction-nan", NUMBERS, *E, "--memory-fraction", "nan", code=2,
       expect="--memory-fraction must be a finite number"),
    _c("max-params-negative", NUMBERS, *R, "--max-params", "-7", code=2, expect="--max-params must be greater than 0"),
    _c("top-zero", NUMBERS, *R, "--top", "0", code=2, expect="--top must be between 1 and 1e+06, not 0"),
    _c("min-params-negative", NUMBERS, "models", "--min-params", "-1", "-f", "json", code=2,
       expect="--min-params must be between 0 and 1e+06, not -1"),
    _c("params-range-inverted", NUMBERS, "models", "--min-params", "100", "--max-params", "1", "-f", "json", code=2,
       expect="--min-params 100 is larger than --max-params 1"),
    _c("dp-attention-not-divisor", NUMBERS, "estimate", "deepseek-r1", "--gpu", "H200", "--tp", "8",
       "--dp-attention", "3", "--engine", "sglang", "--quant", "fp8", "-f", "json", code=2,
       expect="--dp-attention 3 must divide --tp 8"),
    _c("dp-attention-dense", NUMBERS, *E, "--dp-attention", "2", "--gpus", "2", code=2,
       expect="data-parallel attention needs a mixture-of-experts model"),
    _c("limits-no-layout-meets", SERVING, "layouts", *R1_8, "--max-ttft", "0.01", "--max-token-latency", "2",
       "-f", "json", code=1, expect="no layout of 8 x H200-SXM meets the limits: the smallest TTFT reachable is "),
    _c("trtllm-nodes-path-with-a-blank", SERVING, "plan", "--config", "my model", "--gpu", "H100", "--gpus", "16",
       "--tp", "8", "--pp", "2", "--engine", "tensorrt-llm", "-f", "json", code=2,
       expect="TensorRT-LLM over several nodes cannot serve 'my model': trtllm-llmapi-launch splits its command"),
    _c("layout-the-engine-cannot-launch", SERVING, "estimate", *R1_8, "--engine", "tensorrt-llm",
       "--dp-attention", "2", "-f", "json", code=2,
       expect="TensorRT-LLM's enable_attention_dp splits attention over all --tp 8 ranks: --dp-attention must be "
              "8 (or 1), not 2"),
    _c("mtp-without-mtp-layer", NUMBERS, "estimate", "deepseek-r1-distill-qwen-7b", "--gpu", "H100", "--mtp", "1",
       "-f", "json", code=2, expect="--mtp needs a model that ships a multi-token-prediction layer"),
    _c("mtp-too-many-drafts", NUMBERS, "estimate", "deepseek-r1", "--gpu", "H200", "--gpus", "8", "--quant", "fp8",
       "--mtp", "4", "-f", "json", code=2, expect="--mtp must be between 0 and 3, not 4"),
    _c("tp-times-pp-not-gpus", NUMBERS, *E, "--gpus", "8", "--tp", "4", code=2,
       expect="--tp 4 x --pp 1 is 4 GPUs, not --gpus 8"),
    _c("plan-tp-over-gpus", NUMBERS, "plan", "deepseek-r1", "--gpu", "H200", "--gpus", "8", "--tp", "16",
       "-f", "json", code=2, expect="--tp 16 x --pp 1 is 16 GPUs, more than --gpus 8"),
    _c("plan-concurrency-over-kv-cache", NUMBERS, "plan", "deepseek-r1", "--gpu", "H200", "--gpus", "8",
       "--quant", "fp8", "--context", "16384", "--concurrency", "512", "--engine", "sglang", "--exact-concurrency",
       "-f", "json", code=1, expect="serves 512 concurrent requests: the KV cache of 8 x H200-SXM holds"),
    _c("plan-layout-the-engine-cannot-run", NUMBERS, "plan", "deepseek-r1", "--gpu", "H200", "--gpus", "8",
       "--quant", "fp8", "--tp", "8", "--dp-attention", "4", "--engine", "tensorrt-llm", "-f", "json", code=1,
       expect="--dp-attention must be 8 (or 1), not 4"),
    _c("plan-model-no-engine-serves", NUMBERS, "plan", "deepseek-vl-7b-chat", "--gpu", "L40S", "-f", "json", code=1,
       expect="no engine in the catalog can serve deepseek-vl-7b-chat"),
    _c("check-limits-no-layout-meets", SERVING, "check", "deepseek-r1", "--gpu", "H200", "--gpus", "8", "--quant",
       "fp8", "--concurrency", "128", "--max-ttft", "0.01", "-f", "json", code=1,
       expect="check failed: DSA005 time to first token"),
    _c("context-and-output-tokens", NUMBERS, *R, "--context", "4096", "--output-tokens", "512", code=2,
       expect="give --context or --output-tokens, not both"),
    # ---------------------------------------------------------------- types and usage (exit 2)
    _c("gpus-two", TYPES, *E, "--gpus", "two", code=2, expect="Invalid value for '--gpus'"),
    _c("context-8k", TYPES, *R, "--context", "8k", code=2, expect="Invalid value for '--context'"),
    _c("context-float", TYPES, *E, "--context", "1e9", code=2, expect="Invalid value for '--context'"),
    _c("batch-fraction", TYPES, *E, "--batch", "1.5", code=2, expect="Invalid value for '--concurrency' / '--batch'"),
    _c("vram-word", TYPES, "estimate", MODEL, "--vram", "lots", "-f", "json", code=2,
       expect="Invalid value for '--vram'"),
    _c("vram-empty", TYPES, "estimate", MODEL, "--vram", "", "-f", "json", code=2, expect="Invalid value for '--vram'"),
    _c("format-xml", TYPES, "estimate", MODEL, "--gpu", "H100", "-f", "xml", code=2,
       expect="Invalid value for '--format'"),
    _c("unknown-command", TYPES, "estimat", MODEL, code=2, expect="No such command 'estimat'"),
    _c("unknown-option", TYPES, *E, "--gpux", "H100", code=2, expect="No such option: --gpux"),
    _c("missing-option-value", TYPES, "estimate", MODEL, "--gpu", code=2, expect="requires an argument"),
    _c("validate-no-files", TYPES, "catalog", "validate", code=2, expect="Missing argument"),
    _c("task-misspelt", TYPES, *R, "--task", "maths", code=2, expect="did you mean 'math'?"),
    _c("task-vision", TYPES, *R, "--task", "vision", code=2, expect="`dsadvisor models --task vision` lists them"),
    _c("prefer-unknown", TYPES, *R, "--prefer", "fastest", code=2, expect="--prefer 'fastest' is not one of"),
    _c("status-unknown", TYPES, "models", "--status", "retired", "-f", "json", code=2,
       expect="--status 'retired' is not one of released, described"),
    _c("gpu-category-unknown", TYPES, "gpus", "--category", "laptop", "-f", "json", code=2,
       expect="--category 'laptop' is not one of datacenter, workstation, consumer, edge, apple, mobile, cpu"),
    _c("gpu-category-misspelt", TYPES, "gpus", "--category", "consumr", "-f", "json", code=2,
       expect="did you mean 'consumer'?"),
    _c("audit-kind-unknown", TYPES, "catalog", "audit", "--kind", "conflicts", "-f", "json", code=2,
       expect="did you mean 'conflict'?"),
    # ---------------------------------------------------------------- conflicting flags (exit 2)
    _c("model-and-config", CONFLICTS, "estimate", MODEL, "--config", "llama.json", "--gpu", "H100", "-f", "json",
       code=2, expect="give a MODEL or --config, not both"),
    _c("neither-model-nor-config", CONFLICTS, "estimate", "--gpu", "H100", "-f", "json", code=2,
       expect="give a MODEL"),
    _c("neither-gpu-nor-vram", CONFLICTS, "estimate", MODEL, "-f", "json", code=2, expect="give --gpu NAME"),
    _c("min-accuracy-alone", CONFLICTS, *R, "--min-accuracy", "80", code=2,
       expect="--min-accuracy needs --benchmark NAME or --task TASK"),
    _c("several-gpus-with-vram", CONFLICTS, "recommend", "--gpu", "A100", "--gpu", "H100", "--vram", "40", "-f", "json",
       code=2, expect="--vram applies to one --gpu"),
    _c("offload-without-llama-cpp", CONFLICTS, "plan", "deepseek-v3", "--gpu", "RTX-3060", "--engine", "vllm",
       "--offload", "-f", "json", code=2, expect="--offload keeps layers in CPU memory with llama.cpp"),
    _c("engine-cannot-split", CONFLICTS, *E, "--engine", "transformers", "--gpus", "16", code=2,
       expect="does not run across nodes"),
    _c("format-engine-does-not-run-here", CONFLICTS, "estimate", MODEL, "--gpu", "V100", "--vram", "32", "--quant",
       "awq-int4", "-f", "json", code=2, expect="vLLM runs AWQ on NVIDIA GPUs from Turing (SM 7.5)"),
    _c("plan-format-no-engine-runs-here", CONFLICTS, "plan", "deepseek-r1", "--gpu", "H100", "--gpus", "8", "--quant",
       "nvfp4", "-f", "json", code=2,
       expect="no engine runs nvfp4 weights on H100-SXM: nvfp4 needs fp4 hardware support, which NVIDIA H100 SXM5 80GB "
              "lacks; try --quant"),
    _c("plan-format-no-engine-runs-on-a-mac", CONFLICTS, "plan", MODEL, "--gpu", "M2-Ultra", "--quant", "fp8", "-f",
       "json", code=2, expect="no engine runs fp8 weights on M2-Ultra-192GB: vLLM does not run on Apple M2 Ultra"),
    _c("bf16-kv-without-bf16", CONFLICTS, "estimate", MODEL, "--gpu", "T4", "--quant", "fp16", "--kv-dtype", "bf16",
       "-f", "json", code=2, expect="NVIDIA Tesla T4 has no bf16: the KV cache is fp16 there"),
    # ---------------------------------------------------------------- catalog files (exit 4)
    _c("catalog-missing", CATALOGS, *R, "--catalog", "missing.yaml", code=4,
       expect="missing.yaml: no such file or directory"),
    _c("catalog-under-missing-dir", CATALOGS, *R, "--catalog", "no-such-dir/my.yaml", code=4,
       expect="no-such-dir/my.yaml: no such file or directory"),
    _c("catalog-env-missing", CATALOGS, *R, code=4, expect="missing.yaml: no such file or directory",
       env=(("DSADVISOR_CATALOG", "missing.yaml"),)),
    _c("catalog-unreadable", CATALOGS, *R, "--catalog", "unreadable.yaml", code=4,
       expect="unreadable.yaml: cannot read: Permission denied", as_root_differs=True),
    _c("catalog-empty-dir", CATALOGS, *R, "--catalog", "empty-dir", code=4,
       expect="empty-dir: folder holds no .yaml or .yml file"),
    _c("validate-empty-dir", CATALOGS, "catalog", "validate", "empty-dir", "-f", "json", code=4,
       expect="empty-dir: folder holds no .yaml or .yml file", per_problem="empty-dir"),
    _c("catalog-not-utf8", CATALOGS, *R, "--catalog", "latin1.yaml", code=4,
       expect="latin1.yaml: not UTF-8 text (byte 34)"),
    _c("validate-not-utf8", CATALOGS, "catalog", "validate", "latin1.yaml", "-f", "json", code=4,
       expect="latin1.yaml: not UTF-8 text", per_problem="latin1.yaml"),
    _c("validate-nul-byte", CATALOGS, "catalog", "validate", "nul.yaml", "-f", "json", code=4,
       expect="nul.yaml: invalid YAML: unacceptable character #x0000", per_problem="nul.yaml"),
    _c("validate-empty-file", CATALOGS, "catalog", "validate", "empty.yaml", "-f", "json", code=0),
    _c("catalog-empty-file", CATALOGS, *R, "--top", "1", "--catalog", "empty.yaml", code=0),
    _c("validate-top-level-list", CATALOGS, "catalog", "validate", "list.yaml", "-f", "json", code=4,
       expect="list.yaml: top level must be a mapping", per_problem="list.yaml"),
    _c("validate-top-level-text", CATALOGS, "catalog", "validate", "text.yaml", "-f", "json", code=4,
       expect="text.yaml: top level must be a mapping", per_problem="text.yaml"),
    _c("validate-section-not-a-list", CATALOGS, "catalog", "validate", "models-number.yaml", "-f", "json", code=4,
       expect="models-number.yaml: field models:", per_problem="models-number.yaml"),
    _c("validate-entries-not-mappings", CATALOGS, "catalog", "validate", "models-scalars.yaml", "-f", "json", code=4,
       expect="models-scalars.yaml: models[1]", per_problem="models-scalars.yaml"),
    _c("catalog-entries-not-mappings", CATALOGS, *R, "--catalog", "models-scalars.yaml", code=4,
       expect="models-scalars.yaml: models[0]", per_problem="models-scalars.yaml"),
    _c("validate-missing-and-misspelt", CATALOGS, "catalog", "validate", "two-problems.yaml", "-f", "json", code=4,
       expect="field architecture.hiden_size: unknown field; did you mean 'hidden_size'?",
       per_problem="two-problems.yaml"),
    _c("estimate-with-bad-catalog", CATALOGS, *E, "--catalog", "two-problems.yaml", code=4,
       expect="field architecture.hidden_size: required field is missing", per_problem="two-problems.yaml"),
    _c("validate-syntax-error", CATALOGS, "catalog", "validate", "syntax.yaml", "-f", "json", code=4,
       expect="syntax.yaml:2:1: invalid YAML", per_problem="syntax.yaml"),
    _c("validate-schema-version-2", CATALOGS, "catalog", "validate", "future.yaml", "-f", "json", code=4,
       expect="unsupported schema_version 2", per_problem="future.yaml"),
    _c("validate-dangling-architecture-from", CATALOGS, "catalog", "validate", "dangling.yaml", "-f", "json", code=4,
       expect="field architecture_from: no model with id 'no-such-model'", per_problem="dangling.yaml"),
    _c("validate-artifact-size-contradicts", CATALOGS, "catalog", "validate", "artifact-size.yaml", "-f", "json",
       code=4, expect="artifacts (id acme-7b-awq): field size_bytes: 50,000,000,000 bytes contradicts the architecture",
       per_problem="artifact-size.yaml"),
    _c("estimate-with-artifact-size-contradicting", CATALOGS, *E, "--catalog", "artifact-size.yaml", code=4,
       expect="field size_bytes: 50,000,000,000 bytes contradicts the architecture", per_problem="artifact-size.yaml"),
    _c("validate-artifact-unknown-format", CATALOGS, "catalog", "validate", "artifact-format.yaml", "-f", "json",
       code=4, expect="artifacts (id acme-7b-awq): field format: no format 'awq4'", per_problem="artifact-format.yaml"),
    _c("validate-duplicate-id", CATALOGS, "catalog", "validate", "duplicate-id.yaml", "-f", "json", code=4,
       expect="models[1] (id acme-7b): field id: already used by an earlier entry in this file",
       per_problem="duplicate-id.yaml"),
    _c("validate-duplicate-key", CATALOGS, "catalog", "validate", "duplicate-key.yaml", "-f", "json", code=4,
       expect="duplicate-key.yaml:8:1: key 'models' appears twice in one mapping", per_problem="duplicate-key.yaml"),
    _c("validate-impossible-date", CATALOGS, "catalog", "validate", "bad-date.yaml", "-f", "json", code=4,
       expect="bad-date.yaml: invalid YAML value: month must be in 1..12", per_problem="bad-date.yaml"),
    _c("validate-infinite-memory", CATALOGS, "catalog", "validate", "inf-gpu.yaml", "-f", "json", code=4,
       expect="field memory_gb: Input should be a finite number", per_problem="inf-gpu.yaml"),
    _c("catalog-huge-figures", CATALOGS, "gpus", "--catalog", "huge-gpu.yaml", "-f", "json", code=4,
       expect="huge-gpu.yaml: gpus[0] (id X-1): field memory_gb: Input should be less than or equal to 1000000",
       per_problem="huge-gpu.yaml"),
    _c("estimate-with-huge-param-count", CATALOGS, "estimate", "acme-huge", "--gpu", "H100", "--catalog",
       "huge-params.yaml", "-f", "json", code=4,
       expect="models[0] (id acme-huge): field params.0.total: Input should be less than or equal to 1000000000000000",
       per_problem="huge-params.yaml"),
    _c("validate-misplaced-top-level-key", CATALOGS, "catalog", "validate", "top-conflicts.yaml", "-f", "json",
       code=4, expect="field conflicts: unknown field; a file's top level holds schema_version, sources, models",
       per_problem="top-conflicts.yaml"),
    _c("catalog-folder-of-1001-files", CATALOGS, *R, "--catalog", "many-yaml", code=4,
       expect="many-yaml: folder holds more than 1,000 YAML files; name a smaller catalog folder"),
    _c("catalog-1200-files-in-two-entries", CATALOGS, *R, "--catalog", "600-yaml-b", code=4,
       env=(("DSADVISOR_CATALOG", "600-yaml-a"),),
       expect="600-yaml-b: with the 600 YAML files named before it (--catalog and $DSADVISOR_CATALOG), more than "
              "1,000 YAML files in all"),
    _c("validate-100-bad-entries", CATALOGS, "catalog", "validate", "100-bad.yaml", "-f", "json", code=4,
       expect="100-bad.yaml: 80 more problems not shown (only the first 20 are); fix those and validate again",
       per_problem="100-bad.yaml"),
    _c("validate-absurd-layers", CATALOGS, "catalog", "validate", "absurd-layers.yaml", "-f", "json", code=4,
       expect="num_hidden_layers is larger than 2,147,483,647", per_problem="absurd-layers.yaml"),
    _c("validate-hf-repo-shell-code", CATALOGS, "catalog", "validate", "hostile-repo.yaml", "-f", "json", code=4,
       expect="models[0] (id acme-x): field hf_repo: 'acme/x$(touch pwned)' is not a Hugging Face repo id: "
              "it holds '$'", per_problem="hostile-repo.yaml"),
    _c("plan-with-hf-repo-shell-code", CATALOGS, "plan", "acme-x", "--gpu", "H100", "--quant", "awq-int4",
       "--catalog", "hostile-repo.yaml", "-f", "json", code=4,
       expect="field hf_repo: 'acme/x$(touch pwned)' is not a Hugging Face repo id", per_problem="hostile-repo.yaml"),
    _c("validate-hf-repo-two-slashes", CATALOGS, "catalog", "validate", "nested-repo.yaml", "-f", "json", code=4,
       expect="field hf_repo: 'acme/x/y' is not a Hugging Face repo id: it has more than one '/'",
       per_problem="nested-repo.yaml"),
    _c("validate-architecture-from-cycle", CATALOGS, "catalog", "validate", "cycle.yaml", "-f", "json", code=4,
       expect="models (id acme-a): field architecture_from: a cycle, acme-a -> acme-b -> acme-a",
       per_problem="cycle.yaml"),
    _c("validate-architecture-from-itself", CATALOGS, "catalog", "validate", "self-cycle.yaml", "-f", "json", code=4,
       expect="models (id acme-c): field architecture_from: a cycle, acme-c -> acme-c", per_problem="self-cycle.yaml"),
    _c("check-with-architecture-from-cycle", CATALOGS, "check", "acme-a", "--gpu", "H100", "--catalog", "cycle.yaml",
       code=4, expect="a cycle, acme-a -> acme-b -> acme-a; one of them needs an architecture",
       per_problem="cycle.yaml"),
    _c("catalog-replaces-a-bundled-gpu", CATALOGS, "check", "deepseek-v3", "--gpu", "H100", code=0, note=True,
       env=(("DSADVISOR_CATALOG", "big-h100.yaml"),), expect="note: big-h100.yaml replaces the bundled gpu 'H100-SXM'"),
    _c("catalog-folder-with-a-name-not-utf8", CATALOGS, *G, "--catalog", "not-utf8-name", code=0),
    _c("validate-a-directory-named-yaml", CATALOGS, "catalog", "validate", "folder.yaml", "-f", "json", code=4,
       expect="folder.yaml: folder holds no .yaml or .yml file", per_problem="folder.yaml"),
    # ---------------------------------------------------------------- config.json (exit 2)
    _c("config-dir-without-config", CONFIGS, "estimate", "--config", "model-dir", "--gpu", "H100", "-f", "json",
       code=2, expect="model-dir/config.json: no such file"),
    _c("config-under-missing-dir", CONFIGS, "check", "--config", "no-such-dir/config.json", "--gpu", "H100", code=2,
       expect="no-such-dir/config.json: no such file"),
    _c("config-not-utf8", CONFIGS, "estimate", "--config", "latin1-model", "--gpu", "H100", "-f", "json", code=2,
       expect="latin1-model/config.json: not a JSON config (UnicodeDecodeError"),
    _c("config-not-json", CONFIGS, "estimate", "--config", "not-json.json", "--gpu", "H100", "-f", "json", code=2,
       expect="not-json.json: not a JSON config (JSONDecodeError"),
    _c("config-json-list", CONFIGS, "estimate", "--config", "list.json", "--gpu", "H100", "-f", "json", code=2,
       expect="list.json: a config.json holds a JSON object"),
    _c("config-json-null", CONFIGS, "plan", "--config", "null.json", "--gpu", "H100", "-f", "json", code=2,
       expect="null.json: a config.json holds a JSON object"),
    _c("config-no-keys", CONFIGS, "estimate", "--config", "empty-object.json", "--gpu", "H100", "-f", "json", code=2,
       expect="empty-object.json: config.json has no 'model_type'"),
    _c("config-missing-keys", CONFIGS, "estimate", "--config", "model-type-only.json", "--gpu", "H100", "-f", "json",
       code=2, expect="config.json (llama) has no 'num_hidden_layers'"),
    _c("config-wrong-type", CONFIGS, "estimate", "--config", "string-vocab.json", "--gpu", "H100", "-f", "json",
       code=2, expect="config.json key 'vocab_size' must be an integer, not '32000'"),
    _c("config-zero-heads", CONFIGS, "estimate", "--config", "zero-heads.json", "--gpu", "H100", "-f", "json", code=2,
       expect="'num_attention_heads' must be at least 1, not 0"),
    _c("config-infinite-size", CONFIGS, "estimate", "--config", "inf-hidden.json", "--gpu", "H100", "-f", "json",
       code=2, expect="config.json key 'hidden_size' must be an integer, not inf"),
    _c("config-zero-vocabulary", CONFIGS, "estimate", "--config", "zero-vocab.json", "--gpu", "H100", "-f", "json",
       code=2, expect="zero-vocab.json: config.json (llama): field vocab_size: Input should be greater than 0"),
    _c("config-heads-not-a-multiple", CONFIGS, "estimate", "--config", "five-kv-heads.json", "--gpu", "H100", "-f",
       "json", code=2,
       expect="five-kv-heads.json: config.json (llama): num_attention_heads must be a multiple of num_key_value_heads"),
    _c("config-absurd-layers", CONFIGS, "check", "--config", "absurd-layers.json", "--gpu", "H100", code=2,
       expect="num_hidden_layers is larger than 2,147,483,647"),
    _c("config-5000-digit-number", CONFIGS, "estimate", "--config", "digits.json", "--gpu", "H100", "-f", "json",
       code=2, expect="digits.json: not a JSON config (ValueError: Exceeds the limit (4300 digits) for integer string "
                      "conversion: value has 5000 digits)"),  # whole, not cut mid-word at 80 characters
    _c("config-nested-too-deep", CONFIGS, "estimate", "--config", "deep.json", "--gpu", "H100", "-f", "json", code=2,
       expect="deep.json: not a JSON config (RecursionError: nested too deeply)"),
    _c("offload-needs-more-memory-than-any-machine", CONFIGS, "plan", "--config", "huge-layers.json", "--gpu", "H100",
       "--offload", "--k8s", "-f", "json", code=2,
       expect="(-ngl 0) need 1.27e+13 GB of weights and KV cache, more than the 64 TiB any machine has"),
    _c("config-too-big", CONFIGS, "estimate", "--config", "huge.json", "--gpu", "H100", "-f", "json", code=2,
       expect="huge.json: larger than 4,194,304 bytes; not a config.json"),
    # ---------------------------------------------------------------- long strings, control characters
    _c("model-name-100kb", STRINGS, "estimate", LONG, "--gpu", "H100", "-f", "json", code=3,
       expect=f"unknown model '{LONG_SHOWN}' (100,000 characters)"),
    _c("gpu-name-100kb", STRINGS, *E[:3], LONG, "-f", "json", code=3,
       expect=f"unknown GPU '{LONG_SHOWN}' (100,000 characters)"),
    _c("kv-dtype-100kb", STRINGS, *E, "--kv-dtype", LONG, code=3,
       expect=f"unknown KV cache dtype '{LONG_SHOWN}' (100,000 characters)"),
    _c("status-100kb", STRINGS, "models", "--status", LONG, "-f", "json", code=2,
       expect=f"--status '{LONG_SHOWN}' (100,000 characters) is not one of released, described"),
    _c("family-100kb", STRINGS, "models", "--family", LONG, "-f", "json", code=3,
       expect=f"unknown family '{LONG_SHOWN}' (100,000 characters)"),
    _c("catalog-path-100kb", STRINGS, *R, "--catalog", LONG, code=4,
       expect=f"{LONG_SHOWN} (100,000 characters): cannot read: File name too long"),
    _c("config-path-100kb", STRINGS, "estimate", "--config", LONG, "--gpu", "H100", "-f", "json", code=2,
       expect=f"{LONG_SHOWN} (100,000 characters): cannot read: File name too long"),
    _c("validate-path-100kb", STRINGS, "catalog", "validate", LONG, "-f", "json", code=4,
       expect=f"{LONG_SHOWN} (100,000 characters): cannot read: File name too long", per_problem="xxxxxxxx"),
    _c("benchmark-100kb", STRINGS, "check", MODEL, "--gpu", "H100", "--benchmark", LONG, "--min-accuracy", "50",
       code=3, expect=f"unknown benchmark '{LONG_SHOWN}' (100,000 characters)"),
    _c("model-name-newline", STRINGS, "show", "deepseek\nv9", "-f", "json", code=3,
       expect="unknown model 'deepseek\\nv9'"),
    _c("catalog-path-newline", STRINGS, *R, "--catalog", "new\nline.yaml", code=4,
       expect="new\\nline.yaml: no such file or directory"),
    _c("config-path-newline", STRINGS, "estimate", "--config", "new\nline.json", "--gpu", "H100", "-f", "json", code=2,
       expect="new\\nline.json: no such file"),
    _c("benchmark-newline", STRINGS, "check", MODEL, "--gpu", "H100", "--benchmark", "mm\nlu", "--min-accuracy", "50",
       code=3, expect="unknown benchmark 'mm\\nlu'"),
    _c("option-newline", STRINGS, *E, "--gp\nu", "H100", code=2, expect="No such option"),
    _c("escape-sequence-in-name", STRINGS, "show", "\x1b[31mred", "-f", "json", code=3,
       expect="unknown model '\\x1b[31mred'"),
    _c("line-separator-in-path", STRINGS, *R, "--catalog", "a\u2028b.yaml", code=4,
       expect="a\\u2028b.yaml: no such file or directory"),
    # ---------------------------------------------------------------- the catalog cache (exit 0 and a warning)
    _c("cache-entry-corrupt", CACHE, *G, code=0, cache="x80x63",
       expect="does not unpickle (ValueError); ignored, the catalog is rebuilt"),
    _c("cache-entry-truncated", CACHE, *G, code=0, cache="truncated", expect="does not unpickle"),
    _c("cache-entry-fifo", CACHE, *G, code=0, cache="fifo", expect="is not a regular file; ignored"),
    _c("cache-entry-symlink-to-stdin", CACHE, *G, code=0, cache="symlink", expect="is a symbolic link; ignored"),
    _c("cache-entry-mode-0644", CACHE, *G, code=0, cache="0644", expect="has mode 0644, not 0600; ignored"),
    _c("cache-folder-mode-0755", CACHE, *G, code=0, cache="folder-0755",
       expect="has mode 0755, not 0700 (the folder must be this user's own, mode 0700)"),
    _c("cache-home-empty", CACHE, *G, code=0, env=NO_HOME),
    _c("cache-home-and-xdg-relative", CACHE, *G, code=0,
       env=(("DSADVISOR_CACHE_DIR", ""), ("XDG_CACHE_HOME", "xdg"), ("HOME", "home"))),
)


CASES += (
    # ---------------------------------------------------------------- a gate never passes on a mistake
    _c("license-empty", GATES, *C, "--license", "", code=2,
       expect="Invalid value for '--license': '' is blank; give a value (an unset shell variable?)"),
    _c("license-blank", GATES, *C, "--license", "  ", code=2, expect="Invalid value for '--license': '  ' is blank"),
    _c("license-substring", GATES, *C, "--license", "i", code=3,
       expect="unknown license 'i'; did you mean 'MIT' or 'DeepSeek Model License'?"),
    _c("license-misspelt", GATES, *C, "--license", "mitt", code=3,
       expect="unknown license 'mitt'; did you mean 'MIT'?"),
    _c("license-other-case", GATES, *C, "--license", "mit", code=0),
    _c("license-not-the-models", GATES, *C, "--license", "deepseek model license", code=1,
       expect="check failed: DSA010 license MIT is not one of deepseek model license"),
    _c("benchmark-misspelt", GATES, *C, "--benchmark", "gqpa", "--min-accuracy", "95", "--allow-unknown", code=3,
       expect="unknown benchmark 'gqpa'; did you mean 'gpqa'?"),
    _c("benchmark-empty", GATES, *C, "--benchmark", "", "--task", "math", "--min-accuracy", "1", code=2,
       expect="Invalid value for '--benchmark': '' is blank"),
    _c("benchmark-unscored", GATES, "check", "deepseek-coder-6.7b-instruct", "--gpu", "H100", "--benchmark", "aime24",
       "--min-accuracy", "10", code=6,
       expect="check undetermined: DSA009 no aime24 score in the catalog for deepseek-coder-6.7b-instruct"),
    _c("benchmark-unscored-allowed", GATES, "check", "deepseek-coder-6.7b-instruct", "--gpu", "H100", "--benchmark",
       "aime24", "--min-accuracy", "10", "--allow-unknown", code=0),
    _c("speed-unknown", GATES, "check", MODEL, "--catalog", "unrated-gpu.yaml", "--gpu", "My-NPU", "--max-ttft", "5",
       code=6, expect="check undetermined: DSA005 time to first token unknown (no rate in the catalog for this GPU)"),
    _c("speed-unknown-allowed", GATES, "check", MODEL, "--catalog", "unrated-gpu.yaml", "--gpu", "My-NPU",
       "--max-ttft", "5", "--allow-unknown", code=0),
    _c("catalog-empty-path", GATES, *C, "--catalog", "", code=2, expect="Invalid value for '--catalog': '' is blank"),
    _c("config-empty-path", GATES, "check", "--config", "", "--gpu", "H100", code=2,
       expect="Invalid value for '--config': '' is blank"),
    _c("engine-empty", GATES, *C, "--engine", "", code=2, expect="Invalid value for '--engine': '' is blank"),
    _c("family-empty", GATES, *R, "--family", "", code=2, expect="Invalid value for '--family': '' is blank"),
    _c("max-params-1e300", GATES, *R, "--max-params", "1e300", code=2,
       expect="--max-params must be greater than 0 and at most 1e+06, not 1e+300"),
    _c("max-ttft-1e300", GATES, *C, "--max-ttft", "1e300", code=2,
       expect="--max-ttft must be greater than 0 and at most 1e+06, not 1e+300"),
    _c("min-tokens-1e300", GATES, *C, "--min-tokens-per-s", "1e300", code=2,
       expect="--min-tokens-per-s must be greater than 0 and at most 1e+09, not 1e+300"),
    _c("min-total-tokens-1e300", GATES, *C, "--min-total-tokens-per-s", "1e300", code=2,
       expect="--min-total-tokens-per-s must be greater than 0 and at most 1e+12, not 1e+300"),
    _c("token-latency-1e300", GATES, *C, "--max-token-latency", "1e300", code=2,
       expect="--max-token-latency must be greater than 0 and at most 1e+09, not 1e+300"),
    _c("ram-beyond-any-machine", GATES, *C, "--ram", "1e6", code=2,
       expect="--ram must be between 0.001 and 70368.7, not 1e+06"),
    _c("top-1e9", GATES, *R, "--top", "1000000000", code=2, expect="--top must be between 1 and 1e+06"),
)


# ------------------------------------------------------------------ files

SMALL_MODEL = """\
  - id: acme-7b
    name: Acme-7B
    status: released
    family: acme
    source: my model card
    architecture_from: deepseek-r1-distill-qwen-7b
"""
LLAMA = {"model_type": '"llama"', "hidden_size": "4096", "num_hidden_layers": "32", "num_attention_heads": "32",
         "vocab_size": "32000", "intermediate_size": "11008", "max_position_embeddings": "4096"}


def _llama(**changes: str) -> str:
    """A small Llama config.json with some values replaced by raw JSON text (1e400 is legal JSON)."""
    return "{" + ", ".join(f'"{k}": {v}' for k, v in {**LLAMA, **changes}.items()) + "}\n"


def _borrowing(model_id: str, borrows: str) -> str:
    """A described model that takes its shape from ``borrows``."""
    return (f"  - id: {model_id}\n    name: {model_id.title()}\n    status: described\n    family: acme\n"
            f"    source: my model card\n    architecture_from: {borrows}\n")


# A 7B distill's AWQ checkpoint: its weights compute to about 5.5 GB, so 50 GB contradicts them.
ARTIFACT = ("artifacts:\n  - id: acme-7b-awq\n    model: deepseek-r1-distill-qwen-7b\n    format: awq-int4\n"
            "    repo: acme/DeepSeek-R1-Distill-Qwen-7B-AWQ\n    size_bytes: SIZE\n    engines: [vllm]\n"
            "    source: https://huggingface.co/acme/DeepSeek-R1-Distill-Qwen-7B-AWQ\n")


def make_files(root: Path) -> None:
    """The bad files the cases name, under ``root`` (the cases run with it as the working folder)."""
    text = {
        "empty.yaml": "",
        "list.yaml": "- models\n- gpus\n",
        "text.yaml": "just some text\n",
        "models-number.yaml": "models: 5\n",
        "models-scalars.yaml": "models: [5, acme]\n",
        "syntax.yaml": "models: [\n",
        "future.yaml": "schema_version: 2\n",
        "two-problems.yaml": (
            "models:\n  - id: acme-7b\n    name: Acme-7B\n    status: released\n    family: acme\n"
            "    source: my model card\n    architecture:\n      source: config.json\n      model_type: qwen2\n"
            "      num_hidden_layers: 28\n      hiden_size: 3584\n      intermediate_size: 18944\n"
            "      vocab_size: 152064\n      num_attention_heads: 28\n      num_key_value_heads: 4\n"
            "      head_dim: 128\n      max_position_embeddings: 131072\n"),
        "dangling.yaml": "models:\n" + SMALL_MODEL.replace("deepseek-r1-distill-qwen-7b", "no-such-model"),
        "hostile-repo.yaml": "models:\n" + SMALL_MODEL.replace("acme-7b", "acme-x")
        + '    hf_repo: "acme/x$(touch pwned)"\n',
        "nested-repo.yaml": "models:\n" + SMALL_MODEL + "    hf_repo: acme/x/y\n",
        "duplicate-id.yaml": "models:\n" + SMALL_MODEL + SMALL_MODEL,
        "artifact-size.yaml": ARTIFACT.replace("SIZE", "50000000000"),
        "artifact-format.yaml": ARTIFACT.replace("SIZE", "4000000000").replace("format: awq-int4", "format: awq4"),
        "duplicate-key.yaml": "models:\n" + SMALL_MODEL + "models: []\n",
        "bad-date.yaml": "models:\n" + SMALL_MODEL + "    released: {source: my model card, value: 2024-13-45}\n",
        "inf-gpu.yaml": ("gpus:\n  - id: X-1\n    name: X\n    vendor: other\n    family: X\n    category: consumer\n"
                         "    memory_gb: .inf\n    bandwidth_gbs: 100\n    dtypes: [fp16]\n    source: a datasheet\n"),
        "absurd-layers.yaml": (
            "models:\n" + SMALL_MODEL.replace("    architecture_from: deepseek-r1-distill-qwen-7b\n", "")
            + "    architecture:\n      source: config.json\n      model_type: llama\n"
            "      num_hidden_layers: 1000000000000\n      hidden_size: 4096\n      intermediate_size: 11008\n"
            "      vocab_size: 32000\n      num_attention_heads: 32\n      num_key_value_heads: 32\n"
            "      head_dim: 128\n      max_position_embeddings: 4096\n"),
        # a device of the user's with no tensor rate (every bundled device has one)
        "unrated-gpu.yaml": ("gpus:\n  - id: My-NPU\n    name: My NPU\n    vendor: other\n    family: My NPU\n"
                             "    category: edge\n    memory_gb: 64\n    bandwidth_gbs: 200\n    dtypes: [fp16, bf16]\n"
                             "    source: a datasheet\n"),
        "huge-gpu.yaml": ("gpus:\n  - id: X-1\n    name: X\n    vendor: other\n    family: X\n    category: consumer\n"
                          "    memory_gb: 1e300\n    bandwidth_gbs: 1e300\n    dtypes: [fp16]\n"
                          "    source: a datasheet\n"),
        "huge-params.yaml": ("models:\n  - id: acme-huge\n    name: Acme-Huge\n    status: released\n    family: acme\n"
                             "    source: my model card\n    params: [{total: 1e300, source: my model card}]\n"),
        "top-conflicts.yaml": "conflicts: []\n",
        "big-h100.yaml": ("gpus:\n  - {id: H100-SXM, name: NVIDIA H100 SXM5 80GB, vendor: nvidia, family: H100,\n"
                          "     category: datacenter, memory_gb: 800, bandwidth_gbs: 33500, dtypes: [fp16, bf16, fp8],\n"
                          "     source: my datasheet}\n"),
        "100-bad.yaml": "models:\n" + "".join(
            f"  - {{id: m{i}, name: M{i}, status: described, family: x, source: my card, colour: red}}\n"
            for i in range(100)),
        "cycle.yaml": "models:\n" + _borrowing("acme-a", "acme-b") + _borrowing("acme-b", "acme-a"),
        "self-cycle.yaml": "models:\n" + _borrowing("acme-c", "acme-c"),
        "llama.json": _llama(),
        "not-json.json": "model_type = llama\n",
        "list.json": "[1, 2]\n",
        "null.json": "null\n",
        "empty-object.json": "{}\n",
        "model-type-only.json": '{"model_type": "llama"}\n',
        "string-vocab.json": _llama(vocab_size='"32000"'),
        "zero-heads.json": _llama(num_attention_heads="0"),
        "zero-vocab.json": _llama(vocab_size="0"),
        "five-kv-heads.json": _llama(num_key_value_heads="5"),
        "inf-hidden.json": _llama(hidden_size="1e400"),
        "absurd-layers.json": _llama(num_hidden_layers="1" + "0" * 12),
        # layers of 2**31-wide matrices: llama.cpp would keep 10^22 bytes of them in CPU memory
        "huge-layers.json": _llama(hidden_size=str(2**31 - 1), intermediate_size=str(2**31 - 1),
                                   num_attention_heads="1", num_hidden_layers="1000"),
        "digits.json": _llama(hidden_size="9" * 5000),
        "deep.json": "[" * 100_000 + "]" * 100_000,
    }
    for name, body in text.items():
        (root / name).write_text(body, encoding="utf-8")
    (root / "latin1.yaml").write_bytes(b"models:\n  - id: acme\n    name: Acm\xe9\n")  # byte 34 is not UTF-8
    (root / "nul.yaml").write_bytes(b"schema_version: 1\x00\n")
    for folder in ("empty-dir", "model-dir", "latin1-model", "folder.yaml", "many-yaml", "600-yaml-a", "600-yaml-b",
                   "my model"):
        (root / folder).mkdir(exist_ok=True)
    (root / "my model" / "config.json").write_text(_llama(), encoding="utf-8")  # a good config, a blank in its path
    from dsadvisor.catalog.loading import USER_LIMITS

    for i in range(USER_LIMITS.max_yaml_files + 1):  # one YAML file more than a catalog folder may hold
        (root / "many-yaml" / f"{i:04}.yaml").touch()
    for i in range(600):  # 1,200 in two entries: the limit holds for all of them together
        (root / "600-yaml-a" / f"{i:04}.yaml").touch()
        (root / "600-yaml-b" / f"{i:04}.yaml").touch()
    (root / "not-utf8-name").mkdir(exist_ok=True)
    (root / "not-utf8-name" / os.fsdecode(b"caf\xe9.yaml")).write_text(
        "gpus:\n  - {id: Cafe-1, name: Cafe, vendor: other, family: Cafe, category: consumer, memory_gb: 24,\n"
        "     bandwidth_gbs: 900, dtypes: [fp16], source: a datasheet}\n", encoding="utf-8")
    (root / "latin1-model" / "config.json").write_bytes(b'{"model_type": "caf\xe9"}')
    with open(root / "huge.json", "wb") as fh:  # sparse: 5 MB on paper, nothing on disk
        fh.truncate(5 * 1024 * 1024)
    unreadable = root / "unreadable.yaml"
    unreadable.write_text("models: []\n", encoding="utf-8")
    unreadable.chmod(0)


# ------------------------------------------------------------------ running

def requested_format(case: Case) -> str:
    """The -f/--format a case asks for (check prints JSON by default, the others a table)."""
    argv = list(case.argv)
    for flag in ("-f", "--format"):
        if flag in argv[:-1]:
            return argv[argv.index(flag) + 1]
    return "json" if argv and argv[0] == "check" else "table"


@contextlib.contextmanager
def _environment(case: Case, root: Path):
    """Run a case as the test does: in ``root``, with its environment, without a GPU if it says so."""
    from dsadvisor.catalog import hardware

    saved_env = {k: os.environ.get(k) for k in ("DSADVISOR_CATALOG", "DSADVISOR_CACHE_DIR", *dict(case.env))}
    saved_cwd, saved_detect = os.getcwd(), hardware.detect_gpus
    os.environ.pop("DSADVISOR_CATALOG", None)
    os.environ.setdefault("DSADVISOR_CACHE_DIR", str(root / ".cache"))
    os.environ.update(dict(case.env))
    if case.cache:
        os.environ["DSADVISOR_CACHE_DIR"] = plant_cache(case, root)
    if case.no_gpu:
        hardware.detect_gpus = lambda: []
    os.chdir(root)
    try:
        yield
    finally:
        os.chdir(saved_cwd)
        hardware.detect_gpus = saved_detect
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


SPOILED = {  # what each spoiled cache entry is, as the page says it
    "x80x63": "the cache entry holds the bytes 80 63", "truncated": "the cache entry is cut in half",
    "fifo": "the cache entry is a FIFO", "symlink": "the cache entry is a symlink to /dev/stdin",
    "0644": "the cache entry has mode 0644", "folder-0755": "the cache folder has mode 0755",
}


def plant_cache(case: Case, root: Path) -> str:
    """A fresh cache folder for ``case`` whose entry for the case's run is spoiled as ``case.cache`` says."""
    import shutil
    import warnings

    from dsadvisor.catalog.store import cache_entry, load_catalog

    folder = root / case.id
    shutil.rmtree(folder, ignore_errors=True)
    saved = os.environ.get("DSADVISOR_CACHE_DIR")
    os.environ["DSADVISOR_CACHE_DIR"] = str(folder)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            load_catalog()  # a good entry, then spoiled
        entry = cache_entry()
    finally:
        if saved is None:
            os.environ.pop("DSADVISOR_CACHE_DIR", None)
        else:
            os.environ["DSADVISOR_CACHE_DIR"] = saved
    assert entry is not None and entry.is_file(), entry
    good = entry.read_bytes()
    if case.cache in ("fifo", "symlink"):
        entry.unlink()
        os.mkfifo(entry, 0o600) if case.cache == "fifo" else entry.symlink_to("/dev/stdin")
    elif case.cache in ("x80x63", "truncated"):
        entry.write_bytes(b"\x80\x63" if case.cache == "x80x63" else good[:len(good) // 2])
    elif case.cache == "0644":
        entry.chmod(0o644)
    elif case.cache == "folder-0755":
        folder.chmod(0o755)
    else:
        raise ValueError(f"{case.id}: unknown cache spoiling {case.cache!r}")
    return str(folder)


def _scrub(text: str, root: Path) -> str:
    """A line as the page shows it: the scratch folder and the cache key (they change from run to run) named."""
    import re

    return re.sub(r"catalog-[0-9a-f]{24}\.pickle", "catalog-<key>.pickle", text.replace(str(root), "<scratch>"))


def run_case(case: Case, root: Path) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of one case, in-process."""
    from dsadvisor.cli import main

    out, err = io.StringIO(), io.StringIO()
    with _environment(case, root), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(case.argv))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return code, out.getvalue(), err.getvalue()


# ------------------------------------------------------------------ the page

def _shell(arg: str) -> str:
    """One argument as a shell would need it, shortened when it is huge."""
    if len(arg) > 200:
        return f"<{len(arg):,} × {arg[0]}>"
    if any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 or c in "\u2028\u2029" for c in arg):
        return "$'" + arg.encode("unicode_escape").decode("ascii").replace("'", "\\'") + "'"
    return shlex.quote(arg) if arg else "''"


def _cell(text: str) -> str:
    if len(text) > 240:
        text = text[:200] + f"... ({len(text):,} characters in all)"
    return "`` " + text.replace("|", "\\|") + " ``" if text else ""


def render() -> str:
    lines = [
        "# Bad input: what each gets",
        "",
        "<!-- Generated by docs/gen_bad_input.py from the cases tests/test_bad_input.py runs; do not edit by hand.",
        "     Regenerate with: python docs/gen_bad_input.py"
        " (tests/test_bad_input.py fails when this file is stale). -->",
        "",
        "Every bad input ends with a documented exit code ([cli.md](cli.md#exit-codes)) and one line on stderr",
        "that starts with `dsadvisor:`; no traceback, and stdout is empty or holds the requested format (here JSON).",
        "Catalog problems are the exception to *one* line: every problem gets its own line, and each names the",
        "file. Control characters in a name or path (a newline, an escape sequence) are printed escaped, so they",
        "cannot split the line. The files named below are made by `make_files()` in `docs/gen_bad_input.py`.",
        "",
        "Not listed: a file the user may not read (`chmod 000`) gets exit 4 and `<file>: cannot read: Permission",
        "denied` (root reads anything, so the test skips it as root), and a bare `dsadvisor` prints its help on",
        "stderr with exit 2.",
        "",
        "## YAML size limits",
        "",
        "A user's catalog files are checked while they are parsed, before anything is built from them",
        "(`dsadvisor.catalog.loading.Limits`; [catalog.md](catalog.md#yaml-safety-limits) has the details):",
        "",
    ]
    from dsadvisor.catalog.loading import USER_LIMITS
    from dsadvisor.catalog.schema import MAX_BANDWIDTH_GBS, MAX_MEMORY_GB, MAX_PARAMS, MAX_SHAPE, MAX_TFLOPS

    lines += [
        "| limit | value |",
        "|---|---|",
        f"| file size | {USER_LIMITS.max_bytes:,} bytes (the same limit holds for a `--config` config.json) |",
        f"| nesting depth | {USER_LIMITS.max_depth} levels |",
        f"| nodes, counted after alias expansion | {USER_LIMITS.max_nodes:,} |",
        "| recursive aliases | refused |",
        "| a key twice in one mapping, an id twice in one file | refused |",
        f"| the walks of all `--catalog` and `$DSADVISOR_CATALOG` entries together | "
        f"{USER_LIMITS.max_walk_entries:,} files and folders visited, "
        f"{USER_LIMITS.max_yaml_files:,} YAML files found (symlinked folders are not followed) |",
        f"| catalog problems described | {USER_LIMITS.max_problems}; the rest are counted (`more_problems` in "
        "`catalog validate -f json`) |",
        "| `!!python/...` and other unknown tags | refused (only the safe loader runs) |",
        "| `.inf`, `.nan` where a number is expected | refused |",
        f"| an architecture field (layers, widths, vocabulary, positions) | at most {MAX_SHAPE:,} |",
        f"| memory, overheads (GB); bandwidth (GB/s) | at most {MAX_MEMORY_GB:,.0f}; {MAX_BANDWIDTH_GBS:,.0f} |",
        f"| tensor rates (TFLOPS); parameter counts | at most {MAX_TFLOPS:,.0f}; {MAX_PARAMS:,.0f} |",
        "",
    ]
    with tempfile.TemporaryDirectory(prefix="dsadvisor-bad-input-") as tmp:
        root = Path(tmp)
        make_files(root)
        shown_cases = [c for c in CASES if not c.as_root_differs]
        for group in dict.fromkeys(c.group for c in shown_cases):
            lines += [f"## {group}", "", "| case | command | exit | stderr |", "|---|---|---|---|"]
            for case in (c for c in shown_cases if c.group == group):
                code, _, err = run_case(case, root)
                command = "dsadvisor " + " ".join(_shell(a) for a in case.argv)
                if case.cache:
                    command += f"   # {SPOILED[case.cache]}"
                if case.env:
                    command = " ".join(f"{k}={_shell(v)}" for k, v in case.env) + " " + command
                shown = "<br>".join(_cell(_scrub(line, root)) for line in err.split("\n") if line) or "(nothing)"
                lines.append(f"| {case.id} | {_cell(command)} | {code} | {shown} |")
            lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if OUT.read_text(encoding="utf-8") != text:
            print("docs/bad-input.md is stale: run python docs/gen_bad_input.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
