"""The core imports no I/O library and can be used without any event loop."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import aiogoogle

CORE = os.path.dirname(aiogoogle.__file__)
FORBIDDEN = ["asyncio", "trio", "curio", "anyio", "aiohttp", "asks", "socket", "ssl", "http.client", "urllib.request", "aiofiles", "requests", "httpx", "selectors"]


def core_modules() -> list[str]:
    names = []
    for root, _dirs, files in os.walk(CORE):
        for fn in files:
            if fn.endswith(".py") and fn != "__main__.py":
                rel = os.path.relpath(os.path.join(root, fn), CORE)[:-3].replace(os.sep, ".")
                names.append("aiogoogle" if rel == "__init__" else "aiogoogle." + rel.removesuffix(".__init__"))
    return sorted(names)


def test_importing_every_core_module_loads_no_io_library() -> None:
    code = textwrap.dedent(
        f"""
        import sys, importlib
        for name in {core_modules()!r}:
            importlib.import_module(name)
        loaded = [m for m in {FORBIDDEN!r} if m in sys.modules]
        print(",".join(loaded))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"core imported: {out.stdout.strip()}"


def test_core_source_has_no_io_imports() -> None:
    import re

    pattern = re.compile(r"^\s*(import|from)\s+(" + "|".join(re.escape(m) for m in FORBIDDEN) + r")\b", re.M)
    for root, _dirs, files in os.walk(CORE):
        for fn in files:
            if fn.endswith(".py"):
                with open(os.path.join(root, fn), encoding="utf-8") as fh:
                    assert not pattern.search(fh.read()), os.path.join(root, fn)
