# Puts Node 24 LTS first on PATH, whatever Node the machine (Linux) has: `source .ci/node.sh`.
# The binary comes from the npm registry, where the node-linux-<arch> package ships it, so a
# machine that can `npm install` can get it; it is unpacked once into .ci/.node and reused.
# Needs a working npm (any version that runs on the system Node) to fetch the package.

eventgate_node_major=24
eventgate_node_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/.node"

eventgate_install_node () {
  local arch
  case "$(uname -s) $(uname -m)" in
    "Linux x86_64") arch=x64 ;;
    "Linux aarch64") arch=arm64 ;;
    *) echo "the npm registry ships Node binaries for Linux on x64 and arm64 only, not $(uname -s) $(uname -m)" >&2; return 1 ;;
  esac
  rm -rf "$eventgate_node_dir" && mkdir -p "$eventgate_node_dir" || return 1
  local tarball
  tarball=$(npm pack --silent --pack-destination "$eventgate_node_dir" "node-linux-$arch@$eventgate_node_major") || return 1
  # Only the binary and its licence: the package also carries headers for native addons.
  tar xzf "$eventgate_node_dir/$tarball" -C "$eventgate_node_dir" --strip-components=1 package/bin/node package/LICENSE \
    && rm "$eventgate_node_dir/$tarball"
}

if [ "$("$eventgate_node_dir/bin/node" --version 2>/dev/null | cut -d. -f1)" != "v$eventgate_node_major" ]; then
  eventgate_install_node || { echo "could not install Node $eventgate_node_major from the npm registry" >&2; return 1 2>/dev/null || exit 1; }
fi
# npm itself stays the system's: its `#!/usr/bin/env node` then runs on this Node too.
export PATH="$eventgate_node_dir/bin:$PATH"
unset -f eventgate_install_node
unset eventgate_node_major eventgate_node_dir
