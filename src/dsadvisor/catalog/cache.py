"""The validated-catalog cache: a pickle that only this user can have written, or nothing.

Unpickling runs code, and the entry sits on a path other programs can reach, so an entry is read
only if it passes every check below; anything else (a symlink, a FIFO, a device, a file of another
user or with a wider mode, a folder others may enter, bytes that do not unpickle) is a miss: the
catalog is rebuilt and written again, and one warning says why (``dsadvisor.errors.CatalogWarning``).

- where: ``$DSADVISOR_CACHE_DIR``, else ``$XDG_CACHE_HOME/dsadvisor``, else ``$HOME/.cache/dsadvisor``.
  Only absolute paths count: an empty or relative ``XDG_CACHE_HOME`` is ignored (as the XDG spec says),
  and an empty or relative ``HOME`` or ``DSADVISOR_CACHE_DIR`` turns the cache off, so nothing is ever
  written under ``/`` or the working folder by accident.
- what is trusted: a regular file owned by this user with mode 0600, opened with ``O_NOFOLLOW`` and
  ``O_NONBLOCK`` (a FIFO cannot hang the run) relative to its folder, which must be a folder owned by
  this user with mode 0700.
- how it is written: a fresh 0600 file in that folder (``O_EXCL``: never through something left at
  the name), renamed over the entry.
- how long it is kept: every change of dsadvisor or of a catalog file makes a new entry (~0.4 MB), so
  writing one removes the catalog entries beyond the ``CATALOG_ENTRIES_KEPT`` most recently written.
"""

from __future__ import annotations

import os
import stat
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

from dsadvisor import __version__
from dsadvisor.errors import CatalogWarning, clipped

FILE_MODE, FOLDER_MODE = 0o600, 0o700
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
# catalog entries kept in the folder: one per (dsadvisor version, catalog files) pair in use, e.g. a few
# virtual environments and user catalogs; older ones are rebuilt if ever asked for again
CATALOG_ENTRIES_KEPT = 8


def _sha256(data: bytes = b""):
    """SHA-256 from CPython's own module (``_sha2`` from 3.12, ``_sha256`` before); ``hashlib`` only where
    neither exists: importing hashlib loads OpenSSL, about 11M instructions of every run (callgrind). The
    module this interpreter has is asked for first: a failed import searches every path entry (0.7M
    instructions on 3.11, where ``_sha2`` was asked for first)."""
    names = ("_sha2", "_sha256") if sys.version_info >= (3, 12) else ("_sha256", "_sha2")
    for name in names:
        try:
            return __import__(name).sha256(data)
        except ImportError:
            continue
    from hashlib import sha256  # pragma: no cover - an interpreter without CPython's fallbacks

    return sha256(data)


def _unpickle(data: bytes) -> object:
    """``pickle.loads`` without importing the pure-Python ``pickle`` module (it is ``_pickle.loads``; the
    module's import is about 20M instructions a run reading the cache does not need)."""
    try:
        from _pickle import loads
    except ImportError:  # pragma: no cover - an interpreter without the C accelerator
        from pickle import loads
    return loads(data)


def cache_dir() -> Path | None:
    """Where entries live, or None when the cache is off (see the module's docstring)."""
    env = os.environ
    if env.get("DSADVISOR_NO_CACHE") or os.open not in os.supports_dir_fd:  # no dir_fd (Windows): no cache
        return None
    if "DSADVISOR_CACHE_DIR" in env and env["DSADVISOR_CACHE_DIR"] != "":
        chosen = env["DSADVISOR_CACHE_DIR"]
        return Path(chosen) if os.path.isabs(chosen) else None
    xdg = env.get("XDG_CACHE_HOME", "")
    if os.path.isabs(xdg):
        return Path(xdg) / "dsadvisor"
    home = env["HOME"] if "HOME" in env else os.path.expanduser("~")  # unset: the password database's
    return Path(home) / ".cache" / "dsadvisor" if os.path.isabs(home) else None


def methods_file() -> Path | None:
    """Where ``dsadvisor.records`` keeps the record methods it compiled, for this interpreter (marshal's
    format is one interpreter's); None when the cache is off."""
    folder = cache_dir()
    return folder / f"records-{sys.implementation.cache_tag}-{sys.hexversion:x}.pickle" if folder else None


