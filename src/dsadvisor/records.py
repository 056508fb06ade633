"""``record``: ``@dataclass(frozen=True)`` whose generated methods are compiled when first used.

The standard library's ``dataclass`` writes ``__init__``, ``__repr__``, ``__eq__``, ``__hash__``,
``__setattr__`` and ``__delattr__`` as source text and compiles each one when the class is created. For
the package's 70-odd records that was about a third of a run's instructions (callgrind,
docs/performance.md), and most of them are never called in a run: a cached catalog is unpickled without
``__init__``, ``__repr__`` is for debugging, a frozen record is never assigned to. ``record`` lets
``dataclass`` collect the fields and defaults, then puts a placeholder for each of the six methods that
compiles the standard library's own source for it the first time it is called. ``dataclasses.fields``,
``replace``, ``asdict``, ``__dataclass_params__`` (frozen), pickling and pydantic's validation see an
ordinary frozen dataclass; tests/test_records.py compares every record in the package with the standard
library's class of the same fields.

Type checkers read ``record`` as ``dataclasses.dataclass`` (below), so each site still writes
``frozen=True``.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Callable

# What record writes lazily; a record may not define these itself (the standard library would keep
# its own, which record does not mimic: a class with its own methods stays a plain dataclass).
LAZY_METHODS = ("__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__")
_FACTORY = object()  # the default of an argument whose field has a default_factory, as the stdlib's


def _source_init(cls: type, fields: list[dataclasses.Field], env: dict[str, Any]) -> str:
    """``__init__`` as ``dataclass`` writes it: positional fields, then keyword-only ones, each set
    through ``object.__setattr__`` (the class is frozen), then ``__post_init__`` if the class has one."""
    positional: list[str] = []
    keyword: list[str] = []
    body: list[str] = []
    env["__record_set__"] = object.__setattr__
    env["__record_factory__"] = _FACTORY
    for f in fields:
        default = f"__record_default_{f.name}__"
        if f.default is not dataclasses.MISSING:
            env[default] = f.default
            value, argument = (f.name, f"{f.name}={default}") if f.init else (default, None)
        elif f.default_factory is not dataclasses.MISSING:
            env[default] = f.default_factory
            value = f"{default}() if {f.name} is __record_factory__ else {f.name}" if f.init else f"{default}()"
            argument = f"{f.name}=__record_factory__" if f.init else None
        elif f.init:
            value, argument = f.name, f.name
        else:
            continue  # no default and not an argument: left unset, as the standard library does
        if argument:
            (keyword if f.kw_only else positional).append(argument)
        body.append(f"__record_set__(__record_self__, {f.name!r}, {value})")
    if hasattr(cls, "__post_init__"):
        body.append("__record_self__.__post_init__()")
    arguments = ["__record_self__", *positional, *(["*", *keyword] if keyword else [])]
    return f"def __init__({', '.join(arguments)}):\n" + "".join(f"    {line}\n" for line in body or ["pass"])


def _source_repr(fields: list[dataclasses.Field]) -> str:
    shown = ", ".join(f"{f.name}={{self.{f.name}!r}}" for f in fields if f.repr)
    return f'def __repr__(self):\n    return self.__class__.__qualname__ + f"({shown})"\n'


def _values(fields: list[dataclasses.Field], obj: str) -> str:
    return "(" + "".join(f"{obj}.{f.name}," for f in fields) + ")"


def _source_eq(fields: list[dataclasses.Field]) -> str:
    compared = [f for f in fields if f.compare]
    return ("def __eq__(self, other):\n"
            "    if other.__class__ is self.__class__:\n"
            f"        return {_values(compared, 'self')} == {_values(compared, 'other')}\n"
            "    return NotImplemented\n")


def _source_hash(fields: list[dataclasses.Field]) -> str:
    hashed = [f for f in fields if (f.compare if f.hash is None else f.hash)]
    return f"def __hash__(self):\n    return hash({_values(hashed, 'self')})\n"


def _source_frozen(fields: list[dataclasses.Field], name: str, env: dict[str, Any], cls: type) -> str:
    """``__setattr__`` / ``__delattr__`` of a frozen dataclass: a field, or any name on the record's own
    class, is refused; a subclass's other names go to the next class, as the standard library's do."""
    env["__record_cls__"] = cls
    env["FrozenInstanceError"] = dataclasses.FrozenInstanceError
    names = "(" + "".join(f"{f.name!r}," for f in fields) + ")"
    args, verb = ("name, value", "assign to") if name == "__setattr__" else ("name", "delete")
    return (f"def {name}(self, {args}):\n"
            f"    if type(self) is __record_cls__ or name in {names}:\n"
            f"        raise FrozenInstanceError(f\"cannot {verb} field {{name!r}}\")\n"
            f"    super(__record_cls__, self).{name}({args})\n")


def compile_method(cls: type, name: str) -> Callable[..., Any]:
    """The standard library's ``name`` method of record ``cls``, compiled now."""
    fields = list(dataclasses.fields(cls))
    env: dict[str, Any] = {}
    if name == "__init__":
        source = _source_init(cls, fields, env)
    elif name in ("__setattr__", "__delattr__"):
        source = _source_frozen(fields, name, env, cls)
    else:
        source = {"__repr__": _source_repr, "__eq__": _source_eq, "__hash__": _source_hash}[name](fields)
    # the text is built above from the class's field names only; the file name marks it in tracebacks
    exec(compiled(source, f"<record {cls.__module__}.{cls.__qualname__}>"), env)  # noqa: S102
    method = env[name]
    method.__qualname__ = f"{cls.__qualname__}.{name}"
    method.__module__ = cls.__module__
    if name == "__repr__":
        import reprlib

        method = reprlib.recursive_repr()(method)  # a record holding itself shows "...", as dataclass's
    return method


