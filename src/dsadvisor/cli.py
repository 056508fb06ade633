"""The command line: a thin layer over the library. Errors become exit codes here and only here.

Exit codes (docs/cli.md):
  0  success; for ``check``: the deployment passes every rule
  1  ``check``: the deployment fails a rule
  2  usage error: an unknown option, a bad or conflicting value
  3  unknown name: model, GPU, format or engine (with suggestions)
  4  catalog error: a file that cannot be read or does not validate
  5  no GPU found (``--gpu auto``)
  6  ``check``: undetermined (a rule could not be evaluated and --allow-unknown was not given)
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from . import __version__
from .render import Document, OutputFormat

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


def finite(name: str, value: float | None, *, low: float = 0.0, high: float = math.inf,
           inclusive_low: bool = False) -> float | None:
    """Reject NaN, infinities and values outside (low, high]; one line for stderr."""
    if value is None:
        return None
    if not math.isfinite(value):
        raise ExitWith(EXIT_USAGE, f"{name} must be a finite number, not {value}")
    if value < low or (value == low and not inclusive_low) or value > high:
        bound = f"between {low:g} and {high:g}" if math.isfinite(high) else f"greater than {low:g}"
        raise ExitWith(EXIT_USAGE, f"{name} must be {bound}, not {value:g}")
    return value


def load(paths: list[Path] | None):
    from .catalog import load_catalog

    return load_catalog(paths)


def emit(doc: Document, fmt: OutputFormat) -> None:
    sys.stdout.write(fmt.renderer().render(doc))


def version_callback(value: bool) -> None:
    if value:
        sys.stdout.write(f"dsadvisor {__version__}\n")
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
    from .summaries import SORT_KEYS, list_models
    from .views import models_doc

    _choice("--status", status, ("released", "described"))
    _choice("--kind", kind, ("model", "edition", "sdk", "peer"))
    _choice("--task", task, ("general", "code", "math", "reasoning", "chat", "vision"))
    _choice("--sort", sort, tuple(SORT_KEYS))
    lo = finite("--min-params", min_params, inclusive_low=True)
    hi = finite("--max-params", max_params, inclusive_low=True)
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
    from .summaries import summarize
    from .views import show_doc

    cat = load(catalog)
    entry = cat.model(model)
    emit(show_doc(cat, entry, summarize(cat, entry)), format)


@catalog_app.command("validate")
def validate_cmd(
    files: Annotated[list[Path], typer.Argument(help="YAML files or folders to check.", show_default=False)],
    format: FormatOpt = OutputFormat.table,
) -> None:
    """Check catalog YAML: every problem, with file, entry and field. Exit 4 if any."""
    from .catalog import load_catalog
    from .errors import CatalogError
    from .views import problems_doc

    problems: list[str] = []
    try:
        load_catalog(files, use_env=False)
    except CatalogError as exc:
        problems = exc.problems
    emit(problems_doc([str(f) for f in files], problems), format)
    if problems:
        for p in problems:
            sys.stderr.write(f"dsadvisor: {p}\n")
        raise ExitWith(EXIT_CATALOG)


@app.command("gpus")
def gpus_cmd(
    category: Annotated[Optional[str], typer.Option(
        help="datacenter | workstation | consumer | edge | apple | mobile | cpu")] = None,
    catalog: CatalogOpt = None,
    format: FormatOpt = OutputFormat.table,
) -> None:
    """List the accelerators the catalog knows."""
    from .hardware import capacity_bytes
    from .views import gpus_doc

    cat = load(catalog)
    gpus = [g for g in cat.gpus.values() if category is None or g.category == category]
    gpus.sort(key=lambda g: (g.category, g.family, g.memory_gb, g.id))
    emit(gpus_doc(gpus, {g.id: capacity_bytes(g) for g in gpus}), format)


def _choice(flag: str, value: str | None, allowed: tuple[str, ...]) -> None:
    if value is not None and value not in allowed:
        from .errors import suggest

        guess = suggest(value, allowed, n=1)
        hint = f"; did you mean {guess[0]!r}?" if guess else f"; choose from {', '.join(allowed)}"
        raise ExitWith(EXIT_USAGE, f"{flag} {value!r} is not one of {', '.join(allowed)}{hint}")


# --------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> None:
    """Run the CLI; every error becomes one line on stderr and a documented exit code."""
    try:  # typer >= 0.29 vendors click
        from typer._click import exceptions as click
    except ImportError:  # pragma: no cover - older typer depends on click itself
        from click import exceptions as click

    from .errors import CatalogError, DsAdvisorError, InputError, UnknownNameError

    command = typer.main.get_command(app)
    code = EXIT_OK
    try:
        result = command.main(args=argv, prog_name="dsadvisor", standalone_mode=False)
        code = result if isinstance(result, int) else EXIT_OK
    except ExitWith as exc:
        if exc.message:
            sys.stderr.write(f"dsadvisor: error: {exc.message}\n")
        code = exc.code
    except (click.Exit, typer.Exit) as exc:
        code = exc.exit_code
    except click.ClickException as exc:  # usage errors: unknown option, bad type, missing argument
        hint = " (see --help)" if isinstance(exc, click.UsageError) else ""
        sys.stderr.write(f"dsadvisor: error: {exc.format_message()}{hint}\n")
        code = EXIT_USAGE
    except (click.Abort, typer.Abort):
        sys.stderr.write("dsadvisor: aborted\n")
        code = 130
    except UnknownNameError as exc:
        sys.stderr.write(f"dsadvisor: error: {exc}\n")
        code = EXIT_UNKNOWN
    except CatalogError as exc:
        for line in exc.problems:
            sys.stderr.write(f"dsadvisor: error: {line}\n")
        code = EXIT_CATALOG
    except InputError as exc:
        sys.stderr.write(f"dsadvisor: error: {exc}\n")
        code = EXIT_USAGE
    except DsAdvisorError as exc:
        sys.stderr.write(f"dsadvisor: error: {exc}\n")
        code = EXIT_USAGE
    except BrokenPipeError:  # `dsadvisor models | head`
        code = EXIT_OK
    sys.stdout.flush()
    raise SystemExit(code)
