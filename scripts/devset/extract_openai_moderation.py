#!/usr/bin/env python3
"""Hand-picked rows of openai/moderation-api-release data/samples-1680.jsonl (Markov et al. 2022, MIT).

Usage: extract_openai_moderation.py samples-1680.jsonl >> raw/extra_concerning.tsv
Positions are 0-based lines. Its SH (self-harm) rows were split by reading into suicide, self-harm and
eating-disorders; only harassment rows aimed at one person's looks or worth (bullying), plain threats,
and porn-site text (pornography) were taken from the other labels.
"""
import json, re, sys

PICKS = {
    "suicide": [0, 30, 1440, 1447, 1527, 1669],
    "self-harm": [1, 2, 3, 4, 6, 8, 9, 14, 16, 21, 23, 43, 1381, 1383, 1387, 1411, 1433, 1436, 1445, 1531,
                  1564, 1584, 1603, 1605, 1620, 1663, 1678],
    "eating-disorders": [11, 28, 1645, 1667],
    "bullying": [126, 219, 236, 239, 793, 912, 1347, 1359, 1515],
    "hate": [5, 18],
    "violence": [1496, 1537],
    "pornography": [79, 84, 91, 99, 103, 124, 139, 155, 160, 161, 213, 228],
}

def cut(t):
    t = re.sub(r"\s+", " ", t).strip()
    if len(t) <= 200:
        return t
    sents = re.findall(r".+?(?:[.?!]+(?=\s|$)|$)", t)
    out = sents[0].strip()
    for s in sents[1:]:
        if len(out) + len(s) > 300:
            break
        out += s
    return out.strip()[:300]

rows = [json.loads(l)["prompt"] for l in open(sys.argv[1], encoding="utf-8")]
for cat, picks in PICKS.items():
    for i in picks:
        print(f"openai-moderation\t{cat}\t{cut(rows[i])}")
