# debuginfo.mk: upload the debuginfo (and sources) of the binaries a Makefile links
# to a Parca-compatible store (Parca, Polar Signals Cloud) with rules_debuginfo's
# `debuginfo` CLI. GNU Make 3.82 or newer. Usage (docs/make.md has the details):
#
#   DEBUGINFO_BINARIES = bin/hello bin/server      # optional: for `debuginfo-upload`
#   include path/to/rules_debuginfo/tools/make/debuginfo.mk
#
#   bin/hello: main.o util.o
#   	$(CC) -o $@ $^
#   	$(call debuginfo_upload,$@)                # upload right after linking, or:
#
#   all: bin/hello bin/server debuginfo-upload     # one batched upload at the end
#
# Credentials come from the environment (POLARSIGNALS_TOKEN or
# PARCA_DEBUGINFO_BEARER_TOKEN, DEBUGINFO_TOKEN_FILE, DEBUGINFO_CREDENTIAL_HELPER),
# never from the make command line. Without them a build still succeeds and says
# once per binary that nothing was uploaded, unless DEBUGINFO_REQUIRED=1 (the
# default when CI=true).
#
# A stamp file per binary and store (under DEBUGINFO_STAMP_DIR) records the build
# ID that was uploaded, so an up-to-date binary is never sent, nor the store even
# contacted, again. A per-link upload that could not happen leaves a pending marker
# for that store (DEBUGINFO_STAMP_DIR/<store>/pending/); the next make against that
# store that reaches the binary uploads it once it has credentials (and fails, like
# the link would, when DEBUGINFO_REQUIRED=1 and it has none). Paths may contain spaces (write them as `a\ b` in
# DEBUGINFO_BINARIES and in targets), not single quotes.
#
# The include turns on .SECONDEXPANSION (so DEBUGINFO_BINARIES may be set after it).

# This file's directory, before any other include changes MAKEFILE_LIST.
_debuginfo_self_dir := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
# Automake copies a Makefile.am's `include $(top_srcdir)/...` into Makefile.in:
# MAKEFILE_LIST then names the generated Makefile, and the copied file is listed
# in automake's am__DIST_COMMON. (Automake keeps one definition per variable:
# none is assigned twice here.)
_debuginfo_am_copy := $(firstword $(filter %/tools/make/debuginfo.mk,$(am__DIST_COMMON)))
_debuginfo_mk_dir := $(strip $(if $(and $(_debuginfo_am_copy),$(if $(wildcard $(_debuginfo_self_dir)/debuginfo.mk),,x)),\
  $(patsubst %/,%,$(dir $(_debuginfo_am_copy))),$(_debuginfo_self_dir)))
# The includer's default goal stays its own (restored at the end).
_debuginfo_saved_goal := $(.DEFAULT_GOAL)

# ---------------------------------------------------------------- settings

# Where to upload: host:port (TLS), or file:///abs/dir for the embedded local store.
DEBUGINFO_STORE_ADDRESS ?= grpc.polarsignals.com:443
# Polar Signals project ID (sent as the projectID header). Empty: the CLI reads
# env POLARSIGNALS_PROJECT_ID.
DEBUGINFO_PROJECT_ID ?=
# Extra flags for `debuginfo upload` (e.g. --insecure, -j 8, --prefix-map=OLD=NEW,
# --credential-helper=PATH, --bearer-token-file=PATH). Never a token (refused below).
DEBUGINFO_FLAGS ?=
# Upload source archives too: on or off.
DEBUGINFO_SOURCES ?= on
# 1: a binary that cannot be uploaded (no credentials, store down, ...) fails the build.
DEBUGINFO_REQUIRED ?= $(if $(filter true 1 yes,$(CI)),1,0)
# auto: upload only when credentials are configured (or the store is file://).
# none: the store needs no credentials (a self-hosted Parca without auth).
DEBUGINFO_AUTH ?= auto
# The binaries the `debuginfo-upload` target uploads in one batched, parallel run.
DEBUGINFO_BINARIES ?=
# Stamp files (one per binary and store) and upload receipts.
DEBUGINFO_STAMP_DIR ?= .debuginfo
# Where the default uploader is built (once per version of its sources).
DEBUGINFO_CACHE_DIR ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/rules_debuginfo/make
DEBUGINFO_GO ?= go

