"""Executors: where an experiment's runs are computed — in this process, a local process pool, a
Dask ``LocalCluster`` or a Dask scheduler elsewhere — all as ``concurrent.futures`` executors
(:func:`make_executor`)."""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import os
import re
import sys
import time
from typing import Iterator

from .design import BatchError

__all__ = ["InlineExecutor", "DASK_LOCAL_CONFIG", "local_cluster", "make_executor", "exit_with_parent", "start_worker", "WORKER_ENV", "WorkerLost",
           "worker_lost", "executor_text"]

#: the descriptions :func:`make_executor` gives (English, as the manifest records them) → Chinese
_EXECUTOR_ZH = (
    (re.compile(r"in this process"), "在本进程中"),
    (re.compile(r"process pool, (\d+) workers?"), r"进程池，\1 个工作进程"),
    (re.compile(r"Dask LocalCluster, (\d+) workers?"), r"Dask 本地集群，\1 个工作进程"),
    (re.compile(r"Dask scheduler (\S+), (\d+) workers?"), r"Dask 调度器 \1，\2 个工作进程"),
    (re.compile(r"given executor \((.*)\)"), r"给定的执行器（\1）"),
)


def executor_text(desc: str, lang: str = "en") -> str:
    """An executor's description (as :func:`make_executor` gives it and the manifest records it) in
    ``lang``."""
    if lang == "zh":
        for pattern, zh in _EXECUTOR_ZH:
            if pattern.fullmatch(desc):
                return pattern.sub(zh, desc)
    return desc


def worker_lost(e: BaseException) -> bool:
    """Whether ``e`` says that the executor itself broke — a worker process of the pool ended from
    outside (the system stops one when memory runs out, or ``kill -9``) — rather than that a run
    failed: the runs it held did not fail by themselves and are to be done again."""
    return isinstance(e, cf.BrokenExecutor)


class WorkerLost(Exception):
    """Work stopped because a worker process ended abruptly (:func:`worker_lost`). ``kept`` and
    ``kept_zh`` say what is kept and how to go on; :meth:`text` is the whole message in a language."""

    def __init__(self, kept: str, kept_zh: str):
        self.kept, self.kept_zh = kept, kept_zh
        super().__init__(self.text("en"))

    def text(self, lang: str = "en") -> str:
        script = _script_hint(lang)
        if lang == "zh":
            return ("一个工作进程意外终止（被外部结束：内存不足时系统会这样做，或被 kill -9）；"
                    f"{self.kept_zh}。可减少 --workers 或缩小市场后再试{script}")
        return ("a worker process ended abruptly (stopped from outside: the system does this when memory runs out, "
                f"or kill -9); {self.kept}. Fewer --workers or a smaller market may help{script}")


def _script_hint(lang: str) -> str:
    """When the runs were started by a Python script (not the CLI or a notebook): worker processes
    import that script again, so a script whose runs are not under ``if __name__ == "__main__":``
    breaks every worker at its start — the same message, another cause."""
    main = getattr(sys.modules.get("__main__"), "__file__", None) or ""
    if not main.endswith(".py") or os.path.basename(main) == "__main__.py":
        return ""
    name = os.path.basename(main)
    if lang == "zh":
        return f"。若由脚本 {name} 启动：工作进程会重新导入该脚本，其运行代码必须放在 if __name__ == \"__main__\": 之下"
    return (f". If the script {name} started the runs: worker processes import it again, so its code must be under "
            'if __name__ == "__main__":')


class InlineExecutor(cf.Executor):
    """A ``concurrent.futures`` executor that runs each task in this process when submitted."""

    def submit(self, fn, /, *args, **kwargs):
        f: cf.Future = cf.Future()
        try:
            f.set_result(fn(*args, **kwargs))
        except BaseException as e:  # noqa: BLE001 - recorded as the run's failure
            if isinstance(e, KeyboardInterrupt):
                raise
            f.set_exception(e)
        return f


#: Dask settings for a LocalCluster on this machine. Simulation runs are whole tasks of a tenth of a
#: second or more, so the cluster's own housekeeping need not run every few milliseconds: the
#: workers' statistical profiler (a stack sample every 10 ms), the system and memory monitors and
#: the event-loop tick are slowed or off, which on a 2-core machine gives the simulations back
#: about a tenth of the CPU (``benchmarks/sweep.py``). A remote cluster keeps its own settings.
DASK_LOCAL_CONFIG = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.system-monitor.interval": "1s",
    "distributed.admin.tick.interval": "1s",
    "distributed.worker.memory.monitor-interval": "1s",
}


