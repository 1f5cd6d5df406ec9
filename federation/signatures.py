"""HTTP signatures: draft-cavage and RFC 9421 signing and verifying, with no I/O of its own.

A `SignatureChecker` is handed a key lookup (an async function of the key id) so that fetching
and caching keys stays at the edge; everything here is computation on the request's parts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from email.utils import format_datetime, parsedate_to_datetime
from functools import lru_cache
from typing import Literal
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from federation.structured_fields import (
    InnerList,
    Item,
    StructuredFieldError,
    parse_dictionary,
    serialize_bare_item,
    serialize_inner_list,
    serialize_params,
)

PublicKeyType = rsa.RSAPublicKey | ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey
PrivateKeyType = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey

MAX_AGE_SECONDS = 3600  # a Date this far in the past is stale (queues and clocks lag)
MAX_FUTURE_SECONDS = 300  # clocks ahead of ours by a few minutes are tolerated
ACTIVITY_JSON = "application/activity+json"


class SignatureError(Exception):
    """The request's signature is missing, malformed, stale, or does not verify."""


@dataclass(frozen=True)
class PublicKey:
    """A remote public key and the actor that owns it."""

    key_id: str
    owner: str
    key: PublicKeyType


@dataclass(frozen=True)
class IncomingRequest:
    """What a verifier needs of a request: `url` is absolute, as the sender addressed it."""

    method: str
    url: str
    headers: Mapping[str, str]  # lowercase names; repeated headers joined with ", "
    body: bytes = b""


@dataclass(frozen=True)
class VerifiedSignature:
    key_id: str
    owner: str
    scheme: Literal["cavage", "rfc9421"]


# (key_id, refresh) -> key or None; refresh=True asks for a fresh copy (key rotation).
KeyLookup = Callable[[str, bool], Awaitable[PublicKey | None]]


@lru_cache(maxsize=4096)
def load_public_key(pem: str) -> PublicKeyType:
    try:
        key = serialization.load_pem_public_key(pem.strip().encode())
    except (ValueError, UnsupportedAlgorithm, TypeError):
        raise SignatureError("the public key is not a valid PEM key") from None
    if not isinstance(key, rsa.RSAPublicKey | ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey):
        raise SignatureError("the public key is of an unsupported type")
    return key


@lru_cache(maxsize=1024)
def load_private_key(pem: str) -> PrivateKeyType:
    """Our own keys: skipping RSA's consistency check turns milliseconds into microseconds."""
    key = serialization.load_pem_private_key(
        pem.encode(), password=None, unsafe_skip_rsa_key_validation=True
    )
    if not isinstance(
        key, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
    ):
        raise ValueError("unsupported private key type")
    return key


def http_date(now: float | None = None) -> str:
    from datetime import UTC, datetime

    moment = datetime.fromtimestamp(time.time() if now is None else now, UTC)
    return format_datetime(moment, usegmt=True)


def sha256_digest_header(body: bytes) -> str:
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()


def content_digest_header(body: bytes) -> str:
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode() + ":"


def _authority(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}.get(parts.scheme)
    if parts.port is not None and parts.port != default:
        return f"{host}:{parts.port}"
    return host


def _request_target(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


# --- signing -------------------------------------------------------------------------------


def _sign_bytes(key: PrivateKeyType, data: bytes, alg: str) -> bytes:
    if isinstance(key, rsa.RSAPrivateKey):
        if alg == "rsa-pss-sha512":
            return key.sign(
                data,
                padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64),
                hashes.SHA512(),
            )
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    raise ValueError("signing with this key type is not supported")


def sign_cavage(
    method: str,
    url: str,
    *,
    key_id: str,
    private_key_pem: str,
    body: bytes | None = None,
    content_type: str = ACTIVITY_JSON,
    accept: str = ACTIVITY_JSON,
    now: float | None = None,
) -> dict[str, str]:
    """Headers for a draft-cavage signed request: GET signs `(request-target) host date accept`,
    a request with a body signs `(request-target) host date digest content-type`."""
    key = load_private_key(private_key_pem)
    headers = {"Host": _authority(url), "Date": http_date(now)}
    if body is not None:
        headers["Digest"] = sha256_digest_header(body)
        headers["Content-Type"] = content_type
        signed = ["(request-target)", "host", "date", "digest", "content-type"]
    else:
        headers["Accept"] = accept
        signed = ["(request-target)", "host", "date", "accept"]
    lookup = {name.lower(): value for name, value in headers.items()}
    lines = [
        f"(request-target): {method.lower()} {_request_target(url)}"
        if name == "(request-target)"
        else f"{name}: {lookup[name]}"
        for name in signed
    ]
    algorithm = "rsa-sha256" if isinstance(key, rsa.RSAPrivateKey) else "hs2019"
    signature = base64.b64encode(_sign_bytes(key, "\n".join(lines).encode(), "")).decode()
    headers["Signature"] = (
        f'keyId="{key_id}",algorithm="{algorithm}",headers="{" ".join(signed)}",'
        f'signature="{signature}"'
    )
    return headers


