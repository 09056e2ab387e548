// SPDX-License-Identifier: MIT
/*
 * atomic_dict._atomic_dict: the CPython binding of libadict.
 *
 * Object model and reference counting:
 *
 *   AtomicDict / AtomicSet  (struct table_object) own one struct adict *.
 *       close() (or leaving a with block, or deallocation) calls
 *       adict_close() and sets t to NULL; every entry point checks t first,
 *       so a closed table raises ValueError and never touches freed memory.
 *   AtomicValue  (struct value_object) is what d[key] returns: a strong
 *       reference to its table plus the key and, for read-write tables, the
 *       address of the key's value word (adict_handle()).  The reference
 *       keeps the table object alive; the t check above covers close().
 *   the iterator (struct iter_object) holds a strong reference to its
 *       table and libadict's opaque cursor.
 *
 * None of these objects refers to an arbitrary Python object, so no
 * reference cycle can form through them and none needs the cyclic GC.
 *
 * Every call runs with the GIL held and never releases it: a table cannot
 * be closed by another thread while an operation uses its mapping.  The
 * table itself is shared between processes (fork(), or a named table on
 * /dev/atomic_dict); libadict makes every operation on it atomic and
 * sequentially consistent.
 *
 * Integers: key words are 1 .. 2**64-1 (2**32-1 for a 32-bit word); 0 is
 * ValueError, out of range OverflowError, a non-integer TypeError.  Value
 * arguments are -2**63 .. 2**64-1 (-2**31 .. 2**32-1 for 32-bit values), a
 * negative one taken as its two's complement (so add(-1) == sub(1) and
 * band(~m) clears m); anything else is OverflowError.  Results are always
 * 0 .. 2**64-1 (2**32-1).
 *
 * Every operation on a key is one call of libadict's inline calls: on the
 * default geometry (one u64 key word, a u64 value, read-write) a table
 * method given exact ints takes adict_op() directly (table_fast()), and
 * d[key] keeps the value word's address; everything else is one
 * adict_tuple_*() (table_op(), value_op(), batch_run()), which on the
 * default geometry is the same u64 path.  The probe and insert protocol
 * are libadict's (core.h) alone.  Single-op results are made by
 * result_int(), which on CPython 3.10 and 3.11 reuses its last result
 * when nobody else holds it.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "adict.h"

#define DEVICE_HINT							\
	"the atomic_dict kernel module is not loaded (" ADICT_DEVICE_PATH \
	" does not exist); named tables live in that device: load the "	\
	"module with `modprobe atomic_dict`"

static PyObject *error_base;		/* atomic_dict.Error */
static PyObject *table_full_error;	/* TableFullError(Error, ValueError) */
static PyObject *no_module_error;	/* KernelModuleNotLoadedError(Error, OSError) */

struct table_object {
	PyObject_HEAD
	struct adict *t;	/* NULL once closed */
};

struct value_object {
	PyObject_HEAD
	struct table_object *table;	/* strong reference */
	/* the value word on a read-write table of the default geometry */
	__u64 *kv;
	unsigned int nwords;		/* adict_key_words() of the table */
	__u64 words[ADICT_KEY_WORDS_MAX];	/* the key, packed */
};

/*
 * ITER_ROWS is iter(table), exactly as the original: ((key,), value) for an
 * AtomicDict, ((key,), True) for an AtomicSet.  The others are the
 * conveniences items(), keys() and values(), with int keys.
 */
enum iter_kind { ITER_ROWS, ITER_SET_ROWS, ITER_ITEMS, ITER_KEYS, ITER_VALUES };

struct iter_object {
	PyObject_HEAD
	struct table_object *table;	/* strong reference */
	__u64 cursor;			/* adict_tuple_iter_next()'s, opaque */
	enum iter_kind kind;
};

static PyTypeObject dict_type;
static PyTypeObject set_type;

/* Method table helpers. */
#define FASTKW	(METH_FASTCALL | METH_KEYWORDS)
#define FN(f)	((PyCFunction)(void (*)(void))(f))
static PyTypeObject value_type;
static PyTypeObject value32_type;
static PyTypeObject iter_type;

/* ------------------------------------------------------------------------ */
/* Integers                                                                 */
/* ------------------------------------------------------------------------ */

/*
 * An exact int read in place, without a call into libpython: its magnitude
 * as a u64 and its sign.  Return 1, or 0 when @o is not an exact int or
 * does not fit in 64 bits (the caller then takes the general path).
 */
static inline int int_in_place(PyObject *o, __u64 *mag, int *neg)
{
#if PY_VERSION_HEX >= 0x030C0000
	if (PyLong_CheckExact(o) && PyUnstable_Long_IsCompact((PyLongObject *)o)) {
		Py_ssize_t v = PyUnstable_Long_CompactValue((PyLongObject *)o);

		*neg = v < 0;
		*mag = v < 0 ? -(__u64)v : (__u64)v;
		return 1;
	}
	return 0;
#else
	/* 3.11 and before: Py_SIZE is the signed count of 30-bit digits. */
	const digit *d;
	Py_ssize_t n;

	if (!PyLong_CheckExact(o))
		return 0;
	n = Py_SIZE(o);
	*neg = n < 0;
	n = n < 0 ? -n : n;
	d = ((PyLongObject *)o)->ob_digit;
	switch (n) {
	case 0:
		*mag = 0;
		return 1;
	case 1:
		*mag = d[0];
		return 1;
	case 2:
		*mag = d[0] | (__u64)d[1] << PyLong_SHIFT;
		return 1;
	case 3:
		if (d[2] >> (64 - 2 * PyLong_SHIFT))
			return 0;	/* 2**64 or more */
		*mag = d[0] | (__u64)d[1] << PyLong_SHIFT |
		       (__u64)d[2] << (2 * PyLong_SHIFT);
		return 1;
	}
	return 0;
#endif
}

/*
 * Any int (or object with __index__) as a magnitude and a sign; 1 if it
 * fits in 64 bits, 0 if not, -1 with an exception (TypeError).
 */
static int int_general(PyObject *o, __u64 *mag, int *neg)
{
	unsigned long long u;
	long long v;
	PyObject *i;
	int of;

	i = PyNumber_Index(o);
	if (!i)
		return -1;
	v = PyLong_AsLongLongAndOverflow(i, &of);
	if (v == -1 && PyErr_Occurred()) {
		Py_DECREF(i);
		return -1;
	}
	*neg = of < 0 || v < 0;
	if (!of) {
		Py_DECREF(i);
		*mag = v < 0 ? -(__u64)v : (__u64)v;
		return 1;
	}
	if (of < 0) {		/* below -2**63 */
		Py_DECREF(i);
		return 0;
	}
	u = PyLong_AsUnsignedLongLong(i);
	Py_DECREF(i);
	if (u == (unsigned long long)-1 && PyErr_Occurred()) {
		if (!PyErr_ExceptionMatches(PyExc_OverflowError))
			return -1;
		PyErr_Clear();
		return 0;	/* 2**64 or more */
	}
	*mag = u;
	return 1;
}

static inline int int_parts(PyObject *o, __u64 *mag, int *neg)
{
	if (__builtin_expect(int_in_place(o, mag, neg), 1))
		return 1;
	return int_general(o, mag, neg);
}

/*
 * Keys, packed as libadict's adict_tuple_*() take them: the table's k64
 * u64 words, then its k32 u32 words, each in a u64.  A table of one key
 * word takes an int or a 1-tuple of it (the original's iteration yields
 * keys as tuples); a wider one a tuple of exactly its words.  Each word is
 * 1 .. 2**64-1 (2**32-1 for a 32-bit word): 0 is ValueError (it marks an
 * empty slot), a word out of range OverflowError (as the original's
 * PyLong_AsUnsignedLongLong raised), a non-integer TypeError.  The message
 * names the word.
 */
static int key_word(PyObject *o, unsigned int i, unsigned int n, bool w32,
		    __u64 *word)
{
	int neg, ret;

	ret = int_parts(o, word, &neg);
	if (ret == 1 && !neg && *word && (!w32 || *word <= 0xffffffffULL))
		return 0;
	if (ret < 0) {
		if (PyErr_ExceptionMatches(PyExc_TypeError)) {
			PyErr_Clear();
			if (n == 1)
				PyErr_Format(PyExc_TypeError,
					     "atomic_dict key must be an int or a 1-tuple "
					     "of an int, not %.100s", Py_TYPE(o)->tp_name);
			else
				PyErr_Format(PyExc_TypeError,
					     "atomic_dict key word %u of %u must be an int, "
					     "not %.100s", i + 1, n, Py_TYPE(o)->tp_name);
		}
		return -1;
	}
	PyErr_Format(ret == 1 && !neg && !*word ? PyExc_ValueError : PyExc_OverflowError,
		     "atomic_dict key word %u of %u (%d-bit) must be an integer in "
		     "1..2**%d-1 (0 marks an empty slot), got %R",
		     i + 1, n, w32 ? 32 : 64, w32 ? 32 : 64, o);
	return -1;
}

static int key_general(const struct adict *t, PyObject *o, __u64 *words)
{
	unsigned int k64 = t->core.layout.key64, n = adict_key_words(t), i;

	if (!PyTuple_Check(o)) {
		if (n == 1)
			return key_word(o, 0, 1, k64 == 0, &words[0]);
		PyErr_Format(PyExc_TypeError,
			     "atomic_dict table has %u key words (k64=%u, k32=%u): a key "
			     "is a tuple of %u ints, not %.100s", n, k64,
			     t->core.layout.key32, n, Py_TYPE(o)->tp_name);
		return -1;
	}
	if ((unsigned int)PyTuple_GET_SIZE(o) != n) {
		PyErr_Format(PyExc_TypeError,
			     "atomic_dict table has %u key word%s (k64=%u, k32=%u): a key "
			     "is %s, got a %zd-tuple", n, n == 1 ? "" : "s", k64,
			     t->core.layout.key32,
			     n == 1 ? "an int or a 1-tuple" : "a tuple of as many ints",
			     PyTuple_GET_SIZE(o));
		return -1;
	}
	for (i = 0; i < n; i++) {
		PyObject *w = PyTuple_GET_ITEM(o, i);

		if (PyTuple_Check(w)) {
			PyErr_Format(PyExc_TypeError,
				     "atomic_dict key word %u of %u must be an int, not a tuple",
				     i + 1, n);
			return -1;
		}
		if (key_word(w, i, n, i >= k64, &words[i]))
			return -1;
	}
	return 0;
}

/*
 * A one-word key read in place: true when @o is an exact int in
 * 1 .. 2**64-1 (then *@key is it); false for anything else, which the
 * caller's general path converts or rejects with its error.
 */
static __always_inline bool key64_in_place(PyObject *o, __u64 *key)
{
	int neg;

	return int_in_place(o, key, &neg) && !neg && *key;
}

/*
 * The key @o of a table of @t's geometry into @words (adict_key_words(t)
 * of them): 0, or -1 with an exception.  The default geometry's int key
 * is read in place, without a call.
 */
static inline int key_from_py(const struct adict *t, PyObject *o, __u64 *words)
{
	if (__builtin_expect(!t->core.wide && key64_in_place(o, &words[0]), 1))
		return 0;
	return key_general(t, o, words);
}

/* The key of @words for messages and v.key: an int for one word. */
static PyObject *key_to_py(unsigned int n, const __u64 *words)
{
	unsigned int i;
	PyObject *tup;

	if (n == 1)
		return PyLong_FromUnsignedLongLong(words[0]);
	tup = PyTuple_New(n);
	if (!tup)
		return NULL;
	for (i = 0; i < n; i++) {
		PyObject *x = PyLong_FromUnsignedLongLong(words[i]);

		if (!x) {
			Py_DECREF(tup);
			return NULL;
		}
		PyTuple_SET_ITEM(tup, i, x);
	}
	return tup;
}

