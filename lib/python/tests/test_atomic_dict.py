# SPDX-License-Identifier: MIT
"""atomic_dict on anonymous (memfd) tables: API, errors, sharing, lifetime."""

import errno
import gc
import multiprocessing
import os
import pickle
import sys
import tracemalloc
import unittest

import atomic_dict
from atomic_dict import (AtomicDict, AtomicSet, AtomicValue64, Error,
                         KernelModuleNotLoadedError, TableFullError)

U64 = 2**64
HAVE_DEVICE = os.path.exists(atomic_dict.DEVICE_PATH)
FORK = multiprocessing.get_context("fork")

# Tables shared with fork Pool workers: set before the pool forks.
_shared = None


def _pool_adds(task):
    d = _shared
    for i in range(10_000):
        d.add(1, 1)
        d[2].add(task)
        d.add(1000 + i % 7, 1)
    d[3].sub(1)
    return task


def _pool_set_adds(task):
    return sum(_shared.add(k) for k in range(1, 2001))


def _pool_cas_increments(task):
    # A CAS loop: lost updates would show as a wrong total.
    v = _shared[9]
    for _ in range(2000):
        while True:
            cur = v.load()
            if v.cas(cur, cur + 1) == cur:
                break
    return task


class ValueObjectTest(unittest.TestCase):
    def setUp(self):
        self.d = AtomicDict(64)
        self.addCleanup(self.d.close)

    def test_ops_should_return_the_previous_value(self):
        v = self.d[7]
        self.assertIsInstance(v, AtomicValue64)
        self.assertIs(type(self.d[(7,)]), atomic_dict.capi.AtomicValue64)
        self.assertEqual(v.load(), 0)          # new keys start at 0
        self.assertEqual(v.add(5), 0)
        self.assertEqual(v.add(), 5)           # delta defaults to 1
        self.assertEqual(v.sub(2), 6)
        self.assertEqual(v.sub(), 4)
        self.assertEqual(v.swap(0b1100), 3)
        self.assertEqual(v.band(0b0110), 0b1100)
        self.assertEqual(v.bor(0b0001), 0b0100)
        self.assertEqual(v.bxor(0b1111), 0b0101)
        self.assertEqual(v.store(42), 0b1010)
        self.assertEqual(v.load(), 42)
        self.assertEqual(v.key, 7)
        self.assertIs(v.table, self.d)

    def test_cas_should_return_the_observed_value(self):
        v = self.d[8]
        self.assertEqual(v.cas(0, 10), 0)      # swapped: observed == expected
        self.assertEqual(v.load(), 10)
        self.assertEqual(v.cas(0, 20), 10)     # not swapped: observed != expected
        self.assertEqual(v.load(), 10)

    def test_values_should_wrap_modulo_2_64(self):
        v = self.d[9]
        self.assertEqual(v.sub(1), 0)
        self.assertEqual(v.load(), U64 - 1)
        self.assertEqual(v.add(1), U64 - 1)
        self.assertEqual(v.load(), 0)

    def test_negative_arguments_should_be_twos_complement(self):
        v = self.d[10]
        v.store(5)
        self.assertEqual(v.add(-1), 5)         # add(-1) == sub(1)
        self.assertEqual(v.load(), 4)
        v.store(0b111)
        v.band(~0b010)                         # ~m is negative in Python
        self.assertEqual(v.load(), 0b101)
        v.store(-1)
        self.assertEqual(v.load(), U64 - 1)    # results are always unsigned
        v.store(-2**63)
        self.assertEqual(v.load(), 2**63)
        v.store(U64 - 1)
        self.assertEqual(v.cas(-1, 3), U64 - 1)
        self.assertEqual(v.load(), 3)

    def test_value_should_compare_and_convert_as_its_int(self):
        self.d[11] = 5
        self.assertEqual(self.d[11], 5)
        self.assertTrue(self.d[11] < 6)
        self.assertTrue(6 > self.d[11])
        self.assertEqual(int(self.d[11]), 5)
        self.assertEqual(list(range(self.d[11])), [0, 1, 2, 3, 4])
        self.assertEqual(repr(self.d[11]), "AtomicValue64(key=11, value=5)")
        self.assertIs(bool(self.d[11]), True)      # bool follows the value
        self.assertIs(bool(self.d[12]), False)
        with self.assertRaises(TypeError):
            hash(self.d[11])

    def test_subscript_should_insert_the_key_like_the_original(self):
        self.assertNotIn(12, self.d)
        self.d[12]
        self.assertIn(12, self.d)
        self.assertEqual(self.d.find(12), 0)

    def test_value_object_should_keep_its_table_alive(self):
        v = AtomicDict(4)[3]
        gc.collect()
        self.assertEqual(v.add(2), 0)
        self.assertEqual(v.table.load(3), 2)

    def test_wrong_argument_counts_should_raise_typeerror(self):
        v = self.d[1]
        for call in (lambda: v.swap(), lambda: v.add(1, 2), lambda: v.cas(1),
                     lambda: v.load(1), lambda: v.store()):
            with self.assertRaises(TypeError):
                call()


