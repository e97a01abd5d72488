# Debuginfo.cmake: upload the debuginfo (and sources) of the executables and
# shared libraries a CMake project links to a Parca-compatible store (Parca,
# Polar Signals Cloud) with rules_debuginfo's `debuginfo` CLI. CMake >= 3.16.
#
#   list(APPEND CMAKE_MODULE_PATH path/to/rules_debuginfo/tools/cmake)
#   include(Debuginfo)
#   add_subdirectory(src)
#   debuginfo_upload_all()              # every executable and shared library of the tree,
#                                       # one batched upload at the end of each build
#   debuginfo_upload(TARGET app)        # or: upload one target right after its link
#
# Settings are cache variables named like the Make include's (docs/cmake.md).
# Credentials come from the environment at build time (POLARSIGNALS_TOKEN or
# PARCA_DEBUGINFO_BEARER_TOKEN, DEBUGINFO_TOKEN_FILE, DEBUGINFO_CREDENTIAL_HELPER),
# never from CMake variables: nothing secret reaches CMakeCache.txt or the build files.

include_guard(GLOBAL)
cmake_minimum_required(VERSION 3.16)

set(_debuginfo_module_dir "${CMAKE_CURRENT_LIST_DIR}")
include("${CMAKE_CURRENT_LIST_DIR}/DebuginfoFlags.cmake")

# ---------------------------------------------------------------- settings

set(DEBUGINFO_STORE_ADDRESS "grpc.polarsignals.com:443" CACHE STRING
  "host:port of the debuginfo store (TLS unless --insecure is in DEBUGINFO_FLAGS), or file:///abs/dir")
set(DEBUGINFO_PROJECT_ID "" CACHE STRING
  "Polar Signals project ID (the projectID header); empty: env POLARSIGNALS_PROJECT_ID at build time")
option(DEBUGINFO_SOURCES "also upload source archives built from the DWARF line tables" ON)
# A project may set it as a plain variable before the include; read it before
# the cache entry exists (CMake < 3.21 drops the plain variable then).
if(DEFINED DEBUGINFO_SOURCE_ROOTS)
  set(_debuginfo_roots "${DEBUGINFO_SOURCE_ROOTS}")
else()
  set(_debuginfo_roots "${CMAKE_SOURCE_DIR}")
endif()
set(DEBUGINFO_SOURCE_ROOTS "${CMAKE_SOURCE_DIR}" CACHE STRING
  "directories whose files may go into source archives (a ;-list, relative ones from the top-level source directory)")
# AUTO is decided when the build runs, like the Make include: ON when the
# build's environment has CI=true.
set(DEBUGINFO_REQUIRED "AUTO" CACHE STRING
  "fail the build when a binary cannot be uploaded: ON, OFF, or AUTO (ON when the build runs with CI=true)")
set_property(CACHE DEBUGINFO_REQUIRED PROPERTY STRINGS AUTO ON OFF)
set(DEBUGINFO_AUTH "auto" CACHE STRING
  "auto: upload only when credentials are configured (or the store is file://); none: the store needs none")
set_property(CACHE DEBUGINFO_AUTH PROPERTY STRINGS auto none)
set(DEBUGINFO_FLAGS "" CACHE STRING "more `debuginfo upload` flags (a ;-list), e.g. --insecure;-j;8")
set(DEBUGINFO "" CACHE FILEPATH "the debuginfo uploader; empty: debuginfo on PATH, else built from this repository")
set(DEBUGINFO_STAMP_DIR "${CMAKE_BINARY_DIR}/debuginfo" CACHE PATH "stamps (the build ID last uploaded) and receipts")
set(DEBUGINFO_CACHE_DIR "" CACHE PATH "where the uploader is built from source; empty: XDG_CACHE_HOME or ~/.cache")

# A token in a CMake variable would be written into CMakeCache.txt and the build
# files: refuse it, drop it from the cache, and never print its value.
foreach(_v POLARSIGNALS_TOKEN PARCA_DEBUGINFO_BEARER_TOKEN DEBUGINFO_TOKEN DEBUGINFO_BEARER_TOKEN)
  if(DEFINED ${_v} OR DEFINED CACHE{${_v}})
    unset(${_v} CACHE)
    unset(${_v})
    message(FATAL_ERROR "debuginfo: ${_v} was given as a CMake variable; it would be stored in "
      "CMakeCache.txt and the build files. Export it in the environment of the build instead "
      "(export ${_v}=...; in CI: a secret), or use DEBUGINFO_TOKEN_FILE or a credential helper.")
  endif()