/*
 * Value arguments.  On a table of 64-bit values: -2**63 .. 2**64-1, a
 * negative one taken as its two's complement; of 32-bit values: -2**31 ..
 * 2**32-1, likewise.  Anything else is OverflowError.  @value32 picks the
 * width.  0 and *value, or -1 with an exception.
 */
static int value_range_error(PyObject *o, bool value32)
{
	if (value32)
		PyErr_Format(PyExc_OverflowError,
			     "atomic_dict value of a table of 32-bit values must be an "
			     "integer in -2**31..2**32-1 (negative values are taken as "
			     "32-bit two's complement), got %R", o);
	else
		PyErr_Format(PyExc_OverflowError,
			     "atomic_dict value must be an integer in -2**63..2**64-1 "
			     "(negative values are taken as 64-bit two's complement), got %R",
			     o);
	return -1;
}

static inline int value_from_py(PyObject *o, bool value32, __u64 *value)
{
	__u64 m, max = value32 ? 0xffffffffULL : ~0ULL;
	__u64 min = value32 ? 0x80000000ULL : (__u64)1 << 63;
	int neg, ret;

	ret = int_parts(o, &m, &neg);
	if (__builtin_expect(ret == 1, 1)) {
		if (!neg && m <= max) {
			*value = m;
			return 0;
		}
		if (neg && m <= min) {
			*value = (-m) & max;
			return 0;
		}
	}
	if (ret < 0)
		return -1;
	return value_range_error(o, value32);
}

/* A value argument for @t's value width. */
static inline int table_value(const struct adict *t, PyObject *o, __u64 *value)
{
	return value_from_py(o, t->core.layout.value_bytes == 4, value);
}

/*
 * A value argument of a table of 64-bit values read in place, without a
 * call: false when @o is not an exact int in -2**63..2**64-1 (the caller
 * then takes value_from_py(), which gives the error).
 */
static inline bool value64_in_place(PyObject *o, __u64 *value)
{
	__u64 m;
	int neg;

	if (!int_in_place(o, &m, &neg) || (neg && m > (__u64)1 << 63))
		return false;
	*value = neg ? -m : m;
	return true;
}

/*
 * The int result of one operation (the previous value, or the value).
 *
 * A loop such as `for k in keys: d.add(k, 1)` drops each result at once,
 * and a new int and its free cost about 9 ns of the 41 such a call took
 * (Documentation/python.rst, Performance).  So, on the CPython versions
 * whose int layout int_in_place() reads (3.10 and 3.11: a signed digit
 * count in ob_size and PyLong_SHIFT-bit digits) and with the GIL, the
 * last result above the small ints is kept in result_cache and, when this
 * reference is its only one (the caller has dropped it), the next result
 * is written into it and it is returned again.  With no other reference
 * no code can tell it changed: every int anyone can reach stays
 * immutable.  CPython reuses its own objects so (the result tuple of
 * zip(), enumerate() and dict.items() iterators; str += on a string of
 * one reference).  A result still held elsewhere is left to its holders
 * and a new one is cached.  The cached int is made with digits for
 * 2**64-1, so every result fits.  0..256 are the interpreter's shared
 * small ints, as PyLong_FromUnsignedLongLong() returns them.
 */
#if PY_VERSION_HEX < 0x030C0000 && !defined(Py_GIL_DISABLED)
#define RESULT_REUSE	1
static PyObject *result_cache;	/* strong reference, or NULL */

/* A new int for result_cache; the old one is held elsewhere, or none. */
static PyLongObject *result_renew(void)
{
	/* never freed here: its refcount is above 1 */
	Py_XDECREF(result_cache);
	result_cache = PyLong_FromUnsignedLongLong(~0ULL);	/* the digits */
	return (PyLongObject *)result_cache;
}
#endif

static __always_inline PyObject *result_int(__u64 r)
{
#ifdef RESULT_REUSE
	PyLongObject *o = (PyLongObject *)result_cache;
	Py_ssize_t n;

	if (r <= 256)
		return PyLong_FromUnsignedLongLong(r);
	if (__builtin_expect(!o || Py_REFCNT(o) != 1, 0)) {
		o = result_renew();
		if (!o)
			return NULL;
	}
	for (n = 0; r; n++, r >>= PyLong_SHIFT)
		o->ob_digit[n] = (digit)(r & PyLong_MASK);
	Py_SET_SIZE(o, n);
	return Py_NewRef((PyObject *)o);
#else
	return PyLong_FromUnsignedLongLong(r);
#endif
}

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

static PyObject *closed_error(void)
{
	PyErr_SetString(PyExc_ValueError, "operation on a closed atomic_dict table");
	return NULL;
}

/* OSError(err, msg): OSError's constructor picks the errno's subclass. */
static PyObject *os_error(PyObject *type, int err, const char *fmt, ...)
{
	PyObject *msg, *args;
	va_list ap;

	va_start(ap, fmt);
	msg = PyUnicode_FromFormatV(fmt, ap);
	va_end(ap);
	if (!msg)
		return NULL;
	args = Py_BuildValue("(iN)", err, msg);
	if (args) {
		PyErr_SetObject(type, args);
		Py_DECREF(args);
	}
	return NULL;
}

/* An operation on @key (as the caller gave it) failed with libadict's @ret. */
static PyObject *op_error(struct table_object *self, int ret, PyObject *key)
{
	switch (ret) {
	case -ENOSPC:
		PyErr_Format(table_full_error,
			     "atomic_dict table is full: its capacity is %llu keys, "
			     "so the new key %R cannot be inserted (keys are never "
			     "removed; create the table with a larger max_entries)",
			     (unsigned long long)self->t->core.capacity, key);
		return NULL;
	case -EPERM:
	case -EACCES:
		return os_error(PyExc_OSError, -ret,
				"atomic_dict table is attached %s: this operation on "
				"key %R is not permitted",
				self->t->access == ADICT_ACCESS_MEDIATED ?
				"mediated and the table's grant excludes it" :
				"read-only", key);
	case -EINVAL:
		PyErr_Format(PyExc_ValueError, "atomic_dict: invalid key %R", key);
		return NULL;
	case -ENOMEM:
		return PyErr_NoMemory();
	case -ENOENT:	/* mediated without INSERT: the kernel adds no key */
		PyErr_Format(PyExc_KeyError,
			     "atomic_dict: key %llu is absent, and this mediated "
			     "attachment may not insert keys (the table's grant has "
			     "no INSERT)", (unsigned long long)key);
		return NULL;
	}
	return os_error(PyExc_OSError, -ret, "atomic_dict: operation on key %R failed: %s",
			key, strerror(-ret));
}

/* Creating, attaching or unlinking a table failed with @ret. */
static PyObject *setup_error(int ret, const char *what, const char *name,
			     __u64 capacity)
{
	switch (ret) {
	case -ENODEV:
		return os_error(no_module_error, ENODEV, DEVICE_HINT);
	case -ENOMEM:
		PyErr_Format(PyExc_MemoryError,
			     "atomic_dict: not enough memory for a table of %llu keys",
			     (unsigned long long)capacity);
		return NULL;
	case -EFBIG:
		PyErr_Format(PyExc_ValueError,
			     "atomic_dict: max_entries %llu is too large (at most "
			     "2**40, and within the device's limits)",
			     (unsigned long long)capacity);
		return NULL;
	case -EEXIST:
		return os_error(PyExc_OSError, EEXIST,
				"atomic_dict table '%s' already exists (attach to it "
				"with AtomicDict.attach('%s'), or unlink it first)",
				name, name);
	case -ENOENT:
		return os_error(PyExc_OSError, ENOENT,
				"no atomic_dict table is named '%s'", name);
	case -EACCES:
	case -EPERM:
		return os_error(PyExc_OSError, -ret,
				"atomic_dict: permission denied to %s table '%s'",
				what, name ? name : "");
	}
	if (name)
		return os_error(PyExc_OSError, -ret,
				"atomic_dict: cannot %s table '%s': %s",
				what, name, strerror(-ret));
	return os_error(PyExc_OSError, -ret, "atomic_dict: cannot %s table: %s",
			what, strerror(-ret));
}

/* The open libadict table of @self, or NULL with ValueError. */
static inline struct adict *table_get(struct table_object *self)
{
	if (__builtin_expect(!self->t, 0))
		closed_error();
	return self->t;
}

/* ------------------------------------------------------------------------ */
/* Table setup                                                              */
/* ------------------------------------------------------------------------ */

/* Name argument: a str of 1..ADICT_NAME_MAX-1 UTF-8 bytes, no NUL. */
static const char *name_from_py(PyObject *o)
{
	const char *s;
	Py_ssize_t n;

	if (!PyUnicode_Check(o)) {
		PyErr_Format(PyExc_TypeError, "atomic_dict table name must be str, not %.100s",
			     Py_TYPE(o)->tp_name);
		return NULL;
	}
	s = PyUnicode_AsUTF8AndSize(o, &n);
	if (!s)
		return NULL;
	if (n == 0 || n >= ADICT_NAME_MAX || (Py_ssize_t)strlen(s) != n) {
		PyErr_Format(PyExc_ValueError,
			     "atomic_dict table name must be 1..%d bytes of UTF-8 "
			     "without NUL, got %R", ADICT_NAME_MAX - 1, o);
		return NULL;
	}
	return s;
}

static int backend_from_py(PyObject *o, unsigned int *backend)
{
	const char *s;

	if (!o || o == Py_None) {
		*backend = ADICT_BACKEND_AUTO;
		return 0;
	}
	s = PyUnicode_Check(o) ? PyUnicode_AsUTF8(o) : NULL;
	if (s && !strcmp(s, "auto"))
		*backend = ADICT_BACKEND_AUTO;
	else if (s && !strcmp(s, "memfd"))
		*backend = ADICT_BACKEND_MEMFD;
	else if (s && !strcmp(s, "device"))
		*backend = ADICT_BACKEND_DEVICE;
	else {
		if (!PyErr_Occurred())
			PyErr_Format(PyExc_ValueError,
				     "atomic_dict backend must be 'auto', 'memfd' "
				     "or 'device', got %R", o);
		return -1;
	}
	return 0;
}

/*
 * An anonymous table made while multiprocessing re-imports the parent's
 * modules in a spawn or forkserver child (a module global) would be a
 * second table, unknown to the parent.  multiprocessing marks that phase
 * with current_process()._inheriting (spawn._main(), forkserver's preload),
 * as its own "start a process while bootstrapping" check does.
 */
static int refuse_while_inheriting(PyTypeObject *type)
{
	PyObject *mod, *cur, *flag;
	int inheriting;

	flag = PyUnicode_FromString("multiprocessing.process");
	if (!flag)
		return -1;
	mod = PyImport_GetModule(flag);
	Py_DECREF(flag);
	if (!mod)		/* multiprocessing not imported: no child */
		return PyErr_Occurred() ? -1 : 0;
	cur = PyObject_CallMethod(mod, "current_process", NULL);
	Py_DECREF(mod);
	if (!cur)
		return -1;
	flag = PyObject_GetAttrString(cur, "_inheriting");
	Py_DECREF(cur);
	if (!flag) {
		PyErr_Clear();	/* not set: not bootstrapping */
		return 0;
	}
	inheriting = PyObject_IsTrue(flag);
	Py_DECREF(flag);
	if (inheriting < 0)
		return -1;
	if (!inheriting)
		return 0;
	PyErr_Format(PyExc_RuntimeError,
		     "an anonymous %.100s was created while multiprocessing imports "
		     "the parent's modules in a spawn or forkserver child (a module "
		     "global?): it would be a second table, not the parent's.  Create "
		     "it under `if __name__ == \"__main__\":` and pass it to the "
		     "children as an argument (Process, Pool, Queue), or use a named "
		     "table, or the fork start method", type->tp_name);
	return -1;
}

