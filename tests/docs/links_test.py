#!/usr/bin/env python3
"""Every relative link in README.md and docs/*.md resolves to a file of the repository,
and every orchestrator/, tests/, bench/, experiments/, images/ or topology/ path that
docs/architecture.md names in backquotes exists (the project stands alone; issue 26).
Usage: links_test.py SOURCE_DIR; prints each broken one and exits 1."""
import os
import re
import sys

root = sys.argv[1]
bad = []
pages = ["README.md"] + ["docs/" + f for f in sorted(os.listdir(os.path.join(root, "docs")))
                         if f.endswith(".md")]
for page in pages:
    text = open(os.path.join(root, page), encoding="utf-8").read()
    for m in re.finditer(r"\]\(([^)#\s]+)(#[^)]*)?\)", text):
        link = m.group(1)
        if re.match(r"^[a-z]+:", link):
            continue  # a URL, not a file of the repository
        target = os.path.normpath(os.path.join(root, os.path.dirname(page), link))
        if not os.path.exists(target):
            bad.append(f"{page}: link to {link} resolves to nothing")
arch = open(os.path.join(root, "docs/architecture.md"), encoding="utf-8").read()
for m in re.finditer(r"`((?:orchestrator|tests|bench|experiments|images|topology)/[^`\s*{}<>]+)`",
                     arch):
    path = m.group(1).rstrip(".,:;")
    if not os.path.exists(os.path.join(root, path)):
        bad.append(f"docs/architecture.md names {path}, which does not exist")
for b in bad:
    print(b)
print(f"{len(pages)} pages checked, {len(bad)} broken")
sys.exit(1 if bad else 0)