endforeach()
# The same for a token in DEBUGINFO_FLAGS in any spelling: --bearer-token (one
# or two dashes, =VALUE or a separate element, any case) or an authorization
# header given with --grpc-headers (name=value or the HTTP form).
foreach(_f IN LISTS DEBUGINFO_FLAGS)
  string(TOLOWER "${_f}" _lf)
  if(_lf MATCHES "-bearer-token(=|$)" OR _lf MATCHES "authorization[=:]")
    unset(_f)
    unset(_lf)
    set(DEBUGINFO_FLAGS "" CACHE STRING "" FORCE)
    message(FATAL_ERROR "debuginfo: a token in DEBUGINFO_FLAGS (--bearer-token, or an authorization header "
      "in --grpc-headers) would be stored in CMakeCache.txt "
      "and the build files; export POLARSIGNALS_TOKEN instead, or use --bearer-token-file / --credential-helper.")
  endif()
endforeach()
# A user name or password in the store address (or a secret in a query or
# fragment) would be stored in the cache and shown in build logs and stamp
# directory names: refused, never echoed.
_debuginfo_flag_values(_debuginfo_addresses "${DEBUGINFO_FLAGS}" store-address)
list(INSERT _debuginfo_addresses 0 "${DEBUGINFO_STORE_ADDRESS}")
foreach(_a IN LISTS _debuginfo_addresses)
  if(_a MATCHES "[@?#]" AND NOT _a MATCHES "^unix")
    unset(_a)
    set(DEBUGINFO_STORE_ADDRESS "grpc.polarsignals.com:443" CACHE STRING "" FORCE)
    set(DEBUGINFO_FLAGS "" CACHE STRING "" FORCE)
    message(FATAL_ERROR "debuginfo: the store address must not hold a user name or password (user:password@), "
      "a query or a fragment; "
      "it would be stored in CMakeCache.txt and shown in logs. Give host:port, and the token in the "
      "environment, DEBUGINFO_TOKEN_FILE or a credential helper.")
  endif()
endforeach()
unset(_debuginfo_addresses)
if(NOT DEBUGINFO_AUTH MATCHES "^(auto|none)$")
  message(FATAL_ERROR "debuginfo: DEBUGINFO_AUTH must be auto or none, not \"${DEBUGINFO_AUTH}\"")
endif()
# AUTO in any case, or a CMake boolean; anything else is a typo, not ON.
string(TOUPPER "${DEBUGINFO_REQUIRED}" _debuginfo_required)
if(_debuginfo_required STREQUAL "AUTO")
  set(_debuginfo_required AUTO)
elseif(_debuginfo_required MATCHES "^(ON|YES|Y|TRUE|1)$")
  set(_debuginfo_required ON)
elseif(_debuginfo_required MATCHES "^(OFF|NO|N|FALSE|0)$")
  set(_debuginfo_required OFF)
else()
  message(FATAL_ERROR "debuginfo: DEBUGINFO_REQUIRED must be AUTO, ON or OFF, not \"${DEBUGINFO_REQUIRED}\"")
endif()

# Debug information is what makes an upload useful: warn when a configuration
# compiles without -g. Checked when the configure step has read everything
# (CMAKE_BUILD_TYPE may be set after the include), once.
function(_debuginfo_check_g)
  get_property(done GLOBAL PROPERTY _DEBUGINFO_G_CHECKED)
  if(done)
    return()
  endif()
  set_property(GLOBAL PROPERTY _DEBUGINFO_G_CHECKED ON)
  get_property(langs GLOBAL PROPERTY ENABLED_LANGUAGES)
  list(FILTER langs INCLUDE REGEX "^(C|CXX)$")
  get_property(multi GLOBAL PROPERTY GENERATOR_IS_MULTI_CONFIG)
  if(multi)
    set(configs ${CMAKE_CONFIGURATION_TYPES})
  else()
    set(configs "${CMAKE_BUILD_TYPE}")
  endif()
  set(bad "")
  foreach(c IN LISTS configs)
    string(TOUPPER "${c}" uc)
    foreach(l IN LISTS langs)
      set(flags " ${CMAKE_${l}_FLAGS} ")
      if(NOT uc STREQUAL "")
        string(APPEND flags "${CMAKE_${l}_FLAGS_${uc}} ")
      endif()
      if(NOT flags MATCHES " -g([1-3]|gdb[1-3]?|dwarf[-0-9]*)? ")
        list(APPEND bad "${c}")
        break()
      endif()
    endforeach()
  endforeach()
  if(NOT bad)
    return()
  endif()
  if(multi)
    string(REPLACE ";" ", " bad "${bad}")
    set(what "the configurations ${bad} compile")
  else()
    set(what "CMAKE_BUILD_TYPE is \"${CMAKE_BUILD_TYPE}\", which compiles")
  endif()
  message(WARNING "debuginfo: ${what} without -g: their uploads will have symbols only "
    "(no file:line, no sources). Use RelWithDebInfo (or Debug), or add -g to CMAKE_C_FLAGS/CMAKE_CXX_FLAGS.")
