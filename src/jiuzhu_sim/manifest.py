"""The manifest every output carries (CONTRACT §7): version, parameters, inputs, seed, command."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import stat
import sys
import threading
from collections.abc import Iterable, Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import Any

# Light on purpose (no numpy, pandas or Arrow): the command line imports it to start hashing
# its inputs before those imports (cli.main, :func:`start_hashing`).


def sha256_file(path: Path | str) -> str:
    """SHA-256 of a file, read into one reused buffer (a fresh 1 MB ``bytes`` per read
    is a fresh mapping whose pages are faulted in each time)."""
    digest = hashlib.sha256()
    buffer = bytearray(1 << 20)
    view = memoryview(buffer)
    with open(path, "rb") as fh:
        while n := fh.readinto(buffer):
            digest.update(view[:n])
    return digest.hexdigest()


def build_manifest(*, params: Any = None, inputs: Iterable[Path | str] = (), seed: int | None = None,
                   command: list[str] | None = None, started: dt.datetime | None = None,
                   extra: dict[str, Any] | None = None,
                   digests: Mapping[str, Future] | None = None) -> dict[str, Any]:
    """``digests``: SHA-256 of inputs already being computed (:func:`hash_in_background`),
    by path as given; the others are hashed here."""
    from jiuzhu_sim import __version__

    started = started or dt.datetime.now(dt.UTC)
    files = []
    for path in inputs:
        if path is None:
            continue
        p = Path(path)
        pending = (digests or {}).get(str(path))
        digest = pending.result() if pending is not None else sha256_file(p)
        files.append({"path": str(p), "name": p.name, "sha256": digest,
                      "bytes": p.stat().st_size})
    manifest: dict[str, Any] = {
        "package": "jiuzhu_sim",
        "version": __version__,
        "started": started.isoformat(timespec="seconds"),
        "command": " ".join(command if command is not None else sys.argv),
        "seed": seed,
        "inputs": files,
    }
    if params is not None:
        manifest["parameters"] = params.manifest_entry()
        manifest["parameters_sha256"] = params.sha256()
    if extra:
        manifest.update(extra)
    return manifest


# Hashes started ahead (:func:`start_hashing`) and not yet handed out, by the file they
# were started on: its absolute path, size and modification time, so a file changed since
# is hashed again.
_STARTED: dict[tuple[str, int, int], Future] = {}
_STARTED_LOCK = threading.Lock()


def _file_key(path: Path | str) -> tuple[str, int, int] | None:
    """A regular file's absolute path, size and modification time; None for anything else
    (missing, a folder, a FIFO or device: hashing one could block for ever)."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    return (os.path.abspath(path), info.st_size, info.st_mtime_ns)


def _hash_on_thread(paths: list[Path | str]) -> list[Future]:
    """Hash ``paths`` one after another on a daemon thread: a run that ends early (a user
    error, Ctrl-C) exits without waiting for hashes nobody will read."""
    futures: list[Future] = [Future() for _ in paths]

    def work() -> None:
        for path, future in zip(paths, futures, strict=True):
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(sha256_file(Path(path)))
            except BaseException as exc:  # surfaces at .result(), where the digest is needed
                future.set_exception(exc)

    if paths:
        threading.Thread(target=work, name="jiuzhu-sha256", daemon=True).start()
    return futures


def start_hashing(paths: Iterable[Path | str | None]) -> None:
    """Start hashing files that a later :func:`hash_in_background` will ask for, on a
    worker thread (hashlib releases the GIL). ``jiuzhu simulate`` starts its two inputs
    before importing pandas, numpy and Arrow, so the hashing runs on the core the
    one-threaded imports leave idle. Only regular files are started; the rest (missing,
    a FIFO) are left to the reader to report."""
    wanted = {k: p for p in paths if p is not None and (k := _file_key(p)) is not None}
    with _STARTED_LOCK:
        keys = [k for k in wanted if k not in _STARTED]
        for key, future in zip(keys, _hash_on_thread([wanted[k] for k in keys]), strict=True):
            _STARTED[key] = future


def hash_in_background(paths: Iterable[Path | str]) -> dict[str, Future]:
    """Start hashing input files on a worker thread (hashlib releases the GIL): the digests
    are ready by the time :func:`build_manifest` needs them, computed while the main thread
    validates and simulates on one core. A file whose hash :func:`start_hashing` already
    started (same path, size and modification time) takes that one. Keys: the paths as
    given (``str``)."""
    futures: dict[str, Future] = {}
    fresh = []
    with _STARTED_LOCK:
        for p in paths:
            if p is None or str(p) in futures:
                continue
            key = _file_key(p)
            started = _STARTED.pop(key, None) if key is not None else None
            if started is not None:
                futures[str(p)] = started
            else:
                fresh.append(p)
    futures.update(zip((str(p) for p in fresh), _hash_on_thread(fresh), strict=True))
    return futures
