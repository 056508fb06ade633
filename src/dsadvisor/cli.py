"""The command line: a thin layer over the library. Errors become exit codes here and only here.

Exit codes (docs/cli.md):
  0  success; for ``check``: the deployment passes every rule (``recommend`` exits 0 even when nothing fits)
  1  ``check``: the deployment fails a rule; ``plan``, ``layouts``: nothing fits (or meets the limits), or no engine serves the model
  2  usage error: an unknown option, a blank, bad or conflicting value, a number out of range, a result JSON cannot hold
  3  unknown name: model, GPU, format or engine (with suggestions)
  4  catalog error: a file that cannot be read or does not validate
  5  no GPU found (``--gpu auto``)
  6  ``check``: undetermined (a rule could not be evaluated and --allow-unknown was not given)

Whatever becomes of stdout (closed, full, a reader that stops early) the exit code stays the command's own.
"""

import os
import re
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from dsadvisor import __version__
from dsadvisor.output.render import Document, OutputFormat

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_UNKNOWN, EXIT_CATALOG, EXIT_NO_GPU, EXIT_UNDETERMINED = 0, 1, 2, 3, 4, 5, 6

app = typer.Typer(
    name="dsadvisor",
    help="Which DeepSeek model to run on your hardware, how, and how fast it will be.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
catalog_app = typer.Typer(help="Check catalog files and the conflicts between sources.", no_args_is_help=True,
                          rich_markup_mode=None)
app.add_typer(catalog_app, name="catalog")

CatalogOpt = Annotated[Optional[list[Path]], typer.Option(
    "--catalog", help="Extra catalog YAML file or folder (repeatable; also $DSADVISOR_CATALOG). "
    "Entries with a bundled id replace the bundled ones.", show_default=False)]
FormatOpt = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]


class ExitWith(Exception):
    def __init__(self, code: int, message: str = ""):
        self.code, self.message = code, message


def bounded(flag: str, value: float | None) -> float | None:
    """``value`` when it is within ``flag``'s range (``dsadvisor.limits.BOUNDS``); else exit 2 saying the range."""
    from dsadvisor.limits import problem

    message = problem(flag, value)
    if message:
        raise ExitWith(EXIT_USAGE, message)
    return value


def load(paths: list[Path] | None):
    from dsadvisor.catalog.store import load_catalog
    from dsadvisor.physics.artifacts import checked

    return said_overrides(checked(load_catalog(paths, derive=_derived)))


def _derived(catalog) -> None:
    """What the search asks of the catalog alone, worked out before a freshly built catalog is cached."""
    from dsadvisor.advice.search import derived

    derived(catalog)


_OVERRIDES: list[dict[str, str]] = []  # this run's replaced bundled entries: in every JSON document it prints


def said_overrides(catalog):
    """Note on stderr, once per run, every bundled entry a user's file replaced (a CI gate's verdict can hang
    on it), and keep them for the documents' ``catalog_overrides``."""
    from dsadvisor.errors import clipped, quoted

    found = [{"id": o.id, "kind": o.kind, "file": o.file} for o in catalog.overrides]
    if found and found != _OVERRIDES:
        _OVERRIDES[:] = found
        if len(found) == 1:
            o = found[0]
            say(f"note: {clipped(o['file'])} replaces the bundled {o['kind']} {quoted(o['id'])}")
        else:
            shown = ", ".join(f"{o['kind']} {quoted(o['id'])} ({clipped(o['file'])})" for o in found[:5])
            rest = f", and {len(found) - 5:,} more" if len(found) > 5 else ""
            say(f"note: your catalog files replace {len(found):,} bundled entries: {shown}{rest}")
    return catalog


def emit(doc: Document, fmt: OutputFormat) -> None:
    """Write ``doc``; a stdout that takes nothing more (closed by its reader, full) is noted, not raised,
    so the command still ends with its own exit code (check: its verdict)."""
    if "schema_version" in doc.data:  # every document says which bundled entries a user's file replaced
        from dataclasses import replace

        doc = replace(doc, data={**doc.data, "catalog_overrides": [dict(o) for o in _OVERRIDES]})
    text = fmt.renderer().render(doc)
    try:
        try:
            sys.stdout.write(text)
        except UnicodeEncodeError:  # a stdout that cannot carry the CJK notes (cp1252, PYTHONIOENCODING=ascii)
            sys.stdout.write(_ascii(doc, fmt, text))
    except OSError as exc:  # EPIPE: `| head -c1`; ENOSPC: `> /dev/full`
        _stdout_lost(exc)


