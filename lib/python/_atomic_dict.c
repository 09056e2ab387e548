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

#ifndef ATOMIC_DICT_VERSION
#define ATOMIC_DICT_VERSION "0.1"
#endif

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
};

enum iter_kind { ITER_ITEMS, ITER_KEYS, ITER_VALUES };

struct iter_object {
	PyObject_HEAD
	struct table_object *table;	/* strong reference */
	__u64 cursor;			/* adict_iter_next()'s, opaque */
	enum iter_kind kind;
};

static PyTypeObject dict_type;
static PyTypeObject set_type;
static PyTypeObject value_type;
static PyTypeObject iter_type;

/* ------------------------------------------------------------------------ */
/* Integers                                                                 */
/* ------------------------------------------------------------------------ */

static int key_range_error(PyObject *o)
{
	PyErr_Format(PyExc_ValueError,
		     "atomic_dict key must be an integer in 1..2**64-1 "
		     "(0 marks an empty slot; negative keys do not exist), got %R",
		     o);
	return -1;
}

/* A key that does not fit in a long long: 2**63 .. 2**64-1 or bigger. */
static int key_from_big(PyObject *o, __u64 *key)
{
	unsigned long long u;
	PyObject *i;

	i = PyNumber_Index(o);
	if (!i)
		return -1;
	u = PyLong_AsUnsignedLongLong(i);
	Py_DECREF(i);
	if (u == (unsigned long long)-1 && PyErr_Occurred()) {
		if (!PyErr_ExceptionMatches(PyExc_OverflowError))
			return -1;
		PyErr_Clear();
		return key_range_error(o);
	}
	*key = u;
	return 0;
}

/*
 * The hot path: an exact int of one digit (30 bits) or the compact form of
 * 3.12+, read in place without a call into libpython.  Return 1 with *v.
 */
static inline int small_int(PyObject *o, long long *v)
{
#if PY_VERSION_HEX >= 0x030C0000
	if (PyLong_CheckExact(o) && PyUnstable_Long_IsCompact((PyLongObject *)o)) {
		*v = PyUnstable_Long_CompactValue((PyLongObject *)o);
		return 1;
	}
#else
	if (PyLong_CheckExact(o)) {
		switch (Py_SIZE(o)) {
		case 0:
			*v = 0;
			return 1;
		case 1:
			*v = ((PyLongObject *)o)->ob_digit[0];
			return 1;
		case -1:
			*v = -(long long)((PyLongObject *)o)->ob_digit[0];
			return 1;
		}
	}
#endif
	return 0;
}

/* 0 and *key, or -1 with ValueError (range) or TypeError (not an int). */
static inline int key_from_py(PyObject *o, __u64 *key)
{
	long long v;
	int overflow;

	if (small_int(o, &v) && __builtin_expect(v > 0, 1)) {
		*key = (__u64)v;
		return 0;
	}
	v = PyLong_AsLongLongAndOverflow(o, &overflow);
	if (__builtin_expect(v > 0, 1)) {
		*key = (__u64)v;
		return 0;
	}
	if (v == -1 && PyErr_Occurred())
		return -1;
	if (overflow > 0)
		return key_from_big(o, key);
	return key_range_error(o);
}

static int value_range_error(PyObject *o)
{
	PyErr_Format(PyExc_OverflowError,
		     "atomic_dict value must be an integer in -2**63..2**64-1 "
		     "(negative values are taken as 64-bit two's complement), got %R",
		     o);
	return -1;
}

static int value_from_big(PyObject *o, __u64 *value)
{
	unsigned long long u;
	PyObject *i;

	i = PyNumber_Index(o);
	if (!i)
		return -1;
	u = PyLong_AsUnsignedLongLong(i);
	Py_DECREF(i);
	if (u == (unsigned long long)-1 && PyErr_Occurred()) {
		if (!PyErr_ExceptionMatches(PyExc_OverflowError))
			return -1;
		PyErr_Clear();
		return value_range_error(o);
	}
	*value = u;
	return 0;
}

