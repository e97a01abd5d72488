"""`debuginfo_aspect`: extract and upload the debuginfo of every binary of a build."""

load("@rules_debuginfo_compat//:compat.bzl", "compat")
load(":binary.bzl", "stamp_action")
load(":providers.bzl", "DebuginfoInfo", "DebuginfoLibrariesInfo", "DebuginfoOptionsInfo", "DebuginfoSourcesInfo")
load(":toolchain.bzl", "TOOLCHAIN_KWARGS", "TOOLCHAIN_TYPE")

OPT_OUT_TAG = "no-debuginfo-upload"

# Attributes the aspect follows to collect sources transitively.
PROPAGATE_ATTRS = ["deps", "embed", "binary", "shared_library"]

# Kinds whose binaries `stamp_go` stamps.
_GO_KINDS = ["go_binary", "go_test"]

# rules_go's rules that compile Go sources.
_GO_RULES = ["go_library", "go_binary", "go_test"]

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

def _propagated_deps(ctx):
    """The targets of the attributes the aspect follows (PROPAGATE_ATTRS)."""
    targets = []
    for name in PROPAGATE_ATTRS:
        deps = getattr(ctx.rule.attr, name, None)
        if deps == None:
            continue
        if type(deps) != "list":
            deps = [deps]
        targets.extend([dep for dep in deps if type(dep) == "Target"])
    return targets

def _own_sources(target, ctx):
    """This target's sources and the headers it can see (its dependencies' too).

    Args:
      target: the target the aspect visits.
      ctx: the aspect's context.

    Returns:
      struct(files = depset of File, cgo = depset of File: the Go files of a rules_go
      target with cgo, which rules_go names otherwise; see _cgo_alias_line).
    """
    direct = []
    for name in _SOURCE_ATTRS:
        for f in getattr(ctx.rule.files, name, []):
            if _is_source(f):
                direct.append(f)
    transitive = []

    # The global on Bazel 4.2 to 8 (WORKSPACE), rules_cc's under bzlmod (Bazel 9 has no global).
    if compat.CcInfo in target:
        transitive.append(target[compat.CcInfo].compilation_context.headers)
    cgo = []
    if ctx.rule.kind in _GO_RULES and getattr(ctx.rule.attr, "cgo", False) == True:
        cgo = [f for f in direct if f.extension == "go"]
    return struct(files = depset(direct, transitive = transitive), cgo = depset(cgo))

def _collect_sources(own, ctx):
    files = [own.files]
    cgo = [own.cgo]
    for dep in _propagated_deps(ctx):
        if DebuginfoSourcesInfo in dep:
            files.append(dep[DebuginfoSourcesInfo].srcs)
            cgo.append(dep[DebuginfoSourcesInfo].cgo_srcs)
    return struct(files = depset(transitive = files), cgo = depset(transitive = cgo))

def _manifest_line(f):
    # Bazel compiles in the exec root with exec-root-relative paths, so the name in
    # the DWARF line table and the path on disk are the same string.
    return "%s\t%s" % (f.path, f.path)

def _cgo_alias_line(f):
    # Prefixed with the workspace name through format_each: rules_go runs cgo with
    # -trimpath set to the exec root's parent, so a file that imports "C" (its Go
    # code and its C preamble) is named <workspace name>/<exec path>.
    return "%s\t%s\talias" % (f.path, f.path)

def _cgo_base_line(f):
    # rules_go compiles the other Go files of a cgo package from links in a
    # work directory trimmed away: they are named by their base name. The CLI
    # leaves out a base name two files share.
    return "%s\t%s\talias" % (f.basename, f.path)

def _is_opted_out(ctx):
    return OPT_OUT_TAG in getattr(ctx.rule.attr, "tags", [])

def _should_visit(target, ctx, options):
    if ctx.rule.kind not in options.kinds:
        return False
    if _is_opted_out(ctx):
        return False
    files_to_run = target[DefaultInfo].files_to_run
    return files_to_run != None and files_to_run.executable != None