_lost: list[str] = []  # why stdout took no more output in this run (main() resets it)


def _stdout_lost(exc: OSError | str) -> None:
    """Note why stdout failed and point it at /dev/null: the rest of the run, and the interpreter's last
    flush, write nowhere instead of raising again."""
    if not _lost:
        import errno

        _lost.append(exc if isinstance(exc, str) else
                     "the reader of stdout closed it before all the output was written" if isinstance(
                         exc, BrokenPipeError) else "stdout is closed: the output was not written"
                     if exc.errno == errno.EBADF else f"could not write the output: {exc.strerror or exc}")
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError, AttributeError):  # no file descriptor (an in-process caller's buffer)
        sys.stdout = open(os.devnull, "w", encoding="utf-8")


def _ascii(doc: Document, fmt: OutputFormat, text: str) -> str:
    """The same output in ASCII: JSON and YAML with their own escapes (still parseable), the rest backslashed."""
    if fmt is OutputFormat.json:
        import json

        return json.dumps(doc.data, indent=2, ensure_ascii=True, allow_nan=False) + "\n"
    if fmt is OutputFormat.yaml:
        import yaml

        return yaml.safe_dump(doc.data, sort_keys=False, allow_unicode=False)
    return text.encode("ascii", "backslashreplace").decode("ascii")


# A newline or other control character inside a name or path would split an error line (or drive the terminal)
_CONTROL = {c: repr(chr(c))[1:-1] for c in (*range(0x20), 0x7F, *range(0x80, 0xA0), 0x2028, 0x2029) if c != 0x09}


def say(message: str) -> None:
    """One line on stderr, prefixed ``dsadvisor:``; control characters in it are escaped."""
    try:
        sys.stderr.write(f"dsadvisor: {message.rstrip(chr(10)).translate(_CONTROL)}\n")
    except (OSError, AttributeError, ValueError):  # stderr closed too: the exit code is all that is left
        pass


def version_callback(value: bool) -> None:
    if value:
        try:
            sys.stdout.write(f"dsadvisor {__version__}\n")
        except OSError as exc:
            _stdout_lost(exc)
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.",
                                          callback=version_callback, is_eager=True)] = False,
) -> None:
    """Which DeepSeek model to run on your hardware, how, and how fast it will be."""


# ------------------------------------------------------------------ catalog

@app.command("models")
def models_cmd(
    status: Annotated[Optional[str], typer.Option(help="released | described")] = None,
    family: Annotated[Optional[str], typer.Option(help="e.g. v3, r1-distill, coder, seed-articles")] = None,
    kind: Annotated[Optional[str], typer.Option(help="model | edition | sdk | peer")] = None,
    task: Annotated[Optional[str], typer.Option(help="general | code | math | reasoning | chat | vision")] = None,
    min_params: Annotated[Optional[float], typer.Option(help="Smallest total, in billions.")] = None,
    max_params: Annotated[Optional[float], typer.Option(help="Largest total, in billions.")] = None,
    sort: Annotated[str, typer.Option(help="id | params | released | family | status")] = "id",
    catalog: CatalogOpt = None,
    format: FormatOpt = OutputFormat.table,
) -> None:
    """List the catalog's models: described variants and released checkpoints."""
    from dsadvisor.advice.summaries import SORT_KEYS, list_models
    from dsadvisor.output.views import models_doc

    _choice("--status", status, ("released", "described"))
    _choice("--kind", kind, ("model", "edition", "sdk", "peer"))
    _choice("--task", task, ("general", "code", "math", "reasoning", "chat", "vision"))
    _choice("--sort", sort, tuple(SORT_KEYS))
    lo = bounded("--min-params", min_params)
    hi = bounded("--max-params", max_params)
    if lo is not None and hi is not None and lo > hi:
        raise ExitWith(EXIT_USAGE, f"--min-params {lo:g} is larger than --max-params {hi:g}")
    rows = list_models(load(catalog), status=status, family=family, kind=kind, task=task,
                       min_params=lo * 1e9 if lo is not None else None,
                       max_params=hi * 1e9 if hi is not None else None, sort=sort)
    emit(models_doc(rows), format)