@contextlib.contextmanager
def local_cluster(workers: int | None = None) -> Iterator[tuple[cf.Executor, str]]:
    """A Dask ``LocalCluster`` of ``workers`` single-threaded worker processes (default: one per
    core) with :data:`DASK_LOCAL_CONFIG`, as a ``concurrent.futures`` executor and a description."""
    import dask
    from distributed import Client, LocalCluster

    n = workers or os.cpu_count() or 1
    with dask.config.set(DASK_LOCAL_CONFIG):
        lc = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                          env=dict(WORKER_ENV))
        client = Client(lc)
        try:
            yield client.get_executor(pure=False), f"Dask LocalCluster, {n} worker{'s' * (n != 1)}"
        finally:
            client.close()
            lc.close()


@contextlib.contextmanager
def make_executor(workers: int | None = None, scheduler: str | None = None, cluster: str | None = None
                  ) -> Iterator[tuple[cf.Executor, str]]:
    """An executor and a description of it: in-process (``workers=1``), a local process pool
    (default: one worker per core), Dask distributed at ``scheduler`` (``tcp://host:port``), or a Dask
    ``LocalCluster`` (``cluster="local"``, with ``workers`` processes)."""
    if scheduler and cluster:
        raise BatchError("--scheduler", "give either --scheduler or --cluster, not both", None,
                         "--scheduler 与 --cluster 只能选一个")
    if scheduler or cluster:
        try:
            from distributed import Client
        except ImportError:  # pragma: no cover - a dependency
            raise BatchError("--scheduler", "Dask distributed is not installed", None, "未安装 Dask distributed") from None
        if cluster:
            if cluster != "local":
                raise BatchError("--cluster", f"--cluster {cluster!r}: only 'local' is known (a Dask LocalCluster); "
                                 "for a remote cluster give --scheduler tcp://host:port", None,
                                 f"--cluster {cluster!r}：只支持 'local'；远程集群请用 --scheduler tcp://host:port")
            with local_cluster(workers) as got:
                yield got
        else:
            try:
                client = Client(scheduler, timeout="10s")
            except Exception as e:  # noqa: BLE001 - shown to the user
                raise BatchError("--scheduler", f"cannot reach the Dask scheduler at {scheduler}: {e}", None,
                                 f"无法连接 Dask 调度器 {scheduler}：{e}") from None
            try:
                n = len(client.scheduler_info().get("workers", {}))
                yield client.get_executor(pure=False), f"Dask scheduler {scheduler}, {n} worker{'s' * (n != 1)}"
            finally:
                client.close()
        return
    n = workers if workers is not None else (os.cpu_count() or 1)
    if n <= 1:
        yield InlineExecutor(), "in this process"
        return
    import multiprocessing as mp

    with cf.ProcessPoolExecutor(max_workers=n, mp_context=mp.get_context("spawn"), initializer=start_worker,
                                initargs=(os.getpid(),)) as pool:
        yield pool, f"process pool, {n} workers"


#: what a worker process of a local pool or cluster sets: the compiled passes use one thread each,
#: since the pool already keeps every core busy with one run per worker (sim.kernels.sized)
WORKER_ENV = {"NUMBA_NUM_THREADS": "1"}


def start_worker(parent: int) -> None:
    """Start a worker process of the pool: one thread for the compiled passes (:data:`WORKER_ENV`),
    and exit with the parent (:func:`exit_with_parent`)."""
    import numba

    numba.set_num_threads(int(WORKER_ENV["NUMBA_NUM_THREADS"]))
    exit_with_parent(parent)


def exit_with_parent(parent: int, every: float = 0.5) -> None:
    """In a worker process: end this process as soon as ``parent`` (the process that started the
    pool) is gone — killed with ``kill -9``, say — instead of finishing runs nobody will collect.
    A daemon thread checks every ``every`` seconds."""
    import threading

    def watch() -> None:
        while True:
            time.sleep(every)
            if os.getppid() != parent:
                os._exit(3)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
