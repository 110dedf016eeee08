#!/usr/bin/env python3
"""Makes N distinct meeting documents from the seeds (test/benchmark helper).

    gen_variants.py SEEDS_DIR OUT_DIR N

Variant k of seed s is the seed with its meeting date replaced (every
"D. måned YYYY" and "DD-MM-YYYY" spelling of that date) by a date unique to
(s, k), so every variant is a distinct meeting (municipality + committee +
date) and a distinct document. Files go to OUT_DIR/<municipality-slug>/,
so a caller can submit each directory with --municipality. Prints one line
per directory: "<slug>\t<Municipality>\t<count>".
"""
import datetime
import os
import re
import sys

MONTHS = ["januar", "februar", "marts", "april", "maj", "juni", "juli", "august",
          "september", "oktober", "november", "december"]
DATE_RX = re.compile(r"\b(\d{1,2})\. (%s) (\d{4})" % "|".join(MONTHS))
MUNI_RX = re.compile(r"\b(Hedensted|Randers|[A-ZÆØÅ][a-zæøå]+) Kommune\b")


def main():
    seeds_dir, out_dir, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    seeds = sorted(f for f in os.listdir(seeds_dir) if f.endswith(".txt"))
    texts = [open(os.path.join(seeds_dir, f), encoding="utf-8").read() for f in seeds]
    counts = {}
    for k in range(n):
        s = k % len(seeds)
        text = texts[s]
        m = DATE_RX.search(text)
        if not m:
            sys.exit(f"{seeds[s]}: no meeting date found")
        old = datetime.date(int(m.group(3)), MONTHS.index(m.group(2)) + 1, int(m.group(1)))
        new = datetime.date(1990, 1, 1) + datetime.timedelta(days=s * 2000 + k // len(seeds))
        out = text.replace(m.group(0), f"{new.day}. {MONTHS[new.month - 1]} {new.year}")
        out = out.replace(old.strftime("%d-%m-%Y"), new.strftime("%d-%m-%Y"))
        out = out.replace(old.strftime("%d.%m.%Y"), new.strftime("%d.%m.%Y"))
        mm = MUNI_RX.search(text)
        muni = mm.group(0) if mm else "unknown"
        if "randers" in text[:3000].lower() and "Hedensted" not in text[:3000]:
            muni = "Randers Kommune"
        slug = re.sub(r"[^a-z]+", "-", muni.lower()).strip("-")
        d = os.path.join(out_dir, slug)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"{k:05d}_{seeds[s]}"), "w", encoding="utf-8") as f:
            f.write(out)
        counts.setdefault(slug, [muni, 0])[1] += 1
    for slug, (muni, c) in sorted(counts.items()):
        print(f"{slug}\t{muni}\t{c}")


if __name__ == "__main__":
    main()
