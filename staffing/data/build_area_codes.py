"""Builds gb2260-area-codes.csv (GB/T 2260 行政区划代码, current and retired) from python-stdnum's cn/loc.dat.

Run by hand when the list needs refreshing (python-stdnum is a development dependency; the application reads
only the CSV):  .venv/bin/python staffing/data/build_area_codes.py

Every code that was ever assigned is kept, with the years loc.dat gives: an ID number keeps the code of the
place that issued it, so a retired code is still a valid one (we do not copy stdnum's rule that the code must
have existed in the birth year). Licence: loc.dat is part of python-stdnum (LGPL-2.1-or-later), compiled from
the Chinese Wikipedia lists of 中华人民共和国行政区划代码; the derived CSV is distributed under the same terms
(see README.md beside it).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
LINE = re.compile(r"^(?P<indent>\s*)(?P<code>[0-9]+)\s+(?P<kind>province|prefecture|county)=\"(?P<names>[^\"]*)\"")


def read_loc_dat() -> dict[str, str]:
    import stdnum

    path = Path(stdnum.__file__).resolve().parent / "cn" / "loc.dat"
    codes: dict[str, str] = {}
    province = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        match = LINE.match(raw)
        if match is None:
            continue
        if not match["indent"]:
            province = match["code"]
            codes[province + "0000"] = match["names"]
        else:
            codes[province + match["code"]] = match["names"]
    return codes


def main() -> None:
    codes = read_loc_dat()
    out = HERE / "gb2260-area-codes.csv"
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["code", "names"])
        for code in sorted(codes):
            writer.writerow([code, codes[code]])
    print(f"{out.name}: {len(codes)} codes")


if __name__ == "__main__":
    main()