# The uploader. Default: built from the repository this file lives in (into
# DEBUGINFO_CACHE_DIR, rebuilt only when its sources change); without that
# repository or without Go, `debuginfo` on PATH.
_debuginfo_repo := $(_debuginfo_mk_dir)/../..
_debuginfo_have_repo := $(and $(wildcard $(_debuginfo_repo)/uploader/cmd/debuginfo/main.go),$(wildcard $(_debuginfo_repo)/go.mod))
# Evaluated at most once, and only when DEBUGINFO is needed.
_debuginfo_key = $(eval _debuginfo_key := $(shell cd '$(_debuginfo_repo)' && \
  { find uploader -name '*.go' ! -name '*_test.go' | LC_ALL=C sort | xargs cat; cat go.mod go.sum; } 2>/dev/null | \
  cksum | tr ' ' '-'))$(_debuginfo_key)
_debuginfo_built = $(DEBUGINFO_CACHE_DIR)/debuginfo-$(_debuginfo_key)
_debuginfo_default = $(eval _debuginfo_default := $(if $(and $(_debuginfo_have_repo),$(shell command -v $(DEBUGINFO_GO))),\
  $(_debuginfo_built),$(shell command -v debuginfo)))$(_debuginfo_default)
DEBUGINFO ?= $(_debuginfo_default)

# ---------------------------------------------------------------- checks

# A token on the make command line (or in a Makefile) shows in ps, in shell
# history and in CI logs: refuse it, without ever printing its value.
_debuginfo_token_vars := POLARSIGNALS_TOKEN PARCA_DEBUGINFO_BEARER_TOKEN
$(foreach v,$(_debuginfo_token_vars),$(if $(filter command override file,$(firstword $(origin $v))),\
  $(error debuginfo: $v was given as a make variable ($(origin $v)); it would show in ps and in logs. \
Export it in the environment instead (export $v=...; in CI: a secret), or use DEBUGINFO_TOKEN_FILE or a credential helper)))
# The same for a token in DEBUGINFO_FLAGS, in any spelling: --bearer-token
# (one or two dashes, =VALUE or a separate word, any case) or an
# authorization header given with --grpc-headers (name=value or the HTTP form).
_debuginfo_lc = $(subst A,a,$(subst B,b,$(subst C,c,$(subst D,d,$(subst E,e,$(subst F,f,$(subst G,g,$(subst H,h,$(subst I,i,\
  $(subst J,j,$(subst K,k,$(subst L,l,$(subst M,m,$(subst N,n,$(subst O,o,$(subst P,p,$(subst Q,q,$(subst R,r,$(subst S,s,\
  $(subst T,t,$(subst U,u,$(subst V,v,$(subst W,w,$(subst X,x,$(subst Y,y,$(subst Z,z,$1))))))))))))))))))))))))))
_debuginfo_lc_flags := $(call _debuginfo_lc,$(DEBUGINFO_FLAGS))
_debuginfo_flag_token = $(strip $(filter %-bearer-token,$(_debuginfo_lc_flags)) \
  $(foreach w,$(_debuginfo_lc_flags),$(findstring -bearer-token=,$w)$(findstring authorization=,$w)$(findstring authorization:,$w)))
$(if $(_debuginfo_flag_token),\
  $(error debuginfo: a token in DEBUGINFO_FLAGS (--bearer-token, or an authorization header in --grpc-headers) would show in ps and in logs; \
export POLARSIGNALS_TOKEN instead, or use --bearer-token-file / --credential-helper))
# A user name or password in the store address (or a secret in a query or
# fragment) would show in the build log and in the stamp directory's name:
# refused, never echoed. DEBUGINFO_FLAGS' words are paired with the next
# (--store-address^VALUE) so that the two-word form is seen too.
_debuginfo_hash := \#
_debuginfo_flag_pairs = $(join $(addsuffix ^,$(DEBUGINFO_FLAGS)),$(wordlist 2,$(words $(DEBUGINFO_FLAGS)),$(DEBUGINFO_FLAGS)))
# The values of flag $1 (with the dashes $2) in DEBUGINFO_FLAGS, in either form.
_debuginfo_flag_values = $(patsubst $2$1=%,%,$(filter $2$1=%,$(DEBUGINFO_FLAGS))) \
  $(patsubst $2$1^%,%,$(filter $2$1^%,$(_debuginfo_flag_pairs)))
