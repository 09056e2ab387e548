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
 * Integers: keys are 1 .. 2**64-1; anything else is ValueError (TypeError
 * for a non-integer).  Value arguments are -2**63 .. 2**64-1, a negative one
 * taken as its two's complement (so add(-1) == sub(1) and band(~m) clears
 * m); anything else is OverflowError.  Results are always 0 .. 2**64-1.
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
	__u64 key;
	__u64 *kv;	/* value word (read-write tables), else NULL */
	/* the key's words on a table of another geometry (t->core.wide) */
	unsigned int nwords;	/* 0 on the default geometry */
	__u64 words[ADICT_KEY_WORDS_MAX];
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
	__u64 cursor;			/* adict_iter_next()'s, opaque */
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
 * Keys.  A table of one key word takes an int or a 1-tuple of it (the
 * original's iteration yields keys as tuples).  Each word is 1 .. 2**64-1:
 * 0 is ValueError (it marks an empty slot), a word out of range is
 * OverflowError (as the original's PyLong_AsUnsignedLongLong raised), a
 * non-integer TypeError.  The message names the word.
 */
static int key_word_error(PyObject *exc, PyObject *o)
{
	PyErr_Format(exc,
		     "atomic_dict key word 1 of 1 (64-bit) must be an integer in "
		     "1..2**64-1 (0 marks an empty slot), got %R", o);
	return -1;
}

static int key_word(PyObject *o, __u64 *key)
{
	int neg, ret;

	ret = int_parts(o, key, &neg);
	if (__builtin_expect(ret == 1 && !neg && *key, 1))
		return 0;
	if (ret < 0) {
		if (PyErr_ExceptionMatches(PyExc_TypeError)) {
			PyErr_Clear();
			PyErr_Format(PyExc_TypeError,
				     "atomic_dict key must be an int or a 1-tuple of an int, "
				     "not %.100s", Py_TYPE(o)->tp_name);
		}
		return -1;
	}
	return key_word_error(ret && !neg ? PyExc_ValueError : PyExc_OverflowError, o);
}

/* 0 and *key, or -1 with an exception. */
static inline int key_from_py(PyObject *o, __u64 *key)
{
	if (__builtin_expect(PyTuple_CheckExact(o) || PyTuple_Check(o), 0)) {
		if (PyTuple_GET_SIZE(o) != 1) {
			PyErr_Format(PyExc_TypeError,
				     "atomic_dict table has 1 key word (k64=1, k32=0): "
				     "a key is an int or a 1-tuple, got a %zd-tuple",
				     PyTuple_GET_SIZE(o));
			return -1;
		}
		o = PyTuple_GET_ITEM(o, 0);
		if (PyTuple_Check(o)) {
			PyErr_SetString(PyExc_TypeError,
					"atomic_dict key word must be an int, not a tuple");
			return -1;
		}
	}
	return key_word(o, key);
}

/*
 * The key of a table of another geometry (format v2, t->core.wide): its
 * words packed as libadict's adict_tuple_*() take them, the k64 u64 words
 * then the k32 u32 words.  A one-word table takes an int or a 1-tuple; a
 * wider one a tuple of exactly its words.  0 and *n words, or -1.
 */
static int wide_word(PyObject *o, unsigned int i, unsigned int n, bool w32,
		     __u64 *word)
{
	int neg, ret;

	ret = int_parts(o, word, &neg);
	if (ret == 1 && !neg && *word && (!w32 || *word <= 0xffffffffULL))
		return 0;
	if (ret < 0) {
		if (PyErr_ExceptionMatches(PyExc_TypeError)) {
			PyErr_Clear();
			PyErr_Format(PyExc_TypeError,
				     "atomic_dict key word %u of %u must be an int, not %.100s",
				     i + 1, n, Py_TYPE(o)->tp_name);
		}
		return -1;
	}
	PyErr_Format(ret == 1 && !neg && !*word ? PyExc_ValueError : PyExc_OverflowError,
		     "atomic_dict key word %u of %u (%d-bit) must be an integer in "
		     "1..2**%d-1 (0 marks an empty slot), got %R",
		     i + 1, n, w32 ? 32 : 64, w32 ? 32 : 64, o);
	return -1;
}

static int wide_key(const struct adict *t, PyObject *o, __u64 *words)
{
	unsigned int k64 = t->core.layout.key64, n = adict_key_words(t), i;

	if (!PyTuple_Check(o)) {
		if (n == 1)
			return wide_word(o, 0, 1, k64 == 0, &words[0]);
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
	for (i = 0; i < n; i++)
		if (wide_word(PyTuple_GET_ITEM(o, i), i, n, i >= k64, &words[i]))
			return -1;
	return 0;
}

/* The key of @words for messages and v.key: an int for one word. */
static PyObject *wide_key_obj(unsigned int n, const __u64 *words)
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

/* A value argument of a table of 32-bit values: -2**31 .. 2**32-1. */
static int value32_from_py(PyObject *o, __u64 *value)
{
	int neg, ret;
	__u64 m;

	ret = int_parts(o, &m, &neg);
	if (ret == 1 && !neg && m <= 0xffffffffULL) {
		*value = m;
		return 0;
	}
	if (ret == 1 && neg && m <= 0x80000000ULL) {
		*value = (__u32)-(__u32)m;
		return 0;
	}
	if (ret < 0)
		return -1;
	PyErr_Format(PyExc_OverflowError,
		     "atomic_dict value of a table of 32-bit values must be an "
		     "integer in -2**31..2**32-1 (negative values are taken as 32-bit "
		     "two's complement), got %R", o);
	return -1;
}

static int value_range_error(PyObject *o)
{
	PyErr_Format(PyExc_OverflowError,
		     "atomic_dict value must be an integer in -2**63..2**64-1 "
		     "(negative values are taken as 64-bit two's complement), got %R",
		     o);
	return -1;
}

/* 0 and *value (two's complement of a negative), or -1 with an exception. */
static inline int value_from_py(PyObject *o, __u64 *value)
{
	int neg, ret;
	__u64 m;

	ret = int_parts(o, &m, &neg);
	if (__builtin_expect(ret == 1, 1)) {
		if (!neg) {
			*value = m;
			return 0;
		}
		if (m <= (__u64)1 << 63) {
			*value = -m;
			return 0;
		}
	}
	if (ret < 0)
		return -1;
	return value_range_error(o);
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

/* An operation on @key of @self failed with libadict's @ret (-errno). */
static PyObject *op_error_s(struct table_object *self, int ret, PyObject *key);

static PyObject *op_error(struct table_object *self, int ret, __u64 key)
{
	PyObject *k = PyLong_FromUnsignedLongLong(key), *r;

	if (!k)
		return NULL;
	r = op_error_s(self, ret, k);
	Py_DECREF(k);
	return r;
}

/* An operation on the key @key (an int or a tuple) failed with @ret. */
static PyObject *op_error_s(struct table_object *self, int ret, PyObject *key)
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

/* The original's geometry arguments: ValueError as its AtomicArray raised. */
static int geometry_check(const char *cls, long k64, long k32, long v64,
			  long v32, int set)
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
	return 0;
}

/* The keyword-only extras and the geometry, shared by both constructors. */
struct create_extras {
	PyObject *name, *backend;
	int mode, grant;
	unsigned int key64, key32, value_bytes;	/* all 0: the default */
};

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
				  "name", "mode", "grant", "backend", NULL };
	struct create_extras x = { Py_None, Py_None, 0600, 0, 0, 0, 0 };
	long k64 = 1, k32 = 0, v64 = 1, v32 = 0;
	PyObject *cap_o;

	if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|llll$OiiO:AtomicDict", kwlist,
					 &cap_o, &k64, &k32, &v64, &v32, &x.name,
					 &x.mode, &x.grant, &x.backend))
		return NULL;
	if (geometry_check("AtomicDict", k64, k32, v64, v32, 0))
		return NULL;
	if (k64 != 1 || k32 != 0 || v32) {	/* else libadict's default */
		x.key64 = (unsigned int)k64;
		x.key32 = (unsigned int)k32;
		x.value_bytes = v64 ? 8 : 4;
	}
	return table_create(type, cap_o, &x);
}

