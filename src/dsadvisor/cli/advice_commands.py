"""The commands that advise: ``recommend`` (rank the models and deployments that fit), ``check`` (one model's
verdict for CI) and ``plan`` (the commands that start the deployment ``check`` picks)."""

from typing import Annotated, Optional

import typer

from dsadvisor.cli.shared import (EXIT_FAIL, EXIT_UNDETERMINED, EXIT_USAGE, CatalogOpt, ConfigOpt, ExitWith,
                                  FormatOpt, GpuOpt, MtpPin, OutputTokens, RamOpt, VramOpt, _choice, _model,
                                  _with_output, app, bounded, emit, load, say)
from dsadvisor.output.render import OutputFormat


def _constraints(*, context, prompt_tokens, batch, max_ttft, max_token_latency, min_tokens_per_s,
                 min_total_tokens_per_s, min_accuracy, benchmark, task, allow_unknown, released_only,
                 license, engine, quant, kv_dtype, family, max_params, prefer, output_tokens=None):
    from dsadvisor.catalog.resolve import check_workload
    from dsadvisor.advice.rules import TASK_BENCHMARKS, Constraints

    context, prompt_tokens = _with_output(context, prompt_tokens, output_tokens)
    check_workload(context, prompt_tokens, batch)
    for flag, value in (("--max-ttft", max_ttft), ("--max-token-latency", max_token_latency),
                        ("--min-tokens-per-s", min_tokens_per_s), ("--min-total-tokens-per-s", min_total_tokens_per_s),
                        ("--min-accuracy", min_accuracy), ("--max-params", max_params)):
        bounded(flag, value)
    if task == "vision":  # a `models --task` value that names no benchmarks: no vision model has a score
        raise ExitWith(EXIT_USAGE, "--task vision names no benchmarks: quality is ranked on text benchmarks and no "
                       "vision model in the catalog has a score; `dsadvisor models --task vision` lists them, and "
                       "`dsadvisor recommend --family FAMILY` (their families) ranks their deployments by speed and fit")
    _choice("--task", task, tuple(TASK_BENCHMARKS))
    _choice("--prefer", prefer, ("balanced", "quality", "speed", "efficiency"))
    if min_accuracy is not None and not (benchmark or task):
        raise ExitWith(EXIT_USAGE, "--min-accuracy needs --benchmark NAME or --task TASK")
    return Constraints(
        context=context, prompt_tokens=prompt_tokens, batch=batch, max_ttft_s=max_ttft,
        max_token_latency_s=max_token_latency / 1e3 if max_token_latency is not None else None,
        min_tokens_per_s=min_tokens_per_s, min_total_tokens_per_s=min_total_tokens_per_s,
        benchmark=benchmark.lower() if benchmark else None, min_accuracy=min_accuracy, task=task,
        allow_unknown=allow_unknown, include_described=not released_only, licenses=tuple(license or ()),
        engines=tuple(engine or ()), quants=tuple(quant or ()), kv_dtypes=tuple(kv_dtype or ()),
        families=tuple(family or ()), max_params=max_params * 1e9 if max_params is not None else None,
        prefer=prefer,
    )


Ctx = Annotated[Optional[int], typer.Option(help="Tokens per sequence, prompt + output (default: min(model, 8192, "
                                                "or a longer --prompt-tokens + 512)).")]
Prompt = Annotated[Optional[int], typer.Option("--prompt-tokens", help="Prompt length for time to first token.")]
Batch = Annotated[int, typer.Option("--concurrency", "--batch", help=(
    "Requests in flight at once; above 1 (or with a latency limit) on several datacenter GPUs, the layout is "
    "searched (TP/PP/EP, DP attention, MTP) and its goodput reported."))]
