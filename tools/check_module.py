#!/usr/bin/env python3
"""Fails when MODULE.bazel lets rules_debuginfo's Go set-up reach a user's module graph.

rules_go, gazelle and their extensions (go_sdk, go_deps) are for this repository's own
development only: as non-dev dependencies they would merge our go.mod into every consumer's
go_deps and could pick a consumer's Go SDK (issue 17). MODULE.bazel is Starlark, which
Python's parser reads, so this checks the calls themselves, not their text.

Usage: tools/check_module.py [MODULE.bazel]
"""

import ast
import sys

DEV_ONLY_MODULES = {"rules_go", "gazelle"}
DEV_ONLY_EXTENSIONS = ("@io_bazel_rules_go//", "@rules_go//", "@bazel_gazelle//", "@gazelle//")


def is_dev(call):
    for kw in call.keywords:
        if kw.arg == "dev_dependency":
            return isinstance(kw.value, ast.Constant) and kw.value.value is True
    return False


def check(path):
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    problems = []
    names = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
            continue
        fn = node.func.id
        if fn == "bazel_dep":
            name = next((kw.value.value for kw in node.keywords if kw.arg == "name"), None)
            names.add(name)
            if name in DEV_ONLY_MODULES and not is_dev(node):
                problems.append(f"{path}:{node.lineno}: bazel_dep(name = {name!r}) must be dev_dependency = True")
        elif fn == "use_extension" and node.args and isinstance(node.args[0], ast.Constant):
            bzl = node.args[0].value
            if bzl.startswith(DEV_ONLY_EXTENSIONS) and not is_dev(node):
                problems.append(f"{path}:{node.lineno}: use_extension({bzl!r}, ...) must be dev_dependency = True")
    if "rules_debuginfo" in names:
        problems.append(f"{path}: depends on itself")
    return problems


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "MODULE.bazel"
    problems = check(path)
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print("Our Go set-up must not reach users' module graphs: see tools/check_module.py.", file=sys.stderr)
        return 1
    print(f"{path}: rules_go, gazelle, go_sdk and go_deps are dev-only")
    return 0


if __name__ == "__main__":
    sys.exit(main())
