// The account's webhook subscription (Stream's PUT/GET/DELETE .../stream/webhook) and Kino's
// delivery log (GET .../stream/webhook/attempts). docs/webhooks.md describes both.
#include "api/envelope.h"
#include "api/handler_util.h"
#include "api/routes.h"
#include "common/log.h"
#include "common/time_util.h"
#include "domain/errors.h"
#include "domain/webhook.h"
#include "http/address_guard.h"
#include "http/http_client.h"

namespace kino::api {
namespace {

using domain::kErrInvalidParameter;
using domain::WebhookRepository;

constexpr int kAttemptsShown = 50;

nlohmann::json WebhookToJson(const domain::Webhook& w) {
  nlohmann::json j = {{"notificationUrl", w.notification_url},
                      {"modified", FormatRfc3339(w.modified)},
                      {"secret", w.secret}};
  // Kino's opt-in; shown only when on so that Stream's shape stays exact by default.
  if (w.download_events) {
    j["downloadEvents"] = true;
  }
  return j;
}

Status WebhookNotFound() {
  return NotFound("no webhook subscription for this account", domain::kErrWebhookNotFound);
}

// The URL from either spelling the SDK sends, checked the way Stream documents: http(s) only,
// and no local or private address (unless the operator allows them).
Result<std::string> NotificationUrl(const ApiContext& ctx, const nlohmann::json& body) {
  KINO_ASSIGN_OR_RETURN(auto url, OptionalString(body, "notificationUrl"));
  if (!url) {
    KINO_ASSIGN_OR_RETURN(url, OptionalString(body, "notification_url"));
  }
  if (!url) {
    return InvalidArgument("field 'notificationUrl' is required", kErrInvalidParameter);
  }
  auto parsed = http::ParseHttpUrl(*url, kErrInvalidParameter);
  if (!parsed.ok()) {
    return InvalidArgument("field 'notificationUrl': " + parsed.status().message(),
                           kErrInvalidParameter);
  }
  if (!ctx.settings.allow_private_urls && http::IsObviouslyPrivateHost(parsed->host)) {
    return InvalidArgument("field 'notificationUrl' must not point to a local or private address",
                           kErrInvalidParameter);
  }
  return *url;
}

Result<nlohmann::json> PutWebhook(ApiContext& ctx, const Request& req,
                                  const std::string& account_id) {
  KINO_ASSIGN_OR_RETURN(nlohmann::json body, ParseJsonBody(req.body));
  KINO_ASSIGN_OR_RETURN(std::string url, NotificationUrl(ctx, body));
  KINO_ASSIGN_OR_RETURN(std::optional<bool> download_events, OptionalBool(body, "downloadEvents"));
  if (!download_events) {
    KINO_ASSIGN_OR_RETURN(download_events, OptionalBool(body, "download_events"));
  }
  KINO_ASSIGN_OR_RETURN(domain::Webhook saved,
                        WebhookRepository::Put(*ctx.db, account_id, url, download_events));
  log::Info(
      "webhook_subscribed", "webhook subscription saved",
      {{"account_id", account_id}, {"url", log::RedactUrl(url)}, {"request_id", req.request_id}});
  return WebhookToJson(saved);
}

Result<nlohmann::json> GetWebhook(ApiContext& ctx, const std::string& account_id) {
  KINO_ASSIGN_OR_RETURN(std::optional<domain::Webhook> w,
                        WebhookRepository::Get(*ctx.db, account_id));
  if (!w) {
    return WebhookNotFound();
  }
  return WebhookToJson(*w);
}

Result<nlohmann::json> DeleteWebhook(ApiContext& ctx, const Request& req,
                                     const std::string& account_id) {
  KINO_ASSIGN_OR_RETURN(bool existed, WebhookRepository::Delete(*ctx.db, account_id));
  if (!existed) {
    return WebhookNotFound();
  }
  log::Info("webhook_deleted", "webhook subscription deleted; pending events cancelled",
            {{"account_id", account_id}, {"request_id", req.request_id}});
  return nlohmann::json("ok");
}

nlohmann::json AttemptToJson(const domain::WebhookAttempt& a) {
  return {{"eventId", a.event_id},
          {"videoUid", a.video_uid},
          {"kind", a.kind},
          {"eventState", domain::EventStateName(a.event_state)},
          {"attempted", FormatRfc3339(a.attempted)},
          {"httpStatus", a.http_status ? nlohmann::json(*a.http_status) : nlohmann::json(nullptr)},
          {"latencyMs", a.latency_ms},
          {"error", a.error}};
}

Result<nlohmann::json> ListAttempts(ApiContext& ctx, const std::string& account_id) {
  KINO_ASSIGN_OR_RETURN(std::optional<domain::Webhook> w,
                        WebhookRepository::Get(*ctx.db, account_id));
  if (!w) {
    return WebhookNotFound();
  }
  KINO_ASSIGN_OR_RETURN(auto attempts,
                        WebhookRepository::ListAttempts(*ctx.db, account_id, kAttemptsShown));
  nlohmann::json out = nlohmann::json::array();
  for (const auto& a : attempts) {
    out.push_back(AttemptToJson(a));
  }
  return out;
}

}  // namespace

void RegisterWebhookRoutes(Router& router, ApiContext& ctx) {
  const std::string path = std::string(kStreamPrefix) + "/webhook";
  router.Add("PUT", path,
             AccountRoute(ctx, [&ctx](Request& req, const PathParams&, const std::string& acct) {
               return PutWebhook(ctx, req, acct);
             }));
  router.Add("GET", path,
             AccountRoute(ctx, [&ctx](Request&, const PathParams&, const std::string& acct) {
               return GetWebhook(ctx, acct);
             }));
  router.Add("DELETE", path,
             AccountRoute(ctx, [&ctx](Request& req, const PathParams&, const std::string& acct) {
               return DeleteWebhook(ctx, req, acct);
             }));
  router.Add("GET", path + "/attempts",
             AccountRoute(ctx, [&ctx](Request&, const PathParams&, const std::string& acct) {
               return ListAttempts(ctx, acct);
             }));
}

}  // namespace kino::api