_debuginfo_bad_address = $(if $(filter unix%,$1),,$(findstring @,$1)$(findstring ?,$1)$(findstring $(_debuginfo_hash),$1))
_debuginfo_address_creds = $(strip $(foreach a,$(DEBUGINFO_STORE_ADDRESS) \
  $(call _debuginfo_flag_values,store-address,--) $(call _debuginfo_flag_values,store-address,-),\
    $(call _debuginfo_bad_address,$a)))
$(if $(_debuginfo_address_creds),\
  $(error debuginfo: the store address must not hold a user name or password (user:password@), a query or a fragment; \
it would show in logs. Give host:port, and the token in the environment, DEBUGINFO_TOKEN_FILE or a credential helper))
$(if $(filter-out on off,$(DEBUGINFO_SOURCES)),$(error debuginfo: DEBUGINFO_SOURCES must be on or off, not "$(DEBUGINFO_SOURCES)"))
$(if $(filter-out auto none,$(DEBUGINFO_AUTH)),$(error debuginfo: DEBUGINFO_AUTH must be auto or none, not "$(DEBUGINFO_AUTH)"))

# The store the CLI uploads to: the last --store-address in DEBUGINFO_FLAGS
# (either form) wins over DEBUGINFO_STORE_ADDRESS, as on the command line,
# so the stamps, the messages and the file:// test name that store.
_debuginfo_store = $(or $(lastword $(call _debuginfo_flag_values,store-address,--)),$(DEBUGINFO_STORE_ADDRESS))

