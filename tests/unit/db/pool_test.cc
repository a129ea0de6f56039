// ConnectionPool with a fake connection type (reuse, bounds, fail fast, Discard) and the COPY text
// escaping of db::AppendCopyField.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "financialapi/db/connection_pool.h"
#include "financialapi/db/postgres.h"

namespace financialapi::db {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// Counts live and destroyed connections.
struct Tally {
  std::atomic<int> live{0};
  std::atomic<int> destroyed{0};
};

struct FakeConnection {
  FakeConnection(int connection_id, Tally& connection_tally) : id(connection_id), tally(connection_tally) { ++tally.live; }
  ~FakeConnection() {
    --tally.live;
    ++tally.destroyed;
  }
  FakeConnection(const FakeConnection&) = delete;
  FakeConnection& operator=(const FakeConnection&) = delete;
  int id;
  Tally& tally;
};

// A connection factory that fails, succeeds or blocks on demand.
class FakeDatabase {
 public:
  StatusOr<std::unique_ptr<FakeConnection>> Connect() {
    std::unique_lock lock(mutex_);
    ++calls_;
    ++connecting_;
    changed_.notify_all();
    changed_.wait(lock, [&] { return !block_; });
    --connecting_;
    if (!error_.ok()) return error_;
    return std::make_unique<FakeConnection>(++made_, tally_);
  }
  ConnectionPool<FakeConnection>::Factory Factory() {
    return [this] { return Connect(); };
  }

  void Fail(std::string message) {
    std::lock_guard lock(mutex_);
    error_ = Unavailable(std::move(message));
  }
  void Succeed() {
    std::lock_guard lock(mutex_);
    error_ = Status::Ok();
  }
  void Block(bool block) {
    {
      std::lock_guard lock(mutex_);
      block_ = block;
    }
    changed_.notify_all();
  }
  void WaitUntilConnecting() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return connecting_ > 0; });
  }
  int calls() {
    std::lock_guard lock(mutex_);
    return calls_;
  }
  Tally& tally() { return tally_; }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  Status error_;
  bool block_ = false;
  int calls_ = 0;
  int connecting_ = 0;
  int made_ = 0;
  Tally tally_;
};

using Pool = ConnectionPool<FakeConnection>;

TEST(ConnectionPoolTest, ReusesIdleConnections) {
  FakeDatabase database;
  Pool pool({.size = 2, .acquire_timeout = milliseconds(100), .retry_after = milliseconds(1000)}, database.Factory());
  EXPECT_EQ(pool.size(), 2);
  EXPECT_EQ(pool.InUse(), 0);
  int first_id = 0;
  {
    auto lease = pool.Acquire();
    ASSERT_TRUE(lease.ok()) << lease.status();
    first_id = (*lease)->id;
    EXPECT_EQ(pool.InUse(), 1);
  }
  EXPECT_EQ(pool.InUse(), 0);
  for (int i = 0; i < 5; ++i) {
    auto lease = pool.Acquire();
    ASSERT_TRUE(lease.ok()) << lease.status();
    EXPECT_EQ((*lease)->id, first_id);
  }
  EXPECT_EQ(database.calls(), 1);
  EXPECT_EQ(database.tally().live.load(), 1);
}

TEST(ConnectionPoolTest, AtMostSizeConnectionsThenUnavailableAfterTheAcquireTimeout) {
  FakeDatabase database;
  Pool pool({.size = 2, .acquire_timeout = milliseconds(150), .retry_after = milliseconds(1000)}, database.Factory());
  auto a = pool.Acquire();
  auto b = pool.Acquire();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE((*a)->id, (*b)->id);
  EXPECT_EQ(pool.InUse(), 2);

  const auto start = steady_clock::now();
  auto c = pool.Acquire();
  const auto waited = steady_clock::now() - start;
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(c.status().message(), "all 2 connections busy for 150 ms");
  EXPECT_GE(waited, milliseconds(140));
  EXPECT_LT(waited, milliseconds(5000));
  EXPECT_EQ(database.calls(), 2);
  EXPECT_EQ(pool.InUse(), 2);
}