/* The keyword-only extras and the geometry, shared by both constructors. */
struct create_extras {
	PyObject *name, *backend;
	int mode, grant;
	unsigned int key64, key32, value_bytes;	/* all 0: the default */
	PyObject *load;			/* None, 0.75 or 0.5 */
};

/* load=0.75 (the default, None too) or 0.5 into @load: ADICT_LOAD_*. */
static int load_from_py(PyObject *o, unsigned int *load)
{
	double d;

	*load = ADICT_LOAD_3_4;
	if (o == Py_None)
		return 0;
	if (!PyFloat_Check(o) && !PyLong_Check(o)) {
		PyErr_Format(PyExc_TypeError, "load must be 0.75 or 0.5, not %.100s",
			     Py_TYPE(o)->tp_name);
		return -1;
	}
	d = PyFloat_AsDouble(o);
	if (d == -1.0 && PyErr_Occurred())
		return -1;
	if (d == 0.5) {
		*load = ADICT_LOAD_1_2;
		return 0;
	}
	if (d == 0.75)
		return 0;
	PyErr_Format(PyExc_ValueError, "load must be 0.75 (the default) or 0.5 "
		     "(the same max_entries in 1.5 times the memory, for shorter "
		     "probes), got %R", o);
	return -1;
}

/*
 * The original's geometry arguments into @x: ValueError as its AtomicArray
 * raised.  A set has no value.  One u64 key word with one u64 value (for a
 * set: any) is libadict's default geometry; an AtomicSet of it leaves the
 * value unused.
 */
static int geometry_from_args(const char *cls, long k64, long k32, long v64,
			      long v32, bool set, struct create_extras *x)
{
	if (k64 < 0 || k32 < 0 || v64 < 0 || v32 < 0) {
		PyErr_Format(PyExc_ValueError,
			     "%s: k64, k32, v64 and v32 must be non-negative, got "
			     "k64=%ld, k32=%ld, v64=%ld, v32=%ld", cls, k64, k32, v64, v32);
		return -1;
	}
	if (k64 + k32 == 0) {
		PyErr_Format(PyExc_ValueError, "%s: a key needs at least one word "
			     "(k64 + k32 >= 1)", cls);
		return -1;
	}
	if (!set && v64 + v32 != 1) {
		PyErr_Format(PyExc_ValueError, "%s must have exactly one value "
			     "(v64 + v32 == 1), got v64=%ld, v32=%ld", cls, v64, v32);
		return -1;
	}
	if (k64 > 8 || k32 > 16 || (k64 + v64) * 8 + (k32 + v32) * 4 > 64) {
		PyErr_Format(PyExc_ValueError,
			     "%s: a row of k64=%ld, k32=%ld, v64=%ld, v32=%ld exceeds "
			     "the 64 bytes of a cache line", cls, k64, k32, v64, v32);
		return -1;
	}
	if (k64 == 1 && k32 == 0 && (set || v64))
		return 0;
	x->key64 = (unsigned int)k64;
	x->key32 = (unsigned int)k32;
	x->value_bytes = set ? 0 : v64 ? 8 : 4;
	return 0;
}

static PyObject *table_create(PyTypeObject *type, PyObject *cap_o,
			      const struct create_extras *x)
{
	struct adict_opts opts = {
		.sz = sizeof(opts),
		.key64 = x->key64,
		.key32 = x->key32,
		.value_bytes = x->value_bytes,
	};
	struct table_object *self;
	unsigned long long cap;
	struct adict *t;
	char buf[32];
	int ret;

	if (!PyLong_Check(cap_o)) {
		PyErr_Format(PyExc_TypeError, "max_entries must be int, not %.100s",
			     Py_TYPE(cap_o)->tp_name);
		return NULL;
	}
	cap = PyLong_AsUnsignedLongLong(cap_o);
	if (cap == (unsigned long long)-1 && PyErr_Occurred()) {
		PyErr_Clear();
		cap = 0;
	}
	if (cap == 0 || cap > ADICT_CAPACITY_MAX) {
		PyErr_Format(PyExc_ValueError,
			     "max_entries must be in 1..2**40, got %R", cap_o);
		return NULL;
	}
	if (x->mode < 0 || x->mode > 0777) {
		snprintf(buf, sizeof(buf), "0o%o", (unsigned int)x->mode);
		PyErr_Format(PyExc_ValueError, "mode must be permission bits in "
			     "0..0o777, got %s", x->mode < 0 ? "a negative number" : buf);
		return NULL;
	}
	if (x->grant < 0 || (x->grant & ~(int)ADICT_GRANT_ALL)) {
		PyErr_Format(PyExc_ValueError, "grant must be a mask of "
			     "1 << OP_* bits (GRANT_ALL is 0x%x), got %d",
			     ADICT_GRANT_ALL, x->grant);
		return NULL;
	}
	if (backend_from_py(x->backend, &opts.backend))
		return NULL;
	if (load_from_py(x->load, &opts.load))
		return NULL;
	if (x->name != Py_None) {
		opts.name = name_from_py(x->name);
		if (!opts.name)
			return NULL;
		if (opts.backend == ADICT_BACKEND_MEMFD) {
			PyErr_SetString(PyExc_ValueError,
					"named tables live in /dev/atomic_dict: "
					"backend='memfd' cannot have a name");
			return NULL;
		}
		opts.mode = (unsigned int)x->mode;
		opts.grant = (unsigned int)x->grant;
	} else if (refuse_while_inheriting(type)) {
		return NULL;
	}

	self = (struct table_object *)type->tp_alloc(type, 0);
	if (!self)
		return NULL;
	ret = adict_create(&t, cap, &opts);
	if (ret) {
		Py_DECREF(self);
		return setup_error(ret, "create", opts.name, cap);
	}
	self->t = t;
	return (PyObject *)self;
}

static PyObject *dict_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = { "max_entries", "k64", "k32", "v64", "v32",
				  "name", "mode", "grant", "backend", "load",
				  NULL };
	struct create_extras x = { Py_None, Py_None, 0600, 0, 0, 0, 0, Py_None };
	long k64 = 1, k32 = 0, v64 = 1, v32 = 0;
	PyObject *cap_o;

	if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|llll$OiiOO:AtomicDict", kwlist,
					 &cap_o, &k64, &k32, &v64, &v32, &x.name,
					 &x.mode, &x.grant, &x.backend, &x.load))
		return NULL;
	if (geometry_from_args("AtomicDict", k64, k32, v64, v32, false, &x))
		return NULL;
	return table_create(type, cap_o, &x);
}

static PyObject *set_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = { "max_entries", "k64", "k32",
				  "name", "mode", "grant", "backend", "load",
				  NULL };
	struct create_extras x = { Py_None, Py_None, 0600, 0, 0, 0, 0, Py_None };
	long k64 = 1, k32 = 0;
	PyObject *cap_o;

	if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|ll$OiiOO:AtomicSet", kwlist,
					 &cap_o, &k64, &k32, &x.name, &x.mode,
					 &x.grant, &x.backend, &x.load))
		return NULL;
	if (geometry_from_args("AtomicSet", k64, k32, 0, 0, true, &x))
		return NULL;
	return table_create(type, cap_o, &x);
}

static PyObject *table_attach(PyObject *cls, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = { "name", "readonly", "mediated", "owner", NULL };
	int readonly = 0, mediated = 0, ret;
	PyObject *name_o, *owner_o = Py_None;
	unsigned long owner = 0;
	unsigned int flags = 0;
	struct table_object *self;
	const char *name;
	struct adict *t;

	if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|$ppO:attach", kwlist,
					 &name_o, &readonly, &mediated, &owner_o))
		return NULL;
	name = name_from_py(name_o);
	if (!name)
		return NULL;
	if (owner_o != Py_None) {
		if (!PyLong_Check(owner_o)) {
			PyErr_SetString(PyExc_TypeError, "owner must be an int uid or None");
			return NULL;
		}
		long long v = PyLong_AsLongLong(owner_o);

		if (v == -1 && PyErr_Occurred() &&
		    !PyErr_ExceptionMatches(PyExc_OverflowError))
			return NULL;
		PyErr_Clear();
		owner = v < 0 || v > 0xfffffffeLL ? ULONG_MAX : (unsigned long)v;
		if (owner > 0xfffffffeUL) {
			PyErr_SetString(PyExc_ValueError, "owner must be a uid, 0 to 2**32-2");
			return NULL;
		}
	}
	if (readonly)
		flags |= ADICT_ATTACH_RDONLY;
	if (mediated)
		flags |= ADICT_ATTACH_MEDIATED;
	self = (struct table_object *)((PyTypeObject *)cls)->tp_alloc((PyTypeObject *)cls, 0);
	if (!self)
		return NULL;
	if (owner_o != Py_None)
		ret = adict_attach_owner(&t, name, flags, (uid_t)owner);
	else
		ret = adict_attach(&t, name, flags);
	if (ret == -EPERM && owner_o != Py_None) {
		Py_DECREF(self);
		return os_error(PyExc_OSError, EPERM,
				"atomic_dict table '%s' is not owned by uid %lu "
				"(someone else created that name)", name, owner);
	}
	if (ret) {
		Py_DECREF(self);
		return setup_error(ret, "attach to", name, 0);
	}
	self->t = t;
	return (PyObject *)self;
}

/* cls.from_fd(fd): the table behind a memfd or device fd (adict_from_fd). */
static PyObject *table_from_fd(PyObject *cls, PyObject *fd_o)
{
	struct table_object *self;
	struct adict *t;
	int fd, ret;

	fd = PyObject_AsFileDescriptor(fd_o);
	if (fd < 0)
		return NULL;
	self = (struct table_object *)((PyTypeObject *)cls)->tp_alloc((PyTypeObject *)cls, 0);
	if (!self)
		return NULL;
	ret = adict_from_fd(&t, fd);
	if (ret) {
		Py_DECREF(self);
		if (ret == -EINVAL)
			return os_error(PyExc_OSError, EINVAL,
					"atomic_dict: fd %d is not an atomic_dict table "
					"(neither a sealed memfd of one nor a device fd "
					"bound to one)", fd);
		if (ret == -EBADMSG)
			return os_error(PyExc_OSError, EBADMSG,
					"atomic_dict: fd %d holds no valid table header", fd);
		return os_error(PyExc_OSError, -ret,
				"atomic_dict: cannot open the table of fd %d: %s",
				fd, strerror(-ret));
	}
	self->t = t;
	return (PyObject *)self;
}

static PyObject *table_fileno(struct table_object *self, PyObject *unused)
{
	if (!table_get(self))
		return NULL;
	return PyLong_FromLong(self->t->fd);
}

static PyObject *module_unlink(PyObject *mod, PyObject *name_o)
{
	const char *name = name_from_py(name_o);
	int ret;

	if (!name)
		return NULL;
	ret = adict_unlink(name);
	if (ret)
		return setup_error(ret, "unlink", name, 0);
	Py_RETURN_NONE;
}

