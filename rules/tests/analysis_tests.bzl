"""Starlark unit and analysis tests of rules_debuginfo (bazel_skylib unittest/analysistest)."""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts", "unittest")
load("@bazel_skylib//rules:common_settings.bzl", "BuildSettingInfo")
load("//rules:defs.bzl", "DebuginfoInfo", "debuginfo_aspect")
load("//rules/private:aspect.bzl", "add_upload_flags", "upload_execution_requirements")
load("//rules/private:providers.bzl", "DebuginfoOptionsInfo")
load("//rules/private:settings.bzl", "DEFAULT_KINDS")

# --- unit tests of the pure helpers -------------------------------------------------

def _exec_reqs_test_impl(ctx):
    env = unittest.begin(ctx)
    local = upload_execution_requirements(False)
    asserts.equals(env, "1", local.get("requires-network"))
    asserts.equals(env, "1", local.get("no-remote-cache"))
    asserts.equals(env, "1", local.get("no-remote-exec"))
    asserts.equals(env, "1", local.get("no-sandbox"))
    asserts.equals(env, "1", local.get("supports-workers"), "local uploads go through the persistent worker")
    remote = upload_execution_requirements(True)
    asserts.equals(env, "1", remote.get("requires-network"))
    asserts.equals(env, "1", remote.get("no-remote-cache"))
    asserts.false(env, "no-remote-exec" in remote, "remote uploads may run remotely")
    asserts.false(env, "no-sandbox" in remote)
    asserts.false(env, "supports-workers" in remote, "a remote upload stays a normal spawn")
    return unittest.end(env)

exec_reqs_test = unittest.make(_exec_reqs_test_impl)

def _options(**kwargs):
    values = dict(
        store_address = "",
        project_id = "",
        credential_helper = "",
        bearer_token_file = "",
        insecure = False,
        sources = True,
        dry_run = False,
        remote_upload = False,
        fail_on_shared_build_id = False,
        kinds = [],
        upload_args = [],
    )
    values.update(kwargs)
    return DebuginfoOptionsInfo(**values)

def _upload_flags_test_impl(ctx):
    env = unittest.begin(ctx)
    flags = []
    add_upload_flags(flags, _options())
    asserts.equals(env, ["--include-sources", "--skip-shared-build-id"], flags)

    flags = []
    add_upload_flags(flags, _options(
        store_address = "localhost:7070",
        insecure = True,
        project_id = "p1",
        credential_helper = "/opt/helper",
        bearer_token_file = "/run/secrets/token",
        sources = False,
        dry_run = True,
        fail_on_shared_build_id = True,
        upload_args = ["--timeout=1m"],
    ))
    asserts.equals(env, [
        "--store-address=localhost:7070",
        "--insecure",
        "--project-id=p1",
        "--credential-helper=/opt/helper",
        "--bearer-token-file=/run/secrets/token",
        "--dry-run",
        "--timeout=1m",
    ], flags)

    flags = []
    add_upload_flags(flags, _options(store_address = "a:1", project_id = "p"), "b:2", "q")
    asserts.equals(env, ["--store-address=b:2", "--project-id=q", "--include-sources", "--skip-shared-build-id"], flags)
    return unittest.end(env)

upload_flags_test = unittest.make(_upload_flags_test_impl)

# --- analysis tests -----------------------------------------------------------------

_ProbeInfo = provider(
    doc = "What the probe saw of its dependency.",
    fields = {
        "info": "DebuginfoInfo or None",
        "groups": "list of output group names",
        "files": "dict: output group name -> list of File",
    },
)

def _probe_impl(ctx):
    dep = ctx.attr.dep
    info = dep[DebuginfoInfo] if DebuginfoInfo in dep else None
    groups = [g for g in ["debuginfo", "debuginfo_upload"] if OutputGroupInfo in dep and hasattr(dep[OutputGroupInfo], g)]
    files = {g: getattr(dep[OutputGroupInfo], g).to_list() for g in groups}
    return [_ProbeInfo(info = info, groups = groups, files = files)]

