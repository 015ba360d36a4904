// The dashboard's static files (ui/), compiled into the binary at build time
// by embed_file.cmake, so `syncmgr serve` needs nothing on disk and fetches
// nothing from another host (docs/ui.md).
//
// Thread-safety: constant data; safe from any thread.
#pragma once

#include <span>
#include <string_view>

namespace syncmgr::server {

struct UiAsset {
  std::string_view path;          // relative to ui/: "app.js", "pages/target.js"
  std::string_view content_type;  // chosen by extension at build time
  std::string_view bytes;
};

// Every file under ui/, sorted by path (byte order).
std::span<const UiAsset> UiAssets();

// A digest of every asset's path and content (16 hex digits): it changes
// whenever any asset does, so URLs holding it can be cached for good.
std::string_view UiBuildId();

}  // namespace syncmgr::server