endfunction()
if(CMAKE_VERSION VERSION_GREATER_EQUAL 3.19)
  cmake_language(DEFER DIRECTORY "${CMAKE_SOURCE_DIR}" CALL _debuginfo_check_g)
endif()

# ---------------------------------------------------------------- the uploader

# Sets out to the uploader and from to where it came from (DEBUGINFO, PATH or
# source); out is empty when there is none, which is an error only when uploads
# are required: a local build that would not upload must still configure.
function(_debuginfo_find_tool out from)
  set(${from} "" PARENT_SCOPE)
  if(DEBUGINFO)
    set(${out} "${DEBUGINFO}" PARENT_SCOPE)
    set(${from} DEBUGINFO PARENT_SCOPE)
    return()
  endif()
  # A cached PATH lookup is checked again: the uploader may have gone.
  if(DEBUGINFO_ON_PATH AND NOT EXISTS "${DEBUGINFO_ON_PATH}")
    message(STATUS "debuginfo: ${DEBUGINFO_ON_PATH} (found on PATH before) is gone; looking again")
    unset(DEBUGINFO_ON_PATH CACHE)
  endif()
  find_program(DEBUGINFO_ON_PATH debuginfo)
  if(DEBUGINFO_ON_PATH)
    set(${out} "${DEBUGINFO_ON_PATH}" PARENT_SCOPE)
    set(${from} PATH PARENT_SCOPE)
    return()
  endif()
  # Built from the repository this module lives in, once per version of its sources.
  get_filename_component(repo "${_debuginfo_module_dir}/../.." ABSOLUTE)
  find_program(DEBUGINFO_GO go)
  if(NOT EXISTS "${repo}/go.mod" OR NOT DEBUGINFO_GO)
    _debuginfo_no_tool("no uploader: set -DDEBUGINFO=/path/to/debuginfo, put debuginfo on PATH, "
      "or install Go so that it can be built from ${repo}")
    set(${out} "" PARENT_SCOPE)
    return()
  endif()
  file(GLOB_RECURSE srcs RELATIVE "${repo}" "${repo}/uploader/*.go")
  list(FILTER srcs EXCLUDE REGEX "_test\\.go$")
  list(SORT srcs)
  set(all "")
  foreach(s IN LISTS srcs ITEMS go.mod go.sum)
    file(SHA256 "${repo}/${s}" h)
    string(APPEND all "${s} ${h}\n")
  endforeach()
  string(SHA256 key "${all}")
  string(SUBSTRING "${key}" 0 16 key)
  set(dir "${DEBUGINFO_CACHE_DIR}")
  if(NOT dir)
    if(DEFINED ENV{XDG_CACHE_HOME} AND NOT "$ENV{XDG_CACHE_HOME}" STREQUAL "")
      set(dir "$ENV{XDG_CACHE_HOME}/rules_debuginfo/cmake")
    else()
      set(dir "$ENV{HOME}/.cache/rules_debuginfo/cmake")
    endif()
  endif()
  set(bin "${dir}/debuginfo-${key}")
  if(NOT EXISTS "${bin}")
    message(STATUS "debuginfo: building the uploader into ${dir}")
    file(MAKE_DIRECTORY "${dir}")
    string(RANDOM LENGTH 8 tmp)
    execute_process(COMMAND "${DEBUGINFO_GO}" build -o "${bin}.${tmp}" ./uploader/cmd/debuginfo
      WORKING_DIRECTORY "${repo}" RESULT_VARIABLE rc ERROR_VARIABLE err)
    if(NOT rc EQUAL 0)
      file(REMOVE "${bin}.${tmp}")
      _debuginfo_no_tool("building the uploader with ${DEBUGINFO_GO} failed:\n${err}")
      set(${out} "" PARENT_SCOPE)
      return()
    endif()
    file(RENAME "${bin}.${tmp}" "${bin}")
  endif()
  set(${out} "${bin}" PARENT_SCOPE)
  set(${from} source PARENT_SCOPE)