def sign_rfc9421(
    method: str,
    url: str,
    *,
    key_id: str,
    private_key_pem: str,
    body: bytes | None = None,
    components: tuple[str, ...] | None = None,
    alg: str | None = None,
    label: str = "sig1",
    content_type: str = ACTIVITY_JSON,
    now: float | None = None,
) -> dict[str, str]:
    """Headers for an RFC 9421 signed request (`@method @target-uri` and `content-digest`)."""
    key = load_private_key(private_key_pem)
    headers: dict[str, str] = {"Host": _authority(url), "Date": http_date(now)}
    if body is not None:
        headers["Content-Digest"] = content_digest_header(body)
        headers["Content-Type"] = content_type
    if components is None:
        components = ("@method", "@target-uri") + (("content-digest",) if body is not None else ())
    if alg is None:
        alg = "ed25519" if isinstance(key, ed25519.Ed25519PrivateKey) else "rsa-v1_5-sha256"
    params: dict[str, object] = {
        "created": int(time.time() if now is None else now),
        "keyid": key_id,
        "alg": alg,
    }
    inner = InnerList([Item(name) for name in components], params)  # type: ignore[arg-type]
    lower = {name.lower(): value for name, value in headers.items()}
    request = IncomingRequest(method, url, lower, body or b"")
    base = _rfc9421_signature_base(request, inner)
    signature = _sign_bytes(key, base.encode(), alg)
    headers["Signature-Input"] = f"{label}={serialize_inner_list(inner)}"
    headers["Signature"] = f"{label}=:{base64.b64encode(signature).decode()}:"
    return headers


# --- verifying -------------------------------------------------------------------------------


# The RSA schemes peers use, by algorithm name ("" / "hs2019": let the key's type decide).
_RSA_SCHEMES: dict[str, tuple[str, ...]] = {
    "rsa-v1_5-sha256": ("pkcs1-sha256",),
    "rsa-sha256": ("pkcs1-sha256",),
    "rsa-sha512": ("pkcs1-sha512",),
    "rsa-pss-sha512": ("pss-sha512",),
    "hs2019": ("pkcs1-sha256", "pss-sha512"),
    "": ("pkcs1-sha256", "pss-sha512"),
}
# Padding and hash objects hold no state: made once, not per signature.
_PKCS1 = padding.PKCS1v15()
_PSS_SHA512 = padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=padding.PSS.AUTO)
_RSA_VERIFY_ARGS = {
    "pkcs1-sha256": (_PKCS1, hashes.SHA256()),
    "pkcs1-sha512": (_PKCS1, hashes.SHA512()),
    "pss-sha512": (_PSS_SHA512, hashes.SHA512()),
}


def _verify_bytes(key: PublicKeyType, signature: bytes, data: bytes, alg: str) -> bool:
    """Whether `signature` over `data` verifies with `key` under algorithm `alg`.

    `alg` is the RFC 9421 name, or "" / "hs2019" to let the key's type decide (trying the
    algorithms peers actually use with that key type).
    """
    try:
        if isinstance(key, rsa.RSAPublicKey):
            for scheme in _RSA_SCHEMES.get(alg, ()):
                try:
                    key.verify(signature, data, *_RSA_VERIFY_ARGS[scheme])
                    return True
                except InvalidSignature:
                    continue
            return False
        if isinstance(key, ed25519.Ed25519PublicKey):
            if alg not in ("ed25519", "hs2019", ""):
                return False
            key.verify(signature, data)
            return True
        if isinstance(key, ec.EllipticCurvePublicKey):
            curve_hash = {"secp256r1": hashes.SHA256(), "secp384r1": hashes.SHA384()}.get(
                key.curve.name
            )
            expected = {"secp256r1": "ecdsa-p256-sha256", "secp384r1": "ecdsa-p384-sha384"}.get(
                key.curve.name
            )
            if curve_hash is None or alg not in (expected, "hs2019", ""):
                return False
            size = (key.curve.key_size + 7) // 8
            der = signature
            if len(signature) == 2 * size:  # RFC 9421 sends r || s, not DER
                der = encode_dss_signature(
                    int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
                )
            key.verify(der, data, ec.ECDSA(curve_hash))
            return True
    except (InvalidSignature, ValueError):
        return False
    return False


