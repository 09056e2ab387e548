# SPDX-License-Identifier: MIT
"""Named tables on /dev/atomic_dict (the kernel module).

These run only where the device exists: inside the qemu VMs of tests/vm/
with the module loaded.  On a host without the module every test here is
skipped, saying so; test_atomic_dict.py then checks instead that named
tables raise KernelModuleNotLoadedError.
"""

import errno
import os
import pickle
import subprocess
import sys
import unittest

import atomic_dict
from atomic_dict import AtomicDict, AtomicSet

HAVE_DEVICE = os.path.exists(atomic_dict.DEVICE_PATH)
WHY = ("%s is absent: the atomic_dict kernel module is not loaded "
       "(the host cannot load modules; these tests run in the tests/vm/ VMs)"
       % atomic_dict.DEVICE_PATH)


def _name(tag):
    return "pytest-%d-%s" % (os.getpid(), tag)


@unittest.skipUnless(HAVE_DEVICE, WHY)
class NamedTableTest(unittest.TestCase):
    def make(self, tag, n=100, cls=AtomicDict, **kw):
        name = _name(tag)
        t = cls(n, name=name, **kw)
        self.addCleanup(self._unlink, name)
        self.addCleanup(t.close)
        return name, t

    @staticmethod
    def _unlink(name):
        try:
            atomic_dict.unlink(name)
        except FileNotFoundError:
            pass

    def test_load_half_should_reach_the_device_and_its_attachers(self):
        name, d = self.make("half", n=1000, load=0.5)
        self.assertEqual(d.info()["load"], 0.5)
        self.assertGreaterEqual((d.info()["buckets"] - 1) * 4, 2 * 1000)
        for k in range(1, 1001):
            d[k].add(1)
        with self.assertRaises(atomic_dict.TableFullError):
            d[5000] = 1
        with AtomicDict.attach(name) as e:
            self.assertEqual(e.info()["load"], 0.5)
            self.assertEqual(e.load(1000), 1)

    def test_named_table_should_be_shared_by_attach(self):
        name, d = self.make("share", mode=0o600)
        d[1].add(5)
        i = d.info()
        self.assertEqual(i["backend"], "device")
        self.assertEqual(i["name"], name)
        self.assertEqual(d.name, name)
        self.assertEqual(i["mode"], 0o600)
        self.assertEqual(i["uid"], os.getuid())
        self.assertEqual(i["access"], "readwrite")
        with AtomicDict.attach(name) as e:
            self.assertEqual(e.add(1, 1), 5)
            self.assertEqual(e.info()["id"], i["id"])
        self.assertEqual(d.load(1), 6)

    def test_unrelated_process_should_see_the_table(self):
        name, d = self.make("proc")
        code = ("import atomic_dict as a\n"
                "with a.AtomicDict.attach(%r) as d:\n"
                "    d.add_many([7] * 1000)\n" % name)
        r = subprocess.run([sys.executable, "-c", code], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(d.load(7), 1000)

    def test_readonly_attach_should_refuse_writes(self):
        name, d = self.make("ro")
        d[3] = 9
        with AtomicDict.attach(name, readonly=True) as r:
            self.assertEqual(r.info()["access"], "readonly")
            self.assertEqual(r.load(3), 9)
            self.assertEqual(r[3].load(), 9)
            self.assertEqual(r.load(4), 0)     # absent reads 0, inserts nothing
            self.assertNotIn(4, d)
            for call in (lambda: r.add(3, 1), lambda: r[3].add(1),
                         lambda: r.__setitem__(3, 1), lambda: r.add_many([3])):
                with self.assertRaises(PermissionError):
                    call()
        self.assertEqual(d.load(3), 9)

    def test_mediated_attach_should_run_granted_ops_only(self):
        grant = atomic_dict.GRANT_READ | (1 << atomic_dict.OP_ADD)
        name, d = self.make("med", grant=grant)
        d.load(2)   # the owner makes the key; the grant has no INSERT
        with AtomicDict.attach(name, mediated=True) as m:
            self.assertEqual(m.info()["access"], "mediated")
            self.assertEqual(m.add(2, 4), 0)
            self.assertEqual(m[2].add(1), 4)
            with self.assertRaises(PermissionError):
                m.store(2, 0)
        self.assertEqual(d.load(2), 5)

    def test_mediated_attach_without_insert_should_not_add_keys(self):
        grant = atomic_dict.GRANT_READ | (1 << atomic_dict.OP_ADD)
        name, d = self.make("medni", grant=grant)
        with AtomicDict.attach(name, mediated=True) as m:
            with self.assertRaises(KeyError) as cm:
                m.add(7, 1)
            self.assertIn("INSERT", str(cm.exception))
            self.assertEqual(m.load(7), 0)
        self.assertEqual(d.info()["used"], 0)
        grant |= 1 << atomic_dict.OP_INSERT
        name, d = self.make("medi", grant=grant)
        with AtomicDict.attach(name, mediated=True) as m:
            self.assertEqual(m.add(7, 1), 0)
        self.assertEqual(d.load(7), 1)

    def test_attach_by_owner_should_refuse_another_owner(self):
        name, d = self.make("owner", mode=0o644)
        d[1] = 5
        with AtomicDict.attach(name, readonly=True, owner=os.geteuid()) as r:
            self.assertEqual(r[1], 5)
        with self.assertRaises(PermissionError) as cm:
            AtomicDict.attach(name, readonly=True, owner=os.geteuid() + 4242)
        self.assertIn("not owned by uid", str(cm.exception))
        with self.assertRaises(TypeError):
            AtomicDict.attach(name, owner="root")
        with self.assertRaises(ValueError):
            AtomicDict.attach(name, owner=-1)

    def test_duplicate_and_unknown_names_should_raise_oserror(self):
        name, d = self.make("dup")
        with self.assertRaises(FileExistsError) as cm:
            AtomicDict(10, name=name)
        self.assertIn(name, str(cm.exception))
        with self.assertRaises(FileNotFoundError):
            AtomicDict.attach(_name("nosuch"))
        with self.assertRaises(FileNotFoundError):
            atomic_dict.unlink(_name("nosuch"))

    def test_unlinked_table_should_live_while_attached(self):
        name, d = self.make("unl")
        d[1] = 1
        atomic_dict.unlink(name)
        with self.assertRaises(FileNotFoundError):
            AtomicDict.attach(name)
        self.assertEqual(d.add(1, 1), 1)

    def test_pickled_named_table_should_attach_by_name(self):
        name, d = self.make("pkl")
        d[1] = 11
        e = pickle.loads(pickle.dumps(d))
        self.addCleanup(e.close)
        self.assertEqual(e.name, name)
        self.assertEqual(e.load(1), 11)

    def test_named_set_should_be_shared(self):
        name, s = self.make("set", cls=AtomicSet)
        self.assertTrue(s.add(1))
        with AtomicSet.attach(name) as t:
            self.assertFalse(t.add(1))
            self.assertEqual(list(t), [((1,), True)])   # the original's rows

    def test_named_composite_table_should_be_shared_by_attach(self):
        name, d = self.make("wide", 100, AtomicDict, k64=1, k32=1, v64=0, v32=1)
        d[(1, 2)].add(5)
        info = d.info()
        self.assertEqual((info["k64"], info["k32"], info["v32"]), (1, 1, 1))
        code = ("import atomic_dict as a\n"
                "with a.AtomicDict.attach(%r) as d:\n"
                "    assert d.info()['k32'] == 1\n"
                "    for _ in range(1000):\n"
                "        d[(1, 2)].add(1)\n"
                "    d.add((3, 4), -1)\n" % name)
        r = subprocess.run([sys.executable, "-c", code], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(d.load((1, 2)), 1005)
        self.assertEqual(d.load((3, 4)), 2**32 - 1)
        self.assertEqual(sorted(d), [((1, 2), 1005), ((3, 4), 2**32 - 1)])


if __name__ == "__main__":
    unittest.main()
