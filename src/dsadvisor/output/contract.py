"""The JSON contract as types: one TypedDict per document a command prints with ``-f json``.

These are the result types the JSON Schema files in ``output/schemas/`` are generated from
(``python -m dsadvisor.output.contract`` writes them; tests/test_json_schema.py checks the shipped
files are current and validates real outputs against them). Nothing at run time imports this
module except that generator: ``dsadvisor schema COMMAND`` prints the shipped file.

Keys are only ever added within a schema version (docs/json.md), so the shipped schemas allow
keys they do not name; the tests validate with a strict copy, so a key the views add without
declaring it here fails the suite.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Literal, Optional

from typing_extensions import NotRequired, TypedDict

from dsadvisor.advice.rules import Constraints
from dsadvisor.catalog.schema import Gpu, ModelEntry
from dsadvisor.records import record

SCHEMA_DIR = Path(__file__).with_name("schemas")
DIALECT = "https://json-schema.org/draft/2020-12/schema"


class Deployment(TypedDict):
    gpu: str
    gpus: int
    nodes: int
    tensor_parallel: int
    pipeline_parallel: int
    expert_parallel: bool
    data_parallel_attention: int
    quantization: str
    kv_dtype: str
    engine: str
    context: int
    prompt_tokens: int
    batch: int
    cpu_moe_layers: int  # MoE layers whose routed experts llama.cpp keeps in system memory (--n-cpu-moe)
    mtp_draft_tokens: int  # MTP speculative decoding: draft tokens a step (0: off)


class Params(TypedDict):
    total: int
    active: int
    assumed: bool


class Memory(TypedDict):
    weights_bytes: int
    kv_cache_bytes: int
    activation_bytes: int
    overhead_bytes: int
    per_gpu_bytes: int
    gpu_capacity_bytes: int
    usable_bytes: int
    fits: bool
    kv_capacity_tokens: int
    host_bytes: int  # those routed experts in system memory


class Latency(TypedDict):
    ttft_s: Optional[float]
    ttft_single_s: Optional[float]
    decode_step_s: float


class Throughput(TypedDict):
    decode_tokens_per_s: float
    per_sequence_tokens_per_s: float


class Basis(TypedDict):
    facts: list[str]
    assumptions: list[str]
    claims: list[str]
    warnings: list[str]


class ServingFigures(TypedDict):
    """Per request under load: ``concurrency`` requests in flight in a closed loop (serving.server)."""

    concurrency: int
    running: int
    prompt_tokens: int
    output_tokens: int
    ttft_s: Optional[float]
    tpot_s: float
    tokens_per_s_per_user: float
    tokens_per_s_total: float
    queue_s: float
    prefill_share: float
    saturated: bool
    kv_cache_bytes: int
    limited_by: Optional[Literal["kv-cache", "scheduler"]]
    tokens_per_step: float  # output tokens a sequence gains per decode step: 1, more with MTP drafts


class CatalogOverride(TypedDict):
    """A bundled entry a user's catalog file (``--catalog``, ``$DSADVISOR_CATALOG``) replaced in this run."""

    id: str
    kind: Literal["model", "gpu", "quantization", "engine", "artifact"]
    file: str


class Estimate(TypedDict):
    """One estimate, as ``estimate`` prints it and as a verdict carries it."""

    schema_version: Literal[1]
    model: str
    status: str
    deployment: Deployment
    params: Params
    memory: Memory
    latency: Latency
    throughput: Throughput
    basis: Basis
    serving: NotRequired[ServingFigures]


class EstimateDoc(Estimate):
    """``dsadvisor estimate -f json``; ``serving`` in estimate's own output (not in verdicts yet)."""

    catalog_overrides: list[CatalogOverride]  # empty unless a user's file replaced a bundled entry


class Score(TypedDict):
    total: float
    quality: float
    speed: float
    headroom: float
    gpus: float
    quality_from: str
    why: str  # the score in words, as the table's why column says it


class RuleResult(TypedDict):
    id: str
    status: Literal["pass", "fail", "unknown", "skipped"]
    message: str


