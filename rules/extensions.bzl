"""bzlmod set-up of rules_debuginfo: a thin wrapper over the WORKSPACE repository rules.

Nothing to write for the default: rules_debuginfo's own MODULE.bazel uses this extension and
registers `@debuginfo_toolchains//:all`, the release's prebuilt binaries, one toolchain per
platform. To use another binary, say so in your root module:

    debuginfo = use_extension("@rules_debuginfo//rules:extensions.bzl", "debuginfo")
    debuginfo.tool(path = "/abs/path/debuginfo")

The root module's `tool` tags replace the prebuilt toolchains; other modules' tags are ignored
(a library must not choose the binary for the whole build).
"""

load(
    ":repositories.bzl",
    "debuginfo_compat_repository",
    "debuginfo_tool_repository",
    "debuginfo_toolchains_repository",
    "declare_release_tools",
)

_tool = tag_class(
    doc = "A `debuginfo` binary to use instead of the release's: `path` (local) or `urls` + `sha256`.",
    attrs = {
        "name": attr.string(default = "debuginfo_tool", doc = "Name of its repository (unique per tag)."),
        "path": attr.string(doc = "Absolute path of a local `debuginfo` binary."),
        "urls": attr.string_list(doc = "URLs of a `debuginfo` binary (mirrors of one file)."),
        "sha256": attr.string(doc = "SHA-256 of the file at `urls`."),
        "exec_compatible_with": attr.label_list(
            doc = "Constraints of the platforms that can run it, e.g. " +
                  "`[\"@platforms//os:linux\", \"@platforms//cpu:x86_64\"]`; empty: any. " +
                  "Labels resolve in your module.",
        ),
    },
)

def _debuginfo_impl(module_ctx):
    debuginfo_compat_repository(name = "rules_debuginfo_compat", bzlmod = True)
    tools = {}
    root_is_us = False
    for mod in module_ctx.modules:
        if not mod.is_root:
            continue
        root_is_us = mod.name == "rules_debuginfo"
        for tool in mod.tags.tool:
            if tool.name in tools:
                fail("debuginfo.tool: two tags named %r; give each its own name" % tool.name)
            constraints = [str(label) for label in tool.exec_compatible_with]
            debuginfo_tool_repository(
                name = tool.name,
                path = tool.path,
                urls = tool.urls,
                sha256 = tool.sha256,
                exec_compatible_with = constraints,
            )
            tools[tool.name] = constraints
    if not tools:
        tools = declare_release_tools("debuginfo")
    debuginfo_toolchains_repository(name = "debuginfo_toolchains", toolchains = tools)

    # rules_debuginfo's MODULE.bazel imports the hub and the compatibility layer; a root
    # module that only uses the rules needs none (`bazel mod tidy` keeps it so).
    return module_ctx.extension_metadata(
        root_module_direct_deps = ["debuginfo_toolchains", "rules_debuginfo_compat"] if root_is_us else [],
        root_module_direct_dev_deps = [],
    )

debuginfo = module_extension(
    implementation = _debuginfo_impl,
    doc = """The `debuginfo` toolchains (`@debuginfo_toolchains//:all`, registered by
rules_debuginfo) and `@rules_debuginfo_compat`. `tool` tags of the root module replace the
release's prebuilt binaries.""",
    tag_classes = {"tool": _tool},
)