class DirectMethodTest(unittest.TestCase):
    def setUp(self):
        self.d = AtomicDict(64)
        self.addCleanup(self.d.close)

    def test_direct_ops_should_match_value_object_ops(self):
        d = self.d
        self.assertEqual(d.add(5, 3), 0)
        self.assertEqual(d.add(5), 3)
        self.assertEqual(d.sub(5, 2), 4)
        self.assertEqual(d.sub(5), 2)
        self.assertEqual(d.swap(5, 0b1100), 1)
        self.assertEqual(d.band(5, 0b0110), 0b1100)
        self.assertEqual(d.bor(5, 1), 0b0100)
        self.assertEqual(d.bxor(5, 0b1111), 0b0101)
        self.assertEqual(d.store(5, 7), 0b1010)
        self.assertEqual(d.load(5), 7)
        self.assertEqual(d.cas(5, 7, 8), 7)
        self.assertEqual(d.cas(5, 7, 9), 8)
        self.assertEqual(d[5].load(), 8)

    def test_find_should_not_insert(self):
        self.assertIsNone(self.d.find(6))
        self.assertEqual(self.d.find(6, -1), -1)
        self.assertNotIn(6, self.d)
        self.assertEqual(len(self.d), 0)
        self.assertEqual(self.d.load(6), 0)    # load inserts, as d[6] does
        self.assertIn(6, self.d)
        self.assertEqual(self.d.find(6), 0)

    def test_insert_should_say_whether_the_key_was_new(self):
        self.assertIs(self.d.insert(4), True)
        self.assertIs(self.d.insert(4), False)

    def test_setitem_should_store(self):
        self.d[1] = 52
        self.d[U64 - 1] = U64 - 1
        self.assertEqual(self.d.load(1), 52)
        self.assertEqual(self.d.load(U64 - 1), U64 - 1)

    def test_len_should_count_keys(self):
        for k in (1, 2, 3, 2, 1):
            self.d.add(k)
        self.assertEqual(len(self.d), 3)
        self.assertEqual(self.d.info()["used"], 3)


class ResultTest(unittest.TestCase):
    """Every result is an int of its own: one the caller keeps never changes.

    On CPython 3.10 and 3.11 the extension writes a new result into its
    last one when nothing else holds that (Documentation/python.rst,
    Performance); these tests hold results while more are made, and check
    values of every digit count, so a result rewritten while held, or a
    digit count left stale, fails them.
    """

    def setUp(self):
        self.d = AtomicDict(64, k64=1, k32=0, v64=1, v32=0)
        self.addCleanup(self.d.close)

    def test_held_results_should_keep_their_values(self):
        d = self.d
        held = [d.add(7, 1000) for _ in range(100)]
        self.assertEqual(held, [1000 * i for i in range(100)])
        held = [d[7].add(1) for _ in range(100)]
        self.assertEqual(held, list(range(100_000, 100_100)))
        held = [d.load(7) for _ in range(3)]
        self.assertEqual(held, [100_100] * 3)
        a = d.add(7, 2**40)
        b = d.add(7, 2**40)
        self.assertEqual((a, b), (100_100, 2**40 + 100_100))

    def test_results_of_every_size_should_be_exact(self):
        d = self.d
        sizes = [257, 2**30 - 1, 2**30, 2**60 - 1, 2**60, 2**63, U64 - 1,
                 300, U64 - 1, 2**31, 1000, 0, 5, 256]
        for x in sizes:
            d.store(9, x)
            for got in (d.load(9), d[9].load(), int(d[9]), d.swap(9, x)):
                self.assertEqual(got, x)
                self.assertEqual(str(got), str(x))
                self.assertEqual(hash(got), hash(x))
                self.assertEqual(got.bit_length(), x.bit_length())
                self.assertEqual(got - x, 0)

    def test_a_result_kept_in_a_dict_should_stay_found(self):
        d = self.d
        d.store(3, 10**6)
        seen = {d.load(3): "first"}
        for _ in range(10):
            d.add(3, 1)
            d.load(3)
        self.assertEqual(seen, {10**6: "first"})
        self.assertIn(10**6, seen)

    def test_a_result_passed_back_as_an_argument_should_be_its_value(self):
        d = self.d
        d.store(4, 5000)
        self.assertEqual(d.add(5, d.load(4)), 0)
        self.assertEqual(d.add(5, d.load(4)), 5000)
        self.assertEqual(d.load(5), 10_000)
        d.store(4, d.add(5, d.load(5)))
        self.assertEqual((d.load(4), d.load(5)), (10_000, 20_000))

    def test_32_bit_results_should_be_exact_too(self):
        d = AtomicDict(16, 1, 0, 0, 1)
        self.addCleanup(d.close)
        held = [d[1].add(2**31 - 7) for _ in range(4)]
        self.assertEqual(held, [(i * (2**31 - 7)) % 2**32 for i in range(4)])


class IterationTest(unittest.TestCase):
    def test_iteration_should_yield_every_pair_once(self):
        with AtomicDict(1000) as d:
            want = {k * 7919 % (U64 - 1) + 1: k for k in range(1, 1001)}
            for k, v in want.items():
                d[k] = v
            rows = list(d)
            self.assertEqual(len(rows), 1000)
            # The original's rows: ((key,), value), the key as a tuple.
            self.assertTrue(all(isinstance(r, tuple) and len(r) == 2 and
                                isinstance(r[0], tuple) and len(r[0]) == 1
                                for r in rows))
            self.assertEqual({k[0]: v for k, v in rows}, want)
            self.assertEqual(dict(d.items()), want)
            self.assertEqual(sorted(d.keys()), sorted(want))
            self.assertEqual(sorted(d.values()), sorted(want.values()))

    def test_iteration_of_an_empty_table_should_yield_nothing(self):
        with AtomicDict(8) as d:
            self.assertEqual(list(d), [])

    def test_iterating_a_closed_table_should_raise(self):
        d = AtomicDict(8)
        d[1] = 1
        it = iter(d)
        d.close()
        with self.assertRaises(ValueError):
            next(it)


