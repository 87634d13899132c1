// Embedding sopir: open a database, publish a procedure, add staff, open a
// case and walk it to a terminal state, then print its history.
//
//   embed_example WORKFLOWS_DIR [DB_PATH]
//
// Uses only the public headers in engine/include/sopir.
#include <iostream>
#include <string>

#include "sopir/engine.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: embed_example WORKFLOWS_DIR [DB_PATH]\n";
    return 2;
  }
  const std::string workflows = argv[1];
  const std::string db = argc > 2 ? argv[2] : ":memory:";
  try {
    sopir::StoreOptions options;
    options.create = true;
    sopir::Engine engine(sopir::open_sqlite_store(db, options));

    // Staff are records of the database; the first administrator is added
    // to the new database, everyone after by that administrator.
    sopir::Engine::add_first_administrator(engine.store(), "admin", "Administrator");
    engine.add_staff("admin", {"ayu", "Ayu Contoh", {"shelter_staff"}, true});
    engine.add_staff("admin", {"bayu", "Bayu Contoh", {"supervisor"}, true});
    engine.add_staff("admin", {"citra", "Citra Contoh", {"logistics"}, true});

    // A procedure that hands cases on is published after the one it opens.
    engine.publish(workflows + "/aid-handout.yaml", "admin");
    auto published = engine.publish(workflows + "/aid-distribution.yaml", "admin");
    std::cout << "published " << published.sop_id << " v" << published.version << " ("
              << published.sha256.substr(0, 12) << ")\n";

    auto opened = engine.open_case({"aid-distribution", "ayu",
                                    {{"item", "hygiene_kit"}, {"quantity_requested", "2"},
                                     {"shelter_name", "Shelter Contoh Nunukan"}},
                                    "request from the night shift", std::nullopt});
    const std::string id = opened.after.id;
    std::cout << "opened case " << id << " in state " << opened.after.state << "\n";

    auto step = [&](const std::string& event, const std::string& actor,
                    std::vector<std::pair<std::string, std::string>> inputs) {
      sopir::StepRequest request;
      request.case_id = id;
      request.event = event;
      request.actor = actor;
      request.inputs = std::move(inputs);
      auto result = engine.advance(request);
      std::cout << actor << " did " << event << " -> " << result.after.state << " ("
                << sopir::to_string(result.after.status) << ")\n";
    };
    step("submit", "ayu", {{"needed_by", "2026-12-05"}});
    step("approve", "bayu", {{"approved_quantity", "2"}});
    step("dispatch", "citra",
         {{"dispatched_quantity", "2"}, {"dispatched_on", "2026-12-01"}, {"waybill_number", "SJ-0001"},
          {"stock_lot", "LOT-2026-01"}, {"donor", "Donatur Contoh"}});
    step("confirm_receipt", "ayu",
         {{"quantity_received", "2"}, {"received_on", "2026-12-02"}, {"received_by", "Ayu Contoh"},
          {"stock_quantity", "2"}});
    // Each kit handed to one person opens an aid-handout case; the stock closes when none is left.
    step("hand_out", "ayu", {{"recipient_name", "Sri Contoh"}, {"handed_out_on", "2026-12-02"}});
    step("hand_out", "ayu", {{"recipient_name", "Rudi Contoh"}, {"handed_out_on", "2026-12-02"}});
    step("close_stock", "ayu", {});

    for (const auto& entry : engine.store().history(id)) {
      std::cout << entry.case_seq << ". " << sopir::format_datetime(entry.occurred_at) << " "
                << entry.actor << " " << entry.event << " " << entry.from_state << " -> "
                << entry.to_state << "  hash " << entry.hash.substr(0, 12) << "\n";
    }
    auto final_case = engine.store().find_case(id);
    return final_case && final_case->status == sopir::Status::kClosed ? 0 : 1;
  } catch (const sopir::Error& e) {
    std::cerr << "embed_example: " << e.message() << "\n";
    return sopir::exit_code(e.kind());
  }
}
