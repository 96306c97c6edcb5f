#!/usr/bin/env bash
# Builds the GPU check's bundle: everything scripts/gpu-run.sh needs on a bare GPU machine (NVIDIA
# driver, no JDK, no Maven, no network), in .gpu/ (ignored by git), at most 56 MiB, so that it
# travels with a copy of the working tree:
#
#   runtime/         a Java runtime linked by jlink with the modules the check's code needs (jdeps)
#   lib/             the jars of gpu-ops, embedding-store, model and what they need at run time; of
#                    the native libraries only Linux x86-64's (RocksDB's glibc build, JCuda's driver
#                    binding)
#   test/            the test classes of gpu-ops and model, as jars
#   tools/           the JUnit console launcher; slf4j-simple (the check logs to stderr)
#   ptx/             the kernels' PTX (the backend loads them from the gpu-ops jar; these are to read)
#   class-path.txt   the class path, relative to .gpu/
#   bundle.txt       what it was built from: commit, JDK, modules
#   MANIFEST.txt     every file with its size and SHA-256 (gpu-run.sh checks them)
#
#   scripts/gpu-bundle.sh [--no-build]
#
# It builds gpu-ops, embedding-store and model with their tests compiled, not run (Maven offline;
# OFFLINE=0 lets it download, which the first run needs for the console launcher and slf4j-simple),
# unless --no-build. The runtime is linked from JAVA_HOME (default: the JDK of the javac on the PATH),
# which must have jmods/; it is linked again only when the JDK or the module list changed. The same
# tree gives the same bytes (compare MANIFEST.txt). Prints the size; fails above the limit.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=.gpu
limit_mib=56
# the Maven build's reproducible timestamp, for the test jars made here
stamp_time=$(sed -n 's:.*<project.build.outputTimestamp>\(.*\)</project.build.outputTimestamp>.*:\1:p' pom.xml)

build=1
for a in "$@"; do
  case "$a" in
    --no-build) build=0 ;;
    *) echo "usage: scripts/gpu-bundle.sh [--no-build]" >&2; exit 64 ;;
  esac
done

jdk="${JAVA_HOME:-}"
if [[ -z "$jdk" ]]; then
  javac=$(command -v javac || true)
  [[ -n "$javac" ]] || { echo "no JDK: set JAVA_HOME or put javac on the PATH" >&2; exit 1; }
  jdk=$(dirname "$(dirname "$(readlink -f "$javac")")")
fi
for t in jlink jdeps jar; do
  [[ -x "$jdk/bin/$t" ]] || { echo "$jdk has no bin/$t: a full JDK is needed" >&2; exit 1; }
done
[[ -d "$jdk/jmods" ]] || { echo "$jdk has no jmods/: jlink needs them (Debian: openjdk-17-jmods)" >&2; exit 1; }
for t in zip unzip sha256sum; do
  command -v "$t" >/dev/null || { echo "$t is not installed" >&2; exit 1; }
done

bundle_target=model/target/gpu-bundle
if [[ $build == 1 ]]; then
  mvn=(./mvnw -B -q)
  [[ "${OFFLINE:-1}" == 1 ]] && mvn+=(-o)
  echo "== build: gpu-ops, embedding-store, model and what they need; tests compiled, not run"
  if ! "${mvn[@]}" package -DskipTests -Pgpu-bundle -pl model -am; then
    if [[ "${OFFLINE:-1}" == 1 ]]; then
      echo "gpu-bundle: the build failed offline. The first run needs to download the bundle's" \
        "tools (the JUnit console launcher, slf4j-simple) from Maven Central: run it once as" \
        "OFFLINE=0 scripts/gpu-bundle.sh" >&2
    fi
    exit 1
  fi
fi
[[ -f $bundle_target/class-path.txt ]] || { echo "$bundle_target/class-path.txt is missing: run without --no-build" >&2; exit 1; }
ptx_dir=gpu-ops/target/classes/io/streamrec/gpu/ptx
if ! compgen -G "$ptx_dir/*.ptx" >/dev/null; then
  echo "no PTX in $ptx_dir: gpu-ops was built without nvcc, and the check needs the kernels" >&2
  exit 1
fi

echo "== bundle: $out/"
mkdir -p "$out"
rm -rf "$out/lib" "$out/test" "$out/tools" "$out/ptx" "$out/class-path.txt" "$out/MANIFEST.txt" "$out/bundle.txt"
mkdir -p "$out/lib" "$out/test" "$out/tools" "$out/ptx"

# zip entries of $1 that are native libraries, but those matching $2 (an extended regex)
foreign_natives() {
  unzip -Z1 "$1" | grep -E '\.(so|dll|dylib|jnilib)$' | grep -vE "$2" || true
}