TEST(ConnectionPoolTest, AWaiterGetsAConnectionReleasedDuringItsWait) {
  FakeDatabase database;
  Pool pool({.size = 1, .acquire_timeout = milliseconds(5000), .retry_after = milliseconds(1000)}, database.Factory());
  std::optional<Pool::Lease> held;
  {
    auto lease = pool.Acquire();
    ASSERT_TRUE(lease.ok());
    held.emplace(std::move(lease).value());
  }
  const int id = (*held)->id;
  std::atomic<bool> acquired{false};
  int waiter_id = 0;
  std::thread waiter([&] {
    auto lease = pool.Acquire();
    ASSERT_TRUE(lease.ok()) << lease.status();
    waiter_id = (*lease)->id;
    acquired = true;
  });
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_FALSE(acquired.load());
  held.reset();
  waiter.join();
  EXPECT_TRUE(acquired.load());
  EXPECT_EQ(waiter_id, id);
  EXPECT_EQ(database.calls(), 1);
  EXPECT_EQ(pool.InUse(), 0);
}

TEST(ConnectionPoolTest, FailsFastAfterAFailedConnectUntilRetryAfter) {
  FakeDatabase database;
  database.Fail("connection refused");
  // retry_after is long enough that a loaded machine cannot cross it between two steps that must fall
  // inside it.
  Pool pool({.size = 4, .acquire_timeout = milliseconds(10000), .retry_after = milliseconds(1000)}, database.Factory());
  auto first = pool.Acquire();
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(first.status().message(), "connection refused");
  EXPECT_EQ(database.calls(), 1);
  EXPECT_EQ(pool.InUse(), 0);
  EXPECT_EQ(pool.LastConnectError().message(), "connection refused");

  // Within retry_after: refused at once with the last error, without trying.
  database.Succeed();
  const auto start = steady_clock::now();
  for (int i = 0; i < 10; ++i) {
    auto again = pool.Acquire();
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.status().message(), "connection refused");
  }
  EXPECT_LT(steady_clock::now() - start, milliseconds(1000));  // not one acquire_timeout
  EXPECT_EQ(database.calls(), 1);

  // After retry_after, one attempt; a failure restarts the wait.
  database.Fail("still refused");
  std::this_thread::sleep_for(milliseconds(1100));
  auto retried = pool.Acquire();
  ASSERT_FALSE(retried.ok());
  EXPECT_EQ(retried.status().message(), "still refused");
  EXPECT_EQ(database.calls(), 2);
  EXPECT_FALSE(pool.Acquire().ok());
  EXPECT_EQ(database.calls(), 2);

  // And a success ends fail-fast.
  database.Succeed();
  std::this_thread::sleep_for(milliseconds(1100));
  auto connected = pool.Acquire();
  ASSERT_TRUE(connected.ok()) << connected.status();
  EXPECT_EQ(database.calls(), 3);
  EXPECT_TRUE(pool.LastConnectError().ok());
  auto second = pool.Acquire();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(database.calls(), 4);
  EXPECT_EQ(pool.InUse(), 2);
}

TEST(ConnectionPoolTest, IdleConnectionsAreStillHandedOutWhileConnectsFail) {
  FakeDatabase database;
  Pool pool({.size = 2, .acquire_timeout = milliseconds(100), .retry_after = milliseconds(10000)}, database.Factory());
  auto a = pool.Acquire();
  ASSERT_TRUE(a.ok());
  const int id = (*a)->id;
  database.Fail("refused");
  EXPECT_FALSE(pool.Acquire().ok());  // a second connection cannot be made
  { auto release = std::move(a).value(); }
  auto reused = pool.Acquire();
  ASSERT_TRUE(reused.ok()) << reused.status();
  EXPECT_EQ((*reused)->id, id);
  EXPECT_EQ(database.calls(), 2);
}

TEST(ConnectionPoolTest, OnlyOneCallerRetriesAtATime) {
  FakeDatabase database;
  database.Fail("refused");
  Pool pool({.size = 4, .acquire_timeout = milliseconds(1000), .retry_after = milliseconds(50)}, database.Factory());
  EXPECT_FALSE(pool.Acquire().ok());
  std::this_thread::sleep_for(milliseconds(100));
  database.Succeed();
  database.Block(true);
  std::optional<StatusOr<Pool::Lease>> retry;
  std::thread retrier([&] { retry.emplace(pool.Acquire()); });
  database.WaitUntilConnecting();
  // While that retry is in progress, others are refused at once rather than connecting too.
  auto other = pool.Acquire();
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().message(), "refused");
  EXPECT_EQ(database.calls(), 2);
  database.Block(false);
  retrier.join();
  ASSERT_TRUE(retry.has_value());
  ASSERT_TRUE(retry->ok()) << retry->status();
  retry.reset();
  auto after = pool.Acquire();
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(database.calls(), 2);  // the retried connection, reused
}

