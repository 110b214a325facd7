# shellcheck shell=bash
# Sourced by scripts/run.sh, scripts/build.sh and scripts/test.sh: installs what is missing (idempotent; a
# second run takes seconds) and exports the build environment.
#
#   . scripts/setup.sh          # what building and running Tessera needs
#   . scripts/setup.sh --test   # plus Chromium and the end-to-end test packages
#
# Two ways to build the wasm front end (see docs/decisions/0001-build-without-cargo-leptos.md):
#   * the rustup wasm32 target is installed → the ordinary toolchain;
#   * otherwise (machines without access to the Rust dist server) → Debian's rustc-web (1.96, with the
#     standard-library sources), `-Z build-std` for wasm32, rustup's rust-lld as the wasm linker. On that path
#     the same compiler builds everything (server, tests, clippy, rustdoc) so both halves agree.

set -euo pipefail

TESSERA_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export TESSERA_ROOT
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tessera/target}"
export TESSERA_SITE_DIR="$CARGO_TARGET_DIR/site"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
mkdir -p "$CARGO_TARGET_DIR"

_setup_for_tests=0
for _arg in "$@"; do
  [ "$_arg" = "--test" ] && _setup_for_tests=1
done

_say() { printf '\033[1;34m[setup]\033[0m %s\n' "$*" >&2; }
_die() { printf '\033[1;31m[setup] error:\033[0m %s\n' "$*" >&2; exit 1; }

_apt_updated=0
_apt_install() {
  local missing=()
  local pkg
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null 2>&1 || _die "missing packages (${missing[*]}) and no apt-get to install them"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || _die "missing packages (${missing[*]}); run as root or install sudo"
    sudo="sudo"
  fi
  if [ $_apt_updated -eq 0 ]; then
    _say "apt-get update"
    $sudo apt-get update -q >/dev/null
    _apt_updated=1
  fi
  _say "installing Debian packages: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

# --- Rust toolchain ---------------------------------------------------------------------------------------
if command -v rustup >/dev/null 2>&1 && rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  export TESSERA_WASM_PATH=rustup
  TESSERA_WASM_CARGO_ARGS=()
else
  export TESSERA_WASM_PATH=debian
  _apt_install rustc-web cargo-web rust-web-src rust-web-clippy rustfmt-web
  export PATH="/usr/bin:$PATH"
  export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc
  _lld="$(ls "$HOME"/.rustup/toolchains/*/lib/rustlib/x86_64-unknown-linux-gnu/bin/rust-lld 2>/dev/null | head -n 1 || true)"
  [ -n "$_lld" ] || _die "no rust-lld found under ~/.rustup (needed to link wasm32 on the Debian path)"
  export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER="$_lld"
  # -Z build-std is only used for the wasm build (scripts/build.sh sets RUSTC_BOOTSTRAP=1 for that one command).
  TESSERA_WASM_CARGO_ARGS=(-Zbuild-std=std,panic_abort)
fi
export TESSERA_WASM_CARGO_ARGS

# Leptos views are type-erased on both halves (`--cfg erase_components`): the wasm shrinks by a quarter and
# the app crate compiles faster. Server and browser must agree on it, or hydration fails
# (docs/decisions/0008-web-ui-architecture.md).
_host_flags="--cfg erase_components"
# mold links the (large) server and test binaries several times faster.
if command -v apt-get >/dev/null 2>&1; then _apt_install mold; fi
if command -v mold >/dev/null 2>&1; then
  _host_flags="$_host_flags -C link-arg=-fuse-ld=mold"
fi
export CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS="$_host_flags"
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="--cfg erase_components"

# --- wasm-bindgen CLI, exactly the version in Cargo.lock ------------------------------------------------------
_wbg_version="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$TESSERA_ROOT/Cargo.lock")"
[ -n "$_wbg_version" ] || _die "cannot read the wasm-bindgen version from Cargo.lock"
export PATH="$HOME/.cargo/bin:$PATH"
if [ "$TESSERA_WASM_PATH" = debian ]; then export PATH="/usr/bin:$PATH"; fi
_tools="$HOME/.cache/tessera/tools"
export PATH="$_tools/bin:$PATH"
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$_wbg_version" ]; then
  _say "installing wasm-bindgen-cli $_wbg_version (once per machine, a few minutes)"
  # --locked can fail when the registry lacks a locked dependency version; retry without it.
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install --quiet --root "$_tools" wasm-bindgen-cli --version "$_wbg_version" --locked \
    || CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
      cargo install --quiet --root "$_tools" wasm-bindgen-cli --version "$_wbg_version"
fi

# --- Node packages: wasm-opt (npm binaryen; Debian's 108 breaks hydration) and Playwright ------------------------
command -v npm >/dev/null 2>&1 || _apt_install nodejs npm
_stamp="$TESSERA_ROOT/end2end/node_modules/.tessera-lock"
if [ ! -f "$_stamp" ] || ! cmp -s "$TESSERA_ROOT/end2end/package-lock.json" "$_stamp"; then
  _say "installing end2end npm packages (no browser download)"
  (cd "$TESSERA_ROOT/end2end" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  cp "$TESSERA_ROOT/end2end/package-lock.json" "$_stamp"
fi
export PATH="$TESSERA_ROOT/end2end/node_modules/.bin:$PATH"
_wasm_opt_major="$(wasm-opt --version 2>/dev/null | grep -oE '[0-9]+' | head -n 1 || true)"
[ -n "$_wasm_opt_major" ] && [ "$_wasm_opt_major" -ge 116 ] \
  || _die "wasm-opt ≥ 116 required (found '${_wasm_opt_major:-none}'); Debian's binaryen 108 breaks hydration"

# --- Browser for the end-to-end tests -------------------------------------------------------------------------
if [ $_setup_for_tests -eq 1 ]; then
  if [ -z "${CHROMIUM_PATH:-}" ]; then
    _apt_install chromium
    export CHROMIUM_PATH=/usr/bin/chromium
  fi
  command -v curl >/dev/null 2>&1 || _apt_install curl
  command -v psql >/dev/null 2>&1 || _apt_install postgresql-client
fi

unset _arg _host_flags _lld _stamp _tools _wasm_opt_major _wbg_version
