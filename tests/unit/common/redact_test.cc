// Secrets never reach a log line or an answer: one redaction for every URL and keyword form a
// database address can take, applied by the logger to every line.
#include <gtest/gtest.h>

#include <string>

#include "financialapi/common/logging.h"
#include "financialapi/common/redact.h"

namespace financialapi {
namespace {

TEST(RedactSecretsTest, PasswordsInUrlsAreReplaced) {
  EXPECT_EQ(RedactSecrets("postgres://api:s3cret@db.finance.svc:5432/edgar?sslmode=disable"),
            "postgres://api:***@db.finance.svc:5432/edgar?sslmode=disable");
  EXPECT_EQ(RedactSecrets("postgresql://api:s3cret@pgbouncer/edgar"), "postgresql://api:***@pgbouncer/edgar");
  EXPECT_EQ(RedactSecrets("redis://:hunter2@redis:6379/0"), "redis://:***@redis:6379/0");
  EXPECT_EQ(RedactSecrets("rediss://default:hunter2@redis:6380"), "rediss://default:***@redis:6380");
  // Percent-encoded passwords hold '@', ':' and '/' as %40, %3A, %2F; a raw '@' in one counts up to the last '@'.
  EXPECT_EQ(RedactSecrets("postgres://api:p%40ss%2Fw@db/x"), "postgres://api:***@db/x");
  EXPECT_EQ(RedactSecrets("postgres://api:p@ss@db/x"), "postgres://api:***@db/x");
  // Inside a longer message, several URLs, the rest untouched.
  EXPECT_EQ(RedactSecrets("connecting to postgres://u:p@h/d failed; fallback redis://:q@r:1 also failed"),
            "connecting to postgres://u:***@h/d failed; fallback redis://:***@r:1 also failed");
  // Without a password nothing changes.
  EXPECT_EQ(RedactSecrets("postgres://api@db/edgar"), "postgres://api@db/edgar");
  EXPECT_EQ(RedactSecrets("redis://redis:6379"), "redis://redis:6379");
  EXPECT_EQ(RedactSecrets("see https://example.com/a:b@c"), "see https://example.com/a:b@c");  // '@' in the path
}

TEST(RedactSecretsTest, PasswordsInKeywordFormAreReplaced) {
  EXPECT_EQ(RedactSecrets("host=db user=api password=s3cret dbname=edgar"), "host=db user=api password=*** dbname=edgar");
  EXPECT_EQ(RedactSecrets("host=db password = 's3 cr\\'et' dbname=edgar"), "host=db password = *** dbname=edgar");
  EXPECT_EQ(RedactSecrets("PASSWORD=abc"), "PASSWORD=***");
  EXPECT_EQ(RedactSecrets("postgres://db/edgar?password=s3cret&sslmode=require"),
            "postgres://db/edgar?password=***&sslmode=require");
  EXPECT_EQ(RedactSecrets("requirepass=abc masterauth=def"), "requirepass=*** masterauth=***");
  EXPECT_EQ(RedactSecrets("no secret here"), "no secret here");
  EXPECT_EQ(RedactSecrets("password="), "password=***");
}

TEST(LoggerTest, RedactsPasswordsInMessagesAndFields) {
  const Logger log;
  const std::string line =
      log.Format("cannot connect to postgres://api:s3cret@db/edgar", {{"url", "redis://:hunter2@redis:6379"}}, LogFormat::kText);
  EXPECT_EQ(line.find("s3cret"), std::string::npos) << line;
  EXPECT_EQ(line.find("hunter2"), std::string::npos) << line;
  EXPECT_NE(line.find("postgres://api:***@db/edgar"), std::string::npos) << line;
}

}  // namespace
}  // namespace financialapi