# Non-empty when an upload can authenticate (values are only tested, never printed).
_debuginfo_dry_run = $(filter --dry-run --dry-run=true,$(DEBUGINFO_FLAGS))
_debuginfo_have_creds = $(strip \
  $(filter file://%,$(_debuginfo_store))$(filter none,$(DEBUGINFO_AUTH))$(_debuginfo_dry_run) \
  $(if $(value POLARSIGNALS_TOKEN),token)$(if $(value PARCA_DEBUGINFO_BEARER_TOKEN),token) \
  $(if $(DEBUGINFO_TOKEN_FILE),file)$(if $(DEBUGINFO_CREDENTIAL_HELPER),helper) \
  $(filter --bearer-token-file% --credential-helper%,$(DEBUGINFO_FLAGS)))
_debuginfo_required = $(filter 1 true yes on,$(DEBUGINFO_REQUIRED))
_debuginfo_no_creds_why = no credentials (export POLARSIGNALS_TOKEN, or set DEBUGINFO_TOKEN_FILE or DEBUGINFO_CREDENTIAL_HELPER; DEBUGINFO_AUTH=none for a store without auth)
_debuginfo_no_tool_why = no uploader found (set DEBUGINFO=/path/to/debuginfo or put debuginfo on PATH$(if $(_debuginfo_have_repo),; or install Go: it is built from $(_debuginfo_repo)))
# Non-empty when an upload can run: credentials and an uploader. DEBUGINFO is
# only evaluated when there is something to upload.
_debuginfo_can_upload = $(and $(_debuginfo_have_creds),$(strip $(DEBUGINFO)))
# Why it cannot (both reasons when both hold).
_debuginfo_why_not = $(if $(_debuginfo_have_creds),$(_debuginfo_no_tool_why),$(_debuginfo_no_creds_why)$(if $(strip $(DEBUGINFO)),,; and $(_debuginfo_no_tool_why)))
_debuginfo_next_time = $(if $(_debuginfo_have_creds),the next make that finds an uploader uploads it,the next make with credentials uploads it)

# ---------------------------------------------------------------- helpers

_debuginfo_empty :=
_debuginfo_sp := $(_debuginfo_empty) $(_debuginfo_empty)
# `a\ b` in a list -> one word `a^b`; and back.
_debuginfo_words = $(subst \$(_debuginfo_sp),^,$(strip $1))
_debuginfo_unword = $(subst ^,$(_debuginfo_sp),$1)
# 'path' for the shell.
_debuginfo_q = '$(call _debuginfo_unword,$1)'
# One stamp directory per store and project: a new store gets everything again.
_debuginfo_store_key = $(subst $(_debuginfo_sp),_,$(subst /,_,$(subst :,_,$(_debuginfo_store)$(if $(DEBUGINFO_PROJECT_ID),@$(DEBUGINFO_PROJECT_ID)))))
_debuginfo_stamps = $(DEBUGINFO_STAMP_DIR)/$(_debuginfo_store_key)
# stamp file of binary $1 (a word): the path with / and space spelled out.
_debuginfo_stamp = $(_debuginfo_stamps)/$(subst ^,%20,$(subst /,%2F,$1)).stamp
# pending marker of binary $1 (a word): its per-link upload to this store did not
# happen yet. Kept per store like the stamps, so that an upload to another store
# never settles it. Names avoid % (a pattern) and spaces: they become target names.
_debuginfo_pending_name = $(subst ^,+20,$(subst /,+2F,$1))
_debuginfo_pending_dir = $(_debuginfo_stamps)/pending
_debuginfo_pending = $(_debuginfo_pending_dir)/$(call _debuginfo_pending_name,$1)

# Not required: one retry (a blip), not five over ~10 s: a store that is down
# would cost every make that much; the next make retries anyway. Automake (and
# autoconf) define abs_top_srcdir: the sources of a VPATH build are there, not
# under the build directory make runs in. Flags in DEBUGINFO_FLAGS come later, and win.
_debuginfo_upload_cmd = $(call _debuginfo_q,$(DEBUGINFO)) upload --store-address='$(DEBUGINFO_STORE_ADDRESS)' \
  $(if $(DEBUGINFO_PROJECT_ID),--project-id='$(DEBUGINFO_PROJECT_ID)') \
  $(if $(_debuginfo_required),,--retries=1) \
  $(if $(filter on,$(DEBUGINFO_SOURCES)),--include-sources$(if $(abs_top_srcdir), --source-root='$(abs_top_srcdir)')) $(DEBUGINFO_FLAGS)

# Shell: make sure the uploader exists (builds the default one on first use).
# Under make -j, links that finish together would each build it: the first
# takes a lock (flock(1), where there is one) and the others then find it built.
_debuginfo_ensure = $(if $(DEBUGINFO),$(if $(and $(_debuginfo_have_repo),$(filter $(_debuginfo_built),$(DEBUGINFO))),\
  test -x '$(DEBUGINFO)' || { mkdir -p '$(DEBUGINFO_CACHE_DIR)' && exec 9>'$(DEBUGINFO_CACHE_DIR)/.build.lock' && \
  { command -v flock >/dev/null 2>&1 && flock 9 || :; } && \
  { test -x '$(DEBUGINFO)' || { echo "debuginfo: building the uploader into $(DEBUGINFO_CACHE_DIR)" && \
  (cd '$(_debuginfo_repo)' && $(DEBUGINFO_GO) build -o '$(DEBUGINFO).tmp.'$$$$ ./uploader/cmd/debuginfo) && \
  mv -f '$(DEBUGINFO).tmp.'$$$$ '$(DEBUGINFO)'; }; }; rc=$$?; exec 9>&-; test $$rc = 0; },:),\
  { echo "debuginfo: $(_debuginfo_no_tool_why)" >&2; false; })
# Shell, after a failed _debuginfo_ensure, for the words $1.
_debuginfo_tool_failed = $(if $(_debuginfo_required),\
  echo "debuginfo: error: cannot upload $(call _debuginfo_unword,$1): the uploader could not be built (DEBUGINFO_REQUIRED=1)" >&2; exit 1,\
  echo "debuginfo: warning: not uploading $(call _debuginfo_unword,$1): the uploader could not be built; the build goes on (DEBUGINFO_REQUIRED=0)" >&2)

# Shell: libtool. A program linked against an uninstalled libtool library is a
# shell script (the wrapper) and the ELF file is .libs/NAME (or .libs/lt-NAME); a
# libtool library NAME.la is a text file naming its shared object (dlname) in
# .libs/. Sets f to the file to upload for the path in f, and lt to "static" (a
# .la without a shared object: nothing to upload) or "nobin" (a wrapper whose
# binary is missing). Anything else stays as it is.
_debuginfo_libtool_sh = lt=; case "$$f" in */*) ltd="$${f%/*}/.libs";; *) ltd=.libs;; esac; \
  case "$$f" in *.la) if sed -n 1,3p "$$f" 2>/dev/null | grep -q 'libtool library file'; then \
      ltn=$$(sed -n 's/^dlname=.\(.*\).$$/\1/p' "$$f"); \
      if [ -n "$$ltn" ]; then f="$$ltd/$$ltn"; else lt=static; fi; fi;; \
    *) if [ "$$(head -c 2 "$$f" 2>/dev/null)" = '\#!' ] && sed -n 1,5p "$$f" | grep -q 'temporary wrapper script for'; then \
      ltn=$${f\#\#*/}; if [ -f "$$ltd/$$ltn" ]; then f="$$ltd/$$ltn"; \
      elif [ -f "$$ltd/lt-$$ltn" ]; then f="$$ltd/lt-$$ltn"; else lt=nobin; fi; fi;; esac;
