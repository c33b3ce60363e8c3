"""Regenerate README.md's results table and the file it is checked against,
``benchmarks/results/tour.json``, with the README's own command.

    python benchmarks/tour_readme.py              # runs `python -m minicompress tour` (about a
                                                  # minute), then rewrites both
    python benchmarks/tour_readme.py --from-json  # only rewrite README from the committed JSON

The tour runs as the README says, with the command line's defaults (seed 0, one BLAS thread
pinned by threadpoolctl), so the table is what a reader's terminal prints.
``tests/test_pipeline.py`` checks that README's table is exactly the JSON's rows; a section
that adds tour rows (or changes one) reruns this script and commits both files.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout

from minicompress.cli import main as cli  # noqa: E402
from minicompress.experiments.table import render  # noqa: E402

JSON = ROOT / "benchmarks" / "results" / "tour.json"
README = ROOT / "README.md"
BLOCK = re.compile(r"(<!-- tour table begin -->\n)(?:.*?\n)?(<!-- tour table end -->)", re.S)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--from-json", action="store_true", help="do not rerun the tour")
    args = parser.parse_args(argv)
    if not args.from_json:
        status = cli(["tour", "--json", str(JSON)], prog="python -m minicompress")
        if status:
            return status
    tour = json.loads(JSON.read_text())
    text = README.read_text()
    if not BLOCK.search(text):
        raise SystemExit(f"{README} has no '<!-- tour table begin -->' ... 'end -->' block")
    table = render(tour["rows"], "markdown")
    README.write_text(BLOCK.sub(lambda m: m.group(1) + table + "\n" + m.group(2), text))
    print(f"rewrote the table in {README} from {JSON} ({len(tour['rows'])} rows, "
          f"tour {tour['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