class ErrorTest(unittest.TestCase):
    def setUp(self):
        self.d = AtomicDict(4)
        self.addCleanup(self.d.close)

    def test_bad_keys_should_raise_and_name_the_word(self):
        # As the original: 0 is ValueError, a word out of range OverflowError.
        d = self.d
        for key, exc in ((0, ValueError), ((0,), ValueError), (-1, OverflowError),
                         (-2**70, OverflowError), (U64, OverflowError),
                         ((U64,), OverflowError), (U64 + 1, OverflowError),
                         (2**100, OverflowError)):
            for call in (lambda: d[key], lambda: d.add(key, 1), lambda: d.load(key),
                         lambda: d.__setitem__(key, 1), lambda: d.find(key),
                         lambda: key in d, lambda: d.cas(key, 0, 1),
                         lambda: d[key].add(1), lambda: d.add_many([1, key])):
                with self.assertRaises(exc, msg=repr(key)) as cm:
                    call()
                self.assertIn("key word 1 of 1 (64-bit)", str(cm.exception))
                self.assertIn("1..2**64-1", str(cm.exception))
        self.assertEqual(len(d), 0, "a bad key reached the table")

    def test_tuple_keys_should_be_the_same_key_as_ints(self):
        d = self.d
        d[(3,)] = 30
        self.assertEqual(d[3], 30)
        self.assertEqual(d.add((3,), 1), 30)
        self.assertIn((3,), d)
        self.assertEqual(d.find((3,)), 31)
        self.assertEqual(d.add_many([(3,), 3]), [31, 32])
        self.assertEqual(d[(U64 - 1,)].add(1), 0)
        self.assertEqual(len(d), 2)
        for key in ((), (1, 2), (1, 2, 3)):
            with self.assertRaises(TypeError, msg=repr(key)) as cm:
                d[key]
            self.assertIn("1 key word (k64=1, k32=0)", str(cm.exception))
        with self.assertRaises(TypeError):
            d[((1,),)]

    def test_non_integer_keys_should_raise_typeerror(self):
        for key in (1.0, "1", None, (1.0,), ("1",)):
            with self.assertRaises(TypeError):
                self.d[key]
            with self.assertRaises(TypeError):
                self.d.add(key, 1)

    def test_extreme_keys_should_be_accepted(self):
        self.d[1] = 1
        self.d[U64 - 1] = 2
        self.d[2**63] = 3
        self.assertEqual(dict(self.d.items()), {1: 1, U64 - 1: 2, 2**63: 3})

    def test_values_out_of_range_should_raise_overflowerror(self):
        d = self.d
        for val in (U64, -2**63 - 1, 2**100):
            for call in (lambda: d.__setitem__(1, val), lambda: d[1].add(val),
                         lambda: d.add(1, val), lambda: d[1].cas(val, 0),
                         lambda: d[1].cas(0, val), lambda: d.add_many([1], val)):
                with self.assertRaises(OverflowError) as cm:
                    call()
                self.assertIn("-2**63..2**64-1", str(cm.exception))
        self.assertEqual(d.load(1), 0)

    def test_full_table_should_raise_and_name_the_capacity(self):
        d = self.d
        for k in range(1, 5):                  # capacity 4: exactly 4 keys fit
            d[k].add(1)
        self.assertEqual(len(d), 4)
        for call in (lambda: d[5], lambda: d.add(5, 1), lambda: d.__setitem__(5, 1),
                     lambda: d.load(5), lambda: d.insert(5)):
            with self.assertRaises(TableFullError) as cm:
                call()
            e = cm.exception
            self.assertIsInstance(e, Error)
            self.assertIsInstance(e, ValueError)   # the original raised ValueError
            self.assertIn("capacity is 4 keys", str(e))
        self.assertNotIn(5, d)
        self.assertEqual(d.add(4, 1), 1)       # present keys still work
        self.assertIsNone(d.find(5))           # find never needs room

    def test_bad_capacity_should_raise_valueerror(self):
        for n in (0, -1, atomic_dict.CAPACITY_MAX + 1, U64):
            with self.assertRaises(ValueError):
                AtomicDict(n)
        with self.assertRaises(TypeError):
            AtomicDict("10")

    def test_delete_should_raise_typeerror(self):
        self.d[1] = 1
        with self.assertRaises(TypeError) as cm:
            del self.d[1]
        self.assertIn("never be removed", str(cm.exception))

    def test_closed_table_should_raise_valueerror(self):
        d = AtomicDict(4)
        v = d[1]
        d.close()
        d.close()                              # harmless twice
        self.assertTrue(d.closed)
        for call in (lambda: d[1], lambda: d.add(1, 1), lambda: v.add(1),
                     lambda: v.load(), lambda: len(d), lambda: 1 in d,
                     lambda: list(d), lambda: d.info(), lambda: d.add_many([1])):
            with self.assertRaises(ValueError) as cm:
                call()
            self.assertIn("closed", str(cm.exception))

    @unittest.skipIf(HAVE_DEVICE, "/dev/atomic_dict exists: this test needs it absent")
    def test_named_table_without_device_should_say_module_not_loaded(self):
        for call in (lambda: AtomicDict(10, name="counters"),
                     lambda: AtomicDict(10, name="counters", mode=0o644),
                     lambda: AtomicDict.attach("counters"),
                     lambda: AtomicDict.attach("counters", readonly=True),
                     lambda: AtomicSet(10, name="s"),
                     lambda: atomic_dict.unlink("counters"),
                     lambda: AtomicDict(10, backend="device")):
            with self.assertRaises(KernelModuleNotLoadedError) as cm:
                call()
            e = cm.exception
            self.assertIsInstance(e, Error)
            self.assertIsInstance(e, OSError)
            self.assertEqual(e.errno, errno.ENODEV)
            self.assertIn("kernel module is not loaded", str(e))
            self.assertIn("modprobe atomic_dict", str(e))

    def test_bad_names_and_options_should_raise_before_the_device(self):
        for kw in ({"name": ""}, {"name": "x" * 64}, {"name": "a\0b"},
                   {"name": "x", "mode": 0o1000}, {"name": "x", "mode": -1},
                   {"name": "x", "grant": 1 << 20}, {"backend": "tmpfs"},
                   {"name": "x", "backend": "memfd"}):
            with self.assertRaises(ValueError, msg=repr(kw)):
                AtomicDict(10, **kw)
        with self.assertRaises(TypeError):
            AtomicDict(10, name=b"x")
        with self.assertRaises(ValueError):
            atomic_dict.unlink("")

    def test_an_index_method_closing_the_table_should_raise_valueerror(self):
        # Python code run by a conversion (__index__) must not leave the
        # call on a closed table's freed mapping.
        class Closer:
            def __init__(self, table, value):
                self.table, self.value = table, value

            def __index__(self):
                self.table.close()
                return self.value

        for geometry in ((1, 0, 1, 0), (1, 1, 0, 1)):
            key = 5 if geometry[1] == 0 else (5, 6)
            calls = [lambda d: d.add(key, Closer(d, 1)),
                     lambda d: d.cas(key, 0, Closer(d, 1)),
                     lambda d: d.__setitem__(key, Closer(d, 1)),
                     lambda d: d.add_many([key], [Closer(d, 1)]),
                     lambda d: d[key].add(Closer(d, 1)),
                     lambda d: d[(5, Closer(d, 6)) if geometry[1] else Closer(d, 5)]]
            for call in calls:
                d = AtomicDict(10, *geometry)
                with self.assertRaises(ValueError) as cm:
                    call(d)
                self.assertIn("closed", str(cm.exception))

    def test_pickling_an_anonymous_table_should_raise_typeerror(self):
        with self.assertRaises(TypeError) as cm:
            pickle.dumps(self.d)
        self.assertIn("multiprocessing passes it", str(cm.exception))
        with open(os.devnull, "wb") as f, self.assertRaises(TypeError):
            pickle.dump(self.d, f)


