"""`debuginfo_binary`: a copy of a binary with a unique, content-derived GNU build ID."""

load(":toolchain.bzl", "TOOLCHAIN_KWARGS", "TOOLCHAIN_TYPE")

def stamp_action(actions, tool, src, out, owner):
    """Registers `debuginfo stamp src -o out` (mnemonic `DebuginfoStamp`, hermetic).

    Args:
      actions: `ctx.actions`.
      tool: the toolchain's `DebuginfoToolchainInfo`.
      src: File, the executable to stamp.
      out: File, the stamped copy to write.
      owner: Label, for the progress message.
    """
    args = actions.args()
    args.add("stamp")
    args.add(src)
    args.add("-o", out)
    actions.run(
        mnemonic = "DebuginfoStamp",
        progress_message = "Stamping a unique build ID into %s" % owner,
        executable = tool.files_to_run,
        arguments = [args],
        inputs = [src],
        outputs = [out],
        **TOOLCHAIN_KWARGS
    )

def _debuginfo_binary_impl(ctx):
    tool = ctx.toolchains[TOOLCHAIN_TYPE].debuginfo
    src = ctx.attr.binary[DefaultInfo].files_to_run.executable
    if src == None:
        fail("%s is not executable" % ctx.attr.binary.label)
    out = ctx.actions.declare_file(ctx.label.name)
    stamp_action(ctx.actions, tool, src, out, ctx.label)
    runfiles = ctx.runfiles(files = [out]).merge(ctx.attr.binary[DefaultInfo].default_runfiles)
    return [DefaultInfo(executable = out, files = depset([out]), runfiles = runfiles)]

debuginfo_binary = rule(
    implementation = _debuginfo_binary_impl,
    executable = True,
    doc = """The executable of `binary` with its GNU build-ID note rewritten from its content
(`debuginfo stamp`), so that binaries whose build IDs collide (every rules_go binary
links with `-buildid=redacted`) get distinct IDs. Needs a GNU build-ID note to rewrite:
for rules_go with Go < 1.24 link externally with `--build-id`. `debuginfo_aspect` visits
it (kind `debuginfo_binary`) and collects sources through `binary`.""",
    attrs = {
        "binary": attr.label(
            doc = "The binary target to stamp.",
            mandatory = True,
            executable = True,
            cfg = "target",
        ),
    },
    toolchains = [TOOLCHAIN_TYPE],
)
