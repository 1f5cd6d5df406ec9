"""The outgoing client's safety rules: no private or loopback addresses unless allowed, bounded
responses, redirects checked at every hop, every request signed."""

from __future__ import annotations

from dataclasses import replace

import pytest

from federation.client import FetchError, ensure_allowed_url, signed_get
from federation.instance_actor import Signer
from node.settings import Settings, get_settings, use_settings
from tests.federation.peers import FakePeer, PeerActor


@pytest.fixture
def settings_with(request: pytest.FixtureRequest):
    """Use settings changed for one test, then put back the ones before."""
    before = get_settings()

    def use(**changes) -> Settings:
        use_settings(replace(before, **changes))
        return get_settings()

    yield use
    use_settings(before)


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/inbox",
        "https://10.1.2.3/inbox",
        "https://192.168.0.10/users/a",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/inbox",
        "https://[::ffff:127.0.0.1]/inbox",
        "https://localhost/inbox",
        "http://93.184.216.34/inbox",
        "ftp://93.184.216.34/file",
        "file:///etc/passwd",
    ],
)
async def test_private_loopback_and_plain_http_are_refused(url: str, settings_with) -> None:
    settings_with(allow_private_addresses=False)
    with pytest.raises(FetchError) as refused:
        await ensure_allowed_url(url)
    assert refused.value.permanent


async def test_public_address_is_allowed(settings_with) -> None:
    settings_with(allow_private_addresses=False)
    await ensure_allowed_url("https://93.184.216.34/users/alice")


async def test_loopback_is_allowed_when_the_setting_says_so(settings_with) -> None:
    settings_with(allow_private_addresses=True)
    await ensure_allowed_url("http://127.0.0.2:8000/inbox")


async def test_responses_are_bounded_and_gets_signed(peer: FakePeer, settings_with) -> None:
    settings_with(allow_private_addresses=True, domain="pinhole.test")
    actor = PeerActor.create(peer, "bounded")
    signer = Signer(actor.key_id, actor.private_pem)
    peer.files["/big.json"] = (b'{"x": "' + b"y" * 200_000 + b'"}', "application/json")
    _, body = await signed_get(f"{peer.origin}/big.json", signer=signer)
    assert len(body) > 200_000
    with pytest.raises(FetchError, match="larger than"):
        await signed_get(f"{peer.origin}/big.json", signer=signer, max_bytes=100_000)
