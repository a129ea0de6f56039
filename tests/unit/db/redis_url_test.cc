#include <gtest/gtest.h>

#include "financialapi/db/redis.h"

namespace financialapi::db {
namespace {

TEST(RedisUrlTest, ParsesHostPortPasswordAndDatabase) {
  auto full = ParseRedisUrl("redis://:pa55@cache.svc:6380/2");
  ASSERT_TRUE(full.ok()) << full.status();
  EXPECT_EQ(full->host, "cache.svc");
  EXPECT_EQ(full->port, 6380);
  EXPECT_EQ(full->password, "pa55");
  EXPECT_EQ(full->database, 2);

  auto minimal = ParseRedisUrl("redis://redis");
  ASSERT_TRUE(minimal.ok());
  EXPECT_EQ(minimal->host, "redis");
  EXPECT_EQ(minimal->port, 6379);
  EXPECT_EQ(minimal->database, 0);
}

TEST(RedisUrlTest, RejectsMalformedUrls) {
  EXPECT_FALSE(ParseRedisUrl("http://redis:6379").ok());
  EXPECT_FALSE(ParseRedisUrl("redis://redis:notaport").ok());
  EXPECT_FALSE(ParseRedisUrl("redis://redis:70000").ok());
  EXPECT_FALSE(ParseRedisUrl("redis://redis:6379/x").ok());
}

}  // namespace
}  // namespace financialapi::db
