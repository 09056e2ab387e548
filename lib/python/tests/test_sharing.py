# SPDX-License-Identifier: MIT
"""Anonymous tables under every multiprocessing start method.

Under spawn and forkserver a child is a fresh interpreter: a table reaches
it only as an argument (Process, Pool) or through a Queue, where
multiprocessing's pickler passes the table's fd (as multiprocessing.heap
passes its arenas).  The child must then update the parent's table itself:
every total below is exact.  A module-global table would silently be a
second table in such a child; it raises instead.
"""

import multiprocessing
import os
import pickle
import socket
import subprocess
import sys
import textwrap
import unittest

from atomic_dict import AtomicDict, AtomicSet

METHODS = ("fork", "spawn", "forkserver")


def _af_unix_error():
    try:
        socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).close()
    except OSError as e:
        return e
    return None


# multiprocessing passes an fd to a Pool worker, through a Queue or to a
# forkserver over an AF_UNIX socket (resource_sharer).  The debug test
# kernels are built without CONFIG_NET; tests/vm/skips allows these skips
# there and only there.
NO_AF_UNIX = _af_unix_error()
needs_af_unix = unittest.skipIf(
    NO_AF_UNIX is not None,
    "no AF_UNIX sockets in this kernel (%s); multiprocessing passes fds over them" % NO_AF_UNIX)
HERE = os.path.dirname(os.path.abspath(__file__))


def _adds(d, key, n):
    for _ in range(n):
        d.add(key, 1)
        d[key + 1].add(2)
    return os.getpid()


def _from_queue(q, done):
    d = q.get()
    d[50].add(7)
    s = q.get()
    done.put(s.add(99))


def _pair_adds(d, n):
    for _ in range(n):
        d[(3, 4)].add(1)


def _pair_set_adds(s, n):
    return sum(s.add((k, k + 1)) for k in range(1, n + 1))


def _set_adds(s, keys):
    return sum(s.add(k) for k in keys)


class StartMethodTest(unittest.TestCase):
    def for_each_method(self, fn):
        for m in METHODS:
            with self.subTest(start_method=m):
                fn(multiprocessing.get_context(m))

    @needs_af_unix
    def test_pool_arguments_should_be_the_parents_table(self):
        def run(ctx):
            with AtomicDict(1000) as d:
                with ctx.Pool(2) as p:
                    pids = p.starmap(_adds, [(d, 10, 500)] * 6)
                self.assertNotIn(os.getpid(), pids)
                self.assertEqual(d.load(10), 6 * 500)
                self.assertEqual(d.load(11), 6 * 500 * 2)
        self.for_each_method(run)

    @needs_af_unix
    def test_process_argument_and_queue_should_be_the_parents_table(self):
        def run(ctx):
            with AtomicDict(100) as d, AtomicSet(100) as s:
                q, done = ctx.Queue(), ctx.Queue()
                p = ctx.Process(target=_adds, args=(d, 20, 100))
                p.start()
                p.join(60)
                self.assertEqual(p.exitcode, 0)
                p = ctx.Process(target=_from_queue, args=(q, done))
                p.start()
                q.put(d)
                q.put(s)
                self.assertIs(done.get(timeout=60), True)
                p.join(60)
                self.assertEqual(p.exitcode, 0)
                self.assertEqual((d.load(20), d.load(21), d.load(50)), (100, 200, 7))
                self.assertIn(99, s)
                self.assertIs(s.add(99), False)
        self.for_each_method(run)

    @needs_af_unix
    def test_composite_dicts_and_sets_should_be_shared_under_spawn_and_forkserver(self):
        for m in ("spawn", "forkserver"):
            with self.subTest(start_method=m):
                ctx = multiprocessing.get_context(m)
                with AtomicDict(100, 1, 1, 0, 1) as d, AtomicSet(3000, 2) as s:
                    with ctx.Pool(2) as p:
                        p.starmap(_pair_adds, [(d, 300)] * 4)
                        news = p.starmap(_pair_set_adds, [(s, 1000)] * 4)
                    self.assertEqual(d.load((3, 4)), 4 * 300)
                    self.assertEqual(d.info()["v32"], 1)
                    self.assertEqual(sum(news), 1000)
                    self.assertEqual(len(s), 1000)

    @needs_af_unix
    def test_set_adds_from_spawn_children_should_be_new_exactly_once(self):
        ctx = multiprocessing.get_context("spawn")
        with AtomicSet(5000) as s:
            with ctx.Pool(2) as p:
                news = p.starmap(_set_adds, [(s, range(1, 1001))] * 4)
            self.assertEqual(sum(news), 1000)
            self.assertEqual(len(s), 1000)

    def test_a_closed_table_should_not_be_passed(self):
        ctx = multiprocessing.get_context("spawn")
        d = AtomicDict(10)
        d.close()
        q = ctx.SimpleQueue()
        with self.assertRaises(ValueError) as cm:
            q.put(d)
        self.assertIn("closed", str(cm.exception))

    def test_plain_pickle_should_still_refuse_an_anonymous_table(self):
        with AtomicDict(10) as d:
            for proto in range(pickle.HIGHEST_PROTOCOL + 1):
                with self.assertRaises(TypeError):
                    pickle.dumps(d, proto)