class BatchTest(unittest.TestCase):
    def setUp(self):
        self.d = AtomicDict(100)
        self.addCleanup(self.d.close)

    def test_add_many_should_return_previous_values(self):
        d = self.d
        self.assertEqual(d.add_many([1, 2, 3]), [0, 0, 0])
        self.assertEqual(d.add_many([1, 2, 1]), [1, 1, 2])    # in order
        self.assertEqual(d.add_many((1, 2), delta=10), [3, 2])
        self.assertEqual(d.add_many(range(1, 4), [100, 200, -3]), [13, 12, 1])
        self.assertEqual(d.load_many([1, 2, 3]), [113, 212, U64 - 2])
        self.assertEqual(d.add_many([]), [])
        self.assertEqual(d.load_many(iter([3])), [U64 - 2])

    def test_bad_batches_should_raise_before_applying(self):
        d = self.d
        with self.assertRaises(ValueError):
            d.add_many([1, 2], [1])
        with self.assertRaises(ValueError):
            d.add_many([1, 0, 2])
        with self.assertRaises(OverflowError):
            d.load_many([1, -5])
        with self.assertRaises(OverflowError):
            d.add_many([1, 2], [1, 2**64])
        with self.assertRaises(TypeError):
            d.add_many(5)
        self.assertEqual(len(d), 0, "a refused batch changed the table")

    def test_keys_resized_by_an_index_method_should_raise_runtimeerror(self):
        # A key that is not an exact int runs __index__, which may resize
        # the very list being read: the keys after it (exact ints, read in
        # place) must not be read past the list's new end.
        for cut in (1, 0):
            keys = [1, 2, 3, 4] * 300

            class Shrinker:
                def __index__(self, keys=keys, cut=cut):
                    del keys[cut:]
                    return 5

            keys[1] = Shrinker()
            with self.subTest(cut=cut), self.assertRaises(RuntimeError) as cm:
                self.d.add_many(keys)
            self.assertIn("changed size during the call", str(cm.exception))
            self.assertEqual(len(self.d), 0, "a refused batch changed the table")

    def test_full_table_mid_batch_should_raise_after_applying_the_prefix(self):
        with AtomicDict(3) as d:
            with self.assertRaises(TableFullError) as cm:
                d.add_many([1, 2, 3, 4, 5])
            self.assertIn("capacity is 3 keys", str(cm.exception))
            if sys.version_info >= (3, 11):
                self.assertIn("the first 3 of 5 keys", " ".join(cm.exception.__notes__))
            self.assertEqual(dict(d.items()), {1: 1, 2: 1, 3: 1})

    def test_large_batch_should_match_single_ops(self):
        keys = [k % 97 + 1 for k in range(10_000)]
        self.d.add_many(keys)
        want = {}
        for k in keys:
            want[k] = want.get(k, 0) + 1
        self.assertEqual(dict(self.d.items()), want)