_debuginfo_static_msg = is a static libtool library (no shared object): nothing to upload (the programs that link it hold its code)
_debuginfo_nobin_why = is a libtool wrapper script and its binary (.libs/NAME or .libs/lt-NAME next to it) is missing: list the binary itself in DEBUGINFO_BINARIES

# Shell: what to do when nothing can be uploaded (no credentials, no uploader),
# for the words $1.
_debuginfo_no_creds = $(if $(_debuginfo_required),\
  echo "debuginfo: error: cannot upload $(call _debuginfo_unword,$1): $(_debuginfo_why_not); DEBUGINFO_REQUIRED=1" >&2; exit 1,\
  echo "debuginfo: not uploading $(call _debuginfo_unword,$1): $(_debuginfo_why_not)")
# The same for one linked binary ($1 word): with DEBUGINFO_REQUIRED=1 the binary goes
# (so a retry cannot go green with nothing sent); otherwise a pending marker stays for
# the next make that can upload it.
_debuginfo_no_creds_one = $(if $(_debuginfo_required),\
  echo "debuginfo: error: cannot upload $(call _debuginfo_unword,$1): $(_debuginfo_why_not); DEBUGINFO_REQUIRED=1; removing it so that the next make retries" >&2; \
  rm -f $(call _debuginfo_q,$1); exit 1,\
  echo "debuginfo: not uploading $(call _debuginfo_unword,$1): $(_debuginfo_why_not); $(_debuginfo_next_time)"; \
  $(call _debuginfo_mark_pending,$1))
_debuginfo_mark_pending = $(if $(_debuginfo_dry_run),:,mkdir -p '$(_debuginfo_pending_dir)' && touch '$(call _debuginfo_pending,$1)')
# Shell: a per-link upload of $1 (word; $2 quoted) did not happen, for the reason $3:
# with DEBUGINFO_REQUIRED=1 the binary goes and the recipe fails; otherwise a warning,
# and the pending marker stays for the next make.
_debuginfo_one_failed = $(if $(_debuginfo_required),\
  echo "debuginfo: error: $3; removing it so that the next make retries (DEBUGINFO_REQUIRED=1)" >&2; \
  rm -f $2; exit 1;,\
  echo "debuginfo: warning: $3; the build goes on, and the next make retries (DEBUGINFO_REQUIRED=0)" >&2; \
  $(call _debuginfo_mark_pending,$1);)

_debuginfo_id_sed = sed -n 's/.*"build_id":"\([^"]*\)".*/\1/p'
# In a receipt line: a skip because the store says another upload is in
# progress (perhaps a dead one elsewhere): nothing is known to be stored, so
# no stamp; the next make asks the store again.
_debuginfo_in_progress = rerun with --force

# ---------------------------------------------------------------- per link

