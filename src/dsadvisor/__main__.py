"""The program: ``python -m dsadvisor`` and the ``dsadvisor`` script both call ``run()``."""

import gc
import os
import sys


def run() -> None:
    """``dsadvisor.cli.main()`` on the command line's arguments, then out without the interpreter's teardown.

    A run is short and leaves little cyclic garbage (~7,000 objects, under 1 MB, of an A100 ``recommend``), so
    the cycle collector is off from the start, before typer and the package are imported: it walked the heap of
    imported modules and the catalog again and again for nothing (~45M instructions of that run's 843M; a
    35,000-model catalog validated in 1.9 s instead of 5.7 s, at the same peak memory). Tearing the interpreter
    down at exit (freeing every module and object, the collector's last passes: ~38M) is skipped by
    ``os._exit`` once stdout and stderr are flushed; nothing registers an ``atexit`` handler (``main`` saves
    what it keeps: the record methods). The exit status is ``SystemExit``'s as the interpreter reads it: None
    is 0, a number itself, anything else is printed on stderr and exits 1. Under a profiler, a tracer or with an
    ``atexit`` handler registered the run ends with ``SystemExit`` as before, so they finish (``_watched``). A
    program or test that calls ``main`` keeps the collector and the teardown."""
    gc.disable()
    from dsadvisor.cli import main, say_raw

    try:
        main()
        code: object = 0
    except SystemExit as exc:
        code = exc.code
    if code is None:
        code = 0
    elif not isinstance(code, int):
        say_raw(str(code))
        code = 1
    if _watched():  # a profiler, tracer or exit hook must finish: leave as Python does
        raise SystemExit(code)
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):  # closed or full: main has said so where it could
            pass
    os._exit(code & 0xFF)


def _watched() -> bool:
    """Whether something must still run when the interpreter exits: a profiler or tracer (``python -m cProfile -m
    dsadvisor`` writes its figures after the program, coverage its data, a debugger) or an ``atexit`` handler."""
    import atexit

    handlers = getattr(atexit, "_ncallbacks", None)  # CPython's count of registered handlers
    return sys.getprofile() is not None or sys.gettrace() is not None or handlers is None or handlers() > 0


if __name__ == "__main__":
    run()