MaxTtft = Annotated[Optional[float], typer.Option("--max-ttft", help="Maximum time to first token, seconds.")]
MaxTokLat = Annotated[Optional[float], typer.Option("--max-token-latency", help="Maximum per-token latency, ms.")]
MinTps = Annotated[Optional[float], typer.Option("--min-tokens-per-s", help="Minimum tokens/s per sequence.")]
MinTotal = Annotated[Optional[float], typer.Option("--min-total-tokens-per-s", help="Minimum tokens/s in total.")]
MinAcc = Annotated[Optional[float], typer.Option("--min-accuracy", help="Minimum score (0-100) on --benchmark.")]
Bench = Annotated[Optional[str], typer.Option(help="Benchmark for --min-accuracy: mmlu, gpqa, aime24, humaneval...")]
Task = Annotated[Optional[str], typer.Option(help="general | code | math | reasoning | chat: picks the benchmarks.")]
AllowUnknown = Annotated[bool, typer.Option("--allow-unknown", help="Let an unknown score or speed pass.")]
ReleasedOnly = Annotated[bool, typer.Option("--released-only", help="Leave out the articles' described variants.")]
IncludeBase = Annotated[bool, typer.Option(
    "--include-base", help="Rank base and RL-zero releases too (left out by default: not chat models).")]
License = Annotated[Optional[list[str]], typer.Option(
    help="Accept only these licenses: whole names, any case (MIT, 'DeepSeek Model License'; repeatable).")]
EngineF = Annotated[Optional[list[str]], typer.Option("--engine", help="Engines to consider (repeatable).")]
QuantF = Annotated[Optional[list[str]], typer.Option("--quant", help="Weight formats to consider (repeatable).")]
KvF = Annotated[Optional[list[str]], typer.Option("--kv-dtype", help="KV cache dtypes to consider (repeatable).")]
Family = Annotated[Optional[list[str]], typer.Option(help="Model families to consider (repeatable).")]
MaxParams = Annotated[Optional[float], typer.Option("--max-params", help="Largest total parameters, billions.")]
Prefer = Annotated[str, typer.Option(help="balanced | quality | speed | efficiency: the score's weighting.")]


@app.command("recommend")
def recommend_cmd(
    gpu: Annotated[Optional[list[str]], typer.Option(
        "--gpu", help="GPU kind (repeatable to choose between kinds; 'auto' detects).")] = None,
    vram: VramOpt = None,
    gpus: Annotated[int, typer.Option("--gpus", help="GPUs available (of each kind).")] = 1,
    ram: RamOpt = None,
    context: Ctx = None, prompt_tokens: Prompt = None, batch: Batch = 1, output_tokens: OutputTokens = None,
    max_ttft: MaxTtft = None, max_token_latency: MaxTokLat = None, min_tokens_per_s: MinTps = None,
    min_total_tokens_per_s: MinTotal = None, min_accuracy: MinAcc = None, benchmark: Bench = None,
    task: Task = None, allow_unknown: AllowUnknown = False, released_only: ReleasedOnly = False,
    license: License = None, engine: EngineF = None, quant: QuantF = None, kv_dtype: KvF = None,
    family: Family = None, max_params: MaxParams = None, prefer: Prefer = "balanced",
    include_base: IncludeBase = False,
    top: Annotated[Optional[int], typer.Option(help="Show the best K.")] = 10,
    all_: Annotated[bool, typer.Option("--all", help="Also list every rejected model and why.")] = False,
    catalog: CatalogOpt = None,
    format: FormatOpt = OutputFormat.table,
) -> None:
    """Rank the models and deployments that fit your hardware and constraints."""
    from dataclasses import replace

    from dsadvisor.advice.check import hardware_kinds
    from dsadvisor.advice.search import recommend
    from dsadvisor.output.views import recommend_doc

    bounded("--top", top)
    k = _constraints(context=context, prompt_tokens=prompt_tokens, batch=batch, max_ttft=max_ttft,
                     max_token_latency=max_token_latency, min_tokens_per_s=min_tokens_per_s,
                     min_total_tokens_per_s=min_total_tokens_per_s, min_accuracy=min_accuracy,
                     benchmark=benchmark, task=task, allow_unknown=allow_unknown, released_only=released_only,
                     license=license, engine=engine, quant=quant, kv_dtype=kv_dtype, family=family,
                     max_params=max_params, prefer=prefer, output_tokens=output_tokens)
    k = replace(k, include_base=include_base)
    cat = load(catalog)
    rec = recommend(cat, hardware_kinds(cat, gpu, vram, gpus, ram), k, searched=top)  # the layouts of those shown
    emit(recommend_doc(rec, top, all_), format)


