"""Typed settings read from the environment; a malformed value stops the start and names itself."""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


class SettingsError(ValueError):
    """A setting in the environment is malformed."""


def _parse_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false, not {raw!r}")


def _parse_int(name: str, raw: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None


_RATE_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def _parse_rate(name: str, raw: str) -> tuple[int, int]:
    """A rate limit `COUNT/PERIOD` (period in seconds, or with a unit: `300/5m`, `5/30m`)."""
    count, _, period = raw.strip().partition("/")
    period = period.strip().lower()
    unit = period[-1:] if period[-1:] in _RATE_UNITS else ""
    try:
        limit, seconds = int(count), int(period[: len(period) - len(unit)]) * _RATE_UNITS[unit]
    except ValueError:
        raise SettingsError(f"{name} must look like 300/5m (count/period), not {raw!r}") from None
    if limit < 1 or seconds < 1:
        raise SettingsError(f"{name} needs a count and a period above zero, not {raw!r}")
    return limit, seconds


def _is_loopback_host(host: str) -> bool:
    name = urlsplit(f"//{host}").hostname or ""
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


# One row per setting: (attribute, environment variable, kind, default, description).
# The README's configuration table is written from these descriptions.
SETTINGS_TABLE: list[tuple[str, str, str, Any, str]] = [
    ("host", "PINHOLE_HOST", "str", "127.0.0.1", "Address the web server binds to."),
    ("port", "PINHOLE_PORT", "int", 8000, "Port the web server binds to."),
    (
        "web_processes",
        "PINHOLE_WEB_PROCESSES",
        "int",
        1,
        "Web server processes sharing the port (the kernel spreads connections over them); "
        "one per core uses a machine's cores without a load balancer.",
    ),
    (
        "domain",
        "PINHOLE_DOMAIN",
        "str",
        None,
        "Public host of the node, with a port when not 80/443 (`photos.example`, "
        "`127.0.0.2:8000`). Defaults to HOST:PORT.",
    ),
    (
        "https",
        "PINHOLE_HTTPS",
        "bool",
        None,
        "Generate `https://` URLs. On by default; off by default when the domain is a "
        "loopback address (local development and tests).",
    ),
    (
        "database_url",
        "PINHOLE_DATABASE_URL",
        "str",
        "",
        "PostgreSQL URL. Empty: an embedded PostgreSQL is started under the data folder.",
    ),
    (
        "database_pool_size",
        "PINHOLE_DATABASE_POOL_SIZE",
        "int",
        8,
        "PostgreSQL connections each web process opens at most. More queries at once than the "
        "database has cores only make them queue inside PostgreSQL instead of the app.",
    ),
    (
        "redis_url",
        "PINHOLE_REDIS_URL",
        "str",
        "",
        "Redis URL. Empty: an embedded Redis-compatible server is started under the data folder.",
    ),
    (
        "data_dir",
        "PINHOLE_DATA_DIR",
        "path",
        "./var",
        "Folder for local data (embedded servers, media).",
    ),
    (
        "secret_key",
        "PINHOLE_SECRET_KEY",
        "str",
        "",
        "Secret for sessions and tokens. Empty: generated once and kept in the data folder.",
    ),
    ("site_name", "PINHOLE_SITE_NAME", "str", "pinhole", "Name of the node shown to people."),
    ("contact_email", "PINHOLE_CONTACT_EMAIL", "str", "", "Contact address shown on the instance."),
    (
        "registrations_open",
        "PINHOLE_REGISTRATIONS_OPEN",
        "bool",
        True,
        "Whether anyone may sign up.",
    ),
    ("max_accounts", "PINHOLE_MAX_ACCOUNTS", "int", 0, "Cap on local accounts (0: no cap)."),
    (
        "smtp_host",
        "PINHOLE_SMTP_HOST",
        "str",
        "",
        "SMTP server. When set, new accounts must confirm their email address.",
    ),
    ("smtp_port", "PINHOLE_SMTP_PORT", "int", 587, "SMTP port."),
    ("smtp_user", "PINHOLE_SMTP_USER", "str", "", "SMTP user name."),
    ("smtp_password", "PINHOLE_SMTP_PASSWORD", "str", "", "SMTP password."),
    ("smtp_from", "PINHOLE_SMTP_FROM", "str", "", "Sender address of emails."),
    (
        "allow_private_addresses",
        "PINHOLE_ALLOW_PRIVATE_ADDRESSES",
        "bool",
        False,
        "Allow remote fetches and deliveries to private and loopback addresses (tests, development).",
    ),
    (
        "authorized_fetch",
        "PINHOLE_AUTHORIZED_FETCH",
        "bool",
        False,
        "Answer unsigned ActivityPub fetches of actors and posts with 401 (secure mode).",
    ),
    (
        "delivery_retry_delays",
        "PINHOLE_DELIVERY_RETRY_DELAYS",
        "str",
        "15,60,300,900,1800,3600,7200,10800,14400,21600,28800,36000,43200",
        "Seconds to wait before each retry of a failed delivery (about two days in all).",
    ),
    (
        "media_backend",
        "PINHOLE_MEDIA_BACKEND",
        "str",
        "local",
        "Where media bytes live: `local` (under the data folder) or `s3`.",
    ),
    (
        "media_base_url",
        "PINHOLE_MEDIA_BASE_URL",
        "str",
        "",
        "Public base URL of media (a CDN may front it). Default: this node's `/media` with "
        "the local backend, the bucket's own URL (`PINHOLE_S3_ENDPOINT/bucket`) with S3.",
    ),
    (
        "s3_endpoint",
        "PINHOLE_S3_ENDPOINT",
        "str",
        "",
        "S3 endpoint URL (any S3-compatible service).",
    ),
    ("s3_bucket", "PINHOLE_S3_BUCKET", "str", "pinhole-media", "S3 bucket."),
    ("s3_region", "PINHOLE_S3_REGION", "str", "us-east-1", "S3 region."),
    ("s3_access_key", "PINHOLE_S3_ACCESS_KEY", "str", "", "S3 access key id."),
    ("s3_secret_key", "PINHOLE_S3_SECRET_KEY", "str", "", "S3 secret access key."),
    ("s3_path_style", "PINHOLE_S3_PATH_STYLE", "bool", True, "Use path-style S3 addressing."),
    (
        "image_max_bytes",
        "PINHOLE_IMAGE_MAX_BYTES",
        "int",
        40 * 1024 * 1024,
        "Largest accepted image upload, in bytes.",
    ),
    (
        "image_max_pixels",
        "PINHOLE_IMAGE_MAX_PIXELS",
        "int",
        100_000_000,
        "Largest accepted image, in pixels.",
    ),
    (
        "video_max_bytes",
        "PINHOLE_VIDEO_MAX_BYTES",
        "int",
        200 * 1024 * 1024,
        "Largest accepted video upload, in bytes.",
    ),
    (
        "video_max_seconds",
        "PINHOLE_VIDEO_MAX_SECONDS",
        "int",
        600,
        "Longest accepted video, in seconds.",
    ),
    (
        "queue_name",
        "PINHOLE_QUEUE_NAME",
        "str",
        "pinhole:queue",
        "Name of the job queue in Redis (several nodes may share one Redis).",
    ),
    (
        "redis_prefix",
        "PINHOLE_REDIS_PREFIX",
        "str",
        "pinhole:",
        "Prefix of every key this node writes to Redis.",
    ),
    (
        "log_json",
        "PINHOLE_LOG_JSON",
        "bool",
        False,
        "Write logs as JSON lines.",
    ),
    (
        "feed_push_threshold",
        "PINHOLE_FEED_PUSH_THRESHOLD",
        "int",
        5000,
        "Authors with more local followers than this are not pushed into followers' home "
        "feeds; their posts are pulled and merged when a feed is read.",
    ),
    (
        "feed_inactive_days",
        "PINHOLE_FEED_INACTIVE_DAYS",
        "int",
        14,
        "Users who have not read their home feed for this many days get no pushes; their "
        "feed is rebuilt from the database when they come back.",
    ),
    (
        "registration_mode",
        "PINHOLE_REGISTRATION_MODE",
        "str",
        "open",
        "How people join: `open`, `approval` (an admin approves each sign-up), `invite` (an "
        "invite code is needed) or `closed`. `pinhole admin setting registration_mode …` changes "
        "it at run time; `PINHOLE_REGISTRATIONS_OPEN=false` means `closed`.",
    ),
    (
        "federation_mode",
        "PINHOLE_FEDERATION_MODE",
        "str",
        "blocklist",
        "`blocklist`: federate with every domain not blocked; `allowlist`: only with allowed "
        "domains (`pinhole admin domain-allow add`).",
    ),
    (
        "suspension_grace_days",
        "PINHOLE_SUSPENSION_GRACE_DAYS",
        "int",
        30,
        "Days a suspended account's data is kept (so a suspension can be undone) before deletion.",
    ),
    (
        "remote_media_max_age_days",
        "PINHOLE_REMOTE_MEDIA_MAX_AGE_DAYS",
        "int",
        30,
        "Cached copies of remote media older than this many days are removed (0: keep).",
    ),
    (
        "remote_media_max_bytes",
        "PINHOLE_REMOTE_MEDIA_MAX_BYTES",
        "int",
        0,
        "Upper bound of the remote media cache in bytes; the oldest copies go first (0: no bound).",
    ),
    (
        "metrics_token",
        "PINHOLE_METRICS_TOKEN",
        "str",
        "",
        "When set, `/metrics` answers only requests with `Authorization: Bearer <token>`.",
    ),
    (
        "rate_limit_enabled",
        "PINHOLE_RATE_LIMIT_ENABLED",
        "bool",
        True,
        "Enforce the rate limits below (answers over a limit are 429 with `Retry-After`).",
    ),
    (
        "rate_limit_api",
        "PINHOLE_RATE_LIMIT_API",
        "rate",
        (300, 300),
        "API requests per user (per IP without a token), as count/period: `300/5m`.",
    ),
    (
        "rate_limit_feeds",
        "PINHOLE_RATE_LIMIT_FEEDS",
        "rate",
        (100, 60),
        "Timeline reads per user (per IP without a token).",
    ),
    (
        "rate_limit_uploads",
        "PINHOLE_RATE_LIMIT_UPLOADS",
        "rate",
        (30, 1800),
        "Media uploads per user.",
    ),
    (
        "rate_limit_sign_up",
        "PINHOLE_RATE_LIMIT_SIGN_UP",
        "rate",
        (5, 1800),
        "Sign-ups per IP address.",
    ),
    (
        "rate_limit_sign_in",
        "PINHOLE_RATE_LIMIT_SIGN_IN",
        "rate",
        (25, 300),
        "Sign-in and token requests per IP address.",
    ),
    (
        "trends_enabled",
        "PINHOLE_TRENDS_ENABLED",
        "bool",
        True,
        "Compute trending hashtags and posts (the explore page and `/api/v1/trends/*`).",
    ),
    (
        "trends_include_remote",
        "PINHOLE_TRENDS_INCLUDE_REMOTE",
        "bool",
        True,
        "Let posts and hashtag uses from other servers trend here (off: local only).",
    ),
    (
        "trends_require_review",
        "PINHOLE_TRENDS_REQUIRE_REVIEW",
        "bool",
        False,
        "Show only hashtags and posts a moderator approved in trends (off: all but rejected).",
    ),
    (
        "rate_limit_inbox",
        "PINHOLE_RATE_LIMIT_INBOX",
        "rate",
        (3000, 300),
        "Deliveries to the inboxes per remote domain (from the signature's key id).",
    ),
]


_URL_SCHEMES = {
    "database_url": ("postgresql", "postgres"),
    "redis_url": ("redis", "rediss", "unix"),
    "media_base_url": ("http", "https"),
    "s3_endpoint": ("http", "https"),
}


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    web_processes: int = 1
    domain: str = ""
    https: bool = False
    database_url: str = ""
    database_pool_size: int = 8
    redis_url: str = ""
    data_dir: Path = field(default_factory=lambda: Path("./var"))
    secret_key: str = ""
    site_name: str = "pinhole"
    contact_email: str = ""
    registrations_open: bool = True
    max_accounts: int = 0
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = ""
    allow_private_addresses: bool = False
    authorized_fetch: bool = False
    delivery_retry_delays: str = "15,60,300,900,1800,3600,7200,10800,14400,21600,28800,36000,43200"
    media_backend: str = "local"
    media_base_url: str = ""
    s3_endpoint: str = ""
    s3_bucket: str = "pinhole-media"
    s3_region: str = "us-east-1"
    s3_access_key: str = ""
    s3_secret_key: str = ""
    s3_path_style: bool = True
    image_max_bytes: int = 40 * 1024 * 1024
    image_max_pixels: int = 100_000_000
    video_max_bytes: int = 200 * 1024 * 1024
    video_max_seconds: int = 600
    queue_name: str = "pinhole:queue"
    redis_prefix: str = "pinhole:"
    log_json: bool = False
    feed_push_threshold: int = 5000
    feed_inactive_days: int = 14
    registration_mode: str = "open"
    federation_mode: str = "blocklist"
    suspension_grace_days: int = 30
    remote_media_max_age_days: int = 30
    remote_media_max_bytes: int = 0
    metrics_token: str = ""
    rate_limit_enabled: bool = True
    rate_limit_api: tuple[int, int] = (300, 300)
    rate_limit_feeds: tuple[int, int] = (100, 60)
    rate_limit_uploads: tuple[int, int] = (30, 1800)
    rate_limit_sign_up: tuple[int, int] = (5, 1800)
    rate_limit_sign_in: tuple[int, int] = (25, 300)
    rate_limit_inbox: tuple[int, int] = (3000, 300)
    trends_enabled: bool = True
    trends_include_remote: bool = True
    trends_require_review: bool = False

    @property
    def scheme(self) -> str:
        return "https" if self.https else "http"

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.domain}"

    @property
    def public_media_url(self) -> str:
        """Where media URLs start: the media base URL when set; else the S3 bucket's own
        address with the s3 backend, or this node's /media with the local one."""
        if self.media_base_url:
            return self.media_base_url.rstrip("/")
        if self.media_backend == "s3":
            return self.s3_bucket_url
        return f"{self.base_url}/media"

    @property
    def s3_bucket_url(self) -> str:
        """The bucket's public address: `endpoint/bucket` (path style) or `bucket.endpoint-host`
        (virtual-hosted); AWS's own endpoint when none is set."""
        endpoint = self.s3_endpoint.rstrip("/")
        if not endpoint:
            region = self.s3_region or "us-east-1"
            endpoint = f"https://s3.{region}.amazonaws.com"
        if self.s3_path_style:
            return f"{endpoint}/{self.s3_bucket}"
        parts = urlsplit(endpoint)
        return f"{parts.scheme}://{self.s3_bucket}.{parts.netloc}{parts.path}"

    @property
    def email_confirmation_required(self) -> bool:
        return bool(self.smtp_host)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        values: dict[str, Any] = {}
        for attr, var, kind, default, _ in SETTINGS_TABLE:
            raw = env.get(var)
            if raw is None or (raw == "" and kind != "str"):
                if default is not None:
                    values[attr] = Path(default) if kind == "path" else default
                continue
            if kind == "bool":
                values[attr] = _parse_bool(var, raw)
            elif kind == "int":
                values[attr] = _parse_int(var, raw)
            elif kind == "path":
                values[attr] = Path(raw)
            elif kind == "rate":
                values[attr] = _parse_rate(var, raw)
            else:
                values[attr] = raw.strip()
        if not 0 < values["port"] < 65536:
            raise SettingsError(f"PINHOLE_PORT must be between 1 and 65535, not {values['port']}")
        if not 1 <= values["database_pool_size"] <= 1000:
            raise SettingsError(
                "PINHOLE_DATABASE_POOL_SIZE must be between 1 and 1000, "
                f"not {values['database_pool_size']}"
            )
        if not 1 <= values["web_processes"] <= 64:
            raise SettingsError(
                f"PINHOLE_WEB_PROCESSES must be between 1 and 64, not {values['web_processes']}"
            )
        domain = values.get("domain") or f"{values['host']}:{values['port']}"
        if "/" in domain or " " in domain or not domain:
            raise SettingsError(
                f"PINHOLE_DOMAIN must be a host name with an optional port, not {domain!r}"
            )
        values["domain"] = domain.lower()
        if "https" not in values:
            values["https"] = not _is_loopback_host(domain)
        if values["media_backend"] not in ("local", "s3"):
            raise SettingsError(
                f"PINHOLE_MEDIA_BACKEND must be local or s3, not {values['media_backend']!r}"
            )
        if values["registration_mode"] not in ("open", "approval", "invite", "closed"):
            raise SettingsError(
                "PINHOLE_REGISTRATION_MODE must be open, approval, invite or closed, "
                f"not {values['registration_mode']!r}"
            )
        if values["federation_mode"] not in ("blocklist", "allowlist"):
            raise SettingsError(
                "PINHOLE_FEDERATION_MODE must be blocklist or allowlist, "
                f"not {values['federation_mode']!r}"
            )
        for attr, schemes in _URL_SCHEMES.items():
            url = values.get(attr, "")
            if url and urlsplit(url).scheme not in schemes:
                var = next(v for a, v, *_ in SETTINGS_TABLE if a == attr)
                raise SettingsError(
                    f"{var} must be a URL starting with {' or '.join(s + '://' for s in schemes)}, "
                    f"not {url!r}"
                )
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})

    def with_secret_key(self) -> Settings:
        """Return settings with a secret key, generating and keeping one in the data folder."""
        if self.secret_key:
            return self
        path = self.data_dir / "secret_key"
        if path.exists():
            key = path.read_text().strip()
        else:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            key = secrets.token_urlsafe(48)
            path.write_text(key)
            path.chmod(0o600)
        return replace(self, secret_key=key)


_current: Settings | None = None


def get_settings() -> Settings:
    """The settings of this process, read once from the environment."""
    global _current
    if _current is None:
        _current = Settings.from_env().with_secret_key()
    return _current


def use_settings(settings: Settings) -> None:
    """Make these the settings of this process (the CLI and tests call this)."""
    global _current
    _current = settings


def markdown_table() -> str:
    """The configuration table of the README, written from SETTINGS_TABLE."""
    lines = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for _, var, _, default, description in SETTINGS_TABLE:
        if isinstance(default, tuple):  # a rate limit: (count, seconds)
            default = f"{default[0]}/{default[1]}s"
        shown = "" if default in (None, "") else f"`{default}`"
        lines.append(f"| `{var}` | {shown} | {description} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table())
