"""WORKSPACE set-up of rules_debuginfo.

    load("@rules_debuginfo//rules:repositories.bzl", "rules_debuginfo_dependencies", "rules_debuginfo_register_toolchains")

    rules_debuginfo_dependencies()

    rules_debuginfo_register_toolchains(
        urls = ["https://.../debuginfo-linux-amd64"],
        sha256 = "...",
    )
"""

_BUILD = """\
load("@rules_debuginfo//rules:defs.bzl", "debuginfo_toolchain")

package(default_visibility = ["//visibility:public"])

exports_files(["debuginfo"])

debuginfo_toolchain(
    name = "debuginfo_toolchain",
    debuginfo = ":debuginfo",
)

toolchain(
    name = "toolchain",
    exec_compatible_with = {exec_compatible_with},
    toolchain = ":debuginfo_toolchain",
    toolchain_type = "@rules_debuginfo//rules:toolchain_type",
)
"""

def _debuginfo_tool_repository_impl(rctx):
    if rctx.attr.path and rctx.attr.urls:
        fail("debuginfo_tool_repository: set either path or urls, not both")
    if rctx.attr.path:
        path = rctx.path(rctx.attr.path)
        if not path.exists:
            fail("debuginfo_tool_repository: %s does not exist" % rctx.attr.path)
        rctx.symlink(path, "debuginfo")
    elif rctx.attr.urls:
        if not rctx.attr.sha256:
            fail("debuginfo_tool_repository: urls need a sha256")
        rctx.download(
            url = rctx.attr.urls,
            output = "debuginfo",
            sha256 = rctx.attr.sha256,
            executable = True,
        )
    else:
        fail("debuginfo_tool_repository: set path (a local binary) or urls + sha256 (a release)")
    rctx.file("WORKSPACE", "workspace(name = %r)\n" % rctx.name)
    rctx.file("BUILD.bazel", _BUILD.format(
        exec_compatible_with = repr(rctx.attr.exec_compatible_with),
    ))

debuginfo_tool_repository = repository_rule(
    implementation = _debuginfo_tool_repository_impl,
    doc = """A repository holding a prebuilt `debuginfo` binary and a toolchain for it
(`@<name>//:toolchain`). Give `path` (a local file, e.g. built with `go build`) or
`urls` + `sha256` (a release asset).""",
    attrs = {
        "path": attr.string(doc = "Absolute path of a local `debuginfo` binary."),
        "urls": attr.string_list(doc = "URLs of a release binary (all mirrors of one file)."),
        "sha256": attr.string(doc = "SHA-256 of the file at `urls`."),
        "exec_compatible_with": attr.string_list(
            doc = "Constraints of the platforms that can run this binary, e.g. " +
                  "`[\"@platforms//os:linux\", \"@platforms//cpu:x86_64\"]`. Empty: any.",
        ),
    },
)

def rules_debuginfo_dependencies():
    """Declares what rules_debuginfo needs. The rules use Bazel built-ins only, so nothing yet.

    Kept so that WORKSPACE files need not change when a dependency is added.
    """
    pass

def rules_debuginfo_register_toolchains(name = "debuginfo_tool", path = None, urls = None, sha256 = None, exec_compatible_with = None, register = True):
    """Creates a `debuginfo_tool_repository` and registers its toolchain.

    Args:
      name: name of the repository.
      path: absolute path of a local `debuginfo` binary.
      urls: URLs of a release binary; needs `sha256`.
      sha256: SHA-256 of the release binary.
      exec_compatible_with: constraints of the platforms that can run the binary.
      register: whether to call `register_toolchains` (False to register it yourself).
    """
    debuginfo_tool_repository(
        name = name,
        path = path or "",
        urls = urls or [],
        sha256 = sha256 or "",
        exec_compatible_with = exec_compatible_with or [],
    )
    if register:
        native.register_toolchains("@%s//:toolchain" % name)
