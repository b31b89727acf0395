#!/usr/bin/env python3
"""Extract real search queries from castorini/anserini-tools topic files into one deduplicated list.

Usage: build_benign_raw.py GITDIR OUT.tsv   (GITDIR: a clone/snapshot of castorini/anserini-tools)
Writes rows `source<TAB>query`; query text is kept as the source has it (whitespace collapsed).
"""
import gzip, json, re, subprocess, sys

GIT, OUT = sys.argv[1], sys.argv[2]

def show(path):
    data = subprocess.run(["git", "--git-dir", GIT, "show", "HEAD:" + path], check=True, capture_output=True).stdout
    if path.endswith(".gz"):
        data = gzip.decompress(data)
    return data.decode("utf-8", "replace").splitlines()

def colon(lines):            # "id:query" or "id:1:query" (Million Query track, terabyte efficiency)
    for l in lines:
        parts = l.split(":", 2)
        if len(parts) == 3 and parts[1].isdigit():
            yield parts[2]
        else:
            yield l.split(":", 1)[1] if ":" in l else l

def tsv2(lines):             # "id<TAB>query"
    for l in lines:
        if "\t" in l:
            yield l.split("\t", 1)[1]

def tsv1(lines):             # "question<TAB>answers"
    for l in lines:
        yield l.split("\t", 1)[0]

def jsonq(lines):
    for l in lines:
        if l.strip():
            yield json.loads(l)["question"]

SOURCES = [
    ("trec-mq-2007-2009", "topics/topics.mq.1-10000.txt", colon),
    ("trec-mq-2007-2009", "topics/topics.mq.10001-20000.txt", colon),
    ("trec-mq-2007-2009", "topics/topics.mq.20001-60000.txt", colon),
    ("trec-terabyte05-efficiency", "topics/topics.terabyte05.efficiency.txt", colon),
    ("msmarco-doc-dev", "topics/topics.msmarco-doc.dev.txt", tsv2),
    ("msmarco-doc-test", "topics/topics.msmarco-doc.test.txt", tsv2),
    ("msmarco-passage-dev", "topics/topics.msmarco-passage.dev-subset.txt", tsv2),
    ("msmarco-passage-test", "topics/topics.msmarco-passage.test-subset.txt", tsv2),
    ("msmarco-v2-doc-dev", "topics/topics.msmarco-v2-doc.dev.txt", tsv2),
    ("msmarco-v2-doc-dev2", "topics/topics.msmarco-v2-doc.dev2.txt", tsv2),
    ("msmarco-v2-passage-dev", "topics/topics.msmarco-v2-passage.dev.txt", tsv2),
    ("msmarco-v2-passage-dev2", "topics/topics.msmarco-v2-passage.dev2.txt", tsv2),
    ("trec-dl21", "topics/topics.dl21.txt", tsv2),
    ("trec-dl22", "topics/topics.dl22.txt", tsv2),
    ("trec-dl23", "topics/topics.dl23.txt", tsv2),
    ("trec-dl20", "topics/topics.dl20.txt", tsv2),
    ("trec-dl19", "topics/topics.dl19-passage.txt", tsv2),
    ("trec-rag24", "topics/topics.rag24.test.txt", tsv2),
    ("natural-questions-dev", "topics/topics.nq.dev.txt", tsv1),
    ("natural-questions-test", "topics/topics.nq.test.txt", tsv1),
    ("webquestions-test", "topics/topics.dpr.wq.test.txt", jsonq),
    ("curatedtrec-test", "topics/topics.dpr.curated.test.txt", jsonq),
]

seen, rows = set(), []
for name, path, parse in SOURCES:
    n = 0
    for q in parse(show(path)):
        q = re.sub(r"\s+", " ", q).strip()
        key = q.lower()
        if not q or key in seen:
            continue
        seen.add(key)
        rows.append((name, q))
        n += 1
    print(f"{name}\t{path}\t{n}", file=sys.stderr)
with open(OUT, "w") as f:
    for name, q in rows:
        f.write(f"{name}\t{q}\n")
print(len(rows), file=sys.stderr)
