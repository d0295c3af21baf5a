"""An audit of a build that shares no code with `artefact audit` (scikit-learn instead of the
built-in naive Bayes), for a second opinion before publishing a split.

Checks: label words in any path or id; index-parity and previous-row rules on every label
column; "Yes iff degraded"; a question-text-only logistic regression (TF-IDF of word 1–2-grams,
GroupKFold by slice); repeated (image, question); number agreement ("is there … artifacts").

Usage: python tools/check_leaks.py OUT_DIR     (requirements: tools/requirements-exports.txt + scikit-learn)
"""
import json
import os
import re
import sys

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, cross_val_score


def jl(p):
    return [json.loads(l) for l in open(p) if l.strip()]


def main(out):
    rows = jl(os.path.join(out, "manifest.jsonl"))
    qs = jl(os.path.join(out, "perception.jsonl"))
    pairs = jl(os.path.join(out, "pairs.jsonl"))
    fails = []
    words = {"clean", "mild", "severe", "none", "good", "usable", "reject"}
    words |= {r["attribute"] for r in rows if r["attribute"]}
    names = []
    for sub in ["images", "hf", "vlmevalkit"]:
        for root, dirs, files in os.walk(os.path.join(out, sub)):
            names += [os.path.relpath(os.path.join(root, f), out) for f in files + dirs]
    hits = [n for n in names if any(w in re.split(r"[^a-z0-9_]+", n.lower()) for w in words)]
    print(f"label words in {len(hits)} of {len(names)} paths")
    if hits:
        fails.append("label words in paths")

    def rules(labels, name):
        labels = np.array(labels)
        n = len(labels)
        if n < 20:
            return
        chance = max(np.mean(labels == v) for v in set(labels))
        prev = np.mean(labels[1:] == labels[:-1])
        agree = sum(np.mean(labels == v) ** 2 for v in set(labels))
        par = 0
        for r in (0, 1):
            sel = labels[np.arange(n) % 2 == r]
            par += max(np.sum(sel == v) for v in set(sel))
        par /= n
        worst = max(prev - agree, par - chance)
        flag = worst > 0.05 + 3 * np.sqrt(chance * (1 - chance) / n)
        print(f"{name:40s} n={n:5d} prev-row {prev - agree:+.3f} parity {par - chance:+.3f}{'  FAIL' if flag else ''}")
        if flag:
            fails.append(name)

    for split in sorted({q["split"] for q in qs}):
        for t in ["yes-or-no", "what", "how"]:
            sel = [q for q in qs if q["split"] == split and q["question_type"] == t]
            rules([q["answer"] for q in sel], f"{split}/{t}/answer")
            rules([q["level"] for q in sel], f"{split}/{t}/level")
    rules([p["better"] for p in pairs], "pairs/better")
    yn = [q for q in qs if q["question_type"] == "yes-or-no"]
    yes = np.array([q["options"]["AB".index(q["answer"])] == "Yes" for q in yn])
    deg = np.array([q["level"] != "none" for q in yn])
    acc = np.mean(yes == deg)
    print(f"yes iff degraded: {acc:.3f} (limit 0.55)")
    if max(acc, 1 - acc) > 0.55:
        fails.append("yes iff degraded")
    slice_of = {r["id"]: f'{r["source_key"]}/{r["slice_index"]}' for r in rows}
    for t in ["yes-or-no", "what", "how"]:
        sel = [q for q in qs if q["question_type"] == t]
        y = np.array([q["answer"] for q in sel])
        g = np.array([slice_of[q["image_id"]] for q in sel])
        x = TfidfVectorizer(ngram_range=(1, 2)).fit_transform([q["question"] for q in sel])
        k = min(5, len(set(g)))
        acc = cross_val_score(LogisticRegression(max_iter=2000), x, y, groups=g, cv=GroupKFold(k)).mean()
        chance = max(np.mean(y == v) for v in set(y))
        print(f"question text only, {t:10s}: {acc:.3f} vs chance {chance:.3f}")
        if acc > chance + 0.05:
            fails.append(f"text-only {t}")
    seen = set()
    dups = sum((q["image_id"], q["question"]) in seen or seen.add((q["image_id"], q["question"])) is not None for q in qs)
    print(f"repeated (image, question): {dups}")
    bad = [q["question"] for q in qs if re.search(r"\b(Is there|is the|How severe is the) [\w\- ]*artifacts\b", q["question"])]
    print(f"number-agreement errors: {len(bad)}")
    if dups or bad:
        fails.append("duplicates or agreement")
    print("FAIL: " + ", ".join(fails) if fails else "OK")
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    main(sys.argv[1])
