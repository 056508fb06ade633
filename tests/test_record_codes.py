"""The record methods kept between runs (dsadvisor.records.compiled / save_compiled): a method is read back
instead of compiled only when its exact source was compiled before, from a file only this user can have
written; an edited record, a planted or broken file, a cache that is off or cannot be written, and runs that
save at the same moment each leave a correct method and a whole file."""

from __future__ import annotations

import dataclasses
import marshal
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from dsadvisor import records
from dsadvisor.catalog import cache
from dsadvisor.records import record

SRC = str(Path(__file__).resolve().parents[1] / "src")


@pytest.fixture
def codes(tmp_path, monkeypatch):
    """A fresh run: its own cache folder, nothing read or compiled yet."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("DSADVISOR_CACHE_DIR", str(folder))
    monkeypatch.setattr(records, "_store", cache)
    monkeypatch.setattr(records, "_codes", None)
    monkeypatch.setattr(records, "_used", {})
    monkeypatch.setattr(records, "_new", False)
    return folder


def _next_run(monkeypatch):
    """What a new process starts with: the file on disk, nothing in memory."""
    monkeypatch.setattr(records, "_codes", None)
    monkeypatch.setattr(records, "_used", {})
    monkeypatch.setattr(records, "_new", False)


def _point(*names: str) -> type:
    """A record named Point with these int fields (a new class each call, as each run makes its own)."""
    cls = type("Point", (), {"__annotations__": {n: "int" for n in names}, "__module__": __name__})
    return record(cls, frozen=True)


def _compile_counter(monkeypatch) -> list[str]:
    seen: list[str] = []
    real = compile

    def counting(source, filename, mode, *args, **kwargs):
        seen.append(filename)
        return real(source, filename, mode, *args, **kwargs)

    monkeypatch.setattr("builtins.compile", counting)
    return seen


def _file(folder: Path) -> Path:
    found = list(folder.glob("records-*.pickle"))
    assert len(found) == 1, found
    return found[0]


def test_a_method_compiled_in_one_run_is_read_back_by_the_next(codes, monkeypatch):
    point = _point("x", "y")
    assert point(1, 2) == point(1, 2)  # __init__ and __eq__ compiled
    records.save_compiled()
    assert oct(_file(codes).stat().st_mode & 0o777) == "0o600"
    _next_run(monkeypatch)
    compiled = _compile_counter(monkeypatch)
    point = _point("x", "y")
    p = point(3, 4)
    assert (p.x, p.y, p == point(3, 4), p == point(3, 5)) == (3, 4, True, False)
    assert compiled == [] and records._new is False
    records.save_compiled()  # nothing new: nothing written
    assert not list(codes.glob(".*.tmp"))


def test_an_edited_record_never_runs_the_old_method(codes, monkeypatch):
    _point("x", "y")(1, 2)
    records.save_compiled()
    _next_run(monkeypatch)
    compiled = _compile_counter(monkeypatch)
    p = _point("x", "y", "z")(1, 2, 3)  # the same class name, another field: another source
    assert (p.x, p.y, p.z) == (1, 2, 3)
    assert compiled == [f"<record {__name__}.Point>"] and records._new is True


def _plant(folder: Path, mode: int, entries: dict) -> Path:
    folder.mkdir(mode=0o700, exist_ok=True)
    os.chmod(folder, 0o700)
    path = folder / f"records-{sys.implementation.cache_tag}-{sys.hexversion:x}.pickle"
    path.write_bytes(pickle.dumps(entries))
    os.chmod(path, mode)
    return path


def _evil_init(fields: tuple[str, ...]) -> dict[str, bytes]:
    """An entry for the exact source of Point's __init__ whose code sets ``x`` to 666."""
    cls = _point(*fields)
    source = records._source_init(cls, list(dataclasses.fields(cls)), {})
    filename = f"<record {__name__}.Point>"
    evil = source.replace("__record_set__(__record_self__, 'x', x)", "__record_set__(__record_self__, 'x', 666)")
    assert evil != source
    return {f"{filename}\0{source}": marshal.dumps(compile(evil, filename, "exec"))}