@app.command("show")
def show_cmd(
    model: Annotated[str, typer.Argument(help="Catalog id, name, Hugging Face repo or alias.")],
    catalog: CatalogOpt = None,
    format: FormatOpt = OutputFormat.table,
) -> None:
    """Every field of one model with its source, and the conflicts between sources."""
    from dsadvisor.advice.summaries import summarize
    from dsadvisor.output.views import show_doc

    cat = load(catalog)
    entry = cat.model(model)
    emit(show_doc(cat, entry, summarize(cat, entry)), format)


@catalog_app.command("validate")
def validate_cmd(
    files: Annotated[list[Path], typer.Argument(help="YAML files or folders to check.", show_default=False)],
    format: FormatOpt = OutputFormat.table,
) -> None:
    """Check catalog YAML: every problem, with file, entry and field. Exit 4 if any."""
    from dsadvisor.catalog.store import load_catalog
    from dsadvisor.errors import CatalogError
    from dsadvisor.output.views import problems_doc

    from dsadvisor.physics.artifacts import checked

    problems: list[str] = []
    more, more_line = 0, ""
    try:
        said_overrides(checked(load_catalog(files, use_env=False)))
    except CatalogError as exc:
        problems, more, more_line = exc.problems, exc.more, exc.more_line()
    emit(problems_doc([str(f) for f in files], problems, more, more_line), format)
    if problems or more:
        for p in [*problems, more_line] if more_line else problems:
            say(p)
        raise ExitWith(EXIT_CATALOG)


@catalog_app.command("audit")
def audit_cmd(
    kind: Annotated[Optional[str], typer.Option(help="conflict | contradiction | advice | params")] = None,
    catalog: CatalogOpt = None,
    format: FormatOpt = OutputFormat.table,
) -> None:
    """List the conflicts between sources and the claims the catalog's own facts contradict."""
    from dsadvisor.advice.audit import audit
    from dsadvisor.output.views import audit_doc

    _choice("--kind", kind, ("conflict", "contradiction", "advice", "params"))
    findings = [f for f in audit(load(catalog)) if kind is None or f.kind == kind]
    emit(audit_doc(findings), format)


GPU_CATEGORIES = ("datacenter", "workstation", "consumer", "edge", "apple", "mobile", "cpu")  # schema.Gpu.category


@app.command("gpus")
def gpus_cmd(
    category: Annotated[Optional[str], typer.Option(help=" | ".join(GPU_CATEGORIES))] = None,
    catalog: CatalogOpt = None,
    format: FormatOpt = OutputFormat.table,
) -> None:
    """List the accelerators the catalog knows."""
    from dsadvisor.catalog.hardware import capacity_bytes
    from dsadvisor.output.views import gpus_doc

    _choice("--category", category, GPU_CATEGORIES)
    cat = load(catalog)
    gpus = [g for g in cat.gpus.values() if category is None or g.category == category]
    gpus.sort(key=lambda g: (g.category, g.family, g.memory_gb, g.id))
    emit(gpus_doc(gpus, {g.id: capacity_bytes(g) for g in gpus}), format)


@app.command("schema")
def schema_cmd(
    command: Annotated[Optional[str], typer.Argument(
        help="estimate | check | recommend | plan | models | show | gpus | catalog-validate | catalog-audit | layouts",
        show_default=False)] = None,
) -> None:
    """Print the JSON Schema of a command's --format json output (no COMMAND: list them)."""
    from dsadvisor.output.schema_files import COMMANDS, schema_text

    sys.stdout.write(schema_text(command) if command is not None else "\n".join(COMMANDS) + "\n")


# ----------------------------------------------------------------- estimate

GpuOpt = Annotated[Optional[str], typer.Option(
    "--gpu", help="GPU: family (A100), variant (H100-PCIe), nvidia-smi name, or 'auto' to detect.")]
