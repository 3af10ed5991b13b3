"""When and how long to wait before trying a request again.

A :class:`RetryPolicy` is plain data plus one pure decision, :meth:`RetryPolicy.should_retry`,
which every flow (single calls, batch parts, resumable uploads, downloads) asks after a
failed attempt; :func:`wait_flow` is the one place that waits between attempts. Retried: 408, 429, 500, 502, 503, 504, a 403 whose reason is
``rateLimitExceeded`` or ``userRateLimitExceeded``, and transport failures (connection
refused or reset, timeouts, truncated responses). Waits grow exponentially with *full
jitter* (a uniform draw between 0 and the capped exponential), are at least the server's
``Retry-After`` (seconds or an HTTP date; none of the other Python clients honours it), and
never run past the overall deadline: if the next wait would end after it, the last error is
raised at once instead of sleeping in vain.

Idempotency rule: a request that may have been executed is not repeated blindly. ``GET``,
``HEAD``, ``OPTIONS``, ``PUT`` and ``DELETE`` are retried on every retryable failure.
``POST`` and ``PATCH`` are retried only when the failure proves the server did not act on
them (a connection that was never established, 408, 429, a rate-limit 403), unless the
request is made idempotent by a precondition (a query parameter ``if...Match``, such as
Cloud Storage's ``ifGenerationMatch``, or an ``If-Match`` header), or the policy says
``retry_non_idempotent=True``.
"""

from __future__ import annotations

import calendar
import pickle
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ._effects import Flow, Now, Sleep
from ._http import HttpResponse
from ._parse import ascii_int
from ._providers import jitter_fraction
from .excs import ConnectError, ResponseTooLarge, TransportError, error_info

__all__ = ["DEFAULT_RETRY", "NO_RETRY", "RetryPolicy", "RetryState", "parse_retry_after", "retry_after_flow", "wait_flow"]

_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
_PRECONDITION = re.compile(r"[?&]if[A-Za-z]*Match=", re.IGNORECASE)
_REJECTED_STATUSES = frozenset({408, 429})


_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
# IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", RFC 850 "Sunday, 06-Nov-94 08:49:37 GMT",
# asctime "Sun Nov  6 08:49:37 1994" (RFC 9110 §5.6.7). re.ASCII: \d and \s match only
# ASCII digits and whitespace (DIGIT is %x30-39, RFC 5234 appendix B.1); without it \d
# would accept any script's digits.
_IMF = re.compile(r"[A-Za-z]{3},\s+(\d{1,2})\s+([A-Za-z]{3})\s+(\d{4})\s+(\d{2}):(\d{2}):(\d{2})\s+GMT\Z", re.ASCII)
_RFC850 = re.compile(r"[A-Za-z]+,\s+(\d{1,2})-([A-Za-z]{3})-(\d{2})\s+(\d{2}):(\d{2}):(\d{2})\s+GMT\Z", re.ASCII)
_ASCTIME = re.compile(r"[A-Za-z]{3}\s+([A-Za-z]{3})\s+(\d{1,2})\s+(\d{2}):(\d{2}):(\d{2})\s+(\d{4})\Z", re.ASCII)
#: Seconds of a Retry-After (delta-seconds = 1*DIGIT, RFC 9110 §10.2.3): ten digits are
#: over 300 years; a longer value is not a delay anyone means, and is ignored.
_MAX_RETRY_AFTER_DIGITS = 10


