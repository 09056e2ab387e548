# SPDX-License-Identifier: MIT
"""The original package's README example and test program, run unchanged.

original/readme_example.py is the example of the original atomic_dict
README: 16 tasks on a fork Pool of 8 each take 32Ki tickets with
dict[1].add(1) and write their id under key 100 + ticket.
original/test_atomic_dict.py is the original's own test program.  Both are
BSD-3-licensed files of the original (original/README, original/LICENSE).
"""

import collections
import os
import runpy
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLE = os.path.join(HERE, "original", "readme_example.py")
PROGRAM = os.path.join(HERE, "original", "test_atomic_dict.py")
TASKS = 16
PER_TASK = 32 * 1024
TOTAL = TASKS * PER_TASK


class ReadmeExampleTest(unittest.TestCase):
    def test_readme_example_should_hand_out_every_ticket_once(self):
        # run_name="__main__" runs the example's main block, as a script.
        g = runpy.run_path(EXAMPLE, run_name="__main__")
        d = g["dict"]

        # Every add() of every task landed: the counter is exact.
        self.assertEqual(d[1].load(), TOTAL)
        self.assertEqual(d[1], TOTAL)
        # add() returned each ticket 0..TOTAL-1 exactly once, so every key
        # 100..100+TOTAL-1 was written, each by exactly one task...
        got = d.load_many(range(100, 100 + TOTAL))
        self.assertEqual(len(d), TOTAL + 1, "keys other than 1 and the tickets")
        # ...and each task wrote its id PER_TASK times.
        self.assertEqual(collections.Counter(got),
                         {i: PER_TASK for i in range(TASKS)})
        self.assertNotIn(100 + TOTAL, d)

    def test_readme_example_should_run_as_a_script(self):
        env = dict(os.environ)
        r = subprocess.run([sys.executable, EXAMPLE], env=env,
                           capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")


    def test_original_test_program_should_pass_unchanged(self):
        r = subprocess.run([sys.executable, PROGRAM], capture_output=True,
                           text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")
        # It prints the rows as the original iterates them, then "OK!".
        lines = r.stdout.splitlines()
        self.assertEqual(sorted(lines[:2]), ["((20,), 52)", "((3,), 99)"])
        self.assertEqual(lines[2:], ["OK!"])


if __name__ == "__main__":
    unittest.main()