VramOpt = Annotated[Optional[float], typer.Option("--vram", help="GPU memory in GB (alone: a device not in the catalog).")]
GpusOpt = Annotated[int, typer.Option("--gpus", help="How many GPUs the deployment may use.")]
RamOpt = Annotated[Optional[float], typer.Option("--ram", help=(
    "System memory in GB: the memory of a unified-memory device (Apple, Jetson, Raspberry Pi, phone), "
    "else the host memory llama.cpp may keep a MoE model's routed experts in (--n-cpu-moe, offered when the "
    "rest fits the GPUs) or whole layers in (plan --offload)."))]
ConfigOpt = Annotated[Optional[Path], typer.Option(
    "--config", help="A local Hugging Face config.json (or its folder) instead of a catalog model.")]
MtpPin = Annotated[Optional[int], typer.Option(
    "--mtp", help="Speculative decoding: draft this many tokens a step (1-3) with the model's own multi-token-"
    "prediction layer (DeepSeek-V3, R1, V3.1, V3.2, V4; vLLM, SGLang, TensorRT-LLM). 0: off.", show_default=False)]


def _model(cat, model: str | None, config: Path | None):
    from dsadvisor.catalog.resolve import model_from_config

    if config is not None and model is not None:
        raise ExitWith(EXIT_USAGE, "give a MODEL or --config, not both")
    if config is not None:
        return model_from_config(config)
    if model is None:
        raise ExitWith(EXIT_USAGE, "give a MODEL (see `dsadvisor models`) or --config config.json")
    entry = cat.model(model)
    return entry, None


OutputTokens = Annotated[Optional[int], typer.Option("--output-tokens", help=(
    "Tokens out per request: the context is --prompt-tokens (default 2048) plus these."), show_default=False)]


@app.command("estimate")
def estimate_cmd(
    model: Annotated[Optional[str], typer.Argument(help="Catalog model (id, name, HF repo or alias).")] = None,
    gpu: GpuOpt = None,
    vram: VramOpt = None,
    gpus: GpusOpt = 1,
    ram: RamOpt = None,
    quant: Annotated[Optional[str], typer.Option("--quant", help="Weight format (default: as shipped).")] = None,
    kv_dtype: Annotated[str, typer.Option("--kv-dtype", help="KV cache dtype: auto | fp8 | q8_0 | ...")] = "auto",
    context: Annotated[Optional[int], typer.Option(help="Tokens per sequence, prompt + output.")] = None,
    prompt_tokens: Annotated[Optional[int], typer.Option("--prompt-tokens", help="Prompt length for TTFT.")] = None,
    batch: Annotated[int, typer.Option("--concurrency", "--batch", help=(
        "Requests in flight at once (each: --prompt-tokens in, the rest of --context out)."))] = 1,
    output_tokens: OutputTokens = None,
    engine: Annotated[Optional[str], typer.Option(
        help="vllm | sglang | tensorrt-llm | llama.cpp | transformers (default: vllm; where it cannot run or load "
        "the model, the first engine that runs the format there).", show_default=False)] = None,
    memory_fraction: Annotated[Optional[float], typer.Option(
        "--memory-fraction", help="Override the engine's share of GPU memory (vLLM gpu_memory_utilization).")] = None,
    tp: Annotated[Optional[int], typer.Option("--tp", help="Pin tensor parallel GPUs per stage (default: chosen).",
                                              show_default=False)] = None,
    pp: Annotated[Optional[int], typer.Option("--pp", help="Pin pipeline stages (default: chosen).",
                                              show_default=False)] = None,
    ep: Annotated[Optional[bool], typer.Option("--ep/--no-ep", help="Pin expert parallel on or off (MoE).",
                                               show_default=False)] = None,
    dp_attention: Annotated[Optional[int], typer.Option(
        "--dp-attention", help="Data-parallel attention groups (MoE; SGLang --dp): each holds only its requests' "
        "KV cache.", show_default=False)] = None,
    mtp: MtpPin = None,
    config: ConfigOpt = None,
    catalog: CatalogOpt = None,
    format: FormatOpt = OutputFormat.table,
) -> None:
    """Memory per GPU, time to first token, per-token latency and throughput of one deployment,
    and what each request sees with --concurrency requests in flight."""
    from dsadvisor.physics.estimate import Deployment
    from dsadvisor.catalog.resolve import check_workload, default_quant, resolve_hardware
    from dsadvisor.engines import require_supported

    bounded("--memory-fraction", memory_fraction)
    context, prompt_tokens = _with_output(context, prompt_tokens, output_tokens)
    check_workload(context, prompt_tokens, batch)
    cat = load(catalog)
    entry, arch = _model(cat, model, config)
    hw = resolve_hardware(cat, gpu, vram, gpus, ram)
    fmt = cat.quantization(quant or default_quant(entry, hw.gpu))
    if engine is None:
        from dsadvisor.engines import default_engine

        engine = default_engine(cat, entry, hw.gpu, fmt, arch or cat.architecture(entry))
    dep = Deployment.of(
        cat, model=entry, gpu=hw.gpu, quant=fmt, engine=cat.engine(engine),
        kv_dtype=kv_dtype, gpus=hw.count, context=context, prompt_tokens=prompt_tokens, batch=batch,
        memory_fraction=memory_fraction, capacity_bytes=hw.free_bytes, architecture=arch,
    )
    dep = _pinned(dep, tp, pp, ep, dp_attention, mtp)
    require_supported(cat, dep)  # the engine's own support matrix, as recommend, check and plan apply it
    _emit_estimate(_experts_moved(cat, dep, hw.host_bytes), format)


