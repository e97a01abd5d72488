#!/usr/bin/env bash
# Builds Bazel's own remote worker (the REAPI server of Bazel's integration
# tests: remote execution, CAS, action cache and ByteStream on one gRPC port)
# from the source Debian's bazel-bootstrap-source ships, once per machine and
# Bazel version, and prints the path of a launcher that runs it:
#   "$(tests/remote/build-worker.sh)" --work_path=DIR --cas_path=DIR --listen_port=PORT
# It compiles with javac against the jars Debian's Bazel installs (about 20 s).
set -euo pipefail
src=${BAZEL_BOOTSTRAP_SOURCE:-/usr/src/bazel-bootstrap}/src/tools/remote/src/main/java
server_jar=/usr/share/bazel/A-server.jar
for f in "$src/com/google/devtools/build/remote/worker/RemoteWorker.java" "$server_jar"; do
  if [[ ! -e "$f" ]]; then
    echo "build-worker: $f is missing (apt-get install bazel-bootstrap bazel-bootstrap-source)" >&2
    exit 1
  fi
done
version=$(dpkg-query -W -f='${Version}' bazel-bootstrap-source 2>/dev/null || echo unknown)
out=${XDG_CACHE_HOME:-$HOME/.cache}/rules_debuginfo/remote-worker-${version//[^A-Za-z0-9.]/_}
if [[ ! -x "$out/remote-worker" ]]; then
  echo "building Bazel's remote worker ($version)..." >&2
  rm -rf "$out.tmp"
  mkdir -p "$out.tmp"
  # The worker links against Bazel's server classes and the Debian jars
  # (gRPC, protobuf, Guava, ...) that bazel-bootstrap depends on.
  cp="$server_jar:$(ls /usr/share/java/*.jar | tr '\n' ':')"
  (cd "$src" && javac -nowarn -d "$out.tmp/classes" -cp "$cp" $(find com -name '*.java')) 2>&1 |
    grep -v '^Note: ' >&2 || true
  [[ -f "$out.tmp/classes/com/google/devtools/build/remote/worker/RemoteWorker.class" ]] ||
    { echo "build-worker: javac failed" >&2; exit 1; }
  # The class path is computed when it runs: the jars are the machine's.
  cat >"$out.tmp/remote-worker" <<EOT
#!/usr/bin/env bash
# Bazel's remote worker, built by tests/remote/build-worker.sh.
cp="$out/classes:$server_jar:\$(ls /usr/share/java/*.jar | tr '\n' ':')"
exec java -cp "\$cp" com.google.devtools.build.remote.worker.RemoteWorker "\$@"
EOT
  chmod +x "$out.tmp/remote-worker"
  rm -rf "$out"
  mv "$out.tmp" "$out"
fi
echo "$out/remote-worker"
