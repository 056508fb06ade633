"""The validated-catalog cache: used when it is safe, ignored when it is stale or could be someone else's."""

from __future__ import annotations

import os
import pickle
import stat

import pytest

from dsadvisor.catalog.store import load_catalog


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv("DSADVISOR_CACHE_DIR", str(d))
    return d


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
