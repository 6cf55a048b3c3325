"""Run LiteLLM's own ``--validate_config`` on many config files with one import of LiteLLM.

Runs INSIDE the LiteLLM virtualenv (``.venv-litellm/bin/python``), never in the project venv::

    .venv-litellm/bin/python tests/oracle/litellm_validate_batch.py [--timeout S] [--jobs N]
        [--mode fork|cli] FILE...

Prints one JSON document on stdout::

    {"litellm_version": "1.108.7", "import_seconds": 6.1, "results": [
        {"file": "/abs/a.yaml", "rc": 0, "last_line": "LiteLLM: config OK (3 models)",
         "mode": "fork", "seconds": 0.4, "tail": "..."}, ...]}

``rc``: 0 = LiteLLM accepted the file, 1 = it rejected it, 124 = it did not finish within
``--timeout`` seconds (the same codes ``timeout 60 litellm --config F --validate_config`` gives).
``last_line`` is the last non-empty line of the merged stdout+stderr, ANSI colours stripped.

How it stays faithful to ``litellm --config F --validate_config`` (1.108.7)
--------------------------------------------------------------------------
The ``litellm`` console script is ``sys.exit(litellm.run_server())``: a click command that
imports ``litellm.proxy.proxy_server`` and, for ``--validate_config``, calls
``ProxyInitializationHelpers.run_config_validation(config)``, i.e.
``asyncio.run(ProxyConfig().load_config(router=None, config_file_path=config))``, printing
``LiteLLM: config OK (N models)`` or ``LiteLLM: config validation failed: <error>`` (exit 1).
About 6 of its ~8 s are imports. This script:

1. re-executes itself with the clean environment the reference runs used (PATH, LANG,
   PYTHONUNBUFFERED=1, LITELLM_LOCAL_MODEL_COST_MAP=True, HOME = a temp dir that is also the cwd);
2. imports ``litellm`` and everything the CLI imports before validating (``litellm.run_server``,
   ``litellm.proxy.proxy_cli``, ``litellm.proxy.proxy_server``), recording every environment
   variable read during those imports;
3. per file, ``os.fork()``s a child that gets its own temp dir as cwd and HOME, the file's
   ``os.environ/VAR`` references set to ``dummy`` (``1234`` for names ending in ``PORT``), its
   stdout+stderr redirected to one file, and then calls the very same click entry point
   (``litellm.run_server`` with ``sys.argv = [litellm, --config, F, --validate_config]``),
   including Python's own exit handling (uncaught exception -> traceback + rc 1, thread join,
   atexit). The fork gives each file pristine module state (``load_config`` mutates globals).
4. A file whose ``os.environ/`` references include a variable LiteLLM read *while importing*
   cannot be validated faithfully in a pre-imported process (the import saw no value), so it
   is run through the real CLI in a fresh interpreter instead (``"mode": "cli"``; a fork that
   execs ``litellm`` with the same environment and directories; ``--mode cli`` does this for
   every file). Such a run gets twice the timeout, as it also pays for the imports.

Up to ``--jobs`` children run at once (they mostly wait: DNS look-ups of dummy hosts), each in
its own process group; on timeout the whole group is killed (SIGKILL). The faithfulness of all
this is tested in tests/oracle/test_batch_faithfulness.py against the real CLI and the corpus
MANIFEST; on all 40 corpus files and 10 broken ones it gave the real CLI's rc and last line.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import re
import select
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

_CLEAN_MARK = "_LLMPROXY_ORACLE_CLEAN_ENV"
_ENV_REF = re.compile(r"os\.environ/([A-Za-z_][A-Za-z0-9_]*)")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
TAIL_CHARS = 4000
RC_OK, RC_FAILED, RC_TIMEOUT = 0, 1, 124
# The JSON report goes to a private copy of the original stdout; fd 1 itself is pointed at
# stderr so that anything LiteLLM prints in this process cannot corrupt the report.
_report_fd: int | None = None


@dataclass
class Result:
    file: str
    rc: int
    last_line: str
    mode: str
    seconds: float
    tail: str = ""
    env_refs: list[str] = field(default_factory=list)


def env_refs(text: str) -> dict[str, str]:
    """The dummy value for every ``os.environ/VAR`` the file mentions (as the reference runs)."""
    return {name: ("1234" if name.endswith("PORT") else "dummy") for name in _ENV_REF.findall(text)}


def last_line(output: str) -> str:
    lines = [ln.strip() for ln in _ANSI.sub("", output).splitlines()]
    lines = [ln for ln in lines if ln]
    return lines[-1] if lines else ""


def clean_base_env(source: dict[str, str]) -> dict[str, str]:
    env = {"PATH": source.get("PATH", "/usr/bin:/bin")}
    if "LANG" in source:
        env["LANG"] = source["LANG"]
    env["PYTHONUNBUFFERED"] = "1"
    env["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    return env


def _reexec_with_clean_env() -> None:
    if os.environ.get(_CLEAN_MARK) == "1":
        del os.environ[_CLEAN_MARK]
        return
    env = clean_base_env(dict(os.environ))
    env[_CLEAN_MARK] = "1"
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, os.path.abspath(__file__), *sys.argv[1:]], env)


@contextmanager
def _trace_env_reads() -> Iterator[set[str]]:
    """Record the names of environment variables read through ``os.environ`` / ``os.getenv``."""
    seen: set[str] = set()
    original = type(os.environ)

    class Tracing(original):  # type: ignore[valid-type,misc]
        def __getitem__(self, key: str) -> str:
            seen.add(key)
            return str(super().__getitem__(key))

        def __contains__(self, key: object) -> bool:
            if isinstance(key, str):
                seen.add(key)
            return super().__contains__(key)

        def get(self, key: str, default: Any = None) -> Any:
            seen.add(key)
            return super().get(key, default)

    os.environ.__class__ = Tracing
    try:
        yield seen
    finally:
        os.environ.__class__ = original


def _exit_code(exc: SystemExit) -> int:
    """What the interpreter turns ``SystemExit`` into (printing a string argument like it)."""
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def _child_main(
    config: Path, workdir: Path, out_path: Path, refs: dict[str, str], import_cwd: str
) -> None:
    """Body of the forked child. Never returns: ends with ``os._exit``."""
    code = RC_FAILED
    try:
        os.setpgid(0, 0)
        if _report_fd is not None:
            os.close(_report_fd)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        os.close(devnull)
        os.chdir(workdir)
        os.environ["HOME"] = str(workdir)
        os.environ.update(refs)
        # proxy_cli did `sys.path.append(os.getcwd())` at import time, in the parent's cwd.
        sys.path[:] = [str(workdir) if p == import_cwd else p for p in sys.path]
        sys.argv = [
            os.path.join(os.path.dirname(sys.executable), "litellm"),
            "--config",
            str(config),
            "--validate_config",
        ]
        from litellm import run_server

        try:
            run_server()  # the console script: sys.exit(run_server())
            code = 0
        except SystemExit as exc:
            code = _exit_code(exc)
        except BaseException:
            sys.excepthook(*sys.exc_info())
            code = RC_FAILED
        # What interpreter shutdown does next: join non-daemon threads, run atexit handlers.
        shutdown: Callable[[], None] | None = getattr(threading, "_shutdown", None)
        if shutdown is not None:
            shutdown()
        atexit._run_exitfuncs()
    except BaseException:  # a failure of this harness itself
        try:
            import traceback

            traceback.print_exc()
        finally:
            code = 3
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _exec_cli(config: Path, workdir: Path, out_path: Path, refs: dict[str, str]) -> None:
    """Body of a forked child that becomes `litellm --config F --validate_config`."""
    try:
        os.setpgid(0, 0)
        if _report_fd is not None:
            os.close(_report_fd)
        fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.chdir(workdir)
        env = clean_base_env(dict(os.environ))
        env["HOME"] = str(workdir)
        env.update(refs)
        litellm_bin = os.path.join(os.path.dirname(sys.executable), "litellm")
        os.execve(litellm_bin, [litellm_bin, "--config", str(config), "--validate_config"], env)
    finally:
        os._exit(3)  # only reached when exec failed


@dataclass
class _Running:
    config: Path
    pid: int
    pidfd: int
    out: Path
    start: float
    deadline: float
    refs: dict[str, str]
    mode: str


class Batch:
    def __init__(self, timeout: float, jobs: int, mode: str) -> None:
        self.timeout = timeout
        self.jobs = max(1, jobs)
        self.mode = mode
        self.root = Path(tempfile.mkdtemp(prefix="litellm-oracle-"))
        self.import_dir = self.root / "import-home"
        self.import_dir.mkdir()
        self.import_env_reads: set[str] = set()
        self.import_seconds = 0.0
        self.counter = 0

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def _fresh_dir(self) -> Path:
        self.counter += 1
        d = self.root / f"run-{self.counter:04d}"
        d.mkdir()
        return d

    def import_litellm(self) -> None:
        os.chdir(self.import_dir)
        os.environ["HOME"] = str(self.import_dir)
        start = time.monotonic()
        with _trace_env_reads() as seen:
            import litellm
            import litellm.proxy.proxy_cli
            import litellm.proxy.proxy_server  # noqa: F401
            from litellm import run_server  # noqa: F401
        self.import_seconds = time.monotonic() - start
        self.import_env_reads = set(seen)

    # --- children ---------------------------------------------------------------------------
    def _spawn(self, config: Path, refs: dict[str, str], mode: str) -> _Running:
        """Start one validation: a fork of this pre-imported process ("fork"), or a fork that
        execs the real `litellm` CLI with the same environment and directories ("cli")."""
        workdir = self._fresh_dir()
        out = workdir.parent / f"{workdir.name}.out"
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            if mode == "fork":
                _child_main(config, workdir, out, refs, str(self.import_dir))
            _exec_cli(config, workdir, out, refs)
        now = time.monotonic()
        # A real CLI run also pays the ~6-8 s of imports the forks inherit for free.
        limit = self.timeout if mode == "fork" else 2 * self.timeout
        return _Running(config, pid, os.pidfd_open(pid), out, now, now + limit, refs, mode)

    def _finish(self, run: _Running, timed_out: bool) -> Result:
        if timed_out:
            with suppress(ProcessLookupError):
                os.killpg(run.pid, signal.SIGKILL)
        _, status = os.waitpid(run.pid, 0)
        os.close(run.pidfd)
        rc = RC_TIMEOUT if timed_out else os.waitstatus_to_exitcode(status)
        if rc < 0:  # killed by a signal, as a shell reports it
            rc = 128 - rc
        text = run.out.read_text("utf-8", "replace") if run.out.exists() else ""
        return Result(
            str(run.config),
            rc,
            last_line(text),
            run.mode,
            round(time.monotonic() - run.start, 3),
            text[-TAIL_CHARS:],
            sorted(run.refs),
        )

    def run(self, configs: list[Path]) -> list[Result]:
        results: dict[Path, Result] = {}
        pending: list[tuple[Path, dict[str, str], str]] = []
        for config in configs:
            refs = env_refs(config.read_text("utf-8", "replace")) if config.is_file() else {}
            cli = self.mode == "cli" or bool(refs.keys() & self.import_env_reads)
            pending.append((config, refs, "cli" if cli else "fork"))
        running: dict[int, _Running] = {}
        while pending or running:
            while pending and len(running) < self.jobs:
                run = self._spawn(*pending.pop(0))
                running[run.pidfd] = run
            poller = select.poll()
            for fd in running:
                poller.register(fd, select.POLLIN)
            now = time.monotonic()
            wait_ms = max(0, int((min(r.deadline for r in running.values()) - now) * 1000) + 1)
            ready = {fd for fd, _ in poller.poll(wait_ms)}
            now = time.monotonic()
            for fd in list(running):
                run = running[fd]
                if fd in ready:
                    results[run.config] = self._finish(running.pop(fd), timed_out=False)
                elif now >= run.deadline:
                    results[run.config] = self._finish(running.pop(fd), timed_out=True)
        return [results[c] for c in configs]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per config (30)")
    parser.add_argument("--jobs", type=int, default=4, help="configs validated at once (4)")
    parser.add_argument(
        "--mode",
        choices=("fork", "cli"),
        default="fork",
        help="fork (default) or run the real CLI for every file",
    )
    args = parser.parse_args(argv)
    global _report_fd
    sys.stdout.flush()
    _report_fd = os.dup(1)
    os.dup2(2, 1)
    configs = [f.absolute() for f in args.files]
    batch = Batch(args.timeout, args.jobs, args.mode)
    try:
        import importlib.metadata

        if args.mode == "fork":
            batch.import_litellm()
        started = time.monotonic()
        results = batch.run(configs)
        report = {
            "litellm_version": importlib.metadata.version("litellm"),
            "import_seconds": round(batch.import_seconds, 3),
            "jobs": batch.jobs,
            "validate_seconds": round(time.monotonic() - started, 3),
            "import_env_reads_referenced": sorted(
                {r for res in results for r in res.env_refs} & batch.import_env_reads
            ),
            "results": [asdict(r) for r in results],
        }
    finally:
        batch.close()
    with os.fdopen(_report_fd, "w", encoding="utf-8") as report_out:
        report_out.write(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    _reexec_with_clean_env()
    sys.exit(main())