static void table_dealloc(struct table_object *self)
{
	adict_close(self->t);
	self->t = NULL;
	Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *table_close(struct table_object *self, PyObject *unused)
{
	adict_close(self->t);	/* adict_close(NULL) is a no-op */
	self->t = NULL;
	Py_RETURN_NONE;
}

static PyObject *table_enter(struct table_object *self, PyObject *unused)
{
	if (!table_get(self))
		return NULL;
	Py_INCREF(self);
	return (PyObject *)self;
}

static PyObject *table_exit(struct table_object *self, PyObject *const *args,
			    Py_ssize_t nargs)
{
	adict_close(self->t);
	self->t = NULL;
	Py_RETURN_FALSE;
}

static PyObject *table_closed_get(struct table_object *self, void *closure)
{
	return PyBool_FromLong(!self->t);
}

static PyObject *table_name_get(struct table_object *self, void *closure)
{
	struct adict_table_info info;
	int ret;

	if (!table_get(self))
		return NULL;
	if (adict_backend(self->t) != ADICT_BACKEND_DEVICE)
		Py_RETURN_NONE;
	ret = adict_info(self->t, &info);
	if (ret)
		return os_error(PyExc_OSError, -ret, "atomic_dict: info: %s", strerror(-ret));
	if (!info.name[0])
		Py_RETURN_NONE;
	return PyUnicode_FromString(info.name);
}

static PyObject *table_capacity_get(struct table_object *self, void *closure)
{
	if (!table_get(self))
		return NULL;
	return PyLong_FromUnsignedLongLong(self->t->core.capacity);
}

static const char *access_name(unsigned int access)
{
	switch (access) {
	case ADICT_ACCESS_RDWR:
		return "readwrite";
	case ADICT_ACCESS_RDONLY:
		return "readonly";
	case ADICT_ACCESS_MEDIATED:
		return "mediated";
	}
	return "unknown";
}

static PyObject *table_info(struct table_object *self, PyObject *unused)
{
	struct adict_table_info info;
	bool dev;
	int ret;

	if (!table_get(self))
		return NULL;
	ret = adict_info(self->t, &info);
	if (ret)
		return os_error(PyExc_OSError, -ret, "atomic_dict: info: %s", strerror(-ret));
	dev = info.backend == ADICT_BACKEND_DEVICE;
#define DEV_U(x) (dev ? PyLong_FromUnsignedLong(x) : Py_NewRef(Py_None))
	return Py_BuildValue("{s:K,s:d,s:i,s:i,s:i,s:i,s:K,s:K,s:K,s:s,s:s,s:N,s:N,s:N,s:N,s:N,s:N,s:N}",
		"capacity", (unsigned long long)info.capacity,
		"load", info.load == ADICT_LOAD_1_2 ? 0.5 : 0.75,
		"k64", (int)self->t->core.layout.key64,
		"k32", (int)self->t->core.layout.key32,
		"v64", self->t->core.layout.value_bytes == 8 &&
		       !PyObject_TypeCheck((PyObject *)self, &set_type),
		"v32", self->t->core.layout.value_bytes == 4,
		"buckets", (unsigned long long)info.nbuckets,
		"bytes", (unsigned long long)info.bytes,
		"used", (unsigned long long)info.used,
		"backend", adict_backend_name(info.backend),
		"access", access_name(info.access),
		"name", info.name[0] ? PyUnicode_FromString(info.name) : Py_NewRef(Py_None),
		"id", dev ? PyLong_FromUnsignedLongLong(info.id) : Py_NewRef(Py_None),
		"uid", DEV_U(info.uid),
		"gid", DEV_U(info.gid),
		"mode", DEV_U(info.mode),
		"grant", DEV_U(info.grant),
		"users", DEV_U(info.users));
#undef DEV_U
}

static PyObject *table_reduce(struct table_object *self, PyObject *unused)
{
	PyObject *name, *attach, *ret;

	name = table_name_get(self, NULL);
	if (!name)
		return NULL;
	if (name == Py_None) {
		Py_DECREF(name);
		PyErr_Format(PyExc_TypeError,
			     "cannot pickle an anonymous %.100s to a file or a plain "
			     "pickle: it has no name to attach to.  multiprocessing "
			     "passes it to its children (Process and Pool arguments, "
			     "Queue) as a file descriptor under every start method; "
			     "to share it with unrelated processes, use a named table "
			     "(name=...)", Py_TYPE(self)->tp_name);
		return NULL;
	}
	attach = PyObject_GetAttrString((PyObject *)Py_TYPE(self), "attach");
	if (!attach) {
		Py_DECREF(name);
		return NULL;
	}
	ret = Py_BuildValue("(N(N))", attach, name);
	return ret;
}

/* ------------------------------------------------------------------------ */
/* Arguments                                                                */
/* ------------------------------------------------------------------------ */

/*
 * Arguments of a METH_FASTCALL | METH_KEYWORDS call: out[i] gets parameter
 * @names[i] given by position or keyword, NULL when absent.  The first
 * @nmin are required.  The common call has no keywords and costs a compare.
 */
static int parse_args_kw(const char *fn, const char *const *names,
			 Py_ssize_t nmin, Py_ssize_t nmax, PyObject *const *args,
			 Py_ssize_t nargs, PyObject *kwnames, PyObject **out)
{
	Py_ssize_t i, j, nkw = PyTuple_GET_SIZE(kwnames);

	for (i = 0; i < nmax; i++)
		out[i] = i < nargs ? args[i] : NULL;
	for (i = 0; i < nkw; i++) {
		PyObject *kw = PyTuple_GET_ITEM(kwnames, i);

		for (j = 0; j < nmax; j++)
			if (PyUnicode_CompareWithASCIIString(kw, names[j]) == 0)
				break;
		if (j == nmax) {
			PyErr_Format(PyExc_TypeError,
				     "%s() got an unexpected keyword argument %R", fn, kw);
			return -1;
		}
		if (out[j]) {
			PyErr_Format(PyExc_TypeError,
				     "%s() got multiple values for argument '%s'",
				     fn, names[j]);
			return -1;
		}
		out[j] = args[nargs + i];
	}
	for (i = 0; i < nmin; i++)
		if (!out[i]) {
			PyErr_Format(PyExc_TypeError,
				     "%s() missing required argument '%s' (pos %zd)",
				     fn, names[i], i + 1);
			return -1;
		}
	return 0;
}

static int nargs_error(const char *fn, Py_ssize_t nargs, Py_ssize_t min,
		       Py_ssize_t max)
{
	if (min == max)
		PyErr_Format(PyExc_TypeError, "%s() takes exactly %zd argument%s (%zd given)",
			     fn, min, min == 1 ? "" : "s", nargs);
	else
		PyErr_Format(PyExc_TypeError, "%s() takes from %zd to %zd arguments (%zd given)",
			     fn, min, max, nargs);
	return -1;
}

static inline int parse_args(const char *fn, const char *const *names,
			     Py_ssize_t nmin, Py_ssize_t nmax, PyObject *const *args,
			     Py_ssize_t nargs, PyObject *kwnames, PyObject **out)
{
	Py_ssize_t i;

	if (__builtin_expect(kwnames == NULL, 1)) {
		if (__builtin_expect(nargs < nmin || nargs > nmax, 0))
			return nargs_error(fn, nargs, nmin, nmax);
		for (i = 0; i < nmax; i++)
			out[i] = i < nargs ? args[i] : NULL;
		return 0;
	}
	if (nargs > nmax)
		return nargs_error(fn, nargs, nmin, nmax);
	return parse_args_kw(fn, names, nmin, nmax, args, nargs, kwnames, out);
}

/* ------------------------------------------------------------------------ */
/* Operations                                                               */
/* ------------------------------------------------------------------------ */

/*
 * Run @op on the key @key_o with the value arguments @arg1_o and @arg2_o
 * (NULL: 1 and 0), its result in *@r.  Every operation on a key goes
 * through here: the table methods, d[k] = v, `k in d`.  One libadict call
 * for every geometry, adict_tuple_op(); on the default geometry it is the
 * inline u64 fast path, and inlined here with a constant @op it is what
 * adict_add() and its siblings compile to.
 *
 * Return: 0; 1 for FIND of an absent key (no exception); -1 with an
 * exception.
 */
static __always_inline int table_op(struct table_object *self, __u32 op,
				    PyObject *key_o, PyObject *arg1_o,
				    PyObject *arg2_o, __u64 *r)
{
	__u64 words[ADICT_KEY_WORDS_MAX], a1 = 1, a2 = 0;
	struct adict *t = table_get(self);
	bool value32;
	int ret;

	if (__builtin_expect(!t, 0))
		return -1;
	/* Read before the conversions, which may run Python code. */
	value32 = t->core.layout.value_bytes == 4;
	if (key_from_py(t, key_o, words) ||
	    (arg1_o && value_from_py(arg1_o, value32, &a1)) ||
	    (arg2_o && value_from_py(arg2_o, value32, &a2)))
		return -1;
	/* An __index__ method may have closed the table. */
	t = table_get(self);
	if (__builtin_expect(!t, 0))
		return -1;
	ret = op == ADICT_OP_FIND ? adict_tuple_find(t, words, r) :
	      adict_tuple_op(t, op, words, a1, a2, r);
	if (__builtin_expect(ret >= 0, 1))
		return 0;
	if (op == ADICT_OP_FIND && ret == -ENOENT)
		return 1;
	op_error(self, ret, key_o);
	return -1;
}

/* Keys present (exact when no insertion runs concurrently). */
static Py_ssize_t table_length(struct table_object *self)
{
	__u64 used;

	if (!table_get(self))
		return -1;
	used = adict_a_load(self->t->core.kused);
	if (used > self->t->core.capacity)
		used = self->t->core.capacity;
	return (Py_ssize_t)used;
}

static int table_contains(struct table_object *self, PyObject *key_o)
{
	__u64 v;
	int ret;

	ret = table_op(self, ADICT_OP_FIND, key_o, NULL, NULL, &v);
	return ret < 0 ? -1 : !ret;
}

static int table_ass_subscript(struct table_object *self, PyObject *key_o,
			       PyObject *val_o)
{
	__u64 old;

	if (!val_o) {
		PyErr_SetString(PyExc_TypeError,
				"atomic_dict keys can never be removed");
		return -1;
	}
	return table_op(self, ADICT_OP_STORE, key_o, val_o, NULL, &old) ? -1 : 0;
}

/* ------------------------------------------------------------------------ */
/* AtomicValue: d[key]                                                      */
/* ------------------------------------------------------------------------ */

/*
 * Freed value objects kept for reuse: d[k].add(1) makes one and drops it
 * on every call.  Touched only with the GIL held.
 */
#define VALUE_FREELIST_MAX	64
static struct value_object *value_freelist[VALUE_FREELIST_MAX];
static int value_nfree;

static inline struct value_object *value_alloc(PyTypeObject *type)
{
	struct value_object *v;

	if (__builtin_expect(value_nfree > 0, 1)) {
		v = value_freelist[--value_nfree];
		PyObject_Init((PyObject *)v, type);
		return v;
	}
	return PyObject_New(struct value_object, type);
}

static PyObject *table_subscript(struct table_object *self, PyObject *key_o)
{
	__u64 words[ADICT_KEY_WORDS_MAX], *kv = NULL, r;
	struct value_object *v;
	struct adict *t = table_get(self);
	unsigned int n;
	int ret;

	if (__builtin_expect(!t, 0) || key_from_py(t, key_o, words))
		return NULL;
	t = table_get(self);	/* an __index__ method may have closed it */
	if (__builtin_expect(!t, 0))
		return NULL;
	/*
	 * As the original: d[key] inserts key (value 0) if it is absent.  On
	 * the default geometry the value object keeps the value word's address
	 * (adict_handle()); on the others it runs adict_tuple_op() per call.
	 */
	if (__builtin_expect(t->access == ADICT_ACCESS_RDWR, 1)) {
		ret = t->core.wide ?
		      adict_tuple_op(t, ADICT_OP_INSERT, words, 0, 0, &r) :
		      adict_handle(t, words[0], &kv);
		if (__builtin_expect(ret < 0, 0))
			return op_error(self, ret, key_o);
	}
	v = value_alloc(t->core.layout.value_bytes == 4 ? &value32_type : &value_type);
	if (!v)
		return NULL;
	v->table = (struct table_object *)Py_NewRef((PyObject *)self);
	v->kv = kv;
	n = adict_key_words(t);
	v->nwords = n;
	if (__builtin_expect(n == 1, 1))
		v->words[0] = words[0];
	else
		memcpy(v->words, words, sizeof(words[0]) * n);
	return (PyObject *)v;
}

static void value_dealloc(struct value_object *v)
{
	Py_DECREF(v->table);
	if (value_nfree < VALUE_FREELIST_MAX)
		value_freelist[value_nfree++] = v;
	else
		PyObject_Free(v);
}

/* The table of @v, if still open. */
static inline struct adict *value_table(struct value_object *v)
{
	struct adict *t = v->table->t;

	if (__builtin_expect(!t, 0))
		closed_error();
	return t;
}

static PyObject *value_key_get(struct value_object *v, void *closure)
{
	return key_to_py(v->nwords, v->words);
}

/* An operation on @v's key failed with @ret: the message names the key. */
static int value_op_error(struct value_object *v, int ret)
{
	PyObject *k = value_key_get(v, NULL);

	if (k) {
		op_error(v->table, ret, k);
		Py_DECREF(k);
	}
	return -1;
}

/*
 * Run @op on @v's key: through the value word's address when it has one
 * (with core.h's own value operation), else one adict_tuple_op().  0 and
 * *@r, or -1 with an exception.
 */
static __always_inline int value_op(struct value_object *v, __u32 op,
				    __u64 arg1, __u64 arg2, __u64 *r)
{
	struct adict *t = value_table(v);
	int ret;

	if (__builtin_expect(!t, 0))
		return -1;
	if (__builtin_expect(v->kv != NULL, 1)) {
		adict_core_value_op64(v->kv, op, arg1, arg2, 0, r);
		return 0;
	}
	ret = adict_tuple_op(t, op, v->words, arg1, arg2, r);
	if (__builtin_expect(ret < 0, 0))
		return value_op_error(v, ret);
	return 0;
}

/*
 * A method of a value object: @nmax value arguments (64- or 32-bit, as the
 * value), the first @nmin required, named @kw; returns the previous value
 * (cas: the value observed).
 */
static __always_inline PyObject *value_method(struct value_object *v,
					      const char *fn, __u32 op,
					      const char *const *kw,
					      Py_ssize_t nmin, Py_ssize_t nmax,
					      PyObject *const *args,
					      Py_ssize_t nargs, PyObject *kwnames)
{
	bool value32 = Py_IS_TYPE(v, &value32_type);
	PyObject *a[2] = { NULL, NULL };
	__u64 x[2] = { 1, 0 }, r;
	Py_ssize_t i;

	/*
	 * The common call, d[k].add(1): positional exact ints on a u64 value
	 * that has its value word's address, read in place (no Python code
	 * runs, and the table is checked open once they are read); anything
	 * else takes the general path below, which converts them again.
	 */
	if (__builtin_expect(!kwnames && nargs >= nmin && nargs <= nmax &&
			     !value32 && v->kv, 1)) {
		for (i = 0; i < nargs; i++)
			if (!value64_in_place(args[i], &x[i]))
				goto general;
		if (!value_table(v))
			return NULL;
		adict_core_value_op64(v->kv, op, x[0], x[1], 0, &r);
		return result_int(r);
	}
general:
	if (parse_args(fn, kw, nmin, nmax, args, nargs, kwnames, a))
		return NULL;
	for (i = 0; i < nmax; i++)
		if (a[i] && value_from_py(a[i], value32, &x[i]))
			return NULL;
	if (value_op(v, op, x[0], x[1], &r))
		return NULL;
	return result_int(r);
}

static const char *const kw_value[] = { "value" };
static const char *const kw_mask[] = { "mask" };
static const char *const kw_delta[] = { "delta" };
static const char *const kw_cas[] = { "expected", "desired" };

#define VALUE_METHOD(pyname, op, kw, nmin, nmax)			\
static PyObject *value_##pyname(struct value_object *v,		\
				PyObject *const *args, Py_ssize_t nargs, \
				PyObject *kwnames)			\
{									\
	return value_method(v, #pyname, op, kw, nmin, nmax, args, nargs, \
			    kwnames);					\
}

