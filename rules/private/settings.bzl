"""Build settings of rules_debuginfo and the options rule that gathers them.

Plain `build_setting` rules (no bazel_skylib needed), set on the command line as
`--@rules_debuginfo//rules:<name>=<value>`."""

load(":providers.bzl", "DebuginfoOptionsInfo")

_SettingValueInfo = provider(
    doc = "Internal: the value of one build setting.",
    fields = {"value": "the setting's value"},
)

def _setting_impl(ctx):
    return [_SettingValueInfo(value = ctx.build_setting_value)]

string_setting = rule(
    implementation = _setting_impl,
    doc = "A string command-line flag.",
    build_setting = config.string(flag = True),
)

bool_setting = rule(
    implementation = _setting_impl,
    doc = "A boolean command-line flag.",
    build_setting = config.bool(flag = True),
)

string_list_setting = rule(
    implementation = _setting_impl,
    doc = "A comma-separated list command-line flag.",
    build_setting = config.string_list(flag = True),
)

DEFAULT_KINDS = ["cc_binary", "cc_test", "go_binary", "go_test", "debuginfo_binary"]

def _v(attr):
    return attr[_SettingValueInfo].value

def _options_impl(ctx):
    return [DebuginfoOptionsInfo(
        store_address = _v(ctx.attr.store_address),
        project_id = _v(ctx.attr.project_id),
        credential_helper = _v(ctx.attr.credential_helper),
        bearer_token_file = _v(ctx.attr.bearer_token_file),
        insecure = _v(ctx.attr.insecure),
        sources = _v(ctx.attr.sources),
        dry_run = _v(ctx.attr.dry_run),
        remote_upload = _v(ctx.attr.remote_upload),
        stamp_go = _v(ctx.attr.stamp_go),
        fail_on_shared_build_id = _v(ctx.attr.fail_on_shared_build_id),
        kinds = _v(ctx.attr.kinds),
        upload_args = _v(ctx.attr.upload_args),
    )]

_SETTING_NAMES = [
    "store_address",
    "project_id",
    "credential_helper",
    "bearer_token_file",
    "insecure",
    "sources",
    "dry_run",
    "remote_upload",
    "stamp_go",
    "fail_on_shared_build_id",
    "kinds",
    "upload_args",
]

debuginfo_options = rule(
    implementation = _options_impl,
    doc = "Gathers rules_debuginfo's build settings into one `DebuginfoOptionsInfo` (`//rules:options`).",
    attrs = {
        name: attr.label(
            doc = "The `%s` build setting." % name,
            mandatory = True,
            providers = [_SettingValueInfo],
        )
        for name in _SETTING_NAMES
    },
)
