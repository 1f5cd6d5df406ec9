"""Time-sortable 64-bit ids: milliseconds since the Unix epoch in the high bits, a sequence below."""

from __future__ import annotations

import secrets
import threading
import time

SEQUENCE_BITS = 16
_SEQUENCE_MASK = (1 << SEQUENCE_BITS) - 1

_lock = threading.Lock()
_last_ms = 0
_sequence = 0
_issued_this_ms = 0


def new_id() -> int:
    """A new id; ids made later in this process sort higher.

    Each millisecond's sequence starts at a random point so that several processes rarely
    meet; the primary key catches the rare clash.
    """
    global _last_ms, _sequence, _issued_this_ms
    with _lock:
        now = int(time.time() * 1000)
        if now > _last_ms:
            _last_ms, _sequence, _issued_this_ms = now, secrets.randbits(SEQUENCE_BITS), 0
        else:
            _issued_this_ms += 1
            if _issued_this_ms > _SEQUENCE_MASK:
                _last_ms, _issued_this_ms = _last_ms + 1, 0
            _sequence = (_sequence + 1) & _SEQUENCE_MASK
        return (_last_ms << SEQUENCE_BITS) | _sequence


def id_for_time(ms: int) -> int:
    """An id for something made at another time (a remote post keeps its published time)."""
    return (ms << SEQUENCE_BITS) | secrets.randbits(SEQUENCE_BITS)


def id_time_ms(value: int) -> int:
    return value >> SEQUENCE_BITS


def parse_id(raw: object) -> int | None:
    """An id from a path or query value; None when it is not a well-formed id."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw if 0 < raw < 1 << 63 else None
    if isinstance(raw, str) and raw.isdigit() and len(raw) <= 19:
        value = int(raw)
        return value if 0 < value < 1 << 63 else None
    return None
