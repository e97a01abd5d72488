"""The rule that gathers rules_debuginfo's build settings for the aspect and the rules.

The settings themselves are bazel_skylib `common_settings` flags (`//rules:BUILD.bazel`), so
users and other rules can read them through `BuildSettingInfo`; set them on the command line
as `--@rules_debuginfo//rules:<name>=<value>`."""

load("@bazel_skylib//rules:common_settings.bzl", "BuildSettingInfo")
load(":providers.bzl", "DebuginfoOptionsInfo")

# go_test is not visited by default: tests are not shipped, and with Go >= 1.24 every go_test
# carries rules_go's shared -buildid=redacted GNU build ID. `kinds` can add it back.
DEFAULT_KINDS = ["cc_binary", "cc_test", "go_binary", "debuginfo_binary"]

# Every setting, in the order of DebuginfoOptionsInfo's fields.
SETTING_NAMES = [
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

def _options_impl(ctx):
    values = {name: getattr(ctx.attr, name)[BuildSettingInfo].value for name in SETTING_NAMES}
    return [DebuginfoOptionsInfo(**values)]

debuginfo_options = rule(
    implementation = _options_impl,
    doc = "Internal: gathers the build settings into one `DebuginfoOptionsInfo` (`//rules:options`).",
    attrs = {
        name: attr.label(
            doc = "The `%s` build setting." % name,
            mandatory = True,
            providers = [BuildSettingInfo],
        )
        for name in SETTING_NAMES
    },
)
