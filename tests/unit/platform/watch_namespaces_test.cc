// --watch-namespace values: the list the operator's caches are built from.
#include <gtest/gtest.h>

#include "financialapi/platform/reconciler.h"

namespace financialapi::platform {
namespace {

using Names = std::vector<std::string>;

TEST(WatchNamespacesTest, EmptyOrStarIsEveryNamespace) {
  for (const char* all : {"", "*", "  ", " * "}) {
    auto parsed = ParseWatchNamespaces(all);
    ASSERT_TRUE(parsed.ok()) << all << ": " << parsed.status();
    EXPECT_TRUE(parsed->empty()) << all;
  }
}

TEST(WatchNamespacesTest, ACommaSeparatedListKeepsItsOrderWithoutDuplicates) {
  auto one = ParseWatchNamespaces("team-a");
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(*one, Names{"team-a"});
  auto many = ParseWatchNamespaces("team-b, team-a,team-b ,x1");
  ASSERT_TRUE(many.ok()) << many.status();
  EXPECT_EQ(*many, (Names{"team-b", "team-a", "x1"}));
}

TEST(WatchNamespacesTest, AnEntryThatIsNotANamespaceNameIsRefusedByName) {
  const std::vector<std::string> bad_values = {"a,,b", "a,", "Team", "a_b", "-a", "a-", "a,*", std::string(64, 'a')};
  for (const std::string& bad : bad_values) {
    auto parsed = ParseWatchNamespaces(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(parsed.status().message().find("is not a namespace name"), std::string::npos) << parsed.status();
  }
  EXPECT_NE(ParseWatchNamespaces("ok,Bad").status().message().find("'Bad'"), std::string::npos);
}

}  // namespace
}  // namespace financialapi::platform
