#include <gtest/gtest.h>

#include "financialapi/db/postgres.h"
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

TEST(RedisUrlTest, ErrorsDoNotRepeatThePassword) {
  // rediss:// (TLS) is not supported; the message quotes the URL, without its password.
  auto tls = ParseRedisUrl("rediss://:hunter2@cache:6380");
  ASSERT_FALSE(tls.ok());
  EXPECT_EQ(tls.status().message().find("hunter2"), std::string::npos) << tls.status();
  EXPECT_NE(tls.status().message().find("rediss://:***@cache:6380"), std::string::npos) << tls.status();
}

TEST(RedisUrlTest, ThePasswordIsPercentDecodedAsTheOperatorEncodesIt) {
  auto url = ParseRedisUrl("redis://:p%40ss%3Aw%2Frd@cache:6379/0");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->password, "p@ss:w/rd");
  EXPECT_EQ(url->host, "cache");
  EXPECT_FALSE(ParseRedisUrl("redis://:bad%zz@cache").ok());
}

TEST(PostgresConnectTest, AnUnparsableUrlIsRefusedWithoutShowingThePassword) {
  // libpq quotes the token it cannot decode; that token is the password here. No server is needed.
  auto connection = PostgresConnection::Connect("postgresql://app:s3cret%zz@127.0.0.1:1/db", 1);
  ASSERT_FALSE(connection.ok());
  EXPECT_EQ(connection.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(connection.status().message().find("s3cret"), std::string::npos) << connection.status();
  EXPECT_NE(connection.status().message().find("***"), std::string::npos) << connection.status();
}

TEST(RedisUrlTest, RejectsMalformedUrls) {
  EXPECT_FALSE(ParseRedisUrl("http://redis:6379").ok());
  EXPECT_FALSE(ParseRedisUrl("redis://redis:notaport").ok());
  EXPECT_FALSE(ParseRedisUrl("redis://redis:70000").ok());
  EXPECT_FALSE(ParseRedisUrl("redis://redis:6379/x").ok());
}

}  // namespace
}  // namespace financialapi::db