VALUE_METHOD(swap, ADICT_OP_SWAP, kw_value, 1, 1)
VALUE_METHOD(store, ADICT_OP_STORE, kw_value, 1, 1)
VALUE_METHOD(add, ADICT_OP_ADD, kw_delta, 0, 1)
VALUE_METHOD(sub, ADICT_OP_SUB, kw_delta, 0, 1)
VALUE_METHOD(band, ADICT_OP_AND, kw_mask, 1, 1)
VALUE_METHOD(bor, ADICT_OP_OR, kw_mask, 1, 1)
VALUE_METHOD(bxor, ADICT_OP_XOR, kw_mask, 1, 1)
VALUE_METHOD(cas, ADICT_OP_CAS, kw_cas, 2, 2)
#undef VALUE_METHOD

static PyObject *value_load(struct value_object *v, PyObject *unused)
{
	__u64 x;

	if (value_op(v, ADICT_OP_LOAD, 0, 0, &x))
		return NULL;
	return result_int(x);
}

static PyObject *value_table_get(struct value_object *v, void *closure)
{
	return Py_NewRef((PyObject *)v->table);
}

static PyObject *value_int(struct value_object *v)
{
	return value_load(v, NULL);
}

/* bool(d[k]) follows the current value, as int(d[k]) does. */
static int value_bool(struct value_object *v)
{
	__u64 x;

	if (value_op(v, ADICT_OP_LOAD, 0, 0, &x))
		return -1;
	return x != 0;
}

static PyObject *value_repr(struct value_object *v)
{
	const char *name = Py_IS_TYPE(v, &value32_type) ? "AtomicValue32" :
			   "AtomicValue64";
	PyObject *k, *r;
	__u64 x;

	k = value_key_get(v, NULL);
	if (!k)
		return NULL;
	if (!v->table->t)
		r = PyUnicode_FromFormat("<%s key=%R of a closed table>", name, k);
	else if (value_op(v, ADICT_OP_LOAD, 0, 0, &x))
		r = NULL;
	else
		r = PyUnicode_FromFormat("%s(key=%R, value=%llu)", name, k,
					 (unsigned long long)x);
	Py_DECREF(k);
	return r;
}

static inline int is_value(PyObject *o)
{
	return Py_IS_TYPE(o, &value_type) || Py_IS_TYPE(o, &value32_type);
}

/* Comparisons load the value and compare it as an int. */
static PyObject *value_richcompare(PyObject *a, PyObject *b, int op)
{
	PyObject *x, *ret;

	if (!is_value(a)) {
		PyObject *tmp = a;

		a = b;
		b = tmp;
		static const int swapped[] = {
			[Py_LT] = Py_GT, [Py_LE] = Py_GE, [Py_EQ] = Py_EQ,
			[Py_NE] = Py_NE, [Py_GT] = Py_LT, [Py_GE] = Py_LE,
		};

		op = swapped[op];
	}
	if (!is_value(b) && !PyLong_Check(b))
		Py_RETURN_NOTIMPLEMENTED;
	x = value_load((struct value_object *)a, NULL);
	if (!x)
		return NULL;
	if (is_value(b)) {
		PyObject *y = value_load((struct value_object *)b, NULL);

		if (!y) {
			Py_DECREF(x);
			return NULL;
		}
		ret = PyObject_RichCompare(x, y, op);
		Py_DECREF(y);
	} else {
		ret = PyObject_RichCompare(x, b, op);
	}
	Py_DECREF(x);
	return ret;
}

static PyMethodDef value_methods[] = {
	{ "load", FN(value_load), METH_NOARGS,
	  "load($self, /)\n--\n\nThe current value (sequentially consistent load)." },
	{ "store", FN(value_store), FASTKW,
	  "store($self, /, value)\n--\n\n"
	  "Set the value (an atomic exchange); return the previous value\n"
	  "(the original returned None)." },
	{ "swap", FN(value_swap), FASTKW,
	  "swap($self, /, value)\n--\n\nAtomically exchange; return the previous value." },
	{ "add", FN(value_add), FASTKW,
	  "add($self, /, delta=1)\n--\n\n"
	  "Atomically add (mod 2**64); return the previous value." },
	{ "sub", FN(value_sub), FASTKW,
	  "sub($self, /, delta=1)\n--\n\n"
	  "Atomically subtract (mod 2**64); return the previous value." },
	{ "band", FN(value_band), FASTKW,
	  "band($self, /, mask)\n--\n\nAtomic bitwise AND; return the previous value." },
	{ "bor", FN(value_bor), FASTKW,
	  "bor($self, /, mask)\n--\n\nAtomic bitwise OR; return the previous value." },
	{ "bxor", FN(value_bxor), FASTKW,
	  "bxor($self, /, mask)\n--\n\nAtomic bitwise XOR; return the previous value." },
	{ "cas", FN(value_cas), FASTKW,
	  "cas($self, /, expected, desired)\n--\n\n"
	  "Compare-and-swap: if the value is expected, replace it with desired.\n"
	  "Return the value observed; the swap happened iff it equals expected." },
	{ NULL }
};

static PyGetSetDef value_getset[] = {
	{ "key", (getter)value_key_get, NULL, "The key of this value.", NULL },
	{ "table", (getter)value_table_get, NULL, "The table holding this value.", NULL },
	{ NULL }
};

static PyNumberMethods value_as_number = {
	.nb_bool = (inquiry)value_bool,
	.nb_int = (unaryfunc)value_int,
	.nb_index = (unaryfunc)value_int,
};

static PyTypeObject value_type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "atomic_dict.capi.AtomicValue64",
	.tp_basicsize = sizeof(struct value_object),
	.tp_dealloc = (destructor)value_dealloc,
	.tp_repr = (reprfunc)value_repr,
	.tp_as_number = &value_as_number,
	.tp_hash = PyObject_HashNotImplemented,
	.tp_richcompare = value_richcompare,
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc = "The 64-bit value of one key of an AtomicDict: d[key].\n\n"
		  "Holds a reference to its table and the key.  Every method is one\n"
		  "atomic, sequentially consistent operation on the shared value and\n"
		  "returns the previous value (load: the value; cas: the value observed).\n"
		  "int(v), bool(v) and comparisons load the current value.",
	.tp_methods = value_methods,
	.tp_getset = value_getset,
};

/*
 * The value of a table with v32=1 (format v2): the same object and methods
 * as AtomicValue64; value_method() takes its arguments as 32-bit, and
 * libadict's adict_tuple_*() wrap its results modulo 2**32.
 */