endfunction()
# No uploader: fatal when uploads are required (ON, or AUTO under CI=true at
# configure time), else one warning; the build then uploads nothing.
function(_debuginfo_no_tool)
  string(CONCAT msg "debuginfo: " ${ARGN})
  if(_debuginfo_required STREQUAL "ON" OR (_debuginfo_required STREQUAL "AUTO" AND "$ENV{CI}" MATCHES "^(true|TRUE|True|1|yes)$"))
    message(FATAL_ERROR "${msg} (DEBUGINFO_REQUIRED is ON)")
  endif()
  message(WARNING "${msg}. Nothing will be uploaded (DEBUGINFO_REQUIRED is OFF).")
endfunction()
_debuginfo_find_tool(_debuginfo_tool _debuginfo_tool_from)

# The arguments every upload step passes to Upload.cmake (no secrets: those are
# read from the environment when the step runs).
set(_debuginfo_script_args
  "-DDEBUGINFO=${_debuginfo_tool}"
  "-DDEBUGINFO_FROM=${_debuginfo_tool_from}"
  "-DDEBUGINFO_STORE_ADDRESS=${DEBUGINFO_STORE_ADDRESS}"
  "-DDEBUGINFO_PROJECT_ID=${DEBUGINFO_PROJECT_ID}"
  "-DDEBUGINFO_SOURCES=${DEBUGINFO_SOURCES}"
  "-DDEBUGINFO_ROOTS_FILE=${CMAKE_BINARY_DIR}/debuginfo-targets/source-roots.cmake"
  "-DDEBUGINFO_BINARY_DIR=${CMAKE_BINARY_DIR}"
  "-DDEBUGINFO_REQUIRED=${_debuginfo_required}"
  "-DDEBUGINFO_AUTH=${DEBUGINFO_AUTH}"
  "-DDEBUGINFO_STAMP_DIR=${DEBUGINFO_STAMP_DIR}")
string(REPLACE ";" "\\;" _debuginfo_flags_arg "${DEBUGINFO_FLAGS}")
list(APPEND _debuginfo_script_args "-DDEBUGINFO_FLAGS=${_debuginfo_flags_arg}")

# ---------------------------------------------------------------- the batched target

# `debuginfo-upload` uploads every registered target whose build ID differs from
# its stamp, in one parallel run. The list of files is written at generate time
# (so $<TARGET_FILE> is right for each configuration).
add_custom_target(debuginfo-upload
  COMMAND "${CMAKE_COMMAND}" ${_debuginfo_script_args}
  "-DDEBUGINFO_LIST=${CMAKE_BINARY_DIR}/debuginfo-targets/$<CONFIG>.txt"
  "-DDEBUGINFO_SOURCES_LIST=${CMAKE_BINARY_DIR}/debuginfo-targets/$<CONFIG>.sources.txt"
  -P "${_debuginfo_module_dir}/Upload.cmake"
  COMMENT "debuginfo: the upload step"
  VERBATIM)
file(GENERATE OUTPUT "${CMAKE_BINARY_DIR}/debuginfo-targets/$<CONFIG>.txt"
  CONTENT "$<JOIN:$<GENEX_EVAL:$<TARGET_PROPERTY:debuginfo-upload,DEBUGINFO_FILES>>,\n>\n")
# "ON path" or "OFF path": the targets whose debuginfo_upload(TARGET t SOURCES)
# decides their sources, so that the batched step sends what their POST_BUILD
# step would.
file(GENERATE OUTPUT "${CMAKE_BINARY_DIR}/debuginfo-targets/$<CONFIG>.sources.txt"
  CONTENT "$<JOIN:$<GENEX_EVAL:$<TARGET_PROPERTY:debuginfo-upload,DEBUGINFO_SOURCES_FILES>>,\n>\n")

# ---------------------------------------------------------------- source roots

