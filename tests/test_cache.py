"""The validated-catalog cache: used when it is safe, ignored when it is stale or could be someone else's."""

from __future__ import annotations

import os
import pickle
import stat
from pathlib import Path

import pytest

from dsadvisor.catalog.store import load_catalog
from dsadvisor.errors import CatalogWarning


def _cache_file(cache_dir):
    files = list(cache_dir.glob("catalog-*.pickle"))
    assert len(files) == 1, files
    return files[0]


def test_cache_is_written_private_and_read_back(cache_dir):
    first = load_catalog(use_env=False)
    path = _cache_file(cache_dir)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(cache_dir.stat().st_mode) & 0o077 == 0
    assert load_catalog(use_env=False) == first


class _Planted:
    """Unpickling this writes a marker file: proof that the cache was trusted."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_cache_file_others_can_write_is_never_unpickled(cache_dir, tmp_path):
    good = load_catalog(use_env=False)
    path = _cache_file(cache_dir)
    marker = tmp_path / "pwned"
    path.write_bytes(pickle.dumps(_Planted(str(marker))))
    os.chmod(path, 0o666)  # as if in a shared folder: anyone could have put it there
    with pytest.warns(CatalogWarning, match="has mode 0666, not 0600"):
        assert load_catalog(use_env=False) == good
    assert not marker.exists()


def test_a_changed_user_file_is_not_served_from_the_cache(cache_dir, tmp_path):
    user = tmp_path / "mine.yaml"
    user.write_text("sources: {}\n", encoding="utf-8")
    before = load_catalog([user], use_env=False)
    user.write_text(
        "gpus:\n  - {id: MyCard, name: My Card, vendor: other, family: MyCard, category: consumer,\n"
        "     memory_gb: 24, bandwidth_gbs: 900, dtypes: [fp16], source: my datasheet}\n",
        encoding="utf-8",
    )
    os.utime(user, ns=(user.stat().st_atime_ns, user.stat().st_mtime_ns + 10**9))
    after = load_catalog([user], use_env=False)
    assert "MyCard" not in before.gpus and "MyCard" in after.gpus


def test_no_cache_variable_disables_it(cache_dir, monkeypatch):
    monkeypatch.setenv("DSADVISOR_NO_CACHE", "1")
    load_catalog(use_env=False)
    assert not cache_dir.exists()


def test_a_user_file_rewritten_at_the_same_size_and_mtime_is_not_served_stale(cache_dir, tmp_path):
    """Two writes within one timestamp tick look alike to stat: the key holds a user file's content."""
    gpu = ("gpus:\n  - {id: MyCard, name: My Card, vendor: other, family: MyCard, category: consumer,\n"
           "     memory_gb: %d, bandwidth_gbs: 900, dtypes: [fp16], source: my datasheet}\n")
    user = tmp_path / "mine.yaml"
    user.write_text(gpu % 24, encoding="utf-8")
    stamp = user.stat().st_mtime_ns
    assert load_catalog([user], use_env=False).gpus["MyCard"].memory_gb == 24
    user.write_text(gpu % 48, encoding="utf-8")  # the same size
    os.utime(user, ns=(stamp, stamp))  # and the same mtime, as a coarse clock would leave it
    assert load_catalog([user], use_env=False).gpus["MyCard"].memory_gb == 48
    assert len(list(cache_dir.glob("catalog-*.pickle"))) == 2


# ------------------------------------------------------------------ issue 9: a cache that cannot be turned

SAMPLE_GPU = ("gpus:\n  - {id: MyCard, name: My Card, vendor: other, family: MyCard, category: consumer,\n"
              "     memory_gb: %d, bandwidth_gbs: 900, dtypes: [fp16], source: my datasheet}\n")


