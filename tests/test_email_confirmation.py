"""With a mail server configured, a new account confirms its email address before signing in."""

import asyncio
import re
from email import message_from_bytes, policy

import httpx
import pytest

from tests.rig import NodeProcess, free_port, register_app


class MailSink:
    """A minimal SMTP server that keeps every message it is sent."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.port = free_port()
        self.server: asyncio.Server | None = None

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._session, "127.0.0.1", self.port)

    async def stop(self) -> None:
        if self.server:
            self.server.close()
            await self.server.wait_closed()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def reply(line: str) -> None:
            writer.write(f"{line}\r\n".encode())
            await writer.drain()

        await reply("220 sink ready")
        while line := await reader.readline():
            command = line.decode(errors="replace").strip().upper()
            if command.startswith(("EHLO", "HELO")):
                await reply("250 sink")
            elif command == "DATA":
                await reply("354 go ahead")
                body = b""
                while (chunk := await reader.readline()) not in (b".\r\n", b""):
                    body += chunk
                self.messages.append(body)
                await reply("250 kept")
            elif command == "QUIT":
                await reply("221 bye")
                break
            else:
                await reply("250 ok")
        writer.close()


@pytest.fixture
async def mail_node(services):
    sink = MailSink()
    await sink.start()
    node = NodeProcess.configure(
        database_url=await services.create_database(),
        redis_url=services.redis_url,
        extra_env={"PINHOLE_SMTP_HOST": "127.0.0.1", "PINHOLE_SMTP_PORT": str(sink.port)},
    )
    await asyncio.to_thread(node.start)
    yield node, sink
    await asyncio.to_thread(node.stop)
    await sink.stop()


async def test_new_account_must_confirm_its_email_before_signing_in(mail_node):
    node, sink = mail_node
    async with httpx.AsyncClient(base_url=node.url, timeout=30) as http:
        app = await register_app(http)
        app_token = (
            await http.post(
                "/oauth/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": app["client_id"],
                    "client_secret": app["client_secret"],
                    "scope": "read write follow push",
                },
            )
        ).json()["access_token"]
        signed_up = await http.post(
            "/api/v1/accounts",
            headers={"Authorization": f"Bearer {app_token}"},
            json={
                "username": "carol",
                "email": "carol@example.com",
                "password": "long enough",
                "agreement": True,
            },
        )
        assert signed_up.status_code == 200

        password_grant = {
            "grant_type": "password",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "username": "carol@example.com",
            "password": "long enough",
            "scope": "read",
        }
        refused = await http.post("/oauth/token", data=password_grant)
        assert refused.status_code == 403
        assert "confirmed" in refused.json()["error_description"]

        for _ in range(100):
            if sink.messages:
                break
            await asyncio.sleep(0.1)
        message = message_from_bytes(sink.messages[0], policy=policy.default)
        assert message["To"] == "carol@example.com"
        link = re.search(r"http://\S+confirmation_token=\S+", message.get_content()).group(0)
        assert (await http.get(link)).status_code == 200
        assert (await http.get(link)).status_code == 404
        assert (await http.post("/oauth/token", data=password_grant)).status_code == 200
