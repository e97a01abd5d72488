"""`debuginfo_aspect`: extract and upload the debuginfo of every binary of a build."""

load("@rules_debuginfo_compat//:compat.bzl", "compat")
load(":binary.bzl", "stamp_action")
load(":providers.bzl", "DebuginfoInfo", "DebuginfoOptionsInfo", "DebuginfoSourcesInfo")
load(":toolchain.bzl", "TOOLCHAIN_KWARGS", "TOOLCHAIN_TYPE")

OPT_OUT_TAG = "no-debuginfo-upload"

# Attributes the aspect follows to collect sources transitively.
PROPAGATE_ATTRS = ["deps", "embed", "binary"]

# Kinds whose binaries `stamp_go` stamps.
_GO_KINDS = ["go_binary", "go_test"]

# Attributes whose files are sources or headers that a compiler may have read.
_SOURCE_ATTRS = ["srcs", "hdrs", "textual_hdrs", "embedsrcs"]

_SOURCE_EXTENSIONS = [
    "c",
    "cc",
    "cpp",
    "cxx",
    "c++",
    "C",
    "h",
    "hh",
    "hpp",
    "hxx",
    "h++",
    "inc",
    "inl",
    "ipp",
    "tcc",
    "s",
    "S",
    "asm",
    "go",
    "m",
    "mm",
    "rs",
    "cu",
]

# Execution requirements of the `DebuginfoExtract` action. Locally, one persistent
# `debuginfo extract --persistent_worker` process serves the extractions: no process
# start and no sandbox of the binary's source inputs per binary, which was most of
# what the aspect added to a build (docs/performance.md). The action stays hermetic:
# it reads only the files its arguments and sources manifest name, all of them
# declared inputs, and a remote executor runs it as a plain process. Sandboxed again
# with --strategy=DebuginfoExtract=sandboxed, or --worker_sandboxing.
EXTRACT_EXECUTION_REQUIREMENTS = {"supports-workers": "1"}

def upload_execution_requirements(remote_upload):
    """Execution requirements of the `DebuginfoUpload` action.

    Args:
      remote_upload: whether the action may run on a remote executor.

    Returns:
      A dict for `ctx.actions.run(execution_requirements = ...)`.
    """
    reqs = {
        # It talks to the store.
        "requires-network": "1",
        # Its result says "this store has it", not a function of its inputs: never put
        # it in a disk or remote cache (it stays in the local action cache, so a no-op
        # rebuild uploads nothing).
        "no-remote-cache": "1",
    }
    if not remote_upload:
        # Local by default: the token file or credential helper named by the flags is
        # on this machine, outside the sandbox (the path is not an input, so the secret
        # never enters the action key).
        reqs["no-remote-exec"] = "1"
        reqs["no-sandbox"] = "1"

        # One persistent `debuginfo upload --persistent_worker` process serves the
        # uploads (Bazel's proto worker protocol, flags in a --flagfile): no process
        # start and no new store connection per binary. Off with
        # --strategy=DebuginfoUpload=local.
        reqs["supports-workers"] = "1"
    return reqs

def _is_source(f):
    return f.extension in _SOURCE_EXTENSIONS

def _collect_sources(target, ctx):
    direct = []
    for name in _SOURCE_ATTRS:
        for f in getattr(ctx.rule.files, name, []):
            if _is_source(f):
                direct.append(f)
    transitive = []

    # The global on Bazel 4.2 to 8 (WORKSPACE), rules_cc's under bzlmod (Bazel 9 has no global).
    if compat.CcInfo in target:
        transitive.append(target[compat.CcInfo].compilation_context.headers)
    for name in PROPAGATE_ATTRS:
        deps = getattr(ctx.rule.attr, name, None)
        if deps == None:
            continue
        if type(deps) != "list":
            deps = [deps]
        for dep in deps:
            if type(dep) == "Target" and DebuginfoSourcesInfo in dep:
                transitive.append(dep[DebuginfoSourcesInfo].srcs)
    return depset(direct, transitive = transitive)

def _manifest_line(f):
    # Bazel compiles in the exec root with exec-root-relative paths, so the name in
    # the DWARF line table and the path on disk are the same string.
    return "%s\t%s" % (f.path, f.path)

def _should_visit(target, ctx, options):
    if ctx.rule.kind not in options.kinds:
        return False
    if OPT_OUT_TAG in getattr(ctx.rule.attr, "tags", []):
        return False
    files_to_run = target[DefaultInfo].files_to_run
    return files_to_run != None and files_to_run.executable != None