# $(call debuginfo_upload,BINARY): put after the link command of BINARY's recipe.
# Skips a binary whose build ID was already uploaded to this store. When the
# upload fails and DEBUGINFO_REQUIRED=1, removes BINARY (like .DELETE_ON_ERROR)
# so that the next make links and uploads it again. The pending marker is made
# before the upload starts and removed once it succeeded: a make killed during
# the upload (SIGKILL: a cancelled CI job, the OOM killer) leaves the binary,
# which make then thinks up to date, and the marker, which gets it uploaded.
# A libtool wrapper script or .la file uploads the ELF file in .libs/.
debuginfo_upload = $(call _debuginfo_upload_one,$(subst $(_debuginfo_sp),^,$(call _debuginfo_words,$1)))
_debuginfo_upload_one = $(if $(_debuginfo_can_upload),@$(call _debuginfo_upload_sh,$1,$(call _debuginfo_q,$1),'$(call _debuginfo_stamp,$1)'),\
  @$(call _debuginfo_no_creds_one,$1))
# $1 word, $2 quoted binary, $3 quoted stamp.
_debuginfo_upload_sh = f=$2; $(_debuginfo_libtool_sh) \
  if [ "$$lt" = static ]; then rm -f '$(call _debuginfo_pending,$1)'; \
    echo "debuginfo: $(call _debuginfo_unword,$1) $(_debuginfo_static_msg)"; \
  elif [ "$$lt" = nobin ]; then $(call _debuginfo_one_failed,$1,$2,cannot upload $(call _debuginfo_unword,$1): it $(_debuginfo_nobin_why)) \
  elif ! { $(_debuginfo_ensure); }; then $(call _debuginfo_one_failed,$1,$2,cannot upload $(call _debuginfo_unword,$1): the uploader could not be built) \
  else \
  id=$$($(call _debuginfo_q,$(DEBUGINFO)) buildid --json "$$f" 2>/dev/null | $(_debuginfo_id_sed)) || id=; \
  if [ -n "$$id" ] && [ -f $3 ] && [ "$$(cat $3)" = "$$id" ]; then \
    touch $3; rm -f '$(call _debuginfo_pending,$1)'; \
    echo "debuginfo: $(call _debuginfo_unword,$1) is unchanged (build ID $$id was uploaded)"; \
  elif mkdir -p '$(_debuginfo_stamps)' && $(call _debuginfo_mark_pending,$1) && \
    echo "debuginfo: uploading $(call _debuginfo_unword,$1)$$([ "$$f" = $2 ] || echo " (libtool: $$f)") to $(_debuginfo_store)" && \
    $(_debuginfo_upload_cmd) --receipt=$3.receipt "$$f"; then \
    if grep -q "$(_debuginfo_in_progress)" $3.receipt 2>/dev/null; then $(if $(_debuginfo_required),\
      echo "debuginfo: error: $(call _debuginfo_unword,$1) is not stored: the store says another upload of it is in progress (if none is running: an interrupted run elsewhere; rerun with DEBUGINFO_FLAGS=--force); removing it so that the next make retries (DEBUGINFO_REQUIRED=1)" >&2; \
      rm -f $2; exit 1;,\
      echo "debuginfo: $(call _debuginfo_unword,$1) is not marked uploaded: the store says another upload of it is in progress; the next make asks again" >&2;) \
    else $(if $(_debuginfo_dry_run),:,echo "$$id" > $3 && rm -f '$(call _debuginfo_pending,$1)'); fi; \
  else $(call _debuginfo_one_failed,$1,$2,upload of $(call _debuginfo_unword,$1) failed) \
  fi; fi