def _pinned(dep, tp, pp, ep, dp_attention, mtp):
    """``dep`` with the layout estimate's --tp/--pp/--ep/--dp-attention/--mtp pin (each in its range)."""
    if (tp, pp, ep, dp_attention) == (None, None, None, None) and not mtp:
        return dep
    from dsadvisor.physics.estimate import pin_layout

    for flag, value in (("--tp", tp), ("--pp", pp), ("--dp-attention", dp_attention), ("--mtp", mtp)):
        bounded(flag, value)
    return pin_layout(dep, tp=tp, pp=pp, ep=ep, dp_attention=dp_attention, mtp=mtp)


def _emit_estimate(dep, format) -> None:
    """The estimate under load (its notes say when the KV cache runs fewer requests than asked); exit 2 for
    a layout the engine cannot launch."""
    from dsadvisor.engines import serving_engine
    from dsadvisor.output.views import estimate_doc
    from dsadvisor.serving.server import estimate_serving

    est, served = estimate_serving(dep)
    problem = serving_engine(dep.engine).layout_problem(est)
    if problem:
        raise ExitWith(EXIT_USAGE, problem)
    emit(estimate_doc(est, served), format)


def _experts_moved(cat, dep, host_bytes: float | None):
    """``dep`` with the routed experts that do not fit kept in system memory when the engine can and
    --ram says how much there is (llama.cpp --n-cpu-moe), as recommend, check and plan judge it."""
    from dsadvisor.engines import serving_engine
    from dsadvisor.physics.estimate import estimate, offload_experts
    from dsadvisor.physics.offload import HOST_CPU

    if host_bytes is None or not serving_engine(dep.engine).offloads_experts:
        return dep
    moved = offload_experts(dep, estimate(dep), cat.gpus[HOST_CPU], host_bytes)
    return moved[0] if moved else dep


