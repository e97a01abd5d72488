"""WORKSPACE set-up of rules_debuginfo, and the repository rules the bzlmod extension shares.

    load("@rules_debuginfo//rules:repositories.bzl", "rules_debuginfo_dependencies", "rules_debuginfo_register_toolchains")

    rules_debuginfo_dependencies()

    rules_debuginfo_register_toolchains()

By default the toolchains are the release's prebuilt binaries (`rules/private/versions.bzl`):
one per platform, each downloaded only when a build runs on that platform.
"""

load("@bazel_tools//tools/build_defs/repo:http.bzl", "http_archive")
load("@bazel_tools//tools/build_defs/repo:utils.bzl", "maybe")
load("//rules/private:versions.bzl", "DEBUGINFO_SHA256", "DEBUGINFO_URL", "DEBUGINFO_VERSION")

# Exec constraints of each release platform ("<os>_<arch>" in versions.bzl).
PLATFORM_CONSTRAINTS = {
    "darwin_amd64": ["@platforms//os:osx", "@platforms//cpu:x86_64"],
    "darwin_arm64": ["@platforms//os:osx", "@platforms//cpu:aarch64"],
    "linux_amd64": ["@platforms//os:linux", "@platforms//cpu:x86_64"],
    "linux_arm64": ["@platforms//os:linux", "@platforms//cpu:aarch64"],
}

_TOOL_BUILD = """\
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
    if rctx.attr.unavailable:
        fail(rctx.attr.unavailable)
    if rctx.attr.path and rctx.attr.urls:
        fail("debuginfo_tool_repository %s: set either path or urls, not both" % rctx.name)
    if rctx.attr.path:
        path = rctx.path(rctx.attr.path)
        if not path.exists:
            fail("debuginfo_tool_repository %s: %s does not exist" % (rctx.name, rctx.attr.path))
        rctx.symlink(path, "debuginfo")
    elif rctx.attr.urls:
        if not rctx.attr.sha256:
            fail("debuginfo_tool_repository %s: urls need a sha256" % rctx.name)
        rctx.download(
            url = rctx.attr.urls,
            output = "debuginfo",
            sha256 = rctx.attr.sha256,
            executable = True,
        )
    else:
        fail("debuginfo_tool_repository %s: set path (a local binary) or urls + sha256 (a release)" % rctx.name)
    rctx.file("WORKSPACE", "workspace(name = %r)\n" % rctx.name)
    rctx.file("BUILD.bazel", _TOOL_BUILD.format(
        exec_compatible_with = repr(rctx.attr.exec_compatible_with),
    ))

debuginfo_tool_repository = repository_rule(
    implementation = _debuginfo_tool_repository_impl,
    doc = """A repository holding one `debuginfo` binary: `:debuginfo`, its
`:debuginfo_toolchain` and a `toolchain()` for it, `:toolchain`. Give `path` (a local file,
e.g. built with `go build`) or `urls` + `sha256` (a release asset).""",
    attrs = {
        "path": attr.string(doc = "Absolute path of a local `debuginfo` binary."),
        "urls": attr.string_list(doc = "URLs of a release binary (all mirrors of one file)."),
        "sha256": attr.string(doc = "SHA-256 of the file at `urls`."),
        "exec_compatible_with": attr.string_list(
            doc = "Constraints of the platforms that can run this binary, e.g. " +
                  "`[\"@platforms//os:linux\", \"@platforms//cpu:x86_64\"]`. Empty: any. " +
                  "Labels resolve in this repository: write the main repository's as `@//pkg:name`.",
        ),
        "unavailable": attr.string(doc = "Internal: fail with this message when fetched (no binary for it)."),
    },
)

def _debuginfo_toolchains_repository_impl(rctx):
    lines = ["package(default_visibility = [\"//visibility:public\"])", ""]
    for repo, constraints in rctx.attr.toolchains.items():
        lines.extend([
            "toolchain(",
            "    name = %r," % repo,
            "    exec_compatible_with = %r," % constraints,
            "    toolchain = \"@%s//:debuginfo_toolchain\"," % repo,
            "    toolchain_type = \"@rules_debuginfo//rules:toolchain_type\",",
            ")",
            "",
        ])
    rctx.file("WORKSPACE", "workspace(name = %r)\n" % rctx.name)
    rctx.file("BUILD.bazel", "\n".join(lines))

debuginfo_toolchains_repository = repository_rule(
    implementation = _debuginfo_toolchains_repository_impl,
    doc = """The `toolchain()` targets of several `debuginfo_tool_repository` repositories, in one