class Checkpoint(TypedDict):
    """The checkpoint the deployment loads, as the catalog lists it (catalog/artifacts/)."""

    id: str
    name: str  # how a user names it: the Ollama tag, repo/file or the repository
    repo: Optional[str]
    file: Optional[str]  # a GGUF file in ``repo`` (the first part of a split file)
    ollama_tag: Optional[str]
    size_bytes: Optional[int]
    official: bool  # published by the model's authors, as shipped
    source: str


class Goodput(TypedDict):
    """The most users the chosen layout serves at once within the limits (each at full length in the
    KV cache), and the per-request figures there."""

    concurrency: int
    limited_by: Literal["ttft", "tpot", "kv-cache", "scheduler", "ceiling"]  # what one more user would miss
    serving: ServingFigures


class LayoutChoice(TypedDict):
    """The layout recommend and check searched the deployment to (advice.layouts): where it can change the
    answer (several datacenter GPUs, a MoE or MLA model, several users or a latency limit)."""

    label: str  # "TP8 EP DPA8 MTP3", as `dsadvisor layouts` labels its points; the numbers are in deployment
    default: bool  # the engine's default layout served soonest
    layouts_tried: int  # layouts that hold the workload
    max_ttft_s: Optional[float]  # the limits it was held to
    max_tpot_s: Optional[float]  # --max-token-latency, or 1 / --min-tokens-per-s when tighter
    goodput: Optional[Goodput]  # null when the asked concurrency already misses the limits


class Verdict(TypedDict):
    model: str
    status: str
    passed: bool
    score: Optional[Score]
    estimate: Optional[Estimate]
    checkpoint: Optional[Checkpoint]  # null when none exists (see convert) or nothing was estimated
    convert: Optional[str]  # how to make the checkpoint when none is published ("convert it yourself: ...")
    rules: list[RuleResult]
    notes: list[str]
    layout: Optional[LayoutChoice]  # null: the engine's default layout, not searched
    plan_command: Optional[str]  # the `dsadvisor plan` command that starts this deployment; null when it failed


class CheckDoc(Verdict):
    """``dsadvisor check`` (JSON by default)."""

    schema_version: Literal[1]
    catalog_overrides: list[CatalogOverride]  # empty unless a user's file replaced a bundled entry


class RecommendDoc(TypedDict):
    """``dsadvisor recommend -f json``; ``rejected`` only with ``--all``."""

    schema_version: Literal[1]
    catalog_overrides: list[CatalogOverride]  # empty unless a user's file replaced a bundled entry
    hardware: list[str]
    constraints: Constraints
    ranked: list[Verdict]
    advice: list[str]
    described: list[Verdict]  # the articles' variants that pass: no public weights, never ranked
    base_left_out: int  # base and RL-zero releases left out of the ranking (--include-base)
    rejected: NotRequired[list[Verdict]]


class PlanDoc(TypedDict):
    """``dsadvisor plan -f json``."""

    schema_version: Literal[1]
    catalog_overrides: list[CatalogOverride]  # empty unless a user's file replaced a bundled entry
    model: str
    deployment: Deployment
    commands: list[str]
    env: dict[str, str]
    notes: list[str]
    gpu_layers: Optional[int]
    host_memory_bytes: int
    kubernetes: Optional[str]


class ModelRow(TypedDict):
    id: str
    name: str
    status: str
    kind: str
    family: str
    params_total: Optional[int]
    params_active: Optional[int]
    params_from: str
    attention: Optional[str]
    context: Optional[int]
    license: Optional[str]
    released: Optional[str]
    tasks: list[str]
    hf_repo: Optional[str]


class ModelsDoc(TypedDict):
    """``dsadvisor models -f json``."""

    schema_version: Literal[1]
    catalog_overrides: list[CatalogOverride]  # empty unless a user's file replaced a bundled entry
    count: int
    models: list[ModelRow]


class ShowDoc(TypedDict):
    """``dsadvisor show MODEL -f json``: the catalog entry as loaded, architecture filled in."""

    schema_version: Literal[1]
    catalog_overrides: list[CatalogOverride]  # empty unless a user's file replaced a bundled entry
    summary: ModelRow
    origin: Optional[str]
    entry: ModelEntry


