#!/usr/bin/env python3
"""Label the collected candidates and write concerning.tsv, benign.tsv and benign-hard.tsv.

Usage: build_concerning.py DEVSETDIR [--decisions FILE]
Also writes benign-curated.tsv (benign.tsv without the raw web-search logs).
Reads raw/concerning_cand.tsv (collect_concerning.py), raw/benign_raw.tsv (build_benign_raw.py),
raw/xstest_prompts.csv, raw/hatecheck_cases.csv, raw/extra_concerning.tsv (optional: source<TAB>category<TAB>text,
already labelled by hand), raw/extra_benign_hard.tsv (optional: source<TAB>text), and the hand-made labels:
labels/concerning_overrides.tsv (`label<TAB>text prefix`: first match wins; `drop` removes the row) and
labels/benign_overrides.tsv (`label<TAB>exact query`: moves a benign-log query to a category or drops it).
Rows no override names keep the keyword proposal of propose.py; rows it cannot place are dropped.
Writes also labelled-sources.tsv (`category<TAB>source<TAB>text`) for auditing, and decisions.tsv:
`<first 16 hex of sha1(text)><TAB><label>` for every row a person decided (concerning rows, and benign-log
queries moved or dropped). With `--decisions FILE` that file replaces the overrides and proposals: a
candidate or extra row is kept only under the label the file gives its hash, and a benign-log query the
file names is moved or dropped. decisions.tsv holds no source text, so it may live in the repository.
"""
import csv, os, re, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from propose import propose

import hashlib
D = sys.argv[1]
DECIDED = None
if len(sys.argv) == 4 and sys.argv[2] == "--decisions":
    DECIDED = dict(l.rstrip("\n").split("\t") for l in open(sys.argv[3], encoding="utf-8") if l.strip())

def key(t):
    return hashlib.sha1(t.encode("utf-8")).hexdigest()[:16]
CATS = {"suicide", "self-harm", "eating-disorders", "radicalisation", "hate", "grooming", "bullying",
        "pornography", "weapons", "drugs", "violence", "gambling"}

def one_line(t):
    return re.sub(r"[\x00-\x1f\x7f]+", " ", t).strip()

over, bover = [], {}
if DECIDED is None:
    over = [l.rstrip("\n").split("\t", 1) for l in open(f"{D}/labels/concerning_overrides.tsv", encoding="utf-8") if l.strip()]
    for lab, _ in over:
        assert lab in CATS or lab == "drop", lab
    for l in open(f"{D}/labels/benign_overrides.tsv", encoding="utf-8"):
        if l.strip():
            lab, q = l.rstrip("\n").split("\t", 1)
            assert lab in CATS or lab == "drop", lab
            bover.setdefault(q, lab)

labelled, used = [], set()
for line in open(f"{D}/raw/concerning_cand.tsv", encoding="utf-8"):
    src, slab, text = line.rstrip("\n").split("\t", 2)
    if DECIDED is not None:
        lab = DECIDED.get(key(text), "drop")
    elif src == "HateCheck":
        lab = "hate"
    else:
        lab = None
        for i, (l, prefix) in enumerate(over):
            if text.startswith(prefix):
                lab = l
                used.add(i)
                break
        if lab is None:
            lab = propose(text)
    if lab in CATS:
        labelled.append((lab, src, text))

extra = f"{D}/raw/extra_concerning.tsv"
if os.path.exists(extra):
    for line in open(extra, encoding="utf-8"):
        src, lab, text = line.rstrip("\n").split("\t", 2)
        assert lab in CATS, lab
        if DECIDED is not None:
            lab = DECIDED.get(key(one_line(text)), "drop")
            if lab == "drop":
                continue
        labelled.append((lab, src, one_line(text)))

# Search-log queries kept benign although they hold a word a careless rule would fire on: look-alikes.
LOOKALIKE = re.compile(r"\b(suicid\w*|kill\w*|die|dying|dead|death|overdose|hang\w*|cut(ting)?|self harm|anorexi\w*|bulimi\w*|starv\w*|"
                       r"terror\w*|jihad|isis|nazi\w*|hitler|kkk|hate|racis\w*|groom\w*|bully\w*|abuse\w*|sex\w*|porn\w*|strip\w*|"
                       r"escort|gun\w*|rifles?|pistols?|knife|knives|bombs?|explosives?|weapons?|shoot\w*|drugs?|cocaine|heroin|meth|"
                       r"weed|marijuana|cannabis|ecstasy|lsd|gambl\w*|casinos?|poker|bet(ting)?|slots?|lottery|murder\w*|rape|stab\w*|"
                       r"assault|torture|shot)\b", re.I)