_CAVAGE_PARAM = re.compile(r'\s*([A-Za-z]+)\s*=\s*(?:"([^"]*)"|([^,\s]*))\s*(?:,|$)')


def parse_cavage_signature(header: str) -> dict[str, str]:
    """The parameters of a draft-cavage `Signature` header (or `Authorization: Signature …`)."""
    if header[:10].lower() == "signature ":
        header = header[10:]
    params: dict[str, str] = {}
    pos = 0
    while pos < len(header):
        match = _CAVAGE_PARAM.match(header, pos)
        if not match or match.end() == pos:
            raise SignatureError("the Signature header is malformed")
        name = match.group(1)
        value = match.group(2) if match.group(2) is not None else match.group(3)
        params.setdefault(name, value)
        pos = match.end()
    for required in ("keyId", "signature"):
        if not params.get(required):
            raise SignatureError(f"the Signature header has no {required}")
    return params


_DIGEST_ALGORITHMS = {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}


def check_digest(header: str, body: bytes) -> None:
    """Check a `Digest` header (`SHA-256=base64`, names in any case) against the body."""
    checked = False
    for part in header.split(","):
        name, sep, value = part.strip().partition("=")
        digest = _DIGEST_ALGORITHMS.get(name.strip().lower())
        if not sep or digest is None:
            continue
        try:
            claimed = base64.b64decode(value.strip(), validate=True)
        except ValueError:
            raise SignatureError("the Digest header is malformed") from None
        if not hmac.compare_digest(claimed, digest(body).digest()):
            raise SignatureError("the Digest does not match the body")
        checked = True
    if not checked:
        raise SignatureError("the Digest header has no SHA-256 or SHA-512 value")


def check_content_digest(header: str, body: bytes) -> None:
    """Check an RFC 9530 `Content-Digest` header (`sha-256=:base64:`) against the body."""
    try:
        members = parse_dictionary(header)
    except StructuredFieldError:
        raise SignatureError("the Content-Digest header is malformed") from None
    checked = False
    for name, member in members.items():
        digest = _DIGEST_ALGORITHMS.get(name)
        if digest is None or not isinstance(member, Item) or not isinstance(member.value, bytes):
            continue
        if not hmac.compare_digest(member.value, digest(body).digest()):
            raise SignatureError("the Content-Digest does not match the body")
        checked = True
    if not checked:
        raise SignatureError("the Content-Digest header has no sha-256 or sha-512 value")


@lru_cache(maxsize=1024)
def _http_date_timestamp(raw: str) -> float | None:
    """The moment an HTTP Date names, or None when malformed. Deliveries sent in the same
    second carry the same Date, so parsing is cached (the window is checked every time)."""
    try:
        return parsedate_to_datetime(raw).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def _has_body(request: IncomingRequest) -> bool:
    return request.method.upper() not in ("GET", "HEAD") or bool(request.body)


def _cavage_signing_string(
    request: IncomingRequest, names: list[str], params: Mapping[str, str], target: str
) -> str:
    lines = []
    for name in names:
        if name == "(request-target)":
            lines.append(f"(request-target): {request.method.lower()} {target}")
        elif name in ("(created)", "(expires)"):
            value = params.get(name[1:-1])
            if not value:
                raise SignatureError(f"{name} is signed but the parameter is missing")
            lines.append(f"{name}: {value}")
        else:
            if name not in request.headers:
                raise SignatureError(f"the signed header {name} is missing")
            lines.append(f"{name}: {request.headers[name].strip()}")
    return "\n".join(lines)