cp_entries=()
IFS=: read -r -a deps <<<"$(cat "$bundle_target/class-path.txt")"
model_jar=$(ls model/target/streamrec-model-*.jar | grep -v -- '-tests\.jar$' | head -1)
for jar in "${deps[@]}" "$root/$model_jar"; do
  name=$(basename "$jar")
  dest="$out/lib/$name"
  cp "$jar" "$dest"
  chmod u+w "$dest"
  case "$name" in
    frocksdbjni-*.jar) keep='^librocksdbjni-linux64\.so$' ;;        # glibc x86-64
    jcuda-natives-*.jar) keep='^lib/libJCudaDriver-.*-linux-x86_64\.so$' ;; # the driver API only
    *) keep='' ;;
  esac
  if [[ -n "$keep" ]]; then
    mapfile -t drop < <(foreign_natives "$dest" "$keep")
    if (( ${#drop[@]} )); then
      zip -q -d "$dest" "${drop[@]}"
    fi
  fi
  cp_entries+=("lib/$name")
done

# test classes as jars: entries in name order, the build's timestamp, no manifest
for m in gpu-ops model; do
  dest="$root/$out/test/streamrec-$m-tests.jar"
  (
    cd "$m/target/test-classes"
    mapfile -t files < <(find . -type f | LC_ALL=C sort)
    "$jdk/bin/jar" --create --no-manifest --date="$stamp_time" --file "$dest" "${files[@]}"
  )
  cp_entries+=("test/streamrec-$m-tests.jar")
done

for t in "$bundle_target"/tools/*.jar; do
  cp "$t" "$out/tools/"
done
cp "$ptx_dir"/*.ptx "$out/ptx/"
console=$(cd "$out" && ls tools/junit-platform-console-standalone-*.jar)
simple=$(cd "$out" && ls tools/slf4j-simple-*.jar)
cp_entries+=("$simple")
(IFS=:; echo "${cp_entries[*]}") > "$out/class-path.txt"

# the runtime: the modules jdeps finds in the class path and the launcher, but java.desktop (only
# java.beans, in code the check does not run: commons-lang3's circuit breakers, Jackson's optional
# java.beans support, which it probes for), plus two that jdeps cannot see: jdk.unsupported
# (sun.misc.Unsafe, looked up by reflection) and jdk.zipfs (JUnit reads jars through it when it scans)
full_cp=$(sed "s#\(^\|:\)#\1$out/#g" "$out/class-path.txt"):$out/$console
mapfile -t jars < <(tr ':' '\n' <<<"$full_cp")
found=$("$jdk/bin/jdeps" --ignore-missing-deps --print-module-deps --multi-release 17 -q \
  --class-path "$full_cp" "${jars[@]}")
modules=$(tr ',' '\n' <<<"$found,jdk.unsupported,jdk.zipfs" | grep -vx 'java.desktop' | LC_ALL=C sort -u | paste -sd, -)
jlink_opts=(--strip-debug --no-header-files --no-man-pages --compress=2)
runtime_stamp="$jdk $("$jdk/bin/java" -version 2>&1 | paste -sd' ' -) | $modules | ${jlink_opts[*]} | strip"
if [[ ! -x "$out/runtime/bin/java" || "$(cat "$out/runtime.stamp" 2>/dev/null)" != "$runtime_stamp" ]]; then
  echo "== jlink: $modules"
  rm -rf "$out/runtime" "$out/runtime.stamp"
  "$jdk/bin/jlink" --add-modules "$modules" "${jlink_opts[@]}" --output "$out/runtime"
  # symbol tables of the JVM's libraries (about 4 MiB): only crash reports read them
  if command -v strip >/dev/null; then
    find "$out/runtime" -name '*.so' -exec strip --strip-unneeded {} +
  fi
  echo "$runtime_stamp" > "$out/runtime.stamp"
else
  echo "== runtime: unchanged ($modules)"
fi

commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo ", with uncommitted changes" || true)
{
  echo "source: $commit$dirty"
  echo "jdk: $("$jdk/bin/java" -version 2>&1 | head -1)"
  echo "modules: $modules"
  echo "launcher: $console"
  echo "kernels: $(cd "$out/ptx" && ls *.ptx | paste -sd' ' -), compiled by CUDA $(grep -h -m1 -o 'release [0-9.]*' "$out"/ptx/*.ptx | head -1 | cut -d' ' -f2)"
  if command -v objdump >/dev/null; then
    # what the runtime's native code needs of the machine it runs on
    natives=("$out/runtime/bin/java" $(find "$out/runtime" -name '*.so'))
    glibc=$(for f in "${natives[@]}"; do objdump -T "$f"; done | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)
    needed=$(for f in "${natives[@]}"; do objdump -p "$f" | awk '/NEEDED/ { print $2 }'; done | sort -u |
      while read -r l; do [[ -n $(find "$out/runtime" -name "$l") ]] || echo "$l"; done | paste -sd' ' -)
    echo "runtime needs: ${glibc/GLIBC_/glibc }, $needed"
  fi
} > "$out/bundle.txt"
(cd "$out" && find . -type f ! -name MANIFEST.txt | LC_ALL=C sort | sed 's#^\./##' |
  while read -r f; do printf '%s %10d %s\n' "$(sha256sum "$f" | cut -c1-64)" "$(stat -c %s "$f")" "$f"; done) > "$out/MANIFEST.txt"

# what a copy of the folder takes: the bytes of its files
size() { find "$@" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
bytes=$(size "$out")
echo
for part in runtime lib test tools ptx; do
  printf '  %-8s %6s MiB\n' "$part" "$(mib "$(size "$out/$part")")"
done
printf '  %-8s %6s MiB (limit %d MiB)\n' total "$(mib "$bytes")" "$limit_mib"
cat "$out/bundle.txt" | sed 's/^/  /'
if (( bytes > limit_mib * 1048576 )); then
  echo "the bundle is $(mib "$bytes") MiB, over the limit of $limit_mib MiB" >&2
  exit 1
fi
echo "carry it with the tree: run(carry: [\".gpu\"], command: \"bash scripts/gpu-run.sh \$OUT\")"