static PyTypeObject value32_type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "atomic_dict.capi.AtomicValue32",
	.tp_basicsize = sizeof(struct value_object),
	.tp_dealloc = (destructor)value_dealloc,
	.tp_repr = (reprfunc)value_repr,
	.tp_as_number = &value_as_number,
	.tp_hash = PyObject_HashNotImplemented,
	.tp_richcompare = value_richcompare,
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc = "The 32-bit value of one key of an AtomicDict(..., v64=0, v32=1).\n\n"
		  "As AtomicValue64, but values wrap modulo 2**32 and value arguments\n"
		  "are -2**31..2**32-1 (a negative one as its 32-bit two's complement).",
	.tp_methods = value_methods,
	.tp_getset = value_getset,
};

/* ------------------------------------------------------------------------ */
/* Direct methods: d.add(key, 1) without a value object                     */
/* ------------------------------------------------------------------------ */

/*
 * A method of a table: the key, then up to two value arguments (for find,
 * the default), named @kw, the first @nmin required.  Returns the previous
 * value (load and find: the value; cas: the value observed; insert: True
 * if the key was new).  store runs ADICT_OP_STORE, not SWAP, so that a
 * mediated table's grant is checked for STORE.
 */
static __always_inline PyObject *table_method(struct table_object *self,
					      const char *fn, __u32 op,
					      const char *const *kw,
					      Py_ssize_t nmin, Py_ssize_t nmax,
					      PyObject *const *args,
					      Py_ssize_t nargs, PyObject *kwnames)
{
	PyObject *a[3] = { NULL, NULL, NULL };
	__u64 r;
	int ret;

	if (parse_args(fn, kw, nmin, nmax, args, nargs, kwnames, a))
		return NULL;
	if (op == ADICT_OP_FIND) {
		ret = table_op(self, op, a[0], NULL, NULL, &r);
		if (ret > 0)
			return Py_NewRef(a[1] ? a[1] : Py_None);
	} else {
		ret = table_op(self, op, a[0], a[1], a[2], &r);
	}
	if (__builtin_expect(ret < 0, 0))
		return NULL;
	if (op == ADICT_OP_INSERT)
		return PyBool_FromLong((long)r);
	return result_int(r);
}

/*
 * The common call of a table method, d.add(k, 1): positional exact ints
 * on an open read-write table of the default geometry.  The key and the
 * value arguments are read in place and libadict's inline u64 path runs
 * (adict_op(): core.h's probe, then the value operation), with nothing
 * converted twice and no Python code run, so the table cannot be closed
 * in between.  Any other call, and every error but the operation's own,
 * goes to @general (table_method(), out of line, so that this path keeps
 * a small frame).
 */
static __always_inline PyObject *table_fast(struct table_object *self,
					    __u32 op, Py_ssize_t nmin,
					    Py_ssize_t nmax, PyObject *const *args,
					    Py_ssize_t nargs, PyObject *kwnames,
					    PyObject *(*general)(struct table_object *,
								 PyObject *const *,
								 Py_ssize_t, PyObject *))
{
	/* the value arguments: all but the key (find's second is a default) */
	const Py_ssize_t nval = op == ADICT_OP_FIND ? 0 : nmax - 1;
	__u64 key, x[2] = { 1, 0 }, r;
	struct adict *t = self->t;
	Py_ssize_t i;
	int ret;

	if (__builtin_expect(kwnames || nargs < nmin || nargs > nmax || !t ||
			     !t->fast, 0))
		return general(self, args, nargs, kwnames);
	if (__builtin_expect(!key64_in_place(args[0], &key), 0))
		return general(self, args, nargs, kwnames);
	for (i = 0; i < nval && i + 1 < nargs; i++)
		if (__builtin_expect(!value64_in_place(args[i + 1], &x[i]), 0))
			return general(self, args, nargs, kwnames);
	ret = adict_op(t, op, key, x[0], x[1], &r);
	if (__builtin_expect(ret < 0, 0)) {
		if (op == ADICT_OP_FIND && ret == -ENOENT)
			return Py_NewRef(nargs > 1 ? args[1] : Py_None);
		return op_error(self, ret, args[0]);
	}
	if (op == ADICT_OP_INSERT)
		return PyBool_FromLong((long)r);
	return result_int(r);
}

static const char *const kw_key_value[] = { "key", "value" };
static const char *const kw_key_mask[] = { "key", "mask" };
static const char *const kw_key_delta[] = { "key", "delta" };
static const char *const kw_key_default[] = { "key", "default" };
static const char *const kw_key_cas[] = { "key", "expected", "desired" };
static const char *const kw_key[] = { "key" };

#define TABLE_METHOD(cname, pyname, op, kw, nmin, nmax)		\
static __attribute__((noinline)) PyObject *				\
table_##cname##_general(struct table_object *self,			\
			PyObject *const *args, Py_ssize_t nargs,	\
			PyObject *kwnames)				\
{									\
	return table_method(self, #pyname, op, kw, nmin, nmax, args,	\
			    nargs, kwnames);				\
}									\
									\
