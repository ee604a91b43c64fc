"""The manifest every output carries (CONTRACT §7): version, parameters, inputs, seed, command."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from jiuzhu_sim.io import sha256_file


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


def hash_in_background(paths: Iterable[Path | str]) -> dict[str, Future]:
    """Start hashing input files on a worker thread (hashlib releases the GIL): the digests
    are ready by the time :func:`build_manifest` needs them, computed while the main thread
    validates and simulates on one core. Keys: the paths as given (``str``)."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jiuzhu-sha256")
    futures = {str(p): pool.submit(sha256_file, Path(p)) for p in paths if p is not None}
    pool.shutdown(wait=False)
    return futures
