"""``aiogoogle serve`` in a subprocess, as another program's tests would run it.

:class:`Served` starts the real entry point (``python -m aiogoogle serve --creds-dir``),
reads the URL it prints and the ``env.sh`` it writes, and runs ``aiogoogle`` commands and
``examples/`` scripts with exactly that environment (plus a private discovery cache and no
credentials of the developer's machine). Stopping it sends SIGTERM and returns what the
server printed on stderr, so tests can check it never printed a traceback.

:meth:`Served.cli` runs a command through ``aiogoogle.cli.main`` in this process instead,
with the same environment and work directory: a new interpreter costs about 0.5 s of CPU
per command (most of it importing aiohttp), which tests that only check what a command
does (the state it leaves, what it prints) need not pay each time. What the entry point
itself does (exit statuses, one line on stderr, signals, resource limits, shadowed
imports) is checked through :meth:`Served.aiogoogle`, a real ``python -m aiogoogle``.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def _clean_environ() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("AIOGOOGLE_", "GOOGLE_", "PYTEST_", "GCE_"))}


def read_env_sh(path: Path) -> dict[str, str]:
    """The variables an ``env.sh`` written by ``aiogoogle serve`` exports."""
    env = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("export "):
            name, _, value = line[len("export "):].partition("=")
            env[name] = shlex.split(value)[0]
    return env


class Served:
    """A running ``aiogoogle serve`` and the environment its ``env.sh`` sets."""

    def __init__(self, workdir: Path, *extra: str) -> None:
        self.workdir = workdir
        self.creds_dir = workdir / "fake-google"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "aiogoogle", "serve", "--creds-dir", str(self.creds_dir), *extra],
            env=_clean_environ(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()
        assert re.fullmatch(r"https?://(127\.0\.0\.1|localhost):\d+/", self.url), self.url + self._stop()
        line = self.proc.stdout.readline().strip()
        while not line.startswith("credentials: "):
            line = self.proc.stdout.readline().strip()
        assert line == f"credentials: {self.creds_dir}", line
        self.exports = read_env_sh(self.creds_dir / "env.sh")
        assert self.exports["AIOGOOGLE_ROOT_URL"] == self.url

    def env(self, **extra: str) -> dict[str, str]:
        env = _clean_environ()
        env.update(self.exports)
        env.update(AIOGOOGLE_CACHE_DIR=str(self.workdir / "cache"), CLOUDSDK_CONFIG=str(self.workdir / "no-gcloud"))
        env.update(extra)
        return env

    def aiogoogle(self, *argv: str, check: bool = True, timeout: float = 120, **extra: str) -> subprocess.CompletedProcess[str]:
        """``aiogoogle ARGV`` with the server's environment, in the work directory."""
        result = subprocess.run([sys.executable, "-m", "aiogoogle", *argv], env=self.env(**extra), cwd=self.workdir,
                                capture_output=True, text=True, timeout=timeout, check=False)
        return _checked(result, argv) if check else result

    def cli(self, *argv: str, check: bool = True, **extra: str) -> subprocess.CompletedProcess[str]:
        """``aiogoogle ARGV`` run by ``aiogoogle.cli.main`` (what ``python -m aiogoogle``
        runs) in this process, with exactly the environment (``os.environ`` is replaced for
        the call, then restored) and work directory :meth:`aiogoogle` gives the subprocess;
        stdout (with its binary ``buffer``) and stderr are captured."""
        from aiogoogle.cli import main

        env, saved_env, saved_cwd = self.env(**extra), dict(os.environ), os.getcwd()
        out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", newline="")
        err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", newline="")
        os.environ.clear()
        os.environ.update(env)
        os.chdir(self.workdir)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    code = main(list(argv))
                except SystemExit as exc:  # as the interpreter maps it
                    code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
                    if isinstance(exc.code, str):
                        print(exc.code, file=err)
        finally:
            os.environ.clear()
            os.environ.update(saved_env)
            os.chdir(saved_cwd)
        texts = []
        for stream in (out, err):
            stream.flush()
            texts.append(stream.buffer.getvalue().decode("utf-8", "replace"))  # type: ignore[attr-defined]
        result = subprocess.CompletedProcess(["aiogoogle", *argv], code, texts[0], texts[1])
        return _checked(result, argv) if check else result

    def api(self, method: str, path: str, body: Any = None, **query: str) -> Any:
        """One API call straight over HTTP with the server's API key (to put data in place
        quickly); returns the JSON answer."""
        params = "&".join(f"{k}={urllib.parse.quote(v)}" for k, v in {**query, "key": self.exports["AIOGOOGLE_API_KEY"]}.items())
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.url}{path.lstrip('/')}?{params}", data=data, method=method,
                                         headers={"Content-Type": "application/json"} if data is not None else {})
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
        return json.loads(raw) if raw else None

    def example(self, script: str, *args: str) -> subprocess.CompletedProcess[str]:
        """``python examples/SCRIPT ARGS``, as README's Examples section runs it."""
        result = subprocess.run([sys.executable, str(EXAMPLES / script), *args], env=self.env(), cwd=self.workdir,
                                capture_output=True, text=True, timeout=120, check=False)
        assert result.returncode == 0, f"{script} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        assert "Traceback" not in result.stderr, result.stderr
        return result

    def _stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            _, err = self.proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return err

    def stop(self) -> str:
        """Stop the server (SIGTERM) and return its stderr; it must have stopped cleanly."""
        err = self._stop()
        assert self.proc.returncode == 0, err
        assert "Traceback" not in err, err
        return err


def _checked(result: subprocess.CompletedProcess[str], argv: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
    """``result`` of ``aiogoogle ARGV``, which must have succeeded without a traceback."""
    assert result.returncode == 0, f"aiogoogle {shlex.join(argv)}:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
    assert "Traceback" not in result.stderr, result.stderr
    return result
