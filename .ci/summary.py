"""The suite's closing line over every process's JUnit report: `.ci/summary.py REPORTS CORPUS`.

Exits non-zero when the corpus folder exists but a test skipped for want of it (tests/corpus.py):
where the corpus is present, its tests must have run.
"""

import pathlib
import sys
import xml.etree.ElementTree as ElementTree

reports, corpus = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
skipped_for_corpus = []
for report in sorted(reports.glob("*.xml")):
    for suite in ElementTree.parse(report).getroot().iter("testsuite"):
        for key in counts:
            counts[key] += int(suite.get(key, 0))
        for case in suite.iter("testcase"):
            skipped = case.find("skipped")
            if skipped is not None and "shared/corpus" in skipped.get("message", ""):
                skipped_for_corpus.append(f"{case.get('classname')}::{case.get('name')}")
failed = counts["failures"] + counts["errors"]
corpus_unused = corpus.is_dir() and skipped_for_corpus
if corpus_unused:
    print(f"{len(skipped_for_corpus)} tests skipped for want of {corpus}, which is there: "
          + ", ".join(skipped_for_corpus[:5]) + (", ..." if len(skipped_for_corpus) > 5 else ""))
print(f"{counts['tests'] - failed - counts['skipped']} passed, {failed} failed, {counts['skipped']} skipped")
sys.exit(1 if corpus_unused else 0)
