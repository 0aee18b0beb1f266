#include "auth/test_keys.h"

#include <mutex>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>

#include "common/random.h"
#include "common/strings.h"

namespace kino::auth::testing {
namespace {

const char* ParamName(std::string_view member) {
  if (member == "n") {
    return OSSL_PKEY_PARAM_RSA_N;
  }
  if (member == "e") {
    return OSSL_PKEY_PARAM_RSA_E;
  }
  if (member == "d") {
    return OSSL_PKEY_PARAM_RSA_D;
  }
  if (member == "p") {
    return OSSL_PKEY_PARAM_RSA_FACTOR1;
  }
  if (member == "q") {
    return OSSL_PKEY_PARAM_RSA_FACTOR2;
  }
  if (member == "dp") {
    return OSSL_PKEY_PARAM_RSA_EXPONENT1;
  }
  if (member == "dq") {
    return OSSL_PKEY_PARAM_RSA_EXPONENT2;
  }
  if (member == "qi") {
    return OSSL_PKEY_PARAM_RSA_COEFFICIENT1;
  }
  return nullptr;
}

}  // namespace

const TestKey& SharedTestKey(int index) {
  static std::mutex mu;
  static std::unique_ptr<TestKey> keys[4];
  std::lock_guard<std::mutex> lock(mu);
  std::unique_ptr<TestKey>& slot = keys[index];
  if (!slot) {
    slot = std::make_unique<TestKey>();
    Result<GeneratedSigningKey> generated = GenerateSigningKey(NewId());
    EXPECT_TRUE(generated.ok()) << generated.status().ToString();
    slot->generated = *generated;
    Result<std::unique_ptr<PrivateKey>> priv = PrivateKey::FromBase64Pem(generated->pem_base64);
    EXPECT_TRUE(priv.ok()) << priv.status().ToString();
    slot->private_key = std::move(priv).value();
    Result<std::shared_ptr<const PublicKey>> pub = PublicKey::FromPem(generated->public_pem);
    EXPECT_TRUE(pub.ok()) << pub.status().ToString();
    slot->public_key = *pub;
  }
  return *slot;
}

EvpPkeyPtr KeyFromJwk(std::string_view jwk_base64, std::string_view members) {
  std::optional<std::string> text = Base64Decode(jwk_base64);
  EXPECT_TRUE(text.has_value());
  auto jwk = nlohmann::json::parse(text.value_or(""), nullptr, false);
  EXPECT_TRUE(jwk.is_object());
  if (!jwk.is_object()) {
    return nullptr;
  }

  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  std::vector<BIGNUM*> bns;
  for (std::string_view member : Split(members, ',')) {
    auto it = jwk.find(std::string(member));
    EXPECT_TRUE(it != jwk.end() && it->is_string()) << member;
    std::optional<std::string> bytes =
        Base64UrlDecode(it != jwk.end() && it->is_string() ? it->get<std::string>() : "");
    EXPECT_TRUE(bytes.has_value() && !bytes->empty()) << member;
    if (!bytes || bytes->empty()) {
      break;
    }
    BIGNUM* bn = BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes->data()),
                           static_cast<int>(bytes->size()), nullptr);
    bns.push_back(bn);
    OSSL_PARAM_BLD_push_BN(bld, ParamName(member), bn);
  }
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr);
  EVP_PKEY* pkey = nullptr;
  EXPECT_EQ(EVP_PKEY_fromdata_init(ctx), 1);
  EXPECT_EQ(EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_KEYPAIR, params), 1);
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  for (BIGNUM* bn : bns) {
    BN_clear_free(bn);
  }
  return EvpPkeyPtr(pkey);
}

std::string SignWith(EVP_PKEY* pkey, std::string_view data) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::string sig(static_cast<size_t>(EVP_PKEY_get_size(pkey)), '\0');
  size_t len = sig.size();
  bool ok = EVP_DigestSignInit_ex(ctx, nullptr, "SHA256", nullptr, nullptr, pkey, nullptr) == 1 &&
            EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                           reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EXPECT_TRUE(ok);
  sig.resize(ok ? len : 0);
  return sig;
}

std::string HandMadeToken(EVP_PKEY* pkey, std::string_view header_json,
                          std::string_view payload_json) {
  std::string input = Base64UrlEncode(header_json) + "." + Base64UrlEncode(payload_json);
  return input + "." + Base64UrlEncode(SignWith(pkey, input));
}

}  // namespace kino::auth::testing
