#!/usr/bin/env bash
# Installs what building, verifying and testing need, on a fresh Debian machine or in CI. Idempotent and quick
# when everything is already there: apt only runs for missing packages, npm ci only when the lockfile changed.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  make clang llvm bpftool libbpf-dev g++ python3  # build and verify; node-gyp for the VS Code server
  iproute2 openssh-server openssh-client sudo  # sandbox endpoints and SSH targets
  zsh busybox-static                         # remote login shells the SSH quoting is tested against
  qemu-system-x86                            # kernel matrix: 5.10, 6.1, 6.12 VMs (busybox and bpftool go in;
                                             # the static busybox runs applets without exec: warm verifies 4x faster)
  clangd                                     # compile_commands.json check
  chromium ripgrep                           # VS Code host tests
  libkrb5-dev libsecret-1-dev libx11-dev libxkbfile-dev pkg-config  # the VS Code server's native modules
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Loading programs needs bpffs; mounting it needs root.
if [[ $(id -u) -eq 0 ]] && ! grep -qs ' /sys/fs/bpf bpf ' /proc/mounts; then
  mount -t bpf bpf /sys/fs/bpf
fi

stamp=node_modules/.cilium-custom-lock
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  # --ignore-scripts: code-server's own install script refuses root and downloads; the VS Code host harness
  # prepares what it needs itself (scripts/vscode-host/prepare.mjs).
  npm ci --ignore-scripts --no-audit --no-fund
  echo "$want" >"$stamp"
fi
npm run --silent build
