"""Counts the suite's results from meson's test log (Criterion TAP lines per test case) plus
extra TAP lines given as arguments, and ends with the plain line 'N passed, N failed'.
Exits 1 when anything failed, so that CI fails."""
import json
import re
import sys

passed = failed = 0
for line in open(sys.argv[1]):
    test = json.loads(line)
    out = test.get("stdout", "") or ""
    ok = len(re.findall(r"^ok\b", out, re.M))
    bad = len(re.findall(r"^not ok\b", out, re.M))
    if test["result"] not in ("OK", "EXPECTEDFAIL", "SKIP") and bad == 0:
        bad = 1  # the executable failed without reporting a case (a crash, a sanitizer abort)
        print(f"failed: {test['name']} ({test['result']})")
    for name in re.findall(r"^not ok\b.*$", out, re.M):
        print(f"failed: {test['name']}: {name}")
    passed += ok
    failed += bad
for extra in sys.argv[2:]:
    if extra.startswith("ok"):
        passed += 1
    else:
        failed += 1
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
