"""AWS as the identity provider of workload identity federation, as pure flows.

On AWS the subject token is not a token at all: it is a ``GetCallerIdentity`` request to
AWS STS (https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html),
signed with the workload's AWS credentials using Signature Version 4
(https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html), which
Google's STS then sends to AWS to learn who the caller is
(https://cloud.google.com/iam/docs/workload-identity-federation-with-other-clouds#aws;
the field names are those of https://google.aip.dev/auth/4117).

The region and credentials come from the environment (``AWS_REGION`` /
``AWS_DEFAULT_REGION``, ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` /
``AWS_SESSION_TOKEN``), else from the EC2 instance metadata service, with an IMDSv2
session token when the configuration asks for one
(https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-service.html).
The environment is a mapping handed in; the clock is a ``Now`` effect.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from .._call import CallOptions, send_flow
from .._effects import Flow, Now
from .._http import HttpRequest
from .._parse import loads
from ..excs import AuthError, RedirectError

__all__ = [
    "AWS_SUBJECT_TOKEN_TYPE",
    "AwsCredentials",
    "AwsSource",
    "aws_subject_token_flow",
    "canonical_query",
    "parse_aws_source",
    "sigv4_sign",
    "signed_caller_identity",
]

#: The subject_token_type of a serialized, signed GetCallerIdentity request.
AWS_SUBJECT_TOKEN_TYPE = "urn:ietf:params:aws:token-type:aws4_request"
ALGORITHM = "AWS4-HMAC-SHA256"
#: IMDSv2 session tokens live this long; one is fetched per subject token.
IMDSV2_TTL_SECONDS = "300"
#: The only hosts the EC2 metadata URLs may name (https://google.aip.dev/auth/4117: "The
#: host should either be 169.254.169.254 or fd00:ec2::254"), plus loopback test servers.
METADATA_HOSTS = frozenset({"169.254.169.254", "fd00:ec2::254", "127.0.0.1", "::1", "localhost"})
#: RFC 3986 unreserved characters: everything else is percent-encoded in SigV4.
_UNRESERVED = "-_.~"


@dataclass(frozen=True)
class AwsCredentials:
    """AWS security credentials; the ``repr`` shows the key id only."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class AwsSource:
    """``credential_source`` of an AWS ``external_account`` file (``environment_id`` aws1)."""

    regional_cred_verification_url: str
    region_url: str | None = None
    url: str | None = None
    imdsv2_session_token_url: str | None = None


