#!/usr/bin/env python3
"""Collect candidate concerning prompts from the raw public files into `source<TAB>source_label<TAB>text`.

Usage: collect_concerning.py RAWDIR OUT.tsv
Texts over 200 characters are cut to their leading sentences (at most 300 characters, at least one sentence); tabs and newlines become spaces.
"""
import csv, json, re, sys

RAW, OUT = sys.argv[1], sys.argv[2]
rows = []

def clean(t):
    t = re.sub(r"\s+", " ", t).strip()
    if len(t) > 200:  # keep leading whole sentences up to 300 characters (at least the first)
        sents = re.findall(r".+?(?:[.?!]+(?=\s|$)|$)", t)
        out = sents[0].strip()
        for s in sents[1:]:
            if len(out) + len(s) > 300:
                break
            out += s
        t = out.strip()
    return t

def add(src, label, text):
    t = clean(text)
    if t:
        rows.append((src, label, t))

for r in csv.DictReader(open(f"{RAW}/sst.csv", encoding="utf-8")):
    add("SimpleSafetyTests", r["harm_area"], r["prompts_final"])
for r in csv.DictReader(open(f"{RAW}/xstest_prompts.csv", encoding="utf-8")):
    if r["label"] == "unsafe":
        add("XSTest-unsafe", f'{r["type"]}/{r["note"]}', r["prompt"])
for r in csv.DictReader(open(f"{RAW}/adv_harmbench_behaviors_text_all.csv", encoding="utf-8")):
    if r["FunctionalCategory"] != "copyright":
        add("HarmBench", r["SemanticCategory"], r["Behavior"])
for r in csv.DictReader(open(f"{RAW}/adv_advbench_behaviors.csv", encoding="utf-8")):
    add("AdvBench", r.get("Category", ""), r["Behavior"])
for r in csv.DictReader(open(f"{RAW}/adv_strongreject_dataset.csv", encoding="utf-8")):
    add("StrongREJECT", r["category"], r["forbidden_prompt"])
for name in ["adv_harmful_train.json", "adv_harmful_val.json", "adv_harmful_test.json"]:
    for r in json.load(open(f"{RAW}/{name}", encoding="utf-8")):
        add("refusal-direction-" + name[12:-5], r.get("category") or "", r["instruction"])
for name, col in [("adv_adv_training_behaviors.csv", "Behavior"), ("adv_tdc2023_test_phase_behaviors.csv", "Behavior")]:
    for r in csv.DictReader(open(f"{RAW}/{name}", encoding="utf-8")):
        add(name[4:-4], r.get("SemanticCategory", r.get("Category", "")), r[col])
for r in csv.DictReader(open(f"{RAW}/hatecheck_cases.csv", encoding="utf-8")):
    if r["label_gold"] == "hateful":
        add("HateCheck", r["functionality"], r["test_case"])

seen, out = set(), []
for src, label, t in rows:
    k = t.lower()
    if k in seen:
        continue
    seen.add(k)
    out.append((src, label, t))
with open(OUT, "w", encoding="utf-8") as f:
    for r in out:
        f.write("\t".join(r) + "\n")
print(len(rows), "rows,", len(out), "unique", file=sys.stderr)
