"""What several engines' launch commands share: the checkpoint they name, quoting, number formats.

Nothing here invents a checkpoint: a format the model does not ship in (AWQ, GPTQ, INT8, a ModelOpt
checkpoint, a GGUF file) is written as a ``<placeholder>`` the user substitutes, and a note says which
checkpoint it must be.
"""

from __future__ import annotations

import math
import shlex

from dsadvisor.catalog.schema import Artifact, Gpu, ModelEntry

# vLLM / SGLang switch to Marlin kernels for AWQ/GPTQ from compute capability 8.0 (docs.vllm.ai
# features/quantization/supported_hardware: "Marlin (GPTQ/AWQ/FP8)" from Ampere)
MARLIN_MIN_CC = 8.0
HEAD = "<head-ip>"  # node 0's address, for the user to fill in
# What LeaderWorkerSet puts in every pod's environment (kubernetes-sigs/lws docs, "Environment variables");
# Kubernetes expands $(NAME) in a container's command and args
LWS_LEADER = "$(LWS_LEADER_ADDRESS)"
LWS_INDEX = "$(LWS_WORKER_INDEX)"


def with_value(argv: list[str], flag: str, value: str) -> list[str]:
    """``argv`` with ``flag``'s value replaced by ``value``."""
    i = argv.index(flag)
    return argv[:i + 1] + [value] + argv[i + 2:]


def join(argv: list[str]) -> str:
    """A shell line that runs ``argv`` as it is: every argument quoted, placeholders too (the user
    replaces the whole quoted word; bare, ``<a>b`` is a redirection and ``$(...)`` runs)."""
    return " ".join(shlex.quote(a) for a in argv)


def fraction_flag(x: float) -> str:
    """A fraction for a flag: at most two decimals, rounded down (never more than the estimate used)."""
    return f"{math.floor(x * 100 + 1e-9) / 100:g}"


def native_fp8(entry: ModelEntry) -> bool:
    """Whether the model ships its weights in fp8 (V3, R1): served as they are, no quantization flag."""
    return bool(entry.weights_dtype and entry.weights_dtype.value.lower().startswith("fp8"))


def compute_capability(gpu: Gpu | None) -> float | None:
    try:
        return float(gpu.compute_capability) if gpu and gpu.compute_capability else None
    except ValueError:
        return None


def checkpoint(entry: ModelEntry, notes: list[str], path: str | None = None) -> str:
    """The model to serve: a local folder, the catalog's Hugging Face repository, or a placeholder."""
    if path:  # a folder named like a flag (--trust-remote-code) must stay the model's path
        return f"./{path}" if path.startswith("-") else path
    if entry.hf_repo:
        return entry.hf_repo
    if entry.status == "described":
        notes.append(f"{entry.id} is a variant the articles describe, with no released checkpoint: the plan "
                     f"is for a checkpoint of that shape, if you have one, at <checkpoint-of {entry.id}>")
    else:
        notes.append(f"the catalog names no Hugging Face repository for {entry.id}: put the path of its "
                     f"checkpoint for <checkpoint-of {entry.id}>")
    return f"<checkpoint-of {entry.id}>"


# How each format's checkpoint is made when nobody publishes one (the tools' own documentation):
# llm-compressor (vllm-project/llm-compressor examples) for the compressed-tensors schemes vLLM and
# SGLang read, TensorRT Model Optimizer for TensorRT-LLM, llama.cpp's converter and quantizer for GGUF.
_CONVERT = {
    "awq-int4": "quantize it with llm-compressor (AWQModifier, W4A16 group 128) or AutoAWQ",
    "gptq-int4": "quantize it with llm-compressor (GPTQModifier, scheme W4A16)",
    "int8": "quantize it with llm-compressor (SmoothQuantModifier + GPTQModifier, scheme W8A8)",
    "int8-wo": "quantize it with llm-compressor (GPTQModifier, scheme W8A16)",
    "fp8": "quantize it with llm-compressor (QuantizationModifier, scheme FP8_DYNAMIC)",
    "nvfp4": "quantize it with TensorRT Model Optimizer (hf_ptq.py --qformat nvfp4)",
    "bf16": "cast the fp8 weights to bf16 with fp8_cast_bf16.py (deepseek-ai/DeepSeek-V3, inference/)",
}
_GGUF_TYPES = {"bf16": "BF16", "fp16": "F16"}
# llama-quantize stops without an importance matrix for IQ3_XXS and IQ2_S (IQ2_M's) tensors: llama-quant.cpp
# tensor_requires_imatrix, "this quantization requires an imatrix!" (llama-imatrix makes one from sample text)
_NEEDS_IMATRIX = frozenset({"iq3_xxs", "iq2_m"})


