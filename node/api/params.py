"""Request parameters from the query string and a JSON, form-encoded or multipart body alike."""

from __future__ import annotations

import json
import re
from typing import Any

from litestar import Request
from litestar.datastructures import UploadFile

from node.errors import BadRequest, Invalid

_BRACKETS = re.compile(r"\[([^\]]*)\]")
MAX_PARAMS = 200


def _assign(target: dict[str, Any], name: str, value: Any) -> None:
    """Set `a[b][]`-style keys as Rails does: `x[]` lists, `x[k]` nested dicts."""
    head, _, rest = name.partition("[")
    parts = [head] + (_BRACKETS.findall("[" + rest) if rest else [])
    node: Any = target
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        nxt = None if last else parts[i + 1]
        if part == "":
            if not isinstance(node, list):
                raise BadRequest(f"malformed parameter name: {name}")
            if last:
                node.append(value)
                return
            node.append({} if nxt else [])
            node = node[-1]
            continue
        if not isinstance(node, dict):
            raise BadRequest(f"malformed parameter name: {name}")
        if last:
            node[part] = value
            return
        if part not in node or not isinstance(node[part], dict | list):
            node[part] = [] if nxt == "" else {}
        node = node[part]


def _from_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    if len(pairs) > MAX_PARAMS:
        raise BadRequest("too many parameters")
    params: dict[str, Any] = {}
    for name, value in pairs:
        _assign(params, name, value)
    return params


async def read_params(request: Request) -> dict[str, Any]:
    """Query parameters overlaid with the body's; a malformed body is a 400 that says so."""
    params = _from_pairs(list(request.query_params.multi_items()))
    if request.method in ("GET", "HEAD"):
        return params
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json" or content_type.endswith("+json"):
        raw = await request.body()
        if raw.strip():
            try:
                body = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                raise BadRequest("malformed JSON body") from None
            if not isinstance(body, dict):
                raise BadRequest("the JSON body must be an object")
            params.update(body)
    elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.form()
        params.update(_from_pairs(list(form.multi_items())))
    return params


def text(
    params: dict[str, Any], name: str, *, default: str | None = None, max_length: int = 5000
) -> str | None:
    value = params.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool | int | float):
        value = str(value)
    if not isinstance(value, str):
        raise Invalid(name, "must be a string")
    if len(value) > max_length:
        raise Invalid(name, f"is too long (maximum is {max_length} characters)")
    return value


def flag(params: dict[str, Any], name: str, *, default: bool | None = None) -> bool | None:
    value = params.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "1", "on", "yes"):
        return True
    if isinstance(value, str) and value.lower() in ("false", "0", "off", "no"):
        return False
    raise Invalid(name, "must be true or false")


def integer(
    params: dict[str, Any],
    name: str,
    *,
    default: int | None = None,
    low: int | None = None,
    high: int | None = None,
) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise Invalid(name, "must be a whole number")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise Invalid(name, "must be a whole number") from None
    if low is not None and number < low:
        raise Invalid(name, f"must be at least {low}")
    if high is not None and number > high:
        raise Invalid(name, f"must be at most {high}")
    return number


def id_list(params: dict[str, Any], name: str, *, max_count: int = 40) -> list[int]:
    """Ids from `name[]=1&name[]=2`, `name=1` or a JSON list; malformed ids are skipped."""
    from node.ids import parse_id

    value = params.get(name, params.get(f"{name}[]"))
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    if len(items) > max_count:
        raise Invalid(name, f"at most {max_count} ids")
    return [i for i in (parse_id(item) for item in items) if i is not None]


def upload(params: dict[str, Any], name: str) -> UploadFile | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, UploadFile):
        raise Invalid(name, "must be a file")
    return value
