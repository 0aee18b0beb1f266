#include "auth/jwt.h"

#include <cmath>
#include <optional>
#include <utility>

#include "common/strings.h"

namespace kino::auth {
namespace {

Status Malformed(std::string msg) {
  return Unauthenticated("malformed token: " + msg, kTokenMalformed);
}

// Decodes one JSON object part of the token.
Result<nlohmann::json> DecodeJsonPart(std::string_view part, const char* name) {
  std::optional<std::string> text = Base64UrlDecode(part);
  if (!text) {
    return Malformed(std::string(name) + " is not unpadded base64url");
  }
  nlohmann::json json = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return Malformed(std::string(name) + " is not a JSON object");
  }
  return json;
}

// RFC 7518 section 3.1: only RS256 is accepted; "none", HMAC and everything else are refused so
// that a public key can never be (mis)used as an HMAC secret.
Status CheckHeader(const nlohmann::json& header) {
  auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string()) {
    return Unauthenticated("token header has no alg", kTokenUnsupportedAlg);
  }
  if (alg->get_ref<const std::string&>() != "RS256") {
    return Unauthenticated("token alg is not RS256", kTokenUnsupportedAlg);
  }
  if (header.contains("crit")) {
    return Malformed("crit header parameters are not supported");
  }
  return Status::Ok();
}

// A NumericDate (RFC 7519 section 2) given as a JSON number or a string of decimal digits.
// `round_up` chooses the safe rounding for fractional values.
Result<int64_t> NumericDate(const nlohmann::json& value, const char* name, bool round_up) {
  std::optional<int64_t> seconds;
  if (value.is_number_unsigned()) {
    uint64_t v = value.get<uint64_t>();
    if (v <= static_cast<uint64_t>(kMaxNumericDate)) {
      seconds = static_cast<int64_t>(v);
    }
  } else if (value.is_number_float()) {
    double v = value.get<double>();
    if (std::isfinite(v) && v >= 0 && v <= static_cast<double>(kMaxNumericDate)) {
      seconds = static_cast<int64_t>(round_up ? std::ceil(v) : std::floor(v));
    }
  } else if (value.is_string()) {
    std::optional<uint64_t> v = ParseUint64(value.get_ref<const std::string&>());
    if (v && *v <= static_cast<uint64_t>(kMaxNumericDate)) {
      seconds = static_cast<int64_t>(*v);
    }
  }
  if (!seconds) {
    return Malformed(std::string(name) + " is not a NumericDate");
  }
  return *seconds;
}

// The key id: the header's, the payload's, or both when they agree.
Result<std::string> KeyId(const nlohmann::json& header, const nlohmann::json& payload) {
  auto in_header = header.find("kid");
  auto in_payload = payload.find("kid");
  bool has_header = in_header != header.end();
  bool has_payload = in_payload != payload.end();
  if ((has_header && !in_header->is_string()) || (has_payload && !in_payload->is_string())) {
    return Malformed("kid is not a string");
  }
  if (has_header && has_payload && *in_header != *in_payload) {
    return Malformed("header and payload name different kids");
  }
  const nlohmann::json* kid = has_header ? &*in_header : has_payload ? &*in_payload : nullptr;
  if (kid == nullptr || kid->get_ref<const std::string&>().empty()) {
    return Malformed("kid is missing");
  }
  return kid->get<std::string>();
}

Status ParseTimes(const nlohmann::json& payload, TokenClaims& claims) {
  auto exp = payload.find("exp");
  if (exp == payload.end()) {
    return Malformed("exp is missing");
  }
  KINO_ASSIGN_OR_RETURN(claims.exp, NumericDate(*exp, "exp", /*round_up=*/false));
  auto nbf = payload.find("nbf");
  if (nbf != payload.end()) {
    KINO_ASSIGN_OR_RETURN(claims.nbf, NumericDate(*nbf, "nbf", /*round_up=*/true));
    claims.has_nbf = true;
  }
  return Status::Ok();
}

Status ParseOptionalClaims(const nlohmann::json& payload, TokenClaims& claims) {
  if (auto it = payload.find("downloadable"); it != payload.end()) {
    if (!it->is_boolean()) {
      return Malformed("downloadable is not a boolean");
    }
    claims.downloadable = it->get<bool>();
  }
  if (auto it = payload.find("accessRules"); it != payload.end() && !it->is_null()) {
    Result<std::vector<AccessRule>> rules = ParseAccessRules(*it);
    if (!rules.ok()) {
      return Malformed(rules.status().message());
    }
    claims.access_rules = std::move(rules).value();
  }
  if (auto it = payload.find("flags"); it != payload.end() && !it->is_null()) {
    if (!it->is_object()) {
      return Malformed("flags is not an object");
    }
    claims.flags = *it;
  }
  return Status::Ok();
}