def convert_hint(engine_id: str, repo: str, shipped: str, target: str) -> str:
    """convert it yourself: how to make a ``target`` checkpoint of ``repo`` for ``engine_id``."""
    if engine_id == "llama.cpp":
        cast = "first cast it to bf16 (fp8_cast_bf16.py), then " if shipped == "fp8" else ""
        steps = f"{cast}python convert_hf_to_gguf.py <folder of {repo}> --outtype bf16"
        if target not in _GGUF_TYPES:
            imatrix = " --imatrix <llama-imatrix's output for it>" if target in _NEEDS_IMATRIX else ""
            steps += f", then llama-quantize{imatrix} <that .gguf> {target.upper()}"
        return f"convert it yourself: {steps} (llama.cpp's converter and tools/quantize)"
    if engine_id == "tensorrt-llm" and target != "bf16":
        return (f"convert it yourself: quantize {repo} with TensorRT Model Optimizer (ModelOpt, "
                f"{target}) into a Hugging Face checkpoint")
    how = _CONVERT.get(target, f"make a {target} checkpoint with the engine's quantization tool")
    return f"convert it yourself: {how.replace('quantize it', f'quantize {repo}')}"


def placeholder(kind: str, repo: str) -> str:
    return f"<{kind}-checkpoint-of {repo.strip('<>')}>"


def served_artifact(engine_name: str, artifact: Artifact, notes: list[str]) -> str:
    """The repository of a checkpoint that exists, with a note naming it; the engine reads its
    quantization scheme from the checkpoint's own config, so no --quantization flag goes with it."""
    size = f", {artifact.size_bytes / 1e9:.0f} GB" if artifact.size_bytes else ""
    notes.append(f"serves {artifact.name} ({artifact.format}{size}; {artifact.source}): {engine_name} reads its "
                 "quantization from the checkpoint's config")
    return str(artifact.repo)


def shipped_as(entry: ModelEntry, quant_id: str) -> bool:
    """Whether the model's own checkpoint is in ``quant_id`` (a local AWQ checkpoint read with --config)."""
    return bool(entry.weights_dtype) and str(entry.weights_dtype.value).lower() == quant_id  # type: ignore[union-attr]


def hf_quantization(engine_name: str, entry: ModelEntry, quant_id: str, gpu: Gpu | None, repo: str,
                    notes: list[str], artifact: Artifact | None = None) -> tuple[str, list[str]]:
    """The model argument and quantization flags of a server that loads Hugging Face checkpoints
    (vLLM, SGLang): 16-bit dtypes, fp8 (native or quantized while loading), a published quantized
    checkpoint (``artifact``) as it is, else a placeholder for one the user makes (AWQ/GPTQ with
    Marlin from compute capability 8.0, INT8 compressed-tensors checkpoints)."""
    if quant_id in ("bf16", "fp16"):
        return repo, ["--dtype", "bfloat16" if quant_id == "bf16" else "float16"]
    if artifact is not None and not artifact.official and artifact.repo:
        return served_artifact(engine_name, artifact, notes), []
    if quant_id in ("fp8", "fp8-marlin"):
        marlin = quant_id == "fp8-marlin"
        if not native_fp8(entry):
            notes.append("--quantization fp8 quantizes the 16-bit checkpoint to fp8 while loading (dynamic scales)"
                         + (f"; without fp8 tensor cores {engine_name} runs it through Marlin, weight-only"
                            if marlin else ""))
            return repo, ["--quantization", "fp8"]
        if marlin:
            notes.append(f"{gpu.id if gpu else 'this GPU'} has no fp8 tensor cores: {engine_name} runs the fp8 "
                         "checkpoint through its Marlin kernel (weight-only) by itself")
        return repo, []
    how = convert_hint("vllm", repo, "fp8" if native_fp8(entry) else "bf16", quant_id)
    if quant_id in ("awq-int4", "gptq-int4") and shipped_as(entry, quant_id):
        notes.append(f"the checkpoint's quantization_config is {quant_id.split('-')[0].upper()} 4-bit: "
                     f"{engine_name} reads it from there (its Marlin kernel from compute capability 8.0)")
        return repo, []
    if quant_id in ("awq-int4", "gptq-int4"):
        kind = quant_id.split("-")[0]
        model = placeholder(kind.upper(), repo)
        cc = compute_capability(gpu)
        method = f"{kind}_marlin" if cc is not None and cc >= MARLIN_MIN_CC else kind
        notes.append(f"no published {kind.upper()} 4-bit checkpoint of {repo} is known: {how}, "
                     f"and substitute its path for {model}")
        if cc is None:
            notes.append(f"compute capability unknown: --quantization {kind} (use {kind}_marlin on compute "
                         "capability 8.0 or newer)")
        return model, ["--quantization", method]
    if quant_id == "nvfp4":  # a ModelOpt checkpoint: both engines read hf_quant_config.json, a 16-bit repo has none
        model = placeholder("NVFP4", repo)
        notes.append(f"no published NVFP4 checkpoint of {repo} is known: {how}, and substitute its path for {model}")
        return model, []
    if quant_id in ("int8", "int8-wo"):
        scheme = "W8A8" if quant_id == "int8" else "W8A16"
        model = placeholder(f"INT8-{scheme}", repo)
        notes.append(f"no published INT8 {scheme} checkpoint of {repo} is known: {how} (compressed-tensors, "
                     f"which {engine_name} reads by itself), and substitute its path for {model}")
        return model, []
    return repo, []
