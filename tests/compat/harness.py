"""The differential harness against aiogoogle 5.19 (issue 11).

* :func:`peer_python` makes (once, cached, git-ignored) a virtualenv holding aiogoogle
  5.19 from PyPI, the version whose behaviour 5.x code expects.
* :class:`Peer` runs tests/compat/peer.py in it: ONE subprocess answering JSON lines, so
  a test module pays for one interpreter start however many cases it compares.
* :func:`compare` puts our answer (tests/compat/ops.py run here) next to 5.19's (the same
  operation run there). Equal answers are *identical*. Otherwise the rules of the
  allow-list (``allowed_519.json``; each names its README "Migrating from aiogoogle 5.x"
  entry) are applied to 5.19's answer, each turning it into what this project answers
  under that documented divergence; equal then means *allowed*, anything else is a
  *difference* and fails the test.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
VENV = os.path.join(REPO, "benchmarks", ".venvs", "aiogoogle519")  # shared with benchmarks/bench_build.py; git-ignored
REQUIREMENT = "aiogoogle==5.19.0"
NAMES_FILE = os.path.join(HERE, "names_519.json")
ALLOWED_FILE = os.path.join(HERE, "allowed_519.json")


class PeerUnavailable(Exception):
    """aiogoogle 5.19 could not be installed (PyPI unreachable)."""


def peer_python() -> str:
    """The Python of the aiogoogle 5.19 virtualenv, created on first use."""
    import fcntl

    python = os.path.join(VENV, "bin", "python")
    ok = os.path.join(VENV, ".aiogoogle519-ok")
    if os.path.exists(ok):
        return python
    os.makedirs(os.path.dirname(VENV), exist_ok=True)
    # pytest-xdist workers (and a benchmark) may get here together: one builds, the others wait.
    with open(VENV + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(ok):
            return python
        if not os.path.exists(python):
            # No pip of its own: this environment's pip installs into it (``pip --python``),
            # which saves the ~6 s of CPU that bootstrapping a second pip costs.
            subprocess.run([sys.executable, "-m", "venv", "--without-pip", VENV], check=True, capture_output=True)
        done = subprocess.run([sys.executable, "-m", "pip", "--python", python, "install", "-q", "--disable-pip-version-check", REQUIREMENT],
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise PeerUnavailable(f"pip install {REQUIREMENT} failed (is PyPI reachable?):\n{done.stderr[-2000:]}")
        with open(ok, "w", encoding="utf-8") as fh:
            fh.write(REQUIREMENT + "\n")
    return python


def docs_dir() -> str:
    import googleapiclient

    return os.path.join(os.path.dirname(googleapiclient.__file__), "discovery_cache", "documents")


def doc_path(name: str) -> str:
    return os.path.join(docs_dir(), name if name.endswith(".json") else name + ".json")


def all_docs() -> list[str]:
    return sorted(f for f in os.listdir(docs_dir()) if f.endswith(".json") and f != "index.json")


class Peer:
    """aiogoogle 5.19 in a subprocess (tests/compat/peer.py), one JSON line per operation."""

    def __init__(self) -> None:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
        env["PYTHONHASHSEED"] = "0"
        self.proc = subprocess.Popen(
            [peer_python(), "-I", "-c", f"import sys; sys.path.insert(0, {HERE!r}); import peer; peer.main()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            text=True,
            cwd=HERE,
        )
        self.lock = threading.Lock()

    def __call__(self, op: str, **args: Any) -> Any:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        with self.lock:
            self.proc.stdin.write(json.dumps({"op": op, "args": args}) + "\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the aiogoogle 5.19 peer exited")
        reply = json.loads(line)
        if "error" in reply:
            raise RuntimeError(f"aiogoogle 5.19 peer failed on {op}:\n{reply['error']}")
        return reply["ok"]

    def close(self) -> None:
        """End the peer (closing its stdin ends its loop) and close both pipes."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()


def ours(op: str, **args: Any) -> Any:
    """The same operation run here, on this project's ``aiogoogle``, through JSON as the
    peer's answer is (tuples become lists, keys become strings)."""
    from tests.compat import ops

    return json.loads(json.dumps(ops.OPS[op](**args), default=repr))


# ------------------------------------------------------------------------ the allow-list


def load_allowed() -> dict[str, dict[str, Any]]:
    with open(ALLOWED_FILE, encoding="utf-8") as fh:
        data = json.load(fh)
    return {e["id"]: e for e in data["entries"]}


Rule = Callable[[str, Any, Any], Any]
RULES: dict[str, Rule] = {}