# Only files under a source root go into source archives (docs/sources.md):
# DEBUGINFO_SOURCE_ROOTS, the SOURCE_ROOTS of debuginfo_upload() and
# debuginfo_upload_all(), and the build directory (generated sources). Every upload
# step reads them from one generated file, with the root to suggest when the
# targets compile files outside them.
function(_debuginfo_add_roots base)
  foreach(r IN LISTS ARGN)
    get_filename_component(abs "${r}" ABSOLUTE BASE_DIR "${base}")
    if(NOT IS_DIRECTORY "${abs}")
      message(FATAL_ERROR "debuginfo: the source root ${r} (${abs}) is not a directory (DEBUGINFO_SOURCE_ROOTS, SOURCE_ROOTS)")
    endif()
    get_filename_component(real "${abs}" REALPATH)
    if(real STREQUAL "/")
      message(FATAL_ERROR "debuginfo: the source root ${r} would admit every file on the machine into source archives: "
        "name the directory that holds your sources (DEBUGINFO_SOURCE_ROOTS, SOURCE_ROOTS)")
    endif()
    get_property(roots TARGET debuginfo-upload PROPERTY DEBUGINFO_SOURCE_ROOTS)
    if(NOT abs IN_LIST roots)
      set_property(TARGET debuginfo-upload APPEND PROPERTY DEBUGINFO_SOURCE_ROOTS "${abs}")
    endif()
  endforeach()
