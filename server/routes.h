// The route groups of the API, one file each (SPEC §4).
#pragma once

#include "server/router.h"

namespace syncmgr::server {

void AddAdminRoutes(Router& router);     // routes_admin.cc: /tenants, keys
void AddCatalogRoutes(Router& router);   // routes_catalog.cc: /sources, /targets
void AddImportRoutes(Router& router);    // routes_import.cc: import, /imports
void AddSyncRoutes(Router& router);      // routes_sync.cc: /sync, /sync_logs
void AddPropertyRoutes(Router& router);  // routes_properties.cc: lists, history, edits
void AddOpsRoutes(Router& router);       // routes_ops.cc: /health, /metrics, /openapi.json
void AddDeliveryRoutes(Router& router);  // routes_delivery.cc: push delivery, dead letters
void AddBackupRoutes(Router& router);    // routes_backup.cc: /admin/backup
void AddFeedRoutes(Router& router);      // routes_feed.cc: /feed, /feed_tokens
void AddUiRoutes(Router& router);        // routes_ui.cc: /, /ui/ (the dashboard's files)

}  // namespace syncmgr::server