class SetTest(unittest.TestCase):
    def test_set_add_should_say_whether_the_key_was_new(self):
        with AtomicSet(10) as s:
            self.assertIs(s.add(5), True)
            self.assertIs(s.add(5), False)
            self.assertIs(s.add(U64 - 1), True)
            self.assertIn(5, s)
            self.assertNotIn(6, s)
            self.assertEqual(len(s), 2)
            self.assertEqual(sorted(s.keys()), [5, U64 - 1])
            self.assertEqual(sorted(s), [((5,), True), ((U64 - 1,), True)])
            self.assertIs(s.add((5,)), False)
            self.assertEqual(s.add_many([5, 6, 6]), [False, True, False])
            self.assertFalse(hasattr(s, "__getitem__"))
            with self.assertRaises(ValueError):
                s.add(0)

    def test_full_set_should_raise(self):
        with AtomicSet(2) as s:
            s.add(1)
            s.add(2)
            with self.assertRaises(TableFullError):
                s.add(3)
            self.assertIs(s.add(2), False)


class ContextManagerTest(unittest.TestCase):
    def test_with_should_close_on_exit(self):
        with AtomicDict(8) as d:
            self.assertIsInstance(d, AtomicDict)
            d[1].add(1)
            self.assertFalse(d.closed)
        self.assertTrue(d.closed)

    def test_with_should_close_and_propagate_on_exception(self):
        with self.assertRaises(KeyError):
            with AtomicDict(8) as d:
                raise KeyError("boom")
        self.assertTrue(d.closed)

    def test_entering_a_closed_table_should_raise(self):
        d = AtomicDict(8)
        d.close()
        with self.assertRaises(ValueError):
            with d:
                pass


