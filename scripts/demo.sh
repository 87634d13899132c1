#!/usr/bin/env bash
# The main job: installs what is missing, builds sopir, creates a demo
# database (build/demo.db) with the shipped procedures, invented staff and a
# few cases, and opens the interactive shell on it as shelter staff.
# Set SOPIR_DEMO_NO_SHELL=1 to stop after creating the database.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" --target sopir

sopir=build/sopir
db=build/demo.db
export SOPIR_DB=$db
if [[ ! -f $db ]]; then
  echo "Creating the demo database $db (all people in it are invented)"
  $sopir init --admin admin --name "Admin Demo"
  $sopir --as admin staff add ayu --name "Ayu Lestari (contoh)" --role reception_officer,shelter_staff,case_worker
  $sopir --as admin staff add bayu --name "Bayu Saputra (contoh)" --role supervisor
  $sopir --as admin staff add citra --name "Citra Dewi (contoh)" --role health_officer,health_worker,logistics
  $sopir --as admin staff add dimas --name "Dimas Pratama (contoh)" --role social_worker,escort_officer,psychologist,legal_officer
  $sopir --as admin sop publish workflows/aid-distribution.yaml workflows/pmi-debarkation.yaml \
    workflows/tppo-victim-care.yaml
  $sopir --as ayu case open pmi-debarkation --set full_name="Sri Wahyuni (contoh)" \
    --set notice_source=consulate --set debarkation_point=nunukan --set expected_arrival=2026-12-01 \
    --note "list from the consulate in Tawau"
  $sopir --as ayu case open pmi-debarkation --set full_name="Rudi Hartono (contoh)" \
    --set notice_source=immigration --set debarkation_point=tanjung_pinang \
    --set expected_arrival=2026-12-02
  $sopir --as ayu case open tppo-victim-care --set full_name="Nur Aini (contoh)" --set is_child=false \
    --set referral_source=debarkation_shelter
  $sopir --as ayu case open aid-distribution --set item=hygiene_kit --set quantity_requested=250 \
    --set shelter_name="RPTC Contoh"
fi
if [[ -n "${SOPIR_DEMO_NO_SHELL:-}" ]]; then
  $sopir --as ayu case list
  exit 0
fi
echo "Opening the sopir shell as 'ayu' (type 'help', Tab completes, Ctrl-D leaves)"
exec $sopir --as ayu shell
