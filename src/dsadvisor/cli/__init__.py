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

The commands by group, each in its own module: ``catalog_commands`` (models, show, catalog validate and audit,
gpus, schema), ``estimate_commands`` (estimate, layouts), ``advice_commands`` (recommend, check, plan); what they
share (the app, its root options, common option types, loading, printing, failing) in ``shared``; this module
runs one (``main``) and maps its errors to the codes above.
"""

import importlib
import os
import re
import sys

import typer

from dsadvisor.cli.shared import (EXIT_CATALOG, EXIT_FAIL, EXIT_NO_GPU, EXIT_OK, EXIT_UNKNOWN, EXIT_USAGE, ExitWith,
                                  _OVERRIDES, _lost, _stdout_lost, say)
from dsadvisor.cli.shared import app as _app  # the commands on it are those whose modules were imported

# The module that defines each command (or group), in the order the root's help lists them. A run imports the
# one module its command is in: the others' options (typing.Annotated objects, built when a module is imported)
# are not built.
COMMAND_MODULES = {
    "models": "catalog_commands", "show": "catalog_commands", "catalog": "catalog_commands",
    "gpus": "catalog_commands", "schema": "catalog_commands",
    "estimate": "estimate_commands", "layouts": "estimate_commands",
    "recommend": "advice_commands", "check": "advice_commands", "plan": "advice_commands",
}


def every_command() -> typer.Typer:
    """The app with every command defined, listed in COMMAND_MODULES' order whichever module came first."""
    for module in dict.fromkeys(COMMAND_MODULES.values()):
        importlib.import_module(f"dsadvisor.cli.{module}")
    order = list(COMMAND_MODULES)
    _app.registered_commands.sort(key=lambda c: order.index(str(c.name)))
    return _app


def __getattr__(name: str) -> typer.Typer:
    """``dsadvisor.cli.app``: the app with every command defined (docs/gen_cli.py and the tests read it)."""
    if name == "app":
        return every_command()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    """The app with only the command ``args`` names, its module imported (``COMMAND_MODULES``): typer builds
    the options of every command it holds on each run (about 8 ms for all eleven), and a run uses one. The
    whole app where more is needed: no command named (the root's help and options), a name that is no command
    (its error), shell completion. ``--version`` first: no command at all (it prints and exits before one is
    looked up, whatever follows)."""
    import copy

    if args[:1] == ["--version"] and "_DSADVISOR_COMPLETE" not in os.environ:
        only = copy.copy(_app)  # the root's eager --version answers before a command is looked up: none needed
        only.registered_commands, only.registered_groups = [], []
        return only
    if not args or args[0].startswith("-") or "_DSADVISOR_COMPLETE" in os.environ:
        return every_command()
    if args[0] in COMMAND_MODULES:
        importlib.import_module(f"dsadvisor.cli.{COMMAND_MODULES[args[0]]}")
    commands = [c for c in _app.registered_commands if c.name == args[0]]
    groups = [g for g in _app.registered_groups if g.name == args[0]]
    if not commands and not groups:
        return every_command()
    only = copy.copy(_app)  # the root's callback and settings, one command or group
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