def _metadata_url(value: Any, name: str, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise AuthError(f"{where}: credential_source.{name} must be a non-empty string")
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
    except ValueError:
        raise AuthError(f"{where}: credential_source.{name} is not a valid URL") from None
    if parts.scheme not in ("http", "https") or host not in METADATA_HOSTS:
        raise AuthError(
            f"{where}: credential_source.{name} must be an http URL of the EC2 metadata service "
            f"(169.254.169.254 or [fd00:ec2::254]), not host {host!r}"
        )
    return value


def parse_aws_source(source: Mapping[str, Any], where: str) -> AwsSource:
    """Check an AWS ``credential_source``: ``environment_id`` ``aws1`` (a later version
    means a newer format this library does not know), the metadata URLs on the metadata
    service's own addresses, and a ``regional_cred_verification_url``."""
    env_id = source.get("environment_id")
    if not isinstance(env_id, str) or not env_id.startswith("aws"):
        raise AuthError(f"{where}: credential_source.environment_id must be 'aws1'")
    if env_id != "aws1":
        raise AuthError(f"{where}: credential_source.environment_id {env_id!r} is not supported (only aws1): this file needs a newer aiogoogle")
    verify = source.get("regional_cred_verification_url")
    if not isinstance(verify, str) or not verify:
        raise AuthError(f"{where} lacks credential_source.regional_cred_verification_url")
    try:
        parts = urlsplit(verify.replace("{region}", "region"))
    except ValueError:
        raise AuthError(f"{where}: credential_source.regional_cred_verification_url is not a valid URL") from None
    if parts.scheme != "https" or not parts.hostname:
        raise AuthError(f"{where}: credential_source.regional_cred_verification_url must be an https URL")
    return AwsSource(
        regional_cred_verification_url=verify,
        region_url=_metadata_url(source.get("region_url"), "region_url", where),
        url=_metadata_url(source.get("url"), "url", where),
        imdsv2_session_token_url=_metadata_url(source.get("imdsv2_session_token_url"), "imdsv2_session_token_url", where),
    )


# ---------------------------------------------------------------------------- SigV4


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def canonical_query(query: str) -> str:
    """The canonical query string: every name and value decoded, then percent-encoded with
    only unreserved characters left as they are, sorted by name then value."""
    pairs: list[tuple[str, str]] = []
    for part in query.split("&") if query else ():
        if not part:
            continue
        name, _, value = part.partition("=")
        pairs.append((quote(unquote(name), safe=_UNRESERVED), quote(unquote(value), safe=_UNRESERVED)))
    return "&".join(f"{n}={v}" for n, v in sorted(pairs))


def _canonical_path(path: str) -> str:
    # Each segment encoded once (services other than S3 normalise; GetCallerIdentity has "/").
    return "/".join(quote(unquote(segment), safe=_UNRESERVED) for segment in (path or "/").split("/")) or "/"


def sigv4_sign(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    region: str,
    service: str,
    creds: AwsCredentials,
    amz_date: str,
) -> dict[str, str]:
    """``headers`` plus ``host``, ``x-amz-date``, ``x-amz-security-token`` (with a session
    token) and ``authorization``: a Signature Version 4 signature over every header
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html).
    ``amz_date`` is the request time as ``YYYYMMDDTHHMMSSZ``."""
    parts = urlsplit(url)
    signed: dict[str, str] = {k.lower(): " ".join(v.split()) for k, v in headers.items()}
    signed["host"] = parts.netloc
    signed["x-amz-date"] = amz_date
    if creds.session_token:
        signed["x-amz-security-token"] = creds.session_token
    names = sorted(signed)
    canonical = "\n".join(
        [
            method.upper(),
            _canonical_path(parts.path),
            canonical_query(parts.query),
            "".join(f"{n}:{signed[n]}\n" for n in names),
            ";".join(names),
            hashlib.sha256(body).hexdigest(),
        ]
    )
    date = amz_date[:8]
    scope = f"{date}/{region}/{service}/aws4_request"
    to_sign = "\n".join([ALGORITHM, amz_date, scope, hashlib.sha256(canonical.encode("utf-8")).hexdigest()])
    key = _hmac(_hmac(_hmac(_hmac(("AWS4" + creds.secret_access_key).encode("utf-8"), date), region), service), "aws4_request")
    signature = hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    signed["authorization"] = f"{ALGORITHM} Credential={creds.access_key_id}/{scope}, SignedHeaders={';'.join(names)}, Signature={signature}"
    return signed


def amz_date(timestamp: float) -> str:
    """A UNIX time as SigV4's ``x-amz-date`` (``YYYYMMDDTHHMMSSZ``, UTC)."""
    return datetime.fromtimestamp(int(timestamp), tz=UTC).strftime("%Y%m%dT%H%M%SZ")


def signed_caller_identity(verification_url: str, region: str, creds: AwsCredentials, target_resource: str, now: float) -> str:
    """The subject token: a signed ``POST`` of ``GetCallerIdentity`` to the regional AWS STS
    URL, serialized as Google's STS expects it (JSON ``{"url", "method", "headers":
    [{"key", "value"}...]}``, percent-encoded). ``x-goog-cloud-target-resource`` (the pool
    provider) is one of the signed headers, so the signature binds the request to it."""
    url = verification_url.replace("{region}", region)
    host = urlsplit(url).hostname or ""
    # sts.us-east-1.amazonaws.com -> sts; sts-fips.us-east-1.amazonaws.com -> sts.
    service = host.split(".", 1)[0].removesuffix("-fips")
    headers = sigv4_sign(
        "POST", url, {"x-goog-cloud-target-resource": target_resource}, b"", region=region, service=service, creds=creds, amz_date=amz_date(now)
    )
    request = {"url": url, "method": "POST", "headers": [{"key": k, "value": v} for k, v in sorted(headers.items())], "body": ""}
    return quote(json.dumps(request, separators=(",", ":"), sort_keys=True), safe="")


# ---------------------------------------------------------------------------- metadata


def _get(url: str, options: CallOptions, headers: Sequence[tuple[str, str]], what: str, method: str = "GET") -> Flow[bytes]:
    http = HttpRequest(method=method, url=url, headers=tuple(headers), body=b"", timeout=options.timeout)
    try:
        # Metadata answers never redirect; following one would send the session token on.
        response = yield from send_flow(http, options.retry, authorize=False, idempotent=True, max_redirects=0, cross_origin=False)
    except RedirectError as exc:
        raise AuthError(f"{what}: the metadata service answered HTTP {exc.status_code} (a redirect, not followed)") from None
    if response.status != 200:
        raise AuthError(f"{what}: the metadata service answered HTTP {response.status}")
    return response.body


def _text(data: bytes, what: str) -> str:
    try:
        text = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise AuthError(f"{what}: the answer is not UTF-8 text") from None
    if not text:
        raise AuthError(f"{what}: the answer is empty")
    return text


def _region_flow(source: AwsSource, env: Mapping[str, str], options: CallOptions, session: Sequence[tuple[str, str]]) -> Flow[str]:
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if region:
        return region
    if source.region_url is None:
        raise AuthError("AWS region: neither AWS_REGION nor AWS_DEFAULT_REGION is set, and the file has no credential_source.region_url")
    zone = _text((yield from _get(source.region_url, options, session, "AWS region")), "AWS region")
    # The metadata service names the availability zone (us-east-1d): the region drops its letter.
    if len(zone) < 2 or not zone[-1].isalpha():
        raise AuthError(f"AWS region: {zone[:40]!r} is not an availability zone name")
    return zone[:-1]


def _check_region(region: str) -> str:
    # The region becomes part of the signed host name: letters, digits and '-' only.
    if not region or len(region) > 40 or not all(c.isascii() and (c.isalnum() or c == "-") for c in region):
        raise AuthError(f"AWS region {region[:40]!r} is not a region name")
    return region


def _credentials_flow(source: AwsSource, env: Mapping[str, str], options: CallOptions, session: Sequence[tuple[str, str]]) -> Flow[AwsCredentials]:
    key_id, secret = env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")
    if key_id and secret:
        return AwsCredentials(key_id, secret, env.get("AWS_SESSION_TOKEN") or None)
    if source.url is None:
        raise AuthError("AWS credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set, and the file has no credential_source.url")
    role = _text((yield from _get(source.url, options, session, "AWS role name")), "AWS role name").splitlines()[0].strip()
    if "/" in role or role in (".", ".."):
        raise AuthError("AWS role name: the metadata service answered a name that is not a role name")
    data = yield from _get(source.url.rstrip("/") + "/" + quote(role, safe=""), options, session, "AWS role credentials")
    info = loads(data, lambda why: AuthError(f"AWS role credentials: the answer is not JSON ({why})"))
    if not isinstance(info, dict):
        raise AuthError("AWS role credentials: the answer is not a JSON object")
    missing = [k for k in ("AccessKeyId", "SecretAccessKey") if not isinstance(info.get(k), str) or not info.get(k)]
    if missing:
        raise AuthError(f"AWS role credentials: the answer lacks {', '.join(missing)}")
    token = info.get("Token")
    return AwsCredentials(info["AccessKeyId"], info["SecretAccessKey"], token if isinstance(token, str) and token else None)


def aws_subject_token_flow(source: AwsSource, audience: str, env: Mapping[str, str], options: CallOptions) -> Flow[str]:
    """The serialized signed ``GetCallerIdentity`` request for ``audience`` (see the module
    docstring for where region and credentials come from)."""
    session: list[tuple[str, str]] = []
    needs_metadata = not (env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")) or not (
        env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY")
    )
    if source.imdsv2_session_token_url is not None and needs_metadata:
        token = yield from _get(
            source.imdsv2_session_token_url, options, (("x-aws-ec2-metadata-token-ttl-seconds", IMDSV2_TTL_SECONDS),), "AWS IMDSv2 session token", "PUT"
        )
        session.append(("x-aws-ec2-metadata-token", _text(token, "AWS IMDSv2 session token")))
    region = _check_region((yield from _region_flow(source, env, options, session)))
    creds = yield from _credentials_flow(source, env, options, session)
    now: float = yield Now()
    return signed_caller_identity(source.regional_cred_verification_url, region, creds, audience, now)