def _own_shared_libraries(target, ctx):
    """The Bazel-built shared libraries whose owner is this target.

    A `cc_library` with sources links one (`lib<name>.so`); Bazel links a dynamically
    linked binary against its `_solib_<cpu>` symlink (`dynamic_library`), which is also
    what the binary's runfiles hold, and the symlink points to the file itself
    (`resolved_symlink_dynamic_library`). Prebuilt libraries (`cc_import`, a `.so` in
    `srcs`) are source files, not built by Bazel: left out, like system libraries.

    Args:
      target: the target the aspect visits.
      ctx: the aspect's context.

    Returns:
      A list of (tuple of the Files a binary's runfiles may hold for it, File to extract).
    """
    if compat.CcInfo not in target or _is_opted_out(ctx):
        return []

    # A cc_library without sources (headers only) links nothing: skip the walk below.
    if getattr(ctx.rule.attr, "srcs", None) == []:
        return []

    # Only a library this target links: a cc_import of a cc_binary's .so owns its linker
    # input but not the file, which the cc_binary uploads with its sources.
    return [
        (loaded, resolved)
        for loaded, resolved in _dynamic_libraries(target)
        if not resolved.is_source and resolved.owner == target.label
    ]

def _dynamic_libraries(target):
    """The shared libraries of the linker inputs `target` owns.

    Args:
      target: a target with `CcInfo`.

    Returns:
      A list of (tuple of the Files a binary's runfiles may hold for one, the File itself).
    """
    libraries = []

    # linker_inputs is transitive; this target's own are those it owns.
    for linker_input in target[compat.CcInfo].linking_context.linker_inputs.to_list():
        if linker_input.owner != target.label:
            continue
        for library in linker_input.libraries:
            dynamic = library.dynamic_library
            if dynamic == None:
                continue
            resolved = library.resolved_symlink_dynamic_library or dynamic
            loaded = (dynamic, resolved) if resolved != dynamic else (dynamic,)
            libraries.append((loaded, resolved))
    return libraries

def _extract_and_upload(ctx, options, tool, srcs, binary, prefix, what, stamped = None):
    """Registers the `DebuginfoExtract` and `DebuginfoUpload` actions of one file.

    Args:
      ctx: the aspect's context.
      options: `DebuginfoOptionsInfo`.
      tool: the toolchain's `DebuginfoToolchainInfo`.
      srcs: struct(files, cgo) of depsets of File (see _own_sources), for the source archive.
      binary: File, the executable or shared library to extract.
      prefix: the directory of the outputs, relative to the package (ends with "/").
      what: what the progress messages name.
      stamped: File or None, `binary` when the aspect stamped it.

    Returns:
      `DebuginfoInfo` (with no libraries).
    """
    record = ctx.actions.declare_file(prefix + "record.json")
    debuginfo = ctx.actions.declare_file(prefix + binary.basename + ".debuginfo")

    args = ctx.actions.args()

    # Flags in a flag file, which a worker needs (see extract_execution_requirements).
    args.use_param_file("--flagfile=%s", use_always = True)
    args.set_param_file_format("multiline")
    args.add(binary)
    args.add("-o", debuginfo)
    args.add("--record", record)

    # Only declared inputs: no separate debug file looked up outside the sandbox.
    args.add("--find-debug-file=false")
    inputs = [binary]
    outputs = [record, debuginfo]
    transitive_inputs = []
    sources = None
    manifest = None
    if options.sources:
        manifest = ctx.actions.declare_file(prefix + "sources.tsv")
        lines = ctx.actions.args()
        lines.set_param_file_format("multiline")
        lines.add_all(srcs.files, map_each = _manifest_line)
        lines.add_all(srcs.cgo, map_each = _cgo_alias_line, format_each = ctx.workspace_name + "/%s")
        lines.add_all(srcs.cgo, map_each = _cgo_base_line)
        ctx.actions.write(manifest, lines)
        sources = ctx.actions.declare_file(prefix + binary.basename + ".sources.tar.zst")
        args.add("--sources-manifest", manifest)
        args.add("--sources-out", sources)
        inputs.append(manifest)
        transitive_inputs.append(srcs.files)
        outputs.append(sources)

    ctx.actions.run(
        mnemonic = "DebuginfoExtract",
        progress_message = "Extracting debuginfo of %s" % what,
        executable = tool.files_to_run,
        arguments = ["extract", args],
        inputs = depset(inputs, transitive = transitive_inputs),
        outputs = outputs,
        execution_requirements = EXTRACT_EXECUTION_REQUIREMENTS,
        **TOOLCHAIN_KWARGS
    )

    files = depset([f for f in [record, debuginfo, sources] if f])
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
        progress_message = "Uploading debuginfo of %s" % what,
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

    return DebuginfoInfo(
        binary = binary,
        record = record,
        debuginfo = debuginfo,
        sources = sources,
        sources_manifest = manifest,
        receipt = receipt,
        files = files,
        stamped = stamped,
        libraries = depset(),
    )

