#include "bench/baseline/postgres_baselines.h"

#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <latch>
#include <pqxx/pqxx>
#include <random>
#include <thread>
#include <vector>

namespace handover::bench {
namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void Fail(const std::string& what, const std::exception& e) {
  std::cerr << "perf_bench: " << what << ": " << e.what() << "\n";
  std::exit(1);
}

// `url`'s database name, and `url` as key=value pairs naming the database
// `postgres` instead (libpq reads what the URL leaves out from the
// environment, as for `url` itself).
struct AdminTarget {
  std::string database;
  std::string conninfo;
};

AdminTarget ParseAdminTarget(const std::string& url) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (options == nullptr) {
    std::cerr << "perf_bench: " << url << ": " << (error ? error : "out of memory") << "\n";
    if (error) PQfreemem(error);
    std::exit(1);
  }
  AdminTarget target;
  for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    const std::string keyword = o->keyword, value = o->val;
    if (keyword == "dbname") {
      target.database = value;
      continue;
    }
    std::string quoted;
    for (char c : value) {
      if (c == '\'' || c == '\\') quoted += '\\';
      quoted += c;
    }
    target.conninfo += keyword + "='" + quoted + "' ";
  }
  PQconninfoFree(options);
  target.conninfo += "dbname=postgres";
  return target;
}

}  // namespace

double PgNaiveWritesPerSecond(const std::string& url, int writers, double seconds,
                              size_t form_bytes) {
  try {
    pqxx::connection setup(url);
    pqxx::work schema(setup);
    schema.exec0("DROP SCHEMA IF EXISTS baseline_p CASCADE");
    schema.exec0("CREATE SCHEMA baseline_p");
    // W's tables (sqlite_baselines.cc), in PostgreSQL's types.
    schema.exec0(
        "CREATE TABLE baseline_p.cases (case_id bigint PRIMARY KEY,"
        " current_version bigint NOT NULL)");
    schema.exec0(
        "CREATE TABLE baseline_p.case_versions (case_id bigint, version bigint,"
        " form bytea NOT NULL, PRIMARY KEY (case_id, version))");
    for (int w = 0; w < writers; ++w) {
      schema.exec0("INSERT INTO baseline_p.cases VALUES (" + std::to_string(w) + ", 0)");
    }
    schema.commit();
  } catch (const std::exception& e) {
    Fail("baseline P setup", e);
  }
  // Random bytes: a form of repeated bytes would be compressed in line by
  // PostgreSQL (TOAST), where a sealed form, like handoverd's, is not.
  std::string random_form(form_bytes, '\0');
  std::mt19937_64 random(42);
  for (char& c : random_form) c = static_cast<char>(random());
  const pqxx::binarystring form(random_form);

  std::atomic<int64_t> writes{0};
  std::atomic<bool> failed{false};
  std::latch connected(writers + 1), go(1);
  Clock::time_point end;
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      bool counted = false;
      try {
        pqxx::connection connection(url);
        pqxx::nontransaction(connection).exec0("SET synchronous_commit = on");
        connection.prepare("insert", "INSERT INTO baseline_p.case_versions VALUES ($1, $2, $3)");
        connection.prepare("update",
                           "UPDATE baseline_p.cases SET current_version = $1 WHERE case_id = $2");
        connected.count_down();
        counted = true;
        go.wait();
        for (int64_t version = 1; Clock::now() < end; ++version) {
          pqxx::work txn(connection);
          txn.exec_prepared0("insert", w, version, form);
          txn.exec_prepared0("update", version, w);
          txn.commit();  // one durable commit per write, as W
          ++writes;
        }
      } catch (const std::exception& e) {
        if (!failed.exchange(true)) std::cerr << "perf_bench: baseline P: " << e.what() << "\n";
        if (!counted) connected.count_down();
      }
    });
  }
  connected.arrive_and_wait();  // the clock starts once every writer is connected
  const auto start = Clock::now();
  end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  go.count_down();
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  if (failed) std::exit(1);
  try {
    pqxx::connection cleanup(url);
    pqxx::work drop(cleanup);
    drop.exec0("DROP SCHEMA baseline_p CASCADE");
    drop.commit();
  } catch (const std::exception& e) {
    Fail("baseline P cleanup", e);
  }
  return writes / elapsed;
}

void CreateEmptyPgDatabase(const std::string& url) {
  const AdminTarget admin = ParseAdminTarget(url);
  if (admin.database.empty()) {
    std::cerr << "perf_bench: " << url << " names no database\n";
    std::exit(1);
  }
  try {
    pqxx::connection connection(admin.conninfo);
    pqxx::nontransaction run(connection);
    if (run.exec_params("SELECT 1 FROM pg_database WHERE datname = $1", admin.database).empty()) {
      run.exec0("CREATE DATABASE " + connection.quote_name(admin.database));
      std::cerr << "perf_bench: created database " << admin.database << "\n";
    }
  } catch (const std::exception& e) {
    Fail("creating database " + admin.database, e);
  }
  try {
    pqxx::connection connection(url);
    pqxx::nontransaction run(connection);
    const int64_t tables =
        run.exec1(
               "SELECT count(*) FROM pg_tables"
               " WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")[0]
            .as<int64_t>();
    if (tables > 0) {
      std::cerr << "perf_bench: database " << admin.database << " is not empty (a previous run's? "
                << "its cases are sealed under that run's scratch key): dropdb it, or name "
                   "another\n";
      std::exit(1);
    }
  } catch (const std::exception& e) {
    Fail("checking database " + admin.database, e);
  }
}

std::string DescribePgServer(const std::string& url) {
  std::string version, fsync, synchronous_commit;
  try {
    pqxx::connection connection(url);
    pqxx::nontransaction run(connection);
    version = run.exec1("SHOW server_version")[0].as<std::string>();
    fsync = run.exec1("SHOW fsync")[0].as<std::string>();
    synchronous_commit = run.exec1("SHOW synchronous_commit")[0].as<std::string>();
  } catch (const std::exception& e) {
    Fail("reading the server's settings", e);
  }
  std::string description = "PostgreSQL " + version.substr(0, version.find(' ')) + ", fsync " +
                            fsync + ", synchronous_commit " + synchronous_commit;
  if (fsync != "on" || synchronous_commit != "on") {
    description += " (NOT DURABLE: commits are not flushed to disk)";
    std::cerr << "perf_bench: warning: " << description
              << "; under pg_virtualenv, give it -o fsync=on\n";
  }
  return description;
}

}  // namespace handover::bench