def rule(rule_id: str) -> Callable[[Rule], Rule]:
    def deco(fn: Rule) -> Rule:
        RULES[rule_id] = fn
        return fn

    return deco


def _is_raise(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"raises"}


def _catches(theirs: Any, mine: Any) -> bool:
    """Equal, except that where 5.19 raised, ours raised something every ``except``
    written for 5.19's exception catches (at any depth of the answer)."""
    if _is_raise(theirs) and _is_raise(mine):
        return set(theirs["raises"]) <= set(mine["raises"])
    if isinstance(theirs, dict) and isinstance(mine, dict):
        return theirs.keys() == mine.keys() and all(_catches(v, mine[k]) for k, v in theirs.items())
    if isinstance(theirs, list) and isinstance(mine, list):
        return len(theirs) == len(mine) and all(_catches(t, m) for t, m in zip(theirs, mine, strict=True))
    return bool(theirs == mine)


def _map_url(url: str, fn: Callable[[list[tuple[str, str]]], list[tuple[str, str]]], path_fn: Callable[[str], str] | None = None) -> str:
    parts = urlsplit(url)
    query = fn(parse_qsl(parts.query, keep_blank_values=True))
    path = path_fn(parts.path) if path_fn else parts.path
    return urlunsplit((parts.scheme, parts.netloc, path, urlencode(query, quote_via=quote, safe="~"), parts.fragment))


def norm_url(url: Any) -> Any:
    """A URL with its query re-encoded one way (``+`` and ``%20`` both mean a space
    in a query: WHATWG URL application/x-www-form-urlencoded; Google reads both)."""
    if not isinstance(url, str):
        return url
    return _map_url(url, lambda q: q)


def _walk_urls(value: Any, fn: Callable[[str], str]) -> Any:
    if isinstance(value, dict):
        return {k: (fn(v) if k in ("url", "upload_path") and isinstance(v, str) else _walk_urls(v, fn)) for k, v in value.items()}
    return value


@rule("booleans-lowercase")
def _booleans(op: str, theirs: Any, mine: Any) -> Any:
    if op != "call":
        return theirs
    return _walk_urls(theirs, lambda u: _map_url(u, lambda q: [(k, v.lower() if v in ("True", "False") else v) for k, v in q]))


@rule("path-simple-expansion")
def _simple_expansion(op: str, theirs: Any, mine: Any) -> Any:
    # 5.19 left "/" unencoded in {name} (RFC 6570 §3.2.2 encodes it); take our path when
    # the two differ only by %2F for /.
    if op != "call" or not isinstance(mine, dict) or not isinstance(theirs, dict) or "url" not in mine or "url" not in theirs:
        return theirs
    mp, tp = urlsplit(mine["url"]).path, urlsplit(theirs["url"]).path
    if mp != tp and mp.replace("%2F", "/") == tp:
        return _walk_urls(theirs, lambda u: u.replace(tp, mp, 1))
    return theirs


@rule("upload-chunk-size")
def _chunk(op: str, theirs: Any, mine: Any) -> Any:
    def fix(t: Any, m: Any) -> Any:
        if isinstance(t, dict) and isinstance(m, dict):
            out = {k: fix(v, m.get(k)) for k, v in t.items()}
            if t.get("chunk_size") == 1024 * 1024 and m.get("chunk_size") == 8 * 1024 * 1024 and "upload_path" in t:
                out["chunk_size"] = 8 * 1024 * 1024
            return out
        return t

    return fix(theirs, mine) if op == "call" else theirs


@rule("api-version-header")
def _api_version(op: str, theirs: Any, mine: Any) -> Any:
    if op == "call" and isinstance(theirs, dict) and isinstance(mine, dict) and isinstance(mine.get("headers"), dict):
        version = mine["headers"].get("X-Goog-Api-Version")
        if version is not None and "X-Goog-Api-Version" not in (theirs.get("headers") or {}):
            return {**theirs, "headers": {**(theirs.get("headers") or {}), "X-Goog-Api-Version": version}}
    return theirs


@rule("alt-media-added")
def _downloads(op: str, theirs: Any, mine: Any) -> Any:
    # alt=media added for downloads, and sent to the /download/ base of methods with
    # useMediaDownloadService (5.19 computed that URL and never used it).
    if op != "call" or not (isinstance(theirs, dict) and isinstance(mine, dict) and "url" in theirs and "url" in mine and mine.get("media_download")):
        return theirs
    url = theirs["url"]
    if "alt=media" not in url:
        url = url + ("&" if "?" in url else "?") + "alt=media"
    parts, own = urlsplit(url), urlsplit(mine["url"])
    if own.path.replace("/download/", "/", 1) == parts.path:
        url = urlunsplit(parts._replace(path=own.path))
    return {**theirs, "url": norm_url(url)}