@record(frozen=True, kw_only=True)
class GpuRow(Gpu):
    capacity_bytes: int  # what the estimates plan with: memory x usable fraction for unified memory


class GpusDoc(TypedDict):
    """``dsadvisor gpus -f json``."""

    schema_version: Literal[1]
    catalog_overrides: list[CatalogOverride]  # empty unless a user's file replaced a bundled entry
    count: int
    gpus: list[GpuRow]


class ValidateDoc(TypedDict):
    """``dsadvisor catalog validate FILE... -f json``."""

    schema_version: Literal[1]
    catalog_overrides: list[CatalogOverride]  # empty unless a user's file replaced a bundled entry
    files: list[str]
    valid: bool
    problems: list[str]  # at most Limits.max_problems (20), each naming its file
    more_problems: int  # problems past those, counted but not described


class Finding(TypedDict):
    kind: str
    model: str
    about: str
    detail: str
    sources: list[str]


class AuditDoc(TypedDict):
    """``dsadvisor catalog audit -f json``."""

    schema_version: Literal[1]
    catalog_overrides: list[CatalogOverride]  # empty unless a user's file replaced a bundled entry
    count: int
    findings: list[Finding]


class LayoutFigures(TypedDict):
    tensor_parallel: int
    pipeline_parallel: int
    expert_parallel: bool
    data_parallel_attention: int
    mtp_draft_tokens: int


class Disaggregated(TypedDict):
    """Prefill and decode on separate instances (serving.disaggregated); ``layout`` is the decode one's."""

    prefill: LayoutFigures
    prefill_instances: int
    decode: LayoutFigures
    decode_instances: int


class LayoutPoint(TypedDict):
    label: str
    layout: LayoutFigures
    disaggregated: Optional[Disaggregated]
    tokens_per_s_per_gpu: float
    serving: ServingFigures


class LayoutLimits(TypedDict):
    max_ttft_s: Optional[float]
    max_tpot_s: Optional[float]


class LayoutsDoc(TypedDict):
    """``dsadvisor layouts -f json``."""

    schema_version: Literal[1]
    catalog_overrides: list[CatalogOverride]  # empty unless a user's file replaced a bundled entry
    model: str
    gpu: str
    gpus: int
    engine: str
    quantization: str
    prompt_tokens: int
    output_tokens: int
    limits: LayoutLimits
    best: Optional[LayoutPoint]
    goodput: Optional[LayoutPoint]
    frontier: list[LayoutPoint]
    points: int
    launch: list[str]  # the best layout's commands when it is disaggregated (SGLang): servers, then router
    launch_notes: list[str]  # what the table prints after 'launch:': how to start them, what to replace


# One entry per name in schema_files.COMMANDS (tests/test_json_schema.py keeps them in step).
DOCUMENTS: dict[str, Any] = {
    "estimate": EstimateDoc, "check": CheckDoc, "recommend": RecommendDoc, "plan": PlanDoc,
    "models": ModelsDoc, "show": ShowDoc, "gpus": GpusDoc,
    "catalog-validate": ValidateDoc, "catalog-audit": AuditDoc, "layouts": LayoutsDoc,
}


def json_schema(command: str) -> dict[str, Any]:
    """The JSON Schema of ``command``'s document, generated from its type by pydantic."""
    from pydantic import TypeAdapter

    from dsadvisor.catalog.schema import resolve_annotations

    resolve_annotations()
    schema = TypeAdapter(DOCUMENTS[command]).json_schema(mode="serialization")
    return {**schema, "$schema": DIALECT, "$id": f"https://dsadvisor.invalid/schemas/{command}.schema.json",
            "title": f"dsadvisor {command.replace('-', ' ')} --format json"}


def write_all(folder: Path = SCHEMA_DIR) -> list[Path]:
    folder.mkdir(exist_ok=True)
    written = []
    for command in DOCUMENTS:
        path = folder / f"{command}.schema.json"
        path.write_text(json.dumps(json_schema(command), indent=2, sort_keys=True) + "\n", encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for p in write_all():
        print(p)
