"""`debuginfo_upload`: a `bazel run` target that uploads the debuginfo of some binaries."""

load(":aspect.bzl", "add_upload_flags", "debuginfo_aspect", "refuse_token_args")
load(":providers.bzl", "DebuginfoInfo", "DebuginfoOptionsInfo", "DebuginfoToolchainInfo")

def _rlocation(ctx, f):
    if f.short_path.startswith("../"):
        return f.short_path[3:]
    return ctx.workspace_name + "/" + f.short_path

def _shell_quote(s):
    return "'" + s.replace("'", "'\\''") + "'"

def _debuginfo_upload_impl(ctx):
    options = ctx.attr._options[DebuginfoOptionsInfo]
    tool = ctx.attr._tool[DebuginfoToolchainInfo]
    infos = []
    for t in ctx.attr.targets:
        if DebuginfoInfo not in t:
            fail("%s: debuginfo_aspect did not visit it (its kind is not in --@rules_debuginfo//rules:kinds, or it is tagged no-debuginfo-upload)" % t.label)
        info = t[DebuginfoInfo]
        infos.append(info)

        # The shared libraries it loads, each once however many targets load it.
        infos.extend(info.libraries.to_list())
    by_record = {}
    for info in infos:
        by_record[info.record] = info
    records = by_record.keys()
    files = [info.files for info in by_record.values()]

    flags = []
    add_upload_flags(flags, options, ctx.attr.store_address, ctx.attr.project_id)
    refuse_token_args(ctx.attr.upload_args, "upload_args of %s" % ctx.label)
    flags.extend(ctx.attr.upload_args)

    launcher = ctx.actions.declare_file(ctx.label.name + ".sh")
    ctx.actions.expand_template(
        template = ctx.file._launcher,
        output = launcher,
        is_executable = True,
        substitutions = {
            "%TOOL%": _rlocation(ctx, tool.tool),
            "%RECORDS%": " ".join([_shell_quote(_rlocation(ctx, r)) for r in records]),
            "%FLAGS%": " ".join([_shell_quote(f) for f in flags]),
        },
    )
    runfiles = ctx.runfiles(
        files = [tool.tool],
        transitive_files = depset(transitive = files),
    ).merge(ctx.attr._tool[DefaultInfo].default_runfiles).merge(
        ctx.attr._runfiles_lib[DefaultInfo].default_runfiles,
    )
    return [DefaultInfo(
        executable = launcher,
        files = depset([launcher]),
        runfiles = runfiles,
    )]

debuginfo_upload = rule(
    implementation = _debuginfo_upload_impl,
    executable = True,
    doc = """Uploads the debuginfo and sources of `targets` when run: `bazel run //pkg:upload [-- FLAGS]`,
and of the Bazel-built shared libraries they load (`DebuginfoInfo.libraries`), each once.

Authorization: the run happens in the caller's environment, not in an action. Pass a
token file (`-- --bearer-token-file=PATH`) or a credential helper (`-- --credential-helper=PATH`,
Bazel's protocol; the tool runs it). A token exported as `PARCA_DEBUGINFO_BEARER_TOKEN` /
`POLARSIGNALS_TOKEN` works too, but Bazel writes its client environment to
`$(bazel info output_base)/java.log*`, so the launcher warns about it. Nothing secret is
stored in the build.

Behaviour: `bazel run` builds the targets with `debuginfo_aspect` (hermetic extract
actions, cached), then the launcher runs `debuginfo upload --record ...` with the flags
from the build settings, `store_address` / `project_id` / `upload_args`, and the extra
arguments after `--`. The store skips what it already has.

Example:

    debuginfo_upload(
        name = "upload",
        targets = [":server", ":client"],
        store_address = "grpc.polarsignals.com:443",
    )

    bazel run -c dbg //pkg:upload -- --bearer-token-file=$HOME/.config/polarsignals/token --project-id=...
""",
    attrs = {
        "targets": attr.label_list(
            doc = "Binary targets (of the kinds the aspect visits) whose debuginfo to upload, with that of the shared libraries they load.",
            mandatory = True,
            aspects = [debuginfo_aspect],
        ),
        "store_address": attr.string(
            doc = "Store address; overrides `--@rules_debuginfo//rules:store_address` when set.",
        ),
        "project_id": attr.string(
            doc = "Project ID; overrides `--@rules_debuginfo//rules:project_id` when set.",
        ),
        "upload_args": attr.string_list(
            doc = "Extra arguments for `debuginfo upload`, before those given after `--`. Never put secrets here.",
        ),
        "_launcher": attr.label(
            default = Label("//rules/private:launcher.sh.tpl"),
            allow_single_file = True,
        ),
        "_runfiles_lib": attr.label(
            default = Label("@bazel_tools//tools/bash/runfiles"),
        ),
        "_options": attr.label(
            default = Label("//rules:options"),
            providers = [DebuginfoOptionsInfo],
        ),
        "_tool": attr.label(
            default = Label("//rules:resolved_toolchain"),
            providers = [DebuginfoToolchainInfo],
        ),
    },
)
