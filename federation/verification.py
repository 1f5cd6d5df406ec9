"""Checking the HTTP signature of a request that reached us, with keys from the actor cache."""

from __future__ import annotations

from litestar import Request
from litestar.types import Scope

from federation.actors import lookup_key
from federation.signatures import (
    IncomingRequest,
    SignatureChecker,
    SignatureError,
    VerifiedSignature,
)
from node.settings import get_settings

signature_checker = SignatureChecker(lookup_key)


def incoming_request(request: Request, body: bytes = b"") -> IncomingRequest:
    """The parts of a request a signature covers (see incoming_request_of_scope)."""
    return incoming_request_of_scope(request.scope, body)


def incoming_request_of_scope(scope: Scope, body: bytes = b"") -> IncomingRequest:
    """The parts of a request a signature covers, with the URL as the sender addressed it
    (our public base URL: a TLS-terminating proxy in front does not change what was signed)."""
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    raw_path = scope.get("raw_path") or scope["path"].encode()
    path = raw_path.decode("latin-1") if isinstance(raw_path, bytes) else str(raw_path)
    query = scope.get("query_string", b"").decode("latin-1")
    url = get_settings().base_url + path + (f"?{query}" if query else "")
    return IncomingRequest(scope["method"], url, headers, body)


def is_signed(request: Request) -> bool:
    headers = request.headers
    return bool(
        headers.get("signature")
        or headers.get("signature-input")
        or headers.get("authorization", "")[:10].lower() == "signature "
    )


async def verify_request(request: Request, body: bytes = b"") -> VerifiedSignature:
    """The verified signer of a request; SignatureError when it is unsigned or wrong."""
    return await signature_checker.verify(incoming_request(request, body))


__all__ = ["SignatureError", "is_signed", "verify_request", "incoming_request"]
