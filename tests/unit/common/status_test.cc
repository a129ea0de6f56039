#include "financialapi/common/status.h"

#include <gtest/gtest.h>

#include "financialapi/common/base64.h"
#include "financialapi/common/strings.h"

namespace financialapi {
namespace {

StatusOr<int> ParsePositive(int value) {
  if (value <= 0) return InvalidArgument("not positive: " + std::to_string(value));
  return value;
}

StatusOr<int> Doubled(int value) {
  FINANCIALAPI_ASSIGN_OR_RETURN(const int parsed, ParsePositive(value));
  return parsed * 2;
}

TEST(StatusTest, OkAndErrorsRenderForHumans) {
  EXPECT_TRUE(Status::Ok().ok());
  EXPECT_EQ(Status::Ok().ToString(), "OK");
  const Status missing = NotFound("configmap x");
  EXPECT_FALSE(missing.ok());
  EXPECT_EQ(missing.ToString(), "NotFound: configmap x");
  EXPECT_EQ(missing.WithContext("reconciling").message(), "reconciling: configmap x");
  EXPECT_EQ(missing.WithContext("reconciling").code(), StatusCode::kNotFound);
}

TEST(StatusTest, AReasonSurvivesContextAndAnOkStatusTakesNone) {
  const Status refused = Unavailable("connect").WithReason("ConnectFailed");
  EXPECT_EQ(refused.reason(), "ConnectFailed");
  EXPECT_EQ(refused.WithContext("GET /version").reason(), "ConnectFailed");
  EXPECT_EQ(refused.WithContext("GET /version").code(), StatusCode::kUnavailable);
  EXPECT_EQ(Status::Ok().WithReason("x").reason(), "");
  EXPECT_TRUE(Status::Ok().WithReason("x").ok());
  EXPECT_EQ(NotFound("x").reason(), "") << "no reason unless a producer sets one";
}

TEST(StatusTest, StatusOrCarriesValueOrError) {
  auto good = Doubled(21);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 42);
  auto bad = Doubled(-1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(), "not positive: -1");
  EXPECT_EQ(bad.value_or(7), 7);
}

TEST(Base64Test, RoundTripsAllLengths) {
  const std::string samples[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\0\xff\x10", 3)};
  for (const auto& raw : samples) {
    const std::string encoded = Base64Encode(raw);
    auto decoded = Base64Decode(encoded);
    ASSERT_TRUE(decoded.ok()) << encoded;
    EXPECT_EQ(*decoded, raw);
  }
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
}

TEST(Base64Test, RejectsGarbageAndIgnoresLineBreaks) {
  EXPECT_FALSE(Base64Decode("Zm9v!").ok());
  EXPECT_FALSE(Base64Decode("Zm9").ok());
  EXPECT_FALSE(Base64Decode("Zg==Zg==").ok());
  auto wrapped = Base64Decode("Zm9v\nYmFy\n");
  ASSERT_TRUE(wrapped.ok());
  EXPECT_EQ(*wrapped, "foobar");
}

TEST(StringsTest, TrimRemovesSurroundingWhitespaceOnly) {
  EXPECT_EQ(Trim("  a b \n"), "a b");
  EXPECT_EQ(Trim("\t\r\n "), "");
  EXPECT_EQ(Trim("x"), "x");
}

TEST(StringsTest, AsciiLowerTouchesOnlyAToZ) {
  EXPECT_EQ(AsciiLower("Micro-Soft 10-K \xC3\x89"), "micro-soft 10-k \xC3\x89");
}

TEST(StringsTest, SplitAndTrimKeepsEmptyParts) {
  using Parts = std::vector<std::string_view>;
  EXPECT_EQ(SplitAndTrim("", ','), Parts{""});
  EXPECT_EQ(SplitAndTrim(" a , b,,c ", ','), (Parts{"a", "b", "", "c"}));
  EXPECT_EQ(SplitAndTrim("a,", ','), (Parts{"a", ""}));
}

TEST(StringsTest, IsUtf8AcceptsWellFormedTextOnly) {
  EXPECT_TRUE(IsUtf8(""));
  EXPECT_TRUE(IsUtf8("Apple Inc."));
  EXPECT_TRUE(IsUtf8("\xC3\x89lectricit\xC3\xA9"));        // Électricité
  EXPECT_TRUE(IsUtf8("\xF0\x9F\x93\x88"));                  // U+1F4C8
  EXPECT_FALSE(IsUtf8("\xFF"));
  EXPECT_FALSE(IsUtf8("App\xC3"));                            // cut short
  EXPECT_FALSE(IsUtf8("\xC0\xAF"));                          // overlong '/'
  EXPECT_FALSE(IsUtf8("\xED\xA0\x80"));                      // a surrogate
  EXPECT_FALSE(IsUtf8("\xF4\x90\x80\x80"));                  // past U+10FFFF
  EXPECT_EQ(Utf8SequenceLength("a\xC3\xA9", 0), 1u);
  EXPECT_EQ(Utf8SequenceLength("a\xC3\xA9", 1), 2u);
  EXPECT_EQ(Utf8SequenceLength("a\xC3\xA9", 2), 0u) << "a continuation byte starts nothing";
}

TEST(StringsTest, JoinPutsTheSeparatorBetweenParts) {
  EXPECT_EQ(Join({}, ", "), "");
  EXPECT_EQ(Join({"a"}, ", "), "a");
  EXPECT_EQ(Join({"a", "", "c"}, ","), "a,,c");
}

}  // namespace
}  // namespace financialapi
