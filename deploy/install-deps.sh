#!/usr/bin/env bash
# Installs the Debian packages (and the npm tool buf) the build and tests need,
# but only those that are missing. Safe to run again.
set -euo pipefail

packages=(
  build-essential clang libclang-rt-dev clang-format cmake ninja-build pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libsqlitecpp-dev libsqlite3-dev libssl-dev openssl
  libpqxx-dev libpq-dev postgresql postgresql-common
  libgtest-dev libgmock-dev libcli11-dev libspdlog-dev libcpp-httplib-dev libtomlplusplus-dev
  python3 python3-grpcio curl util-linux
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

# Node may come from elsewhere (e.g. NodeSource's nodejs, which bundles npm):
# ask for Debian's only if there is no npm at all.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)

if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm tools (buf; the Node gRPC client for interop tests), into the project's
# tools folder, exactly as tools/package-lock.json pins them: `npm ci` installs
# from the lock file and never rewrites it (npm install would).
here="$(cd "$(dirname "$0")/.." && pwd)"
if [ ! -x "$here/tools/node_modules/.bin/buf" ] || [ ! -d "$here/tools/node_modules/@grpc/grpc-js" ]; then
  echo "installing: npm tools (buf, @grpc/grpc-js, @grpc/proto-loader)"
  (cd "$here/tools" && npm ci --no-audit --no-fund --silent)
fi