debuginfo_probe = rule(
    implementation = _probe_impl,
    doc = "Applies debuginfo_aspect to `dep` and exposes what it returned.",
    attrs = {"dep": attr.label(aspects = [debuginfo_aspect])},
)

def _basenames(files):
    return sorted([f.basename for f in files])

def _aspect_outputs_test_impl(ctx):
    env = analysistest.begin(ctx)
    probe = analysistest.target_under_test(env)[_ProbeInfo]
    info = probe.info
    asserts.true(env, info != None, "the aspect visited the cc_binary")
    asserts.equals(env, ["debuginfo", "debuginfo_upload"], probe.groups)
    asserts.equals(env, "fixture", info.binary.basename)
    asserts.equals(env, "record.json", info.record.basename)
    asserts.equals(env, "fixture.debuginfo", info.debuginfo.basename)
    asserts.equals(env, "fixture.sources.tar.zst", info.sources.basename)
    asserts.equals(env, "upload.receipt.json", info.receipt.basename)

    # One directory: the record names its siblings relative to itself.
    for f in [info.debuginfo, info.sources, info.sources_manifest, info.receipt]:
        asserts.equals(env, info.record.dirname, f.dirname)
    asserts.equals(env, ["fixture.debuginfo", "fixture.sources.tar.zst", "record.json"], _basenames(info.files.to_list()))

    # Linked statically (cc_binary's default): it loads no library of its deps.
    asserts.equals(env, [], info.libraries.to_list())
    asserts.equals(env, [info.receipt], probe.files["debuginfo_upload"])
    asserts.equals(env, sorted(info.files.to_list()), sorted(probe.files["debuginfo"]))
    return analysistest.end(env)

aspect_outputs_test = analysistest.make(_aspect_outputs_test_impl)

def _libraries_test_impl(ctx):
    env = analysistest.begin(ctx)
    probe = analysistest.target_under_test(env)[_ProbeInfo]
    info = probe.info
    libraries = info.libraries.to_list()
    asserts.equals(env, 1, len(libraries), "fixture_dyn loads libfixture_lib.so: %s" % libraries)
    lib = libraries[0]
    asserts.true(env, lib.binary.basename.startswith("libfixture_lib."), lib.binary.path)
    asserts.false(env, lib.binary.is_source)

    # Registered on the library's own target, in a directory of its own.
    asserts.true(env, "rules/tests/_debuginfo/fixture_lib/%s/record.json" % lib.binary.basename in lib.record.short_path, lib.record.short_path)
    for f in [lib.debuginfo, lib.sources, lib.sources_manifest, lib.receipt]:
        asserts.equals(env, lib.record.dirname, f.dirname)
    asserts.equals(env, [], lib.libraries.to_list())
    asserts.equals(env, None, lib.stamped)

    # The binary's output groups run the library's extract and upload too.
    asserts.equals(env, sorted([info.receipt, lib.receipt]), sorted(probe.files["debuginfo_upload"]))
    asserts.equals(env, sorted(info.files.to_list() + lib.files.to_list()), sorted(probe.files["debuginfo"]))
    return analysistest.end(env)

libraries_test = analysistest.make(_libraries_test_impl)

def _no_libraries_test_impl(ctx):
    env = analysistest.begin(ctx)
    info = analysistest.target_under_test(env)[_ProbeInfo].info
    asserts.true(env, info != None, "the aspect visited the cc_binary")
    asserts.equals(env, [], info.libraries.to_list())
    return analysistest.end(env)

# A dynamically linked binary whose library is tagged no-debuginfo-upload.
no_libraries_test = analysistest.make(_no_libraries_test_impl)

def _no_sources_test_impl(ctx):
    env = analysistest.begin(ctx)
    info = analysistest.target_under_test(env)[_ProbeInfo].info
    asserts.equals(env, None, info.sources)
    asserts.equals(env, None, info.sources_manifest)
    asserts.equals(env, ["fixture.debuginfo", "record.json"], _basenames(info.files.to_list()))
    return analysistest.end(env)

no_sources_test = analysistest.make(
    _no_sources_test_impl,
    config_settings = {"@rules_debuginfo//rules:sources": False},
)

