"""The manifest every output carries (CONTRACT §7): version, parameters, inputs, seed, command."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from jiuzhu_sim.io import sha256_file


def build_manifest(*, params: Any = None, inputs: Iterable[Path | str] = (), seed: int | None = None,
                   command: list[str] | None = None, started: dt.datetime | None = None,
                   extra: dict[str, Any] | None = None) -> dict[str, Any]:
    from jiuzhu_sim import __version__

    started = started or dt.datetime.now(dt.UTC)
    files = []
    for path in inputs:
        if path is None:
            continue
        p = Path(path)
        files.append({"path": str(p), "name": p.name, "sha256": sha256_file(p),
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
