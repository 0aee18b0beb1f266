// GET /healthz and GET /metrics (Prometheus text format 0.0.4), and the RegisterAllRoutes list.
#include "api/routes.h"
#include "common/metrics.h"

namespace kino::api {

void RegisterSystemRoutes(Router& router, ApiContext& ctx) {
  router.Add("GET", "/healthz", [&ctx](Request&, const PathParams&) {
    Response r;
    // The database answering a trivial query is what "healthy" means for this node.
    auto rows = ctx.db->Query("SELECT 1");
    r.status = rows.ok() ? 200 : 503;
    r.body = rows.ok() ? "ok\n" : "database unavailable\n";
    r.headers.Set("Content-Type", "text/plain; charset=utf-8");
    r.headers.Set("Cache-Control", "no-store");
    return r;
  });
  router.Add("GET", "/metrics", [](Request&, const PathParams&) {
    Response r;
    r.body = metrics::RenderAll();
    r.headers.Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    r.headers.Set("Cache-Control", "no-store");
    return r;
  });
}

void RegisterAllRoutes(Router& router, ApiContext& ctx) {
  RegisterSystemRoutes(router, ctx);
  RegisterVideoRoutes(router, ctx);
  RegisterUploadRoutes(router, ctx);
  RegisterTusRoutes(router, ctx);
  RegisterDownloadRoutes(router, ctx);
  RegisterDeliveryRoutes(router, ctx);
  RegisterKeyRoutes(router, ctx);
  RegisterWebhookRoutes(router, ctx);
}

}  // namespace kino::api