@app.command("layouts")
def layouts_cmd(
    model: Annotated[Optional[str], typer.Argument(help="Catalog model (id, name, HF repo or alias).")] = None,
    gpu: GpuOpt = None,
    vram: VramOpt = None,
    gpus: GpusOpt = 8,
    ram: RamOpt = None,
    quant: Annotated[Optional[str], typer.Option("--quant", help="Weight format (default: as shipped).")] = None,
    kv_dtype: Annotated[str, typer.Option("--kv-dtype", help="KV cache dtype: auto | fp8 | q8_0 | ...")] = "auto",
    engine: Annotated[str, typer.Option(help="vllm | sglang | tensorrt-llm")] = "sglang",
    prompt_tokens: Annotated[int, typer.Option("--prompt-tokens", help="Tokens in per request.")] = 2048,
    output_tokens: Annotated[int, typer.Option("--output-tokens", help="Tokens out per request.")] = 512,
    max_ttft: Annotated[Optional[float], typer.Option("--max-ttft", help="Maximum time to first token, seconds.",
                                                      show_default=False)] = None,
    max_token_latency: Annotated[Optional[float], typer.Option(
        "--max-token-latency", help="Maximum time per output token, ms.", show_default=False)] = None,
    config: ConfigOpt = None,
    catalog: CatalogOpt = None,
    format: FormatOpt = OutputFormat.table,
) -> None:
    """Every way to split a model over the GPUs, served at 1-1024 users: the Pareto frontier of
    tokens/s per GPU against tokens/s per user, the best layout within --max-ttft and
    --max-token-latency, and how many users it serves within them (goodput). -f svg or html: the chart.
    Exit 1 when no layout meets the limits, naming the smallest TTFT and TPOT reachable."""
    from dsadvisor.catalog.resolve import default_quant, resolve_hardware
    from dsadvisor.output.layout_views import layouts_doc
    from dsadvisor.physics.estimate import Deployment
    from dsadvisor.serving.search import Limits, search

    for flag, value in (("--prompt-tokens", prompt_tokens), ("--output-tokens", output_tokens),
                        ("--max-ttft", max_ttft), ("--max-token-latency", max_token_latency)):
        bounded(flag, value)
    cat = load(catalog)
    entry, arch = _model(cat, model, config)
    hw = resolve_hardware(cat, gpu, vram, gpus, ram)
    dep = Deployment.of(cat, model=entry, gpu=hw.gpu, quant=cat.quantization(quant or default_quant(entry, hw.gpu)),
                        engine=cat.engine(engine), kv_dtype=kv_dtype, gpus=hw.count, capacity_bytes=hw.free_bytes,
                        architecture=arch)
    limits = Limits(max_ttft_s=max_ttft, max_tpot_s=max_token_latency / 1e3 if max_token_latency else None)
    found = search(dep, prompt_tokens, output_tokens, limits)
    emit(layouts_doc(found, _pools(cat, found)), format)
    unmet = found.unmet()
    if unmet:  # the frontier is printed; the exit code says no layout meets the limits
        raise ExitWith(EXIT_FAIL, unmet)


def _pools(cat, found) -> tuple[list[str], list[str]]:
    """The launch commands of the best layout when it is disaggregated and the engine's are written."""
    best = found.best
    if best is None or best.split is None or found.deployment.engine.id != "sglang":
        return [], []
    from dsadvisor.launch.disaggregated import pool_commands

    return pool_commands(cat, found.deployment, best.split, best.serving.concurrency, found.prompt_tokens,
                         found.output_tokens)


# ---------------------------------------------------------- recommend / check

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


def _with_output(context: int | None, prompt: int | None, output: int | None) -> tuple[int | None, int | None]:
    """--context and --prompt-tokens with --output-tokens folded in: the context is prompt + output."""
    if output is None:
        return context, prompt
    bounded("--output-tokens", output)
    from dsadvisor.serving.workload import DEFAULT_PROMPT_TOKENS

    if context is not None:
        raise ExitWith(EXIT_USAGE, "give --context or --output-tokens, not both (the context is prompt + output)")
    prompt = prompt or DEFAULT_PROMPT_TOKENS
    return prompt + output, prompt


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


def _choice(flag: str, value: str | None, allowed: tuple[str, ...]) -> None:
    if value is not None and value not in allowed:
        from dsadvisor.errors import quoted, suggest

        guess = suggest(value, allowed, n=1)
        hint = f"; did you mean {guess[0]!r}?" if guess else ""
        raise ExitWith(EXIT_USAGE, f"{flag} {quoted(value)} is not one of {', '.join(allowed)}{hint}")


# --------------------------------------------------------------------- main