static PyObject *set_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = { "max_entries", "k64", "k32",
				  "name", "mode", "grant", "backend", NULL };
	struct create_extras x = { Py_None, Py_None, 0600, 0, 0, 0, 0 };
	long k64 = 1, k32 = 0;
	PyObject *cap_o;

	if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|ll$OiiO:AtomicSet", kwlist,
					 &cap_o, &k64, &k32, &x.name, &x.mode,
					 &x.grant, &x.backend))
		return NULL;
	if (geometry_check("AtomicSet", k64, k32, 0, 0, 1))
		return NULL;
	/* One u64 word: the default u64 -> u64 table, its value unused. */
	if (k64 != 1 || k32 != 0) {
		x.key64 = (unsigned int)k64;
		x.key32 = (unsigned int)k32;
	}
	return table_create(type, cap_o, &x);
}

static PyObject *table_attach(PyObject *cls, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = { "name", "readonly", "mediated", NULL };
	int readonly = 0, mediated = 0, ret;
	unsigned int flags = 0;
	struct table_object *self;
	PyObject *name_o;
	const char *name;
	struct adict *t;

	if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|$pp:attach", kwlist,
					 &name_o, &readonly, &mediated))
		return NULL;
	name = name_from_py(name_o);
	if (!name)
		return NULL;
	if (readonly)
		flags |= ADICT_ATTACH_RDONLY;
	if (mediated)
		flags |= ADICT_ATTACH_MEDIATED;
	self = (struct table_object *)((PyTypeObject *)cls)->tp_alloc((PyTypeObject *)cls, 0);
	if (!self)
		return NULL;
	ret = adict_attach(&t, name, flags);
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
	return Py_BuildValue("{s:K,s:i,s:i,s:i,s:i,s:K,s:K,s:K,s:s,s:s,s:N,s:N,s:N,s:N,s:N,s:N,s:N}",
		"capacity", (unsigned long long)info.capacity,
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
	__u64 key, v;
	int ret;

	if (!table_get(self))
		return -1;
	if (self->t->core.wide) {
		__u64 words[ADICT_KEY_WORDS_MAX];

		if (wide_key(self->t, key_o, words))
			return -1;
		ret = adict_tuple_find(self->t, words, &v);
		if (ret == -ENOENT)
			return 0;
		if (ret < 0) {
			op_error_s(self, ret, key_o);
			return -1;
		}
		return 1;
	}
	if (key_from_py(key_o, &key))
		return -1;
	ret = adict_find(self->t, key, &v);
	if (ret == -ENOENT)
		return 0;
	if (ret < 0) {
		op_error(self, ret, key);
		return -1;
	}
	return 1;
}

