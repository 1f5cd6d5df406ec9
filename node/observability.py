"""Logs, request ids, Prometheus metrics and readiness checks of the node.

Request latency is kept per web process (each process is its own scrape target). What the
workers measure (job timings, deliveries, feed fan-out) lands in Redis, so any web process's
`/metrics` shows the whole node; queue depth is read from Redis at scrape time.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import os
import re
import secrets
import socket
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from redis.exceptions import RedisError

from node import db
from node.redis import key, redis
from node.settings import get_settings

log = logging.getLogger("pinhole")

# ---------------------------------------------------------------- logs and request ids

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")


def new_request_id(incoming: str | None = None) -> str:
    """The id of a request: the proxy's X-Request-Id when it looks sane, else a fresh one."""
    if incoming and len(incoming) <= 128 and incoming.isascii() and incoming.isprintable():
        return incoming
    return secrets.token_hex(12)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, and any `extra`."""

    _standard = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
        "message",
        "asctime",
        "request_id",
    }

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if getattr(record, "request_id", ""):
            entry["request_id"] = record.request_id
        for name, value in vars(record).items():
            if name not in self._standard and not name.startswith("_"):
                entry[name] = value if isinstance(value, str | int | float | bool) else str(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(json_lines: bool, level: int = logging.INFO) -> None:
    """Send every log (the node's, uvicorn's, arq's) through one handler: plain or JSON lines."""
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    if json_lines:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
        )
    logging.basicConfig(level=level, handlers=[handler], force=True)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "arq", "arq.worker"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    # The request middleware writes one access line per request with its id and duration.
    logging.getLogger("uvicorn.access").disabled = True


# ---------------------------------------------------------------- per-process metrics

PROCESS_REGISTRY = CollectorRegistry(auto_describe=True)
REQUEST_SECONDS = Histogram(
    "pinhole_http_request_duration_seconds",
    "Time to answer HTTP requests, by route.",
    ["method", "route", "status"],
    registry=PROCESS_REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    REQUEST_SECONDS.labels(method, route, str(status)).observe(seconds)


# ---------------------------------------------------------------- node-wide metrics in Redis

JOB_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800)
FANOUT_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

# name -> (help, buckets, label name)
HISTOGRAMS: dict[str, tuple[str, tuple[float, ...], str]] = {
    "pinhole_job_duration_seconds": ("Run time of background jobs.", JOB_BUCKETS, "job"),
    "pinhole_job_wait_seconds": (
        "Time background jobs waited in the queue before they started.",
        JOB_BUCKETS,
        "job",
    ),
    "pinhole_feed_fanout_seconds": (
        "Time to push one post into its followers' feeds.",
        FANOUT_BUCKETS,
        "kind",
    ),
}
# name -> (help, label names)
COUNTERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "pinhole_jobs": ("Background jobs run, by outcome.", ("job", "outcome")),
    "pinhole_deliveries": (
        "Outgoing ActivityPub deliveries, by outcome (delivered, failed, retried, gave_up…).",
        ("outcome",),
    ),
}


def _hist_key(name: str, label: str) -> str:
    return key("metrics", "h", name, label)


def _counter_key(name: str) -> str:
    return key("metrics", "c", name)


def _add_observation(pipe: Any, name: str, seconds: float, label: str) -> None:
    _, buckets, _ = HISTOGRAMS[name]
    index = next((i for i, bound in enumerate(buckets) if seconds <= bound), len(buckets))
    target = _hist_key(name, label)
    pipe.hincrby(target, str(index), 1)
    pipe.hincrbyfloat(target, "sum", seconds)


async def observe(name: str, seconds: float, label: str = "") -> None:
    """Record one observation of a node-wide histogram (never fails the caller)."""
    try:
        async with redis().pipeline(transaction=False) as pipe:
            _add_observation(pipe, name, seconds, label)
            await pipe.execute()
    except RedisError as exc:
        log.debug("metric %s not recorded: %s", name, exc)


async def count(name: str, *labels: str, amount: int = 1) -> None:
    """Add to a node-wide counter; `labels` in the order COUNTERS declares them."""
    try:
        await redis().hincrby(_counter_key(name), "\x1f".join(labels), amount)
    except RedisError as exc:
        log.debug("metric %s not recorded: %s", name, exc)


async def record_delivery(outcome: str) -> None:
    """Federation calls this once per delivery attempt: delivered, failed, retried, gave_up…"""
    await count("pinhole_deliveries", outcome)


async def observe_fanout(seconds: float, kind: str = "push") -> None:
    """The feed engine calls this with the time one post took to reach its followers' feeds."""
    await observe("pinhole_feed_fanout_seconds", seconds, kind)


async def record_job(job: str, wait_seconds: float, run_seconds: float, succeeded: bool) -> None:
    """A job's wait, run time and outcome: one Redis round trip (workers call this per job)."""
    try:
        async with redis().pipeline(transaction=False) as pipe:
            _add_observation(pipe, "pinhole_job_wait_seconds", max(0.0, wait_seconds), job)
            _add_observation(pipe, "pinhole_job_duration_seconds", run_seconds, job)
            outcome = "success" if succeeded else "failure"
            pipe.hincrby(_counter_key("pinhole_jobs"), f"{job}\x1f{outcome}", 1)
            await pipe.execute()
    except RedisError as exc:
        log.debug("job metrics of %s not recorded: %s", job, exc)


