"""``python -m bench.wacz``: how long ``scrapy wacz`` takes on a folder of sound WARC files.

Copies the corpus WARC (90 articles, 2.8 MB gzip) COPIES times into a folder and times the whole
command, start-up included, as a user waits for it; the best of REPEAT runs. Each file is copied out,
checked for damage, indexed and packed: the check and the captures the pages are matched against come
from one read of each file. Not a test: the figures depend on the machine.

    python -m bench.wacz [--copies 20] [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS_WARC = ROOT / "tests" / "fixtures" / "corpus" / "corpus.warc.gz"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-wacz-") as tmp:
        folder = Path(tmp) / "warcs"
        folder.mkdir()
        for number in range(args.copies):
            shutil.copyfile(CORPUS_WARC, folder / f"corpus-{number}.warc.gz")
        times = [timed_wacz(folder, Path(tmp) / "x.wacz") for _ in range(args.repeat)]
    size = args.copies * CORPUS_WARC.stat().st_size
    print(f"scrapy wacz on {args.copies} WARC files ({size / 1e6:,.0f} MB): best {min(times):.2f} s "
          f"of {', '.join(f'{t:.2f}' for t in times)}")


def timed_wacz(folder: Path, target: Path) -> float:
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "scrapy", "wacz", str(folder), "-o", str(target)],
                   cwd=ROOT, check=True, capture_output=True)
    return time.monotonic() - started


if __name__ == "__main__":
    main()