endfunction()
_debuginfo_add_roots("${CMAKE_SOURCE_DIR}" ${_debuginfo_roots})
file(GENERATE OUTPUT "${CMAKE_BINARY_DIR}/debuginfo-targets/source-roots.cmake"
  CONTENT "set(DEBUGINFO_ROOTS [==[$<TARGET_PROPERTY:debuginfo-upload,DEBUGINFO_SOURCE_ROOTS>]==])
set(DEBUGINFO_ROOT_HINT [==[$<TARGET_PROPERTY:debuginfo-upload,DEBUGINFO_ROOT_HINT>]==])
")

# Sets out to ON when path is (or is under) one of the directories given after it.
function(_debuginfo_under out path)
  set(${out} OFF PARENT_SCOPE)
  foreach(r IN LISTS ARGN)
    string(REGEX REPLACE "/$" "" r "${r}")
    string(LENGTH "${r}/" n)
    string(SUBSTRING "${path}/" 0 ${n} head)
    if(head STREQUAL "${r}/")
      set(${out} ON PARENT_SCOPE)
      return()
    endif()
  endforeach()
endfunction()

# Sets out to the deepest directory that holds the directory start and every
# path given after it.
function(_debuginfo_common_dir out start)
  set(common "${start}")
  foreach(f IN LISTS ARGN)
    _debuginfo_under(in "${f}" "${common}")
    while(NOT in AND NOT common STREQUAL "/")
      get_filename_component(common "${common}" DIRECTORY)
      _debuginfo_under(in "${f}" "${common}")
    endwhile()
  endforeach()
  set(${out} "${common}" PARENT_SCOPE)
endfunction()

# Warns (once per configure) when the registered targets compile source files
# outside every source root (and outside the build tree, which holds
# generated files): a top-level CMakeLists.txt that is not the top of the
# sources (zstd's build/cmake, with ../../lib). Their archives would leave
# them out; the warning names the roots and the one to add.
function(_debuginfo_check_roots)
  get_property(targets TARGET debuginfo-upload PROPERTY DEBUGINFO_TARGETS)
  get_property(checked GLOBAL PROPERTY _DEBUGINFO_ROOTS_CHECKED)
  get_property(roots TARGET debuginfo-upload PROPERTY DEBUGINFO_SOURCE_ROOTS)
  # --source-root and the NEW side of --prefix-map in DEBUGINFO_FLAGS are roots too.
  _debuginfo_flag_values(flag_roots "${DEBUGINFO_FLAGS}" source-root)
  _debuginfo_flag_values(maps "${DEBUGINFO_FLAGS}" prefix-map)
  foreach(m IN LISTS maps)
    if(m MATCHES "=(.+)$")
      list(APPEND flag_roots "${CMAKE_MATCH_1}")
    endif()
  endforeach()
  set(real_roots "")
  foreach(r IN LISTS roots flag_roots)
    get_filename_component(real "${r}" REALPATH)
    list(APPEND real_roots "${real}")
  endforeach()
  get_filename_component(bin "${CMAKE_BINARY_DIR}" REALPATH)
  set(outside "")
  foreach(t IN LISTS targets)
    if(t IN_LIST checked)
      continue()
    endif()
    set_property(GLOBAL APPEND PROPERTY _DEBUGINFO_ROOTS_CHECKED ${t})
    set(sources "${DEBUGINFO_SOURCES}")
    get_property(own TARGET ${t} PROPERTY _DEBUGINFO_SOURCES SET)
    if(own)
      get_target_property(sources ${t} _DEBUGINFO_SOURCES)
    endif()
    if(NOT sources)
      continue()
    endif()
    get_target_property(srcs ${t} SOURCES)
    get_target_property(dir ${t} SOURCE_DIR)
    foreach(s IN LISTS srcs)
      if(s MATCHES "[$]<" OR NOT s MATCHES "[.](c|cc|cp|cpp|cxx|c[+][+]|C|m|mm|h|hh|hpp|hxx|h[+][+]|inl|ipp|tcc|s|S|cu)$")
        continue()
      endif()
      get_filename_component(f "${s}" ABSOLUTE BASE_DIR "${dir}")
      get_filename_component(f "${f}" REALPATH)
      _debuginfo_under(in "${f}" "${bin}" ${real_roots})
      if(NOT in)
        list(APPEND outside "${f}")
      endif()
    endforeach()
  endforeach()
  if(NOT outside)
    return()
  endif()
  list(REMOVE_DUPLICATES outside)
  list(LENGTH outside n)
  list(GET outside 0 example)
  # The directory to add: the one that holds them and the top-level
  # CMakeLists.txt, as a project's files usually share a top directory
  # (zstd's build/cmake with lib and programs; headers in ../include are
  # admitted too); when that is / or the home directory, the one that holds
  # them.
  get_filename_component(example_dir "${example}" DIRECTORY)
  get_filename_component(top "${CMAKE_SOURCE_DIR}" REALPATH)
  _debuginfo_common_dir(common "${top}" ${outside})
  if(common STREQUAL "/" OR common STREQUAL "$ENV{HOME}")
    _debuginfo_common_dir(common "${example_dir}" ${outside})
  endif()
  string(REPLACE ";" ", " shown "${roots}")
  if(common STREQUAL "/")
    set(add "the directories that hold them")
  else()
    # The new root, and the roots it does not hold.
    set(hint "${common}")
    foreach(r IN LISTS roots)
      get_filename_component(real "${r}" REALPATH)
      _debuginfo_under(in "${real}" "${common}")
      if(NOT in)
        list(APPEND hint "${r}")
      endif()
    endforeach()
    set_property(TARGET debuginfo-upload PROPERTY DEBUGINFO_ROOT_HINT "${hint}")
    set(add "${common}: -DDEBUGINFO_SOURCE_ROOTS=\"${hint}\"")
  endif()
  message(WARNING "debuginfo: ${n} source files of the uploaded targets (such as ${example}) lie outside "
    "the source roots (${shown}), so their source archives leave them out and Parca shows no source text for them. "
    "Add ${add} (or debuginfo_upload_all(SOURCE_ROOTS dir) in CMakeLists.txt); see docs/cmake.md.")
endfunction()
# debuginfo_upload() alone: checked when the top-level CMakeLists.txt ends
# (CMake >= 3.19), else at once; debuginfo_upload_all() checks every target.
function(_debuginfo_check_roots_later)
  if(CMAKE_VERSION VERSION_LESS 3.19)
    _debuginfo_check_roots()
    return()
  endif()
  get_property(scheduled GLOBAL PROPERTY _DEBUGINFO_ROOTS_SCHEDULED)
  if(NOT scheduled)
    set_property(GLOBAL PROPERTY _DEBUGINFO_ROOTS_SCHEDULED ON)
    cmake_language(DEFER DIRECTORY "${CMAKE_SOURCE_DIR}" CALL _debuginfo_check_roots_unless_all)
  endif()
endfunction()
function(_debuginfo_check_roots_unless_all)
  get_property(all GLOBAL PROPERTY _DEBUGINFO_ALL)
  if(NOT all)
    _debuginfo_check_roots()
  endif()
endfunction()

# Sets out to ON when the top-level `all` does not build target, decided as
# CMake decides it: the target property EXCLUDE_FROM_ALL when it is set (to
# anything; a generator expression counts as true, it cannot be evaluated at
# configure time), else the directory property EXCLUDE_FROM_ALL of the target's
# directory or of any parent below the top (add_subdirectory(dir EXCLUDE_FROM_ALL)).
# Both are read: CMake (3.25 at least) does not copy the directory property
# into the target property.
function(_debuginfo_excluded target out)
  set(${out} OFF PARENT_SCOPE)
  get_property(set TARGET ${target} PROPERTY EXCLUDE_FROM_ALL SET)
  if(set)
    get_target_property(ex ${target} EXCLUDE_FROM_ALL)
    if(ex)
      set(${out} ON PARENT_SCOPE)
    endif()
    return()
  endif()
  get_target_property(dir ${target} SOURCE_DIR)
  while(NOT dir STREQUAL "" AND NOT dir STREQUAL CMAKE_SOURCE_DIR)
    get_property(ex DIRECTORY "${dir}" PROPERTY EXCLUDE_FROM_ALL)
    if(ex)
      set(${out} ON PARENT_SCOPE)
      return()
    endif()
    get_property(dir DIRECTORY "${dir}" PROPERTY PARENT_DIRECTORY)
  endwhile()
endfunction()

# Lists target's file for `debuginfo-upload`, which also depends on the target,
# unless it is excluded from `all`: that dependency would make every build
# build it. An excluded target's file is uploaded by the first upload step
# that finds it built (a missing file is skipped): in the same build when
# something in `all` needs it, else the next build after it was built explicitly.
function(_debuginfo_register target)
  get_target_property(type ${target} TYPE)
  if(NOT type MATCHES "^(EXECUTABLE|SHARED_LIBRARY|MODULE_LIBRARY)$")
    message(FATAL_ERROR "debuginfo: ${target} is a ${type}; only executables and shared libraries have build IDs to upload")
  endif()
  get_target_property(imported ${target} IMPORTED)
  if(imported)
    message(FATAL_ERROR "debuginfo: ${target} is imported; upload it where it is built")
  endif()
  get_property(done TARGET debuginfo-upload PROPERTY DEBUGINFO_TARGETS)
  if(NOT target IN_LIST done)
    set_property(TARGET debuginfo-upload APPEND PROPERTY DEBUGINFO_TARGETS ${target})
    set_property(TARGET debuginfo-upload APPEND PROPERTY DEBUGINFO_FILES "$<TARGET_FILE:${target}>")
    _debuginfo_excluded(${target} excluded)
    if(NOT excluded)
      add_dependencies(debuginfo-upload ${target})
    endif()
  endif()
endfunction()

# Makes `debuginfo-upload` part of every build: each build ends with one
# batched upload of what is not yet on the store (new, pending or failed).
function(_debuginfo_on_build)
  if(CMAKE_VERSION VERSION_LESS 3.19)
    _debuginfo_check_g()
  endif()
  if(NOT TARGET debuginfo-upload-on-build)
    add_custom_target(debuginfo-upload-on-build ALL)
    # Created in the directory of the first call, which may be excluded from
    # `all` (debuginfo_upload() in an add_subdirectory(... EXCLUDE_FROM_ALL)):
    # the target property wins over the directory's.
    set_target_properties(debuginfo-upload-on-build PROPERTIES EXCLUDE_FROM_ALL OFF)
    add_dependencies(debuginfo-upload-on-build debuginfo-upload)
  endif()
endfunction()

# debuginfo_upload(TARGET t [SOURCES ON|OFF] [SOURCE_ROOTS dir...]): upload t right after each link
# (a POST_BUILD step), and include it in `debuginfo-upload`, which ends every
# build and sends what the POST_BUILD step could not (no credentials then, a
# failed upload). Call it in the directory that defines t (CMake allows
# POST_BUILD steps only there). A t excluded from `all` (when this is called)
# stays out of plain builds; when built explicitly, its POST_BUILD step is the
# only upload step of that build, so it says itself what it could not send.
function(debuginfo_upload)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "TARGET;SOURCES" "SOURCE_ROOTS")
  if(NOT arg_TARGET OR arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "debuginfo_upload(TARGET <target> [SOURCES ON|OFF] [SOURCE_ROOTS dir...])")
  endif()
  if(NOT TARGET ${arg_TARGET})
    message(FATAL_ERROR "debuginfo_upload: no target ${arg_TARGET}")
  endif()
  set(sources "${DEBUGINFO_SOURCES}")
  if(DEFINED arg_SOURCES)
    set(sources "${arg_SOURCES}")
  endif()
  get_target_property(dir ${arg_TARGET} SOURCE_DIR)
  if(NOT dir STREQUAL CMAKE_CURRENT_SOURCE_DIR)
    message(FATAL_ERROR "debuginfo_upload: ${arg_TARGET} is defined in ${dir}; call debuginfo_upload() there, "
      "or use debuginfo_upload_all() (which covers every directory)")
  endif()
  if(sources)
    set(sources ON)
  else()
    set(sources OFF)
  endif()
  _debuginfo_add_roots("${CMAKE_CURRENT_SOURCE_DIR}" ${arg_SOURCE_ROOTS})
  _debuginfo_register(${arg_TARGET})
  set_property(TARGET ${arg_TARGET} PROPERTY _DEBUGINFO_SOURCES ${sources})
  set_property(TARGET debuginfo-upload APPEND PROPERTY DEBUGINFO_SOURCES_FILES "${sources} $<TARGET_FILE:${arg_TARGET}>")
  _debuginfo_on_build()
  _debuginfo_check_roots_later()
  # DEBUGINFO_POST_BUILD=ON: a batched step follows in the same build.
  _debuginfo_excluded(${arg_TARGET} excluded)
  set(batched ON)
  if(excluded)
    set(batched OFF)
  endif()
  add_custom_command(TARGET ${arg_TARGET} POST_BUILD
    COMMAND "${CMAKE_COMMAND}" ${_debuginfo_script_args} "-DDEBUGINFO_SOURCES=${sources}" "-DDEBUGINFO_POST_BUILD=${batched}"
    "-DDEBUGINFO_FILE=$<TARGET_FILE:${arg_TARGET}>"
    -P "${_debuginfo_module_dir}/Upload.cmake"
    VERBATIM)