async def _histogram_families() -> list[Metric]:
    client = redis()
    families = []
    for name, (help_text, buckets, label) in HISTOGRAMS.items():
        family = HistogramMetricFamily(name, help_text, labels=[label])
        prefix = _hist_key(name, "")
        async for raw_key in client.scan_iter(match=prefix + "*", count=500):
            label_value = raw_key.decode()[len(prefix) :]
            raw = await client.hgetall(raw_key)
            counts = {k.decode(): v.decode() for k, v in raw.items()}
            cumulative, rows = 0, []
            for i, bound in enumerate((*buckets, float("inf"))):
                cumulative += int(counts.get(str(i), 0))
                rows.append(("+Inf" if bound == float("inf") else str(bound), cumulative))
            family.add_metric([label_value], rows, float(counts.get("sum", 0)))
        families.append(family)
    return families


async def _counter_families() -> list[Metric]:
    families = []
    for name, (help_text, labels) in COUNTERS.items():
        family = CounterMetricFamily(name, help_text, labels=list(labels))
        raw = await redis().hgetall(_counter_key(name))
        for field, value in raw.items():
            values = field.decode().split("\x1f")
            if len(values) == len(labels):
                family.add_metric(values, int(value))
        families.append(family)
    return families


QUEUE_SAMPLE = 5000  # queued jobs read per scrape to split the depth by job type


async def _queue_families() -> list[Metric]:
    """Queue depth: the exact total, and by job type and state over the first QUEUE_SAMPLE."""
    from arq.constants import job_key_prefix
    from arq.jobs import DeserializationError, deserialize_job_raw

    client = redis()
    queue = get_settings().queue_name
    total = await client.zcard(queue)
    now_ms = time.time() * 1000
    entries = await client.zrange(queue, 0, QUEUE_SAMPLE - 1, withscores=True)
    by_type: dict[tuple[str, str], int] = {}
    if entries:
        payloads = await client.mget([job_key_prefix + job_id.decode() for job_id, _ in entries])
        for (_, score), payload in zip(entries, payloads, strict=True):
            if payload is None:
                continue
            try:
                function = deserialize_job_raw(payload)[0]
            except DeserializationError:
                function = "unknown"
            state = "deferred" if score > now_ms else "ready"
            by_type[(function, state)] = by_type.get((function, state), 0) + 1
    depth = GaugeMetricFamily("pinhole_queue_depth", "Jobs waiting in the queue.")
    depth.add_metric([], total)
    jobs = GaugeMetricFamily(
        "pinhole_queue_jobs",
        f"Jobs waiting, by job type and state (over the first {QUEUE_SAMPLE} in the queue).",
        labels=["job", "state"],
    )
    for (function, state), number in sorted(by_type.items()):
        jobs.add_metric([function, state], number)
    return [depth, jobs]


class _Families:
    """A collector that hands prometheus_client families gathered beforehand (asynchronously)."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self._families = list(families)

    def collect(self) -> Iterable[Metric]:
        return self._families


async def render_metrics() -> bytes:
    """The Prometheus text exposition of this process's and the node's metrics."""
    node_wide: list[Metric] = []
    try:
        node_wide += await _queue_families()
        node_wide += await _histogram_families()
        node_wide += await _counter_families()
    except RedisError as exc:
        log.warning("node-wide metrics unavailable: %s", exc)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families(node_wide))  # type: ignore[arg-type]
    return generate_latest(PROCESS_REGISTRY) + generate_latest(registry)


# ---------------------------------------------------------------- readiness


async def _check_database() -> None:
    await db.fetchval("SELECT 1")


async def _check_redis() -> None:
    await redis().ping()


async def _check_storage() -> None:
    """Write, read back and delete a tiny object where media bytes live."""
    from media.storage import storage_from_settings

    storage = storage_from_settings(get_settings())
    name = re.sub(r"[^A-Za-z0-9.-]", "-", f"{socket.gethostname()}-{os.getpid()}")
    object_key = f"health/{name}.txt"
    await storage.put(object_key, b"ok", "text/plain")
    try:
        if await storage.get(object_key) != b"ok":
            raise OSError("media storage returned different bytes")
    finally:
        await storage.delete(object_key)


READINESS_TIMEOUT = 5.0


async def readiness() -> dict[str, str]:
    """Each dependency's state: "ok" or the reason it is not usable."""
    checks = {"postgres": _check_database, "redis": _check_redis, "storage": _check_storage}

    async def run(check) -> str:
        try:
            async with asyncio.timeout(READINESS_TIMEOUT):
                await check()
        except Exception as exc:  # any failure means "not ready"; the reason is reported
            return f"{type(exc).__name__}: {exc}"[:300] or "failed"
        return "ok"

    results = await asyncio.gather(*(run(check) for check in checks.values()))
    return dict(zip(checks, results, strict=True))
