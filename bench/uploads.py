"""Upload-to-ready latency under load: concurrent 12 MP JPEG uploads to a real node; prints JSON.

Each client posts its photo to POST /api/v2/media (answered 202 after the cheap checks) and
polls GET /api/v1/media/:id every POLL_SECONDS until it answers 200; upload-to-ready is the
time from sending the upload to that 200. The node is one `pinhole run` process (web and
worker together, the embedded default) on a fresh database, local-disk storage. For
reference, the same photos' processing time alone comes from bench/media.py's measurement.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.media import measure, percentile, photo  # noqa: E402
from tests.rig import NodeProcess, Services, sign_up  # noqa: E402

POLL_SECONDS = 0.05


async def upload_until_ready(client: httpx.AsyncClient, data: bytes) -> dict[str, float]:
    started = time.perf_counter()
    response = await client.post("/api/v2/media", files={"file": ("photo.jpg", data, "image/jpeg")})
    accepted = time.perf_counter()
    if response.status_code != 202:
        raise RuntimeError(f"upload answered {response.status_code}: {response.text}")
    media_id = response.json()["id"]
    while True:
        polled = await client.get(f"/api/v1/media/{media_id}")
        if polled.status_code == 200:
            break
        if polled.status_code != 206:
            raise RuntimeError(f"media answered {polled.status_code}: {polled.text}")
        await asyncio.sleep(POLL_SECONDS)
    ready = time.perf_counter()
    return {"accepted_ms": (accepted - started) * 1000, "ready_ms": (ready - started) * 1000}


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(values), 1),
        "p90_ms": round(percentile(values, 0.9), 1),
        "p99_ms": round(percentile(values, 0.99), 1),
        "max_ms": round(max(values), 1),
    }


async def run(args: argparse.Namespace) -> dict[str, object]:
    photos = [photo(seed) for seed in range(args.photos)]
    services = Services.start()
    node: NodeProcess | None = None
    try:
        database_url = await services.create_database("pinhole_bench_uploads")
        node = NodeProcess.configure(database_url=database_url, redis_url=services.redis_url)
        node.start()
        async with httpx.AsyncClient(base_url=node.url, timeout=120) as anonymous:
            tokens = [
                (await sign_up(anonymous, f"bench{i}"))["access_token"]
                for i in range(args.concurrency)
            ]
        clients = [
            httpx.AsyncClient(
                base_url=node.url, timeout=300, headers={"Authorization": f"Bearer {token}"}
            )
            for token in tokens
        ]
        try:
            # One upload first, so lazy imports and the first connections are not measured.
            await upload_until_ready(clients[0], photos[0])
            results: list[dict[str, float]] = []
            round_seconds: list[float] = []
            for round_index in range(args.rounds):
                started = time.perf_counter()
                results += await asyncio.gather(
                    *(
                        upload_until_ready(client, photos[(round_index + i) % len(photos)])
                        for i, client in enumerate(clients)
                    )
                )
                round_seconds.append(time.perf_counter() - started)
        finally:
            for client in clients:
                await client.aclose()
    finally:
        if node is not None:
            node.stop()
        with contextlib.suppress(Exception):
            await services.drop_databases()
        services.stop()

    # The processing alone, in this process on one core, for reference (bench/media.py).
    reference = measure(photos, args.reference_runs)
    ready = [r["ready_ms"] for r in results]
    return {
        "benchmark": "media upload-to-ready under load",
        "machine": {
            "python": platform.python_version(),
            "processor": platform.processor() or platform.machine(),
            "cores": os.cpu_count(),
            "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        },
        "node": "one `pinhole run` process (web + worker), local-disk storage",
        "input": {
            "size": "4032x3024",
            "photos": args.photos,
            "jpeg_mb_median": round(statistics.median(len(p) for p in photos) / 2**20, 2),
        },
        "concurrency": args.concurrency,
        "rounds": args.rounds,
        "uploads": len(results),
        "poll_interval_ms": POLL_SECONDS * 1000,
        "upload_to_ready": summary(ready),
        "upload_answered_202": summary([r["accepted_ms"] for r in results]),
        "round_seconds": [round(s, 2) for s in round_seconds],
        "throughput_photos_per_second": round(len(results) / sum(round_seconds), 2),
        "reference_process_image_one_core": {
            key: reference[key] for key in ("runs", "p50_ms", "p90_ms", "cpu_p50_ms")
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=20, help="uploads at once")
    parser.add_argument("--rounds", type=int, default=2, help="waves of concurrent uploads")
    parser.add_argument("--photos", type=int, default=5, help="distinct 12 MP photos made")
    parser.add_argument("--reference-runs", type=int, default=10, help="bench/media.py runs")
    args = parser.parse_args()
    with contextlib.redirect_stdout(sys.stderr):  # migrations chatter; stdout is the report
        report = asyncio.run(run(args))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
