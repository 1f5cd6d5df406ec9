"""Which slice of a timeline to read: Mastodon's max_id / since_id / min_id window by post id."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    """Posts below max_id and above since_id, newest first; or, with min_id, the oldest ones
    above it (walking towards the present), still shown newest first."""

    max_id: int | None = None
    since_id: int | None = None
    min_id: int | None = None
    limit: int = 20

    @property
    def ascending(self) -> bool:
        return self.min_id is not None

    @property
    def low(self) -> int | None:
        bounds = [b for b in (self.min_id, self.since_id) if b is not None]
        return max(bounds) if bounds else None