benign, moved, hard = [], 0, []
for line in open(f"{D}/raw/benign_raw.tsv", encoding="utf-8"):
    src, q = line.rstrip("\n").split("\t", 1)
    q = one_line(q)
    lab = DECIDED.get(key(q)) if DECIDED is not None else bover.get(q)
    if lab is None:
        benign.append((src, q))
        if LOOKALIKE.search(q):
            hard.append(("search-log-lookalike", q))
    elif lab != "drop":
        labelled.append((lab, src, q))
        moved += 1

for r in csv.DictReader(open(f"{D}/raw/xstest_prompts.csv", encoding="utf-8")):
    if r["label"] == "safe" and not r["type"].startswith("privacy"):
        hard.append(("XSTest-safe", one_line(r["prompt"])))
for r in csv.DictReader(open(f"{D}/raw/hatecheck_cases.csv", encoding="utf-8")):
    if r["label_gold"] == "non-hateful" and r["functionality"] in (
            "counter_quote_nh", "counter_ref_nh", "ident_neutral_nh", "ident_pos_nh", "negate_neg_nh",
            "slur_homonym_nh", "target_obj_nh", "target_group_nh"):
        hard.append(("HateCheck-nonhateful", one_line(r["test_case"])))
eh = f"{D}/raw/extra_benign_hard.tsv"
if os.path.exists(eh):
    for line in open(eh, encoding="utf-8"):
        src, text = line.rstrip("\n").split("\t", 1)
        hard.append((src, one_line(text)))

seen = set()
with open(f"{D}/concerning.tsv", "w", encoding="utf-8") as f, open(f"{D}/labelled-sources.tsv", "w", encoding="utf-8") as g:
    for lab, src, text in labelled:
        k = text.lower()
        if k in seen or not text:
            continue
        seen.add(k)
        f.write(f"{lab}\t{text}\n")
        g.write(f"{lab}\t{src}\t{text}\n")
hseen = set()
with open(f"{D}/benign-hard.tsv", "w", encoding="utf-8") as f:
    for src, text in hard:
        if text.lower() in hseen or text.lower() in seen:
            continue
        hseen.add(text.lower())
        f.write(f"benign\t{text}\n")
# benign-curated.tsv: only the curated question sets (MS MARCO, TREC DL/RAG, NQ, WebQuestions, CuratedTREC),
# leaving out the raw 2005-2009 web-search logs (TREC MQ, Terabyte), which keep adult queries the review missed.
RAW_LOGS = ("trec-mq", "trec-terabyte")
with open(f"{D}/benign.tsv", "w", encoding="utf-8") as f, open(f"{D}/benign-curated.tsv", "w", encoding="utf-8") as g:
    bseen = set()
    for src, q in benign:
        if q.lower() in seen or q.lower() in bseen:
            continue
        bseen.add(q.lower())
        f.write(f"benign\t{q}\n")
        if not src.startswith(RAW_LOGS):
            g.write(f"benign\t{q}\n")
    for r in csv.DictReader(open(f"{D}/raw/xstest_prompts.csv", encoding="utf-8")):
        text = one_line(r["prompt"])
        if r["label"] == "safe" and text.lower() not in bseen and text.lower() not in seen:
            bseen.add(text.lower())
            f.write(f"benign\t{text}\n")  # all 250 safe prompts, privacy ones included
with open(f"{D}/decisions.tsv" if DECIDED is None else os.devnull, "w", encoding="utf-8") as f:
    done = set()
    for lab, src, text in labelled:
        if key(text) not in done:
            done.add(key(text))
            f.write(f"{key(text)}\t{lab}\n")
    for q, lab in ([] if DECIDED is not None else bover.items()):
        if lab == "drop" and key(q) not in done:
            done.add(key(q))
            f.write(f"{key(q)}\tdrop\n")
unused = [] if DECIDED is not None else [over[i][1] for i in range(len(over)) if i not in used]
print(f"concerning {len(seen)}, moved from logs {moved}, benign {len(bseen)}, hard {len(hseen)}; unused overrides: {len(unused)}", file=sys.stderr)
for u in unused:
    print("  unused:", u, file=sys.stderr)
