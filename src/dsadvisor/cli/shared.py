"""What every command shares: the typer app and its root options (``--version``), the option types several
commands take, loading the catalog, printing a document, and failing with one line and an exit code
(``ExitWith``; the codes are listed in ``dsadvisor.cli``'s docstring)."""

import os
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

GpuOpt = Annotated[Optional[str], typer.Option(
    "--gpu", help="GPU: family (A100), variant (H100-PCIe), nvidia-smi name, or 'auto' to detect.")]
VramOpt = Annotated[Optional[float], typer.Option("--vram", help="GPU memory in GB (alone: a device not in the catalog).")]

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


def _choice(flag: str, value: str | None, allowed: tuple[str, ...]) -> None:
    if value is not None and value not in allowed:
        from dsadvisor.errors import quoted, suggest

        guess = suggest(value, allowed, n=1)
        hint = f"; did you mean {guess[0]!r}?" if guess else ""
        raise ExitWith(EXIT_USAGE, f"{flag} {quoted(value)} is not one of {', '.join(allowed)}{hint}")
