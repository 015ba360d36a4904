// syncmgr serve: parses the flags and runs the HTTP server (server/serve.h)
// until SIGINT or SIGTERM.
#include <charconv>
#include <cstdio>

#include "server/serve.h"
#include "tools/cli.h"

namespace syncmgr::cli {

namespace {

// Default listening address and port (SPEC §5).
constexpr std::string_view kDefaultHost = "127.0.0.1";
constexpr uint16_t kDefaultPort = 8000;

int Serve(Context& ctx) {
  if (ctx.args().Has("url") || ctx.args().Has("api-key")) {
    return ctx.UsageFail("serve runs the server: it takes --db, not --url or --api-key");
  }
  std::string host = ctx.args().Get("host", kDefaultHost);
  uint16_t port = kDefaultPort;
  if (auto p = ctx.args().GetOptional("port")) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(p->data(), p->data() + p->size(), value);
    if (p->empty() || ec != std::errc() || end != p->data() + p->size() || value > 65535) {
      return ctx.UsageFail("--port must be a number from 0 to 65535, got '" + *p + "'");
    }
    port = static_cast<uint16_t>(value);
  }
  server::ServeConfig config;
  config.db_path = ctx.data_dir();
  config.host = host;
  config.port = port;
  config.cors_origins = ctx.args().GetAll("cors-origin");
  config.allow_private_push = ctx.args().Has("allow-private-push");
  config.file_push_root = ctx.args().Get("file-push-root", "");
  Status st = server::RunServe(config);
  if (st.ok()) return kExitOk;
  // A bad --host is a usage error; anything else kept the server from
  // starting (data directory, admin key file, address in use).
  if (st.code() == Code::kInvalidArgument) return ctx.UsageFail(st.message());
  ctx.Fail(st);  // prints the one error line
  return kExitUnreachable;
}

}  // namespace

void AddServeCommands(std::vector<Command>* out) {
  out->push_back(
      {{.path = "serve",
        .summary = "Run the HTTP API server on the data directory until SIGINT/SIGTERM.",
        .flags = {{"host", "HOST", "address to listen on (default: 127.0.0.1)"},
                  {"port", "PORT", "TCP port (default: 8000; 0 picks a free one)"},
                  {"cors-origin", "ORIGIN", "let this origin read GET routes cross-origin", true},
                  {"allow-private-push", "", "allow push targets on loopback / private addresses"},
                  {"file-push-root", "DIR",
                   "allow file push targets, each tenant's under DIR/<tenant id>/"}},
        .details = "The admin key comes from SYNCMGR_ADMIN_KEY; if unset on first start, one is\n"
                   "generated into DIR/admin.key (mode 0600) and the path is printed.\n\n"
                   "Example:\n"
                   "  $ syncmgr serve --db ./syncmgr-data --port 8000\n"},
       Serve});
}

}  // namespace syncmgr::cli
