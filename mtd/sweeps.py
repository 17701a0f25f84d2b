"""Sweeps: many independent bound computations, locally (joblib), on Dask, resumable.

A sweep maps one picklable function over *chunks* of jobs and collects the results.
It runs

* in this process when there are few jobs, the measured sample projects under two
  seconds, ``n_jobs=1``, or joblib is missing;
* on local processes through joblib (``n_jobs`` workers, default all cores) otherwise;
* on a Dask cluster when a ``distributed.Client`` is given (optional extra
  ``mtd[dask]``), the shared arguments scattered once to every worker.

A **results file** (JSON lines) makes a sweep resumable: its first line names the
sweep (a fingerprint of the architecture and options); every finished chunk appends
one line per job, flushed at once, so an interrupted sweep loses at most the chunks in
flight; a rerun with the same file skips every job already there.  A file written
for another fingerprint is refused.

Before a sweep starts, its **projected cost** is measured, not guessed: a sample of
up to 16 jobs spread evenly over the list runs here, and ``seconds per job ×
remaining jobs / workers`` is reported (:class:`SweepCost`).
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._progress import Progress, Reporter, reporter
from .errors import InvalidArgumentError, MissingDependencyError

__all__ = ["SweepCost", "read_results", "run_sweep", "sweep_workers"]

_SERIAL_BELOW = 64
"""With fewer jobs than this, a sweep without a client runs in this process."""
_SERIAL_SECONDS = 2.0
"""Without a client, a sweep projected to take less than this (serially) runs here."""


@dataclass(frozen=True)
class SweepCost:
    """What a sweep will cost, from a measured sample.

    Attributes
    ----------
    n_jobs : int
        Jobs this run computes (the sample included).
    done : int
        Jobs found done in the results file.
    seconds_per_job : float
        Measured on the sample, in this process.
    workers : int
    projected_seconds : float
        Seconds still to go after the sample: ``seconds_per_job * (n_jobs - sample) /
        workers`` (perfect scaling: a lower estimate).
    """

    n_jobs: int
    done: int
    seconds_per_job: float
    workers: int
    projected_seconds: float

    def __str__(self) -> str:
        s = self.projected_seconds
        if s < 120:
            when = f"{s:.1f} s"
        else:
            when = f"{s / 60:.1f} min" if s < 7200 else f"{s / 3600:.1f} h"
        ms = 1e3 * self.seconds_per_job
        return (
            f"{self.n_jobs} jobs to run ({self.done} done before) at {ms:.2f} ms per job "
            f"(measured) on {self.workers} worker(s): about {when}"
        )


def sweep_workers(client: Any = None, n_jobs: int | None = None) -> int:
    """The number of workers a sweep would use (Dask workers, ``n_jobs``, or the CPUs)."""
    if client is not None:
        return max(1, len(client.scheduler_info().get("workers", {})))
    if n_jobs is not None:
        return max(1, n_jobs)
    return os.cpu_count() or 1


def read_results(path: str | os.PathLike[str], fingerprint: str) -> dict[str, Any]:
    """The finished jobs of a results file, ``{job key: result}`` (empty if no file).

    Raises
    ------
    InvalidArgumentError
        If the file belongs to another sweep (another fingerprint) or is not a
        results file.
    """
    p = Path(path)
    if not p.exists() or p.stat().st_size == 0:
        return {}
    out: dict[str, Any] = {}
    with p.open(encoding="utf-8") as fh:
        try:
            head = json.loads(fh.readline())
        except json.JSONDecodeError:
            head = None
        if not isinstance(head, dict) or "mtd_sweep" not in head:
            raise InvalidArgumentError(f"results file {str(p)!r} is not an mtd sweep results file")
        if head.get("fingerprint") != fingerprint:
            raise InvalidArgumentError(
                f"results file {str(p)!r} was written by another sweep (fingerprint "
                f"{head.get('fingerprint')!r}, this sweep {fingerprint!r}); use another file"
            )
        for line in fh:
            try:
                row = json.loads(line)
            except json.JSONDecodeError:  # a line cut by an interruption
                continue
            out[str(row["key"])] = row["result"]
    return out


def _chunks(items: Sequence[Any], size: int) -> list[list[Any]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def _joblib() -> Any:
    try:
        import joblib
    except ImportError:
        return None
    return joblib


def _run_local(
    fn: Callable[..., list[tuple[str, Any]]],
    chunks: list[list[Any]],
    shared: tuple[Any, ...],
    n_jobs: int | None,
) -> Iterator[list[tuple[str, Any]]]:
    joblib = _joblib()
    if joblib is None or n_jobs == 1 or len(chunks) <= 1:
        if joblib is None and n_jobs not in (None, 1):
            raise MissingDependencyError(
                f'n_jobs={n_jobs} needs joblib: pip install "mtd[sweep]" (or n_jobs=1)'
            )
        for c in chunks:
            yield fn(c, *shared)
        return
    par = joblib.Parallel(n_jobs=n_jobs or -1, return_as="generator_unordered")
    yield from par(joblib.delayed(fn)(c, *shared) for c in chunks)


def _run_dask(
    fn: Callable[..., list[tuple[str, Any]]],
    chunks: list[list[Any]],
    shared: tuple[Any, ...],
    client: Any,
) -> Iterator[list[tuple[str, Any]]]:
    try:
        from distributed import as_completed
    except ImportError:  # pragma: no cover - a client implies distributed
        raise MissingDependencyError(
            'client= needs dask.distributed: pip install "mtd[dask]"'
        ) from None
    scattered = [client.scatter(x, broadcast=True) for x in shared]
    futures = [client.submit(fn, c, *scattered, pure=False) for c in chunks]
    for fut in as_completed(futures):
        yield fut.result()


def run_sweep(
    fn: Callable[..., list[tuple[str, Any]]],
    jobs: Sequence[tuple[str, Any]],
    shared: tuple[Any, ...] = (),
    *,
    fingerprint: str,
    client: Any = None,
    n_jobs: int | None = None,
    results: str | os.PathLike[str] | None = None,
    chunk_size: int | None = None,
    report: Callable[[str], None] | None = None,
    announce_over: float = 60.0,
    progress: Progress | Reporter = None,
    sample_size: int = 16,
) -> dict[str, Any]:
    """Run ``fn(chunk, *shared)`` over chunks of ``jobs``; return ``{key: result}``.

    Parameters
    ----------
    fn : callable
        A module-level function (picklable) taking a list of ``(key, job)`` and the
        shared arguments, returning a list of ``(key, result)`` with JSON-ready results.
    jobs : sequence of (str, object)
        The jobs, each with a unique key.
    shared : tuple
        Arguments every chunk needs (sent to each worker once).
    fingerprint : str
        Names the sweep in the results file.
    client : distributed.Client, optional
        Run on this Dask cluster.
    n_jobs : int, optional
        Local worker processes (joblib); default all cores; 1 runs in this process.
    results : path, optional
        The results file (created, or resumed).
    chunk_size : int, optional
        Jobs per task; default about eight tasks per worker, at most 256 jobs.
    report : callable, optional
        Called with one-line messages: the projected cost, then progress (the same as
        a callable ``progress``).
    announce_over : float, default 60
        When nothing reports progress, the projected cost is printed to stderr when it
        exceeds this many seconds.
    progress : bool, callable or Reporter, optional
        mtd's progress reporter (:mod:`mtd._progress`): True shows a bar (or lines on
        stderr), a callable receives the messages; a ``Reporter`` (e.g. the caller's
        bar) is advanced and left open.

    Returns
    -------
    dict
    """
    if isinstance(progress, Reporter):
        rep, own = progress, False
    else:
        wanted = report if progress is None else progress
        rep, own = reporter(wanted, total=len(jobs), desc="sweep", unit="jobs"), True
    quiet = type(rep) is Reporter
    say = rep.say
    done = read_results(results, fingerprint) if results is not None else {}
    resumed = len(done)
    todo = [(k, j) for k, j in jobs if k not in done]
    fh = None
    if results is not None:
        new = not Path(results).exists() or Path(results).stat().st_size == 0
        fh = open(results, "a", encoding="utf-8")  # noqa: SIM115 - closed below
        if new:
            fh.write(json.dumps({"mtd_sweep": 1, "fingerprint": fingerprint}) + "\n")
            fh.flush()

    def record(rows: list[tuple[str, Any]]) -> None:
        for key, res in rows:
            done[key] = res
            if fh is not None:
                fh.write(json.dumps({"key": key, "result": res}) + "\n")
        if fh is not None:
            fh.flush()
        rep.reach(len(done))

    try:
        workers = sweep_workers(client, n_jobs)
        serial = client is None and (len(todo) < _SERIAL_BELOW or n_jobs == 1)
        if serial:
            workers = 1
        size = chunk_size or max(1, min(256, math.ceil(len(todo) / (8 * workers))))
        # measure: a sample spread evenly over the jobs runs here (its results count);
        # the first jobs alone would bias the projection (jobs are often sorted by size)
        n_sample = min(size, max(1, sample_size), len(todo))
        picked = {round(i * (len(todo) - 1) / max(n_sample - 1, 1)) for i in range(n_sample)}
        sample = [todo[i] for i in sorted(picked)]
        rest = [job for i, job in enumerate(todo) if i not in picked]
        if sample:
            t0 = time.perf_counter()
            record(fn(sample, *shared))
            per = (time.perf_counter() - t0) / len(sample)
            cost = SweepCost(len(todo), resumed, per, workers, per * len(rest) / workers)
            if quiet and cost.projected_seconds > announce_over:
                print(f"mtd sweep: {cost}", file=sys.stderr, flush=True)
            say(str(cost))
            if client is None and per * len(rest) < _SERIAL_SECONDS:
                serial = True  # cheaper here than starting worker processes
        chunks = _chunks(rest, size)
        it = (
            _run_dask(fn, chunks, shared, client)
            if client is not None
            else _run_local(fn, chunks, shared, 1 if serial else n_jobs)
        )
        t0, last = time.perf_counter(), 0.0
        for rows in it:
            record(rows)
            now = time.perf_counter() - t0
            if now - last > 1.0 or len(done) == len(jobs):
                say(f"{len(done)}/{len(jobs)} jobs done ({now:.1f} s)")
                last = now
    finally:
        if fh is not None:
            fh.close()
        if own:
            rep.close()
    return done