endfunction()

function(_debuginfo_collect dir out)
  get_property(targets DIRECTORY "${dir}" PROPERTY BUILDSYSTEM_TARGETS)
  get_property(subdirs DIRECTORY "${dir}" PROPERTY SUBDIRECTORIES)
  foreach(sub IN LISTS subdirs)
    _debuginfo_collect("${sub}" more)
    list(APPEND targets ${more})
  endforeach()
  set(${out} ${targets} PARENT_SCOPE)
endfunction()

function(_debuginfo_upload_all_now)
  _debuginfo_collect("${CMAKE_SOURCE_DIR}" targets)
  set(n 0)
  set(excluded_n 0)
  foreach(t IN LISTS targets)
    get_target_property(type ${t} TYPE)
    get_target_property(skip ${t} DEBUGINFO_SKIP)
    if(type MATCHES "^(EXECUTABLE|SHARED_LIBRARY|MODULE_LIBRARY)$" AND NOT skip)
      _debuginfo_register(${t})
      _debuginfo_excluded(${t} excluded)
      if(excluded)
        math(EXPR excluded_n "${excluded_n} + 1")
      else()
        math(EXPR n "${n} + 1")
      endif()
    endif()
  endforeach()
  set(more "")
  if(excluded_n GREATER 0)
    set(more " (and ${excluded_n} excluded from all, not built by it: uploaded once built)")
  endif()
  message(STATUS "debuginfo: ${n} targets uploaded by the debuginfo-upload step of every build${more}")
  _debuginfo_check_roots()