TpPin = Annotated[Optional[int], typer.Option("--tp", help="Pin tensor parallel GPUs per stage (default: chosen).",
                                              show_default=False)]
PpPin = Annotated[Optional[int], typer.Option("--pp", help="Pin pipeline stages (default: chosen).",
                                              show_default=False)]
EpPin = Annotated[Optional[bool], typer.Option("--ep/--no-ep", help="Pin expert parallel on or off (MoE).",
                                               show_default=False)]
DpPin = Annotated[Optional[int], typer.Option(
    "--dp-attention", help="Data-parallel attention groups (MoE): each holds only its requests' KV cache.",
    show_default=False)]


@app.command("check")
def check_cmd(
    model: Annotated[Optional[str], typer.Argument(help="Catalog model (id, name, HF repo or alias).")] = None,
    gpu: GpuOpt = None, vram: VramOpt = None,
    gpus: Annotated[int, typer.Option("--gpus", help="GPUs available.")] = 1, ram: RamOpt = None,
    context: Ctx = None, prompt_tokens: Prompt = None, batch: Batch = 1, output_tokens: OutputTokens = None,
    max_ttft: MaxTtft = None, max_token_latency: MaxTokLat = None, min_tokens_per_s: MinTps = None,
    min_total_tokens_per_s: MinTotal = None, min_accuracy: MinAcc = None, benchmark: Bench = None,
    task: Task = None, allow_unknown: AllowUnknown = False,
    license: License = None, engine: EngineF = None, quant: QuantF = None, kv_dtype: KvF = None,
    tp: TpPin = None, pp: PpPin = None, ep: EpPin = None, dp_attention: DpPin = None, mtp: MtpPin = None,
    exact: Annotated[bool, typer.Option("--exact", help="Use exactly --gpus GPUs (no smaller count).")] = False,
    config: ConfigOpt = None,
    catalog: CatalogOpt = None,
    format: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")] = OutputFormat.json,
) -> None:
    """One model's verdict for CI: exit 0 passes every rule, 1 fails one, 6 undetermined."""
    from dataclasses import replace

    from dsadvisor.advice.check import check, hardware
    from dsadvisor.launch.plan import pinned_gpus
    from dsadvisor.output.views import check_doc

    k = _constraints(context=context, prompt_tokens=prompt_tokens, batch=batch, max_ttft=max_ttft,
                     max_token_latency=max_token_latency, min_tokens_per_s=min_tokens_per_s,
                     min_total_tokens_per_s=min_total_tokens_per_s, min_accuracy=min_accuracy,
                     benchmark=benchmark, task=task, allow_unknown=allow_unknown, released_only=False,
                     license=license, engine=engine, quant=quant, kv_dtype=kv_dtype, family=None,
                     max_params=None, prefer="balanced", output_tokens=output_tokens)
    # the layout a gate deploys, held to the ranges estimate and plan hold them to (Constraints.__post_init__)
    k = replace(k, tp=tp, pp=pp, ep=ep, dp_attention=dp_attention, mtp=mtp)
    cat = load(catalog)
    entry, _ = _model(cat, model, config)
    verdict = check(cat, entry, pinned_gpus(hardware(cat, gpu, vram, gpus, ram, exact=exact), k), k)
    emit(check_doc(verdict), format)
    if verdict.passed:
        return
    if verdict.failed:
        say(f"check failed: {verdict.failed[0].rule} {verdict.failed[0].message}")
        raise ExitWith(EXIT_FAIL)
    say(f"check undetermined: {verdict.unknown[0].rule} {verdict.unknown[0].message}")
    raise ExitWith(EXIT_UNDETERMINED)