def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    import warnings

    from dsadvisor.errors import CatalogWarning

    if issubclass(category, CatalogWarning):
        say(f"warning: {message}")
    else:  # another package's warning: as Python would print it
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; every error becomes one line on stderr and a documented exit code.

    Whatever becomes of stdout (closed with ``>&-``, ``/dev/full``, a reader that stops early) the exit
    code is the command's own (check: its verdict) and stderr gets one line saying the output was lost.
    """
    _lost.clear()
    _OVERRIDES.clear()
    given = sys.stdout
    if sys.stdout is None:  # started with stdout closed
        sys.stdout = open(os.devnull, "w", encoding="utf-8")
        _lost.append("stdout is closed: the output was not written")
    from dsadvisor import records
    from dsadvisor.catalog import cache

    records.use_store(cache)  # the record methods compiled by earlier runs, and this run's for the next
    code = _run(argv)
    records.save_compiled()
    try:
        sys.stdout.flush()  # a pipe holds back up to 8 KB: its EPIPE comes here
    except OSError as exc:
        _stdout_lost(exc)
    if _lost:
        say(f"{'' if _lost[0].startswith('the reader') else 'error: '}{_lost[0]} (exit code {code} is the "
            f"command's own)")
    if given is not None and sys.stdout is not given:  # an in-process caller gets its stdout back
        sys.stdout = given
    raise SystemExit(code)


def _run(argv: list[str] | None) -> int:
    """The command's exit code, every error mapped (docs/cli.md#exit-codes)."""
    try:  # typer >= 0.29 vendors click
        from typer._click import exceptions as click
    except ImportError:  # pragma: no cover - older typer depends on click itself
        from click import exceptions as click  # type: ignore[no-redef]

    from dsadvisor.errors import CatalogError, DsAdvisorError, NoFitError, NoGpuError, UnknownNameError

    import warnings

    from dsadvisor.errors import CatalogWarning

    command = typer.main.get_command(_app_for(sys.argv[1:] if argv is None else argv))
    _refuse_blanks(command)
    _accept_units(command)
    code = EXIT_OK
    try:
        with warnings.catch_warnings():  # the library's warnings: one `dsadvisor: warning:` line each
            warnings.simplefilter("always", CatalogWarning)
            warnings.showwarning = _show_warning
            result = command.main(args=argv, prog_name="dsadvisor", standalone_mode=False)
        code = result if isinstance(result, int) else EXIT_OK
    except ExitWith as exc:
        if exc.message:
            say(f"error: {exc.message}")
        code = exc.code
    except typer.Exit as exc:
        code = exc.exit_code
    except getattr(click, "NoArgsIsHelpError", ()) as exc:  # a bare `dsadvisor`: the help (click >= 8.2)
        say_raw(exc.format_message())
        code = EXIT_USAGE
    except click.ClickException as exc:  # usage errors: unknown option, bad type, missing argument
        hint = " (see --help)" if isinstance(exc, click.UsageError) else ""
        say(f"error: {exc.format_message()}{hint}")
        code = EXIT_USAGE
    except typer.Abort:
        say("aborted")
        code = 130
    except UnknownNameError as exc:
        say(f"error: {exc}")
        code = EXIT_UNKNOWN
    except CatalogError as exc:
        for line in [*exc.problems, exc.more_line()] if exc.more else exc.problems:
            say(f"error: {line}")
        code = EXIT_CATALOG
    except (NoFitError, NoGpuError) as exc:  # plan, layouts: nothing fits; --gpu auto: no GPU found
        say(f"error: {exc}")
        code = EXIT_FAIL if isinstance(exc, NoFitError) else EXIT_NO_GPU
    except DsAdvisorError as exc:  # InputError, OutputError: a value or combination that cannot be answered
        say(f"error: {exc}")
        code = EXIT_USAGE
    except BrokenPipeError as exc:  # a write outside emit()
        _stdout_lost(exc)
    except SystemExit:  # typer's own EPIPE exit (1) while click wrote the help: `dsadvisor --help | head -c1`
        if type(sys.stdout).__name__ != "PacifyFlushWrapper":
            raise
        sys.stdout, sys.stderr = getattr(sys.stdout, "wrapped"), getattr(sys.stderr, "wrapped", sys.stderr)
        _stdout_lost(BrokenPipeError(32, "Broken pipe"))
    return code


