#!/usr/bin/env python3
"""Hand-picked rows of the Kaggle "cyberbullying_tweets.csv" (Wang et al. 2020, as copied in
PanchamiVaradaraju/Cyberbullying-detection-in-Social-Media-Comments, 9,996-row sample).

Usage: extract_cyberbullying.py CSV >> raw/extra_concerning.tsv
Almost every 'age' row is an adult recalling school bullying years later (not a concern a filter
should raise), so only rows where the writer is at risk now are kept; positions are 0-based rows.
"""
import csv, re, sys
PICKS = {572: "bullying", 33: "suicide"}
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8")))
for i, cat in sorted(PICKS.items()):
    t = re.sub(r"\s+", " ", rows[i]["tweet_text"]).strip()
    try:  # the copy holds UTF-8 that was once read as Latin-1 ("itâs"); undo that where it round-trips
        t = t.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        pass
    print(f"cyberbullying_tweets\t{cat}\t{t}")
