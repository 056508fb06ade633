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
    is 0, a number itself, anything else is printed on stderr and exits 1. A program or test that calls
    ``main`` keeps both."""
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
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):  # closed or full: main has said so where it could
            pass
    os._exit(code & 0xFF)


if __name__ == "__main__":
    run()