def entry_path(folder: Path, inputs: Sequence[tuple[str | Path, bytes | None]]) -> Path:
    """The entry for these inputs: the version, then each input file, in order.

    An input with bytes (a user's file, read once: the same bytes are parsed on a miss) is keyed by its
    path as given and the SHA-256 of those bytes; one without (bundled package data, read-only) by its
    path, and the device, inode, size and mtime of the file it reaches (a symlink followed: no ``resolve``,
    which stats every folder of the path, 35 files a run). Paths go in through ``os.fsencode``, so a file name that is not UTF-8
    keys like any other.
    """
    digest = _sha256(__version__.encode())
    for path, raw in inputs:
        if raw is not None:
            digest.update(b"user\0" + os.fsencode(path) + b"\0" + _sha256(raw).digest())
        else:
            st = os.stat(path)  # follows a symlink: the file read is the one keyed
            digest.update(b"bundled\0" + os.fsencode(path)
                          + f"\0{st.st_dev}\0{st.st_ino}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
    return folder / f"catalog-{digest.hexdigest()[:24]}.pickle"


def _private(st: os.stat_result, mode: int, kind) -> str | None:
    """Why ``st`` is not this user's own ``kind`` (stat.S_ISREG / S_ISDIR) with exactly ``mode``; None if it is."""
    if not kind(st.st_mode):
        return "is not a regular file" if kind is stat.S_ISREG else "is not a folder"
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        return f"is owned by uid {st.st_uid}, not by this user ({os.getuid()})"
    if os.name == "posix" and stat.S_IMODE(st.st_mode) != mode:
        return f"has mode {stat.S_IMODE(st.st_mode):04o}, not {mode:04o}"
    return None


def _warn(path: Path, why: str) -> None:
    warnings.warn(f"catalog cache {clipped(path, 200)} {why}; ignored, the catalog is rebuilt", CatalogWarning,
                  stacklevel=3)


def _open_folder(folder: Path) -> int | None:
    """A descriptor of the cache folder if it is private to this user, else None (with a warning)."""
    try:
        fd = os.open(folder, os.O_RDONLY | _DIRECTORY | _CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        _warn(folder, f"cannot be opened ({exc.strerror or exc})")
        return None
    why = _private(os.fstat(fd), FOLDER_MODE, stat.S_ISDIR)
    if why:
        os.close(fd)
        _warn(folder, f"{why} (the folder must be this user's own, mode 0700)")
        return None
    return fd


def read_entry(path: Path, expected: type) -> object | None:
    """The cached object, if the entry exists, is trusted and unpickles to an ``expected``; else None."""
    folder_fd = _open_folder(path.parent)
    if folder_fd is None:
        return None
    try:
        try:
            fd = os.open(path.name, os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _CLOEXEC, dir_fd=folder_fd)
        except FileNotFoundError:
            return None  # a plain miss: nothing to say
        except OSError as exc:  # ELOOP: a symlink; EACCES: not ours to read
            _warn(path, "is a symbolic link" if os.path.islink(path) else f"cannot be opened ({exc.strerror or exc})")
            return None
        with os.fdopen(fd, "rb") as fh:
            why = _private(os.fstat(fh.fileno()), FILE_MODE, stat.S_ISREG)
            if why:
                _warn(path, why)
                return None
            data = fh.read()
    finally:
        os.close(folder_fd)
    try:
        cached = _unpickle(data)
    except Exception as exc:  # noqa: BLE001 - any bytes at all may be here: every failure is a miss
        _warn(path, f"does not unpickle ({type(exc).__name__})")
        return None
    if not isinstance(cached, expected):
        _warn(path, f"holds a {type(cached).__name__}, not a catalog")
        return None
    return cached


def write_entry(path: Path, obj: object) -> None:
    """Write ``obj`` at ``path`` atomically, 0600 in a 0700 folder; a folder that cannot be written (or is
    not private to this user) only costs speed."""
    folder = path.parent
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        os.mkdir(folder, FOLDER_MODE)
        os.chmod(folder, FOLDER_MODE)  # ours, just made: 0700 whatever the umask took away
    except FileExistsError:
        pass
    except OSError:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CatalogWarning)  # the reader has said what is wrong with the folder
        folder_fd = _open_folder(folder)
    if folder_fd is None:
        return
    import pickle

    tmp = f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, FILE_MODE, dir_fd=folder_fd)
        try:
            with os.fdopen(fd, "wb") as fh:
                if hasattr(os, "fchmod"):
                    os.fchmod(fh.fileno(), FILE_MODE)  # a umask such as 0277 would leave 0400
                pickle.dump(obj, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path.name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
            if path.name.startswith("catalog-"):
                _prune_catalog_entries(folder_fd)
        except BaseException:
            _unlink_quietly(tmp, folder_fd)
            raise
    except OSError:
        pass  # a full disk, a read-only home: only speed is lost
    finally:
        os.close(folder_fd)


def _unlink_quietly(name: str, folder_fd: int) -> None:
    try:
        os.unlink(name, dir_fd=folder_fd)
    except OSError:
        pass


def _prune_catalog_entries(folder_fd: int) -> None:
    """Remove this folder's catalog entries beyond the ``CATALOG_ENTRIES_KEPT`` most recently written (only
    names this module writes; another process may be removing them too: a vanished file is fine)."""
    entries = []
    for name in os.listdir(folder_fd):
        if name.startswith("catalog-") and name.endswith(".pickle"):
            try:
                entries.append((os.stat(name, dir_fd=folder_fd, follow_symlinks=False).st_mtime_ns, name))
            except OSError:
                continue
    for _, name in sorted(entries, reverse=True)[CATALOG_ENTRIES_KEPT:]:
        _unlink_quietly(name, folder_fd)
