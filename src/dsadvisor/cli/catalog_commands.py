"""The commands that read the catalog: ``models``, ``show``, ``catalog validate``, ``catalog audit``, ``gpus``
and ``schema``."""

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from dsadvisor.cli.shared import (EXIT_CATALOG, EXIT_USAGE, CatalogOpt, ExitWith, FormatOpt, _choice, app, bounded,
                                  catalog_app, emit, load, said_overrides, say)
from dsadvisor.output.render import OutputFormat


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


class SchemaFormat(str, Enum):
    """The formats a JSON Schema is printed in."""

    json = "json"
    yaml = "yaml"


@app.command("schema")
def schema_cmd(
    command: Annotated[Optional[str], typer.Argument(
        help="estimate | check | recommend | plan | models | show | gpus | catalog-validate | catalog-audit | layouts",
        show_default=False)] = None,
    format: Annotated[Optional[SchemaFormat], typer.Option(
        "--format", "-f", help="Output format (default: json).", show_default=False)] = None,
) -> None:
    """Print the JSON Schema of a command's --format json output (no COMMAND: list them)."""
    import json

    from dsadvisor.output.schema_files import COMMANDS, schema_text

    if format is SchemaFormat.yaml:  # -f as every command takes it (`schema check -f json` was "No such option")
        import yaml

        shown = json.loads(schema_text(command)) if command is not None else list(COMMANDS)
        sys.stdout.write(yaml.safe_dump(shown, sort_keys=False, allow_unicode=True))
    elif command is None:
        sys.stdout.write(json.dumps(list(COMMANDS)) + "\n" if format else "\n".join(COMMANDS) + "\n")
    else:
        sys.stdout.write(schema_text(command))
