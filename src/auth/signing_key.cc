#include "auth/signing_key.h"

#include <nlohmann/json.hpp>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/encoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>  // EVP_PKEY_CTX_set_rsa_keygen_bits (not a deprecated RSA_* call)

#include "common/random.h"
#include "common/strings.h"

namespace kino::auth {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct EncoderCtxFree {
  void operator()(OSSL_ENCODER_CTX* c) const { OSSL_ENCODER_CTX_free(c); }
};
struct BnClearFree {
  void operator()(BIGNUM* b) const { BN_clear_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using EncoderCtxPtr = std::unique_ptr<OSSL_ENCODER_CTX, EncoderCtxFree>;
using BnPtr = std::unique_ptr<BIGNUM, BnClearFree>;

// An Internal status naming the failed OpenSSL call and its first queued reason. Clears the
// thread's error queue so that later calls start clean.
Status OpenSslError(std::string_view call) {
  unsigned long code = ERR_get_error();
  char reason[256] = "no reason given";
  if (code != 0) {
    ERR_error_string_n(code, reason, sizeof(reason));
  }
  ERR_clear_error();
  return Internal(std::string(call) + " failed: " + reason);
}

BioPtr ReadBio(std::string_view text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

std::string DrainBio(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(len));
}

// Encodes `pkey` as PEM with the given selection and output structure ("type-specific" gives
// PKCS#1 for RSA private keys; "SubjectPublicKeyInfo" the X.509 public key form).
Result<std::string> EncodePem(const EVP_PKEY* pkey, int selection, const char* structure) {
  EncoderCtxPtr ctx(
      OSSL_ENCODER_CTX_new_for_pkey(pkey, selection, "PEM", structure, /*propquery=*/nullptr));
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!ctx || !bio || OSSL_ENCODER_CTX_get_num_encoders(ctx.get()) == 0) {
    return OpenSslError("OSSL_ENCODER_CTX_new_for_pkey");
  }
  if (OSSL_ENCODER_to_bio(ctx.get(), bio.get()) != 1) {
    return OpenSslError("OSSL_ENCODER_to_bio");
  }
  return DrainBio(bio.get());
}

// One RSA parameter as a JWK "Base64urlUInt": big-endian, minimal length (RFC 7518 section 2).
Result<std::string> JwkInteger(const EVP_PKEY* pkey, const char* param) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, param, &raw) != 1) {
    return OpenSslError(std::string("EVP_PKEY_get_bn_param ") + param);
  }
  BnPtr bn(raw);
  std::string bytes(static_cast<size_t>(BN_num_bytes(bn.get())), '\0');
  BN_bn2bin(bn.get(), reinterpret_cast<unsigned char*>(bytes.data()));
  std::string encoded = Base64UrlEncode(bytes);
  OPENSSL_cleanse(bytes.data(), bytes.size());
  return encoded;
}

Result<std::string> PrivateJwk(const EVP_PKEY* pkey, std::string_view id) {
  // Member order as Cloudflare Stream returns it; ordered_json keeps insertion order.
  nlohmann::ordered_json jwk = {{"use", "sig"}, {"kty", "RSA"}, {"kid", id}, {"alg", "RS256"}};
  const std::pair<const char*, const char*> members[] = {
      {"n", OSSL_PKEY_PARAM_RSA_N},          {"e", OSSL_PKEY_PARAM_RSA_E},
      {"d", OSSL_PKEY_PARAM_RSA_D},          {"p", OSSL_PKEY_PARAM_RSA_FACTOR1},
      {"q", OSSL_PKEY_PARAM_RSA_FACTOR2},    {"dp", OSSL_PKEY_PARAM_RSA_EXPONENT1},
      {"dq", OSSL_PKEY_PARAM_RSA_EXPONENT2}, {"qi", OSSL_PKEY_PARAM_RSA_COEFFICIENT1},
  };
  for (const auto& [name, param] : members) {
    KINO_ASSIGN_OR_RETURN(jwk[name], JwkInteger(pkey, param));
  }
  return jwk.dump();
}

Result<PkeyPtr> GenerateRsaKey(int bits) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), bits) != 1) {
    return OpenSslError("RSA keygen setup");
  }
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_generate(ctx.get(), &raw) != 1) {
    return OpenSslError("EVP_PKEY_generate");
  }
  return PkeyPtr(raw);
}

// Refuses keys that are not plain RSA or whose size is out of bounds.
Status CheckRsaKey(const EVP_PKEY* pkey) {
  if (EVP_PKEY_is_a(pkey, "RSA") != 1) {
    return InvalidArgument("signing key is not an RSA key");
  }
  int bits = EVP_PKEY_get_bits(pkey);
  if (bits < kMinKeyBits || bits > kMaxKeyBits) {
    return InvalidArgument("signing key must have 2048 to 4096 bits");
  }
  return Status::Ok();
}

// Never prompt: a PEM that needs a passphrase fails to decode.
int RefusePassphrase(char*, int, int, void*) {
  return -1;
}

}  // namespace