def test_a_file_rewritten_between_key_and_parse_cannot_poison_the_cache(cache_dir, tmp_path, monkeypatch):
    """`cp -p`, tar and CI cache restores keep the mtime: file A's key must never hold file B's models.

    The file is rewritten (same size, same mtime) right after it is first opened; whatever the run then
    returns, the entry written under A's key must hold A's models."""
    import builtins

    user = tmp_path / "mine.yaml"
    user.write_text(SAMPLE_GPU % 24, encoding="utf-8")
    stamp = user.stat().st_mtime_ns
    real_open, opened = builtins.open, []

    def rewriting_open(file, *args, **kwargs):
        if os.fspath(file) == str(user):
            opened.append(1)
            if len(opened) == 2:  # the second read of one load: B is there now
                user.write_text(SAMPLE_GPU % 48, encoding="utf-8")
                os.utime(user, ns=(stamp, stamp))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", rewriting_open)
    load_catalog([user], use_env=False)
    monkeypatch.setattr(builtins, "open", real_open)
    assert len(opened) == 1, "one load reads a user's file once"
    user.write_text(SAMPLE_GPU % 24, encoding="utf-8")  # A again, as a restore would put it back
    os.utime(user, ns=(stamp, stamp))
    assert load_catalog([user], use_env=False).gpus["MyCard"].memory_gb == 24


def _entry(cache_dir):
    """The entry a bundled-only load uses, with a good catalog in it."""
    good = load_catalog(use_env=False)
    return _cache_file(cache_dir), good


def _one_warning(run, *args):
    """The CLI run succeeds, stdout parses, and stderr is one warning line."""
    import json

    r = run(*args)
    assert r.code == 0 and "Traceback" not in r.err
    json.loads(r.out)
    lines = r.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("dsadvisor: warning: catalog cache "), r.err
    return lines[0]


@pytest.mark.parametrize("bad", [b"\x80\x63", b"", b"not a pickle", "truncated"], ids=["x80x63", "empty", "text",
                                                                                          "truncated"])
def test_a_corrupt_cache_entry_is_a_miss_with_one_warning(cache_dir, run, bad):
    path, good = _entry(cache_dir)
    path.write_bytes(path.read_bytes()[:5000] if bad == "truncated" else bad)
    assert "ignored, the catalog is rebuilt" in _one_warning(run, "gpus", "-f", "json")
    assert path.read_bytes()[:1] == b"\x80" and load_catalog(use_env=False) == good  # rebuilt, and read back
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_corrupt_entry_warns_through_the_library_too(cache_dir):
    path, good = _entry(cache_dir)
    path.write_bytes(b"\x80\x63")
    with pytest.warns(CatalogWarning, match="does not unpickle"):
        assert load_catalog(use_env=False) == good


def test_a_fifo_at_the_entry_does_not_hang_the_run(cache_dir):
    from .conftest import run_subprocess

    path, _ = _entry(cache_dir)
    path.unlink()
    os.mkfifo(path, 0o600)
    p = run_subprocess("gpus", "-f", "json", env={**os.environ, "DSADVISOR_CACHE_DIR": str(cache_dir)})
    assert p.returncode == 0, p.stderr
    assert p.stderr.startswith("dsadvisor: warning: catalog cache ") and "is not a regular file" in p.stderr
    assert len(p.stderr.splitlines()) == 1
    assert stat.S_ISREG(path.lstat().st_mode)  # replaced by a real entry


def test_a_symlink_to_stdin_is_never_unpickled(cache_dir, tmp_path):
    import subprocess
    import sys

    path, _ = _entry(cache_dir)
    path.unlink()
    path.symlink_to("/dev/stdin")
    marker = tmp_path / "pwned"
    p = subprocess.run([sys.executable, "-m", "dsadvisor", "gpus", "-f", "json"], capture_output=True, timeout=120,
                       input=pickle.dumps(_Planted(str(marker))),
                       env={**os.environ, "DSADVISOR_CACHE_DIR": str(cache_dir)})
    assert p.returncode == 0 and not marker.exists()
    assert b"is a symbolic link" in p.stderr and len(p.stderr.splitlines()) == 1
    assert not path.is_symlink()


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o400, 0o700])
def test_an_entry_of_this_user_with_another_mode_is_never_unpickled(cache_dir, tmp_path, run, mode):
    path, good = _entry(cache_dir)
    marker = tmp_path / "pwned"
    path.write_bytes(pickle.dumps(_Planted(str(marker))))
    os.chmod(path, mode)
    assert f"has mode {mode:04o}, not 0600" in _one_warning(run, "gpus", "-f", "json")
    assert not marker.exists()
    assert load_catalog(use_env=False) == good


def test_an_entry_in_a_folder_others_may_enter_is_never_unpickled(cache_dir, tmp_path, run):
    path, _ = _entry(cache_dir)
    marker = tmp_path / "pwned"
    path.write_bytes(pickle.dumps(_Planted(str(marker))))
    os.chmod(path, 0o600)
    os.chmod(cache_dir, 0o755)
    assert "has mode 0755, not 0700" in _one_warning(run, "gpus", "-f", "json")
    assert not marker.exists()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="only root can give a file away")
