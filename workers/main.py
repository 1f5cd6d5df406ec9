"""The arq worker: job functions (thin: load by id, call a service) and its settings."""

from __future__ import annotations

import asyncio
import logging
import smtplib
from email.message import EmailMessage
from typing import Any

from arq.worker import Worker

from node import db
from node.jobs import redis_settings
from node.settings import get_settings
from workers import archive as archive_jobs
from workers import federation, feeds
from workers import media as media_jobs
from workers import notifications as realtime
from workers import trends as trends_jobs
from workers.instrumentation import timed
from workers.maintenance import CRON_JOBS

log = logging.getLogger("pinhole.worker")


def _send_mail(to: str, subject: str, body: str) -> None:
    settings = get_settings()
    message = EmailMessage()
    message["From"] = settings.smtp_from or f"pinhole@{settings.domain.split(':')[0]}"
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
        if settings.smtp_user:
            smtp.starttls()
            smtp.login(settings.smtp_user, settings.smtp_password)
        smtp.send_message(message)


async def send_confirmation_email(ctx: dict[str, Any], user_id: int) -> None:
    row = await db.fetchrow(
        "SELECT email, confirmation_token FROM users WHERE id = $1 AND confirmed_at IS NULL",
        user_id,
    )
    if row is None or not row["confirmation_token"]:
        return
    settings = get_settings()
    link = f"{settings.base_url}/auth/confirmation?confirmation_token={row['confirmation_token']}"
    await asyncio.to_thread(
        _send_mail,
        row["email"],
        f"Confirm your email address for {settings.site_name}",
        f"Welcome to {settings.site_name}!\n\nConfirm your email address by opening:\n{link}\n",
    )


FUNCTIONS = [
    send_confirmation_email,
    *feeds.FUNCTIONS,
    *federation.FUNCTIONS,
    *realtime.FUNCTIONS,
    *media_jobs.FUNCTIONS,
    *archive_jobs.FUNCTIONS,
]


async def _startup(ctx: dict[str, Any]) -> None:
    if ctx.get("own_pool"):
        await db.open_pool(min_size=1, max_size=10)


async def _shutdown(ctx: dict[str, Any]) -> None:
    if ctx.get("own_pool"):
        await db.close_pool()


def build_worker(*, own_pool: bool, handle_signals: bool) -> Worker:
    """A worker; `own_pool` when it runs alone (not beside the web server in one process)."""
    return Worker(
        functions=[timed(function) for function in FUNCTIONS],
        cron_jobs=[*CRON_JOBS, *trends_jobs.CRON_JOBS, *federation.CRON_JOBS],
        redis_settings=redis_settings(),
        queue_name=get_settings().queue_name,
        on_startup=_startup,
        on_shutdown=_shutdown,
        ctx={"own_pool": own_pool},
        handle_signals=handle_signals,
        keep_result=60,
        max_jobs=20,
        job_timeout=600,
        max_tries=5,
        # Real-time events (notifications, DMs) wait for the next poll: 10 ms instead of 50 ms
        # halves like-to-WebSocket latency (p50 ~25 ms, bench/realtime.py) for ~3% of a core.
        poll_delay=0.01,
        # Refreshes `<queue>:health-check` in Redis: the container health check reads it.
        health_check_interval=30,
    )
