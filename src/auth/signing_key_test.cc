#include "auth/signing_key.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <openssl/encoder.h>
#include <openssl/pem.h>

#include "auth/test_keys.h"
#include "common/random.h"
#include "common/strings.h"

namespace kino::auth {
namespace {

using testing::EvpPkeyPtr;
using testing::KeyFromJwk;
using testing::SharedTestKey;
using testing::SignWith;

nlohmann::json Jwk(const GeneratedSigningKey& key) {
  return nlohmann::json::parse(Base64Decode(key.jwk_base64).value_or(""), nullptr, false);
}

std::string Pem(EVP_PKEY* pkey, int selection, const char* structure) {
  OSSL_ENCODER_CTX* ctx = OSSL_ENCODER_CTX_new_for_pkey(pkey, selection, "PEM", structure, nullptr);
  unsigned char* data = nullptr;
  size_t len = 0;
  EXPECT_EQ(OSSL_ENCODER_to_data(ctx, &data, &len), 1);
  OSSL_ENCODER_CTX_free(ctx);
  std::string pem(reinterpret_cast<char*>(data), len);
  OPENSSL_free(data);
  return pem;
}

EvpPkeyPtr Generate(const char* type, int rsa_bits) {
  if (std::string_view(type) == "RSA") {
    return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(rsa_bits)));
  }
  return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
}

std::string PrivatePkcs8(EVP_PKEY* pkey) {
  return Pem(pkey, OSSL_KEYMGMT_SELECT_KEYPAIR, "PrivateKeyInfo");
}
std::string PublicSpki(EVP_PKEY* pkey) {
  return Pem(pkey, OSSL_KEYMGMT_SELECT_PUBLIC_KEY, "SubjectPublicKeyInfo");
}

// --- Generation ---