// A database that accepts connections but stops answering: after one call ran into its deadline,
// the others are refused at once (not each held for its own deadline), idle connections to the hung
// server are closed, and one trial at a time finds out whether it answers again.
TEST(ConnectionPoolTest, ATrippedPoolRefusesAtOnceThenLetsOneTrialThrough) {
  FakeDatabase database;
  Pool pool({.size = 4, .acquire_timeout = milliseconds(5000), .retry_after = milliseconds(1000)}, database.Factory());
  {
    auto a = pool.Acquire();
    auto b = pool.Acquire();
    ASSERT_TRUE(a.ok() && b.ok());
  }  // two idle connections
  EXPECT_EQ(database.tally().live.load(), 2);
  {
    auto timed_out = pool.Acquire();
    ASSERT_TRUE(timed_out.ok());
    pool.Trip(Unavailable("PostgreSQL did not answer within 6000 ms"));
    timed_out->Discard();
  }
  EXPECT_TRUE(pool.IsTripped());
  EXPECT_EQ(database.tally().live.load(), 0);  // the idle one closed too
  const auto start = steady_clock::now();
  for (int i = 0; i < 10; ++i) {
    auto refused = pool.Acquire();
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.status().message(), "PostgreSQL did not answer within 6000 ms");
  }
  EXPECT_LT(steady_clock::now() - start, milliseconds(1000));
  const int connects = database.calls();

  // After retry_after: one trial; while it is out, others are still refused.
  std::this_thread::sleep_for(milliseconds(1100));
  {
    auto trial = pool.Acquire();
    ASSERT_TRUE(trial.ok()) << trial.status();
    EXPECT_EQ(database.calls(), connects + 1);
    EXPECT_FALSE(pool.Acquire().ok());
    pool.Trip(Unavailable("still hung"));  // the trial timed out as well
    trial->Discard();
  }
  EXPECT_FALSE(pool.Acquire().ok());  // its wait restarted

  std::this_thread::sleep_for(milliseconds(1100));
  {
    auto trial = pool.Acquire();
    ASSERT_TRUE(trial.ok()) << trial.status();
  }  // answered: released with its connection
  EXPECT_FALSE(pool.IsTripped());
  auto a = pool.Acquire();
  auto b = pool.Acquire();
  EXPECT_TRUE(a.ok() && b.ok());
}

TEST(ConnectionPoolTest, DiscardFreesTheSlotAndDropsTheConnection) {
  FakeDatabase database;
  Pool pool({.size = 1, .acquire_timeout = milliseconds(5000), .retry_after = milliseconds(1000)}, database.Factory());
  int first_id = 0;
  {
    auto lease = pool.Acquire();
    ASSERT_TRUE(lease.ok());
    first_id = (*lease)->id;
    lease->Discard();
    EXPECT_EQ(database.tally().destroyed.load(), 1);
    EXPECT_EQ(pool.InUse(), 1);  // until the lease ends
  }
  EXPECT_EQ(pool.InUse(), 0);
  // The slot is free (no timeout in a pool of one) and a new connection is made.
  const auto start = steady_clock::now();
  auto next = pool.Acquire();
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_LT(steady_clock::now() - start, milliseconds(2500));  // well below the 5 s acquire_timeout
  EXPECT_NE((*next)->id, first_id);
  EXPECT_EQ(database.calls(), 2);
  EXPECT_EQ(database.tally().live.load(), 1);
}

TEST(ConnectionPoolTest, MovedLeaseReturnsTheConnectionOnce) {
  FakeDatabase database;
  Pool pool({.size = 2, .acquire_timeout = milliseconds(100), .retry_after = milliseconds(1000)}, database.Factory());
  {
    auto lease = pool.Acquire();
    ASSERT_TRUE(lease.ok());
    Pool::Lease moved(std::move(lease).value());
    Pool::Lease moved_again(std::move(moved));
    EXPECT_EQ(pool.InUse(), 1);
  }
  EXPECT_EQ(pool.InUse(), 0);
  auto a = pool.Acquire();
  auto b = pool.Acquire();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(database.calls(), 2);  // one reused, one new: the first was returned exactly once
  EXPECT_NE((*a)->id, (*b)->id);
}

