"""What a handler is given (one stored activity with its actor) and what it answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from asyncpg import Record

from federation.vocabulary import id_of, type_of


@dataclass(frozen=True)
class Outcome:
    """The result of handling an activity: `unhandled` for pairs we do not act on."""

    state: Literal["done", "unhandled"]
    detail: str


def done(detail: str) -> Outcome:
    return Outcome("done", detail)


def ignored(detail: str) -> Outcome:
    """Understood but nothing to do (unknown target, not relevant here, a repeat)."""
    return Outcome("done", f"ignored: {detail}")


def unhandled(detail: str) -> Outcome:
    return Outcome("unhandled", detail)


@dataclass(frozen=True)
class InboxActivity:
    row_id: int
    body: dict[str, Any]
    actor: Record  # the sending actor's account
    recipient_account_id: int | None  # the personal inbox it came to (None: shared inbox)

    @property
    def id(self) -> str:
        value = self.body.get("id")
        return value if isinstance(value, str) else ""

    @property
    def type(self) -> str:
        return type_of(self.body)

    @property
    def object(self) -> Any:
        return self.body.get("object")

    @property
    def object_id(self) -> str:
        return id_of(self.object)

    @property
    def object_type(self) -> str:
        return type_of(self.object)
