"""Federation fixtures: a stand-in remote server with signing actors, and waiting for the node's
worker to process what its inbox stored."""

from __future__ import annotations

from collections.abc import AsyncIterator
from itertools import count

import pytest

from tests.federation.peers import FakePeer, PeerActor

_names = count(1)


@pytest.fixture(scope="session")
async def peer() -> AsyncIterator[FakePeer]:
    server = await FakePeer.started("127.0.0.9")
    yield server
    await server.stop()


@pytest.fixture
def remote_actor(peer: FakePeer):
    """Make a remote actor on the fake peer, with a name unique in the session."""

    def make(username: str | None = None, **extra) -> PeerActor:
        return PeerActor.create(peer, username or f"remote{next(_names)}", **extra)

    return make


@pytest.fixture(autouse=True)
def fresh_peer_log(request: pytest.FixtureRequest) -> None:
    """Each test sees only the deliveries made during it."""
    if "peer" in request.fixturenames:
        peer = request.getfixturevalue("peer")
        peer.received.clear()
        peer.fetched.clear()
        peer.answers.clear()
        peer.inbox_status = 202