# Pending uploads from earlier runs: a binary with a marker for any store gets a
# phony order-only prerequisite (so it is not in $$^). Its recipe looks for the
# marker of the store this make uploads to (the address may be set after the
# include) and, if there is one, uploads the binary as it is, without relinking it;
# without credentials it says so, and fails when DEBUGINFO_REQUIRED=1, so that a
# retry never goes green with the upload still pending. Markers are found when this
# file is read: set DEBUGINFO_STAMP_DIR before the include.
_debuginfo_pending_words := $(sort $(subst +20,^,$(subst +2F,/,$(notdir $(wildcard $(DEBUGINFO_STAMP_DIR)/*/pending/*)))))
define _debuginfo_pending_rule
.PHONY: debuginfo-pending/$(call _debuginfo_pending_name,$1)
$(subst ^,\ ,$1): | debuginfo-pending/$(call _debuginfo_pending_name,$1)
debuginfo-pending/$(call _debuginfo_pending_name,$1):
	@if [ ! -e $(call _debuginfo_q,$1) ]; then rm -f '$$(call _debuginfo_pending,$1)'; exit 0; fi; \
	if [ ! -e '$$(call _debuginfo_pending,$1)' ]; then exit 0; fi; \
	$$(if $$(_debuginfo_can_upload),echo "debuginfo: $(call _debuginfo_unword,$1) has a pending upload to $$(_debuginfo_store)"; \
	  $$(call _debuginfo_upload_sh,$1,$(call _debuginfo_q,$1),'$$(call _debuginfo_stamp,$1)'),\
	  $$(call _debuginfo_no_creds_pending,$1))
endef
# Shell: a pending upload ($1 word) that cannot happen (no credentials, no uploader).
_debuginfo_no_creds_pending = $(if $(_debuginfo_required),\
  echo "debuginfo: error: cannot upload $(call _debuginfo_unword,$1) (its upload to $(_debuginfo_store) is pending): $(_debuginfo_why_not); DEBUGINFO_REQUIRED=1" >&2; exit 1,\
  echo "debuginfo: not uploading $(call _debuginfo_unword,$1) (its upload to $(_debuginfo_store) is pending): $(_debuginfo_why_not)")
$(foreach w,$(_debuginfo_pending_words),$(eval $(call _debuginfo_pending_rule,$w)))

# ---------------------------------------------------------------- batched

_debuginfo_bin_words = $(call _debuginfo_words,$(DEBUGINFO_BINARIES))
# make -n (--just-print, --dry-run): nothing is relinked, so file times show
# only what earlier makes left to upload.
_debuginfo_make_n = $(findstring n,$(firstword -$(MAKEFLAGS)))
# The state of word $1, decided when the recipe runs (after the binaries are
# built; reads file times and libtool's files only): "STATE FILE", FILE the file to
# upload (spaces as ^), STATE ok (stamp newer than FILE), stale, static or nobin
# (see _debuginfo_libtool_sh).
_debuginfo_scan = $(shell f=$(call _debuginfo_q,$1); $(_debuginfo_libtool_sh) s='$(call _debuginfo_stamp,$1)'; \
  if [ -f "$$s" ] && ! [ "$$f" -nt "$$s" ]; then st=ok; else st=$${lt:-stale}; fi; \
  printf '%s ' "$$st"; printf '%s' "$$f" | tr ' ' '^')
_debuginfo_scan_all = $(foreach b,$(_debuginfo_bin_words),$(eval _debuginfo_s.$b := $(call _debuginfo_scan,$b)))
# The words in state $1; the file to upload for word $1.
_debuginfo_in_state = $(strip $(foreach b,$(_debuginfo_bin_words),$(if $(filter $1,$(firstword $(_debuginfo_s.$b))),$b)))
_debuginfo_file = $(or $(word 2,$(_debuginfo_s.$1)),$1)

# One upload of every out-of-date binary in DEBUGINFO_BINARIES, in parallel.
# Secondary expansion: DEBUGINFO_BINARIES may be set after the include, and
# `make debuginfo-upload` alone builds what it uploads.
.SECONDEXPANSION:
.PHONY: debuginfo-upload
debuginfo-upload: $$(DEBUGINFO_BINARIES)
	$(_debuginfo_scan_all)$(eval _debuginfo_todo := $(call _debuginfo_in_state,stale))$(_debuginfo_batch_recipe)
# For a hook that must work without this file too (automake's `all-local:
# $(DEBUGINFO_UPLOAD_TARGET)` next to `-include`, which `make distcheck` builds
# from a tarball without it).
DEBUGINFO_UPLOAD_TARGET := debuginfo-upload

_debuginfo_batch_recipe = $(if $(_debuginfo_bin_words),@$(foreach b,$(call _debuginfo_in_state,static),\
    echo "debuginfo: $(call _debuginfo_unword,$b) $(_debuginfo_static_msg)"; \
    $(if $(_debuginfo_dry_run),,mkdir -p '$(_debuginfo_stamps)' && echo static > '$(call _debuginfo_stamp,$b)';)) \
  $(if $(_debuginfo_todo),$(if $(_debuginfo_can_upload),\
    $(call _debuginfo_batch_sh,$(_debuginfo_todo)),\
    $(call _debuginfo_no_creds,$(_debuginfo_todo))),\
  $(if $(call _debuginfo_in_state,static nobin),:,\
    echo "debuginfo: nothing to upload ($(words $(_debuginfo_bin_words)) of DEBUGINFO_BINARIES up to date$(if $(_debuginfo_make_n),; make -n links nothing: binaries it would relink are not counted))")); \
  $(foreach b,$(call _debuginfo_in_state,nobin),$(if $(_debuginfo_required),\
    echo "debuginfo: error: cannot upload $(call _debuginfo_unword,$b): it $(_debuginfo_nobin_why) (DEBUGINFO_REQUIRED=1)" >&2; exit 1;,\
    echo "debuginfo: warning: not uploading $(call _debuginfo_unword,$b): it $(_debuginfo_nobin_why); the build goes on (DEBUGINFO_REQUIRED=0)" >&2;)) :,\
  @echo "debuginfo: error: DEBUGINFO_BINARIES is empty: set it (before or after the include) to the binaries debuginfo-upload uploads" >&2; exit 1)

# An automake (or autoconf) VPATH build configured through a relative path
# (../configure) compiles ../../lib/x.c: DWARF names with "..", never archived.
_debuginfo_vpath_note = $(if $(and $(filter on,$(DEBUGINFO_SOURCES)),$(filter ..%,$(srcdir))),\
  echo "debuginfo: note: configure was run through a relative path (srcdir=$(srcdir)): the compiler recorded source names with '..' and those go in no source archive; run it by its absolute path ($(abspath $(abs_top_srcdir))/configure) to upload sources";)

# $1: the words to upload (their files: _debuginfo_file). Stamps every binary the
# receipt does not report failed.
_debuginfo_batch_receipt = '$(_debuginfo_stamps)/batch.receipt'
_debuginfo_batch_sh = if ! { $(_debuginfo_ensure); }; then $(call _debuginfo_tool_failed,$1); else \
  mkdir -p '$(_debuginfo_stamps)' && \
  rm -f $(_debuginfo_batch_receipt) && rc=0 && $(_debuginfo_vpath_note) \
  echo "debuginfo: uploading $(words $1) of $(words $(_debuginfo_bin_words)) DEBUGINFO_BINARIES to $(_debuginfo_store)" && \
  $(_debuginfo_upload_cmd) --receipt=$(_debuginfo_batch_receipt) $(foreach b,$1,$(call _debuginfo_q,$(call _debuginfo_file,$b))) || rc=$$?; \
  $(if $(_debuginfo_dry_run),,$(foreach b,$1,$(call _debuginfo_stamp_from_receipt,$b))) \
  if [ $$rc != 0 ]; then $(if $(_debuginfo_required),\
    echo "debuginfo: error: some uploads failed (DEBUGINFO_REQUIRED=1)" >&2; exit 1;,\
    echo "debuginfo: warning: some uploads failed; the build goes on (DEBUGINFO_REQUIRED=0)" >&2;) fi; \
  if grep -q "$(_debuginfo_in_progress)" $(_debuginfo_batch_receipt) 2>/dev/null; then $(if $(_debuginfo_required),\
    echo "debuginfo: error: the store says other uploads of some binaries are in progress: they are not stored yet (DEBUGINFO_REQUIRED=1)" >&2; exit 1;,\
    echo "debuginfo: some binaries are not marked uploaded: the store says other uploads of them are in progress; the next make asks again" >&2;) fi; fi
# Shell: writes $1's stamp (its build ID) unless the receipt has no line for its
# file or reports a failure.
_debuginfo_stamp_from_receipt = l=$$(grep -F '"path":"$(call _debuginfo_unword,$(call _debuginfo_file,$1))",' $(_debuginfo_batch_receipt) 2>/dev/null) || l=; \
  case "$$l" in ''|*'"action":"failed"'*|*'$(_debuginfo_in_progress)'*) ;; *) printf '%s\n' "$$l" | \
  sed -n '1s/.*"build_id":"\([^"]*\)".*/\1/p' > '$(call _debuginfo_stamp,$1)';; esac;

# Forget what was uploaded (the store still has it; the next upload asks it again).
.PHONY: debuginfo-clean
debuginfo-clean:
	rm -rf '$(DEBUGINFO_STAMP_DIR)'

.DEFAULT_GOAL := $(_debuginfo_saved_goal)
