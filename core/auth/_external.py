"""Workload and workforce identity federation: ``external_account`` and
``external_account_authorized_user`` credential files, as pure flows.

An ``external_account`` file (https://google.aip.dev/auth/4117; written by ``gcloud iam
workload-identity-pools create-cred-config``,
https://cloud.google.com/sdk/gcloud/reference/iam/workload-identity-pools/create-cred-config)
says where the workload's own identity comes from (``credential_source``): a file, a URL,
a program (executable-sourced, "pluggable" credentials) or AWS. That *subject token* is
exchanged at Google's Security Token Service (``token_url``) for a Google access token
(RFC 8693), which is then, optionally, exchanged again for a service account's token
(``service_account_impersonation_url``, IAM Credentials ``generateAccessToken``).

An ``external_account_authorized_user`` file is what ``gcloud auth application-default
login --login-config`` writes for a workforce identity federation user
(https://cloud.google.com/iam/docs/workforce-obtaining-short-lived-credentials): a refresh
token refreshed at ``token_url`` with the client id and secret as HTTP Basic credentials.

Reading the environment and running programs are edge concerns: a source is given the
environment (a mapping, or a function returning one, called through a ``Call`` effect) and
runs its program through a ``Run`` effect (in a worker thread, off the event loop).
Every malformed file raises :class:`~aiogoogle.excs.AuthError` naming the field.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._call import CallOptions
from .._effects import Call, FileOp, Flow, Now, Run
from .._http import HttpRequest
from .._parse import json_count, loads
from ..excs import AuthError
from ._aws import AWS_SUBJECT_TOKEN_TYPE, AwsSource, aws_subject_token_flow, parse_aws_source
from ._oidc import require_https
from ._sts import (
    basic_auth,
    generate_access_token_flow,
    generate_id_token_flow,
    service_account_from_url,
    sts_exchange_flow,
)
from ._tokens import MAX_EXPIRES_IN, exchange_flow, form_request
from .endpoints import Endpoints
from .sources import AccessToken, TokenRequest, TokenSource

__all__ = [
    "EXTERNAL_ACCOUNT",
    "EXTERNAL_AUTHORIZED_USER",
    "ExternalAccountSource",
    "ExternalAuthorizedUserSource",
    "ExecutableRequest",
    "ExecutableResult",
    "ExecutableSource",
    "ExternalAccount",
    "ExternalAuthorizedUser",
    "FileSource",
    "UrlSource",
    "parse_executable_response",
    "subject_token_flow",
]

EXTERNAL_ACCOUNT = "external_account"
EXTERNAL_AUTHORIZED_USER = "external_account_authorized_user"
CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
JWT_TYPE = "urn:ietf:params:oauth:token-type:jwt"
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"
SAML2_TYPE = "urn:ietf:params:oauth:token-type:saml2"
#: The environment variable that must be "1" before a file may run a program
#: (https://google.aip.dev/auth/4117, executable-sourced credentials).
ALLOW_EXECUTABLES = "GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES"
#: Executable timeouts: 30 s unless the file says otherwise, within 5 s to 2 min (the range
#: Google's client libraries accept).
DEFAULT_EXECUTABLE_TIMEOUT_MS = 30_000
MIN_EXECUTABLE_TIMEOUT_MS = 5_000
MAX_EXECUTABLE_TIMEOUT_MS = 120_000
#: The only executable response version there is.
EXECUTABLE_RESPONSE_VERSION = 1
#: Service account token lifetimes a file may ask for (https://google.aip.dev/auth/4117:
#: 600 s to 43200 s; more than an hour needs an organisation policy), and the default.
MIN_LIFETIME, MAX_LIFETIME, DEFAULT_LIFETIME = 600, 43200, 3600
#: Largest subject token or program output read, in bytes (tokens are a few KiB).
MAX_SUBJECT_TOKEN = 1 << 20
#: https://cloud.google.com/iam/docs/workforce-identity-federation: workforce pool
#: provider names (user project only allowed there).
_WORKFORCE = re.compile(r"^//iam\.googleapis\.com/locations/[^/]+/workforcePools/[^/]+/providers/[^/]+$")


# ---------------------------------------------------------------------------- sources


@dataclass(frozen=True)
class FileSource:
    """A subject token read from a local file, as text or from a JSON field."""

    path: str
    format: str = "text"
    field_name: str | None = None


@dataclass(frozen=True)
class UrlSource:
    """A subject token fetched with ``GET url`` (and the file's headers, kept out of the
    ``repr`` since they may hold a secret), as text or from a JSON field."""

    url: str
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    format: str = "text"
    field_name: str | None = None


@dataclass(frozen=True)
class ExecutableSource:
    """A subject token printed by a program (https://google.aip.dev/auth/4117)."""

    argv: tuple[str, ...]
    timeout_ms: int = DEFAULT_EXECUTABLE_TIMEOUT_MS
    output_file: str | None = None

    def __repr__(self) -> str:
        # The arguments may carry secrets: the program only.
        return f"ExecutableSource(program={self.argv[0]!r}, timeout_ms={self.timeout_ms}, output_file={self.output_file!r})"


@dataclass(frozen=True)
class ExecutableRequest:
    """What a ``Run`` effect asks the edge to start: ``argv`` with the process environment
    plus ``env``, killed after ``timeout`` seconds, its standard output captured up to
    ``max_output`` bytes."""

    argv: tuple[str, ...]
    env: tuple[tuple[str, str], ...]
    timeout: float
    max_output: int = MAX_SUBJECT_TOKEN


@dataclass(frozen=True)
class ExecutableResult:
    """How the program ended: its exit status (``None`` when it was killed at the
    timeout) and its standard output."""

    returncode: int | None
    stdout: bytes = field(default=b"", repr=False)
    timed_out: bool = False


def run_executable(request: ExecutableRequest) -> ExecutableResult:
    """The default program runner (blocking; the driver runs it in a worker thread): the
    adapter layer's :func:`aiogoogle.sessions._process.run_executable`."""
    from aiogoogle.sessions._process import run_executable as run

    result: ExecutableResult = run(request)
    return result


def process_environ() -> Mapping[str, str]:
    """The default environment: the adapter layer's snapshot of the process environment."""
    from aiogoogle.sessions.base import process_environ as snapshot

    return snapshot()


Environ = Mapping[str, str] | Callable[[], Mapping[str, str]]


def _string(info: Mapping[str, Any], name: str, where: str, *, required: bool = True, prefix: str = "") -> str | None:
    value = info.get(name)
    if value is None or value == "":
        if required:
            raise AuthError(f"{where} lacks {prefix}{name}")
        return None
    if not isinstance(value, str):
        raise AuthError(f"{where}: {prefix}{name} must be a string, not {type(value).__name__}")
    return value


def _format(source: Mapping[str, Any], where: str) -> tuple[str, str | None]:
    fmt = source.get("format")
    if fmt is None:
        return "text", None
    if not isinstance(fmt, dict):
        raise AuthError(f"{where}: credential_source.format must be a JSON object")
    kind = fmt.get("type", "text")
    if kind not in ("text", "json"):
        raise AuthError(f"{where}: credential_source.format.type must be 'text' or 'json', not {str(kind)[:40]!r}")
    if kind == "text":
        return "text", None
    name = _string(fmt, "subject_token_field_name", where, prefix="credential_source.format.")
    return "json", name


def _absolute(path: str) -> bool:
    return path.startswith("/") or bool(re.match(r"^[A-Za-z]:[\\/]", path)) or path.startswith("\\\\")


def _executable(source: Mapping[str, Any], where: str) -> ExecutableSource:
    info = source.get("executable")
    if not isinstance(info, dict):
        raise AuthError(f"{where}: credential_source.executable must be a JSON object")
    prefix = "credential_source.executable."
    command = _string(info, "command", where, prefix=prefix)
    assert command is not None
    try:
        argv = tuple(shlex.split(command))
    except ValueError:
        raise AuthError(f"{where}: {prefix}command is not a valid command line (unbalanced quotes)") from None
    if not argv or not _absolute(argv[0]):
        raise AuthError(f"{where}: {prefix}command must start with the program's absolute path")
    raw = info.get("timeout_millis", DEFAULT_EXECUTABLE_TIMEOUT_MS)
    timeout = json_count(raw, MAX_EXECUTABLE_TIMEOUT_MS) if not isinstance(raw, str) else None
    if timeout is None or timeout < MIN_EXECUTABLE_TIMEOUT_MS:
        raise AuthError(f"{where}: {prefix}timeout_millis must be a whole number from {MIN_EXECUTABLE_TIMEOUT_MS} to {MAX_EXECUTABLE_TIMEOUT_MS}")
    output = _string(info, "output_file", where, required=False, prefix=prefix)
    if output is not None and not _absolute(output):
        raise AuthError(f"{where}: {prefix}output_file must be an absolute path")
    return ExecutableSource(argv, timeout, output)


def _url(source: Mapping[str, Any], where: str) -> UrlSource:
    url = _string(source, "url", where, prefix="credential_source.")
    assert url is not None
    if not url.lower().startswith(("http://", "https://")):
        raise AuthError(f"{where}: credential_source.url must be an http or https URL")
    headers = source.get("headers") or {}
    if not isinstance(headers, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items()):
        raise AuthError(f"{where}: credential_source.headers must be a JSON object of strings")
    bad = [k for k, v in headers.items() if not k or any(c in k + v for c in "\r\n\0")]
    if bad:
        raise AuthError(f"{where}: credential_source.headers has a header that cannot be sent ({bad[0][:40]!r})")
    fmt, name = _format(source, where)
    return UrlSource(url, tuple(headers.items()), fmt, name)


def parse_credential_source(source: Any, subject_token_type: str, where: str) -> FileSource | UrlSource | ExecutableSource | AwsSource:
    """The subject token source a ``credential_source`` object describes: AWS when it has
    an ``environment_id``; else a program (``executable``); else a file (``file``, which
    wins over ``url``, https://google.aip.dev/auth/4117); else a URL."""
    if not isinstance(source, dict):
        raise AuthError(f"{where}: credential_source must be a JSON object" if source is not None else f"{where} lacks credential_source")
    if source.get("environment_id") is not None:
        if subject_token_type != AWS_SUBJECT_TOKEN_TYPE:
            raise AuthError(f"{where}: subject_token_type must be {AWS_SUBJECT_TOKEN_TYPE} for an AWS credential_source")
        return parse_aws_source(source, where)
    if source.get("executable") is not None:
        if source.get("file") is not None or source.get("url") is not None:
            raise AuthError(f"{where}: credential_source has both executable and file or url; it must have one")
        return _executable(source, where)
    if source.get("file") is not None:
        path = _string(source, "file", where, prefix="credential_source.")
        assert path is not None
        fmt, name = _format(source, where)
        return FileSource(path, fmt, name)
    if source.get("url") is not None:
        return _url(source, where)
    raise AuthError(f"{where}: credential_source needs one of file, url, executable or environment_id")


# ---------------------------------------------------------------------------- subject tokens


def _token_text(data: bytes, fmt: str, name: str | None, what: str) -> str:
    if len(data) > MAX_SUBJECT_TOKEN:
        raise AuthError(f"{what}: more than {MAX_SUBJECT_TOKEN} bytes, not a subject token")
    if fmt == "json":
        info = loads(data, lambda why: AuthError(f"{what}: not JSON ({why})"))
        value = info.get(name) if isinstance(info, dict) else None
        if not isinstance(value, str) or not value.strip():
            raise AuthError(f"{what}: the JSON has no string field {name!r} (credential_source.format.subject_token_field_name)")
        return value.strip()
    try:
        text = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise AuthError(f"{what}: not UTF-8 text") from None
    if not text:
        raise AuthError(f"{what}: empty")
    return text


def jwt_expiry(token: str) -> float | None:
    """The ``exp`` claim of a JWT, read without verifying it (``None`` when the token is
    not a JWT or has no numeric ``exp``): only to notice a token that is already dead."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)), ValueError)
    except (ValueError, binascii.Error):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    if isinstance(exp, bool) or not isinstance(exp, (int, float)) or not math.isfinite(exp) or abs(exp) > 1e12:
        return None
    return float(exp)


def parse_executable_response(info: Any, now: float, *, need_expiry: bool, expected_type: str, what: str) -> tuple[str, float | None]:
    """The subject token of a program's JSON answer and its expiry
    (https://google.aip.dev/auth/4117): ``version`` 1, ``success``, a ``token_type`` of
    jwt, id_token or saml2 with the token in ``id_token`` or ``saml_response``, and an
    ``expiration_time`` (required when the answer is cached in an output file) that is
    still ahead. A JWT's own ``exp`` is checked as well: a program that claims a later
    expiry than its token has is not believed. An unsuccessful answer raises with its
    ``code`` and ``message``."""
    if not isinstance(info, dict):
        raise AuthError(f"{what}: the response is not a JSON object")
    version = info.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise AuthError(f"{what}: the response lacks a numeric version")
    if version != EXECUTABLE_RESPONSE_VERSION:
        raise AuthError(f"{what}: response version {version} is not supported (only {EXECUTABLE_RESPONSE_VERSION})")
    success = info.get("success")
    if not isinstance(success, bool):
        raise AuthError(f"{what}: the response lacks a boolean success")
    if not success:
        code, message = info.get("code"), info.get("message")
        if not isinstance(code, str) or not isinstance(message, str):
            raise AuthError(f"{what}: an unsuccessful response needs string code and message fields")
        raise AuthError(f"{what} failed: {code[:80]}: {message[:300]}")
    kind = info.get("token_type")
    if kind not in (JWT_TYPE, ID_TOKEN_TYPE, SAML2_TYPE):
        raise AuthError(f"{what}: token_type {str(kind)[:80]!r} is not one of {JWT_TYPE}, {ID_TOKEN_TYPE}, {SAML2_TYPE}")
    if (kind == SAML2_TYPE) != (expected_type == SAML2_TYPE):
        raise AuthError(f"{what}: token_type {kind} does not match the file's subject_token_type {expected_type}")
    name = "saml_response" if kind == SAML2_TYPE else "id_token"
    token = info.get(name)
    if not isinstance(token, str) or not token:
        raise AuthError(f"{what}: the response lacks {name}")
    raw = info.get("expiration_time")
    expiry: float | None = None
    if raw is not None:
        seconds = json_count(raw, 10**11)
        if seconds is None:
            raise AuthError(f"{what}: expiration_time is not a UNIX time in seconds")
        expiry = float(seconds)
    elif need_expiry:
        raise AuthError(f"{what}: the response lacks expiration_time, which is required with an output_file")
    if kind != SAML2_TYPE:
        claimed = jwt_expiry(token)
        if claimed is not None and (expiry is None or claimed < expiry):
            expiry = claimed
    if expiry is not None and expiry <= now:
        raise _Expired(f"{what}: the token has expired")
    return token, expiry


class _Expired(AuthError):
    """An executable response that is well formed but no longer valid."""


def _stale_cache(info: Any) -> bool:
    """Whether a cached response says "ask the program again" rather than being malformed
    (which is an error, https://google.aip.dev/auth/4117): a well-formed failure, or a
    success without ``expiration_time`` (a cache without an expiry cannot be trusted)."""
    if not isinstance(info, dict):
        return False
    if info.get("success") is False:
        return isinstance(info.get("code"), str) and isinstance(info.get("message"), str)
    return info.get("success") is True and "expiration_time" not in info


def _executable_flow(
    source: ExecutableSource, account: ExternalAccount, env: Mapping[str, str], runner: Callable[[ExecutableRequest], ExecutableResult]
) -> Flow[str]:
    program = source.argv[0]
    if env.get(ALLOW_EXECUTABLES) != "1":
        raise AuthError(
            f"external_account: credential_source.executable would run {program}, but executables are not allowed: "
            f"set the environment variable {ALLOW_EXECUTABLES}=1 to allow it"
        )
    what = f"executable {program}"
    now: float = yield Now()
    if source.output_file is not None:
        cached: bytes | None
        try:
            cached = yield FileOp("read", source.output_file)
        except OSError:
            cached = None  # nothing cached yet: run the program
        if cached:
            info = loads(cached, lambda why: AuthError(f"{what}: output_file {source.output_file} is not JSON ({why})"))
            if not _stale_cache(info):
                try:
                    token, _expiry = parse_executable_response(
                        info, now, need_expiry=True, expected_type=account.subject_token_type, what=f"{what} (output_file {source.output_file})"
                    )
                except _Expired:
                    pass  # run the program for a new one
                else:
                    return token
    extra = [
        ("GOOGLE_EXTERNAL_ACCOUNT_AUDIENCE", account.audience),
        ("GOOGLE_EXTERNAL_ACCOUNT_TOKEN_TYPE", account.subject_token_type),
        ("GOOGLE_EXTERNAL_ACCOUNT_INTERACTIVE", "0"),
    ]
    if account.impersonation_target is not None:
        extra.append(("GOOGLE_EXTERNAL_ACCOUNT_IMPERSONATED_EMAIL", account.impersonation_target))
    if source.output_file is not None:
        extra.append(("GOOGLE_EXTERNAL_ACCOUNT_OUTPUT_FILE", source.output_file))
    request = ExecutableRequest(source.argv, tuple(extra), source.timeout_ms / 1000)
    try:
        result: ExecutableResult = yield Run(runner, (request,))
    except OSError as exc:
        raise AuthError(f"{what} could not be started ({exc.strerror or type(exc).__name__})") from None
    if result.timed_out:
        raise AuthError(f"{what} did not finish within {source.timeout_ms} ms (credential_source.executable.timeout_millis)")
    if result.returncode != 0:
        raise AuthError(f"{what} exited with status {result.returncode}")
    output = result.stdout
    if not output.strip() and source.output_file is not None:
        try:
            output = yield FileOp("read", source.output_file)
        except OSError:
            output = b""
    if not output.strip():
        raise AuthError(f"{what} printed nothing")
    if len(output) > MAX_SUBJECT_TOKEN:
        raise AuthError(f"{what} printed more than {MAX_SUBJECT_TOKEN} bytes")
    info = loads(output, lambda why: AuthError(f"{what}: its output is not JSON ({why})"))
    now = yield Now()
    token, _expiry = parse_executable_response(
        info, now, need_expiry=source.output_file is not None, expected_type=account.subject_token_type, what=what
    )
    return token


def subject_token_flow(
    account: ExternalAccount, env: Mapping[str, str], options: CallOptions, runner: Callable[[ExecutableRequest], ExecutableResult] = run_executable
) -> Flow[str]:
    """The workload's subject token, from wherever ``account.source`` says."""
    source = account.source
    if isinstance(source, FileSource):
        try:
            data: bytes = yield FileOp("read", source.path)
        except OSError as exc:
            raise AuthError(f"external_account: credential_source.file {source.path} cannot be read ({exc.strerror or type(exc).__name__})") from None
        return _token_text(data, source.format, source.field_name, f"subject token file {source.path}")
    if isinstance(source, UrlSource):
        http = HttpRequest(method="GET", url=source.url, headers=(("accept", "*/*"), *source.headers), body=b"", timeout=options.timeout)
        # Redirects to another origin are refused (exchange_flow): the headers may carry a
        # secret, and an answer from elsewhere is not the workload's identity.
        res, _body = yield from exchange_flow(http, options, "subject token request to credential_source.url", idempotent=True)
        return _token_text(res.body, source.format, source.field_name, "subject token from credential_source.url")
    if isinstance(source, ExecutableSource):
        return (yield from _executable_flow(source, account, env, runner))
    return (yield from aws_subject_token_flow(source, account.audience, env, options))


# ---------------------------------------------------------------------------- external_account


def _scopes(value: Any, where: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = value.split()
    if not isinstance(value, list) or not all(isinstance(s, str) and s for s in value):
        raise AuthError(f"{where}: scopes must be a list of strings")
    return tuple(value) or None


@dataclass(frozen=True)
class ExternalAccount:
    """A checked ``external_account`` file (see the module docstring). The ``repr``
    shows neither the client secret nor the source's headers."""

    audience: str
    subject_token_type: str
    token_url: str
    source: FileSource | UrlSource | ExecutableSource | AwsSource
    impersonation_url: str | None = None
    impersonation_target: str | None = None
    lifetime: int = DEFAULT_LIFETIME
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    workforce_pool_user_project: str | None = None
    quota_project_id: str | None = None
    scopes: tuple[str, ...] | None = None

    @classmethod
    def from_info(cls, info: Mapping[str, Any], where: str = "external_account file") -> ExternalAccount:
        """Check the file's JSON; :class:`AuthError` names the field at fault."""
        if info.get("type") != EXTERNAL_ACCOUNT:
            raise AuthError(f"{where}: type must be {EXTERNAL_ACCOUNT!r}")
        audience = _string(info, "audience", where)
        kind = _string(info, "subject_token_type", where)
        token_url = _string(info, "token_url", where)
        assert audience is not None and kind is not None and token_url is not None
        require_https(token_url, f"{where}: token_url")
        source = parse_credential_source(info.get("credential_source"), kind, where)
        url = _string(info, "service_account_impersonation_url", where, required=False)
        target = service_account_from_url(url, "service_account_impersonation_url", where) if url else None
        lifetime = DEFAULT_LIFETIME
        options = info.get("service_account_impersonation")
        if options is not None:
            if not isinstance(options, dict):
                raise AuthError(f"{where}: service_account_impersonation must be a JSON object")
            raw = options.get("token_lifetime_seconds", DEFAULT_LIFETIME)
            seconds = json_count(raw, MAX_LIFETIME) if not isinstance(raw, str) else None
            if seconds is None or seconds < MIN_LIFETIME:
                raise AuthError(f"{where}: service_account_impersonation.token_lifetime_seconds must be a whole number from {MIN_LIFETIME} to {MAX_LIFETIME}")
            lifetime = seconds
        user_project = _string(info, "workforce_pool_user_project", where, required=False)
        if user_project is not None and not _WORKFORCE.match(audience):
            raise AuthError(f"{where}: workforce_pool_user_project is only for workforce pools (an audience //iam.googleapis.com/locations/.../workforcePools/...)")
        client_id = _string(info, "client_id", where, required=False)
        client_secret = _string(info, "client_secret", where, required=False)
        if client_secret is not None and client_id is None:
            raise AuthError(f"{where}: client_secret is given without client_id")
        return cls(
            audience=audience,
            subject_token_type=kind,
            token_url=token_url,
            source=source,
            impersonation_url=url,
            impersonation_target=target,
            lifetime=lifetime,
            client_id=client_id,
            client_secret=client_secret,
            workforce_pool_user_project=user_project,
            quota_project_id=_string(info, "quota_project_id", where, required=False),
            scopes=_scopes(info.get("scopes"), where),
        )

    def federated_token_flow(
        self, scopes: Sequence[str], env: Mapping[str, str], options: CallOptions, runner: Callable[[ExecutableRequest], ExecutableResult] = run_executable
    ) -> Flow[AccessToken]:
        """The subject token exchanged at ``token_url`` (RFC 8693) for ``scopes``."""
        subject = yield from subject_token_flow(self, env, options, runner)
        extra: dict[str, Any] = {}
        if self.workforce_pool_user_project and not self.client_id:
            # Google bills a workforce user's calls to this project; with client
            # authentication the client's project is used instead.
            extra["userProject"] = self.workforce_pool_user_project
        client = (self.client_id, self.client_secret) if self.client_id else None
        return (
            yield from sts_exchange_flow(
                self.token_url,
                options,
                subject_token=subject,
                subject_token_type=self.subject_token_type,
                audience=self.audience,
                scopes=scopes,
                client=client,
                extra_options=extra or None,
            )
        )

    def access_token_flow(
        self,
        scopes: Sequence[str] | None,
        env: Mapping[str, str],
        options: CallOptions,
        runner: Callable[[ExecutableRequest], ExecutableResult] = run_executable,
    ) -> Flow[AccessToken]:
        """An access token for ``scopes`` (default: the file's, else cloud-platform): the
        federated token itself, or, with impersonation, the service account's token asked
        for with a federated token of the cloud-platform scope (which IAM requires)."""
        wanted = list(scopes or self.scopes or (CLOUD_PLATFORM_SCOPE,))
        if self.impersonation_url is None:
            return (yield from self.federated_token_flow(wanted, env, options, runner))
        assert self.impersonation_target is not None
        federated = yield from self.federated_token_flow([CLOUD_PLATFORM_SCOPE], env, options, runner)
        return (
            yield from generate_access_token_flow(
                self.impersonation_url, federated.token, options, target=self.impersonation_target, scopes=wanted, lifetime=self.lifetime
            )
        )

    def id_token_flow(
        self, audience: str, env: Mapping[str, str], options: CallOptions, runner: Callable[[ExecutableRequest], ExecutableResult] = run_executable
    ) -> Flow[str]:
        """An ID token for ``audience`` from the impersonated service account (IAM
        ``generateIdToken``); federated identities themselves cannot have one."""
        if self.impersonation_url is None or self.impersonation_target is None:
            raise AuthError(
                "external_account credentials without service_account_impersonation_url cannot issue ID tokens: "
                "an ID token names a Google service account, and a federated identity is not one"
            )
        federated = yield from self.federated_token_flow([CLOUD_PLATFORM_SCOPE], env, options, runner)
        url = self.impersonation_url[: -len(":generateAccessToken")] + ":generateIdToken"
        return (yield from generate_id_token_flow(url, federated.token, options, target=self.impersonation_target, audience=audience))


# ---------------------------------------------------------------------------- external_account_authorized_user


class ExternalAuthorizedUser:
    """A checked ``external_account_authorized_user`` file. ``refresh_token`` is updated
    when a refresh returns a new one; the ``repr`` shows no secret."""

    def __init__(self, *, audience: str | None, client_id: str, client_secret: str, refresh_token: str, token_url: str, quota_project_id: str | None = None,
                 revoke_url: str | None = None, token_info_url: str | None = None) -> None:
        self.audience = audience
        self.client_id = client_id
        self.client_secret = client_secret
        self.refresh_token = refresh_token
        self.token_url = token_url
        self.quota_project_id = quota_project_id
        self.revoke_url = revoke_url
        self.token_info_url = token_info_url

    def __repr__(self) -> str:
        return f"ExternalAuthorizedUser(audience={self.audience!r}, client_id={self.client_id!r})"

    @classmethod
    def from_info(cls, info: Mapping[str, Any], where: str = "external_account_authorized_user file") -> ExternalAuthorizedUser:
        """Check the file's JSON; :class:`AuthError` names the field at fault."""
        if info.get("type") != EXTERNAL_AUTHORIZED_USER:
            raise AuthError(f"{where}: type must be {EXTERNAL_AUTHORIZED_USER!r}")
        values = {name: _string(info, name, where) for name in ("client_id", "client_secret", "refresh_token", "token_url")}
        token_url = values["token_url"]
        assert token_url is not None
        require_https(token_url, f"{where}: token_url")
        optional = {name: _string(info, name, where, required=False) for name in ("audience", "quota_project_id", "revoke_url", "token_info_url")}
        for name in ("revoke_url", "token_info_url"):
            if optional[name] is not None:
                require_https(optional[name], f"{where}: {name}")
        return cls(**values, **optional)  # type: ignore[arg-type]

    def access_token_flow(self, options: CallOptions) -> Flow[AccessToken]:
        """Refresh at ``token_url`` (RFC 6749 §6) with the client id and secret as HTTP
        Basic credentials; a new refresh token in the reply replaces the old one."""
        fields = [("grant_type", "refresh_token"), ("refresh_token", self.refresh_token)]
        what = "refresh of external_account_authorized_user credentials"
        request = form_request(self.token_url, fields, options, [basic_auth(self.client_id, self.client_secret)])
        _res, body = yield from exchange_flow(request, options, what, idempotent=True)
        now: float = yield Now()
        if not isinstance(body, dict):
            raise AuthError(f"{what}: the reply is not a JSON object")
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise AuthError(f"{what}: the reply has no access_token")
        raw = body.get("expires_in")
        seconds = json_count(raw, MAX_EXPIRES_IN) if raw is not None else None
        if raw is not None and seconds is None:
            raise AuthError(f"{what}: expires_in is not a number of seconds from 0 to {MAX_EXPIRES_IN}")
        fresh = body.get("refresh_token")
        if isinstance(fresh, str) and fresh:
            self.refresh_token = fresh
        return AccessToken(token, now + seconds if seconds is not None else None)


def environ_flow(environ: Environ | None) -> Flow[Mapping[str, str]]:
    """The environment a source reads: the mapping given, or what the function given (by
    default the adapter layer's snapshot) returns, called through a ``Call`` effect."""
    if environ is None:
        environ = process_environ
    if callable(environ):
        value: Mapping[str, str] = yield Call(environ)
        return value
    return environ


# ---------------------------------------------------------------------------- token sources


class ExternalAccountSource(TokenSource):
    """Tokens from an ``external_account`` file (workload or workforce identity
    federation): an access token for the scopes asked (default: the file's ``scopes``,
    else cloud-platform). With service account impersonation it can also mint ID tokens
    (:func:`aiogoogle.auth._idtoken.id_token_flow`).

    ``environ`` is the environment the subject token source reads (AWS variables,
    ``GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES``): a mapping or a function returning one;
    by default the adapter layer's snapshot of the process environment. ``runner`` runs a
    credential program (blocking; the driver calls it in a worker thread)."""

    kind = EXTERNAL_ACCOUNT

    def __init__(self, account: ExternalAccount, *, environ: Environ | None = None,
                 runner: Callable[[ExecutableRequest], ExecutableResult] = run_executable) -> None:
        self.account = account
        self.environ = environ
        self.runner = runner

    @classmethod
    def from_info(cls, info: Mapping[str, Any], where: str, endpoints: Endpoints | None = None) -> ExternalAccountSource:
        """The source for an ``external_account`` file's JSON object."""
        return cls(ExternalAccount.from_info(info, where))

    def token_flow(self, wanted: TokenRequest, endpoints: Endpoints, options: CallOptions) -> Flow[AccessToken]:
        # ID tokens (with impersonation) come from aiogoogle.auth._idtoken.id_token_flow.
        self.refuse_audience(wanted)
        env = yield from environ_flow(self.environ)
        return (yield from self.account.access_token_flow(wanted.scopes, env, options, self.runner))

    def __repr__(self) -> str:
        return f"<ExternalAccountSource audience={self.account.audience!r} source={type(self.account.source).__name__}>"


class ExternalAuthorizedUserSource(TokenSource):
    """Tokens from an ``external_account_authorized_user`` file (a workforce identity
    federation user signed in with gcloud): refreshed at the file's ``token_url``."""

    kind = EXTERNAL_AUTHORIZED_USER

    def __init__(self, user: ExternalAuthorizedUser) -> None:
        self.user = user

    @classmethod
    def from_info(cls, info: Mapping[str, Any], where: str, endpoints: Endpoints | None = None) -> ExternalAuthorizedUserSource:
        """The source for an ``external_account_authorized_user`` file's JSON object."""
        return cls(ExternalAuthorizedUser.from_info(info, where))

    def token_flow(self, wanted: TokenRequest, endpoints: Endpoints, options: CallOptions) -> Flow[AccessToken]:
        # The refresh grants the scopes of the user's sign-in; other scopes cannot be asked.
        self.refuse_audience(wanted)
        return (yield from self.user.access_token_flow(options))

    def __repr__(self) -> str:
        return f"<ExternalAuthorizedUserSource {self.user!r}>"
