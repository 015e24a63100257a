"""Robust HTTP fetching for partner feeds: timeouts, retries with backoff and jitter, 429, rate limit."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import httpx


class FetchError(RuntimeError):
    """A page could not be fetched after every retry."""


@dataclass
class RateLimiter:
    """At most `per_second` requests per second (France Travail allows about 10)."""

    per_second: float
    sleep: Callable[[float], None] = time.sleep
    _next: float = 0.0

    def wait(self) -> None:
        """Block until the next request is allowed."""
        now = time.monotonic()
        if self._next > now:
            self.sleep(self._next - now)
        self._next = max(now, self._next) + 1.0 / self.per_second


def retry_after_seconds(value: str | None, default: float) -> float:
    """Seconds to wait from a `Retry-After` header (seconds or HTTP date)."""
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return default


@dataclass
class Fetcher:
    """GET JSON with retries on network errors, timeouts, 5xx and truncated bodies; honours 429."""

    timeout_s: float = 10.0
    max_attempts: int = 5
    base_delay_s: float = 0.5
    max_delay_s: float = 60.0
    rate_per_second: float = 10.0
    sleep: Callable[[float], None] = time.sleep
    headers: dict[str, str] = field(default_factory=dict)
    rng: random.Random = field(default_factory=random.Random)
    waits: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.limiter = RateLimiter(self.rate_per_second, self.sleep)
        self.client = httpx.Client(timeout=self.timeout_s, headers=self.headers, follow_redirects=True)

    def close(self) -> None:
        """Close the HTTP connections."""
        self.client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter."""
        return self.rng.uniform(0, min(self.max_delay_s, self.base_delay_s * 2**attempt))

    def _wait(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.sleep(seconds)

    def get_json(self, url: str, params: dict | None = None) -> tuple[Any, httpx.Response]:
        """The decoded JSON body and response of a GET (an empty 204 body decodes to None)."""
        last_error = "no attempt"
        for attempt in range(self.max_attempts):
            self.limiter.wait()
            try:
                response = self.client.get(url, params=params)
            except httpx.TransportError as exc:  # timeouts, refused or reset connections
                last_error = f"{type(exc).__name__}: {exc}"
                self._wait(self._backoff(attempt))
                continue
            if response.status_code == 429:
                last_error = "429 Too Many Requests"
                self._wait(min(self.max_delay_s, retry_after_seconds(response.headers.get("Retry-After"),
                                                                     self._backoff(attempt))))  # fmt: skip
                continue
            if response.status_code >= 500:
                last_error = f"HTTP {response.status_code}"
                self._wait(self._backoff(attempt))
                continue
            if response.status_code >= 400:
                raise FetchError(f"{url}: HTTP {response.status_code} {response.text[:200]}")
            if response.status_code == 204 or not response.content:
                return None, response
            try:
                return json.loads(response.content), response
            except ValueError as exc:  # a truncated body: the connection dropped mid-transfer
                last_error = f"invalid JSON: {exc}"
                self._wait(self._backoff(attempt))
        raise FetchError(f"{url}: gave up after {self.max_attempts} attempts ({last_error})")
