# Shared by scripts/run, scripts/build and scripts/test: install what is missing, skip what is present.
# Only package registries are reachable on the machines this runs on (crates.io, npm, Debian), so every tool comes
# from one of them; nothing downloads a prebuilt binary from elsewhere.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$HOME/.cargo/bin:$PATH"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# Runs a command as root (directly, or through sudo when not root).
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

APT_UPDATED=0
apt_install() {
  if [ "$APT_UPDATED" -eq 0 ]; then
    log "apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    APT_UPDATED=1
  fi
  log "apt-get install $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_node() {
  command -v npm >/dev/null 2>&1 || apt_install nodejs npm
}

# The wasm32 target, wasm-bindgen-cli at exactly the project's wasm-bindgen version, and npm's wasm-opt (binaryen):
# Debian's wasm-opt rewrites wasm-bindgen's externref table and the page then fails in Chromium.
ensure_wasm_tools() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    log "rustup target add wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown
  fi
  local want have
  want="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' "$ROOT/Cargo.lock")"
  have="$(wasm-bindgen --version 2>/dev/null | awk '{ print $2 }' || true)"
  if [ "$have" != "$want" ]; then
    # Without --locked: a dependency version locked by wasm-bindgen-cli is no longer on crates.io.
    log "cargo install wasm-bindgen-cli $want (found: ${have:-none})"
    cargo install wasm-bindgen-cli --version "$want" --force
  fi
  ensure_node
  if [ ! -x "$ROOT/tools/node_modules/.bin/wasm-opt" ]; then
    log "npm ci (tools: binaryen)"
    (cd "$ROOT/tools" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

# The formatters the tests check with: rustfmt (rustup's component) and leptosfmt, which formats the markup inside
# Leptos's `view!` macros (rustfmt leaves macro bodies alone). leptosfmt is pinned: another version formats otherwise.
LEPTOSFMT_VERSION=0.1.33
ensure_formatters() {
  if ! cargo fmt --version >/dev/null 2>&1; then
    log "rustup component add rustfmt"
    rustup component add rustfmt
  fi
  if [ "$(leptosfmt --version 2>/dev/null | awk '{ print $2 }' || true)" != "$LEPTOSFMT_VERSION" ]; then
    log "cargo install leptosfmt $LEPTOSFMT_VERSION"
    cargo install leptosfmt --version "$LEPTOSFMT_VERSION" --locked --force
  fi
}

# Debian's Chromium for the browser tests (Playwright's own browser download cannot work here), and Playwright.
ensure_browser() {
  command -v chromium >/dev/null 2>&1 || apt_install chromium chromium-driver
  ensure_node
  if [ ! -d "$ROOT/end2end/node_modules/@playwright/test" ]; then
    log "npm ci (end2end: Playwright)"
    (cd "$ROOT/end2end" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

# schemathesis, the API contract fuzzer, from PyPI, pinned (another version generates other cases), in a virtual
# environment of the project's own. Sets $SCHEMATHESIS.
SCHEMATHESIS_VERSION=4.32.5
ensure_schemathesis() {
  local venv="$ROOT/target/contract-venv"
  SCHEMATHESIS="$venv/bin/schemathesis"
  if [ "$("$SCHEMATHESIS" --version 2>/dev/null | awk '{ print $NF }' || true)" != "$SCHEMATHESIS_VERSION" ]; then
    python3 -m venv "$venv" 2>/dev/null || { apt_install python3-venv && python3 -m venv "$venv"; }
    log "pip install schemathesis==$SCHEMATHESIS_VERSION"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
  fi
}

# A PostgreSQL server for the tests, on 127.0.0.1 only. Uses $SRA_TEST_POSTGRES_URL if set; else the server already
# running on 127.0.0.1:5432 (trust auth); else installs Debian's postgresql and starts a cluster. Exports the URL.
ensure_postgres() {
  # The outage test starts and stops a cluster of its own: it needs the server programs (initdb, pg_ctl) even where a
  # server already runs.
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    apt_install postgresql
  fi
  if [ -n "${SRA_TEST_POSTGRES_URL:-}" ]; then
    log "PostgreSQL: using SRA_TEST_POSTGRES_URL"
    return
  fi
  command -v psql >/dev/null 2>&1 || apt_install postgresql-client
  local trust="postgres://postgres@127.0.0.1:5432/postgres"
  local password="postgres://postgres:sra-test@127.0.0.1:5432/postgres"
  for url in "$trust" "$password"; do
    if psql "$url" -qAtc 'SELECT 1' >/dev/null 2>&1; then
      export SRA_TEST_POSTGRES_URL="$url"
      log "PostgreSQL: running at 127.0.0.1:5432"
      return
    fi
  done
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    apt_install postgresql
  fi
  local version
  version="$(ls /etc/postgresql | sort -n | tail -n 1)"
  log "PostgreSQL: starting cluster $version/main on 127.0.0.1"
  as_root sed -i "s/^#\?listen_addresses.*/listen_addresses = '127.0.0.1'/" "/etc/postgresql/$version/main/postgresql.conf"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || as_root pg_ctlcluster "$version" main start
  for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 -p 5432 && break
    sleep 1
  done
  # A fresh Debian cluster asks for a password on TCP: give the postgres role one for the tests.
  as_root su postgres -c "psql -qc \"ALTER ROLE postgres PASSWORD 'sra-test'\"" >/dev/null
  export SRA_TEST_POSTGRES_URL="$password"
  psql "$SRA_TEST_POSTGRES_URL" -qAtc 'SELECT 1' >/dev/null
}