class InfoTest(unittest.TestCase):
    def test_info_should_describe_a_memfd_table(self):
        with AtomicDict(1000, backend="memfd") as d:
            d[1] = 1
            i = d.info()
            self.assertEqual(i["capacity"], 1000)
            self.assertEqual(d.capacity, 1000)
            self.assertGreaterEqual(i["buckets"] * 4 * 3, 1000 * 4)  # load <= 3/4
            self.assertEqual(i["bytes"], 4096 + i["buckets"] * 64)
            self.assertEqual(i["used"], 1)
            self.assertEqual(i["backend"], "memfd")
            self.assertEqual(i["access"], "readwrite")
            self.assertIsNone(i["name"])
            self.assertIsNone(d.name)
            for k in ("id", "uid", "gid", "mode", "grant", "users"):
                self.assertIsNone(i[k], k)
            self.assertEqual(i["load"], 0.75)

    def test_load_half_should_double_the_rows_and_keep_max_entries(self):
        with AtomicDict(1000, backend="memfd") as d3, \
                AtomicDict(1000, backend="memfd", load=0.5) as d2, \
                AtomicSet(1000, backend="memfd", load=0.5) as s2:
            for t in (d2, s2):
                i = t.info()
                self.assertEqual(i["load"], 0.5)
                self.assertEqual(i["capacity"], 1000)
                self.assertGreaterEqual((i["buckets"] - 1) * 4, 2 * 1000)
                self.assertGreater(i["buckets"], d3.info()["buckets"])
            for k in range(1, 1001):
                d2[k].add(k)
            self.assertEqual(len(d2), 1000)
            with self.assertRaises(TableFullError):
                d2[5000] = 1
            self.assertEqual(sum(v for _, v in d2.items()), 1000 * 1001 // 2)
        for bad in (0.6, 1, 0.0, -0.5):
            with self.assertRaises(ValueError, msg=repr(bad)):
                AtomicDict(10, backend="memfd", load=bad)
        for bad in ("1/2", [0.5]):
            with self.assertRaises(TypeError, msg=repr(bad)):
                AtomicDict(10, backend="memfd", load=bad)


class ForkTest(unittest.TestCase):
    def test_fork_pool_should_give_exact_totals(self):
        global _shared
        with AtomicDict(1000) as d:
            _shared = d
            tasks = 8
            with FORK.Pool(4) as p:
                self.assertEqual(sorted(p.map(_pool_adds, range(tasks))),
                                 list(range(tasks)))
            self.assertEqual(d.load(1), tasks * 10_000)
            self.assertEqual(d.load(2), 10_000 * sum(range(tasks)))
            self.assertEqual(d.load(3), U64 - tasks)
            per_key = [d.load(1000 + j) for j in range(7)]
            self.assertEqual(sum(per_key), tasks * 10_000)
            self.assertEqual(per_key, [tasks * len(range(j, 10_000, 7)) for j in range(7)])

    def test_fork_pool_cas_loops_should_lose_no_update(self):
        global _shared
        with AtomicDict(10) as d:
            _shared = d
            with FORK.Pool(4) as p:
                p.map(_pool_cas_increments, range(8))
            self.assertEqual(d.load(9), 8 * 2000)

    def test_set_add_across_processes_should_be_new_exactly_once(self):
        global _shared
        with AtomicSet(5000) as s:
            _shared = s
            with FORK.Pool(4) as p:
                news = p.map(_pool_set_adds, range(6))
            self.assertEqual(sum(news), 2000)
            self.assertEqual(len(s), 2000)

    def test_child_writes_should_be_visible_to_the_parent(self):
        with AtomicDict(10) as d:
            pid = os.fork()
            if pid == 0:
                try:
                    d[1] = 123
                    d.close()              # the child's close unmaps only its copy
                finally:
                    os._exit(0)
            os.waitpid(pid, 0)
            self.assertEqual(d.load(1), 123)


class LeakTest(unittest.TestCase):
    def test_value_objects_should_release_their_table(self):
        d = AtomicDict(8)
        base = sys.getrefcount(d)
        vals = [d[1] for _ in range(100)]
        self.assertEqual(sys.getrefcount(d), base + 100)
        del vals
        self.assertEqual(sys.getrefcount(d), base)
        it = iter(d)
        self.assertEqual(sys.getrefcount(d), base + 1)
        del it
        self.assertEqual(sys.getrefcount(d), base)

    def test_operations_should_not_grow_memory(self):
        d = AtomicDict(64)
        keys = list(range(1, 33))

        def work():
            for k in keys:
                d[k].add(2**40)
                d.add(k, 2**40)
                d.load(k)
                d[k] = 2**63
                d[k].cas(2**63, 2**62)
                list(d)
                d.add_many(keys)
                d.load_many(keys)
                try:
                    d[0]
                except ValueError:
                    pass
                try:
                    d.add(k, U64)
                except OverflowError:
                    pass
        work()
        tracemalloc.start()
        try:
            work()
            before = tracemalloc.get_traced_memory()[0]
            for _ in range(20):
                work()
            grown = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
        self.assertLess(grown, 16 * 1024, "memory grew by %d bytes" % grown)

    def test_tables_should_release_fds_and_mappings(self):
        def counts():
            # table mappings only: malloc's own mappings may split or merge
            with open("/proc/self/maps") as maps:
                return len(os.listdir("/proc/self/fd")), sum(
                    1 for line in maps
                    if "memfd:atomic_dict" in line or "/dev/atomic_dict" in line)
        for _ in range(5):
            AtomicDict(100).close()
        before = counts()
        for i in range(200):
            d = AtomicDict(1000)
            d[i + 1].add(1)
            if i % 2:
                d.close()
            del d                  # dealloc closes the others
        gc.collect()
        self.assertEqual(counts(), before)


class SignatureTest(unittest.TestCase):
    """The original's positional parameters; the extras keyword-only."""

    def test_original_positional_parameters_should_be_accepted(self):
        for d in (AtomicDict(10, 1), AtomicDict(10, 1, 0), AtomicDict(10, 1, 0, 1, 0),
                  AtomicDict(max_entries=10, k64=1, k32=0, v64=1, v32=0)):
            with d:
                d[1].add(1)
                self.assertEqual((d.info()["k64"], d.info()["v64"]), (1, 1))
        for s in (AtomicSet(10, 1), AtomicSet(10, 1, 0), AtomicSet(10, k64=1, k32=0)):
            with s:
                self.assertIs(s.add(1), True)
                self.assertEqual(s.info()["v64"], 0)

    def test_bad_geometry_should_raise_valueerror_saying_why(self):
        cases = [
            (lambda: AtomicDict(10, -1), "non-negative"),
            (lambda: AtomicDict(10, 0, 0), "at least one word"),
            (lambda: AtomicDict(10, 1, 0, 1, 1), "exactly one value"),
            (lambda: AtomicDict(10, 1, 0, 0, 0), "exactly one value"),
            (lambda: AtomicDict(10, 8, 0, 1, 0), "exceeds the 64 bytes"),
            (lambda: AtomicSet(10, 0, 17), "exceeds the 64 bytes"),
            (lambda: AtomicDict(10, 7, 1, 1, 0), "exceeds the 64 bytes"),
        ]
        for call, text in cases:
            with self.assertRaises(ValueError) as cm:
                call()
            self.assertIn(text, str(cm.exception))

    def test_extras_should_be_keyword_only(self):
        with self.assertRaises(TypeError):
            AtomicDict(10, 1, 0, 1, 0, "name")
        with self.assertRaises(TypeError):
            AtomicSet(10, 1, 0, "name")
        with AtomicDict(10, backend="memfd") as d:
            self.assertEqual(d.info()["backend"], "memfd")

    def test_keyword_arguments_should_work_as_documented(self):
        with AtomicDict(10) as d:
            self.assertEqual(d.add(7, delta=2), 0)
            self.assertEqual(d.add(key=7), 2)
            self.assertEqual(d.sub(7, delta=1), 3)
            self.assertEqual(d.store(key=7, value=10), 2)
            self.assertEqual(d.swap(7, value=11), 10)
            self.assertEqual(d.band(7, mask=0b1010), 11)
            self.assertEqual(d.bor(7, mask=1), 0b1010)
            self.assertEqual(d.bxor(7, mask=1), 0b1011)
            self.assertEqual(d.cas(7, expected=0b1010, desired=1), 0b1010)
            self.assertEqual(d.load(key=7), 1)
            self.assertEqual(d.find(8, default=-1), -1)
            self.assertIs(d.insert(key=8), True)
            self.assertEqual(d.add_many(keys=[7, 8], delta=[1, 2]), [1, 0])
            self.assertEqual(d.load_many(keys=[7, 8]), [2, 2])
            v = d[7]
            self.assertEqual(v.add(delta=3), 2)
            self.assertEqual(v.sub(delta=1), 5)
            self.assertEqual(v.store(value=9), 4)
            self.assertEqual(v.swap(value=8), 9)
            self.assertEqual(v.band(mask=12), 8)
            self.assertEqual(v.bor(mask=1), 8)
            self.assertEqual(v.bxor(mask=1), 9)
            self.assertEqual(v.cas(expected=8, desired=0), 8)
            self.assertEqual(v.load(), 0)
        with AtomicSet(10) as s:
            self.assertIs(s.add(key=3), True)
            self.assertEqual(s.add_many(keys=[3, 4]), [False, True])

    def test_bad_keyword_arguments_should_raise_typeerror_naming_them(self):
        with AtomicDict(10) as d:
            cases = [
                (lambda: d.add(7, delt=2), "unexpected keyword argument 'delt'"),
                (lambda: d.add(7, key=7), "multiple values for argument 'key'"),
                (lambda: d.add(delta=1), "missing required argument 'key'"),
                (lambda: d[1].cas(expected=1), "missing required argument 'desired'"),
                (lambda: d.add(1, 2, 3), "takes from 1 to 2 arguments (3 given)"),
                (lambda: d.cas(1, 2), "takes exactly 3 arguments (2 given)"),
                (lambda: d[1].add(1, delta=1), "multiple values for argument 'delta'"),
            ]
            for call, text in cases:
                with self.assertRaises(TypeError) as cm:
                    call()
                self.assertIn(text, str(cm.exception))
            self.assertEqual(list(d.keys()), [1])    # d[1] of the last ones only

    def test_option_errors_should_be_formatted(self):
        with self.assertRaises(ValueError) as cm:
            AtomicDict(10, mode=0o7777)
        self.assertEqual(str(cm.exception),
                         "mode must be permission bits in 0..0o777, got 0o7777")
        with self.assertRaises(ValueError) as cm:
            AtomicDict(10, grant=1 << 20)
        self.assertIn("got 1048576", str(cm.exception))
        self.assertNotIn("%", str(cm.exception))


class ChunkedBatchTest(unittest.TestCase):
    def test_batches_across_chunks_should_match_single_ops(self):
        with AtomicDict(60_000) as d, AtomicDict(60_000) as e:
            keys = [(k * 2654435761) % (U64 - 1) + 1 for k in range(50_000)]
            keys += keys[:1000]                 # repeats, in a later chunk
            old = d.add_many(keys, 3)
            want = [e.add(k, 3) for k in keys]
            self.assertEqual(old, want)
            self.assertEqual(d.load_many(keys), [e.load(k) for k in keys])
            self.assertEqual(sorted(d.items()), sorted(e.items()))

    def test_a_bad_key_in_a_late_chunk_should_apply_nothing(self):
        with AtomicDict(5000) as d:
            keys = list(range(1, 3000)) + [0]
            with self.assertRaises(ValueError):
                d.add_many(keys)
            with self.assertRaises(OverflowError):
                d.add_many(list(range(1, 3000)), [1] * 2998 + [U64])
            self.assertEqual(len(d), 0)

    def test_full_table_in_a_late_chunk_should_apply_the_prefix(self):
        with AtomicDict(1500) as d:
            with self.assertRaises(TableFullError) as cm:
                d.add_many(range(1, 2001))
            if sys.version_info >= (3, 11):
                self.assertIn("the first 1500 of 2000 keys", " ".join(cm.exception.__notes__))
            self.assertEqual(len(d), 1500)
            self.assertEqual(set(d.values()), {1})
        with AtomicSet(700) as s:
            with self.assertRaises(TableFullError):
                s.add_many(range(1, 1001))
            self.assertEqual(len(s), 700)


# Fork pool workers on the composite and 32-bit tables below.
_wide = None


def _wide_adds(task):
    d = _wide
    for i in range(2000):
        d[(task + 1, 7, 9)].add(1)          # each task its own key
        d[(1, 1, 1)].add(1)                 # and one shared key
        d.add((2, 2, 2 + i % 5), 3)
    return task


class CompositeKeyTest(unittest.TestCase):
    """The original's geometries (table format v2)."""

    def test_composite_keys_should_name_each_word(self):
        with AtomicDict(100, 2, 1, 1, 0) as d:
            d[(1, 2, 3)].add(5)
            self.assertEqual(d[(1, 2, 3)], 5)
            self.assertEqual(d.load((1, 2, 3)), 5)
            self.assertNotIn((1, 2, 4), d)
            self.assertEqual(d.info()["k64"], 2)
            self.assertEqual(d.info()["k32"], 1)
            cases = [((0, 2, 3), ValueError, "key word 1 of 3 (64-bit)"),
                     ((1, 2, 0), ValueError, "key word 3 of 3 (32-bit)"),
                     ((1, 2, 2**32), OverflowError, "key word 3 of 3 (32-bit)"),
                     ((1, U64, 3), OverflowError, "key word 2 of 3 (64-bit)"),
                     ((1, -1, 3), OverflowError, "key word 2 of 3 (64-bit)"),
                     ((1, 2), TypeError, "3 key words (k64=2, k32=1)"),
                     (1, TypeError, "a tuple of 3 ints"),
                     ((1, 2, "3"), TypeError, "key word 3 of 3 must be an int")]
            for key, exc, text in cases:
                for call in (lambda: d[key], lambda: d.add(key, 1),
                             lambda: d.__setitem__(key, 1), lambda: key in d,
                             lambda: d.add_many([(1, 2, 3), key])):
                    with self.assertRaises(exc, msg=repr(key)) as cm:
                        call()
                    self.assertIn(text, str(cm.exception))
            self.assertEqual(len(d), 1, "a bad key reached the table")
            self.assertEqual(d.load((1, 2, 3)), 5, "a refused batch applied")

    def test_composite_iteration_should_yield_the_original_rows(self):
        with AtomicDict(100, 1, 1) as d, AtomicSet(100, 1, 1) as s:
            d[(5, 6)] = 7
            s.add((8, 9))
            self.assertEqual(list(d), [((5, 6), 7)])
            self.assertEqual(list(d.items()), [((5, 6), 7)])
            self.assertEqual(list(d.keys()), [(5, 6)])
            self.assertEqual(list(s), [((8, 9), True)])
            self.assertIs(s.add((8, 9)), False)
            self.assertEqual(s.add_many([(8, 9), (1, 1)]), [False, True])
            self.assertEqual(d[(5, 6)].key, (5, 6))
            self.assertEqual(repr(d[(5, 6)]), "AtomicValue64(key=(5, 6), value=7)")

    def test_32_bit_values_should_wrap_modulo_2_32(self):
        with AtomicDict(100, 1, 0, 0, 1) as d:
            v = d[7]
            self.assertIsInstance(v, atomic_dict.capi.AtomicValue32)
            self.assertEqual(v.sub(1), 0)
            self.assertEqual(v.load(), 2**32 - 1)
            self.assertEqual(v.add(2), 2**32 - 1)
            self.assertEqual(d[(7,)], 1)
            self.assertEqual(d.add(7, -1), 1)             # two's complement
            self.assertEqual(v.cas(0, 2**32 - 1), 0)
            self.assertEqual(d.swap(7, 5), 2**32 - 1)
            self.assertEqual(list(d), [((7,), 5)])
            for bad in (2**32, -2**31 - 1):
                for call in (lambda: v.add(bad), lambda: d.add(7, bad),
                             lambda: d.__setitem__(7, bad), lambda: v.cas(bad, 0)):
                    with self.assertRaises(OverflowError) as cm:
                        call()
                    self.assertIn("-2**31..2**32-1", str(cm.exception))
            self.assertEqual(d.load(7), 5)

    def test_full_composite_table_should_raise_and_name_the_key(self):
        with AtomicDict(2, 2) as d:
            d[(1, 1)].add(1)
            d[(1, 2)].add(1)
            with self.assertRaises(TableFullError) as cm:
                d[(1, 3)]
            self.assertIn("(1, 3)", str(cm.exception))

    def test_fork_pool_on_a_composite_32_bit_table_should_give_exact_totals(self):
        global _wide
        with AtomicDict(1000, 2, 1, 0, 1) as d:
            _wide = d
            with FORK.Pool(4) as p:
                self.assertEqual(sorted(p.map(_wide_adds, range(8))), list(range(8)))
            self.assertEqual([d.load((t + 1, 7, 9)) for t in range(8)], [2000] * 8)
            self.assertEqual(d.load((1, 1, 1)), 8 * 2000)
            self.assertEqual(sum(d.load((2, 2, 2 + j)) for j in range(5)), 8 * 2000 * 3)


class OriginalCallsTest(unittest.TestCase):
    """The calls of issue 13 that raised TypeError, as the original makes them."""

    def test_original_constructors_and_tuple_keys_should_work(self):
        with AtomicDict(100, 2) as d:
            self.assertEqual(d[(1, 2)].add(1), 0)
            self.assertEqual(d[(1, 2)].load(), 1)
            self.assertIsInstance(d[(1, 2)], AtomicValue64)
            self.assertEqual(list(d), [((1, 2), 1)])
            self.assertEqual((d.info()["k64"], d.info()["k32"], d.info()["v64"]), (2, 0, 1))
        with AtomicDict(100, k64=1, k32=1, v64=0, v32=1) as d:
            v = d[(9, 2**32 - 1)]
            self.assertIsInstance(v, atomic_dict.capi.AtomicValue32)
            self.assertEqual(v.sub(1), 0)
            self.assertEqual(v.add(3), 2**32 - 1)             # wraps modulo 2**32
            self.assertEqual(list(d), [((9, 2**32 - 1), 2)])
            self.assertEqual((d.info()["v64"], d.info()["v32"]), (0, 1))
        with AtomicSet(100, 2) as s:
            self.assertIs(s.add((3, 4)), True)
            self.assertIs(s.add((3, 4)), False)
            self.assertIs(s.add((4, 3)), True)
            self.assertEqual(sorted(s), [((3, 4), True), ((4, 3), True)])
            with self.assertRaises(TypeError):
                s.add(3)
            with self.assertRaises(ValueError):
                s.add((3, 0))
        with AtomicDict(100) as d:
            d[(9,)].add(4)
            self.assertEqual(d[9].load(), 4)
            self.assertEqual(list(d), [((9,), 4)])


if __name__ == "__main__":
    unittest.main()
