"""The pictures the README shows, made from the bundled examples offline (`make readme-images` runs the demo,
then this): docs/images/waterfall.png and beeswarm.png (the demo's plots), text-heatmap.png (the NLP example, one
review at token granularity), report.png (the demo's HTML report, rendered by headless Chromium) and
drift-report.png (the report of the README's drift walkthrough, whose shell block is run as written).

Pixels differ from machine to machine (fonts, Chromium), so what is checked is what drew them: the images are
written with docs/images/SOURCES, the SHA-256 of each file of the drawing code. `--check` (run by the tests) fails
when that code changed after the images were made, naming the files, so a picture cannot go stale unnoticed.

    .venv/bin/python tools/gen_readme_images.py [--check]
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
IMAGES = ROOT / "docs" / "images"
DEMO = ROOT / "demo-output"
SOURCES = IMAGES / "SOURCES"
# The code that draws the pictures: a change to any of them calls for new pictures.
DRAWING = [
    "clarify_kit/client/plots.py",
    "clarify_kit/client/report.py",
    "clarify_kit/client/drift_report.py",
    "tools/gen_readme_images.py",
]
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


def fingerprint() -> str:
    """One line per drawing file: its SHA-256 and its path."""
    lines = [f"{hashlib.sha256((ROOT / path).read_bytes()).hexdigest()}  {path}" for path in DRAWING]
    return "\n".join(lines) + "\n"


def check() -> int:
    recorded = SOURCES.read_text() if SOURCES.exists() else ""
    changed = sorted(set(fingerprint().splitlines()) - set(recorded.splitlines()))
    if changed:
        names = ", ".join(line.split("  ", 1)[1] for line in changed)
        print(f"the README's pictures were drawn by other code than {names}: run `make readme-images`")
        return 1
    return 0


def drift_walkthrough() -> None:
    """The README's drift block, run as written from the repository (it writes demo-output/drift.html)."""
    readme = (ROOT / "README.md").read_text()
    blocks = [b for b in re.findall(r"```bash\n(.*?)```", readme, re.S) if "demo-output/drift.html" in b]
    if len(blocks) != 1:
        raise SystemExit("README.md: expected one shell block that writes demo-output/drift.html")
    for folder in ("capture", "baseline-capture"):  # the block moves one into the other: start from neither
        shutil.rmtree(DEMO / folder, ignore_errors=True)
    subprocess.run(["bash", "-euo", "pipefail", "-c", blocks[0]], cwd=ROOT, check=True, capture_output=True)


def main() -> None:
    if "--check" in sys.argv[1:]:
        raise SystemExit(check())
    if not (DEMO / "report.html").exists():
        raise SystemExit("run `make demo` first: its plots and report are what the README shows")
    IMAGES.mkdir(parents=True, exist_ok=True)
    drift_walkthrough()
    shutil.copy(DEMO / "record-0.png", IMAGES / "waterfall.png")
    shutil.copy(DEMO / "summary.png", IMAGES / "beeswarm.png")
    text_heatmap(IMAGES / "text-heatmap.png")
    report_screenshot(IMAGES / "report.png")
    report_screenshot(IMAGES / "drift-report.png", DEMO / "drift.html", "900,900")
    SOURCES.write_text(fingerprint())
    print(f"wrote {', '.join(sorted(p.name for p in IMAGES.glob('*.png')))} in {IMAGES.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
