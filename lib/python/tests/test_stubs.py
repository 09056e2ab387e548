# SPDX-License-Identifier: MIT
"""The type stubs and docstrings describe what the extension really has."""

import ast
import os
import unittest

import atomic_dict

STUB = os.path.join(os.path.dirname(atomic_dict.__file__), "__init__.pyi")


def _stub_classes():
    tree = ast.parse(open(STUB).read())
    classes, names = {}, set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            classes[node.name] = {n.name for n in node.body
                                  if isinstance(n, (ast.FunctionDef, ast.AnnAssign))
                                  and not isinstance(n, ast.AnnAssign)} | \
                {n.target.id for n in node.body if isinstance(n, ast.AnnAssign)}
            names.add(node.name)
        elif isinstance(node, ast.FunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign):
            names.add(node.target.id)
    return classes, names


class StubTest(unittest.TestCase):
    def test_stub_should_be_installed_with_py_typed(self):
        pkg = os.path.dirname(atomic_dict.__file__)
        self.assertTrue(os.path.exists(STUB))
        self.assertTrue(os.path.exists(os.path.join(pkg, "py.typed")))

    def test_every_public_name_should_be_in_the_stub(self):
        classes, names = _stub_classes()
        for name in atomic_dict.__all__:
            self.assertIn(name, names, "%s missing from the stub" % name)
        for name in names - {"_T", "_Table", "_Backend", "TableInfo", "_TableBase"}:
            self.assertTrue(hasattr(atomic_dict, name), "stub has %s" % name)

    def test_stub_methods_should_exist_and_have_docstrings(self):
        classes, _ = _stub_classes()
        base = classes.pop("_TableBase")
        for cls in ("AtomicDict", "AtomicSet"):
            classes[cls] |= base
        for cls, members in classes.items():
            if not hasattr(atomic_dict, cls) or cls == "TableInfo":
                continue
            obj = getattr(atomic_dict, cls)
            self.assertTrue(obj.__doc__, cls)
            for m in members:
                if m in ("__hash__", "__new__"):
                    continue
                self.assertTrue(hasattr(obj, m), "%s.%s in the stub only" % (cls, m))
                attr = getattr(obj, m)
                if not m.startswith("__") and callable(attr):
                    self.assertTrue(attr.__doc__, "%s.%s has no docstring" % (cls, m))
        # ...and the runtime has no public method the stub lacks.
        for cls in ("AtomicDict", "AtomicSet", "AtomicValue"):
            public = {m for m in dir(getattr(atomic_dict, cls)) if not m.startswith("_")}
            self.assertEqual(public - classes[cls], set(), cls)


if __name__ == "__main__":
    unittest.main()
