#include "financialapi/db/redis.h"

#include <charconv>

#include <hiredis/hiredis.h>

#include "financialapi/common/redact.h"
#include "financialapi/common/strings.h"

namespace financialapi::db {
namespace {

RedisReply Convert(const redisReply* reply) {
  RedisReply out;
  switch (reply->type) {
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::kString;
      out.text.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::kStatus;
      out.text.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::kInteger;
      out.integer = reply->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::kArray;
      out.elements.reserve(reply->elements);
      for (std::size_t i = 0; i < reply->elements; ++i) out.elements.push_back(Convert(reply->element[i]));
      break;
    default:
      out.type = RedisReply::Type::kNil;
      break;
  }
  return out;
}

timeval ToTimeval(std::chrono::milliseconds timeout) {
  timeval tv{};
  tv.tv_sec = static_cast<decltype(tv.tv_sec)>(timeout.count() / 1000);
  tv.tv_usec = static_cast<decltype(tv.tv_usec)>((timeout.count() % 1000) * 1000);
  return tv;
}

}  // namespace

StatusOr<RedisEndpoint> ParseRedisUrl(const std::string& url) {
  constexpr std::string_view kScheme = "redis://";
  if (!url.starts_with(kScheme)) return InvalidArgument("Redis URL '" + RedactSecrets(url) + "' must start with redis://");
  std::string rest = url.substr(kScheme.size());
  RedisEndpoint endpoint;
  if (const auto at = rest.rfind('@'); at != std::string::npos) {
    std::string credentials = rest.substr(0, at);
    rest = rest.substr(at + 1);
    const auto colon = credentials.find(':');
    // Percent-encoded, as the operator writes it (a password may hold '@', ':' or '/').
    if (!PercentDecode(colon == std::string::npos ? credentials : credentials.substr(colon + 1), false, endpoint.password)) {
      return InvalidArgument("Redis URL has a malformed percent-escape in its password");
    }
  }
  if (const auto slash = rest.find('/'); slash != std::string::npos) {
    const std::string db = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
    if (!db.empty()) {
      const auto [ptr, ec] = std::from_chars(db.data(), db.data() + db.size(), endpoint.database);
      if (ec != std::errc() || ptr != db.data() + db.size() || endpoint.database < 0) {
        return InvalidArgument("Redis URL has an invalid database number '" + db + "'");
      }
    }
  }
  if (const auto colon = rest.rfind(':'); colon != std::string::npos) {
    const std::string port = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
    const auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), endpoint.port);
    if (ec != std::errc() || ptr != port.data() + port.size() || endpoint.port <= 0 || endpoint.port > 65535) {
      return InvalidArgument("Redis URL has an invalid port '" + port + "'");
    }
  }
  if (!rest.empty()) endpoint.host = rest;
  return endpoint;
}

StatusOr<std::unique_ptr<RedisConnection>> RedisConnection::Connect(const RedisEndpoint& endpoint,
                                                                     std::chrono::milliseconds timeout) {
  const timeval tv = ToTimeval(timeout);
  redisContext* context = redisConnectWithTimeout(endpoint.host.c_str(), endpoint.port, tv);
  const std::string where = endpoint.host + ":" + std::to_string(endpoint.port);
  if (context == nullptr) return Unavailable("cannot connect to Redis at " + where + ": out of memory");
  if (context->err != 0) {
    std::string message = context->errstr;
    redisFree(context);
    return Unavailable("cannot connect to Redis at " + where + ": " + message);
  }
  redisSetTimeout(context, tv);
  std::unique_ptr<RedisConnection> connection(new RedisConnection(context));
  if (!endpoint.password.empty()) {
    auto auth = connection->Command({"AUTH", endpoint.password});
    if (!auth.ok() && auth.status().code() == StatusCode::kUnavailable) return auth.status().WithContext("Redis AUTH");
    // The reply names the problem (WRONGPASS, or no password set); it never repeats the password.
    if (!auth.ok()) return Status(StatusCode::kUnauthenticated, "Redis AUTH failed at " + where + ": " + auth.status().message());
  }
  if (endpoint.database != 0) {
    auto select = connection->Command({"SELECT", std::to_string(endpoint.database)});
    if (!select.ok()) return select.status().WithContext("Redis SELECT");
  }
  return connection;
}

RedisConnection::~RedisConnection() { redisFree(context_); }

StatusOr<RedisReply> RedisConnection::Command(const std::vector<std::string>& args) {
  if (broken_) return Unavailable("Redis connection is broken; reconnect");
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  argv.reserve(args.size());
  lengths.reserve(args.size());
  for (const auto& arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  auto* raw = static_cast<redisReply*>(redisCommandArgv(context_, static_cast<int>(args.size()), argv.data(), lengths.data()));
  if (raw == nullptr) {
    broken_ = true;
    return Unavailable(std::string("Redis connection failed: ") + (context_->err != 0 ? context_->errstr : "no reply"));
  }
  std::unique_ptr<redisReply, decltype(&freeReplyObject)> reply(raw, &freeReplyObject);
  if (reply->type == REDIS_REPLY_ERROR) {
    return InvalidArgument("Redis error: " + std::string(reply->str, reply->len));
  }
  return Convert(reply.get());
}

}  // namespace financialapi::db