class FromFdTest(unittest.TestCase):
    def test_from_fd_should_open_the_same_table(self):
        with AtomicDict(100) as d:
            d[1] = 5
            with AtomicDict.from_fd(d.fileno()) as e:
                self.assertNotEqual(e.fileno(), d.fileno())   # its own dup
                self.assertEqual(e.add(1, 1), 5)
                self.assertEqual(e.info()["capacity"], 100)
            self.assertEqual(d.load(1), 6)

    def test_from_fd_should_refuse_what_is_not_a_table(self):
        r, w = os.pipe()
        self.addCleanup(os.close, r)
        self.addCleanup(os.close, w)
        with self.assertRaises(OSError) as cm:
            AtomicDict.from_fd(r)
        self.assertIn("not an atomic_dict table", str(cm.exception))
        with self.assertRaises(OSError):
            AtomicDict.from_fd(10_000)
        with self.assertRaises(TypeError):
            AtomicDict.from_fd("3")


MODULE_GLOBAL = textwrap.dedent('''
    import multiprocessing, sys
    from atomic_dict import AtomicDict
    counters = AtomicDict(100)          # a module global

    def work():
        counters.add(1, 1)

    if __name__ == "__main__":
        ctx = multiprocessing.get_context(sys.argv[1])
        p = ctx.Process(target=work)
        p.start()
        p.join(60)
        print(p.exitcode, counters.load(1))
''')


class ModuleGlobalTest(unittest.TestCase):
    @needs_af_unix
    def test_module_global_table_in_a_spawn_child_should_raise(self):
        script = os.path.join(self.tmpdir(), "module_global.py")
        with open(script, "w") as f:
            f.write(MODULE_GLOBAL)
        for m in ("spawn", "forkserver"):
            with self.subTest(start_method=m):
                r = subprocess.run([sys.executable, script, m], capture_output=True,
                                   text=True, timeout=120)
                self.assertEqual(r.returncode, 0, r.stderr)
                # The child failed loudly; the parent's table is untouched.
                self.assertEqual(r.stdout.split(), ["1", "0"])
                self.assertIn("RuntimeError: an anonymous atomic_dict.AtomicDict "
                              "was created while multiprocessing imports", r.stderr)
        r = subprocess.run([sys.executable, script, "fork"], capture_output=True,
                           text=True, timeout=120)
        self.assertEqual(r.stdout.split(), ["0", "1"], r.stderr)  # fork shares it

    def tmpdir(self):
        import tempfile
        d = tempfile.TemporaryDirectory()
        self.addCleanup(d.cleanup)
        return d.name


if __name__ == "__main__":
    unittest.main()
