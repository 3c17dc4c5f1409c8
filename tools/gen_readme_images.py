"""The pictures the README shows, made from the bundled examples offline (run after `make demo`):
docs/images/waterfall.png and beeswarm.png (the demo's plots), text-heatmap.png (the NLP example, one review at
token granularity) and report.png (the demo's HTML report, rendered by headless Chromium).

    .venv/bin/python tools/gen_readme_images.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
IMAGES = ROOT / "docs" / "images"
DEMO = ROOT / "demo-output"
REVIEW = "The zipper broke after a week, but the straps are comfortable and the fabric feels sturdy."


def text_heatmap(out: Path) -> None:
    from clarify_kit.adapters.files import load_config
    from clarify_kit.client import EndpointClient
    from clarify_kit.client.plots import text_png
    from clarify_kit.explainer.endpoint import running_endpoint
    from examples.models import train
    from examples.runner import container

    config_path = ROOT / "examples" / "nlp" / "config.yaml"
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    with tempfile.TemporaryDirectory() as models:
        train("nlp", Path(models) / "nlp")
        with container(Path(models) / "nlp") as url, running_endpoint(load_config(config_path), url) as (base, ep):
            client = EndpointClient(ep.name, config=config_path, endpoint_url=base, region_name="us-east-1")
            text_png(client.invoke([[REVIEW]]), out, record=0)


def report_screenshot(out: Path, page: Path | None = None, size: str = "1100,1500") -> None:
    browser = shutil.which("chromium")
    if browser is None:
        raise SystemExit("install the Debian package chromium for the report screenshot")
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                f"--window-size={size}",
                f"--screenshot={out}",
                (page or DEMO / "report.html").as_uri(),
            ],
            check=True,
            capture_output=True,
        )


def main() -> None:
    if not (DEMO / "report.html").exists():
        raise SystemExit("run `make demo` first: its plots and report are what the README shows")
    IMAGES.mkdir(parents=True, exist_ok=True)
    shutil.copy(DEMO / "record-0.png", IMAGES / "waterfall.png")
    shutil.copy(DEMO / "summary.png", IMAGES / "beeswarm.png")
    text_heatmap(IMAGES / "text-heatmap.png")
    report_screenshot(IMAGES / "report.png")
    if (DEMO / "drift.html").exists():  # the README's drift walkthrough writes it
        report_screenshot(IMAGES / "drift-report.png", DEMO / "drift.html", "900,900")
    print(f"wrote {', '.join(sorted(p.name for p in IMAGES.glob('*.png')))} in {IMAGES.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