def _undashed(value: Any) -> Any:
    """Names as 5.19 rewrote them: '-' as '_', its "orig_name" marks dropped, and (as it
    moved renamed entries to the end) orders ignored."""
    if isinstance(value, dict):
        return sorted((k.replace("-", "_"), _undashed(v)) for k, v in value.items() if k != "orig_name")
    if isinstance(value, list):
        items = [_undashed(v) for v in value]
        return sorted(items, key=repr) if all(isinstance(i, str) for i in items) else items
    if isinstance(value, str):
        return value.replace("-", "_")
    return value


@rule("dashed-names-kept")
def _dashed(op: str, theirs: Any, mine: Any) -> Any:
    if op.startswith("browse:") and json.dumps(mine, default=repr).count("-") and _undashed(theirs) == _undashed(mine):
        return mine
    return theirs


@rule("no-body-schema-is-none")
def _no_body(op: str, theirs: Any, mine: Any) -> Any:
    if op in ("browse:request", "browse:response") and mine is None and theirs == {"raises": ["AttributeError"]}:
        return None
    return theirs


# Case-level allowances: a case may carry ``"allow": "<rule id>"`` when 5.19's answer is
# one of the documented divergences as a whole (e.g. an outcome 5.19 gets wrong).


def compare(op: str, mine: Any, theirs: Any, allow: list[str] | None = None) -> tuple[str, list[str]]:
    """("identical" | "allowed" | "different", the rule ids that made it allowed)."""
    if mine == theirs or _catches(theirs, mine):
        return "identical", []
    used: list[str] = []
    current = theirs
    for rule_id, fn in RULES.items():
        new = fn(op, current, mine)
        if new != current:
            used.append(rule_id)
            current = new
        if current == mine or _catches(current, mine):
            return "allowed", used
    for rule_id in allow or []:
        return "allowed", [rule_id]
    return "different", used


class Tally:
    """Counts for the report: compared, identical, allowed (per rule), different."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.rules: Counter[str] = Counter()
        self.differences: list[dict[str, Any]] = []

    def add(self, key: str, op: str, mine: Any, theirs: Any, allow: list[str] | None = None) -> str:
        verdict, used = compare(op, mine, theirs, allow)
        self.counts["compared"] += 1
        self.counts[verdict] += 1
        self.rules.update(used if verdict == "allowed" else [])
        if verdict == "different":
            self.differences.append({"key": key, "ours": mine, "5.19": theirs})
        return verdict

    def summary(self) -> str:
        c = self.counts
        rules = ", ".join(f"{k}={v}" for k, v in sorted(self.rules.items()))
        return f"compared={c['compared']} identical={c['identical']} allowed={c['allowed']} different={c['different']} ({rules})"


def diff_text(differences: list[dict[str, Any]], limit: int = 8) -> str:
    out = []
    for d in differences[:limit]:
        out.append(f"- {d['key']}\n    ours: {json.dumps(d['ours'], default=repr)[:600]}\n    5.19: {json.dumps(d['5.19'], default=repr)[:600]}")
    more = len(differences) - limit
    return "\n".join(out) + (f"\n... and {more} more" if more > 0 else "")


_ = re  # (kept for rules that match messages)


# ------------------------------------------------------------------------ drivers


def compare_browse(peer: Peer, name: str, tally: Tally) -> None:
    """Every node of one discovery document: fingerprints first, details where they differ."""
    path = doc_path(name)
    name = name.removesuffix(".json")  # keys name the document as the tests do: "drive.v3"
    theirs = peer("browse", path=path)
    mine = ours("browse", path=path)
    # Tallied per (node, field): "browse <doc> <node> [<field>]".
    differ = sorted(q for q in set(theirs) | set(mine) if theirs.get(q) != mine.get(q))
    for qual in sorted(set(theirs) | set(mine)):
        if qual not in differ:
            for field, value in (mine.get(qual) or {}).items():
                tally.add(f"browse {name} {qual or '<api>'} [{field}]", "browse:" + field, value, value)
    if not differ:
        return
    t_all = peer("browse", path=path, detail=differ)
    m_all = ours("browse", path=path, detail=differ)
    for qual in differ:
        t, m = t_all.get(qual) or {}, m_all.get(qual) or {}
        for field in sorted(set(t) | set(m)):
            tally.add(f"browse {name} {qual or '<api>'} [{field}]", "browse:" + field, m.get(field), t.get(field))
