#include "api/routes.h"

namespace kino::api {

void RegisterTusRoutes(Router& router, ApiContext& ctx) {
  (void)router;
  (void)ctx;
}

}  // namespace kino::api
