"""The commands that estimate one deployment: ``estimate`` (its memory, latency and throughput) and ``layouts``
(every way to split it over the GPUs, served at 1-1024 users)."""

from typing import Annotated, Optional

import typer

from dsadvisor.cli.shared import (EXIT_FAIL, EXIT_USAGE, CatalogOpt, ConfigOpt, ExitWith, FormatOpt, GpuOpt, MtpPin,
                                  OutputTokens, RamOpt, VramOpt, _model, _with_output, app, bounded, emit, load)
from dsadvisor.output.render import OutputFormat


GpusOpt = Annotated[int, typer.Option("--gpus", help="How many GPUs the deployment may use.")]


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
