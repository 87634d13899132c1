#!/usr/bin/env bash
# Installs the Debian 12 packages sopir needs to build, test and run.
# Only what is missing is installed; run as root or with sudo available.
set -euo pipefail

packages=(
  cmake ninja-build g++ pkg-config python3
  libyaml-cpp-dev libboost-dev libsqlitecpp-dev libsqlite3-dev libspdlog-dev
  catch2 libcli11-dev nlohmann-json3-dev libssl-dev libedit-dev libncurses-dev libbsd-dev libmd-dev
  graphviz sqlite3
  libpq-dev libsodium-dev
)
if [[ "${1:-}" == "--test" ]]; then
  # Tests also fuzz (clang, libFuzzer), check the JSON Schema of the format
  # (python3-yaml, python3-jsonschema) and open the HTML report in Chromium.
  packages+=(clang libclang-rt-14-dev python3-yaml python3-jsonschema chromium)
  # scripts/package-test.sh builds the .deb packages (dpkg-shlibdeps),
  # installs them (adduser), reads the man page, loads the completion, and
  # checks the timer's units with systemd-analyze.
  packages+=(dpkg-dev adduser man-db groff-base bash-completion systemd)
  # The PostgreSQL store's tests run against a real server
  # (scripts/pg-server.sh): Debian's PostgreSQL 15, pgbench included.
  packages+=(postgresql postgresql-contrib)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  echo "Installing: ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