def _not_visited_test_impl(ctx):
    env = analysistest.begin(ctx)
    probe = analysistest.target_under_test(env)[_ProbeInfo]
    asserts.equals(env, None, probe.info)
    asserts.equals(env, [], probe.groups)
    return analysistest.end(env)

# Used for the opt-out tag and for a kind that is not in --kinds.
not_visited_test = analysistest.make(_not_visited_test_impl)

not_visited_kind_test = analysistest.make(
    _not_visited_test_impl,
    config_settings = {"@rules_debuginfo//rules:kinds": ["go_binary"]},
)

def _opt_out_upload_fails_test_impl(ctx):
    env = analysistest.begin(ctx)
    asserts.expect_failure(env, "debuginfo_aspect did not visit it")
    return analysistest.end(env)

opt_out_upload_fails_test = analysistest.make(_opt_out_upload_fails_test_impl, expect_failure = True)

def _address_with_password_fails_test_impl(ctx):
    env = analysistest.begin(ctx)
    asserts.expect_failure(env, "must not hold a user name or password")
    return analysistest.end(env)

# A user:password@ address would be in every upload action's key and in logs.
address_with_password_fails_test = analysistest.make(_address_with_password_fails_test_impl, expect_failure = True)

def _upload_args_with_token_fails_test_impl(ctx):
    env = analysistest.begin(ctx)
    asserts.expect_failure(env, "must not hold a token")
    return analysistest.end(env)

# A token in upload_args would be in the launcher, action keys and aquery output.
upload_args_with_token_fails_test = analysistest.make(_upload_args_with_token_fails_test_impl, expect_failure = True)

def _upload_launcher_test_impl(ctx):
    env = analysistest.begin(ctx)
    target = analysistest.target_under_test(env)
    actions = [a for a in analysistest.target_actions(env) if a.mnemonic == "TemplateExpand"]
    asserts.equals(env, 1, len(actions))
    subs = actions[0].substitutions
    asserts.true(env, "rules/tests/_debuginfo/fixture/record.json" in subs["%RECORDS%"], subs["%RECORDS%"])
    flags = subs["%FLAGS%"]
    for want in ["'--store-address=localhost:7070'", "'--insecure'", "'--project-id=p1'", "'--dry-run'", "'--include-sources'", "'--verbose'"]:
        asserts.true(env, want in flags, "%s not in %s" % (want, flags))
    runfiles = [f.basename for f in target[DefaultInfo].default_runfiles.files.to_list()]
    for want in ["record.json", "fixture.debuginfo", "fixture.sources.tar.zst"]:
        asserts.true(env, want in runfiles, "%s not in runfiles %s" % (want, runfiles))
    return analysistest.end(env)

def _upload_launcher_libraries_test_impl(ctx):
    env = analysistest.begin(ctx)
    target = analysistest.target_under_test(env)
    actions = [a for a in analysistest.target_actions(env) if a.mnemonic == "TemplateExpand"]
    records = actions[0].substitutions["%RECORDS%"].split(" ")
    for want in ["fixture_dyn/record.json", "fixture_dyn2/record.json"]:
        asserts.equals(env, 1, len([r for r in records if r.endswith("/_debuginfo/" + want + "'")]), "%s in %s" % (want, records))

    # Both binaries load the library: its record is uploaded once.
    lib = [r for r in records if "/_debuginfo/fixture_lib/" in r]
    asserts.equals(env, 1, len(lib), str(records))
    asserts.equals(env, 3, len(records), str(records))
    runfiles = [f.short_path for f in target[DefaultInfo].default_runfiles.files.to_list()]
    asserts.equals(env, 1, len([f for f in runfiles if "/_debuginfo/fixture_lib/" in f and f.endswith(".debuginfo")]), str(runfiles))
    return analysistest.end(env)

upload_launcher_libraries_test = analysistest.make(_upload_launcher_libraries_test_impl)

upload_launcher_test = analysistest.make(
    _upload_launcher_test_impl,
    config_settings = {
        "@rules_debuginfo//rules:dry_run": True,
        "@rules_debuginfo//rules:insecure": True,
        "@rules_debuginfo//rules:project_id": "p1",
    },
)

