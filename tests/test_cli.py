"""The `pinhole` command as an operator uses it: settings errors, user creation, the embedded default."""

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil

from tests.rig import free_port


def _pinhole(*args: str, env: dict[str, str], cwd: Path | None = None, timeout: float = 120):
    return subprocess.run(
        [sys.executable, "-m", "node.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PINHOLE_")}
    env.update(extra)
    return env


def test_malformed_setting_stops_the_start_and_names_it():
    result = _pinhole("run", env=_clean_env(PINHOLE_PORT="eighty"))
    assert result.returncode == 2
    assert "PINHOLE_PORT" in result.stderr
    result = _pinhole("run", env=_clean_env(PINHOLE_HTTPS="sometimes"))
    assert result.returncode == 2
    assert "PINHOLE_HTTPS" in result.stderr


async def test_admin_create_user_makes_an_account_that_can_sign_in(node, http):
    result = _pinhole(
        "admin",
        "create-user",
        "root_admin",
        "--email",
        "admin@example.com",
        "--password",
        "a long admin password",
        "--admin",
        env=node.env,
    )
    assert result.returncode == 0, result.stderr
    app = (
        await http.post(
            "/api/v1/apps",
            data={"client_name": "cli", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"},
        )
    ).json()
    token = await http.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "username": "root_admin",
            "password": "a long admin password",
            "scope": "read",
        },
    )
    assert token.status_code == 200
    me = await http.get(
        "/api/v1/accounts/verify_credentials",
        headers={"Authorization": f"Bearer {token.json()['access_token']}"},
    )
    assert me.json()["role"]["name"] == "Admin"
    duplicate = _pinhole(
        "admin",
        "create-user",
        "root_admin",
        "--email",
        "x@example.com",
        "--password",
        "long enough!",
        env=node.env,
    )
    assert duplicate.returncode == 1
    assert "username" in duplicate.stderr


def _start_embedded(data_dir: Path, port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "node.cli", "run", "--port", str(port)],
        env=_clean_env(PINHOLE_DATA_DIR=str(data_dir)),
        cwd=data_dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v2/instance", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError("embedded node did not start")


def _embedded_server_pids(data_dir: Path) -> list[int]:
    marker = str(data_dir.resolve())
    pids = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if marker in cmdline and "node.cli" not in cmdline:
            pids.append(proc.info["pid"])
    return pids


def _sign_up(base: str) -> int:
    app = httpx.post(
        f"{base}/api/v1/apps",
        data={
            "client_name": "t",
            "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
            "scopes": "read write",
        },
    ).json()
    token = httpx.post(
        f"{base}/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "scope": "read write",
        },
    ).json()["access_token"]
    response = httpx.post(
        f"{base}/api/v1/accounts",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "username": "keeper",
            "email": "keeper@example.com",
            "password": "long enough",
            "agreement": True,
        },
        timeout=30,
    )
    return response.status_code


def test_run_with_nothing_configured_starts_embedded_servers_and_keeps_data():
    data_dir = Path(tempfile.mkdtemp(prefix="pinhole-embedded-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = _start_embedded(data_dir, port)
    try:
        assert _embedded_server_pids(data_dir), "embedded servers should run under the data folder"
        assert _sign_up(base) == 200
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    assert "pinhole is running at http://127.0.0.1:" in output
    time.sleep(0.5)
    assert _embedded_server_pids(data_dir) == [], "Ctrl-C stops what pinhole started"

    process = _start_embedded(data_dir, port)
    try:
        found = httpx.get(f"{base}/api/v1/accounts/lookup", params={"acct": "keeper"})
        assert found.status_code == 200, "a second start reuses the data"
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=60)
    time.sleep(0.5)
    assert _embedded_server_pids(data_dir) == []


def _start_web(env: dict[str, str], port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "node.cli", "web"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "pinhole web exited at start"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health/live", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError("pinhole web did not start")


def _serving_processes(parent: subprocess.Popen) -> list[psutil.Process]:
    main = psutil.Process(parent.pid)
    return [main, *main.children()]


def _wait_listening(processes: list[psutil.Process]) -> None:
    deadline = time.monotonic() + 60
    for process in processes:
        while not any(c.status == "LISTEN" for c in process.net_connections()):
            assert time.monotonic() < deadline, "a web process did not listen"
            time.sleep(0.1)


def _gone(processes: list[psutil.Process], timeout: float) -> bool:
    _, alive = psutil.wait_procs(processes, timeout=timeout)
    return not alive


async def test_web_processes_share_the_port_and_stop_together(node):
    port = free_port()
    env = {**node.env, "PINHOLE_PORT": str(port), "PINHOLE_WEB_PROCESSES": "2"}
    web = _start_web(env, port)
    try:
        processes = _serving_processes(web)
        assert len(processes) == 2
        _wait_listening(processes)  # the first answers before the others are up
        # Connections held open at once are spread over both processes by the kernel.
        clients = [httpx.Client(base_url=f"http://127.0.0.1:{port}") for _ in range(24)]
        try:
            for client in clients:
                assert client.get("/health/live").status_code == 200
            serving = [
                p for p in processes if any(c.status == "ESTABLISHED" for c in p.net_connections())
            ]
            assert len(serving) == 2
        finally:
            for client in clients:
                client.close()
    finally:
        web.terminate()
    assert _gone(processes, timeout=20), "stopping the first web process stops the others"

    web = _start_web(env, port)
    processes = _serving_processes(web)
    web.kill()  # no chance to stop the others: they notice on their own
    assert _gone(processes, timeout=20)