def test_an_entry_owned_by_another_user_is_never_unpickled_by_root(cache_dir, tmp_path, run):
    path, _ = _entry(cache_dir)
    marker = tmp_path / "pwned"
    path.write_bytes(pickle.dumps(_Planted(str(marker))))
    os.chmod(path, 0o600)
    os.chown(path, 65534, 65534)
    assert "is owned by uid 65534" in _one_warning(run, "gpus", "-f", "json")
    assert not marker.exists()


def test_a_planted_entry_that_passes_every_check_is_trusted(cache_dir, tmp_path, run):
    """The control for the tests above: the same planted file, private, is unpickled (the checks are what
    keep it out), and its wrong type is a miss like any other."""
    path, good = _entry(cache_dir)
    marker = tmp_path / "pwned"
    path.write_bytes(pickle.dumps(_Planted(str(marker))))
    os.chmod(path, 0o600)
    assert "holds a TextIOWrapper, not a catalog" in _one_warning(run, "gpus", "-f", "json")
    assert marker.exists()


def test_a_catalog_folder_with_a_file_name_that_is_not_utf8(cache_dir, tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    name = os.fsdecode(b"caf\xe9.yaml")
    try:
        (folder / name).write_text(SAMPLE_GPU % 24, encoding="utf-8")
    except (OSError, UnicodeEncodeError):
        pytest.skip("this file system refuses a file name that is not UTF-8")
    assert load_catalog([folder], use_env=False).gpus["MyCard"].memory_gb == 24
    assert load_catalog([folder], use_env=False).gpus["MyCard"].memory_gb == 24  # and from the cache
    assert len(list(cache_dir.glob("catalog-*.pickle"))) == 1


@pytest.mark.parametrize("env", [
    {"HOME": ""}, {"HOME": "home"}, {"HOME": ".", "XDG_CACHE_HOME": "."}, {"HOME": "", "XDG_CACHE_HOME": "xdg"},
    {"DSADVISOR_CACHE_DIR": "cache"},
], ids=["home-empty", "home-relative", "both-dot", "xdg-relative-home-empty", "cache-dir-relative"])
def test_an_empty_or_relative_home_writes_nothing_under_root_or_the_working_folder(tmp_path, monkeypatch, env):
    monkeypatch.delenv("DSADVISOR_CACHE_DIR")
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    root_cache_before = os.path.exists("/.cache/dsadvisor")
    load_catalog(use_env=False)
    assert list(work.iterdir()) == []
    if not root_cache_before:
        assert not os.path.exists("/.cache/dsadvisor")


def test_a_relative_xdg_cache_home_falls_back_to_home(tmp_path, monkeypatch):
    monkeypatch.delenv("DSADVISOR_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", "xdg")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    load_catalog(use_env=False)
    assert not (tmp_path / "xdg").exists()
    assert len(list((tmp_path / "home" / ".cache" / "dsadvisor").glob("catalog-*.pickle"))) == 1


# ------------------------------------------------------------------ as an unprivileged user

OTHER_USER = "dsadvisor-test"
_AS_USER = """
import os, pickle, sys, warnings
from pathlib import Path
from dsadvisor.catalog.store import cache_entry, load_catalog
with warnings.catch_warnings(record=True) as said:
    warnings.simplefilter("always")
    load_catalog(use_env=False)
print(cache_entry(use_env=False))
print(" | ".join(str(w.message) for w in said))
"""


def _unprivileged_python():
    """(user name, command prefix running a Python that imports this checkout) for a second user, or skip."""
    import pwd
    import shutil
    import subprocess
    import sys

    if not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("runuser"):
        pytest.skip("needs root and runuser to act as a second user")
    try:
        pwd.getpwnam(OTHER_USER)
    except KeyError:
        made = subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", OTHER_USER],
                              capture_output=True)
        if made.returncode != 0:
            pytest.skip(f"no second user could be made: {made.stderr.decode(errors='replace')[:200]}")
    src = str(Path(__file__).resolve().parents[1] / "src")
    path = os.pathsep.join([src, *(p for p in sys.path if p.endswith("site-packages"))])
    for python in (sys.executable, "/usr/bin/python3"):
        prefix = ["runuser", "-u", OTHER_USER, "--", "env", "-i", f"PYTHONPATH={path}", "HOME=/nonexistent"]
        probe = subprocess.run([*prefix, python, "-c", "import dsadvisor.catalog.store, pydantic, yaml"],
                               capture_output=True, timeout=120)
        if probe.returncode == 0:
            return prefix, python
    pytest.skip(f"{OTHER_USER} can run no Python that imports this checkout")


