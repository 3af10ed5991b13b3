"""Running a credential helper program (executable-sourced workload identity federation,
https://google.aip.dev/auth/4117): the blocking half of the core's ``Run`` effect.

The core decides what to run, with which extra environment variables and for how long
(:class:`aiogoogle.auth._external.ExecutableRequest`); this runs it in the calling worker
thread with the process environment plus those variables, no standard input, standard
error discarded, standard output captured up to a bound, and kills it at the timeout.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from typing import Any

__all__ = ["run_executable"]


def run_executable(request: Any) -> Any:
    """Run ``request.argv``; return an :class:`~aiogoogle.auth._external.ExecutableResult`.
    Raises ``OSError`` when the program cannot be started."""
    from aiogoogle.auth._external import ExecutableResult

    env = dict(os.environ)
    env.update(dict(request.env))
    posix = os.name == "posix"
    # Its own process group on POSIX, so the timeout also ends children that inherited
    # the output pipe (reading would otherwise wait for them).
    proc = subprocess.Popen(
        list(request.argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, close_fds=True,
        start_new_session=posix,
    )
    killed = threading.Event()

    def end() -> None:
        try:
            if posix:
                os.killpg(proc.pid, signal.SIGKILL)
            else:
                proc.kill()
        except OSError:
            pass  # already gone

    def kill() -> None:
        killed.set()
        end()

    timer = threading.Timer(request.timeout, kill)
    timer.daemon = True
    timer.start()
    try:
        assert proc.stdout is not None
        # Read one byte past the bound: more than that is refused, and the program is not
        # waited for while it keeps writing.
        output = proc.stdout.read(request.max_output + 1)
        if len(output) > request.max_output:
            end()
        proc.stdout.close()
        returncode = proc.wait()
    finally:
        timer.cancel()
        if proc.poll() is None:
            end()
            proc.wait()
    if killed.is_set():
        return ExecutableResult(None, b"", timed_out=True)
    return ExecutableResult(returncode, output)