def _stamp_test_impl(ctx):
    env = analysistest.begin(ctx)
    actions = [a for a in analysistest.target_actions(env) if a.mnemonic == "DebuginfoStamp"]
    asserts.equals(env, 1, len(actions))
    argv = actions[0].argv
    asserts.true(env, "stamp" in argv, str(argv))
    asserts.equals(env, "-o", argv[-2])
    asserts.equals(env, "fixture_stamped", argv[-1].split("/")[-1])
    return analysistest.end(env)

stamp_test = analysistest.make(_stamp_test_impl)

# --- the build settings are skylib flags that anyone can read ---------------------

def _settings_test_impl(ctx):
    env = analysistest.begin(ctx)
    target = analysistest.target_under_test(env)
    asserts.equals(env, "grpc.example.com:443", target[BuildSettingInfo].value)

    # The test's own attributes are not transitioned: the defaults.
    for setting, want in [
        (ctx.attr.insecure, False),
        (ctx.attr.kinds, DEFAULT_KINDS),
        (ctx.attr.sources, True),
    ]:
        asserts.equals(env, want, setting[BuildSettingInfo].value, str(setting.label))
    return analysistest.end(env)

settings_test = analysistest.make(
    _settings_test_impl,
    attrs = {
        "insecure": attr.label(default = "//rules:insecure"),
        "kinds": attr.label(default = "//rules:kinds"),
        "sources": attr.label(default = "//rules:sources"),
    },
    config_settings = {"@rules_debuginfo//rules:store_address": "grpc.example.com:443"},
)

def analysis_test_suite(name):
    """Declares every test of this file, and a test_suite `name` of them.

    Args:
      name: name of the test_suite.
    """
    unittest.suite(
        name + "_unit",
        exec_reqs_test,
        upload_flags_test,
    )
    aspect_outputs_test(name = "aspect_outputs_test", target_under_test = ":probe_fixture")
    libraries_test(name = "libraries_test", target_under_test = ":probe_fixture_dyn")
    no_libraries_test(name = "library_opt_out_tag_test", target_under_test = ":probe_fixture_dyn_private")
    upload_launcher_libraries_test(name = "upload_launcher_libraries_test", target_under_test = ":upload_fixture_dyn")
    no_sources_test(name = "no_sources_test", target_under_test = ":probe_fixture")
    not_visited_test(name = "opt_out_tag_test", target_under_test = ":probe_opted_out")
    not_visited_kind_test(name = "kinds_flag_test", target_under_test = ":probe_fixture")
    opt_out_upload_fails_test(name = "opt_out_upload_fails_test", target_under_test = ":upload_opted_out")
    address_with_password_fails_test(name = "address_with_password_fails_test", target_under_test = ":upload_address_with_password")
    upload_args_with_token_fails_test(name = "upload_args_with_token_fails_test", target_under_test = ":upload_args_with_token")
    upload_args_with_token_fails_test(name = "upload_args_with_header_fails_test", target_under_test = ":upload_args_with_header")
    upload_args_with_token_fails_test(name = "upload_args_with_hex_token_fails_test", target_under_test = ":upload_args_with_hex_token")
    upload_launcher_test(name = "upload_launcher_test", target_under_test = ":upload_fixture")
    stamp_test(name = "stamp_test", target_under_test = ":fixture_stamped")
    settings_test(name = "settings_test", target_under_test = "//rules:store_address")
    native.test_suite(
        name = name,
        tests = [
            name + "_unit",
            ":aspect_outputs_test",
            ":libraries_test",
            ":library_opt_out_tag_test",
            ":upload_launcher_libraries_test",
            ":no_sources_test",
            ":opt_out_tag_test",
            ":kinds_flag_test",
            ":opt_out_upload_fails_test",
            ":address_with_password_fails_test",
            ":upload_args_with_token_fails_test",
            ":upload_args_with_header_fails_test",
            ":upload_args_with_hex_token_fails_test",
            ":upload_launcher_test",
            ":stamp_test",
            ":settings_test",
        ],
    )
