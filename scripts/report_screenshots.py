"""Full-page screenshots of the shipped reports, as a panel member sees them on a laptop
(1280 px wide, 100% zoom), in headless Chromium (Debian's `chromium`, which .ci/run
installs) through Playwright:

    python scripts/report_screenshots.py [OUT_DIR]

reads results/<name>/report.html for every shipped report and writes OUT_DIR/<name>.png
(default docs/screenshots/). Run it after `make report` so the pictures show the committed
reports; the what-if panel is shown at its starting point (R = 1).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ("gepnet_ptr", "liver_resection")
WIDTH, HEIGHT = 1280, 800


def main(out_dir: Path) -> int:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("no chromium on PATH (Debian package 'chromium')", file=sys.stderr)
        return 2
    out_dir.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        try:
            for name in REPORTS:
                html = ROOT / "results" / name / "report.html"
                if not html.is_file():
                    print(f"{html}: missing (run make report first)", file=sys.stderr)
                    return 2
                page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
                page.goto(html.as_uri())
                page.screenshot(path=str(out_dir / f"{name}.png"), full_page=True)
                page.close()
                print(f"wrote {out_dir / (name + '.png')}")
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"))
