// A bounded pool of database connections with fail-fast behaviour while the database is down.
//
// Why fail fast: when PostgreSQL or Redis is unreachable, a request should get its 503 (or fall back
// from the cache) at once instead of every request waiting for its own connect timeout. After a
// failed connect, further connects are refused without trying for `retry_after`, and only one
// caller at a time tries again after that.
//
// The same for a database that accepts connections but stops answering: a call that ran into its
// deadline trips the pool (Trip), and for `retry_after` every Acquire is refused at once instead of
// each request holding a thread for its own deadline; then one caller at a time is let through to
// find out whether it answers again.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "financialapi/common/status.h"

namespace financialapi::db {

template <typename Connection>
class ConnectionPool {
 public:
  using Factory = std::function<StatusOr<std::unique_ptr<Connection>>()>;
  struct Options {
    int size = 8;
    std::chrono::milliseconds acquire_timeout{2000};  // waiting for a busy pool's free connection
    std::chrono::milliseconds retry_after{1000};      // after a failed connect
  };

  // Returns the connection to the pool when destroyed, unless Discard() was called (a connection
  // that reported Unavailable is broken and must not be reused).
  class Lease {
   public:
    Lease(ConnectionPool* pool, std::unique_ptr<Connection> connection, bool trial = false, int trips = 0)
        : pool_(pool), connection_(std::move(connection)), trial_(trial), trips_(trips) {}
    Lease(Lease&& other) noexcept
        : pool_(std::exchange(other.pool_, nullptr)),
          connection_(std::move(other.connection_)),
          trial_(other.trial_),
          trips_(other.trips_) {}
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (pool_ != nullptr) pool_->Release(std::move(connection_), trial_, trips_);
    }
    Connection* operator->() const { return connection_.get(); }
    Connection& operator*() const { return *connection_; }
    void Discard() { connection_.reset(); }

   private:
    ConnectionPool* pool_;
    std::unique_ptr<Connection> connection_;
    bool trial_;  // the one call let through while the pool is tripped
    int trips_;   // the pool's trip count when leased: a Trip during the trial keeps the pool tripped
  };

  ConnectionPool(Options options, Factory factory) : options_(options), factory_(std::move(factory)) {}

  // A connection, reused or newly made. Unavailable when connecting fails now or failed less than
  // retry_after ago (the message carries the last connect error), or when all `size` connections
  // stay busy for acquire_timeout.
  //
  // While tripped: the trip's error for retry_after, then one caller (the trial) gets a connection
  // and the others the trip's error until the trial's lease is released.
  StatusOr<Lease> Acquire() {
    std::unique_lock lock(mutex_);
    bool trial = false;
    if (tripped_) {
      if (trial_in_flight_ || std::chrono::steady_clock::now() - tripped_at_ < options_.retry_after) return trip_error_;
      trial = true;
      trial_in_flight_ = true;
    }
    // A trial that ends without a lease leaves the pool tripped, its wait restarted.
    const auto end_trial = [&] {
      if (!trial) return;
      trial_in_flight_ = false;
      tripped_at_ = std::chrono::steady_clock::now();
    };
    const auto deadline = std::chrono::steady_clock::now() + options_.acquire_timeout;
    while (true) {
      if (!idle_.empty()) {
        auto connection = std::move(idle_.back());
        idle_.pop_back();
        ++in_use_;
        return Lease(this, std::move(connection), trial, trips_);
      }
      if (open_ < options_.size) break;
      if (available_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() && open_ >= options_.size) {
        end_trial();
        return Unavailable("all " + std::to_string(options_.size) + " connections busy for " +
                           std::to_string(options_.acquire_timeout.count()) + " ms");
      }
    }
    const auto now = std::chrono::steady_clock::now();
    if (!last_error_.ok() && (connecting_ || now - last_failure_ < options_.retry_after)) {
      end_trial();
      return last_error_;
    }
    ++open_;
    ++in_use_;
    connecting_ = true;
    lock.unlock();
    auto made = factory_();
    lock.lock();
    connecting_ = false;
    if (!made.ok()) {
      --open_;
      --in_use_;
      last_error_ = made.status();
      last_failure_ = std::chrono::steady_clock::now();
      end_trial();
      available_.notify_one();
      return made.status();
    }
    last_error_ = Status::Ok();
    return Lease(this, std::move(made).value(), trial, trips_);
  }

  // A call on a leased connection ran into its deadline or broke: the database may be hung. The
  // idle connections are closed (they lead to the same server) and Acquire refuses with `error` as
  // described there. The caller should also Discard() its lease.
  void Trip(Status error) {
    std::vector<std::unique_ptr<Connection>> closing;
    {
      std::lock_guard lock(mutex_);
      tripped_ = true;
      tripped_at_ = std::chrono::steady_clock::now();
      trip_error_ = std::move(error);
      ++trips_;
      open_ -= static_cast<int>(idle_.size());
      closing.swap(idle_);
    }
    available_.notify_all();
    // Closed outside the lock: closing a connection may itself take a moment.
  }

  bool IsTripped() const {
    std::lock_guard lock(mutex_);
    return tripped_;
  }

  int size() const { return options_.size; }
  int InUse() const {
    std::lock_guard lock(mutex_);
    return in_use_;
  }
  // The error of the last failed connect while no connect has succeeded since; OK otherwise.
  Status LastConnectError() const {
    std::lock_guard lock(mutex_);
    return last_error_;
  }

 private:
  void Release(std::unique_ptr<Connection> connection, bool trial, int trips) {
    std::lock_guard lock(mutex_);
    if (trial) {
      trial_in_flight_ = false;
      if (connection && trips == trips_) {
        tripped_ = false;  // the trial's call went through: the database answers again
      } else {
        tripped_at_ = std::chrono::steady_clock::now();
      }
    }
    --in_use_;
    if (connection) {
      idle_.push_back(std::move(connection));
    } else {
      --open_;
    }
    available_.notify_one();
  }

  const Options options_;
  const Factory factory_;
  mutable std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<Connection>> idle_;
  int open_ = 0;
  int in_use_ = 0;
  bool connecting_ = false;
  Status last_error_;
  std::chrono::steady_clock::time_point last_failure_{};
  bool tripped_ = false;
  bool trial_in_flight_ = false;
  int trips_ = 0;
  Status trip_error_;
  std::chrono::steady_clock::time_point tripped_at_{};
};

}  // namespace financialapi::db