TEST(ConnectionPoolTest, DestroyingThePoolClosesIdleConnections) {
  FakeDatabase database;
  {
    Pool pool({.size = 3, .acquire_timeout = milliseconds(100), .retry_after = milliseconds(1000)}, database.Factory());
    auto a = pool.Acquire();
    auto b = pool.Acquire();
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(database.tally().live.load(), 2);
  }
  EXPECT_EQ(database.tally().live.load(), 0);
  EXPECT_EQ(database.tally().destroyed.load(), 2);
}

TEST(ConnectionPoolTest, ManyThreadsNeverExceedTheSize) {
  FakeDatabase database;
  Pool pool({.size = 3, .acquire_timeout = milliseconds(5000), .retry_after = milliseconds(1000)}, database.Factory());
  std::atomic<int> concurrent{0};
  std::atomic<int> peak{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        auto lease = pool.Acquire();
        if (!lease.ok()) {
          ++failures;
          continue;
        }
        const int now = ++concurrent;
        int seen = peak.load();
        while (now > seen && !peak.compare_exchange_weak(seen, now)) {
        }
        std::this_thread::yield();
        --concurrent;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_LE(peak.load(), 3);
  EXPECT_LE(database.calls(), 3);
  EXPECT_EQ(pool.InUse(), 0);
}

// --- COPY text format ---------------------------------------------------------------------------------

std::string Field(std::optional<std::string_view> value, std::string row = {}) {
  AppendCopyField(row, value);
  return row;
}

// PostgreSQL's reading of one COPY text field (the escapes AppendCopyField may produce).
std::optional<std::string> Unescape(std::string_view field) {
  if (field == "\\N") return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] != '\\') {
      out += field[i];
      continue;
    }
    const char next = field.at(++i);
    out += next == 't' ? '\t' : next == 'n' ? '\n' : next == 'r' ? '\r' : next;
  }
  return out;
}

TEST(AppendCopyFieldTest, EscapesTheCharactersOfTheTextFormat) {
  EXPECT_EQ(Field("plain value"), "plain value");
  EXPECT_EQ(Field("a\tb"), "a\\tb");
  EXPECT_EQ(Field("line1\nline2"), "line1\\nline2");
  EXPECT_EQ(Field("C:\\dir"), "C:\\\\dir");
  EXPECT_EQ(Field("cr\r"), "cr\\r");
  EXPECT_EQ(Field(std::nullopt), "\\N");
  EXPECT_EQ(Field(""), "");                 // an empty string is not NULL
  EXPECT_EQ(Field("\\N"), "\\\\N");         // nor is the text \N
  EXPECT_EQ(Field("\\."), "\\\\.");         // nor the end-of-data marker
  EXPECT_EQ(Field("Société Générale"), "Société Générale");
  EXPECT_EQ(Field("value", "320193\t"), "320193\tvalue");  // appends
}

TEST(AppendCopyFieldTest, RowsReadBackAsWritten) {
  const std::vector<std::optional<std::string>> values = {
      "0000320193-25-000079", std::nullopt, "", "tab\there", "new\nline", "back\\slash\\", "\\N", "\t\n\\\r", "7.46"};
  std::string row;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) row += '\t';
    AppendCopyField(row, values[i] ? std::optional<std::string_view>(*values[i]) : std::nullopt);
  }
  row += '\n';
  // One line, fields split on the raw tabs only.
  EXPECT_EQ(row.find('\n'), row.size() - 1);
  std::vector<std::optional<std::string>> read;
  std::size_t start = 0;
  const std::string_view line(row.data(), row.size() - 1);
  while (true) {
    const auto tab = line.find('\t', start);
    read.push_back(Unescape(line.substr(start, tab == std::string_view::npos ? std::string_view::npos : tab - start)));
    if (tab == std::string_view::npos) break;
    start = tab + 1;
  }
  EXPECT_EQ(read, values);
}

}  // namespace
}  // namespace financialapi::db
