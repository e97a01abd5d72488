"""The `debuginfo` toolchain: how the rules find the CLI."""

load("@rules_debuginfo_compat//:compat.bzl", "compat")
load(":providers.bzl", "DebuginfoToolchainInfo")

TOOLCHAIN_TYPE = "@rules_debuginfo//rules:toolchain_type"

# For ctx.actions.run of an action that runs the toolchain's `debuginfo`: names the
# toolchain type where Bazel takes it (needed under --incompatible_auto_exec_groups).
TOOLCHAIN_KWARGS = {"toolchain": Label("//rules:toolchain_type")} if compat.actions_take_toolchain else {}

def _debuginfo_toolchain_impl(ctx):
    tool = ctx.attr.debuginfo
    info = DebuginfoToolchainInfo(
        tool = ctx.executable.debuginfo,
        files_to_run = tool[DefaultInfo].files_to_run,
    )
    return [
        platform_common.ToolchainInfo(debuginfo = info),
        DefaultInfo(files = depset([ctx.executable.debuginfo])),
    ]

debuginfo_toolchain = rule(
    implementation = _debuginfo_toolchain_impl,
    doc = """Declares a `debuginfo` executable as a toolchain of type
`@rules_debuginfo//rules:toolchain_type`. Wrap it in `toolchain()` and register it;
`rules_debuginfo_register_toolchains()` (WORKSPACE) and the `debuginfo` module
extension (bzlmod) do both for you.""",
    attrs = {
        "debuginfo": attr.label(
            doc = "The `debuginfo` executable: a prebuilt file or a `go_binary`.",
            mandatory = True,
            executable = True,
            cfg = "exec",
            allow_files = True,
        ),
    },
)

def _resolved_toolchain_impl(ctx):
    info = ctx.toolchains[TOOLCHAIN_TYPE].debuginfo
    return [
        info,
        DefaultInfo(
            files = depset([info.tool]),
            runfiles = ctx.runfiles(files = [info.tool]),
        ),
    ]

resolved_toolchain = rule(
    implementation = _resolved_toolchain_impl,
    doc = "Internal: forwards the resolved `debuginfo` toolchain as a target, for rules that need its files as runfiles.",
    toolchains = [TOOLCHAIN_TYPE],
)