TEST(GenerateSigningKey, RejectsIdThatIsNot32Hex) {
  EXPECT_EQ(GenerateSigningKey("abc").status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(GenerateSigningKey("EA95132C15732412D22C1476FA83F27A").ok());
}

TEST(GenerateSigningKey, PemIsBase64OfPkcs1) {
  const GeneratedSigningKey& key = SharedTestKey(0).generated;
  std::string pem = Base64Decode(key.pem_base64).value_or("");
  EXPECT_EQ(pem.rfind("-----BEGIN RSA PRIVATE KEY-----\n", 0), 0u);
  EXPECT_NE(pem.find("-----END RSA PRIVATE KEY-----"), std::string::npos);
  EXPECT_EQ(Base64Encode(pem), key.pem_base64);  // standard, padded base64
}

TEST(GenerateSigningKey, PublicPemIsSpkiOfTheSameKey) {
  const testing::TestKey& key = SharedTestKey(0);
  EXPECT_EQ(key.generated.public_pem.rfind("-----BEGIN PUBLIC KEY-----\n", 0), 0u);
  EXPECT_EQ(key.public_key->bits(), 2048);
  EXPECT_EQ(key.private_key->bits(), 2048);
  EXPECT_TRUE(key.private_key->Matches(*key.public_key));
  EXPECT_FALSE(key.private_key->Matches(*SharedTestKey(1).public_key));
  EXPECT_EQ(key.private_key->PublicPem().value(), key.generated.public_pem);
}

TEST(GenerateSigningKey, JwkHasCloudflareMembersInOrder) {
  const GeneratedSigningKey& key = SharedTestKey(0).generated;
  std::string text = Base64Decode(key.jwk_base64).value_or("");
  auto jwk = nlohmann::ordered_json::parse(text, nullptr, false);
  ASSERT_TRUE(jwk.is_object()) << "jwk is not JSON";
  std::vector<std::string> names;
  for (auto it = jwk.begin(); it != jwk.end(); ++it) {
    names.push_back(it.key());
  }
  EXPECT_EQ(names, (std::vector<std::string>{"use", "kty", "kid", "alg", "n", "e", "d", "p", "q",
                                             "dp", "dq", "qi"}));
  EXPECT_EQ(jwk["use"], "sig");
  EXPECT_EQ(jwk["kty"], "RSA");
  EXPECT_EQ(jwk["kid"], key.id);
  EXPECT_EQ(jwk["alg"], "RS256");
  EXPECT_EQ(jwk["e"], "AQAB");
}

TEST(GenerateSigningKey, JwkIntegersAreMinimalBase64Url) {
  for (int i = 0; i < 4; ++i) {
    nlohmann::json jwk = Jwk(SharedTestKey(i).generated);
    for (const char* member : {"n", "e", "d", "p", "q", "dp", "dq", "qi"}) {
      ASSERT_TRUE(jwk[member].is_string()) << member;
      std::string text = jwk[member].get<std::string>();
      std::optional<std::string> bytes = Base64UrlDecode(text);  // refuses '=', '+', '/'
      ASSERT_TRUE(bytes.has_value()) << member;
      ASSERT_FALSE(bytes->empty()) << member;
      EXPECT_NE((*bytes)[0], '\0') << member << " has a leading zero byte";
    }
    EXPECT_EQ(Base64UrlDecode(jwk["n"].get<std::string>())->size(), 256u);
  }
}

TEST(GenerateSigningKey, JwkRebuildsTheSameKey) {
  const testing::TestKey& key = SharedTestKey(0);
  EvpPkeyPtr rebuilt = KeyFromJwk(key.generated.jwk_base64, "n,e,d,p,q,dp,dq,qi");
  ASSERT_NE(rebuilt, nullptr);
  EXPECT_EQ(EVP_PKEY_eq(rebuilt.get(), key.public_key->pkey()), 1);

  // Full consistency check of the private parts (n = pq, d, CRT values, pairwise test).
  EVP_PKEY_CTX* check = EVP_PKEY_CTX_new_from_pkey(nullptr, rebuilt.get(), nullptr);
  EXPECT_EQ(EVP_PKEY_check(check), 1);
  EVP_PKEY_CTX_free(check);

  std::string sig = SignWith(rebuilt.get(), "signed with the JWK");
  EXPECT_TRUE(key.public_key->VerifyRs256("signed with the JWK", sig));
}

TEST(GenerateSigningKey, JwkPrivateExponentAloneSigns) {
  // Without p and q OpenSSL must use d directly, so this proves d itself is right.
  const testing::TestKey& key = SharedTestKey(0);
  EvpPkeyPtr rebuilt = KeyFromJwk(key.generated.jwk_base64, "n,e,d");
  ASSERT_NE(rebuilt, nullptr);
  std::string sig = SignWith(rebuilt.get(), "only n, e and d");
  EXPECT_TRUE(key.public_key->VerifyRs256("only n, e and d", sig));
}

TEST(GenerateSigningKey, KeysDiffer) {
  EXPECT_NE(SharedTestKey(0).generated.public_pem, SharedTestKey(1).generated.public_pem);
}

// --- Private keys ---

TEST(PrivateKey, AcceptsPkcs8Pem) {
  EvpPkeyPtr rebuilt = KeyFromJwk(SharedTestKey(0).generated.jwk_base64, "n,e,d,p,q,dp,dq,qi");
  std::string pkcs8 = PrivatePkcs8(rebuilt.get());
  ASSERT_EQ(pkcs8.rfind("-----BEGIN PRIVATE KEY-----", 0), 0u);
  Result<std::unique_ptr<PrivateKey>> key = PrivateKey::FromPem(pkcs8);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_TRUE((*key)->Matches(*SharedTestKey(0).public_key));
  EXPECT_TRUE(PrivateKey::FromBase64Pem(Base64Encode(pkcs8)).ok());
}

TEST(PrivateKey, AcceptsWrappedOrUnpaddedBase64) {
  std::string b64 = SharedTestKey(0).generated.pem_base64;
  std::string wrapped;
  for (size_t i = 0; i < b64.size(); i += 76) {
    wrapped += b64.substr(i, 76) + "\r\n";
  }
  EXPECT_TRUE(PrivateKey::FromBase64Pem(wrapped).ok());
  while (!b64.empty() && b64.back() == '=') {
    b64.pop_back();
  }
  EXPECT_TRUE(PrivateKey::FromBase64Pem(b64).ok());
}

TEST(PrivateKey, RejectsWhatIsNotAnRsaPrivateKey) {
  const GeneratedSigningKey& generated = SharedTestKey(0).generated;
  std::string pem = Base64Decode(generated.pem_base64).value_or("");
  EvpPkeyPtr ec = Generate("EC", 0);
  EvpPkeyPtr small = Generate("RSA", 1024);
  const std::string bad[] = {
      "",
      "not a pem",
      generated.public_pem,
      pem.substr(0, pem.size() / 2),
      PrivatePkcs8(ec.get()),
      PrivatePkcs8(small.get()),
      std::string(kMaxPemBytes + 1, 'A'),
  };
  for (const std::string& text : bad) {
    Result<std::unique_ptr<PrivateKey>> key = PrivateKey::FromPem(text);
    EXPECT_EQ(key.status().code(), StatusCode::kInvalidArgument) << text.substr(0, 40);
  }
}

TEST(PrivateKey, RejectsEncryptedPemWithoutPrompting) {
  EvpPkeyPtr rebuilt = KeyFromJwk(SharedTestKey(0).generated.jwk_base64, "n,e,d,p,q,dp,dq,qi");
  BIO* bio = BIO_new(BIO_s_mem());
  static const char kPass[] = "passphrase";
  ASSERT_EQ(PEM_write_bio_PrivateKey(bio, rebuilt.get(), EVP_aes_256_cbc(),
                                     reinterpret_cast<const unsigned char*>(kPass),
                                     sizeof(kPass) - 1, nullptr, nullptr),
            1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string encrypted(data, static_cast<size_t>(len));
  BIO_free(bio);
  EXPECT_FALSE(PrivateKey::FromPem(encrypted).ok());
}

TEST(PrivateKey, FromBase64PemRejectsBadBase64) {
  EXPECT_FALSE(PrivateKey::FromBase64Pem("!!!!").ok());
  EXPECT_FALSE(PrivateKey::FromBase64Pem("").ok());
  // A raw PEM is not base64 (dashes are outside the alphabet).
  EXPECT_FALSE(
      PrivateKey::FromBase64Pem(Base64Decode(SharedTestKey(0).generated.pem_base64).value_or(""))
          .ok());
}

TEST(PrivateKey, SignsWhatThePublicKeyVerifies) {
  const testing::TestKey& key = SharedTestKey(0);
  std::string sig = key.private_key->SignRs256("payload").value();
  EXPECT_EQ(sig.size(), 256u);
  EXPECT_TRUE(key.public_key->VerifyRs256("payload", sig));
  EXPECT_FALSE(key.public_key->VerifyRs256("payloaD", sig));
  EXPECT_FALSE(SharedTestKey(1).public_key->VerifyRs256("payload", sig));
  EXPECT_FALSE(key.public_key->VerifyRs256("payload", sig.substr(1)));
  EXPECT_FALSE(key.public_key->VerifyRs256("payload", ""));
  sig[100] ^= 1;
  EXPECT_FALSE(key.public_key->VerifyRs256("payload", sig));
}

// --- Public keys ---

TEST(PublicKey, RejectsWhatIsNotAnRsaSpki) {
  EvpPkeyPtr ec = Generate("EC", 0);
  EvpPkeyPtr small = Generate("RSA", 1024);
  const std::string bad[] = {
      "",
      "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
      Base64Decode(SharedTestKey(0).generated.pem_base64).value_or(""),
      PublicSpki(ec.get()),
      PublicSpki(small.get()),
  };
  for (const std::string& text : bad) {
    EXPECT_EQ(PublicKey::FromPem(text).status().code(), StatusCode::kInvalidArgument)
        << text.substr(0, 40);
  }
}

TEST(PublicKey, AcceptsLargerRsaKeys) {
  EvpPkeyPtr big = Generate("RSA", 3072);
  Result<std::shared_ptr<const PublicKey>> key = PublicKey::FromPem(PublicSpki(big.get()));
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ((*key)->bits(), 3072);
}

}  // namespace
}  // namespace kino::auth