def _collect_libraries(target, ctx, options, srcs):
    """Registers the actions of this target's shared libraries; gathers its dependencies'.

    Here, on the library's owner, the actions are registered once however many binaries
    load the library.

    Args:
      target: the target the aspect visits.
      ctx: the aspect's context.
      options: `DebuginfoOptionsInfo`.
      srcs: struct(files, cgo) of depsets of File, the target's own (see _own_sources), for the source archives.

    Returns:
      `DebuginfoLibrariesInfo.libraries`.
    """
    direct = []
    own = _own_shared_libraries(target, ctx)
    if own:
        tool = ctx.toolchains[TOOLCHAIN_TYPE].debuginfo
        for loaded, library in own:
            # One directory per library: the record names its siblings relative to it.
            prefix = "_debuginfo/%s/%s/" % (target.label.name, library.basename)
            info = _extract_and_upload(
                ctx,
                options,
                tool,
                srcs,
                library,
                prefix,
                "%s (%s)" % (target.label, library.basename),
            )
            direct.append(struct(loaded = loaded, info = info))
    direct.extend(_imported_shared_library(target, ctx))
    transitive = [
        dep[DebuginfoLibrariesInfo].libraries
        for dep in _propagated_deps(ctx)
        if DebuginfoLibrariesInfo in dep
    ]
    return depset(direct, transitive = transitive)

def _imported_shared_library(target, ctx):
    """A `cc_import` of the `.so` a `cc_binary(linkshared = True)` builds: that binary's upload.

    The aspect reaches the `cc_binary` through `shared_library` and registers its actions
    there, as for any binary, with its own sources; a binary that loads the import picks
    them up from here.

    Args:
      target: the target the aspect visits.
      ctx: the aspect's context.

    Returns:
      A list of structs as in `DebuginfoLibrariesInfo.libraries`.
    """
    imported = getattr(ctx.rule.attr, "shared_library", None)
    if type(imported) != "Target" or DebuginfoInfo not in imported or compat.CcInfo not in target:
        return []
    return [
        struct(loaded = loaded, info = imported[DebuginfoInfo])
        for loaded, resolved in _dynamic_libraries(target)
        if resolved.owner == imported.label
    ]

def _loaded_libraries(target, libraries):
    """The libraries of `libraries` that the binary of `target` loads at run time.

    Bazel puts exactly the shared libraries a binary links dynamically into its runfiles
    (none of those it links statically), on Bazel 4.2 as in the Starlark cc rules of
    Bazel 7 and later.

    Args:
      target: a binary the aspect visits.
      libraries: `DebuginfoLibrariesInfo.libraries` of it.

    Returns:
      depset of `DebuginfoInfo`.
    """
    if not libraries:
        return depset()
    by_file = {}
    for library in libraries.to_list():
        for f in library.loaded:
            by_file[f] = library.info

    # By record: a library's symlink and the file it points to may both be there.
    loaded = {}
    for f in target[DefaultInfo].default_runfiles.files.to_list():
        info = by_file.get(f)
        if info != None:
            loaded[info.record] = info
    return depset(loaded.values())