def parse_http_date(value: str) -> float | None:
    """Seconds since the epoch for an HTTP date (RFC 9110 §5.6.7), or ``None``."""
    value = value.strip()
    m = _IMF.match(value)
    if m:
        day, mon, year, hh, mm, ss = m.groups()
    else:
        m = _RFC850.match(value)
        if m:
            day, mon, yy, hh, mm, ss = m.groups()
            year = str(2000 + int(yy) if int(yy) < 70 else 1900 + int(yy))
        else:
            m = _ASCTIME.match(value)
            if not m:
                return None
            mon, day, hh, mm, ss, year = m.groups()
    month = _MONTHS.get(mon.lower())
    # The groups are ASCII digits (re.ASCII), so int() cannot fail; the ranges are
    # RFC 9110 §5.6.7's (a leap second, 60, is allowed).
    d, hour, minute, sec = int(day), int(hh), int(mm), int(ss)
    if month is None or not (1 <= d <= 31 and hour <= 23 and minute <= 59 and sec <= 60):
        return None
    try:
        return float(calendar.timegm((int(year), month, d, hour, minute, sec, 0, 0, 0)))
    except (ValueError, OverflowError):  # year 0000
        return None


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (RFC 9110 §10.2.3), or ``None``."""
    if not value:
        return None
    value = value.strip()
    seconds = ascii_int(value, _MAX_RETRY_AFTER_DIGITS)
    if seconds is not None:
        return float(seconds)
    when = parse_http_date(value)
    if when is None:
        return None
    return max(0.0, when - now)


@dataclass(frozen=True)
class RetryPolicy:
    """Retry settings. ``RetryPolicy()`` is the client's default.

    Args:
        max_attempts: attempts in total, the first included (1 disables retries).
        initial_backoff: the cap of the first wait, in seconds.
        multiplier: how the cap grows per attempt.
        max_backoff: the largest cap of a single wait.
        deadline: seconds from the first attempt after which no retry starts
            (``None``: bounded by ``max_attempts`` only).
        statuses: HTTP statuses that are retried.
        rate_limit_reasons: reasons of a 403 that make it retryable.
        retry_non_idempotent: also retry POST/PATCH after failures that may have
            executed them (5xx, broken connections).
        respect_retry_after: wait at least the server's ``Retry-After``.
        random: the source of jitter (inject a seeded one for deterministic tests).
    """

    max_attempts: int = 5
    initial_backoff: float = 1.0
    multiplier: float = 2.0
    max_backoff: float = 32.0
    deadline: float | None = 120.0
    statuses: frozenset[int] = frozenset({408, 429, 500, 502, 503, 504})
    rate_limit_reasons: frozenset[str] = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "RATE_LIMIT_EXCEEDED"})
    retry_non_idempotent: bool = False
    respect_retry_after: bool = True
    random: Callable[[], float] = field(default=jitter_fraction, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("RetryPolicy.max_attempts must be at least 1")
        if self.initial_backoff < 0 or self.max_backoff < 0 or self.multiplier < 1:
            raise ValueError("RetryPolicy backoff values must be non-negative and multiplier >= 1")

    def __getstate__(self) -> dict[str, Any]:
        # A policy travels with a pickled Request (inside an HTTPError sent to another
        # process). Its jitter source may be a lambda or a closure, which cannot be
        # pickled: the copy then draws from the default source instead.
        state = dict(self.__dict__)
        try:
            pickle.dumps(self.random)
        except Exception:
            state["random"] = jitter_fraction
        return state

    def backoff(self, retry_number: int) -> float:
        """The jittered wait before retry number ``retry_number`` (1-based)."""
        cap = min(self.max_backoff, self.initial_backoff * self.multiplier ** (retry_number - 1))
        return self.random() * cap

    @staticmethod
    def is_idempotent(method: str, url: str, headers: Mapping[str, str] | None = None) -> bool:
        """Whether repeating the request cannot do harm (see the module docstring)."""
        if method.upper() in _IDEMPOTENT_METHODS:
            return True
        if _PRECONDITION.search(url):
            return True
        if headers:
            for name in headers:
                if name.lower() in ("if-match", "if-none-match"):
                    return True
        return False

    def should_retry(self, outcome: HttpResponse | BaseException, idempotent: bool) -> bool:
        """Whether to try again after ``outcome``: an error response (a 403 is retried
        only for a rate-limit reason in its body) or the exception an attempt raised."""
        if isinstance(outcome, HttpResponse):
            status = outcome.status
            info = error_info(None, outcome.body) if status == 403 else None
            return self._decide(status, info, None, idempotent)
        return self._decide(None, None, outcome, idempotent)

    def _decide(self, status: int | None, info: Mapping[str, Any] | None, error: BaseException | None, idempotent: bool) -> bool:
        # The one place that decides (see the module docstring for the rules).
        if error is not None:
            if not isinstance(error, TransportError) or isinstance(error, ResponseTooLarge):
                # An oversized body would come back the same on every attempt.
                return False
            return idempotent or self.retry_non_idempotent or isinstance(error, ConnectError)
        if status == 403:
            return (info or {}).get("reason") in self.rate_limit_reasons
        if status not in self.statuses:
            return False
        return idempotent or self.retry_non_idempotent or status in _REJECTED_STATUSES


#: The client's default policy: on, with safe settings.
DEFAULT_RETRY = RetryPolicy()
#: No retries at all.
NO_RETRY = RetryPolicy(max_attempts=1)


class RetryState:
    """Book-keeping of one call's attempts (used by the request flows)."""

    __slots__ = ("attempt", "idempotent", "policy", "started")

    def __init__(self, policy: RetryPolicy, idempotent: bool, started: float) -> None:
        self.policy = policy
        self.idempotent = idempotent
        self.started = started
        self.attempt = 1

    def next_delay(self, now_monotonic: float, retry_after: float | None) -> float | None:
        """The wait before the next attempt, or ``None`` when retrying must stop."""
        policy = self.policy
        if self.attempt >= policy.max_attempts:
            return None
        delay = policy.backoff(self.attempt)
        if retry_after is not None and policy.respect_retry_after:
            delay = max(delay, retry_after)
        if policy.deadline is not None and now_monotonic + delay - self.started > policy.deadline:
            return None
        self.attempt += 1
        return delay


_NOW_MONOTONIC = Now(monotonic=True)
_NOW_WALL = Now()


def retry_after_flow(response: HttpResponse) -> Flow[float | None]:
    """The wait ``response``'s ``Retry-After`` asks for (RFC 9110 §10.2.3), reading the
    wall clock only when there is one (an HTTP date is relative to it)."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    return parse_retry_after(value, (yield _NOW_WALL))


def wait_flow(state: RetryState, retry_after: float | None = None) -> Flow[bool]:
    """Wait before the next attempt (the jittered backoff, at least ``retry_after``) and
    return ``True``; return ``False`` at once when retrying must stop (attempts or the
    deadline exhausted). The one place every flow waits between attempts."""
    delay = state.next_delay((yield _NOW_MONOTONIC), retry_after)
    if delay is None:
        return False
    yield Sleep(delay)
    return True
