#!/usr/bin/env python3
"""Take hand-picked first sentences (title + start of body) from the Reddit Mental Health Dataset sample
shipped in construct-tracker 1.0.16 (rmhd_27subreddits_260posts_test.csv; Low et al. 2020, CC BY 4.0).

Usage: extract_rmhd.py CSV >> raw/extra_concerning.tsv
The picks below are positions (1-based) among that subreddit's rows in file order, chosen by reading each
row: a row is kept only when its own words signal the category (a detector could in principle see it).
"""
import csv, re, sys
csv.field_size_limit(10**9)

PICKS = {
    ("suicidewatch", "suicide"): [1,2,3,4,7,8,12,13,14,16,17,20,22,24,25,29,31,36,38,39,42,44,46,48,52,55,57,58,61,
        62,64,66,69,71,72,79,85,90,91,92,94,98,99,100,101,103,106,107,110,112,114,115,118,119,125,126,127,131,135,
        137,139,140,141,143,144,148,149,150,151,152,153,155,156,160,163,165,166,170,175,179,180,184,187,190,193,194,
        199,203,206,209,211,212,215,217,218,219,221,222,224,225,226,227,228,229,230,232,234,240,241,242,247,249,250,
        252,259,260],
    ("suicidewatch", "self-harm"): [53,159,188],
    ("EDAnonymous", "eating-disorders"): [2,4,10,15,21,26,35,38,40,45,48,52,56,60,64,65,75,76,77,79,81,82,88,89,91,93,
        94,97,100,101,108,109,113,119,120,130,136,145,146,153,159,163,165,170,173,181,182,185,186,187,193,195,198,
        204,213,216,217,218,223,225,226,229,235,237,248,251,254,255,257,259],
    ("EDAnonymous", "suicide"): [83,172],
    ("depression", "suicide"): [145],
    ("anxiety", "self-harm"): [175],
    ("bpd", "self-harm"): [11,81],
    ("depression", "self-harm"): [103],
    ("mentalhealth", "self-harm"): [24,122,123],
    ("schizophrenia", "self-harm"): [167,222],
    ("anxiety", "bullying"): [132,256],
    ("depression", "bullying"): [78],
    ("mentalhealth", "bullying"): [138],
    ("ptsd", "bullying"): [30],
    ("mindfulness", "bullying"): [155,172],
    ("lonely", "bullying"): [234],
    ("addiction", "drugs"): [13,23,50,58,62,70,88,105,125,133,148,162,170,238,258,260],
    ("adhd", "drugs"): [73],
    ("alcoholism", "drugs"): [96,205],
    ("legaladvice", "drugs"): [7],
    ("mentalhealth", "drugs"): [33,184],
    ("schizophrenia", "drugs"): [145],
    ("bipolarreddit", "drugs"): [199],
    ("mindfulness", "drugs"): [112],
}

def first(t):
    t = re.sub(r"\s+", " ", t).strip().replace("&amp;", "&")
    m = re.match(r"(.+?[.?!]+)(\s|$)", t)
    s = m.group(1) if m else t
    return s if len(s) <= 200 else s[:200].rsplit(" ", 1)[0]

rows = {}
for r in csv.DictReader(open(sys.argv[1], encoding="utf-8")):
    rows.setdefault(r["subreddit"], []).append(r["post"])
for (sub, cat), picks in PICKS.items():
    for i in picks:
        print(f"RMHD-r/{sub}\t{cat}\t{first(rows[sub][i - 1])}")
