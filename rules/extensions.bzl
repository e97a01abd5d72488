"""bzlmod set-up of rules_debuginfo: a thin wrapper over the WORKSPACE repository rule.

    debuginfo = use_extension("@rules_debuginfo//rules:extensions.bzl", "debuginfo")
    debuginfo.tool(urls = ["https://.../debuginfo-linux-amd64"], sha256 = "...")
    use_repo(debuginfo, "debuginfo_tool")
    register_toolchains("@debuginfo_tool//:toolchain")
"""

load(":repositories.bzl", "debuginfo_tool_repository")

_tool = tag_class(
    doc = "A prebuilt `debuginfo` binary: `path` (local) or `urls` + `sha256` (release).",
    attrs = {
        "name": attr.string(default = "debuginfo_tool", doc = "Name of the repository."),
        "path": attr.string(doc = "Absolute path of a local `debuginfo` binary."),
        "urls": attr.string_list(doc = "URLs of a release binary."),
        "sha256": attr.string(doc = "SHA-256 of the release binary."),
        "exec_compatible_with": attr.string_list(doc = "Constraints of the platforms that can run it."),
    },
)

def _debuginfo_impl(module_ctx):
    seen = {}
    for mod in module_ctx.modules:
        for tool in mod.tags.tool:
            if tool.name in seen:
                # The root module comes first: its choice wins.
                continue
            seen[tool.name] = True
            debuginfo_tool_repository(
                name = tool.name,
                path = tool.path,
                urls = tool.urls,
                sha256 = tool.sha256,
                exec_compatible_with = tool.exec_compatible_with,
            )

debuginfo = module_extension(
    implementation = _debuginfo_impl,
    doc = "Creates `debuginfo_tool_repository` repositories from `debuginfo.tool(...)` tags.",
    tag_classes = {"tool": _tool},
)