Result<TokenClaims> ParseClaims(const nlohmann::json& header, const nlohmann::json& payload) {
  TokenClaims claims;
  auto sub = payload.find("sub");
  if (sub == payload.end() || !sub->is_string() || sub->get_ref<const std::string&>().empty()) {
    return Malformed("sub is missing");
  }
  claims.sub = sub->get<std::string>();
  KINO_ASSIGN_OR_RETURN(claims.kid, KeyId(header, payload));
  KINO_RETURN_IF_ERROR(ParseTimes(payload, claims));
  KINO_RETURN_IF_ERROR(ParseOptionalClaims(payload, claims));
  return claims;
}

nlohmann::ordered_json TimeValue(int64_t seconds, bool as_string) {
  return as_string ? nlohmann::ordered_json(std::to_string(seconds))
                   : nlohmann::ordered_json(seconds);
}

}  // namespace

Result<std::string> SignToken(const TokenClaims& claims, const PrivateKey& key,
                              bool times_as_strings) {
  if (claims.sub.empty() || claims.kid.empty()) {
    return InvalidArgument("a token needs sub and kid");
  }
  if (claims.access_rules.size() > kMaxAccessRules) {
    return InvalidArgument("accessRules allows at most 5 rules");
  }
  nlohmann::ordered_json header = {{"alg", "RS256"}, {"kid", claims.kid}};
  nlohmann::ordered_json payload = {{"sub", claims.sub}, {"kid", claims.kid}};
  payload["exp"] = TimeValue(claims.exp, times_as_strings);
  if (claims.has_nbf) {
    payload["nbf"] = TimeValue(claims.nbf, times_as_strings);
  }
  if (claims.downloadable) {
    payload["downloadable"] = true;
  }
  if (!claims.access_rules.empty()) {
    payload["accessRules"] =
        nlohmann::ordered_json::parse(AccessRulesToJson(claims.access_rules).dump());
  }
  if (claims.flags.is_object() && !claims.flags.empty()) {
    payload["flags"] = nlohmann::ordered_json::parse(claims.flags.dump());
  }

  // RFC 7515 section 5.1 steps 1-8 and section 7.1.
  std::string signing_input =
      Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(payload.dump());
  KINO_ASSIGN_OR_RETURN(std::string signature, key.SignRs256(signing_input));
  return signing_input + "." + Base64UrlEncode(signature);
}

Result<ParsedToken> ParseToken(std::string_view compact) {
  if (compact.empty() || compact.size() > kMaxTokenBytes) {
    return Malformed("empty or too long");
  }
  // RFC 7515 section 7.1: BASE64URL(header) '.' BASE64URL(payload) '.' BASE64URL(signature).
  std::vector<std::string_view> parts = Split(compact, '.');
  if (parts.size() != 3) {
    return Malformed("a JWS has exactly three parts");
  }

  ParsedToken token;
  KINO_ASSIGN_OR_RETURN(token.header, DecodeJsonPart(parts[0], "header"));
  KINO_RETURN_IF_ERROR(CheckHeader(token.header));
  KINO_ASSIGN_OR_RETURN(nlohmann::json payload, DecodeJsonPart(parts[1], "payload"));
  std::optional<std::string> signature = Base64UrlDecode(parts[2]);
  if (!signature || signature->empty()) {
    return Malformed("signature is empty or not unpadded base64url");
  }
  token.signature = std::move(*signature);
  KINO_ASSIGN_OR_RETURN(token.claims, ParseClaims(token.header, payload));
  token.signing_input = std::string(compact.substr(0, parts[0].size() + 1 + parts[1].size()));
  return token;
}

Status VerifySignature(const ParsedToken& token, const PublicKey& key) {
  // ParseToken already refused other algorithms; check again for hand-built ParsedTokens.
  KINO_RETURN_IF_ERROR(CheckHeader(token.header));
  if (!key.VerifyRs256(token.signing_input, token.signature)) {
    return Unauthenticated("token signature does not verify", kTokenBadSignature);
  }
  return Status::Ok();
}

Status CheckTimes(const TokenClaims& claims, int64_t now_unix, int64_t leeway_s) {
  if (now_unix >= claims.exp + leeway_s) {
    return Unauthenticated("token has expired", kTokenExpired);
  }
  if (claims.has_nbf && now_unix + leeway_s < claims.nbf) {
    return Unauthenticated("token is not valid yet", kTokenNotYetValid);
  }
  return Status::Ok();
}

}  // namespace kino::auth
