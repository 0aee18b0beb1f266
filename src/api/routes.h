// Registration of every route Kino serves. Each Register* function lives in the file of its
// resource (video_handlers.cc, download_handlers.cc, ...).
#ifndef KINO_API_ROUTES_H_
#define KINO_API_ROUTES_H_

#include "api/context.h"
#include "api/router.h"

namespace kino::api {

// The account-scoped API prefix.
inline constexpr const char* kStreamPrefix = "/client/v4/accounts/:account/stream";

void RegisterSystemRoutes(Router& router, ApiContext& ctx);    // system_handlers.cc
void RegisterVideoRoutes(Router& router, ApiContext& ctx);     // video_handlers.cc
void RegisterUploadRoutes(Router& router, ApiContext& ctx);    // upload_handlers.cc
void RegisterTusRoutes(Router& router, ApiContext& ctx);       // tus_handlers.cc
void RegisterDownloadRoutes(Router& router, ApiContext& ctx);  // download_handlers.cc
void RegisterDeliveryRoutes(Router& router, ApiContext& ctx);  // delivery_handlers.cc
void RegisterKeyRoutes(Router& router, ApiContext& ctx);       // key_handlers.cc
void RegisterWebhookRoutes(Router& router, ApiContext& ctx);   // webhook_handlers.cc

// All of the above.
void RegisterAllRoutes(Router& router, ApiContext& ctx);

}  // namespace kino::api

#endif  // KINO_API_ROUTES_H_