static PyObject *table_##cname(struct table_object *self,		\
			       PyObject *const *args, Py_ssize_t nargs,	\
			       PyObject *kwnames)			\
{									\
	return table_fast(self, op, nmin, nmax, args, nargs, kwnames,	\
			  table_##cname##_general);			\
}

TABLE_METHOD(add, add, ADICT_OP_ADD, kw_key_delta, 1, 2)
TABLE_METHOD(sub, sub, ADICT_OP_SUB, kw_key_delta, 1, 2)
TABLE_METHOD(swap, swap, ADICT_OP_SWAP, kw_key_value, 2, 2)
TABLE_METHOD(store, store, ADICT_OP_STORE, kw_key_value, 2, 2)
TABLE_METHOD(band, band, ADICT_OP_AND, kw_key_mask, 2, 2)
TABLE_METHOD(bor, bor, ADICT_OP_OR, kw_key_mask, 2, 2)
TABLE_METHOD(bxor, bxor, ADICT_OP_XOR, kw_key_mask, 2, 2)
TABLE_METHOD(cas, cas, ADICT_OP_CAS, kw_key_cas, 3, 3)
TABLE_METHOD(load, load, ADICT_OP_LOAD, kw_key, 1, 1)
TABLE_METHOD(find, find, ADICT_OP_FIND, kw_key_default, 1, 2)
TABLE_METHOD(insert, insert, ADICT_OP_INSERT, kw_key, 1, 1)
TABLE_METHOD(set_add, add, ADICT_OP_INSERT, kw_key, 1, 1)
#undef TABLE_METHOD

/* ------------------------------------------------------------------------ */
/* Batches                                                                  */
/* ------------------------------------------------------------------------ */

/*
 * Batches check every key (and delta) in a first pass, so that bad input
 * raises before anything is applied.  On the default geometry they then
 * run in chunks of BATCH_CHUNK keys: the keys of one chunk are converted
 * into a small buffer, libadict runs them (prefetching ahead) and the
 * results go straight into the result list, so a call of any size touches
 * the same few kilobytes of temporaries.  libadict has no batch call for
 * packed keys: on the other geometries it is one adict_tuple_op() per key.
 */
#define BATCH_CHUNK	512
_Static_assert(BATCH_CHUNK >= ADICT_KEY_WORDS_MAX, "a chunk holds a packed key");

enum batch_kind { BATCH_ADD, BATCH_LOAD, BATCH_INSERT };

static const __u32 batch_op[] = {
	[BATCH_ADD] = ADICT_OP_ADD,
	[BATCH_LOAD] = ADICT_OP_LOAD,
	[BATCH_INSERT] = ADICT_OP_INSERT,
};

struct batch {
	const char *fn;
	struct table_object *self;
	enum batch_kind kind;
	bool wide;		/* not the default geometry (t->core.wide) */
	bool value32;		/* the table's values are 32-bit */
	PyObject *keys;		/* PySequence_Fast of the keys */
	PyObject *deltas;	/* PySequence_Fast of the deltas, or NULL */
	__u64 delta;		/* the delta of every key when deltas is NULL */
	Py_ssize_t n;
};

/* Item @i of a fast sequence, which Python code run by __index__ may resize. */
static PyObject *batch_item(struct batch *b, PyObject *seq, Py_ssize_t i)
{
	if (__builtin_expect(PySequence_Fast_GET_SIZE(seq) != b->n, 0)) {
		PyErr_Format(PyExc_RuntimeError, "%s: the sequence changed size "
			     "during the call", b->fn);
		return NULL;
	}
	return PySequence_Fast_GET_ITEM(seq, i);
}

/* Key @i into @words; the table must still be open (see table_op()). */
static __attribute__((noinline)) int batch_key_general(struct batch *b,
							Py_ssize_t i, __u64 *words)
{
	struct adict *t = table_get(b->self);
	PyObject *o;

	if (!t)
		return -1;
	o = batch_item(b, b->keys, i);
	return o ? key_from_py(t, o, words) : -1;
}

/*
 * The same, inline for the common key: an exact int of the default
 * geometry, read in place.  That runs no Python code, so it needs no check
 * that the table is still open (batch_run() checks before it applies a
 * chunk); only a key that is not an exact int, whose conversion may run
 * __index__, can change the sequence or close the table under the batch,
 * and the size check here and batch_key_general()'s checks catch that.
 */
static __always_inline int batch_key(struct batch *b, Py_ssize_t i, __u64 *words)
{
	if (__builtin_expect(!b->wide &&
			     PySequence_Fast_GET_SIZE(b->keys) == b->n &&
			     key64_in_place(PySequence_Fast_ITEMS(b->keys)[i],
					    &words[0]), 1))
		return 0;
	return batch_key_general(b, i, words);
}

static int batch_delta(struct batch *b, Py_ssize_t i, __u64 *delta)
{
	PyObject *o;

	if (!b->deltas) {
		*delta = b->delta;
		return 0;
	}
	o = batch_item(b, b->deltas, i);
	return o ? value_from_py(o, b->value32, delta) : -1;
}

static void batch_release(struct batch *b)
{
	Py_XDECREF(b->keys);
	Py_XDECREF(b->deltas);
}

/* Open @keys_o (and @delta_o: NULL, an int or a sequence) and check it all. */
static int batch_open(struct batch *b, struct table_object *self,
		      const char *fn, enum batch_kind kind, PyObject *keys_o,
		      PyObject *delta_o)
{
	__u64 words[ADICT_KEY_WORDS_MAX], x;
	struct adict *t = table_get(self);
	Py_ssize_t i;

	if (!t)
		return -1;
	b->fn = fn;
	b->self = self;
	b->kind = kind;
	b->wide = t->core.wide;
	b->value32 = t->core.layout.value_bytes == 4;
	b->deltas = NULL;
	b->delta = 1;
	b->keys = PySequence_Fast(keys_o, "keys must be an iterable of keys");
	if (!b->keys)
		return -1;
	b->n = PySequence_Fast_GET_SIZE(b->keys);
	if (delta_o && PyLong_Check(delta_o)) {
		if (value_from_py(delta_o, b->value32, &b->delta))
			goto out_release;
	} else if (delta_o) {
		b->deltas = PySequence_Fast(delta_o, "delta must be an int or a "
					    "sequence of ints");
		if (!b->deltas)
			goto out_release;
		if (PySequence_Fast_GET_SIZE(b->deltas) != b->n) {
			PyErr_Format(PyExc_ValueError, "%s: %zd keys but %zd deltas",
				     fn, b->n, PySequence_Fast_GET_SIZE(b->deltas));
			goto out_release;
		}
	}
	for (i = 0; i < b->n; i++)
		if (batch_key(b, i, words) || batch_delta(b, i, &x))
			goto out_release;
	return 0;

out_release:
	batch_release(b);
	return -1;
}

/*
 * Say how far a failed batch got: the first @done of @n keys were applied.
 * The exception is already set (op_error() or a conversion error).
 */
static PyObject *batch_note(size_t done, size_t n)
{
	PyObject *exc, *note;

	if (!done)
		return NULL;
#if PY_VERSION_HEX >= 0x030C0000
	exc = PyErr_GetRaisedException();
#else
	{
		PyObject *type, *tb;

		PyErr_Fetch(&type, &exc, &tb);
		PyErr_NormalizeException(&type, &exc, &tb);
		if (exc && tb)
			PyException_SetTraceback(exc, tb);
		Py_XDECREF(type);
		Py_XDECREF(tb);
	}
#endif
	if (!exc)
		return NULL;
	note = PyUnicode_FromFormat("the first %zu of %zu keys of the batch were applied",
				    done, n);
	if (note) {
		PyObject *r = PyObject_CallMethod(exc, "add_note", "O", note);

		if (r)
			Py_DECREF(r);
		else
			PyErr_Clear();	/* before 3.11: no notes */
		Py_DECREF(note);
	} else {
		PyErr_Clear();
	}
#if PY_VERSION_HEX >= 0x030C0000
	PyErr_SetRaisedException(exc);
#else
	PyErr_Restore(Py_NewRef((PyObject *)Py_TYPE(exc)), exc,
		      PyException_GetTraceback(exc));
#endif
	return NULL;
}

/* Fill the unset tail of @list from @i so that it can be freed, and free it. */
static void list_abandon(PyObject *list, Py_ssize_t i)
{
	for (; i < PyList_GET_SIZE(list); i++)
		PyList_SET_ITEM(list, i, Py_NewRef(Py_None));
	Py_DECREF(list);
}

/*
 * Run the checked batch @b into a new list.  Packed keys take one
 * adict_tuple_op() each, in chunks of one; the default geometry's keys go
 * to libadict's batch calls a chunk at a time.
 */
static PyObject *batch_run(struct batch *b)
{
	__u64 keys[BATCH_CHUNK], deltas[BATCH_CHUNK], out[BATCH_CHUNK];
	__u32 op = batch_op[b->kind];
	Py_ssize_t done, i, c;
	struct adict *t;
	PyObject *list, *k;
	int ret;

	list = PyList_New(b->n);
	if (!list)
		return NULL;
	for (done = 0; done < b->n; done += c) {
		t = table_get(b->self);
		if (!t)
			goto out_abandon;
		/* A packed key fills keys[0 .. its words - 1]. */
		c = t->core.wide ? 1 : b->n - done < BATCH_CHUNK ? b->n - done :
		    BATCH_CHUNK;
		for (i = 0; i < c; i++)
			if (batch_key(b, done + i, &keys[i]) ||
			    (b->kind == BATCH_ADD && batch_delta(b, done + i, &deltas[i])))
				goto out_abandon;
		/* The conversions may have run Python code that closed it. */
		t = table_get(b->self);
		if (!t)
			goto out_abandon;
		if (t->core.wide) {
			ret = adict_tuple_op(t, op, keys, b->kind == BATCH_ADD ?
					     deltas[0] : 0, 0, &out[0]);
			ret = ret < 0 ? ret : 1;
		} else if (b->kind == BATCH_ADD) {
			ret = adict_add_batch(t, keys, b->deltas || b->delta != 1 ?
					      deltas : NULL, (size_t)c, out);
		} else if (b->kind == BATCH_LOAD) {
			ret = adict_load_batch(t, keys, (size_t)c, out);
		} else {
			for (ret = 0; ret < c; ret++) {
				int r = adict_insert(t, keys[ret]);

				if (r < 0) {
					ret = ret ? ret : r;
					break;
				}
				out[ret] = (__u64)r;
			}
		}
		/* ret: c, or the count done before a failing key, or -errno. */
		for (i = 0; i < (ret < 0 ? 0 : ret); i++) {
			PyObject *x = b->kind == BATCH_INSERT ? PyBool_FromLong((long)out[i]) :
				      PyLong_FromUnsignedLongLong(out[i]);

			if (!x) {
				done += i;
				goto out_abandon;
			}
			PyList_SET_ITEM(list, done + i, x);
		}
		if (ret < c) {
			i = ret < 0 ? 0 : ret;	/* the failing key */
			if (ret >= 0)		/* learn its errno */
				ret = adict_tuple_op(t, op, &keys[i], 0, 0, &out[0]);
			done += i;
			k = key_to_py(adict_key_words(t), &keys[i]);
			if (k) {
				op_error(b->self, ret < 0 ? ret : -EIO, k);
				Py_DECREF(k);
			}
			goto out_abandon;
		}
	}
	return list;

out_abandon:
	list_abandon(list, done);
	return batch_note((size_t)done, (size_t)b->n);
}

static PyObject *table_many(struct table_object *self, const char *fn,
			    enum batch_kind kind, PyObject *keys_o,
			    PyObject *delta_o)
{
	struct batch b;
	PyObject *ret;

	if (batch_open(&b, self, fn, kind, keys_o, delta_o))
		return NULL;
	ret = batch_run(&b);
	batch_release(&b);
	return ret;
}

static const char *const kw_keys_delta[] = { "keys", "delta" };
static const char *const kw_keys[] = { "keys" };

static PyObject *table_add_many(struct table_object *self, PyObject *const *args,
				Py_ssize_t nargs, PyObject *kwnames)
{
	PyObject *a[2];

	if (parse_args("add_many", kw_keys_delta, 1, 2, args, nargs, kwnames, a))
		return NULL;
	return table_many(self, "add_many", BATCH_ADD, a[0], a[1]);
}

static PyObject *table_load_many(struct table_object *self, PyObject *const *args,
				 Py_ssize_t nargs, PyObject *kwnames)
{
	PyObject *a[1];

	if (parse_args("load_many", kw_keys, 1, 1, args, nargs, kwnames, a))
		return NULL;
	return table_many(self, "load_many", BATCH_LOAD, a[0], NULL);
}

/* AtomicSet.add_many: one insert per key. */
static PyObject *set_add_many(struct table_object *self, PyObject *const *args,
			      Py_ssize_t nargs, PyObject *kwnames)
{
	PyObject *a[1];

	if (parse_args("add_many", kw_keys, 1, 1, args, nargs, kwnames, a))
		return NULL;
	return table_many(self, "add_many", BATCH_INSERT, a[0], NULL);
}

/* ------------------------------------------------------------------------ */
/* Iteration                                                                */
/* ------------------------------------------------------------------------ */

static PyObject *iter_new(struct table_object *self, enum iter_kind kind)
{
	struct iter_object *it;

	if (!table_get(self))
		return NULL;
	it = PyObject_New(struct iter_object, &iter_type);
	if (!it)
		return NULL;
	it->table = (struct table_object *)Py_NewRef((PyObject *)self);
	it->cursor = 0;
	it->kind = kind;
	return (PyObject *)it;
}

static PyObject *dict_iter(struct table_object *self)
{
	return iter_new(self, ITER_ROWS);
}

static PyObject *set_iter(struct table_object *self)
{
	return iter_new(self, ITER_SET_ROWS);
}

static PyObject *table_items(struct table_object *self, PyObject *unused)
{
	return iter_new(self, ITER_ITEMS);
}

static PyObject *table_keys(struct table_object *self, PyObject *unused)
{
	return iter_new(self, ITER_KEYS);
}

static PyObject *table_values(struct table_object *self, PyObject *unused)
{
	return iter_new(self, ITER_VALUES);
}

static void iter_dealloc(struct iter_object *it)
{
	Py_DECREF(it->table);
	PyObject_Free(it);
}

/*
 * The next row, as its kind wants it.  The original's rows (iter(table))
 * always hold the key as a tuple; items() and keys() give a one-word key
 * as an int.
 */
static PyObject *iter_next(struct iter_object *it)
{
	__u64 words[ADICT_KEY_WORDS_MAX], val;
	struct adict *t = it->table->t;
	PyObject *key, *x, *row;
	unsigned int n;

	if (!t)
		return closed_error();
	if (adict_tuple_iter_next(t, &it->cursor, words, &val) <= 0)
		return NULL;	/* StopIteration */
	if (it->kind == ITER_VALUES)
		return PyLong_FromUnsignedLongLong(val);
	n = adict_key_words(t);
	key = key_to_py(n, words);
	if (!key)
		return NULL;
	if (n == 1 && (it->kind == ITER_ROWS || it->kind == ITER_SET_ROWS)) {
		Py_SETREF(key, PyTuple_Pack(1, key));
		if (!key)
			return NULL;
	}
	if (it->kind == ITER_KEYS)
		return key;
	x = it->kind == ITER_SET_ROWS ? Py_NewRef(Py_True) :
	    PyLong_FromUnsignedLongLong(val);
	if (!x) {
		Py_DECREF(key);
		return NULL;
	}
	row = PyTuple_Pack(2, key, x);
	Py_DECREF(key);
	Py_DECREF(x);
	return row;
}

static PyTypeObject iter_type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "atomic_dict._Iterator",
	.tp_basicsize = sizeof(struct iter_object),
	.tp_dealloc = (destructor)iter_dealloc,
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc = "Iterator over the keys present in a table (not a snapshot).",
	.tp_iter = PyObject_SelfIter,
	.tp_iternext = (iternextfunc)iter_next,
};

/* ------------------------------------------------------------------------ */
/* Types                                                                    */
/* ------------------------------------------------------------------------ */

#define COMMON_METHODS							\
	{ "attach", FN(table_attach), METH_VARARGS | METH_KEYWORDS | METH_CLASS, \
	  "attach($type, /, name, *, readonly=False, mediated=False, owner=None)\n--\n\n" \
	  "Open the existing named table `name` on /dev/atomic_dict.\n"	\
	  "readonly maps it read-only (writes raise PermissionError);\n"	\
	  "mediated maps it read-only and runs the operations the table's\n" \
	  "grant allows in the kernel.  owner (a uid) attaches only a table\n" \
	  "owned by that uid, PermissionError otherwise: use it for\n"	\
	  "well-known names.  Raises KernelModuleNotLoadedError\n"	\
	  "without the device, FileNotFoundError for an unknown name." },	\
	{ "from_fd", FN(table_from_fd), METH_O | METH_CLASS,		\
	  "from_fd($type, fd, /)\n--\n\n"				\
	  "Open the table behind fd: the fileno() of a table of another\n"	\
	  "process, received over a unix socket (SCM_RIGHTS) or inherited.\n" \
	  "fd is duplicated; the caller keeps it.  multiprocessing uses\n"	\
	  "this to pass anonymous tables to spawn and forkserver children." }, \
	{ "fileno", FN(table_fileno), METH_NOARGS,			\
	  "fileno($self, /)\n--\n\n"					\
	  "The table's file descriptor (its memfd, or its /dev/atomic_dict fd);\n" \
	  "it stays owned by the table and is closed by close()." },	\
	{ "close", FN(table_close), METH_NOARGS,			\
	  "close($self, /)\n--\n\n"					\
	  "Unmap the table in this process (others keep it).\n"		\
	  "Further use raises ValueError; closing twice is harmless." },	\
	{ "info", FN(table_info), METH_NOARGS,				\
	  "info($self, /)\n--\n\n"					\
	  "Describe the table: capacity, buckets, bytes, used, the geometry\n" \
	  "k64/k32/v64/v32, backend ('memfd' or 'device'), access\n"	\
	  "('readwrite', 'readonly', 'mediated'), name, and for the device\n" \
	  "id, uid, gid, mode, grant and users (None for memfd tables)." }, \
	{ "keys", FN(table_keys), METH_NOARGS,				\
	  "keys($self, /)\n--\n\n"					\
	  "An iterator of the keys present, as ints (not a snapshot)." },	\
	{ "__enter__", FN(table_enter), METH_NOARGS, NULL },		\
	{ "__exit__", FN(table_exit), METH_FASTCALL, NULL },		\
	{ "__reduce__", FN(table_reduce), METH_NOARGS, NULL }

