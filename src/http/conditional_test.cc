#include "http/conditional.h"

#include <gtest/gtest.h>

namespace kino::http {
namespace {

// Sun, 06 Nov 1994 08:49:37 GMT, plus a fraction of a second that HTTP dates cannot carry.
constexpr int64_t kModified = 784111777LL * 1000000 + 250000;
constexpr std::string_view kModifiedDate = "Sun, 06 Nov 1994 08:49:37 GMT";
constexpr std::string_view kEarlierDate = "Sun, 06 Nov 1994 08:49:36 GMT";
constexpr std::string_view kLaterDate = "Sun, 06 Nov 1994 08:49:38 GMT";

Validators Current() {
  return {"\"xyzzy\"", kModified};
}

Precondition Get(const ConditionalHeaders& h) {
  return EvaluatePreconditions("GET", h, Current());
}

TEST(EvaluatePreconditions, ProceedsWithoutConditionalHeaders) {
  EXPECT_EQ(Get({}), Precondition::kProceed);
}

TEST(EvaluatePreconditions, IfMatchUsesStrongComparison) {
  EXPECT_EQ(Get({.if_match = "\"xyzzy\""}), Precondition::kProceed);
  EXPECT_EQ(Get({.if_match = "\"a\", \"xyzzy\""}), Precondition::kProceed);
  EXPECT_EQ(Get({.if_match = "*"}), Precondition::kProceed);
  EXPECT_EQ(Get({.if_match = "W/\"xyzzy\""}), Precondition::kPreconditionFailed);
  EXPECT_EQ(Get({.if_match = "\"other\""}), Precondition::kPreconditionFailed);
  EXPECT_EQ(Get({.if_match = "xyzzy"}), Precondition::kPreconditionFailed);
}

TEST(EvaluatePreconditions, IfNoneMatchUsesWeakComparison) {
  EXPECT_EQ(Get({.if_none_match = "\"xyzzy\""}), Precondition::kNotModified);
  EXPECT_EQ(Get({.if_none_match = "W/\"xyzzy\""}), Precondition::kNotModified);
  EXPECT_EQ(Get({.if_none_match = "\"r2d2\", W/\"xyzzy\""}), Precondition::kNotModified);
  EXPECT_EQ(Get({.if_none_match = "*"}), Precondition::kNotModified);
  EXPECT_EQ(Get({.if_none_match = "\"other\""}), Precondition::kProceed);
}

TEST(EvaluatePreconditions, IfNoneMatchFailsOtherMethodsWith412) {
  ConditionalHeaders h{.if_none_match = "\"xyzzy\""};
  EXPECT_EQ(EvaluatePreconditions("HEAD", h, Current()), Precondition::kNotModified);
  EXPECT_EQ(EvaluatePreconditions("POST", h, Current()), Precondition::kPreconditionFailed);
  EXPECT_EQ(EvaluatePreconditions("get", h, Current()), Precondition::kPreconditionFailed);
}

TEST(EvaluatePreconditions, MalformedEntityTagListsMatchNothing) {
  EXPECT_EQ(Get({.if_none_match = "\"xyzzy"}), Precondition::kProceed);
  EXPECT_EQ(Get({.if_none_match = "\"xyzzy\" \"a\""}), Precondition::kProceed);
  EXPECT_EQ(Get({.if_match = "\"xyzzy\" junk"}), Precondition::kPreconditionFailed);
}

TEST(EvaluatePreconditions, IfModifiedSinceComparesWholeSeconds) {
  EXPECT_EQ(Get({.if_modified_since = kModifiedDate}), Precondition::kNotModified);
  EXPECT_EQ(Get({.if_modified_since = kLaterDate}), Precondition::kNotModified);
  EXPECT_EQ(Get({.if_modified_since = kEarlierDate}), Precondition::kProceed);
}

TEST(EvaluatePreconditions, IfModifiedSinceAcceptsObsoleteDateFormats) {
  EXPECT_EQ(Get({.if_modified_since = "Sunday, 06-Nov-94 08:49:37 GMT"}),
            Precondition::kNotModified);
  EXPECT_EQ(Get({.if_modified_since = "Sun Nov  6 08:49:37 1994"}), Precondition::kNotModified);
  EXPECT_EQ(Get({.if_modified_since = "Sun Nov  6 08:49:36 1994"}), Precondition::kProceed);
}

TEST(EvaluatePreconditions, MalformedDatesAreIgnored) {
  for (std::string_view bad : {"yesterday", "Sun, 06 Nov 1994 08:49:37", "0",
                               "Sun, 32 Nov 1994 "
                               "08:49:37 GMT"}) {
    EXPECT_EQ(Get({.if_modified_since = bad}), Precondition::kProceed) << bad;
    EXPECT_EQ(Get({.if_unmodified_since = bad}), Precondition::kProceed) << bad;
  }
}

TEST(EvaluatePreconditions, IfModifiedSinceIgnoredWhenIfNoneMatchPresent) {
  // Section 13.1.3: If-None-Match takes precedence.
  EXPECT_EQ(Get({.if_none_match = "\"other\"", .if_modified_since = kLaterDate}),
            Precondition::kProceed);
}

TEST(EvaluatePreconditions, IfModifiedSinceOnlyForGetAndHead) {
  ConditionalHeaders h{.if_modified_since = kLaterDate};
  EXPECT_EQ(EvaluatePreconditions("POST", h, Current()), Precondition::kProceed);
}

TEST(EvaluatePreconditions, IfUnmodifiedSinceFailsWhenModifiedLater) {
  EXPECT_EQ(Get({.if_unmodified_since = kEarlierDate}), Precondition::kPreconditionFailed);
  EXPECT_EQ(Get({.if_unmodified_since = kModifiedDate}), Precondition::kProceed);
  EXPECT_EQ(Get({.if_unmodified_since = kLaterDate}), Precondition::kProceed);
}

TEST(EvaluatePreconditions, IfUnmodifiedSinceIgnoredWhenIfMatchPresent) {
  EXPECT_EQ(Get({.if_match = "\"xyzzy\"", .if_unmodified_since = kEarlierDate}),
            Precondition::kProceed);
}

TEST(EvaluatePreconditions, IfMatchIsEvaluatedBeforeIfNoneMatch) {
  EXPECT_EQ(Get({.if_match = "\"other\"", .if_none_match = "\"xyzzy\""}),
            Precondition::kPreconditionFailed);
  EXPECT_EQ(Get({.if_match = "\"xyzzy\"", .if_none_match = "\"xyzzy\""}),
            Precondition::kNotModified);
}

TEST(EvaluatePreconditions, DateConditionsIgnoredWhenLastModifiedUnknown) {
  Validators v{"\"xyzzy\"", 0};
  EXPECT_EQ(EvaluatePreconditions("GET", {.if_modified_since = kLaterDate}, v),
            Precondition::kProceed);
  EXPECT_EQ(EvaluatePreconditions("GET", {.if_unmodified_since = kEarlierDate}, v),
            Precondition::kProceed);
}

TEST(EvaluatePreconditions, NoOwnEntityTagMeansOnlyStarMatches) {
  Validators v{"", kModified};
  EXPECT_EQ(EvaluatePreconditions("GET", {.if_match = "\"xyzzy\""}, v),
            Precondition::kPreconditionFailed);
  EXPECT_EQ(EvaluatePreconditions("GET", {.if_match = "*"}, v), Precondition::kProceed);
  EXPECT_EQ(EvaluatePreconditions("GET", {.if_none_match = "\"xyzzy\""}, v),
            Precondition::kProceed);
}

TEST(IfRangeAllowsRange, EmptyAllows) {
  EXPECT_TRUE(IfRangeAllowsRange("", Current()));
}

TEST(IfRangeAllowsRange, EntityTagMustMatchStrongly) {
  EXPECT_TRUE(IfRangeAllowsRange("\"xyzzy\"", Current()));
  EXPECT_FALSE(IfRangeAllowsRange("W/\"xyzzy\"", Current()));
  EXPECT_FALSE(IfRangeAllowsRange("\"other\"", Current()));
  EXPECT_FALSE(IfRangeAllowsRange("\"xyzzy\", \"other\"", Current()));
  EXPECT_FALSE(IfRangeAllowsRange("\"xyzzy", Current()));
}

TEST(IfRangeAllowsRange, DateMustEqualLastModified) {
  EXPECT_TRUE(IfRangeAllowsRange(kModifiedDate, Current()));
  EXPECT_FALSE(IfRangeAllowsRange(kLaterDate, Current()));
  EXPECT_FALSE(IfRangeAllowsRange(kEarlierDate, Current()));
  EXPECT_FALSE(IfRangeAllowsRange("not a date", Current()));
  EXPECT_FALSE(IfRangeAllowsRange(kModifiedDate, Validators{"\"xyzzy\"", 0}));
}

TEST(ParseAnyHttpDate, ParsesTheThreeFormatsToTheSameInstant) {
  // The examples of RFC 9110 section 5.6.7.
  std::optional<int64_t> imf = ParseAnyHttpDate("Sun, 06 Nov 1994 08:49:37 GMT");
  ASSERT_TRUE(imf.has_value());
  EXPECT_EQ(ParseAnyHttpDate("Sunday, 06-Nov-94 08:49:37 GMT"), imf);
  EXPECT_EQ(ParseAnyHttpDate("Sun Nov  6 08:49:37 1994"), imf);
  EXPECT_FALSE(ParseAnyHttpDate("Sunday, 06-Nov-9x 08:49:37 GMT").has_value());
  EXPECT_FALSE(ParseAnyHttpDate("Sun Nov  6 08:49:37 199").has_value());
  EXPECT_FALSE(ParseAnyHttpDate("").has_value());
}

}  // namespace
}  // namespace kino::http