Users = Annotated[Optional[int], typer.Option("--concurrency", "--batch", help=(
    "Requests served at once (default: 1 on consumer, edge, Apple and CPU devices; 4 on workstation and 32 on "
    "datacenter GPUs)."), show_default=False)]


@app.command("plan")
def plan_cmd(
    model: Annotated[Optional[str], typer.Argument(help="Catalog model (id, name, HF repo or alias).")] = None,
    gpu: GpuOpt = None, vram: VramOpt = None,
    gpus: Annotated[int, typer.Option("--gpus", help="GPUs available (over 8: nodes of 8).")] = 1,
    ram: RamOpt = None,
    context: Ctx = None, prompt_tokens: Prompt = None, batch: Users = None, output_tokens: OutputTokens = None,
    exact_concurrency: Annotated[bool, typer.Option("--exact-concurrency", help=(
        "Exit 1 naming the largest concurrency that fits rather than serve fewer requests."))] = False,
    engine: EngineF = None, quant: QuantF = None, kv_dtype: KvF = None,
    tp: TpPin = None, pp: PpPin = None, ep: EpPin = None, dp_attention: DpPin = None, mtp: MtpPin = None,
    exact: Annotated[bool, typer.Option("--exact", help="Use exactly --gpus GPUs (no smaller count).")] = False,
    offload: Annotated[bool, typer.Option(
        "--offload", help="When nothing fits: llama.cpp with the layers that do not fit in CPU memory.")] = False,
    k8s: Annotated[bool, typer.Option("--k8s", help=(
        "Also write a Kubernetes manifest (a Deployment; a LeaderWorkerSet over several nodes)."))] = False,
    config: ConfigOpt = None,
    catalog: CatalogOpt = None,
    format: FormatOpt = OutputFormat.table,
) -> None:
    """The commands that start the deployment `check` picks, per node, sized for --concurrency requests at
    once. Exit 1 if nothing fits."""
    from dataclasses import replace

    from dsadvisor.advice.check import hardware
    from dsadvisor.launch.plan import plan
    from dsadvisor.output.views import plan_doc

    cat = load(catalog)
    tagged, engine, quant = _ollama_tag(cat, model if config is None else None, engine, quant)
    k = _constraints(context=context, prompt_tokens=prompt_tokens, batch=batch or 1, max_ttft=None,
                     max_token_latency=None, min_tokens_per_s=None, min_total_tokens_per_s=None,
                     min_accuracy=None, benchmark=None, task=None, allow_unknown=True, released_only=False,
                     license=None, engine=engine, quant=quant, kv_dtype=kv_dtype, family=None,
                     max_params=None, prefer="balanced", output_tokens=output_tokens)
    bounded("--concurrency", batch)
    k = replace(k, tp=tp, pp=pp, ep=ep, dp_attention=dp_attention, mtp=mtp)
    entry, _ = _model(cat, model, config)
    path = None if config is None else str(config if config.is_dir() else config.parent)
    emit(plan_doc(plan(cat, entry, hardware(cat, gpu, vram, gpus, ram, exact=exact), k, offload=offload,
                       kubernetes=k8s, model_path=path, concurrency=batch,
                       exact_concurrency=exact_concurrency, artifact=tagged)), format)


def _ollama_tag(cat, model: str | None, engine, quant):
    """The artifact an Ollama tag names (``deepseek-r1:14b``), which names the engine and format too."""
    tagged = cat.ollama_artifact(model) if model and ":" in model else None
    if tagged is None:
        return None, engine, quant
    return tagged, engine or ["ollama"], quant or [tagged.format]