def _as_other_user(folder: Path):
    """Load the bundled catalog as the second user with its cache in ``folder``: (entry path, warnings)."""
    import subprocess

    prefix, python = _unprivileged_python()
    p = subprocess.run([*prefix, f"DSADVISOR_CACHE_DIR={folder}", python, "-c", _AS_USER], capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    entry, said = p.stdout.splitlines()
    return Path(entry), said


@pytest.fixture
def shared_scratch():
    """A scratch folder the second user can reach (pytest's own are private to root)."""
    import pwd
    import shutil
    import tempfile

    _unprivileged_python()
    root = Path(tempfile.mkdtemp(prefix="dsadvisor-other-user-"))
    os.chmod(root, 0o755)
    user = pwd.getpwnam(OTHER_USER)
    os.chown(root, user.pw_uid, user.pw_gid)
    yield root, user.pw_uid, user.pw_gid
    shutil.rmtree(root)


def _plant(path: Path, marker: Path, uid: int, gid: int, mode: int) -> None:
    path.write_bytes(pickle.dumps(_Planted(str(marker))))
    os.chown(path, uid, gid)
    os.chmod(path, mode)


def test_as_another_user_an_entry_root_planted_in_its_cache_is_never_unpickled(shared_scratch):
    root, uid, gid = shared_scratch
    folder, marker = root / "cache", root / "pwned"  # where the planted code would leave its mark, were it run
    entry, said = _as_other_user(folder)  # a good entry, written by that user
    assert folder.stat().st_uid == uid and stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert entry.stat().st_uid == uid and stat.S_IMODE(entry.stat().st_mode) == 0o600 and said == ""
    _plant(entry, marker, 0, 0, 0o644)  # root's, readable by all
    _, said = _as_other_user(folder)
    assert "is owned by uid 0, not by this user" in said and not marker.exists()
    assert entry.stat().st_uid == uid  # rebuilt: that user's own entry again
    _plant(entry, marker, uid, gid, 0o600)  # the control: the same bytes as that user's own private file
    _, said = _as_other_user(folder)
    assert marker.exists() and "not a catalog" in said


def test_as_another_user_a_cache_folder_of_someone_else_is_never_used(shared_scratch):
    root, uid, gid = shared_scratch
    folder = root / "shared"
    folder.mkdir()
    os.chmod(folder, 0o777)  # like a shared folder: root's, writable by all
    entry, _ = _as_other_user(folder)
    marker = root / "pwned"
    _plant(entry, marker, uid, gid, 0o600)  # a private file of that user, but in a folder it does not own
    _, said = _as_other_user(folder)
    assert "is owned by uid 0, not by this user" in said and "folder" in said
    assert not marker.exists()


def test_writing_an_entry_keeps_only_the_most_recent_catalog_entries(cache_dir):
    # every new dsadvisor or catalog version writes a new ~0.4 MB entry: the folder must not grow without end
    from dsadvisor.catalog import cache

    load_catalog(use_env=False)
    own = _cache_file(cache_dir)
    for i in range(12):  # stale entries from older versions, written before this one
        old = cache_dir / f"catalog-{i:024x}.pickle"
        old.write_bytes(b"stale")
        os.utime(old, ns=(10**18 + i, 10**18 + i))
    kept_by_others = cache_dir / "records-cpython-311-0.pickle"
    kept_by_others.write_bytes(b"methods")
    os.utime(own, ns=(1, 1))  # the catalog now in use was written before all of them
    own.unlink()
    load_catalog(use_env=False)  # a miss: rebuilt, written, the folder pruned
    left = sorted(p.name for p in cache_dir.glob("catalog-*.pickle"))
    assert len(left) == cache.CATALOG_ENTRIES_KEPT and own.name in left
    assert left == sorted([own.name] + [f"catalog-{i:024x}.pickle" for i in range(12 - cache.CATALOG_ENTRIES_KEPT + 1, 12)])
    assert kept_by_others.exists()
