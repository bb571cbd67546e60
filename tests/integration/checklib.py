"""checklib.py -- the soft checks of the integration tests that run every
check and report all failures at the end (test_rate, test_reputation,
test_train): check() counts, prints a FAIL line and goes on; summary()
prints "<name>: N passed, M failed" and gives the exit status.
Standard library only."""
import sys

_counts = {"checks": 0}
FAILURES = []


def check(cond, what):
    _counts["checks"] += 1
    if not cond:
        FAILURES.append(what)
        print("FAIL: " + what, file=sys.stderr)


def summary(name):
    passed = _counts["checks"] - len(FAILURES)
    print("%s: %d passed, %d failed" % (name, passed, len(FAILURES)))
    return 1 if FAILURES else 0