Result<GeneratedSigningKey> GenerateSigningKey(std::string_view id) {
  if (!IsId(id)) {
    return InvalidArgument("signing key id must be 32 lowercase hex characters");
  }
  KINO_ASSIGN_OR_RETURN(PkeyPtr pkey, GenerateRsaKey(kSigningKeyBits));

  GeneratedSigningKey key;
  key.id = std::string(id);
  KINO_ASSIGN_OR_RETURN(std::string pem,
                        EncodePem(pkey.get(), OSSL_KEYMGMT_SELECT_KEYPAIR, "type-specific"));
  key.pem_base64 = Base64Encode(pem);
  OPENSSL_cleanse(pem.data(), pem.size());
  KINO_ASSIGN_OR_RETURN(std::string jwk, PrivateJwk(pkey.get(), id));
  key.jwk_base64 = Base64Encode(jwk);
  OPENSSL_cleanse(jwk.data(), jwk.size());
  KINO_ASSIGN_OR_RETURN(key.public_pem, EncodePem(pkey.get(), OSSL_KEYMGMT_SELECT_PUBLIC_KEY,
                                                  "SubjectPublicKeyInfo"));
  return key;
}

// --- PublicKey ---

Result<std::shared_ptr<const PublicKey>> PublicKey::FromPem(std::string_view spki_pem) {
  if (spki_pem.size() > kMaxPemBytes) {
    return InvalidArgument("public key PEM is too long");
  }
  BioPtr bio = ReadBio(spki_pem);
  PkeyPtr pkey(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, RefusePassphrase, nullptr) : nullptr);
  ERR_clear_error();
  if (!pkey) {
    return InvalidArgument("not a SubjectPublicKeyInfo PEM");
  }
  KINO_RETURN_IF_ERROR(CheckRsaKey(pkey.get()));
  return std::shared_ptr<const PublicKey>(new PublicKey(pkey.release()));
}

PublicKey::~PublicKey() {
  EVP_PKEY_free(pkey_);
}

int PublicKey::bits() const {
  return EVP_PKEY_get_bits(pkey_);
}

bool PublicKey::VerifyRs256(std::string_view data, std::string_view signature) const {
  // RFC 8017 section 8.2.2 step 1: the signature is exactly as long as the modulus.
  if (signature.size() != static_cast<size_t>(EVP_PKEY_get_size(pkey_))) {
    return false;
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  bool ok = ctx &&
            EVP_DigestVerifyInit_ex(ctx.get(), nullptr, "SHA256", nullptr, nullptr, pkey_,
                                    nullptr) == 1 &&
            EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                             signature.size(), reinterpret_cast<const unsigned char*>(data.data()),
                             data.size()) == 1;
  ERR_clear_error();
  return ok;
}

// --- PrivateKey ---

Result<std::unique_ptr<PrivateKey>> PrivateKey::FromPem(std::string_view pem) {
  if (pem.size() > kMaxPemBytes) {
    return InvalidArgument("private key PEM is too long");
  }
  BioPtr bio = ReadBio(pem);
  PkeyPtr pkey(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, RefusePassphrase, nullptr)
                   : nullptr);
  ERR_clear_error();
  if (!pkey) {
    return InvalidArgument("not an unencrypted PKCS#1 or PKCS#8 private key PEM");
  }
  KINO_RETURN_IF_ERROR(CheckRsaKey(pkey.get()));
  return std::unique_ptr<PrivateKey>(new PrivateKey(pkey.release()));
}

Result<std::unique_ptr<PrivateKey>> PrivateKey::FromBase64Pem(std::string_view b64) {
  if (b64.size() > kMaxPemBytes * 4 / 3 + 1024) {
    return InvalidArgument("private key is too long");
  }
  std::string compact;
  compact.reserve(b64.size());
  for (char c : b64) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
      compact.push_back(c);
    }
  }
  std::optional<std::string> pem = Base64Decode(compact);
  if (!pem) {
    return InvalidArgument("private key is not standard base64");
  }
  Result<std::unique_ptr<PrivateKey>> key = FromPem(*pem);
  OPENSSL_cleanse(pem->data(), pem->size());
  return key;
}

PrivateKey::~PrivateKey() {
  EVP_PKEY_free(pkey_);
}

int PrivateKey::bits() const {
  return EVP_PKEY_get_bits(pkey_);
}

Result<std::string> PrivateKey::PublicPem() const {
  return EncodePem(pkey_, OSSL_KEYMGMT_SELECT_PUBLIC_KEY, "SubjectPublicKeyInfo");
}

bool PrivateKey::Matches(const PublicKey& key) const {
  bool same = EVP_PKEY_eq(pkey_, key.pkey()) == 1;
  ERR_clear_error();
  return same;
}

Result<std::string> PrivateKey::SignRs256(std::string_view data) const {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx ||
      EVP_DigestSignInit_ex(ctx.get(), nullptr, "SHA256", nullptr, nullptr, pkey_, nullptr) != 1) {
    return OpenSslError("EVP_DigestSignInit_ex");
  }
  const auto* in = reinterpret_cast<const unsigned char*>(data.data());
  size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, in, data.size()) != 1) {
    return OpenSslError("EVP_DigestSign");
  }
  std::string signature(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &len, in,
                     data.size()) != 1) {
    return OpenSslError("EVP_DigestSign");
  }
  signature.resize(len);
  return signature;
}

}  // namespace kino::auth
