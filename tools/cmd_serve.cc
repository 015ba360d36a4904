// syncmgr serve: parses the flags and runs the HTTP server (server/serve.h)
// until SIGINT or SIGTERM.
#include <charconv>
#include <chrono>
#include <cstdio>
#include <string>
#include <tuple>
#include <utility>

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
  // Byte counts: a decimal number, at least `min`.
  for (auto [flag, out, min, what] :
       {std::tuple{"bulk-ingest-min-bytes", &config.engine.bulk_ingest_min_bytes, uint64_t{0},
                   "a number of bytes (0: never)"},
        std::tuple{"write-chunk-bytes", &config.engine.write_chunk_bytes, uint64_t{1},
                   "a number of bytes, at least 1"}}) {
    if (auto v = ctx.args().GetOptional(flag)) {
      uint64_t bytes = 0;
      auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), bytes);
      if (v->empty() || ec != std::errc() || end != v->data() + v->size() || bytes < min) {
        return ctx.UsageFail(std::string("--") + flag + " must be " + what + ", got '" + *v + "'");
      }
      *out = bytes;
    }
  }
  if (ctx.args().Has("cluster")) {
    cluster::NodeOptions node;
    node.servers = {ctx.args().Get("cluster")};
    node.node = ctx.args().Get("node");
    node.advertise_url = ctx.args().Get("advertise");
    for (auto [flag, out] : {std::pair{"lease-ttl", &node.lease_ttl},
                             std::pair{"cluster-publish-timeout", &node.publish_timeout}}) {
      if (auto v = ctx.args().GetOptional(flag)) {
        unsigned ms = 0;
        auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), ms);
        if (v->empty() || ec != std::errc() || end != v->data() + v->size()) {
          return ctx.UsageFail(std::string("--") + flag + " must be milliseconds, got '" + *v + "'");
        }
        *out = std::chrono::milliseconds(ms);
      }
    }
    if (Status valid = cluster::ValidateNodeOptions(node); !valid.ok()) {
      return ctx.UsageFail(valid.message());
    }
    config.cluster = std::move(node);
    config.test_hooks = ctx.args().Has("test-hooks");
  } else {
    for (const char* flag : {"node", "advertise", "lease-ttl", "cluster-publish-timeout",
                             "test-hooks"}) {
      if (ctx.args().Has(flag)) return ctx.UsageFail(std::string("--") + flag + " needs --cluster");
    }
  }
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
                   "allow file push targets, each tenant's under DIR/<tenant id>/"},
                  {"bulk-ingest-min-bytes", "BYTES",
                   "write operations this large as table files (default: 16777216; 0: never)"},
                  {"write-chunk-bytes", "BYTES",
                   "log bytes an operation holds before writing them ahead (default: 67108864)"},
                  {"cluster", "URLS", "cluster mode: the NATS servers, nats://h1:4222,nats://h2:4222,..."},
                  {"node", "NAME", "cluster mode: this node's name, unique in the cluster"},
                  {"advertise", "URL", "cluster mode: http://HOST:PORT where other nodes reach this one"},
                  {"lease-ttl", "MS", "cluster mode: tenant lease TTL (default: 10000)"},
                  {"cluster-publish-timeout", "MS",
                   "cluster mode: one publish to the log of record (default: 10000)"},
                  {"test-hooks", "", "cluster mode, tests only: SIGUSR1/SIGUSR2 pause/resume the log reader"}},
        .details = "The admin key comes from SYNCMGR_ADMIN_KEY; if unset on first start, one is\n"
                   "generated into DIR/admin.key (mode 0600) and the path is printed.\n\n"
                   "In cluster mode (docs/scaling.md) SYNCMGR_ADMIN_KEY is required, the same\n"
                   "on every node.\n\n"
                   "Example:\n"
                   "  $ syncmgr serve --db ./syncmgr-data --port 8000\n"
                   "  $ syncmgr serve --db /var/lib/syncmgr --host 0.0.0.0 --port 8000 \\\n"
                   "      --cluster nats://h1:4222,nats://h2:4222,nats://h3:4222 \\\n"
                   "      --node h1 --advertise http://h1:8000\n"},
       Serve});
}

}  // namespace syncmgr::cli
