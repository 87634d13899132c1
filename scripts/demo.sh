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
# Staff log in with a passphrase (docs/CLI.md, "Logging in"). In the demo
# every invented staff member has the same one, read from this file; at a
# shelter each person types their own.
demo_pass=build/demo.passphrase
if [[ ! -f $demo_pass ]]; then
  (umask 077; echo "demo passphrase, invented" >"$demo_pass")
fi
export SOPIR_PASSPHRASE_FILE=$demo_pass SOPIR_NEW_PASSPHRASE_FILE=$demo_pass
if [[ ! -f $db ]]; then
  echo "Creating the demo database $db (all people in it are invented)"
  $sopir init --admin admin --name "Admin Demo"
  $sopir --as admin staff add ayu --name "Ayu Lestari (contoh)" --role reception_officer,shelter_staff,case_worker,registration_officer
  $sopir --as admin staff add bayu --name "Bayu Saputra (contoh)" --role supervisor
  $sopir --as admin staff add citra --name "Citra Dewi (contoh)" --role health_officer,health_worker,logistics
  $sopir --as admin staff add dimas --name "Dimas Pratama (contoh)" --role social_worker,escort_officer,psychologist,legal_officer,monitoring_officer
  $sopir --as admin staff add eka --name "Eka Putri (contoh)" --role receiving_officer
  # sop publish puts every procedure after those it hands cases on to (opens:), in any order given
  # (pmi-departure-monitoring -> pmi-debarkation -> tppo-victim-care -> its service tracks
  # tvc-health, tvc-psychosocial, tvc-legal, tvc-tracing -> referral, transfer;
  # aid-distribution -> aid-handout).
  $sopir --as admin sop publish workflows/aid-handout.yaml workflows/aid-distribution.yaml \
    workflows/referral.yaml workflows/transfer.yaml workflows/tvc-health.yaml \
    workflows/tvc-psychosocial.yaml workflows/tvc-legal.yaml workflows/tvc-tracing.yaml \
    workflows/tppo-victim-care.yaml \
    workflows/pmi-debarkation.yaml workflows/pmi-departure-monitoring.yaml
  $sopir --as ayu case open pmi-departure-monitoring --set full_name="Sekar Ayu (contoh)" \
    --set departure_kind=procedural --set reported_by=registration \
    --set nik=3300000000000011 --set birth_date=1996-04-12 --set sex=female \
    --set home_address="Dusun Contoh RT 02, Desa Contoh" --set home_province=jawa_tengah \
    --set family_contact_name="Parmi (contoh)" --set family_contact_phone="+62 812 0000 0101" \
    --set destination_country=malaysia --set job_sector=domestic_work \
    --set employer_name="Keluarga Contoh" --set placement_agency="PT Contoh Jaya Abadi" \
    --set contract_end_date=2028-01-31 --set planned_departure=2026-12-20 \
    --note "registered at the pre-departure orientation"
  $sopir --as ayu case open pmi-departure-monitoring --set full_name="Bima Saputra (contoh)" \
    --set departure_kind=nonprocedural --set reported_by=family --set sex=male \
    --set destination_country=malaysia --set family_contact_name="Ratmi (contoh)" \
    --set family_contact_phone="+62 813 0000 0303" \
    --note "his mother says he crossed at Entikong without papers to work on a plantation"
  $sopir --as ayu case open pmi-debarkation --set full_name="Sri Wahyuni (contoh)" \
    --set notice_source=consulate --set debarkation_point=nunukan --set expected_arrival=2026-12-01 \
    --note "list from the consulate in Tawau"
  $sopir --as ayu case open pmi-debarkation --set full_name="Rudi Hartono (contoh)" \
    --set notice_source=walk_in --set debarkation_point=entikong \
    --note "walked in at the border post without notice"
  $sopir --as ayu case open tppo-victim-care --set full_name="Nur Aini (contoh)" --set is_child=false \
    --set referral_source=debarkation_shelter
  $sopir --as ayu case open aid-distribution --set item=hygiene_kit --set quantity_requested=250 \
    --set shelter_name="RPTC Contoh"
fi
if [[ -n "${SOPIR_DEMO_NO_SHELL:-}" ]]; then
  $sopir --as ayu case list
  exit 0
fi
echo "Opening the sopir shell as 'ayu' (type 'todo' or 'help', Tab completes, Ctrl-D leaves)"
echo "Every demo staff member's passphrase is in $demo_pass; 'as bayu' switches and logs in again"
exec $sopir --as ayu shell