def _app_for(args: list[str]) -> typer.Typer:
    """The app with only the command ``args`` names: typer builds the options of every command it holds on
    each run (about 8 ms for all eleven), and a run uses one. The whole app where more is needed: no
    command named (the root's help and options), a name that is no command (its error), shell completion."""
    import copy

    if not args or args[0].startswith("-") or "_DSADVISOR_COMPLETE" in os.environ:
        return app
    commands = [c for c in app.registered_commands if c.name == args[0]]
    groups = [g for g in app.registered_groups if g.name == args[0]]
    if not commands and not groups:
        return app
    only = copy.copy(app)  # the root's callback and settings, one command or group
    only.registered_commands, only.registered_groups = commands, groups
    return only


def _refuse_blanks(command) -> None:
    """Every text or path a command takes refuses an empty or all-blank value (exit 2): `--license "$UNSET"`
    must not pass a CI gate, nor `--catalog ''` read the current folder (``Path('')`` is ``.``)."""
    try:  # typer >= 0.29 vendors click
        from typer._click import types
    except ImportError:  # pragma: no cover - older typer depends on click itself
        from click import types  # type: ignore[no-redef]

    class NotBlank(types.ParamType):
        def __init__(self, inner):
            self.inner, self.name = inner, inner.name

        def get_metavar(self, *args, **kwargs):
            return self.inner.get_metavar(*args, **kwargs)

        def convert(self, value, param, ctx):
            if isinstance(value, str) and not value.strip():
                self.fail(f"{value!r} is blank; give a value (an unset shell variable?)", param, ctx)
            return self.inner.convert(value, param, ctx)

    todo = [command]
    while todo:
        cmd = todo.pop()
        todo += list(getattr(cmd, "commands", {}).values())
        for param in cmd.params:
            path = type(param.type).__name__ in ("Path", "TyperPath")  # click's, or typer's own (typer >= 0.28)
            if isinstance(param.type, types.StringParamType) or path:
                param.type = NotBlank(param.type)


# Numbers a user may type with their unit (`--vram 80GB`, `--max-ttft 500ms`): each option's units and what one
# of each is in the option's own unit; a bare number is in the option's unit, as before.
_GB = {"gb": 1.0, "g": 1.0, "tb": 1000.0, "t": 1000.0}
UNITS: dict[str, tuple[str, dict[str, float]]] = {
    "vram": ("GB", _GB), "ram": ("GB", _GB),
    "max_ttft": ("seconds", {"s": 1.0, "sec": 1.0, "ms": 1e-3}),
    "max_token_latency": ("ms", {"ms": 1.0, "s": 1000.0, "sec": 1000.0}),
}
_NUMBER_UNIT = re.compile(r"\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-z]+)\s*")


def _accept_units(command) -> None:
    """``--vram 80GB``, ``--ram 1TB``, ``--max-ttft 500ms``, ``--max-token-latency 0.05s``: the number in the
    option's own unit; another unit is refused naming the ones it takes."""
    try:  # typer >= 0.29 vendors click
        from typer._click import types
    except ImportError:  # pragma: no cover - older typer depends on click itself
        from click import types  # type: ignore[no-redef]

    class WithUnit(types.ParamType):
        def __init__(self, inner, unit: str, units: dict[str, float]):
            self.inner, self.name, self.unit, self.units = inner, inner.name, unit, units

        def get_metavar(self, *args, **kwargs):
            return self.inner.get_metavar(*args, **kwargs)

        def convert(self, value, param, ctx):
            m = _NUMBER_UNIT.fullmatch(value) if isinstance(value, str) else None
            if m is None:
                return self.inner.convert(value, param, ctx)
            factor = self.units.get(m.group(2).lower())
            if factor is None:
                self.fail(f"{value!r}: give {self.unit} (a number, or with {', '.join(sorted(self.units))})",
                          param, ctx)
            return float(m.group(1)) * factor

    todo = [command]
    while todo:
        cmd = todo.pop()
        todo += list(getattr(cmd, "commands", {}).values())
        for param in cmd.params:
            if param.name in UNITS and isinstance(param.type, types.FloatParamType):
                param.type = WithUnit(param.type, *UNITS[param.name])


def say_raw(text: str) -> None:
    """Text for stderr as it is (the help); nothing if stderr is closed."""
    try:
        sys.stderr.write(text.rstrip("\n") + "\n")
    except (OSError, AttributeError, ValueError):
        pass
