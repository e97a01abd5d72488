"""Public API of rules_debuginfo: load everything from here.

    load("@rules_debuginfo//rules:defs.bzl", "debuginfo_aspect", "debuginfo_upload")

Everything under `//rules/private` is an implementation detail.
"""

load("//rules/private:aspect.bzl", _debuginfo_aspect = "debuginfo_aspect")
load("//rules/private:binary.bzl", _debuginfo_binary = "debuginfo_binary")
load(
    "//rules/private:providers.bzl",
    _DebuginfoInfo = "DebuginfoInfo",
    _DebuginfoToolchainInfo = "DebuginfoToolchainInfo",
)
load("//rules/private:toolchain.bzl", _debuginfo_toolchain = "debuginfo_toolchain")
load("//rules/private:upload.bzl", _debuginfo_upload = "debuginfo_upload")

debuginfo_aspect = _debuginfo_aspect
debuginfo_upload = _debuginfo_upload
debuginfo_binary = _debuginfo_binary
debuginfo_toolchain = _debuginfo_toolchain
DebuginfoInfo = _DebuginfoInfo
DebuginfoToolchainInfo = _DebuginfoToolchainInfo