def _rfc9421_component(request: IncomingRequest, item: Item) -> str:
    name = item.value
    if not isinstance(name, str):
        raise SignatureError("a covered component is not a string")
    parts = urlsplit(request.url)
    if name.startswith("@"):
        if name == "@method":
            return request.method.upper()
        if name == "@target-uri":
            return request.url
        if name == "@authority":
            return _authority(request.url)
        if name == "@scheme":
            return parts.scheme.lower()
        if name == "@request-target":
            return _request_target(request.url)
        if name == "@path":
            return parts.path or "/"
        if name == "@query":
            return f"?{parts.query}"
        raise SignatureError(f"the component {name} is not supported")
    if item.params:
        raise SignatureError(f"parameters on the component {name} are not supported")
    if name not in request.headers:
        raise SignatureError(f"the covered header {name} is missing")
    return request.headers[name].strip()


def _rfc9421_signature_base(request: IncomingRequest, inner: InnerList) -> str:
    lines = []
    for item in inner.items:
        identifier = serialize_bare_item(item.value) + serialize_params(item.params)
        lines.append(f"{identifier}: {_rfc9421_component(request, item)}")
    lines.append(f'"@signature-params": {serialize_inner_list(inner)}')
    return "\n".join(lines)


@dataclass(frozen=True)
class _Candidate:
    """One parsed signature, ready to verify against a key."""

    key_id: str
    alg: str
    signature: bytes
    payloads: tuple[bytes, ...]  # acceptable signing strings (query-string variants)
    scheme: Literal["cavage", "rfc9421"]


