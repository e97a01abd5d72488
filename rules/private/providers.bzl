"""Providers of rules_debuginfo."""

DebuginfoInfo = provider(
    doc = """What `debuginfo_aspect` produced for one binary target.

Returned by the aspect on every target it visits (binaries of the kinds it is
configured for, without the `no-debuginfo-upload` tag). All files live in one
directory, `<package>/_debuginfo/<target name>/`, because the record names its
siblings relative to its own directory.""",
    fields = {
        "binary": "File: the executable the aspect read: the target's executable, or `stamped`.",
        "stamped": "File or None: with `--@rules_debuginfo//rules:stamp_go`, the Go executable with a " +
                   "content-derived GNU build ID (`debuginfo stamp`). The store holds its debuginfo " +
                   "under that ID, so this is the file to deploy.",
        "record": "File: the JSON record written by `debuginfo extract` " +
                  "(`{version, binary, build_id, build_id_type, debuginfo, sources}`). " +
                  "`debuginfo upload --record` uploads from it without reading the binary again.",
        "debuginfo": "File: the debug-only ELF file extracted from `binary`.",
        "sources": "File or None: the source archive (tar + zstd) built from `sources_manifest`; " +
                   "None when sources are turned off (`--@rules_debuginfo//rules:sources=false`).",
        "sources_manifest": "File or None: the manifest (`archive-name<TAB>path` lines) of every " +
                            "source and header Bazel knows for the binary, transitively.",
        "receipt": "File: the JSON result lines of the upload action (only built with the " +
                   "`debuginfo_upload` output group).",
        "files": "depset of File: `record`, `debuginfo` and `sources`: what an upload needs.",
        "libraries": "depset of DebuginfoInfo: one per Bazel-built shared library that `binary` " +
                     "loads at run time (the `.so` files of its runfiles that a `cc_library` among its " +
                     "dependencies built: a `cc_test`, `linkstatic = False`, `--dynamic_mode=fully`). " +
                     "Each library is extracted and uploaded once per build, by the aspect on the " +
                     "library's own target, in `<package>/_debuginfo/<target name>/<library>/`; its " +
                     "`binary` is the library file, its `libraries` is empty. Empty for a binary that " +
                     "links its libraries statically.",
    },
)

DebuginfoLibrariesInfo = provider(
    doc = """Internal: the Bazel-built shared libraries that `debuginfo_aspect` reached so far.""",
    fields = {
        "libraries": "depset of struct(loaded = tuple of File, info = DebuginfoInfo): the shared libraries " +
                     "of this target and its dependencies (the aspect registered their extract and " +
                     "upload actions on their owners). `loaded`: the files a binary's runfiles may " +
                     "hold for it (the `_solib_<cpu>` symlink Bazel links against, and the file it " +
                     "points to).",
    },
)

DebuginfoSourcesInfo = provider(
    doc = """Internal: the source files collected so far by `debuginfo_aspect`.""",
    fields = {
        "srcs": "depset of File: sources and headers of this target and its dependencies.",
        "cgo_srcs": "depset of File: the Go files among `srcs` of rules_go targets with cgo.",
    },
)

DebuginfoOptionsInfo = provider(
    doc = """Internal: the values of rules_debuginfo's build settings, gathered by `//rules:options`.
Not part of the public API: read a setting itself through skylib's `BuildSettingInfo`.""",
    fields = {
        "store_address": "string: `host:port` of the store, or `file:///abs/dir`; empty for the tool's default.",
        "project_id": "string: Polar Signals project ID (sent as the `projectID` header); may be empty.",
        "credential_helper": "string: path of a Bazel-protocol credential helper the tool runs; may be empty.",
        "bearer_token_file": "string: path of a file holding the bearer token; may be empty.",
        "insecure": "bool: plaintext gRPC (no TLS), for a local Parca server.",
        "sources": "bool: build and upload source archives.",
        "dry_run": "bool: the upload action reports what it would upload and uploads nothing.",
        "remote_upload": "bool: let the upload action run on a remote executor (it is local otherwise).",
        "stamp_go": "bool: stamp go_binary/go_test outputs with a content-derived GNU build ID before extraction.",
        "fail_on_shared_build_id": "bool: a binary whose build ID is shared (rules_go's `-buildid=redacted`, " +
                                   "or two different files) fails the upload instead of being skipped with a warning.",
        "kinds": "list of string: rule kinds the aspect visits.",
        "upload_args": "list of string: extra arguments for `debuginfo upload` (never secrets).",
    },
)

DebuginfoToolchainInfo = provider(
    doc = """What the `@rules_debuginfo//rules:toolchain_type` toolchain carries.""",
    fields = {
        "tool": "File: the `debuginfo` executable.",
        "files_to_run": "FilesToRunProvider: the same, with its runfiles, for `ctx.actions.run`.",
    },
)
