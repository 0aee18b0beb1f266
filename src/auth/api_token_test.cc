#include "auth/api_token.h"

#include <set>

#include <gtest/gtest.h>

namespace kino::auth {
namespace {

TEST(ApiToken, NewTokenHasFortyUrlSafeCharacters) {
  std::string token = NewApiToken();
  ASSERT_EQ(token.size(), kApiTokenLength);
  for (char c : token) {
    EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') << c;
  }
}

TEST(ApiToken, NewTokensDiffer) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    seen.insert(NewApiToken());
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST(ApiToken, HashIsHexSha256) {
  // SHA-256("abc") from FIPS 180-2, appendix B.1.
  EXPECT_EQ(HashApiToken("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ApiToken, MatchesItsOwnHash) {
  std::string token = NewApiToken();
  EXPECT_TRUE(TokenMatchesHash(token, HashApiToken(token)));
}

TEST(ApiToken, MatchesUpperCaseStoredHash) {
  EXPECT_TRUE(
      TokenMatchesHash("abc", "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"));
}

TEST(ApiToken, DoesNotMatchOtherTokenOrMalformedHash) {
  std::string token = NewApiToken();
  std::string hash = HashApiToken(token);
  EXPECT_FALSE(TokenMatchesHash(NewApiToken(), hash));
  EXPECT_FALSE(TokenMatchesHash(token, ""));
  EXPECT_FALSE(TokenMatchesHash(token, hash.substr(1)));
  EXPECT_FALSE(TokenMatchesHash(token, token));
}

}  // namespace
}  // namespace kino::auth
