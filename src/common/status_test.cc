#include "common/status.h"

#include <gtest/gtest.h>

namespace kino {
namespace {

Result<int> Half(int v) {
  if (v % 2 != 0) {
    return InvalidArgument("odd");
  }
  return v / 2;
}

Result<int> Quarter(int v) {
  KINO_ASSIGN_OR_RETURN(int half, Half(v));
  return Half(half);
}

Status CheckEven(int v) {
  KINO_RETURN_IF_ERROR(Half(v).status());
  return Status::Ok();
}

TEST(Status, OkHasNoMessage) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.ToString(), "ok");
}

TEST(Status, AnnotatePrefixesContext) {
  Status s = NotFound("video abc", 10003);
  s.Annotate("loading");
  EXPECT_EQ(s.ToString(), "not_found: loading: video abc");
  EXPECT_EQ(s.api_code(), 10003);
}

TEST(Result, AssignOrReturnPropagatesFailure) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(CheckEven(2).ok());
  EXPECT_FALSE(CheckEven(3).ok());
}

TEST(Status, CopyKeepsEverything) {
  Status a = PermissionDenied("no", 10000);
  Status b = a;
  EXPECT_EQ(b.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(b.message(), "no");
  EXPECT_EQ(b.api_code(), 10000);
}

}  // namespace
}  // namespace kino
