"""Keyset pages over a time-sortable id column: the max_id / since_id / min_id window in SQL."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Window:
    """Which slice of a newest-first list to read: ids below max_id and above since_id (the
    newest of them), or the oldest ones above min_id (to walk towards the present)."""

    max_id: int | None = None
    since_id: int | None = None
    min_id: int | None = None
    limit: int = 20

    def sql(self, column: str, args: list[object]) -> tuple[str, str]:
        """(conditions to AND into a WHERE, ORDER BY … LIMIT …), appending to `args`."""
        conditions = []
        for value, op in ((self.max_id, "<"), (self.since_id, ">"), (self.min_id, ">")):
            if value is not None:
                args.append(value)
                conditions.append(f"{column} {op} ${len(args)}")
        args.append(self.limit)
        direction = "ASC" if self.ascending else "DESC"
        return (
            " AND ".join(conditions) or "TRUE",
            f"ORDER BY {column} {direction} LIMIT ${len(args)}",
        )

    @property
    def ascending(self) -> bool:
        return self.min_id is not None

    def newest_first(self, items: list) -> list:
        """Rows read in this window's order, put newest first as every list is shown."""
        return list(reversed(items)) if self.ascending else items