# ------------------------------------------------------------------ compiled methods kept between runs
#
# Compiling the methods a run calls was ~50M instructions of every CLI run (40-odd methods, 47,000 characters
# of source for an A100 ``recommend``; EngineSpeed's ``__init__`` alone is 10,600). Where a store is given
# (``use_store``: the CLI gives ``dsadvisor.catalog.cache``, which applies its trust checks before anything
# is unmarshalled and writes atomically), the code objects are kept in a file of the user's cache folder,
# keyed by the exact source text and file name, so an edited record can never run an old method; one file
# per interpreter version (marshal's format is one interpreter's). Read when the first method is compiled;
# written only by ``save_compiled`` (the CLI calls it once at its end), only when this run compiled a method
# the file lacks: a run that compiled nothing writes nothing.

CODES_KEPT = 2048  # entries a file holds at most: past this, only the entries of the run that saves it
_store: Any = None  # methods_file() -> path | None, read_entry(path, dict), write_entry(path, obj); or None
_codes: tuple[object, dict[str, bytes]] | None = None  # (the file, its entries), once read
_used: dict[str, bytes] = {}  # entries this run compiled anew or read
_new = False  # whether this run compiled anything the file lacks


def use_store(store: Any) -> None:
    """Keep compiled methods between runs in ``store`` (``dsadvisor.catalog.cache``; None: not kept)."""
    global _store
    _store = store


def _codes_file():
    return _store.methods_file() if _store is not None else None


def _read_codes(path) -> dict[str, bytes]:
    import warnings

    if path is None:
        return {}
    with warnings.catch_warnings():  # the catalog's own read of the folder says what is wrong with it
        warnings.simplefilter("ignore")
        held = _store.read_entry(path, dict)
    if not isinstance(held, dict) or not all(isinstance(k, str) and isinstance(v, bytes) for k, v in held.items()):
        return {}
    return held


def compiled(source: str, filename: str):
    """``compile(source, filename, "exec")``, from the store when this source was compiled before."""
    import marshal

    global _codes, _new
    path = _codes_file()
    if _codes is None or _codes[0] != path:  # read once a run (again if the cache folder changed)
        _codes = (path, _read_codes(path))
    key = f"{filename}\0{source}"
    raw = _codes[1].get(key)
    if raw is not None:
        try:
            code = marshal.loads(raw)
        except (EOFError, ValueError, TypeError):
            code = None
        if code is not None and getattr(code, "co_filename", None) == filename:
            _used[key] = raw
            return code
    code = compile(source, filename, "exec")
    _used[key] = marshal.dumps(code)
    _new = True
    return code


def save_compiled() -> None:
    """Write the methods this run compiled anew beside those the file holds (merged with the file as it is
    now: runs saving at once each leave a whole file, and a method one of them loses is compiled again)."""
    global _new
    if not _new:
        return
    _new = False
    path = _codes_file()
    if path is None:
        return
    held = _read_codes(path)
    merged = {**held, **_used} if len(held) + len(_used) <= CODES_KEPT else dict(_used)
    _store.write_entry(path, merged)


def _compile_on_first_call(cls: type, name: str) -> Callable[..., Any]:
    def first_call(self: Any, *args: Any, **kwargs: Any) -> Any:
        method = compile_method(cls, name)
        setattr(cls, name, method)  # later calls go straight to the compiled method
        return method(self, *args, **kwargs)

    first_call.__name__ = name
    first_call.__qualname__ = f"{cls.__qualname__}.{name}"
    return first_call


