"""The notifications page: likes, comments, follows and requests, newest first, marked read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from litestar import Request, Response, get

from node import notifications
from node.cursors import Window
from node.ids import parse_id
from timeline import markers
from web.presenters import card
from web.render import page
from web.sessions import require_session

PAGE_SIZE = 30
# What each type says after the sender's name.
PHRASES = {
    "favourite": "liked your post.",
    "reblog": "boosted your post.",
    "mention": "mentioned you:",
    "status": "shared a new post.",
    "follow": "started following you.",
    "follow_request": "asked to follow you.",
    "update": "edited a post you interacted with.",
    "poll": "A poll you voted in has ended.",
    "admin.sign_up": "signed up.",
    "admin.report": "filed a report.",
}


def _period(created: datetime) -> str:
    age = datetime.now(UTC) - created
    if age < timedelta(days=1):
        return "Today"
    if age < timedelta(days=7):
        return "This week"
    if age < timedelta(days=30):
        return "This month"
    return "Earlier"


@get("/notifications")
async def notifications_page(request: Request) -> Response:
    session = await require_session(request)
    max_id = parse_id(request.query_params.get("max_id"))
    window = Window(max_id=max_id, limit=PAGE_SIZE)
    rows = await notifications.page(session.account_id, notifications.Filter(), window)
    seen = await markers.markers(session.account_id, ["notifications"])
    last_read = seen["notifications"]["last_read_id"] if "notifications" in seen else 0
    items = []
    for item in await notifications.views(rows, session.account_id):
        phrase = PHRASES.get(item.row["type"], "")
        if (
            item.row["type"] == "mention"
            and item.status is not None
            and item.status.post["in_reply_to_account_id"] == session.account_id
        ):
            phrase = "commented:"
        items.append(
            {
                "view": item,
                "type": item.row["type"],
                "phrase": phrase,
                "card": card(item.status) if item.status else None,
                "unread": item.row["id"] > last_read,
                "period": _period(item.row["created_at"]),
            }
        )
    if rows and max_id is None:
        # Opening the newest page reads everything up to its newest notification.
        await markers.save_markers(session.account_id, {"notifications": rows[0]["id"]})
    request.state.unread_notifications = 0
    return await page(
        request,
        "notifications.html",
        title="Notifications",
        items=items,
        next_max_id=rows[-1]["id"] if len(rows) == PAGE_SIZE else None,
    )


ROUTES = [notifications_page]
