async def test_instance_answers_with_and_without_trailing_slash(http):
    for path in ("/api/v1/instance", "/api/v1/instance/", "/api/v2/instance", "/api/v2/instance/"):
        response = await http.get(path)
        assert response.status_code == 200, path
    assert (await http.get("/api/v2/instance")).json()["domain"].startswith("127.0.0.1:")


async def test_user_signs_up_and_verifies_credentials(make_user):
    alice = await make_user("alice")
    me = (await alice.get("/api/v1/accounts/verify_credentials")).json()
    assert me["username"] == "alice"
    assert me["acct"] == "alice"
