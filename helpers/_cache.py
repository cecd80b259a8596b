"""What the on-disk caches share: names that follow the code that made an entry, and writes that a
concurrent reader never sees half done (notebooks run side by side under ``make test``)."""
from __future__ import annotations

import ast
import hashlib
import inspect
import os
import textwrap
from pathlib import Path


def strip_docstrings(src: str) -> str:
    """``src`` parsed and printed back without docstrings (and so without comments or formatting)."""
    tree = ast.parse(textwrap.dedent(src))
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(getattr(first, "value", None), ast.Constant) \
                    and isinstance(first.value.value, str):
                node.body = node.body[1:] or [ast.Pass()]
    return ast.unparse(tree)


def source_hash(*objs) -> str:
    """A short hash of the code of functions/classes ``objs``: docstrings, comments and layout are
    ignored, so a cache entry named by it goes stale exactly when the code that made it changes."""
    h = hashlib.sha256()
    for o in objs:
        h.update(strip_docstrings(inspect.getsource(o)).encode())
    return h.hexdigest()[:12]


def write_atomic(path, data) -> None:
    """Write ``data`` (str or bytes) to ``path`` through a temporary file and a rename, so a process
    reading the cache at the same moment never sees half a file."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_bytes(data.encode() if isinstance(data, str) else data)
    os.replace(tmp, path)