/* ------------------------------------------------------------------------ */
/* AtomicValue: d[key]                                                      */
/* ------------------------------------------------------------------------ */

/* A value argument for the table's value width. */
static inline int wide_value(const struct adict *t, PyObject *o, __u64 *v)
{
	return t->core.layout.value_bytes == 4 ? value32_from_py(o, v) :
	       value_from_py(o, v);
}

/*
 * One operation on a table of another geometry than u64 -> u64 (format
 * v2): the key's words and the value arguments parsed for it, then one
 * adict_tuple_op().  The result as the u64 methods return it; @dflt is
 * find()'s default.
 */
static PyObject *wide_op(struct table_object *self, __u32 op, PyObject *key_o,
			 PyObject *arg1_o, PyObject *arg2_o, PyObject *dflt)
{
	__u64 words[ADICT_KEY_WORDS_MAX], a1 = 1, a2 = 0, r;
	int ret;

	if (wide_key(self->t, key_o, words) ||
	    (arg1_o && wide_value(self->t, arg1_o, &a1)) ||
	    (arg2_o && wide_value(self->t, arg2_o, &a2)))
		return NULL;
	if (!table_get(self))	/* the conversions may have run Python code */
		return NULL;
	ret = adict_tuple_op(self->t, op, words, a1, a2, &r);
	if (op == ADICT_OP_FIND && ret == -ENOENT)
		return Py_NewRef(dflt ? dflt : Py_None);
	if (ret < 0)
		return op_error_s(self, ret, key_o);
	if (op == ADICT_OP_INSERT)
		return PyBool_FromLong((long)r);
	return PyLong_FromUnsignedLongLong(r);
}

/*
 * Freed AtomicValue64 objects kept for reuse: d[k].add(1) makes one and
 * drops it on every call.  Touched only with the GIL held.
 */
#define VALUE_FREELIST_MAX	64
static struct value_object *value_freelist[VALUE_FREELIST_MAX];
static int value_nfree;

static inline struct value_object *value_alloc(void)
{
	struct value_object *v;

	if (__builtin_expect(value_nfree > 0, 1)) {
		v = value_freelist[--value_nfree];
		PyObject_Init((PyObject *)v, &value_type);
		return v;
	}
	return PyObject_New(struct value_object, &value_type);
}

/* d[key] on a table of another geometry: the value object keeps the words. */
static PyObject *wide_subscript(struct table_object *self, PyObject *key_o)
{
	__u64 words[ADICT_KEY_WORDS_MAX];
	struct value_object *v;
	__u64 r;
	int ret;

	if (wide_key(self->t, key_o, words))
		return NULL;
	/* As the original: d[key] inserts key (value 0) if it is absent. */
	if (self->t->access == ADICT_ACCESS_RDWR) {
		ret = adict_tuple_op(self->t, ADICT_OP_INSERT, words, 0, 0, &r);
		if (ret < 0)
			return op_error_s(self, ret, key_o);
	}
	v = value_alloc();
	if (!v)
		return NULL;
	if (self->t->core.layout.value_bytes == 4)
		Py_SET_TYPE(v, &value32_type);
	Py_INCREF(self);
	v->table = self;
	v->key = 0;
	v->kv = NULL;
	v->nwords = adict_key_words(self->t);
	memcpy(v->words, words, sizeof(words[0]) * v->nwords);
	return (PyObject *)v;
}

static PyObject *table_subscript(struct table_object *self, PyObject *key_o)
{
	struct value_object *v;
	__u64 key, *kv = NULL;
	int ret;

	if (__builtin_expect(!self->t, 0))
		return closed_error();
	if (__builtin_expect(self->t->core.wide, 0))
		return wide_subscript(self, key_o);
	if (key_from_py(key_o, &key))
		return NULL;
	/* As the original: d[key] inserts key (value 0) if it is absent. */
	if (__builtin_expect(self->t->access == ADICT_ACCESS_RDWR, 1)) {
		ret = adict_handle(self->t, key, &kv);
		if (__builtin_expect(ret < 0, 0))
			return op_error(self, ret, key);
	}
	v = value_alloc();
	if (!v)
		return NULL;
	Py_INCREF(self);
	v->table = self;
	v->key = key;
	v->kv = kv;
	v->nwords = 0;
	return (PyObject *)v;
}

