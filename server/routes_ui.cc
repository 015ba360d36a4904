// Dashboard routes (no key: the files hold no data; SPEC §4 "Operations",
// docs/ui.md). The dashboard is a client of the public API only; these
// routes just hand out its static files, compiled in (server/ui_assets.h).
//
//   GET /                          302 → /ui/
//   GET /ui                        302 → /ui/
//   GET /ui/                       index.html                 Cache-Control: no-cache
//   GET /ui/{build}/{file}         a file of this build       cached for a year, immutable
//   GET /ui/{build}/{dir}/{file}
//
// index.html names every other file under /ui/<UiBuildId()>/, so a browser
// may keep those for good: another build has other URLs, and only the small
// index is revalidated. A file URL of another build is 404, never today's
// bytes under yesterday's immutable URL. Pages are hash routes
// (/ui/#/targets/3), so the server needs no catch-all.
//
// Every answer here carries the same security headers: a CSP that allows
// this origin's scripts, styles and connections only (ui/ has no inline
// script or style), no framing, no MIME sniffing, no Referer.
#include <algorithm>
#include <string>

#include "server/routes.h"
#include "server/ui_assets.h"

namespace syncmgr::server {
namespace {

constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
// A file under /ui/<build>/ never changes (RFC 8246 immutable).
constexpr std::string_view kCacheForGood = "public, max-age=31536000, immutable";
// The index: kept, but asked again each time (it names the current build).
constexpr std::string_view kCacheRevalidate = "no-cache";
// What index.html says where the current build's directory goes.
constexpr std::string_view kBuildPlaceholder = "__UI_BUILD__";
constexpr std::string_view kIndex = "index.html";

ApiResponse WithUiHeaders(ApiResponse r, std::string_view cache_control) {
  r.headers.emplace_back("Content-Security-Policy", kContentSecurityPolicy);
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("X-Frame-Options", "DENY");  // for browsers without frame-ancestors
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back("Cache-Control", cache_control);
  return r;
}

const UiAsset* FindAsset(std::string_view path) {
  const std::span<const UiAsset> assets = UiAssets();
  const auto it = std::lower_bound(assets.begin(), assets.end(), path,
                                   [](const UiAsset& a, std::string_view p) { return a.path < p; });
  return it != assets.end() && it->path == path ? &*it : nullptr;
}

ApiResponse NotFound(std::string_view what) {
  return WithUiHeaders(ErrorResponse(Status::NotFound(std::string(what))), "no-store");
}

ApiResponse RedirectToUi(const ApiRequest&, HandlerContext&) {
  ApiResponse r;
  r.status = 302;
  r.content_type.clear();
  r.headers.emplace_back("Location", "/ui/");
  return WithUiHeaders(std::move(r), kCacheRevalidate);
}

ApiResponse Index(const ApiRequest&, HandlerContext&) {
  static const std::string* const html = [] {
    const UiAsset* index = FindAsset(kIndex);
    if (index == nullptr) return static_cast<std::string*>(nullptr);
    auto* out = new std::string(index->bytes);
    for (size_t at = out->find(kBuildPlaceholder); at != std::string::npos;
         at = out->find(kBuildPlaceholder, at)) {
      out->replace(at, kBuildPlaceholder.size(), UiBuildId());
    }
    return out;
  }();
  if (html == nullptr) return NotFound("this build has no dashboard");
  ApiResponse r;
  r.content_type = "text/html; charset=utf-8";
  r.body = *html;
  return WithUiHeaders(std::move(r), kCacheRevalidate);
}

ApiResponse Asset(const ApiRequest& req, HandlerContext&, bool in_dir) {
  if (req.path.Get("build") != UiBuildId()) {
    return NotFound("no such dashboard build (reload /ui/)");
  }
  std::string path = in_dir ? req.path.Get("dir") + "/" : std::string();
  path += req.path.Get("file");
  const UiAsset* asset = path == kIndex ? nullptr : FindAsset(path);
  if (asset == nullptr) return NotFound("no such dashboard file");
  ApiResponse r;
  r.content_type = std::string(asset->content_type);
  r.body = std::string(asset->bytes);
  return WithUiHeaders(std::move(r), kCacheForGood);
}

}  // namespace

void AddUiRoutes(Router& router) {
  router.Add(BufferedRoute(HttpMethod::kGet, "/", RedirectToUi, {}, AuthScope::kPublic));
  router.Add(BufferedRoute(HttpMethod::kGet, "/ui", RedirectToUi, {}, AuthScope::kPublic));
  router.Add(BufferedRoute(HttpMethod::kGet, "/ui/", Index, {}, AuthScope::kPublic));
  router.Add(BufferedRoute(
      HttpMethod::kGet, "/ui/{build}/{file}",
      [](const ApiRequest& r, HandlerContext& c) { return Asset(r, c, false); }, {},
      AuthScope::kPublic));
  router.Add(BufferedRoute(
      HttpMethod::kGet, "/ui/{build}/{dir}/{file}",
      [](const ApiRequest& r, HandlerContext& c) { return Asset(r, c, true); }, {},
      AuthScope::kPublic));
}

}  // namespace syncmgr::server