static PyMethodDef dict_methods[] = {
	COMMON_METHODS,
	{ "load", FN(table_load), FASTKW,
	  "load($self, /, key)\n--\n\n"
	  "The value of key (0, and key inserted, if absent)." },
	{ "find", FN(table_find), FASTKW,
	  "find($self, /, key, default=None)\n--\n\n"
	  "The value of key, or default if key is absent; never inserts." },
	{ "store", FN(table_store), FASTKW,
	  "store($self, /, key, value)\n--\n\n"
	  "Set the value; return the previous value." },
	{ "swap", FN(table_swap), FASTKW,
	  "swap($self, /, key, value)\n--\n\n"
	  "Atomically exchange; return the previous value." },
	{ "add", FN(table_add), FASTKW,
	  "add($self, /, key, delta=1)\n--\n\n"
	  "Atomically add (mod 2**64); return the previous value." },
	{ "sub", FN(table_sub), FASTKW,
	  "sub($self, /, key, delta=1)\n--\n\n"
	  "Atomically subtract (mod 2**64); return the previous value." },
	{ "band", FN(table_band), FASTKW,
	  "band($self, /, key, mask)\n--\n\n"
	  "Atomic bitwise AND; return the previous value." },
	{ "bor", FN(table_bor), FASTKW,
	  "bor($self, /, key, mask)\n--\n\n"
	  "Atomic bitwise OR; return the previous value." },
	{ "bxor", FN(table_bxor), FASTKW,
	  "bxor($self, /, key, mask)\n--\n\n"
	  "Atomic bitwise XOR; return the previous value." },
	{ "cas", FN(table_cas), FASTKW,
	  "cas($self, /, key, expected, desired)\n--\n\n"
	  "Compare-and-swap; return the value observed (== expected iff swapped)." },
	{ "insert", FN(table_insert), FASTKW,
	  "insert($self, /, key)\n--\n\n"
	  "Insert key with value 0 if absent; True if it was new." },
	{ "add_many", FN(table_add_many), FASTKW,
	  "add_many($self, /, keys, delta=1)\n--\n\n"
	  "Add delta (an int, or a sequence as long as keys) to each key, in\n"
	  "order, prefetching ahead (adict_add_batch); return the previous\n"
	  "values.  Every key and delta is checked before any is applied.\n"
	  "Each addition is atomic, the batch is not: when the table fills\n"
	  "up, the keys before the failing one have been applied." },
	{ "load_many", FN(table_load_many), FASTKW,
	  "load_many($self, /, keys)\n--\n\n"
	  "The value of each key, in order (adict_load_batch); absent keys are\n"
	  "inserted with value 0, as load() does." },
	{ "items", FN(table_items), METH_NOARGS,
	  "items($self, /)\n--\n\n"
	  "An iterator of (key, value) with int keys.  iter(d) yields the\n"
	  "original's ((key,), value) instead." },
	{ "values", FN(table_values), METH_NOARGS,
	  "values($self, /)\n--\n\n"
	  "An iterator of the values." },
	{ NULL }
};

static PyMethodDef set_methods[] = {
	COMMON_METHODS,
	{ "add", FN(table_set_add), FASTKW,
	  "add($self, /, key)\n--\n\n"
	  "Insert key; True if it was new, False if present." },
	{ "add_many", FN(set_add_many), FASTKW,
	  "add_many($self, /, keys)\n--\n\n"
	  "add() each key in order; every key is checked first.  When the set\n"
	  "fills up, the keys before the failing one have been inserted." },
	{ NULL }
};

static PyGetSetDef table_getset[] = {
	{ "closed", (getter)table_closed_get, NULL, "True once close() ran.", NULL },
	{ "name", (getter)table_name_get, NULL,
	  "The table's name on /dev/atomic_dict, or None when anonymous.", NULL },
	{ "capacity", (getter)table_capacity_get, NULL,
	  "The most keys the table accepts (max_entries).", NULL },
	{ NULL }
};

static PyMappingMethods dict_as_mapping = {
	.mp_length = (lenfunc)table_length,
	.mp_subscript = (binaryfunc)table_subscript,
	.mp_ass_subscript = (objobjargproc)table_ass_subscript,
};

static PySequenceMethods table_as_sequence = {
	.sq_length = (lenfunc)table_length,
	.sq_contains = (objobjproc)table_contains,
};

static PyTypeObject dict_type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "atomic_dict.AtomicDict",
	.tp_basicsize = sizeof(struct table_object),
	.tp_dealloc = (destructor)table_dealloc,
	.tp_as_sequence = &table_as_sequence,
	.tp_as_mapping = &dict_as_mapping,
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
	.tp_doc = "AtomicDict(max_entries, k64=1, k32=0, v64=1, v32=0, *, name=None, "
		  "mode=0o600, grant=0, backend=None, load=0.75)\n--\n\n"
		  "A lock-free table of keys (each word non-zero) to values (initially\n"
		  "0), shared with fork()ed children and multiprocessing children, or,\n"
		  "when named, with any process through /dev/atomic_dict.  It holds at\n"
		  "most max_entries keys; keys are never removed.  d[key] is an\n"
		  "AtomicValue64; d[key] = v stores; iteration yields ((key,), value).",
	.tp_iter = (getiterfunc)dict_iter,
	.tp_methods = dict_methods,
	.tp_getset = table_getset,
	.tp_new = dict_new,
};

static PyTypeObject set_type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "atomic_dict.AtomicSet",
	.tp_basicsize = sizeof(struct table_object),
	.tp_dealloc = (destructor)table_dealloc,
	.tp_as_sequence = &table_as_sequence,
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
	.tp_doc = "AtomicSet(max_entries, k64=1, k32=0, *, name=None, mode=0o600, "
		  "grant=0, backend=None, load=0.75)\n--\n\n"
		  "A lock-free set of keys (each word non-zero), shared like AtomicDict.\n"
		  "add(key) returns True if the key was new; iteration yields\n"
		  "((key,), True), as the original's.",
	.tp_iter = (getiterfunc)set_iter,
	.tp_methods = set_methods,
	.tp_getset = table_getset,
	.tp_new = set_new,
};

/* ------------------------------------------------------------------------ */
/* Module                                                                   */
/* ------------------------------------------------------------------------ */

/* The original's capi.get_pointer(): a capsule's pointer as an int key. */
static PyObject *module_get_pointer(PyObject *mod, PyObject *capsule)
{
	const char *name;
	void *p;

	if (!PyCapsule_CheckExact(capsule)) {
		PyErr_Format(PyExc_TypeError, "get_pointer() needs a capsule, not %.100s",
			     Py_TYPE(capsule)->tp_name);
		return NULL;
	}
	name = PyCapsule_GetName(capsule);
	if (!name && PyErr_Occurred())
		return NULL;
	p = PyCapsule_GetPointer(capsule, name);
	if (!p)
		return NULL;
	return PyLong_FromUnsignedLongLong((unsigned long long)(uintptr_t)p);
}

static PyMethodDef module_methods[] = {
	{ "get_pointer", module_get_pointer, METH_O,
	  "get_pointer(capsule, /)\n--\n\n"
	  "The pointer a PyCapsule holds, as an int: the original's\n"
	  "capi.get_pointer(), for using C objects as keys." },
	{ "unlink", (PyCFunction)module_unlink, METH_O,
	  "unlink(name, /)\n--\n\nRemove the name of a table on /dev/atomic_dict; the table\n"
	  "lives on while attached.  FileNotFoundError for an unknown name,\n"
	  "KernelModuleNotLoadedError without the device." },
	{ NULL }
};

static struct PyModuleDef module_def = {
	PyModuleDef_HEAD_INIT,
	.m_name = "atomic_dict._atomic_dict",
	.m_doc = "CPython binding of libadict; import atomic_dict instead.",
	.m_size = -1,
	.m_methods = module_methods,
};

static PyObject *new_error(const char *name, const char *doc, PyObject *base2)
{
	PyObject *bases, *e;

	bases = base2 ? PyTuple_Pack(2, error_base, base2) : PyTuple_Pack(1, error_base);
	if (!bases)
		return NULL;
	e = PyErr_NewExceptionWithDoc(name, doc, bases, NULL);
	Py_DECREF(bases);
	return e;
}

PyMODINIT_FUNC PyInit__atomic_dict(void);
PyMODINIT_FUNC PyInit__atomic_dict(void)
{
	PyObject *m;
	int op;
	static const char *const op_names[] = {
		"OP_LOAD", "OP_STORE", "OP_SWAP", "OP_ADD", "OP_SUB", "OP_AND",
		"OP_OR", "OP_XOR", "OP_CAS", "OP_INSERT", "OP_FIND",
	};

	if (PyType_Ready(&value_type) < 0 || PyType_Ready(&value32_type) < 0 ||
	    PyType_Ready(&iter_type) < 0 ||
	    PyType_Ready(&dict_type) < 0 || PyType_Ready(&set_type) < 0)
		return NULL;
	m = PyModule_Create(&module_def);
	if (!m)
		return NULL;

	error_base = PyErr_NewExceptionWithDoc("atomic_dict.Error",
		"Base class of the errors atomic_dict defines.", NULL, NULL);
	if (!error_base)
		goto out_m;
	table_full_error = new_error("atomic_dict.TableFullError",
		"A new key did not fit: the table holds max_entries keys.\n"
		"Also a ValueError, as the original package raised.",
		PyExc_ValueError);
	no_module_error = new_error("atomic_dict.KernelModuleNotLoadedError",
		"/dev/atomic_dict is absent: load the kernel module with\n"
		"`modprobe atomic_dict`.  An OSError with errno ENODEV.",
		PyExc_OSError);
	if (!table_full_error || !no_module_error)
		goto out_m;

	if (PyModule_AddObjectRef(m, "AtomicDict", (PyObject *)&dict_type) ||
	    PyModule_AddObjectRef(m, "AtomicSet", (PyObject *)&set_type) ||
	    PyModule_AddObjectRef(m, "AtomicValue64", (PyObject *)&value_type) ||
	    PyModule_AddObjectRef(m, "AtomicValue32", (PyObject *)&value32_type) ||
	    PyModule_AddObjectRef(m, "Error", error_base) ||
	    PyModule_AddObjectRef(m, "TableFullError", table_full_error) ||
	    PyModule_AddObjectRef(m, "KernelModuleNotLoadedError", no_module_error) ||
	    PyModule_AddStringConstant(m, "DEVICE_PATH", ADICT_DEVICE_PATH) ||
	    PyModule_AddIntConstant(m, "NAME_MAX", ADICT_NAME_MAX - 1) ||
	    PyModule_AddIntConstant(m, "GRANT_ALL", ADICT_GRANT_ALL) ||
	    PyModule_AddIntConstant(m, "GRANT_READ", ADICT_GRANT_READ) ||
	    PyModule_AddIntConstant(m, "CAPACITY_MAX", (long)ADICT_CAPACITY_MAX))
		goto out_m;
	for (op = 0; op < ADICT_OP_COUNT; op++)
		if (PyModule_AddIntConstant(m, op_names[op], op))
			goto out_m;
	return m;

out_m:
	Py_DECREF(m);
	return NULL;
}
