// Real PostgreSQL and Redis (started on loopback by the environment.databases fixture).
#include <unistd.h>

#include <gtest/gtest.h>

#include "financialapi/db/postgres.h"
#include "financialapi/db/redis.h"
#include "support/test_environment.h"

namespace financialapi::db {
namespace {

std::unique_ptr<PostgresConnection> ConnectPostgres() {
  const std::string url = testing::PostgresUrl();
  EXPECT_FALSE(url.empty()) << "the databases fixture did not run";
  auto connection = PostgresConnection::Connect(url);
  EXPECT_TRUE(connection.ok()) << connection.status();
  return connection.ok() ? std::move(connection).value() : nullptr;
}

std::unique_ptr<RedisConnection> ConnectRedis() {
  auto endpoint = ParseRedisUrl(testing::RedisUrl());
  EXPECT_TRUE(endpoint.ok()) << endpoint.status();
  if (!endpoint.ok()) return nullptr;
  auto connection = RedisConnection::Connect(*endpoint);
  EXPECT_TRUE(connection.ok()) << connection.status();
  return connection.ok() ? std::move(connection).value() : nullptr;
}

TEST(PostgresTest, WritesAndReadsBackWithParameters) {
  auto pg = ConnectPostgres();
  ASSERT_NE(pg, nullptr);
  const std::string table = "t_" + std::to_string(::getpid()) + "_roundtrip";
  ASSERT_TRUE(pg->ExecuteScript("CREATE TABLE " + table + " (cik bigint PRIMARY KEY, name text, value numeric)").ok());

  auto inserted = pg->Execute("INSERT INTO " + table + " VALUES ($1, $2, $3), ($4, $5, NULL)",
                              {"320193", "Apple Inc. ('AAPL')", "359241000000", "1045810", "NVIDIA CORP"});
  ASSERT_TRUE(inserted.ok()) << inserted.status();
  EXPECT_EQ(inserted->affected_rows, 2);

  auto rows = pg->Execute("SELECT cik, name, value FROM " + table + " ORDER BY cik");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->rows.size(), 2U);
  EXPECT_EQ(rows->columns, (std::vector<std::string>{"cik", "name", "value"}));
  EXPECT_EQ(rows->rows[0][0], "320193");
  EXPECT_EQ(rows->rows[0][1], "Apple Inc. ('AAPL')");
  EXPECT_EQ(rows->rows[0][2], "359241000000");
  EXPECT_EQ(rows->rows[1][2], std::nullopt);
  EXPECT_TRUE(pg->ExecuteScript("DROP TABLE " + table).ok());
}

TEST(PostgresTest, AStatementTimeoutCarriesItsSqlStateAsTheReason) {
  auto pg = ConnectPostgres();
  ASSERT_NE(pg, nullptr);
  ASSERT_TRUE(pg->Execute("SET statement_timeout = 50").ok());
  auto slow = pg->Execute("SELECT pg_sleep(2)");
  ASSERT_FALSE(slow.ok());
  EXPECT_EQ(slow.status().reason(), kSqlStateQueryCanceled) << slow.status();
  EXPECT_TRUE(pg->IsHealthy()) << "a cancelled statement leaves the connection usable";
}

TEST(PostgresTest, SqlErrorsAreValuesWithTheSqlState) {
  auto pg = ConnectPostgres();
  ASSERT_NE(pg, nullptr);
  auto result = pg->Execute("SELECT * FROM table_that_does_not_exist");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("42P01"), std::string::npos) << result.status();
  EXPECT_EQ(result.status().reason(), db::kSqlStateUndefinedTable) << result.status();
  EXPECT_TRUE(pg->IsHealthy()) << "a SQL error must not break the connection";
}

TEST(PostgresTest, UnreachableServerIsUnavailable) {
  auto connection = PostgresConnection::Connect("postgresql://postgres@127.0.0.1:1/postgres", 2);
  ASSERT_FALSE(connection.ok());
  EXPECT_EQ(connection.status().code(), StatusCode::kUnavailable);
}

TEST(RedisTest, WritesAndReadsBackUnderAKeyPrefix) {
  auto redis = ConnectRedis();
  ASSERT_NE(redis, nullptr);
  const std::string key = "test:" + std::to_string(::getpid()) + ":roundtrip";
  const std::string value = std::string("binary\0safe", 11);
  auto set = redis->Command({"SET", key, value, "EX", "60"});
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->text, "OK");

  auto got = redis->Command({"GET", key});
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->type, RedisReply::Type::kString);
  EXPECT_EQ(got->text, value);

  auto ttl = redis->Command({"TTL", key});
  ASSERT_TRUE(ttl.ok());
  EXPECT_GT(ttl->integer, 0);
  EXPECT_LE(ttl->integer, 60);

  ASSERT_TRUE(redis->Command({"DEL", key}).ok());
  auto missing = redis->Command({"GET", key});
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->type, RedisReply::Type::kNil);
}

TEST(RedisTest, ErrorReplyIsAValueAndKeepsTheConnection) {
  auto redis = ConnectRedis();
  ASSERT_NE(redis, nullptr);
  const std::string key = "test:" + std::to_string(::getpid()) + ":list";
  ASSERT_TRUE(redis->Command({"RPUSH", key, "a"}).ok());
  auto wrong_type = redis->Command({"GET", key});
  ASSERT_FALSE(wrong_type.ok());
  EXPECT_EQ(wrong_type.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(wrong_type.status().message().find("WRONGTYPE"), std::string::npos);
  EXPECT_FALSE(redis->IsBroken());
  EXPECT_TRUE(redis->Command({"DEL", key}).ok());
}

TEST(RedisTest, UnreachableServerIsUnavailable) {
  auto connection = RedisConnection::Connect({.host = "127.0.0.1", .port = 1}, std::chrono::milliseconds(500));
  ASSERT_FALSE(connection.ok());
  EXPECT_EQ(connection.status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace financialapi::db

namespace financialapi::db {
namespace {

TEST(PostgresTest, PreparedStatementsArePreparedOnceAndAnswerLikeUnpreparedOnes) {
  auto pg = ConnectPostgres();
  ASSERT_NE(pg, nullptr);
  const std::string sql = "SELECT $1::int + 1, $2::text";
  auto plain = pg->Execute(sql, {"41", "x"});
  ASSERT_TRUE(plain.ok()) << plain.status();
  pg->set_prepare_statements(true);
  for (int i = 0; i < 3; ++i) {
    auto prepared = pg->Execute(sql, {"41", "x"});
    ASSERT_TRUE(prepared.ok()) << prepared.status();
    EXPECT_EQ(prepared->rows, plain->rows);
  }
  auto statements = pg->Execute("SELECT count(*) FROM pg_prepared_statements WHERE statement = $1", {sql});
  ASSERT_TRUE(statements.ok()) << statements.status();
  EXPECT_EQ(statements->rows.at(0).at(0), "1");
  // A statement that fails to prepare is reported like any SQL error and not remembered.
  auto broken = pg->Execute("SELECT FROM no_such_table_here");
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(broken.status().message().find("42P01"), std::string::npos);
  EXPECT_EQ(broken.status().reason(), db::kSqlStateUndefinedTable) << broken.status();
}

}  // namespace
}  // namespace financialapi::db
