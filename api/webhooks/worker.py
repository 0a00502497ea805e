"""The delivery worker: claim due deliveries, POST each one signed, record
the attempt, and schedule a retry or give up.

`backplan worker` runs it; on SQLite `backplan serve` may run it on a thread
(`start_in_background`). Several workers may share a PostgreSQL database:
claims never overlap (see `db.deliveries`). Delivery is at least once: a
worker that dies mid-request leaves a lease that expires, then the delivery
goes again with the same `webhook-id`, which receivers use to drop repeats.
"""

from __future__ import annotations

import email.utils
import logging
import random
import ssl
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib.metadata import version

import httpx
from sqlalchemy import Engine
from sqlmodel import Session

from api.settings import Settings
from api.webhooks.signing import signature
from api.webhooks.targets import Target, TargetPolicy, TargetRefused
from db import deliveries
from db.deliveries import AttemptResult, Job, Verdict

logger = logging.getLogger("api.webhooks")

# The backoff of ../shared/INTEGRATION.md (Standard Webhooks practice): the
# first attempt at once, then these delays; after the last one, give up.
RETRY_SCHEDULE = (
    timedelta(0),
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=14),
    timedelta(hours=20),
    timedelta(hours=24),
)
# Each delay varies by up to this fraction either way, so deliveries that
# failed together do not all come back together.
JITTER = 0.2
# Statuses that mean "slow down": their Retry-After is honoured, up to a day.
SLOW_DOWN = frozenset({429, 502, 503, 504})
MAX_RETRY_AFTER = timedelta(hours=24)
RESPONSE_EXCERPT_BYTES = 1024
ERROR_LENGTH = 500
PRUNE_EVERY = timedelta(hours=1)
USER_AGENT = f"backplan-webhooks/{version('backplan')}"

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    policy: TargetPolicy = field(default_factory=TargetPolicy)
    timeout: float = 15.0
    lease: timedelta = timedelta(seconds=60)
    concurrency: int = 8
    poll_interval: float = 1.0
    retention: timedelta = timedelta(days=30)
    schedule: tuple[timedelta, ...] = RETRY_SCHEDULE
    jitter: float = JITTER
    tls: ssl.SSLContext | None = None  # default: verify against the certifi CA bundle

    @classmethod
    def from_settings(cls, settings: Settings) -> WorkerConfig:
        return cls(
            policy=TargetPolicy.from_settings(settings),
            timeout=settings.webhooks_timeout_seconds,
            lease=timedelta(seconds=settings.webhooks_lease_seconds),
            concurrency=settings.webhooks_concurrency,
            poll_interval=settings.webhooks_poll_seconds,
            retention=timedelta(days=settings.webhooks_retention_days),
        )


@dataclass(frozen=True, slots=True)
class _Outcome:
    result: AttemptResult
    verdict: Verdict
    next_attempt_at: datetime | None = None
    reason: str | None = None


