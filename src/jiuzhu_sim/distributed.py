"""Run independent partitions in-process or on a Dask cluster (the engine is picked here).

A run is cut into partitions (region × replication × population chunk). Each partition gets
its own seed, derived from the run's root seed and the partition's position with numpy's
``SeedSequence`` spawn keys — never from the worker that runs it — and returns a small
aggregate. Results come back in partition order and are combined in that order, so a run
gives identical numbers in-process, on 1 worker or on N workers.

Without ``workers``/``scheduler`` nothing from dask is imported (the single-machine default
stays dependency-light; dask is the optional extra ``jiuzhu_sim[dask]``). This module and
the audit runner are the only places that may import dask (STYLE.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from jiuzhu_sim.exceptions import UserInputError


@dataclass(frozen=True)
class Partition:
    """One unit of work: households ``start_index .. start_index + n_households`` of chunk
    ``chunk`` in replication ``replication`` of region number ``region_index``."""

    region_index: int
    replication: int
    chunk: int
    start_index: int
    n_households: int
    root_seed: int
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def seed(self) -> np.random.SeedSequence:
        """The partition's own seed: ``SeedSequence(root, spawn_key=(region, rep, chunk))``,
        the same sequence ``SeedSequence(root).spawn`` would hand out three levels down."""
        return np.random.SeedSequence(self.root_seed,
                                      spawn_key=(self.region_index, self.replication, self.chunk))

    def child_seed(self, purpose: int) -> np.random.SeedSequence:
        """A further independent stream of this partition (e.g. 0 population, 1 process)."""
        return np.random.SeedSequence(
            self.root_seed, spawn_key=(self.region_index, self.replication, self.chunk, purpose))


def chunk_sizes(n_households: int, chunk_households: int) -> list[int]:
    """Split ``n_households`` into chunks of at most ``chunk_households`` (last one smaller)."""
    if n_households <= 0:
        raise UserInputError(f"--households {n_households}: must be positive")
    size = max(1, int(chunk_households))
    full, rest = divmod(int(n_households), size)
    return [size] * full + ([rest] if rest else [])


def make_partitions(n_regions: int, replications: int, n_households: int,
                    chunk_households: int, root_seed: int) -> list[Partition]:
    """Every (region, replication, chunk) partition, in the fixed order results combine in."""
    sizes = chunk_sizes(n_households, chunk_households)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(int)
    return [Partition(r, rep, c, int(starts[c]), int(sizes[c]), int(root_seed))
            for r in range(n_regions) for rep in range(replications)
            for c in range(len(sizes))]


def run_partitions(func: Callable[..., Any], tasks: Sequence[Any], *, workers: int | None = None,
                   scheduler: str | None = None, progress: bool = True, desc: str = "partitions",
                   processes: bool = True, common: Any = None) -> list[Any]:
    """``[func(task, common) for task in tasks]``, in-process or on Dask; results in task order.

    Args:
        func: a module-level function (picklable) of ``(task, common)``.
        tasks: the partitions.
        workers: start a local ``dask.distributed`` cluster with this many single-threaded
            workers (``--workers N``).
        scheduler: address of an existing cluster (``--scheduler ADDRESS``).
        progress: show a tqdm progress bar on stderr.
        processes: local cluster workers are processes (False: threads, for fast tests).
        common: data shared by every task (parameters, the scenario spec); sent once.
    """
    from tqdm.auto import tqdm

    tasks = list(tasks)
    bar = tqdm(total=len(tasks), desc=desc, disable=not progress or len(tasks) < 2, leave=False)
    if workers is None and scheduler is None:
        out = []
        for task in tasks:
            out.append(func(task, common))
            bar.update(1)
        bar.close()
        return out
    if workers is not None and workers < 1:
        raise UserInputError(f"--workers {workers}: must be at least 1")
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:  # pragma: no cover - depends on the environment
        raise UserInputError("--workers/--scheduler need dask: pip install 'jiuzhu_sim[dask]'"
                             ) from None
    cluster = None
    try:
        if scheduler is not None:
            try:
                client = Client(scheduler, timeout="5s")
            except OSError as exc:
                raise UserInputError(f"--scheduler {scheduler}: cannot connect ({exc})") from None
        else:
            import dask

            # Dask sets MALLOC_TRIM_THRESHOLD_ in its workers, which switches off glibc's
            # dynamic mmap threshold: every array above 128 KiB is then mapped and
            # page-faulted afresh, and a 100,000-household partition spent a third of its
            # time in the kernel (docs/scaling.md). Keep glibc's default unless the user set it.
            with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_":
                                  None}):
                cluster = LocalCluster(n_workers=int(workers), threads_per_worker=1,
                                       processes=processes, dashboard_address=None)
            client = Client(cluster)
        try:
            shared = client.scatter(common, broadcast=True) if common is not None else None
            futures = client.map(func, tasks, common=shared, pure=False,
                                 key=[f"{desc}-{i}" for i in range(len(tasks))])
            position = {f.key: i for i, f in enumerate(futures)}
            out: list[Any] = [None] * len(tasks)
            for future in as_completed(futures):
                out[position[future.key]] = future.result()
                future.release()
                bar.update(1)
            return out
        finally:
            client.close()
    finally:
        bar.close()
        if cluster is not None:
            cluster.close()
