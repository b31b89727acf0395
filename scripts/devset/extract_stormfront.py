#!/usr/bin/env python3
"""Print the sentences that Vicomtech/hate-speech-dataset (de Gibert et al. 2018, Stormfront forum,
CC BY-SA 3.0 ES) labels `hate`, as `Stormfront<TAB>hate<TAB>sentence`.

Usage: extract_stormfront.py GITDIR >> raw/extra_concerning.tsv
"""
import csv, io, re, subprocess, sys

GIT = sys.argv[1]
def show(p):
    return subprocess.run(["git", "--git-dir", GIT, "show", "HEAD:" + p], check=True, capture_output=True).stdout.decode("utf-8", "replace")

ids = [r["file_id"] for r in csv.DictReader(io.StringIO(show("annotations_metadata.csv"))) if r["label"] == "hate"]
specs = "".join(f"HEAD:all_files/{i}.txt\n" for i in ids).encode()
out = subprocess.run(["git", "--git-dir", GIT, "cat-file", "--batch"], input=specs, capture_output=True, check=True).stdout
pos = 0
while pos < len(out):
    nl = out.index(b"\n", pos)
    header = out[pos:nl].split()
    if header[-1] == b"missing":
        pos = nl + 1
        continue
    size = int(header[2])
    text = out[nl + 1:nl + 1 + size].decode("utf-8", "replace")
    pos = nl + 1 + size + 1
    t = re.sub(r"\s+", " ", text).strip()
    if 8 <= len(t) <= 300:
        print(f"Stormfront\thate\t{t}")
