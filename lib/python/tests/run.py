# SPDX-License-Identifier: MIT
"""Run the atomic_dict Python tests (unittest); exit 1 on any failure.

Usage: PYTHONPATH=build/python python3 lib/python/tests/run.py [-q]
Prints unittest's report, then one line: "python: N passed, N failed, N skipped".
"""

import os
import sys
import unittest


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    verbosity = 1 if "-q" in sys.argv[1:] else 2
    import atomic_dict
    print("atomic_dict %s from %s" % (atomic_dict.__version__,
                                      os.path.dirname(atomic_dict.__file__)))
    suite = unittest.defaultTestLoader.discover(here, pattern="test_*.py",
                                                top_level_dir=here)
    result = unittest.TextTestRunner(stream=sys.stdout, verbosity=verbosity).run(suite)
    failed = len(result.failures) + len(result.errors) + \
        len(result.unexpectedSuccesses)
    skipped = len(result.skipped)
    passed = result.testsRun - failed - skipped
    print("python: %d passed, %d failed, %d skipped" % (passed, failed, skipped))
    reasons = {}
    for test, reason in result.skipped:
        reasons[reason] = reasons.get(reason, 0) + 1
    for reason, n in reasons.items():
        print("  %d skipped: %s" % (n, reason))
    sys.exit(1 if failed or result.testsRun == 0 else 0)


if __name__ == "__main__":
    main()
