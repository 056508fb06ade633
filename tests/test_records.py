"""Every ``record`` (dsadvisor.records) behaves as the standard library's ``dataclass(frozen=True)``
of the same fields: the same ``__init__`` signature, ``repr``, equality and hash, refused assignment,
and it pickles. The methods are compiled on first use, so importing the package compiles
none but the ``__init__`` of the few records modules build as constants."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pickle
import pkgutil
import subprocess
import sys

import pytest

import dsadvisor
from dsadvisor import records
from dsadvisor.records import LAZY_METHODS, compile_method, record


def is_record(cls: type) -> bool:
    """Made by ``record``: its own ``__init__`` is the placeholder or the method compiled in its place."""
    init = cls.__dict__.get("__init__")
    code = getattr(init, "__code__", None)
    return code is not None and (code.co_filename == records.__file__ or code.co_filename.startswith("<record "))


def _records() -> list[type]:
    found = {}
    for info in pkgutil.walk_packages(dsadvisor.__path__, "dsadvisor."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for obj in vars(module).values():
            if isinstance(obj, type) and obj.__module__ == module.__name__ and is_record(obj):
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return [found[k] for k in sorted(found)]


RECORDS = _records()


def _twin(cls: type) -> type:
    """The standard library's frozen dataclass of ``cls``'s fields (no __post_init__, no bases)."""
    fields = [(f.name, f.type, dataclasses.field(default=f.default, default_factory=f.default_factory, init=f.init,
                                                 repr=f.repr, hash=f.hash, compare=f.compare, kw_only=f.kw_only))
              for f in dataclasses.fields(cls)]
    twin = dataclasses.make_dataclass(cls.__name__, fields, frozen=True)
    twin.__qualname__ = cls.__qualname__
    return twin


def _filled(cls: type, changed: str | None = None) -> object:
    """An instance of ``cls`` with a distinct value in every field, made without __init__ (which
    would run the record's own checks on these made-up values)."""
    obj = object.__new__(cls)
    for i, f in enumerate(dataclasses.fields(cls)):
        object.__setattr__(obj, f.name, ("value", i, f.name == changed))
    return obj


def test_the_package_has_records():
    assert len(RECORDS) > 50  # every frozen dataclass of the package (the walk finds them)


@pytest.mark.parametrize("cls", RECORDS, ids=lambda c: f"{c.__module__}.{c.__qualname__}")
def test_record_matches_the_standard_dataclass(cls):
    twin = _twin(cls)
    assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen and cls.__dataclass_params__.eq
    mine, theirs = inspect.signature(compile_method(cls, "__init__")), inspect.signature(twin.__init__)
    factory = lambda p: "factory" if type(p.default).__name__ in ("object", "_HAS_DEFAULT_FACTORY_CLASS") else p.default
    assert [(p.name, p.kind, factory(p)) for p in list(mine.parameters.values())[1:]] == \
           [(p.name, p.kind, factory(p)) for p in list(theirs.parameters.values())[1:]]
    a, b = _filled(cls), _filled(twin)
    assert repr(a) == repr(b)
    assert hash(a) == hash(b)
    assert a == _filled(cls) and a != b  # another class is never equal, as dataclass's __eq__
    for f in dataclasses.fields(cls):
        assert (a == _filled(cls, f.name)) == (_filled(twin) == _filled(twin, f.name)), f.name
    for obj in (a, b):  # a field or any other name: refused, as the standard library refuses it
        for name in [f.name for f in dataclasses.fields(cls)][:1] + ["not_a_field"]:
            with pytest.raises(dataclasses.FrozenInstanceError, match=f"cannot assign to field '{name}'"):
                setattr(obj, name, 1)
            with pytest.raises(dataclasses.FrozenInstanceError, match=f"cannot delete field '{name}'"):
                delattr(obj, name)
    assert pickle.loads(pickle.dumps(a)) == a


def test_init_sets_defaults_factories_and_runs_post_init():
    seen = []

    @record(frozen=True)
    class Point:
        x: int
        y: int = 2
        tags: list = dataclasses.field(default_factory=list)
        hidden: int = dataclasses.field(default=7, init=False)

        def __post_init__(self):
            seen.append(self.x)

    p = Point(1)
    assert (p.x, p.y, p.tags, p.hidden, seen) == (1, 2, [], 7, [1])
    assert Point(1).tags is not p.tags and Point(3, y=4, tags=[1]) == Point(3, 4, [1])
    assert repr(p) == "test_init_sets_defaults_factories_and_runs_post_init.<locals>.Point(x=1, y=2, tags=[], hidden=7)"
    assert dataclasses.replace(p, y=5).y == 5
    with pytest.raises(TypeError):
        Point()  # type: ignore[call-arg]


def test_a_record_subclass_is_frozen_and_keeps_its_bases_fields():
    @record(frozen=True, kw_only=True)
    class Base:
        a: int

    @record(frozen=True, kw_only=True)
    class Child(Base):
        b: int = 2

    c = Child(a=1)
    assert (c.a, c.b) == (1, 2) and Base.__dataclass_params__.frozen and Child.__dataclass_params__.frozen
    assert c != Base(a=1) and hash(c) == hash((1, 2))
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.a = 3

    class Plain(Child):  # not a record: assignment to its own names passes, to fields is refused
        pass

    p = Plain(a=1)
    p.extra = 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.a = 2


def test_record_refuses_what_it_does_not_mimic():
    with pytest.raises(TypeError):
        record(type("Mutable", (), {"__annotations__": {"x": "int"}}))  # not frozen=True
    with pytest.raises(TypeError, match="defines __repr__"):
        record(frozen=True)(type("Own", (), {"__annotations__": {"x": "int"}, "__repr__": lambda self: "x"}))
    with pytest.raises(TypeError, match="non-frozen"):
        record(frozen=True)(type("Child", (dataclasses.make_dataclass("Mutable", [("x", int)]),), {"__annotations__": {"y": "int"}}))
    with pytest.raises(TypeError, match="non-default argument"):
        record(frozen=True)(type("Order", (), {"__annotations__": {"x": "int", "y": "int"}, "x": 1}))


def test_importing_the_package_compiles_no_record_method():
    code = ("import sys, dsadvisor.cli, dsadvisor.advice.search, dsadvisor.advice.layouts, dsadvisor.output.views\n"
            "compiled = [f'{c.__qualname__}.{n}' for m in list(sys.modules.values()) for c in vars(m).values()\n"
            "            if isinstance(c, type) for n, f in list(vars(c).items())\n"
            "            if getattr(getattr(f, '__code__', None), 'co_filename', '').startswith('<record ')]\n"
            "print(compiled)\n")
    compiled = eval(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    # only the __init__ of the few records that modules build as constants (limits.BOUNDS, the rules)
    assert all(name.endswith(".__init__") for name in compiled) and len(compiled) <= 10 < len(RECORDS), compiled
