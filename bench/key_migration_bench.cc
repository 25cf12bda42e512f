// What the upgrade to per-case keys costs: a database in the shape the
// previous release left it (every form version sealed directly under the key
// file's key, no key store) is opened by this release, whose background job
// (DomainStore::Reencrypt, 500 items a step, as the server runs it) moves
// every version under its case's own key. Prints the time it took and checks
// that every version opens afterwards. Not a test: run by hand, see
// README "Upgrading".
//
//   build/bench/key_migration_bench [--cases 20000] [--versions-per-case 3]
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Transaction.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <filesystem>
#include <future>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/bench_support.h"
#include "common/serialize.h"
#include "server/store/case_reads.h"
#include "server/store/database.h"
#include "server/store/sealing.h"
#include "server/store/sqlite/sqlite_txn.h"

namespace handover {
namespace {

using Clock = std::chrono::steady_clock;

template <typename T, typename Fn>
absl::StatusOr<T> Await(Fn call) {
  std::promise<absl::StatusOr<T>> result;
  call([&](absl::StatusOr<T> r) { result.set_value(std::move(r)); });
  return result.get_future().get();
}

int Run(int cases, int versions_per_case) {
  const std::string dir =
      std::filesystem::temp_directory_path() / absl::StrCat("key-migration-", ::getpid());
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/handover.db";
  auto ring = std::make_shared<const KeyRing>(*KeyRing::Parse(KeyRing::GenerateKeyLine("k1")));
  {  // The schema, then the previous release's rows, straight into the file.
    auto created = store::OpenDatabase({.path = path}, {}, ring);
    if (!created.ok()) {
      std::cerr << created.status() << "\n";
      return 1;
    }
  }
  std::filesystem::remove(path + ".keys");  // the previous release had none
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    SQLite::Transaction txn(db);
    store::SqliteTxn rows(db, nullptr);
    const int64_t now = store::NowMicros();
    for (int c = 0; c < cases; ++c) {
      const std::string case_id = absl::StrFormat("%016x", 0xfeed000000000000ull + c);
      const std::string person = std::to_string(99100000 + c);
      rows.InsertCase(case_id, "redcross", store::PersonHash(*ring, person), "", now);
      for (int v = 1; v <= versions_per_case; ++v) {
        const v1::HandoverForm form = bench::BenchForm(person);
        rows.InsertVersion({.case_id = case_id,
                            .version = v,
                            .sealed_form = ring->Seal(SerializeDeterministic(form),
                                                      store::FormAssociatedData(case_id, v)),
                            .key_id = ring->current_key_id(),
                            .create_time = now,
                            .author_organisation = "redcross",
                            .author_actor = "bench"});
      }
      rows.SetCurrentVersion(case_id, versions_per_case, now);
    }
    txn.commit();
  }

  const auto start = Clock::now();
  auto store = store::OpenDatabase({.path = path}, {}, ring);
  if (!store.ok()) {
    std::cerr << store.status() << "\n";
    return 1;
  }
  int64_t steps = 0, items = 0;
  for (;;) {
    auto moved = Await<int>([&](auto done) { (*store)->Reencrypt(500, done); });
    if (!moved.ok()) {
      std::cerr << "migration: " << moved.status() << "\n";
      return 1;
    }
    if (*moved == 0) break;
    items += *moved;
    ++steps;
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();

  auto usage = Await<std::map<std::string, int64_t>>([&](auto done) { (*store)->KeyUsage(done); });
  const int64_t versions = int64_t{cases} * versions_per_case;
  if (!usage.ok() || (*usage)[store::kCaseKeyId] != versions) {
    std::cerr << "not every version moved under its case key\n";
    return 1;
  }
  for (int c = 0; c < cases; c += std::max(1, cases / 100)) {
    const std::string case_id = absl::StrFormat("%016x", 0xfeed000000000000ull + c);
    auto read = Await<store::CaseSnapshot>(
        [&](auto done) { (*store)->GetCase(case_id, 1, true, store::AllowAll, done); });
    if (!read.ok()) {
      std::cerr << "read after migration: " << read.status() << "\n";
      return 1;
    }
  }
  store->reset();
  std::cout << absl::StrFormat(
      "key migration: %d cases, %d versions (%.1f MiB of database): %.1f s in %d steps of 500 "
      "items, %.0f versions/s (includes %d person hashes re-made)\n",
      cases, versions, std::filesystem::file_size(path) / 1048576.0, seconds, steps,
      versions / seconds, static_cast<int>(items - versions));
  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace handover

int main(int argc, char** argv) {
  CLI::App app{"What the upgrade to per-case keys costs"};
  int cases = 20000, versions_per_case = 3;
  app.add_option("--cases", cases, "Cases in the old database");
  app.add_option("--versions-per-case", versions_per_case, "Form versions per case");
  CLI11_PARSE(app, argc, argv);
  return handover::Run(cases, versions_per_case);
}