def _debuginfo_aspect_impl(target, ctx):
    options = ctx.attr._options[DebuginfoOptionsInfo]
    own_srcs = _own_sources(target, ctx)
    srcs = _collect_sources(own_srcs, ctx)

    # A cc_library's shared library holds its own objects only: each dependency that
    # has sources links one of its own.
    libraries = _collect_libraries(target, ctx, options, own_srcs)
    providers = [
        DebuginfoSourcesInfo(srcs = srcs.files, cgo_srcs = srcs.cgo),
        DebuginfoLibrariesInfo(libraries = libraries),
    ]
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
    info = _extract_and_upload(ctx, options, tool, srcs, binary, prefix, target.label, stamped)
    loaded = _loaded_libraries(target, libraries)
    files = depset(transitive = [info.files] + [library.files for library in loaded.to_list()])
    group = depset([stamped], transitive = [files]) if stamped else files
    receipts = depset([info.receipt] + [library.receipt for library in loaded.to_list()])

    providers.append(DebuginfoInfo(
        binary = info.binary,
        record = info.record,
        debuginfo = info.debuginfo,
        sources = info.sources,
        sources_manifest = info.sources_manifest,
        receipt = info.receipt,
        files = info.files,
        stamped = stamped,
        libraries = loaded,
    ))
    providers.append(OutputGroupInfo(
        debuginfo = group,
        debuginfo_upload = receipts,
    ))
    return providers

def refuse_token_args(args, where):
    """Fails analysis when `args` hold a token: `--bearer-token`, a header, or a token's shape.

    Upload arguments are in action keys, `bazel aquery` output, param files and logs; the
    message does not repeat the value. A token file or a credential helper is the way.

    Args:
      args: list of string, extra `debuginfo upload` arguments.
      where: what the message names (the build setting or attribute).
    """
    headers = False  # the previous argument was --grpc-headers
    for arg in args:
        low = arg.lower()
        secret = low.endswith("-bearer-token") or "-bearer-token=" in low or "authorization=" in low or "authorization:" in low

        # Every header but projectID may carry a secret (x-api-key, a tenant), as the CLI
        # treats them; and a value shaped like a token is one wherever it is.
        value = arg.split("=", 1)[1] if low.startswith("--grpc-headers=") else (arg if headers else None)
        if value != None:
            for header in value.split(";"):
                if header.strip() and header.split("=", 1)[0].strip().lower() != "projectid":
                    secret = True
        if "psc_v1_" in low or _jwt_shaped(arg) or _hex_run(low) >= 64:
            secret = True
        headers = low == "--grpc-headers"
        if secret:
            fail(("%s must not hold a token or a header other than projectID (--bearer-token, --grpc-headers, " +
                  "or a value shaped like a token): it would be in action keys, aquery output and logs. Use " +
                  "--@rules_debuginfo//rules:bearer_token_file or credential_helper (docs/credentials.md)") % where)

def _hex_run(s):
    """The longest run of hex digits in s (lower case): a service-account token's 64 are its secret."""
    longest = 0
    run = 0
    for c in s.elems():
        run = run + 1 if c in "0123456789abcdef" else 0
        longest = max(longest, run)
    return longest

def _jwt_shaped(s):
    """Whether s holds a signed JWT: three dot-separated parts, the first two starting eyJ."""
    for word in s.replace("=", " ").replace(":", " ").split(" "):
        parts = word.split(".")
        if len(parts) == 3 and parts[0].startswith("eyJ") and parts[1].startswith("eyJ"):
            return True
    return False

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
    if not address.startswith("unix") and [c for c in "@?#".elems() if c in address]:
        # The address is in every upload action's command line, the build's
        # logs and the CLI's messages; the value is not repeated here either.
        fail("the debuginfo store address must not hold a user name or password (user:password@), a query or a fragment: " +
             "give host:port, and the token with --@rules_debuginfo//rules:bearer_token_file or a credential helper (docs/credentials.md)")
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
    refuse_token_args(options.upload_args, "--@rules_debuginfo//rules:upload_args")
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

The Bazel-built shared libraries a binary loads at run time (a `cc_test`, a
`cc_binary(linkstatic = False)`, `--dynamic_mode=fully`: the `.so` files of its runfiles
that a dependency such as a `cc_library` built) get the same two actions, registered on the
library's own target, so each is extracted and uploaded once however many binaries load it;
the binary's output groups include them. Libraries linked statically, prebuilt ones and
system libraries are not uploaded, nor libraries of a target tagged `no-debuginfo-upload`.

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
    provides = [DebuginfoSourcesInfo, DebuginfoLibrariesInfo],
    toolchains = [TOOLCHAIN_TYPE],
)
