# SPDX-License-Identifier: MIT
"""Run the atomic_dict Python tests (unittest); exit 1 on any failure.

Usage: PYTHONPATH=build/python python3 lib/python/tests/run.py [-q] [--tap]
Prints unittest's report, then one line: "python: N passed, N failed, N skipped".
With --tap (the VM runs, tests/vm/) the report is kselftest-style TAP
instead: a plan, one "ok"/"not ok" line per test and everything else
prefixed with "# ", which tests/vm/parse.awk reads like the device tests.
"""

import io
import os
import sys
import time
import unittest


class TapResult(unittest.TextTestResult):
    """Prints one TAP line per test as it ends (unittest's report: "# ")."""

    def __init__(self, stream, descriptions, verbosity):
        super().__init__(io.StringIO(), descriptions, 0)
        self.n = 0
        self.durations = []

    def startTest(self, test):
        self.t0 = time.monotonic()
        super().startTest(test)

    def stopTest(self, test):
        super().stopTest(test)
        self.durations.append((time.monotonic() - self.t0, test.id()))

    def _tap(self, test, ok, directive=""):
        self.n += 1
        name = test.id().replace("#", "")
        print("%s %d %s%s" % ("ok" if ok else "not ok", self.n, name, directive),
              flush=True)

    def addSuccess(self, test):
        super().addSuccess(test)
        self._tap(test, True)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._tap(test, False)

    def addError(self, test, err):
        super().addError(test, err)
        self._tap(test, False)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.n += 1
        print("ok %d # SKIP %s: %s" % (self.n, test.id(), reason), flush=True)

    def printErrors(self):
        pass  # main() prints them as TAP comments

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._tap(test, True)

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._tap(test, False)


SLOWEST = 8    # --tap lists the slowest tests, with their times


def tap_comment(text):
    for line in text.splitlines():
        print("# " + line)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    verbosity = 1 if "-q" in sys.argv[1:] else 2
    tap = "--tap" in sys.argv[1:]
    import atomic_dict
    suite = unittest.defaultTestLoader.discover(here, pattern="test_*.py",
                                                top_level_dir=here)
    if tap:
        print("TAP version 13")
        print("1..%d" % suite.countTestCases(), flush=True)
        print("# atomic_dict %s from %s" % (atomic_dict.__version__,
                                            os.path.dirname(atomic_dict.__file__)))
        result = unittest.TextTestRunner(stream=io.StringIO(), verbosity=0,
                                         resultclass=TapResult).run(suite)
        for test, trace in result.failures + result.errors:
            tap_comment("%s\n%s" % (test.id(), trace))
        # Where a slow guest spends the suite's time.
        for secs, name in sorted(result.durations, reverse=True)[:SLOWEST]:
            print("# slowest: %6.2f s %s" % (secs, name))
    else:
        print("atomic_dict %s from %s" % (atomic_dict.__version__,
                                          os.path.dirname(atomic_dict.__file__)))
        result = unittest.TextTestRunner(stream=sys.stdout,
                                         verbosity=verbosity).run(suite)
    failed = len(result.failures) + len(result.errors) + \
        len(result.unexpectedSuccesses)
    skipped = len(result.skipped)
    passed = result.testsRun - failed - skipped
    prefix = "# " if tap else ""
    print("%spython: %d passed, %d failed, %d skipped" % (prefix, passed, failed, skipped))
    reasons = {}
    for test, reason in result.skipped:
        reasons[reason] = reasons.get(reason, 0) + 1
    for reason, n in reasons.items():
        print("%s  %d skipped: %s" % (prefix, n, reason))
    sys.exit(1 if failed or result.testsRun == 0 else 0)


if __name__ == "__main__":
    main()