/* 0 and *value (two's complement of a negative), or -1 with an exception. */
static inline int value_from_py(PyObject *o, __u64 *value)
{
	long long v;
	int overflow;

	if (small_int(o, &v)) {
		*value = (__u64)v;
		return 0;
	}
	v = PyLong_AsLongLongAndOverflow(o, &overflow);
	if (__builtin_expect(!overflow, 1)) {
		if (v == -1 && PyErr_Occurred())
			return -1;
		*value = (__u64)v;
		return 0;
	}
	if (overflow > 0)
		return value_from_big(o, value);
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
static PyObject *op_error(struct table_object *self, int ret, __u64 key)
{
	switch (ret) {
	case -ENOSPC:
		PyErr_Format(table_full_error,
			     "atomic_dict table is full: its capacity is %llu keys, "
			     "so the new key %llu cannot be inserted (keys are never "
			     "removed; create the table with a larger max_entries)",
			     (unsigned long long)self->t->core.capacity,
			     (unsigned long long)key);
		return NULL;
	case -EPERM:
	case -EACCES:
		return os_error(PyExc_OSError, -ret,
				"atomic_dict table is attached %s: this operation on "
				"key %llu is not permitted",
				self->t->access == ADICT_ACCESS_MEDIATED ?
				"mediated and the table's grant excludes it" :
				"read-only", (unsigned long long)key);
	case -EINVAL:
		PyErr_Format(PyExc_ValueError, "atomic_dict: invalid key %llu",
			     (unsigned long long)key);
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
	return os_error(PyExc_OSError, -ret, "atomic_dict: operation on key %llu failed: %s",
			(unsigned long long)key, strerror(-ret));
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

static PyObject *table_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = { "max_entries", "name", "mode", "grant",
				  "backend", NULL };
	PyObject *cap_o, *name_o = Py_None, *backend_o = Py_None;
	struct adict_opts opts = { .sz = sizeof(opts) };
	int mode = 0600, grant = 0;
	struct table_object *self;
	unsigned long long cap;
	struct adict *t;
	int ret;

	if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|O$iiO:AtomicDict", kwlist,
					 &cap_o, &name_o, &mode, &grant, &backend_o))
		return NULL;
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
	if (mode < 0 || mode > 0777) {
		PyErr_Format(PyExc_ValueError, "mode must be permission bits in "
			     "0..0o777, got %#o", mode);
		return NULL;
	}
	if (grant < 0 || (grant & ~(int)ADICT_GRANT_ALL)) {
		PyErr_Format(PyExc_ValueError, "grant must be a mask of "
			     "1 << OP_* bits (GRANT_ALL is %#x), got %#x",
			     ADICT_GRANT_ALL, grant);
		return NULL;
	}
	if (backend_from_py(backend_o, &opts.backend))
		return NULL;
	if (name_o != Py_None) {
		opts.name = name_from_py(name_o);
		if (!opts.name)
			return NULL;
		if (opts.backend == ADICT_BACKEND_MEMFD) {
			PyErr_SetString(PyExc_ValueError,
					"named tables live in /dev/atomic_dict: "
					"backend='memfd' cannot have a name");
			return NULL;
		}
		opts.mode = (unsigned int)mode;
		opts.grant = (unsigned int)grant;
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
	return Py_BuildValue("{s:K,s:K,s:K,s:K,s:s,s:s,s:N,s:N,s:N,s:N,s:N,s:N,s:N}",
		"capacity", (unsigned long long)info.capacity,
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
			     "cannot pickle an anonymous %.100s: it is shared with "
			     "fork()ed children only; use a named table "
			     "(name=...) to share it with unrelated processes",
			     Py_TYPE(self)->tp_name);
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

	if (!table_get(self) || key_from_py(key_o, &key))
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

static PyObject *table_subscript(struct table_object *self, PyObject *key_o)
{
	struct value_object *v;
	__u64 key, *kv = NULL;
	int ret;

	if (__builtin_expect(!self->t, 0))
		return closed_error();
	if (key_from_py(key_o, &key))
		return NULL;
	/* As the original: d[key] inserts key (value 0) if it is absent. */
	if (__builtin_expect(self->t->access == ADICT_ACCESS_RDWR, 1)) {
		ret = adict_handle(self->t, key, &kv);
		if (__builtin_expect(ret < 0, 0))
			return op_error(self, ret, key);
	}
	v = PyObject_New(struct value_object, &value_type);
	if (!v)
		return NULL;
	Py_INCREF(self);
	v->table = self;
	v->key = key;
	v->kv = kv;
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

static inline int check_nargs(const char *fn, Py_ssize_t nargs, Py_ssize_t min,
			      Py_ssize_t max)
{
	if (__builtin_expect(nargs >= min && nargs <= max, 1))
		return 0;
	if (min == max)
		PyErr_Format(PyExc_TypeError, "%s() takes exactly %zd argument%s (%zd given)",
			     fn, min, min == 1 ? "" : "s", nargs);
	else
		PyErr_Format(PyExc_TypeError, "%s() takes %zd to %zd arguments (%zd given)",
			     fn, min, max, nargs);
	return -1;
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
	ret = adict_op(t, op, v->key, arg, 0, &old);
	if (ret < 0)
		return op_error(v->table, ret, v->key);
	return PyLong_FromUnsignedLongLong(old);
}

#define VALUE_RMW(pyname, op)						\
static PyObject *value_##pyname(struct value_object *v,		\
				PyObject *const *args, Py_ssize_t nargs) \
{									\
	__u64 arg;							\
									\
	if (check_nargs(#pyname, nargs, 1, 1) ||			\
	    value_from_py(args[0], &arg))				\
		return NULL;						\
	return value_rmw(v, op, arg);					\
}

VALUE_RMW(swap, ADICT_OP_SWAP)
VALUE_RMW(band, ADICT_OP_AND)
VALUE_RMW(bor, ADICT_OP_OR)
VALUE_RMW(bxor, ADICT_OP_XOR)
#undef VALUE_RMW

/* add/sub: the argument defaults to 1. */
static PyObject *value_add(struct value_object *v, PyObject *const *args,
			   Py_ssize_t nargs)
{
	__u64 arg = 1;

	if (check_nargs("add", nargs, 0, 1) ||
	    (nargs && value_from_py(args[0], &arg)))
		return NULL;
	return value_rmw(v, ADICT_OP_ADD, arg);
}

static PyObject *value_sub(struct value_object *v, PyObject *const *args,
			   Py_ssize_t nargs)
{
	__u64 arg = 1;

	if (check_nargs("sub", nargs, 0, 1) ||
	    (nargs && value_from_py(args[0], &arg)))
		return NULL;
	return value_rmw(v, ADICT_OP_SUB, arg);
}

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
	ret = adict_load(t, v->key, out);
	if (ret < 0) {
		op_error(v->table, ret, v->key);
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

static PyObject *value_store(struct value_object *v, PyObject *const *args,
			     Py_ssize_t nargs)
{
	__u64 arg;

	if (check_nargs("store", nargs, 1, 1) || value_from_py(args[0], &arg))
		return NULL;
	return value_rmw(v, ADICT_OP_STORE, arg);
}

static PyObject *value_cas(struct value_object *v, PyObject *const *args,
			   Py_ssize_t nargs)
{
	__u64 expected, desired, seen;
	struct adict *t;
	int ret;

	if (check_nargs("cas", nargs, 2, 2) ||
	    value_from_py(args[0], &expected) || value_from_py(args[1], &desired))
		return NULL;
	t = value_table(v);
	if (!t)
		return NULL;
	if (v->kv) {
		seen = adict_v_cas(v->kv, expected, desired);
	} else {
		ret = adict_cas(t, v->key, expected, desired, &seen);
		if (ret < 0)
			return op_error(v->table, ret, v->key);
	}
	return PyLong_FromUnsignedLongLong(seen);
}

static PyObject *value_key_get(struct value_object *v, void *closure)
{
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

static PyObject *value_repr(struct value_object *v)
{
	__u64 x;

	if (!v->table->t)
		return PyUnicode_FromFormat("<AtomicValue key=%llu of a closed table>",
					    (unsigned long long)v->key);
	if (value_load_u64(v, &x))
		return NULL;
	return PyUnicode_FromFormat("AtomicValue(key=%llu, value=%llu)",
				    (unsigned long long)v->key,
				    (unsigned long long)x);
}

/* Comparisons load the value and compare it as an int. */
static PyObject *value_richcompare(PyObject *a, PyObject *b, int op)
{
	PyObject *x, *ret;

	if (!PyObject_TypeCheck(a, &value_type)) {
		PyObject *tmp = a;

		a = b;
		b = tmp;
		static const int swapped[] = {
			[Py_LT] = Py_GT, [Py_LE] = Py_GE, [Py_EQ] = Py_EQ,
			[Py_NE] = Py_NE, [Py_GT] = Py_LT, [Py_GE] = Py_LE,
		};

		op = swapped[op];
	}
	if (!PyObject_TypeCheck(b, &value_type) && !PyLong_Check(b))
		Py_RETURN_NOTIMPLEMENTED;
	x = value_load((struct value_object *)a, NULL);
	if (!x)
		return NULL;
	if (PyObject_TypeCheck(b, &value_type)) {
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
	{ "load", (PyCFunction)value_load, METH_NOARGS,
	  "load() -> int\n\nThe current value (sequentially consistent load)." },
	{ "store", (PyCFunction)(void (*)(void))value_store, METH_FASTCALL,
	  "store(value) -> int\n\nSet the value (an atomic exchange); return the previous value." },
	{ "swap", (PyCFunction)(void (*)(void))value_swap, METH_FASTCALL,
	  "swap(value) -> int\n\nAtomically exchange; return the previous value." },
	{ "add", (PyCFunction)(void (*)(void))value_add, METH_FASTCALL,
	  "add(delta=1) -> int\n\nAtomically add (mod 2**64); return the previous value." },
	{ "sub", (PyCFunction)(void (*)(void))value_sub, METH_FASTCALL,
	  "sub(delta=1) -> int\n\nAtomically subtract (mod 2**64); return the previous value." },
	{ "band", (PyCFunction)(void (*)(void))value_band, METH_FASTCALL,
	  "band(mask) -> int\n\nAtomic bitwise AND; return the previous value." },
	{ "bor", (PyCFunction)(void (*)(void))value_bor, METH_FASTCALL,
	  "bor(mask) -> int\n\nAtomic bitwise OR; return the previous value." },
	{ "bxor", (PyCFunction)(void (*)(void))value_bxor, METH_FASTCALL,
	  "bxor(mask) -> int\n\nAtomic bitwise XOR; return the previous value." },
	{ "cas", (PyCFunction)(void (*)(void))value_cas, METH_FASTCALL,
	  "cas(expected, desired) -> int\n\n"
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
	.nb_int = (unaryfunc)value_int,
	.nb_index = (unaryfunc)value_int,
};

static PyTypeObject value_type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "atomic_dict.AtomicValue",
	.tp_basicsize = sizeof(struct value_object),
	.tp_dealloc = (destructor)value_dealloc,
	.tp_repr = (reprfunc)value_repr,
	.tp_as_number = &value_as_number,
	.tp_hash = PyObject_HashNotImplemented,
	.tp_richcompare = value_richcompare,
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc = "The value word of one key of an AtomicDict: d[key].\n\n"
		  "Holds a reference to its table and the key.  Every method is one\n"
		  "atomic, sequentially consistent operation on the shared value and\n"
		  "returns the previous value (load: the value; cas: the value observed).\n"
		  "int(v) and comparisons load the current value.",
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

#define TABLE_RMW(pyname, libfn, op, min)				\
static PyObject *table_##pyname(struct table_object *self,		\
				PyObject *const *args, Py_ssize_t nargs) \
{									\
	__u64 key, arg = 1, old;					\
	int ret;							\
									\
	if (__builtin_expect(!self->t, 0))				\
		return closed_error();					\
	if (check_nargs(#pyname, nargs, min, 2) ||			\
	    key_from_py(args[0], &key) ||				\
	    (nargs > 1 && value_from_py(args[1], &arg)))		\
		return NULL;						\
	ret = libfn(self->t, key, arg, &old);				\
	if (__builtin_expect(ret < 0, 0))				\
		return op_error(self, ret, key);			\
	return PyLong_FromUnsignedLongLong(old);			\
}

TABLE_RMW(add, adict_add, ADICT_OP_ADD, 1)
TABLE_RMW(sub, adict_sub, ADICT_OP_SUB, 1)
TABLE_RMW(swap, adict_swap, ADICT_OP_SWAP, 2)
TABLE_RMW(store, adict_store_old, ADICT_OP_STORE, 2)
TABLE_RMW(band, adict_and, ADICT_OP_AND, 2)
TABLE_RMW(bor, adict_or, ADICT_OP_OR, 2)
TABLE_RMW(bxor, adict_xor, ADICT_OP_XOR, 2)
#undef TABLE_RMW

static PyObject *table_load(struct table_object *self, PyObject *key_o)
{
	__u64 key, val;
	int ret;

	if (__builtin_expect(!self->t, 0))
		return closed_error();
	if (key_from_py(key_o, &key))
		return NULL;
	ret = adict_load(self->t, key, &val);
	if (__builtin_expect(ret < 0, 0))
		return op_error(self, ret, key);
	return PyLong_FromUnsignedLongLong(val);
}

static PyObject *table_find(struct table_object *self, PyObject *const *args,
			    Py_ssize_t nargs)
{
	__u64 key, val;
	int ret;

	if (__builtin_expect(!self->t, 0))
		return closed_error();
	if (check_nargs("find", nargs, 1, 2) || key_from_py(args[0], &key))
		return NULL;
	ret = adict_find(self->t, key, &val);
	if (ret == -ENOENT)
		return Py_NewRef(nargs > 1 ? args[1] : Py_None);
	if (ret < 0)
		return op_error(self, ret, key);
	return PyLong_FromUnsignedLongLong(val);
}

static PyObject *table_cas(struct table_object *self, PyObject *const *args,
			   Py_ssize_t nargs)
{
	__u64 key, expected, desired, seen;
	int ret;

	if (__builtin_expect(!self->t, 0))
		return closed_error();
	if (check_nargs("cas", nargs, 3, 3) || key_from_py(args[0], &key) ||
	    value_from_py(args[1], &expected) || value_from_py(args[2], &desired))
		return NULL;
	ret = adict_cas(self->t, key, expected, desired, &seen);
	if (ret < 0)
		return op_error(self, ret, key);
	return PyLong_FromUnsignedLongLong(seen);
}

static PyObject *table_insert(struct table_object *self, PyObject *key_o)
{
	__u64 key;
	int ret;

	if (__builtin_expect(!self->t, 0))
		return closed_error();
	if (key_from_py(key_o, &key))
		return NULL;
	ret = adict_insert(self->t, key);
	if (ret < 0)
		return op_error(self, ret, key);
	return PyBool_FromLong(ret);
}

/* ------------------------------------------------------------------------ */
/* Batches                                                                  */
/* ------------------------------------------------------------------------ */

/* Keys of a sequence into a PyMem array; *np gets the count. */
static __u64 *keys_from_seq(PyObject *seq_o, Py_ssize_t *np)
{
	PyObject *seq, **items;
	Py_ssize_t i, n;
	__u64 *keys;

	seq = PySequence_Fast(seq_o, "keys must be an iterable of ints");
	if (!seq)
		return NULL;
	n = PySequence_Fast_GET_SIZE(seq);
	items = PySequence_Fast_ITEMS(seq);
	keys = PyMem_New(__u64, n ? n : 1);
	if (!keys) {
		Py_DECREF(seq);
		PyErr_NoMemory();
		return NULL;
	}
	for (i = 0; i < n; i++) {
		if (key_from_py(items[i], &keys[i])) {
			PyMem_Free(keys);
			Py_DECREF(seq);
			return NULL;
		}
	}
	Py_DECREF(seq);
	*np = n;
	return keys;
}

static PyObject *list_from_u64(const __u64 *vals, Py_ssize_t n)
{
	PyObject *list = PyList_New(n);
	Py_ssize_t i;

	if (!list)
		return NULL;
	for (i = 0; i < n; i++) {
		PyObject *x = PyLong_FromUnsignedLongLong(vals[i]);

		if (!x) {
			Py_DECREF(list);
			return NULL;
		}
		PyList_SET_ITEM(list, i, x);
	}
	return list;
}

/*
 * Run a batch in chunks: libadict returns the count done, or -errno when
 * the first entry of a chunk fails, so a short count is retried from the
 * failing key to learn its errno.  Return n, or -errno with *done set.
 */
static int run_add_batch(struct adict *t, const __u64 *keys, const __u64 *deltas,
			 size_t n, __u64 *old, size_t *done)
{
	size_t off = 0;
	int ret;

	while (off < n) {
		size_t chunk = n - off > INT_MAX ? INT_MAX : n - off;

		ret = adict_add_batch(t, keys + off, deltas ? deltas + off : NULL,
				      chunk, old + off);
		if (ret < 0) {
			*done = off;
			return ret;
		}
		off += (size_t)ret;
	}
	*done = n;
	return 0;
}

static int run_load_batch(struct adict *t, const __u64 *keys, size_t n,
			  __u64 *vals, size_t *done)
{
	size_t off = 0;
	int ret;

	while (off < n) {
		size_t chunk = n - off > INT_MAX ? INT_MAX : n - off;

		ret = adict_load_batch(t, keys + off, chunk, vals + off);
		if (ret < 0) {
			*done = off;
			return ret;
		}
		off += (size_t)ret;
	}
	*done = n;
	return 0;
}

static PyObject *batch_error(struct table_object *self, int ret,
			     const __u64 *keys, size_t done, size_t n)
{
	PyObject *exc, *note;

	op_error(self, ret, keys[done]);
	if (!done)
		return NULL;
	/* Say how far the batch got: entries before the failing one ran. */
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

static PyObject *table_add_many(struct table_object *self, PyObject *args,
				PyObject *kwds)
{
	static char *kwlist[] = { "keys", "delta", NULL };
	PyObject *keys_o, *delta_o = NULL, *ret_o = NULL;
	__u64 *keys = NULL, *deltas = NULL, *old = NULL, one = 1;
	Py_ssize_t n, nd, i;
	size_t done;
	int ret;

	if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|O:add_many", kwlist,
					 &keys_o, &delta_o))
		return NULL;
	if (!table_get(self))
		return NULL;
	keys = keys_from_seq(keys_o, &n);
	if (!keys)
		return NULL;
	if (delta_o && PyLong_Check(delta_o)) {
		if (value_from_py(delta_o, &one))
			goto out;
		delta_o = NULL;
	}
	if (delta_o) {
		PyObject *seq = PySequence_Fast(delta_o, "delta must be an int or "
						"a sequence of ints");
		PyObject **items;

		if (!seq)
			goto out;
		nd = PySequence_Fast_GET_SIZE(seq);
		if (nd != n) {
			Py_DECREF(seq);
			PyErr_Format(PyExc_ValueError, "add_many: %zd keys but %zd deltas",
				     n, nd);
			goto out;
		}
		deltas = PyMem_New(__u64, n ? n : 1);
		if (!deltas) {
			Py_DECREF(seq);
			PyErr_NoMemory();
			goto out;
		}
		items = PySequence_Fast_ITEMS(seq);
		for (i = 0; i < n; i++)
			if (value_from_py(items[i], &deltas[i])) {
				Py_DECREF(seq);
				goto out;
			}
		Py_DECREF(seq);
	} else if (one != 1) {
		deltas = PyMem_New(__u64, n ? n : 1);
		if (!deltas) {
			PyErr_NoMemory();
			goto out;
		}
		for (i = 0; i < n; i++)
			deltas[i] = one;
	}
	old = PyMem_New(__u64, n ? n : 1);
	if (!old) {
		PyErr_NoMemory();
		goto out;
	}
	/* The key and delta conversions above may have run Python code. */
	if (!table_get(self))
		goto out;
	ret = run_add_batch(self->t, keys, deltas, (size_t)n, old, &done);
	if (ret < 0) {
		batch_error(self, ret, keys, done, (size_t)n);
		goto out;
	}
	ret_o = list_from_u64(old, n);
out:
	PyMem_Free(keys);
	PyMem_Free(deltas);
	PyMem_Free(old);
	return ret_o;
}

static PyObject *table_load_many(struct table_object *self, PyObject *keys_o)
{
	PyObject *ret_o = NULL;
	__u64 *keys, *vals;
	Py_ssize_t n;
	size_t done;
	int ret;

	if (!table_get(self))
		return NULL;
	keys = keys_from_seq(keys_o, &n);
	if (!keys)
		return NULL;
	vals = PyMem_New(__u64, n ? n : 1);
	if (!vals) {
		PyErr_NoMemory();
		goto out;
	}
	if (!table_get(self))
		goto out;
	ret = run_load_batch(self->t, keys, (size_t)n, vals, &done);
	if (ret < 0) {
		batch_error(self, ret, keys, done, (size_t)n);
		goto out;
	}
	ret_o = list_from_u64(vals, n);
out:
	PyMem_Free(keys);
	PyMem_Free(vals);
	return ret_o;
}

/* AtomicSet.add_many / AtomicDict.insert_many: one insert per key. */
static PyObject *table_insert_many(struct table_object *self, PyObject *keys_o)
{
	PyObject *list = NULL;
	Py_ssize_t n, i;
	__u64 *keys;
	int ret;

	if (!table_get(self))
		return NULL;
	keys = keys_from_seq(keys_o, &n);
	if (!keys)
		return NULL;
	if (!table_get(self))
		goto out;
	list = PyList_New(n);
	if (!list)
		goto out;
	for (i = 0; i < n; i++) {
		ret = adict_insert(self->t, keys[i]);
		if (ret < 0) {
			Py_ssize_t fail = i;

			/* Fill the rest so that the list can be freed. */
			for (; i < n; i++)
				PyList_SET_ITEM(list, i, Py_NewRef(Py_None));
			Py_CLEAR(list);
			batch_error(self, ret, keys, (size_t)fail, (size_t)n);
			goto out;
		}
		PyList_SET_ITEM(list, i, PyBool_FromLong(ret));
	}
out:
	PyMem_Free(keys);
	return list;
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
	return iter_new(self, ITER_ITEMS);
}

static PyObject *set_iter(struct table_object *self)
{
	return iter_new(self, ITER_KEYS);
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

static PyObject *iter_next(struct iter_object *it)
{
	struct adict *t = it->table->t;
	__u64 key, val;

	if (!t)
		return closed_error();
	if (adict_iter_next(t, &it->cursor, &key, &val) <= 0)
		return NULL;	/* StopIteration */
	switch (it->kind) {
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
	{ "attach", (PyCFunction)(void (*)(void))table_attach,		\
	  METH_VARARGS | METH_KEYWORDS | METH_CLASS,			\
	  "attach(name, *, readonly=False, mediated=False, owner=None)\n\n" \
	  "Open the existing named table `name` on /dev/atomic_dict.\n"	\
	  "readonly maps it read-only (writes raise PermissionError);\n"	\
	  "mediated maps it read-only and runs the operations the table's\n" \
	  "grant allows in the kernel.  owner (a uid) attaches only a table\n" \
	  "owned by that uid, PermissionError otherwise: use it for\n"	\
	  "well-known names.  Raises KernelModuleNotLoadedError\n"	\
	  "without the device, FileNotFoundError for an unknown name." },	\
	{ "close", (PyCFunction)table_close, METH_NOARGS,		\
	  "close()\n\nUnmap the table in this process (others keep it).\n"	\
	  "Further use raises ValueError; closing twice is harmless." },	\
	{ "info", (PyCFunction)table_info, METH_NOARGS,			\
	  "info() -> dict\n\nDescribe the table: capacity, buckets, bytes, used,\n" \
	  "backend ('memfd' or 'device'), access ('readwrite', 'readonly',\n" \
	  "'mediated'), name, and for the device id, uid, gid, mode, grant\n" \
	  "and users (None for memfd tables)." },			\
	{ "keys", (PyCFunction)table_keys, METH_NOARGS,			\
	  "keys() -> iterator of the keys present" },			\
	{ "__enter__", (PyCFunction)table_enter, METH_NOARGS, NULL },	\
	{ "__exit__", (PyCFunction)(void (*)(void))table_exit, METH_FASTCALL, NULL }, \
	{ "__reduce__", (PyCFunction)table_reduce, METH_NOARGS, NULL }

static PyMethodDef dict_methods[] = {
	COMMON_METHODS,
	{ "load", (PyCFunction)table_load, METH_O,
	  "load(key) -> int\n\nThe value of key (0, and key inserted, if absent)." },
	{ "find", (PyCFunction)(void (*)(void))table_find, METH_FASTCALL,
	  "find(key, default=None) -> int | default\n\n"
	  "The value of key, or default if key is absent; never inserts." },
	{ "store", (PyCFunction)(void (*)(void))table_store, METH_FASTCALL,
	  "store(key, value) -> int\n\nSet the value; return the previous value." },
	{ "swap", (PyCFunction)(void (*)(void))table_swap, METH_FASTCALL,
	  "swap(key, value) -> int\n\nAtomically exchange; return the previous value." },
	{ "add", (PyCFunction)(void (*)(void))table_add, METH_FASTCALL,
	  "add(key, delta=1) -> int\n\nAtomically add (mod 2**64); return the previous value." },
	{ "sub", (PyCFunction)(void (*)(void))table_sub, METH_FASTCALL,
	  "sub(key, delta=1) -> int\n\nAtomically subtract (mod 2**64); return the previous value." },
	{ "band", (PyCFunction)(void (*)(void))table_band, METH_FASTCALL,
	  "band(key, mask) -> int\n\nAtomic bitwise AND; return the previous value." },
	{ "bor", (PyCFunction)(void (*)(void))table_bor, METH_FASTCALL,
	  "bor(key, mask) -> int\n\nAtomic bitwise OR; return the previous value." },
	{ "bxor", (PyCFunction)(void (*)(void))table_bxor, METH_FASTCALL,
	  "bxor(key, mask) -> int\n\nAtomic bitwise XOR; return the previous value." },
	{ "cas", (PyCFunction)(void (*)(void))table_cas, METH_FASTCALL,
	  "cas(key, expected, desired) -> int\n\n"
	  "Compare-and-swap; return the value observed (== expected iff swapped)." },
	{ "insert", (PyCFunction)table_insert, METH_O,
	  "insert(key) -> bool\n\nInsert key with value 0 if absent; True if it was new." },
	{ "add_many", (PyCFunction)(void (*)(void))table_add_many,
	  METH_VARARGS | METH_KEYWORDS,
	  "add_many(keys, delta=1) -> list[int]\n\n"
	  "Add delta (an int, or a sequence as long as keys) to each key, in\n"
	  "order, prefetching ahead (adict_add_batch); return the previous\n"
	  "values.  Each addition is atomic, the batch is not: on an error\n"
	  "the keys before the failing one have been applied." },
	{ "load_many", (PyCFunction)table_load_many, METH_O,
	  "load_many(keys) -> list[int]\n\n"
	  "The value of each key, in order (adict_load_batch); absent keys are\n"
	  "inserted with value 0, as load() does." },
	{ "items", (PyCFunction)table_items, METH_NOARGS,
	  "items() -> iterator of (key, value), as iter(d)" },
	{ "values", (PyCFunction)table_values, METH_NOARGS,
	  "values() -> iterator of the values" },
	{ NULL }
};

static PyMethodDef set_methods[] = {
	COMMON_METHODS,
	{ "add", (PyCFunction)table_insert, METH_O,
	  "add(key) -> bool\n\nInsert key; True if it was new, False if present." },
	{ "add_many", (PyCFunction)table_insert_many, METH_O,
	  "add_many(keys) -> list[bool]\n\nadd() each key in order; on an error the\n"
	  "keys before the failing one have been inserted." },
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
	.tp_doc = "AtomicDict(max_entries, name=None, *, mode=0o600, grant=0, backend='auto')\n\n"
		  "A lock-free table of u64 keys (non-zero) to u64 values (initially 0),\n"
		  "shared with fork()ed children, or, when named, with any process\n"
		  "through /dev/atomic_dict.  It holds at most max_entries keys; keys\n"
		  "are never removed.  d[key] is an AtomicValue; d[key] = v stores;\n"
		  "iteration yields (key, value) pairs.",
	.tp_iter = (getiterfunc)dict_iter,
	.tp_methods = dict_methods,
	.tp_getset = table_getset,
	.tp_new = table_new,
};

static PyTypeObject set_type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "atomic_dict.AtomicSet",
	.tp_basicsize = sizeof(struct table_object),
	.tp_dealloc = (destructor)table_dealloc,
	.tp_as_sequence = &table_as_sequence,
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
	.tp_doc = "AtomicSet(max_entries, name=None, *, mode=0o600, grant=0, backend='auto')\n\n"
		  "A lock-free set of u64 keys (non-zero), shared like AtomicDict.\n"
		  "add(key) returns True if the key was new; iteration yields keys.",
	.tp_iter = (getiterfunc)set_iter,
	.tp_methods = set_methods,
	.tp_getset = table_getset,
	.tp_new = table_new,
};

/* ------------------------------------------------------------------------ */
/* Module                                                                   */
/* ------------------------------------------------------------------------ */

static PyMethodDef module_methods[] = {
	{ "unlink", (PyCFunction)module_unlink, METH_O,
	  "unlink(name)\n\nRemove the name of a table on /dev/atomic_dict; the table\n"
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

	if (PyType_Ready(&value_type) < 0 || PyType_Ready(&iter_type) < 0 ||
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
	    PyModule_AddObjectRef(m, "AtomicValue", (PyObject *)&value_type) ||
	    PyModule_AddObjectRef(m, "Error", error_base) ||
	    PyModule_AddObjectRef(m, "TableFullError", table_full_error) ||
	    PyModule_AddObjectRef(m, "KernelModuleNotLoadedError", no_module_error) ||
	    PyModule_AddStringConstant(m, "DEVICE_PATH", ADICT_DEVICE_PATH) ||
	    PyModule_AddStringConstant(m, "__version__", ATOMIC_DICT_VERSION) ||
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
