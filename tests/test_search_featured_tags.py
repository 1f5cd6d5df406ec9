"""Featured hashtags on profiles through the real API: feature, list (with counts), suggestions,
remove, and the limits."""

from __future__ import annotations

from node.settings import get_settings
from tests.test_search import publish


async def test_featured_hashtags_show_on_the_profile_with_counts(make_user, http):
    alice = await make_user("alice")
    await publish(alice, status="#Film one")
    await publish(alice, status="#film two #Lisbon")
    await publish(alice, status="#film three")
    await publish(alice, status="private #film", visibility="private")
    await publish(alice, status="#Lisbon at night")
    await publish(alice, status="#Lisbon again")

    suggestions = (await alice.get("/api/v1/featured_tags/suggestions")).json()
    assert [tag["name"] for tag in suggestions] == ["Film", "Lisbon"]  # most used first
    assert suggestions[0]["history"][0]["uses"] == "3"  # public and unlisted uses only

    featured = await alice.post("/api/v1/featured_tags", data={"name": "#film"})
    assert featured.status_code == 200, featured.text
    film = featured.json()
    assert film["name"] == "Film" and film["statuses_count"] == "3"
    assert film["url"] == f"{get_settings().base_url}/@alice/tagged/film"
    assert film["last_status_at"] is not None
    assert (await alice.post("/api/v1/featured_tags", json={"name": "Sunrise"})).status_code == 200

    listed = (await http.get(f"/api/v1/accounts/{alice.account_id}/featured_tags")).json()
    assert [(t["name"], t["statuses_count"]) for t in listed] == [("Film", "3"), ("Sunrise", "0")]
    assert [t["name"] for t in (await alice.get("/api/v1/featured_tags")).json()] == [
        "Film",
        "Sunrise",
    ]
    assert [t["name"] for t in (await alice.get("/api/v1/featured_tags/suggestions")).json()] == [
        "Lisbon"
    ]
    tag = (await alice.get("/api/v1/tags/film")).json()
    assert tag["featuring"] is True

    removed = await alice.client.delete(f"/api/v1/featured_tags/{film['id']}")
    assert removed.status_code == 200 and removed.json() == {}
    assert [t["name"] for t in (await alice.get("/api/v1/featured_tags")).json()] == ["Sunrise"]


async def test_featured_hashtag_limits_and_bad_input(make_user):
    alice, bob = await make_user("alice"), await make_user("bob")
    for bad in ("", "not a tag", "###", "123"):
        response = await alice.post("/api/v1/featured_tags", data={"name": bad})
        assert response.status_code == 422, bad
        assert "name" in response.json()["error"]
    first = (await alice.post("/api/v1/featured_tags", data={"name": "one"})).json()
    again = await alice.post("/api/v1/featured_tags", data={"name": "ONE"})
    assert again.status_code == 422 and "already" in again.json()["error"]
    for n in range(2, 11):
        assert (
            await alice.post("/api/v1/featured_tags", data={"name": f"t{n}"})
        ).status_code == 200
    eleventh = await alice.post("/api/v1/featured_tags", data={"name": "t11"})
    assert eleventh.status_code == 422 and "10" in eleventh.json()["error"]
    # Someone else's featured tag, or none: 404.
    assert (await bob.client.delete(f"/api/v1/featured_tags/{first['id']}")).status_code == 404
    assert (await alice.client.delete("/api/v1/featured_tags/nope")).status_code == 404
    assert (await bob.get("/api/v1/accounts/999/featured_tags")).status_code == 404