def _debuginfo_aspect_impl(target, ctx):
    options = ctx.attr._options[DebuginfoOptionsInfo]
    srcs = _collect_sources(target, ctx)
    providers = [DebuginfoSourcesInfo(srcs = srcs)]
    if not _should_visit(target, ctx, options):
        return providers

    tool = ctx.toolchains[TOOLCHAIN_TYPE].debuginfo
    binary = target[DefaultInfo].files_to_run.executable
    prefix = "_debuginfo/%s/" % target.label.name
    stamped = None
    if options.stamp_go and ctx.rule.kind in _GO_KINDS:
        # Every rules_go binary carries the same -buildid=redacted GNU build ID:
        # give this one its own before anything is keyed by it.
        stamped = ctx.actions.declare_file(prefix + binary.basename)
        stamp_action(ctx.actions, tool, binary, stamped, target.label)
        binary = stamped
    record = ctx.actions.declare_file(prefix + "record.json")
    debuginfo = ctx.actions.declare_file(prefix + binary.basename + ".debuginfo")

    args = ctx.actions.args()

    # Flags in a flag file, which a worker needs (see extract_execution_requirements).
    args.use_param_file("--flagfile=%s", use_always = True)
    args.set_param_file_format("multiline")
    args.add(binary)
    args.add("-o", debuginfo)
    args.add("--record", record)
    inputs = [binary]
    outputs = [record, debuginfo]
    transitive_inputs = []
    sources = None
    manifest = None
    if options.sources:
        manifest = ctx.actions.declare_file(prefix + "sources.tsv")
        lines = ctx.actions.args()
        lines.set_param_file_format("multiline")
        lines.add_all(srcs, map_each = _manifest_line)
        ctx.actions.write(manifest, lines)
        sources = ctx.actions.declare_file(prefix + binary.basename + ".sources.tar.zst")
        args.add("--sources-manifest", manifest)
        args.add("--sources-out", sources)
        inputs.append(manifest)
        transitive_inputs.append(srcs)
        outputs.append(sources)

    ctx.actions.run(
        mnemonic = "DebuginfoExtract",
        progress_message = "Extracting debuginfo of %s" % target.label,
        executable = tool.files_to_run,
        arguments = ["extract", args],
        inputs = depset(inputs, transitive = transitive_inputs),
        outputs = outputs,
        execution_requirements = EXTRACT_EXECUTION_REQUIREMENTS,
        **TOOLCHAIN_KWARGS
    )

    files = depset([f for f in [record, debuginfo, sources] if f])
    group = depset([stamped], transitive = [files]) if stamped else files
    receipt = ctx.actions.declare_file(prefix + "upload.receipt.json")
    upload = ctx.actions.args()
    if not options.remote_upload:
        # A worker gets its request's flags from a flag file (required for workers);
        # `debuginfo` expands it itself when the action runs as a plain process.
        upload.use_param_file("--flagfile=%s", use_always = True)
        upload.set_param_file_format("multiline")
    upload.add("--record", record)
    upload.add("--receipt", receipt)
    add_upload_flags(upload, options)
    ctx.actions.run(
        mnemonic = "DebuginfoUpload",
        progress_message = "Uploading debuginfo of %s" % target.label,
        executable = tool.files_to_run,
        arguments = ["upload", upload],
        inputs = files,
        outputs = [receipt],
        # PATH for credential helpers; nothing secret unless the user adds it with
        # --action_env (docs/bazel.md says why not to).
        use_default_shell_env = True,
        execution_requirements = upload_execution_requirements(options.remote_upload),
        **TOOLCHAIN_KWARGS
    )

    providers.append(DebuginfoInfo(
        binary = binary,
        record = record,
        debuginfo = debuginfo,
        sources = sources,
        sources_manifest = manifest,
        receipt = receipt,
        files = files,
        stamped = stamped,
    ))
    providers.append(OutputGroupInfo(
        debuginfo = group,
        debuginfo_upload = depset([receipt]),
    ))
    return providers

def add_upload_flags(args, options, store_address = "", project_id = ""):
    """Adds the flags of `debuginfo upload` that the build settings ask for.

    Only paths and public settings: never a secret.

    Args:
      args: an `Args` object or a list to append to.
      options: `DebuginfoOptionsInfo`.
      store_address: overrides `options.store_address` when not empty.
      project_id: overrides `options.project_id` when not empty.
    """
    flags = []
    address = store_address or options.store_address
    if address:
        flags.append("--store-address=" + address)
    if options.insecure:
        flags.append("--insecure")
    project = project_id or options.project_id
    if project:
        flags.append("--project-id=" + project)
    if options.credential_helper:
        flags.append("--credential-helper=" + options.credential_helper)
    if options.bearer_token_file:
        flags.append("--bearer-token-file=" + options.bearer_token_file)
    if options.sources:
        flags.append("--include-sources")
    if options.dry_run:
        flags.append("--dry-run")
    if not options.fail_on_shared_build_id:
        # Skip a shared build ID with one warning instead of failing the build.
        flags.append("--skip-shared-build-id")
    flags.extend(options.upload_args)
    if type(args) == "list":
        args.extend(flags)
    else:
        args.add_all(flags)

debuginfo_aspect = aspect(
    implementation = _debuginfo_aspect_impl,
    doc = """Extracts (and, with the `debuginfo_upload` output group, uploads) the debuginfo
and sources of every binary it visits.

Visits targets whose kind is in `--@rules_debuginfo//rules:kinds` (default: cc_binary,
cc_test, go_binary, debuginfo_binary; go_test only when added there: tests are not shipped) unless tagged `no-debuginfo-upload`, and
follows `deps`, `embed` and `binary` to collect the sources and headers Bazel knows.

Per binary it registers a hermetic, cacheable, remote-executable `DebuginfoExtract`
action and a `DebuginfoUpload` action (requires-network, no-remote-cache, local unless
`--@rules_debuginfo//rules:remote_upload`). Output groups: `debuginfo` (extract only) and
`debuginfo_upload` (the upload receipts).

Enable it for a whole repository with one `.bazelrc` line:

    build:debuginfo --aspects=@rules_debuginfo//rules:defs.bzl%debuginfo_aspect --output_groups=+debuginfo_upload
""",
    attr_aspects = PROPAGATE_ATTRS,
    attrs = {
        "_options": attr.label(
            default = Label("//rules:options"),
            providers = [DebuginfoOptionsInfo],
        ),
    },
    provides = [DebuginfoSourcesInfo],
    toolchains = [TOOLCHAIN_TYPE],
)