class Worker:
    """Delivers due webhooks; `clock` and `rand` are there for tests."""

    def __init__(
        self,
        engine: Engine,
        config: WorkerConfig,
        *,
        clock: Clock = utc_now,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.engine = engine
        self.config = config
        self.clock = clock
        self.rand = rand
        # No keep-alive: a pooled connection is keyed by address, and must not
        # carry a request for one host over a TLS session opened for another.
        self._http = httpx.Client(
            verify=config.tls or _tls(),
            timeout=config.timeout,
            follow_redirects=False,
            trust_env=False,
            limits=httpx.Limits(max_keepalive_connections=0),
        )
        self._pool = ThreadPoolExecutor(config.concurrency, thread_name_prefix="webhook")
        self._next_prune = clock()

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._http.close()

    def run(self, stop: threading.Event) -> None:
        """Deliver until `stop` is set, pausing when nothing is due."""
        while not stop.is_set():
            try:
                self._prune_now_and_then()
                if self.run_once() == 0:
                    stop.wait(self.config.poll_interval)
            except Exception:
                # The database may be restarting: keep polling.
                logger.exception("webhook worker: polling failed")
                stop.wait(self.config.poll_interval)

    def run_once(self) -> int:
        """Claim what is due (up to `concurrency`), deliver it all; the number claimed."""
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            jobs = deliveries.claim(
                session, now=self.clock(), lease=self.config.lease, limit=self.config.concurrency
            )
        for _ in self._pool.map(self._deliver, jobs):
            pass
        return len(jobs)

    def _deliver(self, job: Job) -> None:
        outcome = self._attempt(job)
        result = outcome.result
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            recorded = deliveries.record(
                session,
                job=job,
                result=result,
                verdict=outcome.verdict,
                next_attempt_at=outcome.next_attempt_at,
                reason=outcome.reason,
                now=self.clock(),
            )
        what = result.status_code if result.status_code is not None else result.error
        level = logging.INFO if outcome.verdict is Verdict.delivered else logging.WARNING
        logger.log(
            level,
            "webhook %s %s to endpoint %s, attempt %d: %s (%s)%s",
            job.event_type,
            job.event_id,
            job.endpoint_id,
            job.attempt,
            outcome.verdict.value,
            what,
            "" if recorded else "; not recorded, the claim was lost",
        )

    def _attempt(self, job: Job) -> _Outcome:
        started_at = self.clock()
        began = time.monotonic()
        status: int | None = None
        excerpt: str | None = None
        retry_after: str | None = None
        error: str | None = None
        try:
            target = self.config.policy.check(job.url)
            status, retry_after, excerpt = self._post(target, job)
        except TargetRefused as exc:
            error = f"Not sent: the URL {exc}."
        except httpx.TimeoutException:
            error = f"No response within {self.config.timeout:g} s."
        except httpx.HTTPError as exc:
            error = f"Could not deliver: {exc}" if str(exc) else f"Could not deliver: {exc!r}"
        duration_ms = round((time.monotonic() - began) * 1000)
        if status is not None and 300 <= status < 400:
            error = "Redirects are not followed: register the final URL."
        result = AttemptResult(
            started_at=started_at,
            duration_ms=duration_ms,
            status_code=status,
            error=None if error is None else error[:ERROR_LENGTH],
            response_excerpt=excerpt,
        )
        return self._judge(job, result, retry_after)

    def _post(self, target: Target, job: Job) -> tuple[int, str | None, str | None]:
        """Send the delivery to the first address that accepts a connection."""
        sent_at = datetime.now(UTC)  # the receiver checks it against its own clock
        headers = {
            **target.headers(),
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": job.event_id,
            "webhook-timestamp": str(int(sent_at.timestamp())),
            "webhook-signature": signature(
                job.secrets, msg_id=job.event_id, timestamp=sent_at, body=job.payload
            ),
        }
        body = job.payload.encode()
        failure: httpx.ConnectError | None = None
        for address in target.addresses:
            request = self._http.build_request(
                "POST",
                target.request_url(address),
                content=body,
                headers=headers,
                extensions=target.extensions(),
            )
            try:
                response = self._http.send(request, stream=True)
            except httpx.ConnectError as exc:
                failure = exc
                continue
            try:
                return response.status_code, response.headers.get("retry-after"), _excerpt(response)
            finally:
                response.close()
        assert failure is not None
        raise failure

    def _judge(self, job: Job, result: AttemptResult, retry_after: str | None) -> _Outcome:
        status = result.status_code
        now = self.clock()
        if status is not None and 200 <= status < 300:
            return _Outcome(result, Verdict.delivered)
        if status == 410:
            reason = (
                f"The endpoint answered 410 Gone on {now:%Y-%m-%d %H:%M} UTC. "
                "Re-enable it (PATCH enabled: true) to receive events again."
            )
            return _Outcome(result, Verdict.gone, reason=reason)
        failures = job.series_failures + 1
        if failures >= len(self.config.schedule):
            last = f"HTTP {status}" if status is not None else result.error or "no response"
            reason = (
                f"{failures} attempts to deliver event {job.event_id} failed, with no "
                f"successful delivery since the first (last: {last}). Re-enable it "
                "(PATCH enabled: true) once it can receive events again."
            )
            return _Outcome(result, Verdict.exhausted, reason=reason[:ERROR_LENGTH])
        delay = self.config.schedule[failures] * (1 + self.config.jitter * (2 * self.rand() - 1))
        if status in SLOW_DOWN:
            asked = parse_retry_after(retry_after, now=now)
            if asked is not None:
                delay = max(delay, min(asked, MAX_RETRY_AFTER))
        return _Outcome(result, Verdict.retry, next_attempt_at=now + delay)

    def _prune_now_and_then(self) -> None:
        now = self.clock()
        if now < self._next_prune:
            return
        self._next_prune = now + PRUNE_EVERY
        with Session(self.engine) as session, session.begin():
            pruned = deliveries.prune(session, before=now - self.config.retention)
        if pruned:
            logger.info("webhook worker: pruned %d events past retention", pruned)


@cache
def _tls() -> ssl.SSLContext:
    """One TLS context (certificates verified) per process: loading the CA
    bundle takes a while."""
    return httpx.create_ssl_context()


def parse_retry_after(value: str | None, *, now: datetime) -> timedelta | None:
    """A Retry-After header (seconds, or an HTTP date) as a delay; None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(when - now, timedelta(0))


def _excerpt(response: httpx.Response) -> str | None:
    """The start of the response body, for the delivery log; the rest is not read."""
    taken = bytearray()
    try:
        for chunk in response.iter_bytes():
            taken += chunk
            if len(taken) >= RESPONSE_EXCERPT_BYTES:
                break
    except httpx.HTTPError:
        pass  # the status line arrived; a body cut short changes nothing
    if not taken:
        return None
    return bytes(taken[:RESPONSE_EXCERPT_BYTES]).decode("utf-8", errors="replace")


class BackgroundWorker:
    """A worker on a daemon thread, for `backplan serve` on SQLite."""

    def __init__(self, engine: Engine, config: WorkerConfig) -> None:
        self._worker = Worker(engine, config)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._worker.run, args=(self._stop,), name="webhook-worker", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        self._stop.set()
        self._thread.join(timeout)
        self._worker.close()