def _check_order(cls: type) -> None:
    """The error ``dataclass`` raises at class creation for a positional field without a default
    after one with a default (record compiles ``__init__`` later, so it checks here)."""
    seen_default = None
    for f in dataclasses.fields(cls):
        if not f.init or f.kw_only:
            continue
        has_default = f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
        if has_default:
            seen_default = f.name
        elif seen_default:
            raise TypeError(f"non-default argument {f.name!r} follows default argument")


def _record(cls: type, kw_only: bool) -> type:
    own = [name for name in LAZY_METHODS if name in cls.__dict__ and not (name == "__hash__" and cls.__dict__[name] is None)]
    if own:
        raise TypeError(f"record {cls.__qualname__} defines {', '.join(own)}: use dataclasses.dataclass")
    bases = [b.__dict__["__dataclass_params__"] for b in cls.__mro__[1:] if "__dataclass_params__" in b.__dict__]
    if not all(p.frozen for p in bases):
        raise TypeError("cannot inherit frozen dataclass from a non-frozen one")
    documented = bool(cls.__dict__.get("__doc__"))
    if not documented:
        cls.__doc__ = "-"  # dataclass would build one from inspect.signature of the placeholder __init__
    # dataclass(frozen=True) would compile __setattr__ and __delattr__ now (a third of the cost); they are
    # compiled lazily too, so it is told frozen=False, with the frozen bases' flags lowered meanwhile
    # (it refuses a non-frozen class of frozen bases), and the flag is set after
    for p in bases:
        p.frozen = False
    try:
        dataclasses.dataclass(cls, init=False, repr=False, eq=False, frozen=False, kw_only=kw_only)
    finally:
        for p in bases:
            p.frozen = True
    if not documented:
        cls.__doc__ = None
    if any("InitVar" in str(f.type) for f in cls.__dataclass_fields__.values()):  # type: ignore[attr-defined]
        raise TypeError(f"record {cls.__qualname__} has an InitVar: use dataclasses.dataclass")
    _check_order(cls)
    params = cls.__dataclass_params__  # type: ignore[attr-defined]
    params.init = params.repr = params.eq = params.frozen = True  # as dataclass(frozen=True) says
    for name in LAZY_METHODS:
        setattr(cls, name, _compile_on_first_call(cls, name))
    return cls


# type -> the names of its fields when ``replace`` may copy them without ``__init__``, else None
_COPYABLE: dict[type, tuple[tuple[str, ...], frozenset[str]] | None] = {}


def _copyable(cls: type) -> tuple[tuple[str, ...], frozenset[str]] | None:
    """A record's field names if a copy made field by field is what ``dataclasses.replace`` makes: a record
    (its ``__init__`` only sets each field) with no ``__post_init__`` and every field an argument of
    ``__init__``; None otherwise (a plain dataclass, a record that checks its values or has init=False fields)."""
    if cls not in _COPYABLE:
        init = cls.__dict__.get("__init__")
        code = getattr(init, "__code__", None)
        ours = code is not None and (code.co_filename == __file__ or code.co_filename.startswith("<record "))
        fields = getattr(cls, "__dataclass_fields__", {})
        plain = all(f.init and f._field_type is dataclasses._FIELD for f in fields.values())  # type: ignore[attr-defined]
        copyable = ours and plain and not hasattr(cls, "__post_init__")
        _COPYABLE[cls] = (tuple(fields), frozenset(fields)) if copyable else None
    return _COPYABLE[cls]


def replace(obj: Any, /, **changes: Any) -> Any:
    """``dataclasses.replace(obj, **changes)``: for a record with nothing to check (``_copyable``) a new instance
    with its fields copied and ``changes`` set, without building the keyword call to ``__init__`` and the 20-40
    ``object.__setattr__`` it makes (600 replaces an A100 ``recommend``, ~20M instructions); anything else, or a
    name that is not a field, goes to ``dataclasses.replace`` (its errors)."""
    copyable = _copyable(type(obj))
    if copyable is None or not changes.keys() <= copyable[1]:
        return dataclasses.replace(obj, **changes)
    new = object.__new__(type(obj))
    values = new.__dict__
    for name in copyable[0]:
        values[name] = changes[name] if name in changes else getattr(obj, name)
    return new


if TYPE_CHECKING:
    from dataclasses import dataclass as record
else:

    def record(cls=None, /, *, frozen=False, kw_only=False):
        """``@record(frozen=True[, kw_only=True])``: ``@dataclass(frozen=True[, kw_only=True])``, its
        methods compiled on first use (module docstring)."""
        if not frozen:
            raise TypeError("a record is frozen: write @record(frozen=True)")
        if cls is None:
            return lambda c: _record(c, kw_only)
        return _record(cls, kw_only)
