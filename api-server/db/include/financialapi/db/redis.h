// A Redis connection on hiredis: commands as argument vectors, replies as values, failures as Status.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "financialapi/common/status.h"

struct redisContext;

namespace financialapi::db {

struct RedisReply {
  enum class Type { kNil, kString, kInteger, kArray, kStatus };
  Type type = Type::kNil;
  std::string text;               // kString, kStatus
  std::int64_t integer = 0;       // kInteger
  std::vector<RedisReply> elements;  // kArray
};

struct RedisEndpoint {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string password;
  int database = 0;
};

// Parses "redis://[:password@]host[:port][/db]". InvalidArgument when it is not such a URL.
StatusOr<RedisEndpoint> ParseRedisUrl(const std::string& url);

class RedisConnection {
 public:
  // Connects (and AUTH/SELECT when the endpoint says so). Unavailable when the server cannot be
  // reached in `timeout`; the same timeout bounds every later command.
  static StatusOr<std::unique_ptr<RedisConnection>> Connect(const RedisEndpoint& endpoint,
                                                            std::chrono::milliseconds timeout = std::chrono::seconds(2));
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Runs one command. InvalidArgument for an error reply from Redis (wrong type, unknown command),
  // Unavailable when the connection broke (the connection is then unusable: reconnect).
  StatusOr<RedisReply> Command(const std::vector<std::string>& args);

  bool IsBroken() const { return broken_; }

 private:
  explicit RedisConnection(redisContext* context) : context_(context) {}
  redisContext* context_;
  bool broken_ = false;
};

}  // namespace financialapi::db
