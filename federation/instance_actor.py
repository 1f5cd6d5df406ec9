"""The instance actor: an Application that stands for the server itself and signs its fetches."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from node import db
from node.accounts import generate_key_pair
from node.settings import get_settings

INSTANCE_ACTOR_PATH = "/actor"


@dataclass(frozen=True)
class Signer:
    """Who signs an outgoing request: a key id and its private key."""

    key_id: str
    private_key_pem: str


def instance_actor_uri() -> str:
    return get_settings().base_url + INSTANCE_ACTOR_PATH


_keys: tuple[str, str] | None = None
_lock = asyncio.Lock()


async def instance_keys() -> tuple[str, str]:
    """(private PEM, public PEM) of the instance actor, made once and kept in the database."""
    global _keys
    if _keys is not None:
        return _keys
    async with _lock:
        if _keys is None:
            row = await db.fetchrow(
                "SELECT private_key_pem, public_key_pem FROM federation_instance_keys "
                "WHERE name = 'instance'"
            )
            if row is None:
                private_pem, public_pem = await asyncio.to_thread(generate_key_pair)
                await db.execute(
                    """INSERT INTO federation_instance_keys (name, private_key_pem, public_key_pem)
                       VALUES ('instance', $1, $2) ON CONFLICT (name) DO NOTHING""",
                    private_pem,
                    public_pem,
                )
                row = await db.fetchrow(
                    "SELECT private_key_pem, public_key_pem FROM federation_instance_keys "
                    "WHERE name = 'instance'"
                )
            _keys = (row["private_key_pem"], row["public_key_pem"])
    return _keys


async def instance_signer() -> Signer:
    private_pem, _ = await instance_keys()
    return Signer(instance_actor_uri() + "#main-key", private_pem)