repository that holds no binary: register `@<name>//:all` and Bazel fetches only the binary
that toolchain resolution picks.""",
    attrs = {
        "toolchains": attr.string_list_dict(
            doc = "Repository name of each `debuginfo_tool_repository` -> its exec constraints.",
        ),
    },
)

# The compatibility layer: Starlark symbols that moved between Bazel versions, chosen when
# the repository is fetched (the bazel_features approach), so that the rules load on
# Bazel 4.2 (WORKSPACE) and on Bazel 9 (no CcInfo global) alike.
_COMPAT_BZL = """\
\"\"\"Generated by rules_debuginfo's debuginfo_compat_repository ({what}). Do not edit.\"\"\"
{load_stmt}
compat = struct(
    # The CcInfo provider: the global up to Bazel 8, rules_cc's under bzlmod.
    CcInfo = {cc_info},
    # Whether ctx.actions.run takes `toolchain =` (Bazel >= 7; 4.2.3 rejects the keyword).
    actions_take_toolchain = {actions_take_toolchain},
)
"""

def _bazel_major(version):
    # "4.2.3", "8.1.0", "9.0.0rc1"; empty for builds without a version (Debian's 4.2.3): 0.
    head = version.split(".")[0]
    return int(head) if head.isdigit() else 0

def _debuginfo_compat_repository_impl(rctx):
    actions_take_toolchain = True
    if rctx.attr.bzlmod:
        # bzlmod means Bazel >= 7 (bazel_compatibility in MODULE.bazel).
        what = "bzlmod"
        load_stmt = "\nload(\"@rules_cc//cc/common:cc_info.bzl\", _CcInfo = \"CcInfo\")\n"
        cc_info = "_CcInfo"
    else:
        # Only a Bazel that reports its version (>= 7) gets the keyword; Debian's 4.2.3 says "".
        what = "WORKSPACE, Bazel %r" % native.bazel_version
        load_stmt = ""
        cc_info = "CcInfo"
        actions_take_toolchain = _bazel_major(native.bazel_version) >= 7
    rctx.file("WORKSPACE", "workspace(name = %r)\n" % rctx.name)
    rctx.file("BUILD.bazel", "exports_files([\"compat.bzl\"])\n")
    rctx.file("compat.bzl", _COMPAT_BZL.format(
        what = what,
        load_stmt = load_stmt,
        cc_info = cc_info,
        actions_take_toolchain = repr(actions_take_toolchain),
    ))

debuginfo_compat_repository = repository_rule(
    implementation = _debuginfo_compat_repository_impl,
    doc = "Internal: `@rules_debuginfo_compat//:compat.bzl`, the symbols that differ between Bazel versions.",
    attrs = {
        "bzlmod": attr.bool(doc = "Take CcInfo from rules_cc (bzlmod) instead of the global (WORKSPACE)."),
    },
)

NO_RELEASE = ("rules_debuginfo %s has no prebuilt `debuginfo` (a development checkout: " +
              "rules/private/versions.bzl lists no binaries). Build one with " +
              "`go build -o /abs/path/debuginfo ./uploader/cmd/debuginfo` and use it with " +
              "debuginfo.tool(path = \"/abs/path/debuginfo\") (MODULE.bazel) or " +
              "rules_debuginfo_register_toolchains(path = \"/abs/path/debuginfo\") (WORKSPACE).") % DEBUGINFO_VERSION

def declare_release_tools(prefix, base_url = None):
    """Declares one `debuginfo_tool_repository` per platform of the release (versions.bzl).

    Args:
      prefix: repository names are `<prefix>_<os>_<arch>`.
      base_url: where the `debuginfo-<os>-<arch>` files are; the GitHub release by default.

    Returns:
      A dict: repository name -> exec constraints, for `debuginfo_toolchains_repository`.
    """
    tools = {}
    for platform, sha256 in DEBUGINFO_SHA256.items():
        os, arch = platform.split("_")
        repo = "%s_%s" % (prefix, platform)
        debuginfo_tool_repository(
            name = repo,
            urls = ["%s/debuginfo-%s-%s" % ((base_url or DEBUGINFO_URL).rstrip("/"), os, arch)],
            sha256 = sha256,
            exec_compatible_with = PLATFORM_CONSTRAINTS[platform],
        )
        tools[repo] = PLATFORM_CONSTRAINTS[platform]
    if not tools:
        # A toolchain that fails with instructions when it is used, rather than Bazel's
        # "no matching toolchains found".
        repo = prefix + "_unavailable"
        debuginfo_tool_repository(name = repo, unavailable = NO_RELEASE)
        tools[repo] = []
    return tools

def rules_debuginfo_dependencies():
    """Declares what rules_debuginfo needs, unless the WORKSPACE already has it.

    bazel_skylib (its `common_settings` build settings) and `@rules_debuginfo_compat`.
    """
    maybe(
        http_archive,
        name = "bazel_skylib",
        sha256 = "1c531376ac7e5a180e0237938a2536de0c54d93f5c278634818e0efc952dd56c",
        urls = [
            "https://mirror.bazel.build/github.com/bazelbuild/bazel-skylib/releases/download/1.0.3/bazel-skylib-1.0.3.tar.gz",
            "https://github.com/bazelbuild/bazel-skylib/releases/download/1.0.3/bazel-skylib-1.0.3.tar.gz",
        ],
    )
    maybe(debuginfo_compat_repository, name = "rules_debuginfo_compat")

def rules_debuginfo_register_toolchains(
        name = "debuginfo",
        path = None,
        urls = None,
        sha256 = None,
        exec_compatible_with = None,
        base_url = None,
        register = True):
    """Declares the `debuginfo` toolchains and registers them (`@<name>_toolchains//:all`).

    With no arguments: the release's prebuilt binaries, one toolchain per platform
    (rules/private/versions.bzl). With `path`, or `urls` + `sha256`: that one binary
    instead, in repository `<name>_tool`.

    Args:
      name: prefix of the repositories' names.
      path: absolute path of a local `debuginfo` binary.
      urls: URLs of a `debuginfo` binary; needs `sha256`.
      sha256: SHA-256 of that binary.
      exec_compatible_with: constraints of the platforms that can run `path` / `urls`
        (empty: any). The main repository's labels are written `@//pkg:name`.
      base_url: a mirror of the release's files (`<base_url>/debuginfo-<os>-<arch>`),
        checked against the same hashes.
      register: whether to call `register_toolchains` (False to register it yourself).
    """
    if path or urls:
        repo = name + "_tool"
        debuginfo_tool_repository(
            name = repo,
            path = path or "",
            urls = urls or [],
            sha256 = sha256 or "",
            exec_compatible_with = exec_compatible_with or [],
        )
        tools = {repo: exec_compatible_with or []}
    else:
        tools = declare_release_tools(name, base_url)
    debuginfo_toolchains_repository(name = name + "_toolchains", toolchains = tools)
    if register:
        native.register_toolchains("@%s_toolchains//:all" % name)
