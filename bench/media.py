"""Photo processing speed: 12 MP camera JPEGs into every rendition on one core; prints JSON."""

from __future__ import annotations

import io
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import ExifTags, Image, ImageDraw, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from media.processing import StageTimer, process_image  # noqa: E402

WIDTH, HEIGHT = 4032, 3024  # a 12 MP phone sensor
PHOTOS = 5
RUNS = 20
ROTATED_RUNS = 10
TARGET_P50_MS = 150


def camera_exif(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "BenchCam"
    exif[ExifTags.Base.Model] = "Model 12"
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.IFD.Exif] = {ExifTags.Base.MakerNote: bytes(2048)}
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (48.0, 51.0, 29.0),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (2.0, 17.0, 40.0),
    }
    return exif


def photo(seed: int, orientation: int = 1) -> bytes:
    """Sky and ground gradients, soft shapes with sharp edges, fine texture and sensor noise,
    saved as a phone does (q92, 4:2:0, EXIF with GPS and a 2 KB maker note); 2.5-3 MB each,
    like a phone's 12 MP JPEG."""
    rng = np.random.default_rng(seed)
    x = np.linspace(0.0, 1.0, WIDTH, dtype=np.float32)[None, :]
    y = np.linspace(0.0, 1.0, HEIGHT, dtype=np.float32)[:, None]
    horizon = 0.35 + 0.2 * rng.random()
    sky = y < horizon
    base = np.where(
        sky[..., None],
        np.stack([90 + 80 * y + 0 * x, 140 + 60 * y + 0 * x, 230 - 40 * y + 0 * x], axis=-1),
        np.stack([70 + 60 * x * y, 110 - 30 * y + 20 * x, 50 + 20 * x + 0 * y], axis=-1),
    )
    # Grass- and bark-like texture below the horizon, which is what makes JPEGs big.
    texture = rng.normal(0.0, 24.0, (HEIGHT // 2, WIDTH // 2)).astype(np.float32)
    texture = np.asarray(
        Image.fromarray(texture).resize((WIDTH, HEIGHT), Image.Resampling.BICUBIC),
        dtype=np.float32,
    )
    base += np.where(sky, 0.0, texture)[..., None]
    base += rng.normal(0.0, 4.0, (HEIGHT, WIDTH, 1)).astype(np.float32)
    image = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(25):
        left, top = int(rng.integers(0, WIDTH)), int(rng.integers(int(HEIGHT * horizon), HEIGHT))
        size = int(rng.integers(80, 900))
        colour = tuple(int(v) for v in rng.integers(30, 220, 3))
        if rng.random() < 0.5:
            draw.ellipse((left, top, left + size, top + size * 2 // 3), fill=colour)
        else:
            draw.rectangle((left, top, left + size // 2, top + size), fill=colour)
    image = image.filter(ImageFilter.GaussianBlur(0.5))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92, exif=camera_exif(orientation))
    return out.getvalue()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def measure(photos: list[bytes], runs: int) -> dict[str, object]:
    for data in photos[:2]:
        process_image(data)  # warm caches and lazy plugin loading
    totals: list[float] = []
    cpu_totals: list[float] = []
    stages: dict[str, list[float]] = {}
    sizes: dict[str, list[int]] = {}
    for run in range(runs):
        timer = StageTimer()
        started, cpu_started = time.perf_counter(), time.thread_time()
        result = process_image(photos[run % len(photos)], timer=timer)
        totals.append((time.perf_counter() - started) * 1000)
        cpu_totals.append((time.thread_time() - cpu_started) * 1000)
        for name, seconds in timer.seconds.items():
            stages.setdefault(name, []).append(seconds * 1000)
        for name, rendition in result.renditions.items():
            sizes.setdefault(name, []).append(len(rendition.data))
    return {
        "runs": runs,
        "p50_ms": round(statistics.median(totals), 1),
        "p90_ms": round(percentile(totals, 0.9), 1),
        "min_ms": round(min(totals), 1),
        # CPU time of this thread: what the work costs when other processes share the core.
        "cpu_p50_ms": round(statistics.median(cpu_totals), 1),
        "cpu_p90_ms": round(percentile(cpu_totals, 0.9), 1),
        "stage_p50_ms": {name: round(statistics.median(v), 1) for name, v in stages.items()},
        "rendition_kb_median": {
            name: round(statistics.median(v) / 1024, 1) for name, v in sizes.items()
        },
        "rendition_size": {
            name: f"{rendition.width}x{rendition.height}"
            for name, rendition in result.renditions.items()
        },
    }


def main() -> None:
    # One core, as a worker process would have it: nothing here runs on several threads
    # anyway, but this keeps the figures comparable between machines.
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    # Other processes on the machine stretch wall times (not CPU times): say how many there were.
    load_before = os.getloadavg()[0]
    upright = [photo(seed) for seed in range(PHOTOS)]
    rotated = [photo(seed + 100, orientation=6) for seed in range(2)]
    upright_result = measure(upright, RUNS)
    rotated_result = measure(rotated, ROTATED_RUNS)
    print(
        json.dumps(
            {
                "benchmark": "media.process_image",
                "machine": {
                    "python": platform.python_version(),
                    "processor": platform.processor() or platform.machine(),
                    "cores_used": 1,
                    "cores": os.cpu_count(),
                    "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
                },
                "input": {
                    "size": [WIDTH, HEIGHT],
                    "photos": PHOTOS,
                    "jpeg_mb_median": round(statistics.median(len(p) for p in upright) / 2**20, 2),
                },
                "target_p50_ms": TARGET_P50_MS,
                "upright_jpeg": {
                    "note": "EXIF orientation 1: original scrubbed losslessly (segments dropped);"
                    " the original (a JPEG) is the large size's fallback, so no large JPEG",
                    **upright_result,
                },
                "rotated_jpeg": {
                    "note": "EXIF orientation 6: full decode, rotate, original re-encoded at q95"
                    " (the large size's fallback too)",
                    **rotated_result,
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
