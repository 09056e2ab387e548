# SPDX-License-Identifier: MIT
"""The type stubs and docstrings describe what the extension really has."""

import ast
import os
import unittest

import atomic_dict
from atomic_dict import _atomic_dict

PKG = os.path.dirname(atomic_dict.__file__)
# The one stub: the C extension's.  __init__.py and capi.py are typed in
# their own source (typecheck.sh runs mypy --strict over them).
STUB = os.path.join(PKG, "_atomic_dict.pyi")
# The stub's typing-only names, absent at run time.
TYPING_ONLY = {"_T", "_Table", "_Backend", "_Key", "_HasFileno", "_TableInfo",
               "_TableBase", "_AtomicValueBase"}


def _stub_classes():
    tree = ast.parse(open(STUB).read())
    classes, names = {}, set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            classes[node.name] = {n.name for n in node.body
                                  if isinstance(n, ast.FunctionDef)} | \
                {n.target.id for n in node.body if isinstance(n, ast.AnnAssign)}
            names.add(node.name)
        elif isinstance(node, ast.FunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign):
            names.add(node.target.id)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return classes, names


class StubTest(unittest.TestCase):
    def test_stub_should_be_installed_with_py_typed(self):
        self.assertTrue(os.path.exists(STUB))
        self.assertTrue(os.path.exists(os.path.join(PKG, "py.typed")))
        # no second stub restating what the Python modules define
        self.assertEqual(sorted(f for f in os.listdir(PKG) if f.endswith(".pyi")),
                         ["_atomic_dict.pyi"])

    def test_every_name_of_the_extension_should_be_in_the_stub(self):
        classes, names = _stub_classes()
        public = {n for n in dir(_atomic_dict) if not n.startswith("_")}
        self.assertEqual(public - names, set(), "missing from the stub")
        self.assertEqual(names - TYPING_ONLY - public, set(), "in the stub only")
        for name in atomic_dict.__all__:
            self.assertTrue(hasattr(atomic_dict, name), name)

    def test_stub_methods_should_exist_and_have_docstrings(self):
        classes, _ = _stub_classes()
        base = classes.pop("_TableBase")
        for cls in ("AtomicDict", "AtomicSet"):
            classes[cls] |= base
        base = classes.pop("_AtomicValueBase")
        for cls in ("AtomicValue64", "AtomicValue32"):
            classes[cls] |= base
        classes.pop("_HasFileno")
        classes.pop("_TableInfo")
        for cls, members in classes.items():
            obj = getattr(_atomic_dict, cls)
            self.assertTrue(obj.__doc__, cls)
            for m in members:
                if m in ("__hash__", "__new__", "__init__"):
                    continue
                self.assertTrue(hasattr(obj, m), "%s.%s in the stub only" % (cls, m))
                attr = getattr(obj, m)
                if not m.startswith("__") and callable(attr):
                    self.assertTrue(attr.__doc__, "%s.%s has no docstring" % (cls, m))
        # ...and the runtime has no public method the stub lacks.
        for cls in ("AtomicDict", "AtomicSet", "AtomicValue64", "AtomicValue32"):
            public = {m for m in dir(getattr(_atomic_dict, cls)) if not m.startswith("_")}
            self.assertEqual(public - classes[cls], set(), cls)


class IntrospectionTest(unittest.TestCase):
    def test_every_callable_should_have_a_text_signature(self):
        import inspect
        from atomic_dict import AtomicDict, AtomicSet, AtomicValue64
        d = AtomicDict(8)
        self.addCleanup(d.close)
        self.assertEqual(str(inspect.signature(AtomicDict)),
                         "(max_entries, k64=1, k32=0, v64=1, v32=0, *, name=None, "
                         "mode=384, grant=0, backend=None, load=0.75)")
        self.assertEqual(str(inspect.signature(AtomicSet)),
                         "(max_entries, k64=1, k32=0, *, name=None, mode=384, "
                         "grant=0, backend=None, load=0.75)")
        self.assertEqual(str(inspect.signature(d.add)), "(key, delta=1)")
        self.assertEqual(str(inspect.signature(d[1].cas)), "(expected, desired)")
        for cls in (AtomicDict, AtomicSet, AtomicValue64):
            for name in dir(cls):
                attr = getattr(cls, name)
                if name.startswith("_") or not callable(attr):
                    continue
                with self.subTest(cls=cls.__name__, name=name):
                    inspect.signature(attr)    # ValueError without one
        inspect.signature(atomic_dict.unlink)
        inspect.signature(atomic_dict.capi.get_pointer)

    def test_original_names_should_resolve(self):
        import atomic_dict.capi
        self.assertIs(atomic_dict.capi.AtomicValue64, atomic_dict.AtomicValue64)
        self.assertIs(atomic_dict.capi.AtomicValue32, atomic_dict.AtomicValue32)
        self.assertEqual(atomic_dict.AtomicValue64.__module__, "atomic_dict.capi")
        d = atomic_dict.AtomicDict(8)
        self.addCleanup(d.close)
        self.assertIsInstance(d[1], atomic_dict.capi.AtomicValue64)
        for cls in (atomic_dict.AtomicValue64, atomic_dict.AtomicValue32):
            with self.assertRaises(TypeError):
                cls()                  # only d[key] makes them

    def test_get_pointer_should_return_the_capsule_pointer(self):
        import ctypes
        make = ctypes.pythonapi.PyCapsule_New
        make.restype = ctypes.py_object
        make.argtypes = (ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p)
        cap = make(0x1234560, None, None)
        self.assertEqual(atomic_dict.capi.get_pointer(cap), 0x1234560)
        with self.assertRaises(TypeError):
            atomic_dict.capi.get_pointer(5)


if __name__ == "__main__":
    unittest.main()
