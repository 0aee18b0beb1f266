#include "common/time_util.h"

#include <gtest/gtest.h>

namespace kino {
namespace {

TEST(Rfc3339, FormatsAndParses) {
  int64_t t = 1537460365123456;
  EXPECT_EQ(FormatRfc3339(t), "2018-09-20T16:19:25.123456Z");
  EXPECT_EQ(FormatRfc3339(t, 0), "2018-09-20T16:19:25Z");
  EXPECT_EQ(*ParseRfc3339("2018-09-20T16:19:25.123456Z"), t);
  EXPECT_EQ(*ParseRfc3339("2018-09-20T18:19:25+02:00"), 1537460365000000);
}

TEST(Rfc3339, RejectsMalformed) {
  EXPECT_FALSE(ParseRfc3339("2018-09-20").has_value());
  EXPECT_FALSE(ParseRfc3339("2018-13-20T16:19:25Z").has_value());
  EXPECT_FALSE(ParseRfc3339("2018-09-20T16:19:25").has_value());
  EXPECT_FALSE(ParseRfc3339("2018-09-20T16:19:25Zjunk").has_value());
}

TEST(HttpDate, RoundTripsImfFixdate) {
  EXPECT_EQ(FormatHttpDate(784111777000000), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(*ParseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777000000);
  EXPECT_FALSE(ParseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT").has_value());
}

}  // namespace
}  // namespace kino
