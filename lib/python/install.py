# SPDX-License-Identifier: MIT
"""Install the built atomic_dict package with its dist-info (make install-python).

Usage: install.py BUILT_PACKAGE_DIR PYPROJECT TARGET_SITE_DIR VERSION

Copies the package (the extension, the .py files, its stub, py.typed) into
TARGET_SITE_DIR/atomic_dict and writes atomic_dict-VERSION.dist-info next to
it, as an installed wheel has it: METADATA from pyproject.toml's [project]
table, INSTALLER, top_level.txt and a RECORD with every file's sha256 and
size, so pip lists and uninstalls the package and importlib.metadata finds
it.  The standard library only (tomllib, Python 3.11+), so that make
install needs neither pip nor the wheel package.
"""

import base64
import hashlib
import os
import re
import shutil
import sys
import tomllib


def metadata(project, version):
    # The name as setuptools writes it (pkg_resources.safe_name).
    name = re.sub(r"[^A-Za-z0-9.]+", "-", project["name"])
    lines = ["Metadata-Version: 2.1", "Name: " + name,
             "Version: " + version, "Summary: " + project["description"]]
    if "license" in project:
        lines.append("License: " + project["license"]["text"])
    lines.append("Requires-Python: " + project["requires-python"])
    lines += ["Classifier: " + c for c in project.get("classifiers", [])]
    return "\n".join(lines) + "\n"


def record_line(site, path):
    with open(path, "rb") as f:
        data = f.read()
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "%s,sha256=%s,%d" % (os.path.relpath(path, site), digest.decode(), len(data))


def main():
    pkg, pyproject, site, version = sys.argv[1:5]
    with open(pyproject, "rb") as f:
        project = tomllib.load(f)["project"]
    dst = os.path.join(site, "atomic_dict")
    info = os.path.join(site, "%s-%s.dist-info" % (project["name"], version))
    os.makedirs(dst, exist_ok=True)
    os.makedirs(info, exist_ok=True)
    files = []
    for name in sorted(os.listdir(pkg)):
        src = os.path.join(pkg, name)
        if not os.path.isfile(src):
            continue
        shutil.copyfile(src, os.path.join(dst, name))
        os.chmod(os.path.join(dst, name), 0o755 if name.endswith(".so") else 0o644)
        files.append(os.path.join(dst, name))
    for name, text in (("METADATA", metadata(project, version)),
                       ("INSTALLER", "make\n"), ("top_level.txt", "atomic_dict\n")):
        with open(os.path.join(info, name), "w") as f:
            f.write(text)
        files.append(os.path.join(info, name))
    with open(os.path.join(info, "RECORD"), "w") as f:
        for path in files:
            f.write(record_line(site, path) + "\n")
        f.write(os.path.relpath(os.path.join(info, "RECORD"), site) + ",,\n")


if __name__ == "__main__":
    main()
