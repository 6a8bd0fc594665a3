#!/usr/bin/env bash
# package/wraps: subprojects/json-glib.wrap and libsoup.wrap parse and provide
# json-glib-1.0 and libsoup-3.0, and a build on a machine that has both development
# packages (this one, CI, the Debian package build) takes them from pkg-config, never
# from a subproject. Nothing is downloaded: meson runs with --wrap-mode=nodownload, on a
# copy of the tree in a temporary directory.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/red5pro-wraps.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/tmp"
export TMPDIR="$tmp/tmp"
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

mkdir "$tmp/src"
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git -C "$top" ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do [ -e "$top/$f" ] && printf '%s\0' "$f"; done |
    tar -C "$top" --null -T - -cf - | tar -xf - -C "$tmp/src"
else
  tar -C "$top" --exclude='./build*' --exclude='./subprojects/*/' -cf - . | tar -xf - -C "$tmp/src"
fi
cd "$tmp/src"
setup() {   # <build dir> <meson options...>
  local dir=$1
  shift
  nice -n 19 meson setup --wrap-mode=nodownload -Dtests=disabled -Dexamples=disabled "$@" "$dir"
}

# 1. Meson reads both wraps: each names the directory its tarball unpacks to.
out=$(meson subprojects foreach true 2>&1) || fail "meson subprojects: $out"
for d in json-glib-1.6.6 libsoup-3.4.4; do
  grep -q "subprojects/$d" <<< "$out" || fail "meson does not list subprojects/$d: $out"
done
echo "wraps read: json-glib-1.6.6, libsoup-3.4.4"

# 2. The normal build: both from pkg-config (the system), no subproject.
setup "$tmp/system" > "$tmp/system.txt" 2>&1 || { cat "$tmp/system.txt"; fail "meson setup failed"; }
log="$tmp/system/meson-logs/meson-log.txt"
for dep in json-glib-1.0 libsoup-3.0; do
  grep -q "Determining dependency '$dep' with pkg-config executable" "$log" ||
    fail "$dep was not looked up with pkg-config"
  line=$(grep -E "^Run-time dependency $dep found: YES" "$tmp/system.txt") ||
    fail "$dep not found on the system: $(grep -E "$dep" "$tmp/system.txt")"
  echo "$line"
done
! grep -qiE 'subproject|fallback' "$tmp/system.txt" || fail "a subproject was used: $(grep -iE 'subproject|fallback' "$tmp/system.txt")"
subprojects=$(meson introspect --projectinfo "$tmp/system" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["subprojects"])')
[ "$subprojects" = "[]" ] || fail "subprojects in the build: $subprojects"
[ "$(ls subprojects)" = "$(printf 'json-glib.wrap\nlibsoup.wrap')" ] ||
  fail "the setup changed subprojects/: $(ls subprojects)"

# 3. Each wrap provides its dependency: forcing the fallback for it reaches the wrap, which
#    stops only because downloading is off. (Without a wrap providing it, meson would take
#    the system's and the setup would succeed.) This leaves an empty packagecache/ in the copy.
for dep in json-glib-1.0 libsoup-3.0; do
  if setup "$tmp/fallback-$dep" --force-fallback-for="$dep" > "$tmp/fallback-$dep.txt" 2>&1; then
    fail "--force-fallback-for=$dep did not reach a wrap: $(grep -E "$dep" "$tmp/fallback-$dep.txt")"
  fi
  grep -q "Looking for a fallback subproject for the dependency $dep" "$tmp/fallback-$dep.txt" &&
    grep -q "Automatic wrap-based subproject downloading is disabled" "$tmp/fallback-$dep.txt" ||
    { cat "$tmp/fallback-$dep.txt"; fail "--force-fallback-for=$dep failed for another reason"; }
  echo "$dep: provided by a wrap (not downloaded: --wrap-mode=nodownload)"
done