static int table_ass_subscript(struct table_object *self, PyObject *key_o,
			       PyObject *val_o)
{
	__u64 key, val;
	int ret;

	if (!val_o) {
		PyErr_SetString(PyExc_TypeError,
				"atomic_dict keys can never be removed");
		return -1;
	}
	if (__builtin_expect(!self->t, 0)) {
		closed_error();
		return -1;
	}
	if (__builtin_expect(self->t->core.wide, 0)) {
		PyObject *r = wide_op(self, ADICT_OP_STORE, key_o, val_o, NULL, NULL);

		Py_XDECREF(r);
		return r ? 0 : -1;
	}
	if (key_from_py(key_o, &key) || value_from_py(val_o, &val))
		return -1;
	ret = adict_store(self->t, key, val);
	if (__builtin_expect(ret < 0, 0)) {
		op_error(self, ret, key);
		return -1;
	}
	return 0;
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

/* An operation on @v's key failed: the message names the key. */
static PyObject *value_op_error(struct value_object *v, int ret)
{
	PyObject *k, *r;

	if (!v->nwords)
		return op_error(v->table, ret, v->key);
	k = wide_key_obj(v->nwords, v->words);
	if (!k)
		return NULL;
	r = op_error_s(v->table, ret, k);
	Py_DECREF(k);
	return r;
}

/* A value argument: 32-bit for an AtomicValue32. */
static inline int value_arg(struct value_object *v, PyObject *o, __u64 *x)
{
	if (__builtin_expect(Py_IS_TYPE(v, &value32_type), 0))
		return value32_from_py(o, x);
	return value_from_py(o, x);
}

/* One read-modify-write on a value object: the handle, or the slow path. */
static inline PyObject *value_rmw(struct value_object *v, __u32 op, __u64 arg)
{
	struct adict *t = value_table(v);
	__u64 old;
	int ret;

	if (!t)
		return NULL;
	if (__builtin_expect(v->kv != NULL, 1)) {
		switch (op) {
		case ADICT_OP_STORE:
		case ADICT_OP_SWAP:
			old = adict_v_swap(v->kv, arg);
			break;
		case ADICT_OP_ADD:
			old = adict_v_add(v->kv, arg);
			break;
		case ADICT_OP_SUB:
			old = adict_a_fetch_sub(v->kv, arg);
			break;
		case ADICT_OP_AND:
			old = adict_a_fetch_and(v->kv, arg);
			break;
		case ADICT_OP_OR:
			old = adict_a_fetch_or(v->kv, arg);
			break;
		default:
			old = adict_a_fetch_xor(v->kv, arg);
			break;
		}
		return PyLong_FromUnsignedLongLong(old);
	}
	ret = t->core.wide ? adict_tuple_op(t, op, v->words, arg, 0, &old) :
	      adict_op(t, op, v->key, arg, 0, &old);
	if (ret < 0)
		return value_op_error(v, ret);
	return PyLong_FromUnsignedLongLong(old);
}

static const char *const kw_value[] = { "value" };
static const char *const kw_mask[] = { "mask" };
static const char *const kw_delta[] = { "delta" };
static const char *const kw_cas[] = { "expected", "desired" };

#define VALUE_RMW(pyname, op, kw, nmin)					\
static PyObject *value_##pyname(struct value_object *v,		\
				PyObject *const *args, Py_ssize_t nargs, \
				PyObject *kwnames)			\
{									\
	PyObject *a[1];							\
	__u64 arg = 1;							\
									\
	if (parse_args(#pyname, kw, nmin, 1, args, nargs, kwnames, a) || \
	    (a[0] && value_arg(v, a[0], &arg)))				\
		return NULL;						\
	return value_rmw(v, op, arg);					\
}

VALUE_RMW(swap, ADICT_OP_SWAP, kw_value, 1)
VALUE_RMW(store, ADICT_OP_STORE, kw_value, 1)
VALUE_RMW(add, ADICT_OP_ADD, kw_delta, 0)
VALUE_RMW(sub, ADICT_OP_SUB, kw_delta, 0)
VALUE_RMW(band, ADICT_OP_AND, kw_mask, 1)
VALUE_RMW(bor, ADICT_OP_OR, kw_mask, 1)
VALUE_RMW(bxor, ADICT_OP_XOR, kw_mask, 1)
#undef VALUE_RMW

/* 0 and *out, or -1 with an exception. */
static inline int value_load_u64(struct value_object *v, __u64 *out)
{
	struct adict *t = value_table(v);
	int ret;

	if (!t)
		return -1;
	if (__builtin_expect(v->kv != NULL, 1)) {
		*out = adict_v_load(v->kv);
		return 0;
	}
	ret = t->core.wide ? adict_tuple_load(t, v->words, out) :
	      adict_load(t, v->key, out);
	if (ret < 0) {
		value_op_error(v, ret);
		return -1;
	}
	return 0;
}

static PyObject *value_load(struct value_object *v, PyObject *unused)
{
	__u64 x;

	if (value_load_u64(v, &x))
		return NULL;
	return PyLong_FromUnsignedLongLong(x);
}

static PyObject *value_cas(struct value_object *v, PyObject *const *args,
			   Py_ssize_t nargs, PyObject *kwnames)
{
	__u64 expected, desired, seen;
	struct adict *t;
	PyObject *a[2];
	int ret;

	if (parse_args("cas", kw_cas, 2, 2, args, nargs, kwnames, a) ||
	    value_arg(v, a[0], &expected) || value_arg(v, a[1], &desired))
		return NULL;
	t = value_table(v);
	if (!t)
		return NULL;
	if (v->kv) {
		seen = adict_v_cas(v->kv, expected, desired);
	} else {
		ret = t->core.wide ?
		      adict_tuple_cas(t, v->words, expected, desired, &seen) :
		      adict_cas(t, v->key, expected, desired, &seen);
		if (ret < 0)
			return value_op_error(v, ret);
	}
	return PyLong_FromUnsignedLongLong(seen);
}

static PyObject *value_key_get(struct value_object *v, void *closure)
{
	if (v->nwords)
		return wide_key_obj(v->nwords, v->words);
	return PyLong_FromUnsignedLongLong(v->key);
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

	if (value_load_u64(v, &x))
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
	else if (value_load_u64(v, &x))
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
 * as AtomicValue64; value_arg() takes its arguments as 32-bit, and
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

/* STORE, not SWAP, so that a mediated table's grant is checked for STORE. */
static inline int adict_store_old(struct adict *t, __u64 key, __u64 value,
				  __u64 *old)
{
	return adict_op(t, ADICT_OP_STORE, key, value, 0, old);
}

static const char *const kw_key_value[] = { "key", "value" };
static const char *const kw_key_mask[] = { "key", "mask" };
static const char *const kw_key_delta[] = { "key", "delta" };
static const char *const kw_key_default[] = { "key", "default" };
static const char *const kw_key_cas[] = { "key", "expected", "desired" };
static const char *const kw_key[] = { "key" };

#define TABLE_RMW(pyname, libfn, op, kw, nmin)			\
static PyObject *table_##pyname(struct table_object *self,		\
				PyObject *const *args, Py_ssize_t nargs, \
				PyObject *kwnames)			\
{									\
	__u64 key, arg = 1, old;					\
	PyObject *a[2];							\
	int ret;							\
									\
	if (__builtin_expect(!self->t, 0))				\
		return closed_error();					\
	if (parse_args(#pyname, kw, nmin, 2, args, nargs, kwnames, a))	\
		return NULL;						\
	if (__builtin_expect(self->t->core.wide, 0))			\
		return wide_op(self, op, a[0], a[1], NULL, NULL);	\
	if (key_from_py(a[0], &key) ||					\
	    (a[1] && value_from_py(a[1], &arg)))			\
		return NULL;						\
	ret = libfn(self->t, key, arg, &old);				\
	if (__builtin_expect(ret < 0, 0))				\
		return op_error(self, ret, key);			\
	return PyLong_FromUnsignedLongLong(old);			\
}

TABLE_RMW(add, adict_add, ADICT_OP_ADD, kw_key_delta, 1)
TABLE_RMW(sub, adict_sub, ADICT_OP_SUB, kw_key_delta, 1)
TABLE_RMW(swap, adict_swap, ADICT_OP_SWAP, kw_key_value, 2)
TABLE_RMW(store, adict_store_old, ADICT_OP_STORE, kw_key_value, 2)
TABLE_RMW(band, adict_and, ADICT_OP_AND, kw_key_mask, 2)
TABLE_RMW(bor, adict_or, ADICT_OP_OR, kw_key_mask, 2)
TABLE_RMW(bxor, adict_xor, ADICT_OP_XOR, kw_key_mask, 2)
#undef TABLE_RMW

static PyObject *table_load(struct table_object *self, PyObject *const *args,
			    Py_ssize_t nargs, PyObject *kwnames)
{
	PyObject *a[1];
	__u64 key, val;
	int ret;

	if (__builtin_expect(!self->t, 0))
		return closed_error();
	if (parse_args("load", kw_key, 1, 1, args, nargs, kwnames, a))
		return NULL;
	if (self->t->core.wide)
		return wide_op(self, ADICT_OP_LOAD, a[0], NULL, NULL, NULL);
	if (key_from_py(a[0], &key))
		return NULL;
	ret = adict_load(self->t, key, &val);
	if (__builtin_expect(ret < 0, 0))
		return op_error(self, ret, key);
	return PyLong_FromUnsignedLongLong(val);
}

static PyObject *table_find(struct table_object *self, PyObject *const *args,
			    Py_ssize_t nargs, PyObject *kwnames)
{
	PyObject *a[2];
	__u64 key, val;
	int ret;

	if (__builtin_expect(!self->t, 0))
		return closed_error();
	if (parse_args("find", kw_key_default, 1, 2, args, nargs, kwnames, a))
		return NULL;
	if (self->t->core.wide)
		return wide_op(self, ADICT_OP_FIND, a[0], NULL, NULL, a[1]);
	if (key_from_py(a[0], &key))
		return NULL;
	ret = adict_find(self->t, key, &val);
	if (ret == -ENOENT)
		return Py_NewRef(a[1] ? a[1] : Py_None);
	if (ret < 0)
		return op_error(self, ret, key);
	return PyLong_FromUnsignedLongLong(val);
}

static PyObject *table_cas(struct table_object *self, PyObject *const *args,
			   Py_ssize_t nargs, PyObject *kwnames)
{
	__u64 key, expected, desired, seen;
	PyObject *a[3];
	int ret;

	if (__builtin_expect(!self->t, 0))
		return closed_error();
	if (parse_args("cas", kw_key_cas, 3, 3, args, nargs, kwnames, a))
		return NULL;
	if (self->t->core.wide)
		return wide_op(self, ADICT_OP_CAS, a[0], a[1], a[2], NULL);
	if (key_from_py(a[0], &key) || value_from_py(a[1], &expected) ||
	    value_from_py(a[2], &desired))
		return NULL;
	ret = adict_cas(self->t, key, expected, desired, &seen);
	if (ret < 0)
		return op_error(self, ret, key);
	return PyLong_FromUnsignedLongLong(seen);
}

static PyObject *table_insert(struct table_object *self, PyObject *const *args,
			      Py_ssize_t nargs, PyObject *kwnames)
{
	PyObject *a[1];
	__u64 key;
	int ret;

	if (__builtin_expect(!self->t, 0))
		return closed_error();
	if (parse_args("insert", kw_key, 1, 1, args, nargs, kwnames, a))
		return NULL;
	if (self->t->core.wide)
		return wide_op(self, ADICT_OP_INSERT, a[0], NULL, NULL, NULL);
	if (key_from_py(a[0], &key))
		return NULL;
	ret = adict_insert(self->t, key);
	if (ret < 0)
		return op_error(self, ret, key);
	return PyBool_FromLong(ret);
}

/* ------------------------------------------------------------------------ */
/* Batches                                                                  */
/* ------------------------------------------------------------------------ */

/*
 * Batches run in chunks of BATCH_CHUNK keys: the keys of one chunk are
 * converted into a small buffer, libadict runs them (prefetching ahead) and
 * the results go straight into the result list.  So a call of any size
 * touches the same few kilobytes of temporaries, where converting all keys
 * first built arrays as large as the call.  Every key (and delta) is checked
 * in a first pass, so that bad input raises before anything is applied.
 */
#define BATCH_CHUNK	512

struct batch {
	const char *fn;
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

static int batch_key(struct batch *b, Py_ssize_t i, __u64 *key)
{
	PyObject *o = batch_item(b, b->keys, i);

	return o ? key_from_py(o, key) : -1;
}

static int batch_delta(struct batch *b, Py_ssize_t i, __u64 *delta)
{
	PyObject *o;

	if (!b->deltas) {
		*delta = b->delta;
		return 0;
	}
	o = batch_item(b, b->deltas, i);
	return o ? value_from_py(o, delta) : -1;
}

static void batch_release(struct batch *b)
{
	Py_XDECREF(b->keys);
	Py_XDECREF(b->deltas);
}

/* Open @keys_o (and @delta_o: NULL, an int or a sequence) and check it all. */
static int batch_open(struct batch *b, const char *fn, PyObject *keys_o,
		      PyObject *delta_o)
{
	Py_ssize_t i;
	__u64 x;

	b->fn = fn;
	b->deltas = NULL;
	b->delta = 1;
	b->keys = PySequence_Fast(keys_o, "keys must be an iterable of keys");
	if (!b->keys)
		return -1;
	b->n = PySequence_Fast_GET_SIZE(b->keys);
	if (delta_o && PyLong_Check(delta_o)) {
		if (value_from_py(delta_o, &b->delta))
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
		if (batch_key(b, i, &x) || batch_delta(b, i, &x))
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

enum batch_kind { BATCH_ADD, BATCH_LOAD, BATCH_INSERT };

static PyObject *batch_run(struct table_object *self, struct batch *b,
			   enum batch_kind kind)
{
	__u64 keys[BATCH_CHUNK], deltas[BATCH_CHUNK], out[BATCH_CHUNK];
	Py_ssize_t off, i, c;
	PyObject *list;
	int ret;

	list = PyList_New(b->n);
	if (!list)
		return NULL;
	for (off = 0; off < b->n; off += c) {
		c = b->n - off < BATCH_CHUNK ? b->n - off : BATCH_CHUNK;
		for (i = 0; i < c; i++)
			if (batch_key(b, off + i, &keys[i]) ||
			    (kind == BATCH_ADD && batch_delta(b, off + i, &deltas[i])))
				goto out_abandon;
		/* The conversions may have run Python code that closed it. */
		if (!table_get(self))
			goto out_abandon;
		switch (kind) {
		case BATCH_ADD:
			ret = adict_add_batch(self->t, keys, b->deltas ||
					      b->delta != 1 ? deltas : NULL,
					      (size_t)c, out);
			break;
		case BATCH_LOAD:
			ret = adict_load_batch(self->t, keys, (size_t)c, out);
			break;
		default:
			for (ret = 0; ret < c; ret++) {
				int r = adict_insert(self->t, keys[ret]);

				if (r < 0) {
					ret = ret ? ret : r;
					break;
				}
				out[ret] = (__u64)r;
			}
			break;
		}
		/* ret: c, or the count done before a failing key, or -errno. */
		for (i = 0; i < (ret < 0 ? 0 : ret); i++) {
			PyObject *x = kind == BATCH_INSERT ? PyBool_FromLong((long)out[i]) :
				      PyLong_FromUnsignedLongLong(out[i]);

			if (!x) {
				off += i;
				goto out_abandon;
			}
			PyList_SET_ITEM(list, off + i, x);
		}
		if (ret < c) {
			Py_ssize_t done = off + (ret < 0 ? 0 : ret);

			if (ret >= 0)	/* learn the failing key's errno */
				ret = kind == BATCH_ADD ?
				      adict_add(self->t, keys[ret], 0, NULL) :
				      kind == BATCH_LOAD ?
				      adict_load(self->t, keys[ret], &out[0]) :
				      adict_insert(self->t, keys[ret]);
			op_error(self, ret < 0 ? ret : -EIO, keys[done - off]);
			list_abandon(list, done);
			return batch_note((size_t)done, (size_t)b->n);
		}
	}
	return list;

out_abandon:
	list_abandon(list, off);
	return batch_note((size_t)off, (size_t)b->n);
}

/*
 * A batch on a table of another geometry: there is no batch call for
 * packed keys, so one adict_tuple_op() per key, after the same first pass
 * that checks every key and delta.
 */
static PyObject *wide_many(struct table_object *self, const char *fn,
			   enum batch_kind kind, PyObject *keys_o, PyObject *delta_o)
{
	__u32 op = kind == BATCH_ADD ? ADICT_OP_ADD : kind == BATCH_LOAD ?
		   ADICT_OP_LOAD : ADICT_OP_INSERT;
	PyObject *keys, *deltas = NULL, *list = NULL;
	__u64 words[ADICT_KEY_WORDS_MAX], d = 1, r;
	Py_ssize_t n, i;
	int ret;

	keys = PySequence_Fast(keys_o, "keys must be an iterable of keys");
	if (!keys)
		return NULL;
	n = PySequence_Fast_GET_SIZE(keys);
	if (delta_o && PyLong_Check(delta_o)) {
		if (wide_value(self->t, delta_o, &d))
			goto out;
	} else if (delta_o) {
		deltas = PySequence_Fast(delta_o, "delta must be an int or a "
					 "sequence of ints");
		if (!deltas)
			goto out;
		if (PySequence_Fast_GET_SIZE(deltas) != n) {
			PyErr_Format(PyExc_ValueError, "%s: %zd keys but %zd deltas",
				     fn, n, PySequence_Fast_GET_SIZE(deltas));
			goto out;
		}
	}
	for (i = 0; i < n; i++)
		if (wide_key(self->t, PySequence_Fast_GET_ITEM(keys, i), words) ||
		    (deltas && wide_value(self->t, PySequence_Fast_GET_ITEM(deltas, i), &r)))
			goto out;
	if (!table_get(self))
		goto out;
	list = PyList_New(n);
	if (!list)
		goto out;
	for (i = 0; i < n; i++) {
		PyObject *k, *x;

		if (PySequence_Fast_GET_SIZE(keys) != n ||
		    (deltas && PySequence_Fast_GET_SIZE(deltas) != n)) {
			PyErr_Format(PyExc_RuntimeError, "%s: the sequence changed "
				     "size during the call", fn);
			goto out_abandon;
		}
		k = PySequence_Fast_GET_ITEM(keys, i);
		if (wide_key(self->t, k, words) ||
		    (deltas && wide_value(self->t, PySequence_Fast_GET_ITEM(deltas, i), &d)) ||
		    !table_get(self))
			goto out_abandon;
		ret = adict_tuple_op(self->t, op, words, d, 0, &r);
		if (ret < 0) {
			op_error_s(self, ret, k);
			goto out_abandon;
		}
		x = kind == BATCH_INSERT ? PyBool_FromLong((long)r) :
		    PyLong_FromUnsignedLongLong(r);
		if (!x)
			goto out_abandon;
		PyList_SET_ITEM(list, i, x);
	}
	goto out;

out_abandon:
	list_abandon(list, i);
	list = NULL;
	batch_note((size_t)i, (size_t)n);
out:
	Py_DECREF(keys);
	Py_XDECREF(deltas);
	return list;
}

static const char *const kw_keys_delta[] = { "keys", "delta" };
static const char *const kw_keys[] = { "keys" };

static PyObject *table_add_many(struct table_object *self, PyObject *const *args,
				Py_ssize_t nargs, PyObject *kwnames)
{
	struct batch b;
	PyObject *a[2], *ret;

	if (parse_args("add_many", kw_keys_delta, 1, 2, args, nargs, kwnames, a) ||
	    !table_get(self))
		return NULL;
	if (self->t->core.wide)
		return wide_many(self, "add_many", BATCH_ADD, a[0], a[1]);
	if (batch_open(&b, "add_many", a[0], a[1]))
		return NULL;
	ret = batch_run(self, &b, BATCH_ADD);
	batch_release(&b);
	return ret;
}

static PyObject *table_load_many(struct table_object *self, PyObject *const *args,
				 Py_ssize_t nargs, PyObject *kwnames)
{
	struct batch b;
	PyObject *a[1], *ret;

	if (parse_args("load_many", kw_keys, 1, 1, args, nargs, kwnames, a) ||
	    !table_get(self))
		return NULL;
	if (self->t->core.wide)
		return wide_many(self, "load_many", BATCH_LOAD, a[0], NULL);
	if (batch_open(&b, "load_many", a[0], NULL))
		return NULL;
	ret = batch_run(self, &b, BATCH_LOAD);
	batch_release(&b);
	return ret;
}

/* AtomicSet.add_many: one insert per key. */
static PyObject *table_insert_many(struct table_object *self, PyObject *const *args,
				   Py_ssize_t nargs, PyObject *kwnames)
{
	struct batch b;
	PyObject *a[1], *ret;

	if (parse_args("add_many", kw_keys, 1, 1, args, nargs, kwnames, a) ||
	    !table_get(self))
		return NULL;
	if (self->t->core.wide)
		return wide_many(self, "add_many", BATCH_INSERT, a[0], NULL);
	if (batch_open(&b, "add_many", a[0], NULL))
		return NULL;
	ret = batch_run(self, &b, BATCH_INSERT);
	batch_release(&b);
	return ret;
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

/* The next row of a table of another geometry: keys of all its words. */
static PyObject *wide_iter_next(struct iter_object *it, struct adict *t)
{
	unsigned int n = adict_key_words(t);
	__u64 words[ADICT_KEY_WORDS_MAX], val;
	PyObject *key, *x, *row;

	if (adict_tuple_iter_next(t, &it->cursor, words, &val) <= 0)
		return NULL;	/* StopIteration */
	if (it->kind == ITER_VALUES)
		return PyLong_FromUnsignedLongLong(val);
	/* The original's rows always hold the key as a tuple. */
	key = wide_key_obj(n, words);
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

static PyObject *iter_next(struct iter_object *it)
{
	struct adict *t = it->table->t;
	__u64 key, val;

	if (!t)
		return closed_error();
	if (t->core.wide)
		return wide_iter_next(it, t);
	if (adict_iter_next(t, &it->cursor, &key, &val) <= 0)
		return NULL;	/* StopIteration */
	switch (it->kind) {
	case ITER_ROWS:
		return Py_BuildValue("((K)K)", (unsigned long long)key,
				     (unsigned long long)val);
	case ITER_SET_ROWS:
		return Py_BuildValue("((K)O)", (unsigned long long)key, Py_True);
	case ITER_KEYS:
		return PyLong_FromUnsignedLongLong(key);
	case ITER_VALUES:
		return PyLong_FromUnsignedLongLong(val);
	default:
		return Py_BuildValue("(KK)", (unsigned long long)key,
				     (unsigned long long)val);
	}
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
	  "attach($type, /, name, *, readonly=False, mediated=False)\n--\n\n" \
	  "Open the existing named table `name` on /dev/atomic_dict.\n"	\
	  "readonly maps it read-only (writes raise PermissionError);\n"	\
	  "mediated maps it read-only and runs the operations the table's\n" \
	  "grant allows in the kernel.  Raises KernelModuleNotLoadedError\n" \
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
	{ "add", FN(table_insert), FASTKW,
	  "add($self, /, key)\n--\n\n"
	  "Insert key; True if it was new, False if present." },
	{ "add_many", FN(table_insert_many), FASTKW,
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
		  "mode=0o600, grant=0, backend=None)\n--\n\n"
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
		  "grant=0, backend=None)\n--\n\n"
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