endfunction()

# debuginfo_upload_all([SOURCE_ROOTS dir...]): every executable and shared library of the whole
# directory tree (skip one with set_target_properties(t PROPERTIES
# DEBUGINFO_SKIP ON)) is uploaded by `debuginfo-upload`, which then runs as part
# of every build. Targets excluded from `all` are not built by it: they are
# uploaded by the first upload step after they have been built. With CMake >=
# 3.19 the targets are gathered at the end of the top-level CMakeLists.txt;
# before that, call it after your add_subdirectory()s.
# SOURCE_ROOTS (relative to the calling directory) are added to the source
# roots of every upload step.
function(debuginfo_upload_all)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "" "SOURCE_ROOTS")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "debuginfo_upload_all([SOURCE_ROOTS dir...])")
  endif()
  _debuginfo_add_roots("${CMAKE_CURRENT_SOURCE_DIR}" ${arg_SOURCE_ROOTS})
  get_property(done GLOBAL PROPERTY _DEBUGINFO_ALL)
  if(done)
    return()
  endif()
  set_property(GLOBAL PROPERTY _DEBUGINFO_ALL ON)
  _debuginfo_on_build()
  if(CMAKE_VERSION VERSION_GREATER_EQUAL 3.19)
    cmake_language(DEFER DIRECTORY "${CMAKE_SOURCE_DIR}" CALL _debuginfo_upload_all_now)
  else()
    _debuginfo_upload_all_now()
  endif()
endfunction()