class SignatureChecker:
    """Verifies a request's HTTP signature, fetching keys through the lookup it is given."""

    def __init__(
        self,
        key_lookup: KeyLookup,
        *,
        clock: Callable[[], float] = time.time,
        max_age: int = MAX_AGE_SECONDS,
        max_future: int = MAX_FUTURE_SECONDS,
    ) -> None:
        self.key_lookup = key_lookup
        self.clock = clock
        self.max_age = max_age
        self.max_future = max_future

    def candidates(self, request: IncomingRequest) -> list[_Candidate]:
        """Parse and check everything that needs no key: required parts, freshness, digests."""
        headers = request.headers
        if headers.get("signature-input") and headers.get("signature"):
            return self._rfc9421_candidates(request)
        raw = headers.get("signature") or ""
        if not raw and headers.get("authorization", "")[:10].lower() == "signature ":
            raw = headers["authorization"]
        if not raw:
            raise SignatureError("the request is not signed")
        return [self._cavage_candidate(request, raw)]

    def _check_time(self, moment: float, what: str) -> None:
        now = self.clock()
        if moment < now - self.max_age:
            raise SignatureError(f"{what} is too far in the past")
        if moment > now + self.max_future:
            raise SignatureError(f"{what} is in the future")

    def _check_date(self, headers: Mapping[str, str]) -> None:
        sent = _http_date_timestamp(headers.get("date", ""))
        if sent is None:
            raise SignatureError("the Date header is missing or malformed")
        self._check_time(sent, "the Date header")

    def _cavage_candidate(self, request: IncomingRequest, raw: str) -> _Candidate:
        params = parse_cavage_signature(raw)
        names = (params.get("headers") or "date").lower().split()
        if "date" not in names and "(created)" not in names:
            raise SignatureError("the Date header or (created) must be signed")
        if "(request-target)" not in names and "digest" not in names:
            raise SignatureError("(request-target) must be signed")
        if request.method.upper() in ("GET", "HEAD") and "host" not in names:
            raise SignatureError("the Host header must be signed on a GET")
        if _has_body(request) and "digest" not in names:
            raise SignatureError("the Digest header must be signed on a POST")
        if "date" in names:
            self._check_date(request.headers)
        if "(created)" in names:
            try:
                self._check_time(int(params.get("created", "")), "(created)")
            except ValueError:
                raise SignatureError("(created) is not a number") from None
        if params.get("expires"):
            try:
                expired = float(params["expires"]) < self.clock()
            except ValueError:
                raise SignatureError("(expires) is not a number") from None
            if expired:
                raise SignatureError("the signature has expired")
        if "digest" in names:
            check_digest(request.headers.get("digest", ""), request.body)
        algorithm = (params.get("algorithm") or "hs2019").lower()
        if algorithm not in ("rsa-sha256", "rsa-sha512", "hs2019", "ed25519"):
            raise SignatureError(f"the algorithm {algorithm} is not supported")
        try:
            signature = base64.b64decode(params["signature"], validate=True)
        except ValueError:
            raise SignatureError("the signature is not base64") from None
        # Some senders sign the path without its query string; accept either.
        targets = [_request_target(request.url)]
        bare_path = urlsplit(request.url).path or "/"
        if bare_path != targets[0]:
            targets.append(bare_path)
        payloads = tuple(
            _cavage_signing_string(request, names, params, target).encode() for target in targets
        )
        return _Candidate(params["keyId"], algorithm, signature, payloads, "cavage")

    def _rfc9421_candidates(self, request: IncomingRequest) -> list[_Candidate]:
        try:
            inputs = parse_dictionary(request.headers["signature-input"])
            signatures = parse_dictionary(request.headers["signature"])
        except StructuredFieldError as exc:
            raise SignatureError(
                f"the Signature-Input or Signature header is malformed: {exc}"
            ) from None
        candidates: list[_Candidate] = []
        problem: SignatureError | None = None
        for label, inner in inputs.items():
            signature = signatures.get(label)
            if not isinstance(inner, InnerList) or not isinstance(signature, Item):
                continue
            try:
                candidates.append(self._rfc9421_candidate(request, inner, signature))
            except SignatureError as exc:
                problem = problem or exc
        if not candidates:
            raise problem or SignatureError("no signature in Signature-Input has a value")
        return candidates

    def _rfc9421_candidate(
        self, request: IncomingRequest, inner: InnerList, signature: Item
    ) -> _Candidate:
        if not isinstance(signature.value, bytes):
            raise SignatureError("the signature is not a byte sequence")
        covered = {item.value for item in inner.items}
        key_id = inner.params.get("keyid")
        if not isinstance(key_id, str) or not key_id:
            raise SignatureError("the signature has no keyid")
        if "@method" not in covered:
            raise SignatureError("@method must be covered")
        if "@target-uri" not in covered and not (
            "@authority" in covered and ({"@path", "@request-target"} & covered)
        ):
            raise SignatureError("@target-uri (or @authority and @path) must be covered")
        if _has_body(request) and not ({"content-digest", "digest"} & covered):
            raise SignatureError("content-digest must be covered on a POST")
        created = inner.params.get("created")
        if isinstance(created, int) and not isinstance(created, bool):
            self._check_time(created, "created")
        elif "date" in covered:
            self._check_date(request.headers)
        else:
            raise SignatureError("the signature has no created parameter")
        expires = inner.params.get("expires")
        if isinstance(expires, int) and expires < self.clock():
            raise SignatureError("the signature has expired")
        if "content-digest" in covered:
            check_content_digest(request.headers.get("content-digest", ""), request.body)
        if "digest" in covered:
            check_digest(request.headers.get("digest", ""), request.body)
        alg = inner.params.get("alg", "")
        if not isinstance(alg, str):
            raise SignatureError("alg is not a string")
        if alg and alg not in (
            "rsa-v1_5-sha256",
            "rsa-pss-sha512",
            "ed25519",
            "ecdsa-p256-sha256",
            "ecdsa-p384-sha384",
        ):
            raise SignatureError(f"the algorithm {alg} is not supported")
        base = _rfc9421_signature_base(request, inner).encode()
        return _Candidate(key_id, alg, signature.value, (base,), "rfc9421")

    @staticmethod
    def _matches(candidate: _Candidate, key: PublicKey) -> bool:
        return any(
            _verify_bytes(key.key, candidate.signature, payload, candidate.alg)
            for payload in candidate.payloads
        )

    async def verify(
        self, request: IncomingRequest, candidates: list[_Candidate] | None = None
    ) -> VerifiedSignature:
        """The verified key and its owner; SignatureError when anything is wrong.

        A key that fails is looked up once more with refresh=True, since the sender may have
        rotated it; the lookup decides whether a refetch is allowed (cool-off).
        """
        problem: SignatureError | None = None
        for candidate in candidates if candidates is not None else self.candidates(request):
            key = await self.key_lookup(candidate.key_id, False)
            if key is not None and self._matches(candidate, key):
                return VerifiedSignature(key.key_id, key.owner, candidate.scheme)
            fresh = await self.key_lookup(candidate.key_id, True)
            changed = fresh is not None and (key is None or fresh.key != key.key)
            if changed and self._matches(candidate, fresh):
                return VerifiedSignature(fresh.key_id, fresh.owner, candidate.scheme)
            if key is None and fresh is None:
                problem = SignatureError(f"the key {candidate.key_id} could not be found")
            else:
                problem = SignatureError("the signature does not verify")
        raise problem or SignatureError("the request is not signed")