def test_a_file_others_could_have_written_is_never_unmarshalled(codes):
    _plant(codes, 0o644, _evil_init(("x",)))
    assert _point("x")(1).x == 1


def test_a_private_file_is_what_the_next_run_reads(codes):
    """The counterpart of the test above: the same planted entry, private, is used (so that test's check
    is what refuses it)."""
    _plant(codes, 0o600, _evil_init(("x",)))
    assert _point("x")(1).x == 666


@pytest.mark.parametrize("entries", [b"not a pickle", pickle.dumps(["a list"]), pickle.dumps({"k": "not bytes"}),
                                     None])
def test_a_broken_file_or_entry_is_a_miss(codes, entries):
    if entries is None:  # an entry for the right key whose bytes do not unmarshal
        cls = _point("x")
        source = records._source_init(cls, list(dataclasses.fields(cls)), {})
        path = _plant(codes, 0o600, {f"<record {__name__}.Point>\0{source}": b"\xff\x00garbage"})
    else:
        path = _plant(codes, 0o600, {})
        path.write_bytes(entries)
    assert _point("x")(5).x == 5
    assert records._new is True


def test_without_a_store_nothing_is_kept(codes, monkeypatch):
    """A library caller's run (no ``use_store``) compiles as before and writes nothing."""
    monkeypatch.setattr(records, "_store", None)
    assert _point("x")(1).x == 1
    records.save_compiled()
    assert not codes.exists()


def test_with_the_cache_off_nothing_is_written(codes, monkeypatch):
    monkeypatch.setenv("DSADVISOR_NO_CACHE", "1")
    assert _point("x")(1).x == 1
    records.save_compiled()
    assert not codes.exists()


def test_a_folder_that_cannot_be_made_only_costs_speed(tmp_path, codes, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("DSADVISOR_CACHE_DIR", str(blocker / "cache"))  # under a file: mkdir fails
    assert _point("x")(1).x == 1
    records.save_compiled()
    assert blocker.read_text() == ""


_SAVER = """
import sys
from dsadvisor import records
from dsadvisor.catalog import cache
from dsadvisor.records import record
records.use_store(cache)
cls = record(type("P{n}", (), {{"__annotations__": {{"f{n}": "int"}}, "__module__": "__main__"}}), frozen=True)
assert getattr(cls(7), "f{n}") == 7
records.save_compiled()
"""


def test_runs_saving_at_once_leave_a_whole_file(codes):
    env = {**os.environ, "DSADVISOR_CACHE_DIR": str(codes), "PYTHONPATH": SRC}
    procs = [subprocess.Popen([sys.executable, "-c", _SAVER.format(n=n)], env=env) for n in range(8)]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    entries = pickle.loads(_file(codes).read_bytes())
    assert isinstance(entries, dict) and entries
    assert all(isinstance(marshal.loads(raw), type(compile("", "x", "exec"))) for raw in entries.values())
    assert not list(codes.glob(".*.tmp"))


_COUNTED_RUN = """
import builtins, sys
real, seen = builtins.compile, []
def counting(source, filename, *args, **kwargs):
    seen.append(filename)
    return real(source, filename, *args, **kwargs)
builtins.compile = counting
from dsadvisor.cli import main
try:
    main(["recommend", "--gpu", "A100", "--vram", "40", "-f", "json"])
except SystemExit:
    pass
sys.stderr.write(repr([f for f in seen if f.startswith("<record ")]))
"""


def test_the_cli_saves_what_it_compiled_and_the_next_run_compiles_none_of_it(codes):
    env = {**os.environ, "DSADVISOR_CACHE_DIR": str(codes), "PYTHONPATH": SRC}
    first, second = (subprocess.run([sys.executable, "-c", _COUNTED_RUN], env=env, capture_output=True, text=True,
                                    timeout=300) for _ in range(2))
    assert len(eval(first.stderr)) >= 10  # the first run compiled its methods ...
    assert len(pickle.loads(_file(codes).read_bytes())) >= len(eval(first.stderr))  # ... and kept them
    assert eval(second.stderr) == [] and second.stdout == first.stdout  # the next compiled none, same answer
