#!/usr/bin/env bash
# Builds the Debian packages from a configured build directory, installs
# them on this machine, checks what a user of the package relies on, and
# removes them again, checking that no file of theirs is left.
#
#   bash scripts/package-test.sh [BUILD_DIR]     (default: build)
#
# The build directory must be configured with -DCMAKE_INSTALL_PREFIX=/usr
# (scripts/test.sh does). Needs root, or sudo.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
sudo_cmd=()
[[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
as_root() { "${sudo_cmd[@]}" "$@"; }
fail() { echo "package-test: FAILED: $*" >&2; exit 1; }
step() { echo "-- package-test: $*"; }
json_get() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
[[ $prefix == /usr ]] || fail "$build is configured for prefix '$prefix'; configure it with -DCMAKE_INSTALL_PREFIX=/usr"
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
packages=(sopir libsopir-dev)

step "cpack (DEB)"
(cd "$build" && cpack -G DEB -B "$work/debs" >/dev/null)
debs=("$work"/debs/*.deb)
((${#debs[@]} == 2)) || fail "expected two .deb files, got: ${debs[*]}"

# The paths already there before installing (directories other packages
# share): only those may remain after the purge.
for deb in "${debs[@]}"; do dpkg-deb --fsys-tarfile "$deb" | tar -t; done |
  sed 's|^\./|/|; s|/$||' | sort -u | while read -r path; do
  if [[ -z $path || -e $path ]]; then echo "$path"; fi
done >"$work/there-before"

step "dpkg -i ${debs[*]##*/}"
# Minimal Debian images tell dpkg to skip man pages and docs
# (path-exclude in /etc/dpkg/dpkg.cfg.d): include ours, which are tested.
as_root dpkg --path-include='/usr/share/man/man1/sopir.1*' --path-include='/usr/share/doc/sopir/*' \
  -i "${debs[@]}" >/dev/null
dpkg-query -L "${packages[@]}" | sort -u >"$work/files"

step "sopir --version"
[[ $(command -v sopir) == /usr/bin/sopir ]] || fail "sopir is not /usr/bin/sopir"
got=$(sopir --version) || fail "sopir --version exited non-zero"
[[ $got == "sopir $version" ]] || fail "sopir --version printed '$got', expected 'sopir $version'"

step "man -w sopir; the page formats without warnings"
page=$(man -w sopir) || fail "man -w sopir found no page"
[[ $page == /usr/share/man/man1/sopir.1* ]] || fail "man -w sopir gave $page"
warnings=$(man -l "$page" 2>&1 >/dev/null; groff -man -Tutf8 -ww -z "$page" 2>&1)
[[ -z $warnings ]] || fail "the man page has warnings: $warnings"

step "bash completion"
completion=/usr/share/bash-completion/completions/sopir
[[ $(bash -c "source $completion; complete -p sopir") == "complete -F _sopir sopir" ]] ||
  fail "$completion does not register _sopir"
words=$(bash -c "source $completion; COMP_WORDS=(sopir ca); COMP_CWORD=1; _sopir; echo \${COMPREPLY[*]}")
[[ $words == case ]] || fail "completing 'sopir ca' gave '$words'"

step "shipped procedures and their scenario tests"
sopir sop test /usr/share/sopir/workflows/*.test.yaml --min-coverage 100 >/dev/null ||
  fail "the installed procedures fail their scenario tests"

step "the timer's service, once, as its user"
unit_dir=/usr/lib/systemd/system
service=$unit_dir/sopir-tick@.service
[[ -f $service && -f $unit_dir/sopir-tick@.timer ]] || fail "the systemd units are not installed"
if command -v systemd-analyze >/dev/null; then
  # Templates are verified through an instance, as systemd would load them.
  cp "$service" "$work/sopir-tick@ci.service"
  cp "$unit_dir/sopir-tick@.timer" "$work/sopir-tick@ci.timer"
  systemd-analyze verify "$work/sopir-tick@ci.service" "$work/sopir-tick@ci.timer" ||
    fail "systemd-analyze verify found problems"
fi
instance=package-test
user=$(sed -n 's/^User=//p' "$service")
exec_start=$(sed -n 's/^ExecStart=//p' "$service")
exec_start=${exec_start//%i/$instance}
[[ -n $user && -n $exec_start ]] || fail "no User= or ExecStart= in $service"
db=$(sed -n 's/^ConditionPathExists=//p' "$service")
db=${db//%i/$instance}
as_user() { as_root runuser -u "$user" -- "$@"; }
# Staff log in (docs/CLI.md "Logging in"): one passphrase file for the
# test's staff, readable by the service's user, at the cheap test cost.
pass_file=$(as_root mktemp /tmp/sopir-package-test-pass.XXXXXX)
echo "package test passphrase" | as_root tee "$pass_file" >/dev/null
as_root chown "$user" "$pass_file"
as_root chmod 600 "$pass_file"
as_user() { as_root runuser -u "$user" -- env SOPIR_PASSPHRASE_FILE="$pass_file" \
  SOPIR_NEW_PASSPHRASE_FILE="$pass_file" SOPIR_KDF_COST=test "$@"; }
as_user sopir --db "$db" init --admin ci --name "CI Admin" >/dev/null
as_user sopir --db "$db" --as ci staff add ayu --name "Ayu Contoh" --role shelter_staff >/dev/null
as_user sopir --db "$db" --as ci sop publish /usr/share/sopir/workflows/aid-handout.yaml \
  /usr/share/sopir/workflows/aid-distribution.yaml >/dev/null
days_ago=$(date -u -d '5 days ago' +%Y-%m-%dT%H:%M)
id=$(as_user sopir --db "$db" --as ayu --json case open aid-distribution --at "$days_ago" \
  --set item=hygiene_kit --set quantity_requested=20 --set "shelter_name=Shelter Contoh" | json_get case)
[[ -n $id ]] || fail "could not open a case"
as_user sopir --db "$db" --as ayu case advance "$id" submit --at "$days_ago" \
  --set "needed_by=$(date -u +%Y-%m-%d)" >/dev/null
read -r -a command_line <<<"$exec_start"
out=$(as_user "${command_line[@]}") || fail "the service's command failed: $exec_start"
grep -q "^Fired: 1$" <<<"$out" || fail "the service fired no deadline: $out"
state=$(as_user sopir --db "$db" --as ayu --json case show "$id" | json_get state)
[[ $state == approval_overdue ]] || fail "case $id is in '$state' after the service ran"
as_root rm -f "$db" "$db.log" "$db-wal" "$db-shm" "$pass_file"

step "examples/ against the installed package"
cmake -S examples -B "$work/examples" -G Ninja >/dev/null
cmake --build "$work/examples" >/dev/null
ctest --test-dir "$work/examples" --output-on-failure >/dev/null || fail "the example failed"

step "add_subdirectory of the checkout configures (without its tests)"
mkdir "$work/parent"
printf '%s\n' "cmake_minimum_required(VERSION 3.18)" "project(parent LANGUAGES CXX)" \
  "add_subdirectory(\"$PWD\" sopir EXCLUDE_FROM_ALL)" \
  "add_executable(embed \"$PWD/examples/embed.cc\")" \
  "target_link_libraries(embed PRIVATE sopir::engine)" >"$work/parent/CMakeLists.txt"
cmake -S "$work/parent" -B "$work/parent/build" -G Ninja >/dev/null
grep -q sopir_tests "$work/parent/build/build.ninja" && fail "add_subdirectory added sopir's tests"

step "dpkg --purge; nothing left"
as_root dpkg --purge "${packages[@]}" >/dev/null
left=()
while read -r path; do
  [[ $path == /. || ! -e $path ]] && continue
  grep -qxF -- "$path" "$work/there-before" || left+=("$path")
done <"$work/files"
((${#left[@]} == 0)) || fail "left after purge: ${left[*]}"
[[ ! -e /var/lib/sopir ]] || fail "/var/lib/sopir is left after purge"
step "ok"
