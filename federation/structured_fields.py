"""RFC 8941 structured field values: the parsing and serialising RFC 9421 signatures need."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field

_TOKEN_START = re.compile(r"[A-Za-z*]")
_TOKEN_CHAR = re.compile(r"[A-Za-z0-9!#$%&'*+\-.^_`|~:/]")
_KEY_START = re.compile(r"[a-z*]")
_KEY_CHAR = re.compile(r"[a-z0-9_\-.*]")


class StructuredFieldError(ValueError):
    """A header value that is not a valid structured field."""


@dataclass(frozen=True)
class Token:
    value: str


BareItem = int | float | str | bytes | bool | Token


@dataclass
class Item:
    value: BareItem
    params: dict[str, BareItem] = field(default_factory=dict)


@dataclass
class InnerList:
    items: list[Item]
    params: dict[str, BareItem] = field(default_factory=dict)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip_sp(self) -> None:
        while self.peek() == " ":
            self.pos += 1

    def skip_ows(self) -> None:
        while self.peek() in (" ", "\t") and self.peek():
            self.pos += 1

    def key(self) -> str:
        if not _KEY_START.match(self.peek()):
            raise StructuredFieldError(f"a key must start with a lowercase letter at {self.pos}")
        start = self.pos
        while self.peek() and _KEY_CHAR.match(self.peek()):
            self.pos += 1
        return self.text[start : self.pos]

    def params(self) -> dict[str, BareItem]:
        params: dict[str, BareItem] = {}
        while self.peek() == ";":
            self.pos += 1
            self.skip_sp()
            name = self.key()
            value: BareItem = True
            if self.peek() == "=":
                self.pos += 1
                value = self.bare_item()
            params[name] = value
        return params

    def bare_item(self) -> BareItem:
        char = self.peek()
        if char == '"':
            return self.string()
        if char == ":":
            return self.binary()
        if char == "?":
            return self.boolean()
        if char == "-" or char.isdigit():
            return self.number()
        if _TOKEN_START.match(char or " "):
            return self.token()
        raise StructuredFieldError(f"unexpected {char!r} at {self.pos}")

    def string(self) -> str:
        self.pos += 1
        out = []
        while True:
            char = self.peek()
            if not char:
                raise StructuredFieldError("unterminated string")
            self.pos += 1
            if char == "\\":
                escaped = self.peek()
                if escaped not in ('"', "\\"):
                    raise StructuredFieldError("bad escape in string")
                out.append(escaped)
                self.pos += 1
            elif char == '"':
                return "".join(out)
            elif not (" " <= char <= "~"):
                raise StructuredFieldError("non-printable character in string")
            else:
                out.append(char)

    def binary(self) -> bytes:
        self.pos += 1
        end = self.text.find(":", self.pos)
        if end < 0:
            raise StructuredFieldError("unterminated byte sequence")
        raw = self.text[self.pos : end]
        self.pos = end + 1
        try:
            return base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)
        except ValueError:
            raise StructuredFieldError("byte sequence is not base64") from None

    def boolean(self) -> bool:
        self.pos += 1
        char = self.peek()
        if char not in ("0", "1"):
            raise StructuredFieldError("bad boolean")
        self.pos += 1
        return char == "1"

    def number(self) -> int | float:
        match = re.compile(r"-?\d{1,15}(\.\d{1,3})?").match(self.text, self.pos)
        if not match:
            raise StructuredFieldError(f"bad number at {self.pos}")
        self.pos = match.end()
        return float(match.group(0)) if match.group(1) else int(match.group(0))

    def token(self) -> Token:
        start = self.pos
        self.pos += 1
        while self.peek() and _TOKEN_CHAR.match(self.peek()):
            self.pos += 1
        return Token(self.text[start : self.pos])

    def item_or_inner_list(self) -> Item | InnerList:
        if self.peek() == "(":
            self.pos += 1
            items: list[Item] = []
            while True:
                self.skip_sp()
                if self.peek() == ")":
                    self.pos += 1
                    return InnerList(items, self.params())
                if not self.peek():
                    raise StructuredFieldError("unterminated inner list")
                value = self.bare_item()
                items.append(Item(value, self.params()))
                if self.peek() not in (" ", ")"):
                    raise StructuredFieldError(f"unexpected {self.peek()!r} in inner list")
        value = self.bare_item()
        return Item(value, self.params())

    def dictionary(self) -> dict[str, Item | InnerList]:
        members: dict[str, Item | InnerList] = {}
        self.skip_sp()
        while self.peek():
            name = self.key()
            if self.peek() == "=":
                self.pos += 1
                members[name] = self.item_or_inner_list()
            else:
                members[name] = Item(True, self.params())
            self.skip_ows()
            if not self.peek():
                break
            if self.peek() != ",":
                raise StructuredFieldError(f"expected a comma at {self.pos}")
            self.pos += 1
            self.skip_ows()
            if not self.peek():
                raise StructuredFieldError("trailing comma")
        return members


def parse_dictionary(text: str) -> dict[str, Item | InnerList]:
    """A structured-field dictionary (`Signature-Input`, `Signature`, `Content-Digest`)."""
    return _Parser(text.strip()).dictionary()


def serialize_bare_item(value: BareItem) -> str:
    if isinstance(value, bool):
        return "?1" if value else "?0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".") if value % 1 else f"{value:.1f}"
    if isinstance(value, Token):
        return value.value
    if isinstance(value, bytes):
        return ":" + base64.b64encode(value).decode() + ":"
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def serialize_params(params: dict[str, BareItem]) -> str:
    return "".join(
        f";{name}" if value is True else f";{name}={serialize_bare_item(value)}"
        for name, value in params.items()
    )


def serialize_item(item: Item) -> str:
    return serialize_bare_item(item.value) + serialize_params(item.params)


def serialize_inner_list(inner: InnerList) -> str:
    return (
        "("
        + " ".join(serialize_item(i) for i in inner.items)
        + ")"
        + serialize_params(inner.params)
    )
