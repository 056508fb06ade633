"""The program's way out (``dsadvisor.__main__.run``): the cycle collector off for the run, and ``os._exit`` after
flushing instead of the interpreter's teardown. What a user sees must not change: every byte of the output,
the exit status, the one-line errors."""

from __future__ import annotations

import gc
import subprocess
import sys

import pytest

import dsadvisor.__main__ as program


def _exits(monkeypatch, argv: list[str]) -> int:
    """The status ``run()`` hands to ``os._exit`` for ``dsadvisor ARGV``, run in-process."""
    seen: list[int] = []

    class Exited(Exception):
        pass

    def fake_exit(code: int) -> None:
        seen.append(code)
        raise Exited

    monkeypatch.setattr(sys, "argv", ["dsadvisor", *argv])
    monkeypatch.setattr(program.os, "_exit", fake_exit)
    monkeypatch.setattr(program, "_watched", lambda: False)  # pytest itself registers exit handlers
    was = gc.isenabled()
    try:
        with pytest.raises(Exited):
            program.run()
        assert not gc.isenabled()  # off for the run: nothing turns it back on
    finally:
        if was:
            gc.enable()
    return seen[0]


def test_the_status_is_the_commands_own(monkeypatch, capsys):
    assert _exits(monkeypatch, ["--version"]) == 0
    assert capsys.readouterr().out.startswith("dsadvisor ")
    assert _exits(monkeypatch, ["check", "no-such-model", "--gpu", "A100"]) == 3
    assert _exits(monkeypatch, ["recommend", "--gpu", "A100", "--vram", "-4"]) == 2
    # exit 1: a deployment that does not fit
    assert _exits(monkeypatch, ["check", "deepseek-v3", "--gpu", "T4", "--exact"]) == 1


def test_a_systemexit_that_is_not_a_number_is_said_and_exits_1(monkeypatch, capsys):
    def boom(argv=None):
        raise SystemExit("went wrong")

    monkeypatch.setattr("dsadvisor.cli.main", boom)
    assert _exits(monkeypatch, ["models"]) == 1
    assert capsys.readouterr().err == "went wrong\n"
    monkeypatch.setattr("dsadvisor.cli.main", lambda argv=None: None)
    assert _exits(monkeypatch, ["models"]) == 0


@pytest.mark.parametrize("args", [("models", "-f", "json"), ("check", "deepseek-v3", "--gpu", "T4", "--exact")])
def test_a_process_writes_all_its_output_before_it_exits(args, run):
    """Output larger than a pipe's buffer, and a failing check's stderr, arrive whole through ``os._exit``."""
    inproc = run(*args)
    proc = subprocess.run([sys.executable, "-m", "dsadvisor", *args], capture_output=True, text=True, timeout=120)
    assert (proc.returncode, proc.stdout, proc.stderr) == (inproc.code, inproc.out, inproc.err)
    assert len(proc.stdout) > 4096 or proc.returncode == 1


def test_under_a_profiler_or_with_an_exit_hook_the_run_ends_as_python_ends_it(monkeypatch, tmp_path):
    """``python -m cProfile -m dsadvisor`` writes its figures after the program, coverage its data at exit: with a
    profiler, a tracer or an ``atexit`` handler the program raises SystemExit instead of ``os._exit``."""
    plain = subprocess.run([sys.executable, "-c", "import dsadvisor.__main__ as m; print(m._watched())"],
                           capture_output=True, text=True, timeout=120)
    assert plain.stdout == "False\n"  # a plain interpreter: nothing watches, the fast way out is taken
    monkeypatch.setattr(sys, "gettrace", lambda: None)
    monkeypatch.setattr(sys, "getprofile", lambda: None)
    import atexit

    monkeypatch.setattr(atexit, "_ncallbacks", lambda: 0)
    assert not program._watched()
    monkeypatch.setattr(sys, "gettrace", lambda: print)
    assert program._watched()
    monkeypatch.setattr(sys, "gettrace", lambda: None)
    monkeypatch.setattr(atexit, "_ncallbacks", lambda: 1)
    assert program._watched()
    monkeypatch.undo()
    out = tmp_path / "run.prof"
    proc = subprocess.run([sys.executable, "-m", "cProfile", "-o", str(out), "-m", "dsadvisor", "--version"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.startswith("dsadvisor ")
    assert out.stat().st_size > 0  # the profiler finished: the program did not leave by os._exit


def test_a_watched_run_still_exits_with_the_commands_status(monkeypatch):
    monkeypatch.setattr(program, "_watched", lambda: True)
    monkeypatch.setattr(sys, "argv", ["dsadvisor", "check", "no-such-model", "--gpu", "A100"])
    was = gc.isenabled()
    try:
        with pytest.raises(SystemExit) as exc:
            program.run()
    finally:
        if was:
            gc.enable()
    assert exc.value.code == 3
