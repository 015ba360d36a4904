// Node: the cluster parts wired together (node.h).
#include "cluster/node.h"

#include <algorithm>
#include <charconv>
#include <random>

#include <fmt/format.h>

#include "cluster/counter.h"
#include "cluster/delivery_state.h"
#include "cluster/kv.h"
#include "cluster/log_reader.h"
#include "cluster/ownership.h"

namespace syncmgr::cluster {

namespace {

constexpr size_t kMaxNodeNameBytes = 64;
// How often the lag gauge's stream end is read is the reader's; these are
// the registry's: its record is written every third of the TTL.
constexpr int kRegistryPerTtl = 3;

bool ValidNodeName(std::string_view name) {
  return !name.empty() && name.size() <= kMaxNodeNameBytes &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
         });
}

uint64_t RandomIncarnation() {
  std::random_device rd;
  uint64_t v = 0;
  while (v == 0) v = (uint64_t{rd()} << 32) ^ rd();
  return v;
}

// Until the Node has started, the engine may not write (nothing should
// ask it to: the server is not listening yet).
class StartingHook : public CommitHook {
 public:
  Status OnWriteAhead(const LogRecords&) override { return NotYet(); }
  StatusOr<std::string> OnCommit(const LogRecords&) override { return NotYet(); }
  void OnAbort(TenantId, uint64_t) override {}

 private:
  static Status NotYet() {
    return Status::Unavailable("this cluster node is starting; the write was not applied");
  }
};

}  // namespace

// The engine's hook: the Ownership once started.
class NodeHook : public CommitHook {
 public:
  Status OnWriteAhead(const LogRecords& part) override { return target()->OnWriteAhead(part); }
  StatusOr<std::string> OnCommit(const LogRecords& rest) override {
    return target()->OnCommit(rest);
  }
  void OnAbort(TenantId tenant, uint64_t first_seq) override {
    target()->OnAbort(tenant, first_seq);
  }
  void Set(CommitHook* hook) { hook_.store(hook, std::memory_order_release); }

 private:
  CommitHook* target() {
    CommitHook* h = hook_.load(std::memory_order_acquire);
    return h != nullptr ? h : &starting_;
  }
  StartingHook starting_;
  std::atomic<CommitHook*> hook_{nullptr};
};

struct Node::Parts {
  std::unique_ptr<Connection> conn;
  std::optional<KvBucket> leases, ids, prefixes, nodes, delivery;
  std::unique_ptr<DeliveryStateBucket> delivery_state;
  std::unique_ptr<KvCounter> counter;
  std::unique_ptr<LogReader> reader;
  std::unique_ptr<Ownership> ownership;
  NodeHook hook;
};

Status ValidateNodeOptions(const NodeOptions& o) {
  if (o.servers.empty()) return Status::InvalidArgument("--cluster needs the NATS server URLs");
  for (const std::string& s : o.servers) SYNCMGR_RETURN_IF_ERROR(ParseServerList(s).status());
  if (!ValidNodeName(o.node)) {
    return Status::InvalidArgument(fmt::format(
        "--node must be 1 to {} letters, digits, '-' or '_', got '{}'", kMaxNodeNameBytes, o.node));
  }
  if (o.advertise_url.rfind("http://", 0) != 0 || o.advertise_url.size() <= 7) {
    return Status::InvalidArgument(fmt::format(
        "--advertise must be the http://HOST:PORT where other nodes reach this one, got '{}'",
        o.advertise_url));
  }
  if (o.lease_ttl.count() < 100 || o.publish_timeout.count() < 100) {
    return Status::InvalidArgument("--lease-ttl and --cluster-publish-timeout must be >= 100 ms");
  }
  return Status::Ok();
}

Node::Node(NodeOptions options) : options_(std::move(options)), parts_(std::make_unique<Parts>()) {
  me_.node = options_.node;
  me_.advertise_url = options_.advertise_url;
  me_.incarnation = RandomIncarnation();
}

Node::~Node() { Stop(); }

StatusOr<std::unique_ptr<Node>> Node::Connect(const NodeOptions& options) {
  SYNCMGR_RETURN_IF_ERROR(ValidateNodeOptions(options));
  std::unique_ptr<Node> node(new Node(options));
  Parts& p = *node->parts_;
  ConnectOptions co;
  co.servers = options.servers;
  co.name = "syncmgr-" + options.node;
  co.publish_timeout = options.publish_timeout;
  SYNCMGR_ASSIGN_OR_RETURN(p.conn, Connection::Connect(co));
  LayoutOptions layout = options.layout;
  layout.lease_ttl = options.lease_ttl;
  if (p.conn->max_payload() < layout.max_message_bytes) {
    return Status::InvalidArgument(fmt::format(
        "the NATS servers take messages of at most {} bytes; cluster mode needs {} "
        "(max_payload)",
        p.conn->max_payload(), layout.max_message_bytes));
  }
  SYNCMGR_RETURN_IF_ERROR(p.conn->EnsureStream(LogStreamConfig(layout)).status());
  SYNCMGR_ASSIGN_OR_RETURN(KvBucket leases, KvBucket::Open(p.conn.get(), LeaseBucket(layout)));
  SYNCMGR_ASSIGN_OR_RETURN(KvBucket ids, KvBucket::Open(p.conn.get(), TenantIdsBucket(layout)));
  SYNCMGR_ASSIGN_OR_RETURN(KvBucket prefixes,
                           KvBucket::Open(p.conn.get(), KeyPrefixBucket(layout)));
  SYNCMGR_ASSIGN_OR_RETURN(KvBucket nodes, KvBucket::Open(p.conn.get(), NodesBucket(layout)));
  SYNCMGR_ASSIGN_OR_RETURN(KvBucket delivery,
                           KvBucket::Open(p.conn.get(), DeliveryBucket(layout)));
  p.leases.emplace(std::move(leases));
  p.ids.emplace(std::move(ids));
  p.prefixes.emplace(std::move(prefixes));
  p.nodes.emplace(std::move(nodes));
  p.delivery.emplace(std::move(delivery));
  Node* self = node.get();
  p.delivery_state = std::make_unique<DeliveryStateBucket>(
      &*p.delivery, [self](TenantId tenant) { return self->Owns(tenant); });
  p.counter = std::make_unique<KvCounter>(&*p.ids, std::string(kTenantCounterKey));
  return node;
}

CommitHook* Node::commit_hook() { return &parts_->hook; }

DeliveryStateStore* Node::delivery_store() { return parts_->delivery_state.get(); }

std::function<Status(std::string_view, TenantId)> Node::key_prefix_reserver() {
  const KvBucket* prefixes = &*parts_->prefixes;
  return [prefixes](std::string_view prefix, TenantId tenant) -> Status {
    return prefixes->Create(prefix, std::to_string(tenant)).status();
  };
}

void Node::SetOwnershipListener(std::function<void(TenantId, bool)> fn) {
  MutexLock lock(&listener_mu_);
  listener_ = std::move(fn);
}

bool Node::Owns(TenantId tenant) const {
  return parts_->ownership != nullptr && parts_->ownership->Owns(tenant);
}

Status Node::Start(Engine* engine, Clock::time_point deadline) {
  Parts& p = *parts_;
  engine_ = engine;
  // Registered first, so that the others count it when they hand out idle
  // tenants.
  SYNCMGR_RETURN_IF_ERROR(p.nodes->Put(options_.node, EncodeLease(me_)).status());
  LogReaderOptions ro;
  ro.stream = std::string(kLogStream);
  p.reader = std::make_unique<LogReader>(p.conn.get(), engine, ro);
  OwnershipOptions oo;
  oo.me = me_;
  oo.lease_ttl = options_.lease_ttl;
  oo.publish_timeout = options_.publish_timeout;
  LayoutOptions layout = options_.layout;
  oo.chunk_bytes = ChunkBytes(layout);
  oo.stream = std::string(kLogStream);
  p.ownership = std::make_unique<Ownership>(p.conn.get(), &*p.leases, p.reader.get(), oo);
  p.ownership->SetListener([this](TenantId tenant, bool owned) {
    MutexLock lock(&listener_mu_);
    if (listener_) listener_(tenant, owned);
  });
  Ownership* ownership = p.ownership.get();
  p.reader->SetFenceListener([ownership](const FenceSeen& seen) { ownership->OnFence(seen); });
  SYNCMGR_RETURN_IF_ERROR(p.reader->Start());
  // Serve once the views hold the stream as it was at start.
  if (!p.reader->CatchUp(deadline)) {
    Status why = p.reader->error();
    if (!why.ok()) return why;
    return Status::Unavailable(fmt::format(
        "this node did not catch up with the log of record in time (at stream sequence {} of "
        "{})",
        p.reader->position(), p.reader->stream_last_seq()));
  }
  p.hook.Set(p.ownership.get());
  {
    MutexLock lock(&mu_);
    started_ = true;
  }
  registry_ = std::thread([this] { RegistryLoop(); });
  Engine* e = engine_;
  p.ownership->Start(
      [e] {
        std::vector<TenantId> ids;
        for (const TenantInfo& t : e->ListTenants()) ids.push_back(t.id);
        return ids;
      },
      [this] { return LiveNodes(); });
  return Status::Ok();
}

void Node::Stop() {
  bool started = false;
  {
    MutexLock lock(&mu_);
    if (stop_) return;
    stop_ = true;
    started = started_;
  }
  cv_.SignalAll();
  if (registry_.joinable()) registry_.join();
  Parts& p = *parts_;
  // Writers first (released leases let others take over at once), then the
  // reader; the engine is closed by the caller afterwards.
  if (p.ownership) p.ownership->Stop(/*release=*/started);
  p.hook.Set(nullptr);
  if (p.reader) p.reader->Stop();
  if (started && p.nodes) p.nodes->Delete(options_.node).IgnoreError();  // else its TTL drops it
}

void Node::RegistryLoop() {
  const Millis pace = std::max(Millis(1), options_.lease_ttl / kRegistryPerTtl);
  while (true) {
    parts_->nodes->Put(options_.node, EncodeLease(me_)).status().IgnoreError();  // next round retries
    parts_->reader->RefreshStreamEnd();  // the lag gauge, even while the reader idles
    StatusOr<std::vector<KvEntry>> entries = parts_->nodes->List();
    if (entries.ok()) {
      std::vector<std::string> names;
      for (const KvEntry& e : *entries) names.push_back(e.key);
      std::sort(names.begin(), names.end());
      MutexLock lock(&mu_);
      live_nodes_ = std::move(names);
    }
    MutexLock lock(&mu_);
    const Clock::time_point until = Clock::now() + pace;
    for (Clock::time_point now = Clock::now(); !stop_ && now < until; now = Clock::now()) {
      cv_.WaitFor(&mu_, until - now);
    }
    if (stop_) return;
  }
}

std::vector<std::string> Node::LiveNodes() const {
  MutexLock lock(&mu_);
  return live_nodes_;
}

StatusOr<Node::WriteRoute> Node::RouteWrite(TenantId tenant, Clock::time_point deadline) {
  SYNCMGR_ASSIGN_OR_RETURN(Ownership::WriteRoute r, parts_->ownership->RouteWrite(tenant, deadline));
  return WriteRoute{r.local, r.local ? std::string() : r.owner.advertise_url, r.owner.node};
}

StatusOr<TenantCreatedInfo> Node::CreateTenant(std::string_view name, Clock::time_point deadline) {
  if (name.empty()) return Status::InvalidArgument("tenant name must not be empty");
  SYNCMGR_ASSIGN_OR_RETURN(uint64_t id, parts_->counter->Next());
  if (id == 0 || id > UINT32_MAX) {
    return Status::Internal(fmt::format("the cluster's tenant id counter gave {}", id));
  }
  const TenantId tenant = static_cast<TenantId>(id);
  // A fresh id: its lease is free and its subject empty, so this node
  // takes it (the fence expects no message: exact).
  SYNCMGR_ASSIGN_OR_RETURN(WriteRoute route, RouteWrite(tenant, deadline));
  if (!route.local) {
    return Status::Internal(fmt::format("the new tenant {} is held by node {}", tenant,
                                        route.owner_node));
  }
  return engine_->CreateTenant(name, tenant);
}

StatusOr<TenantId> Node::TenantOfKeyPrefix(std::string_view prefix) {
  if (!KvBucket::ValidKey(prefix)) return Status::NotFound("no such key prefix");
  SYNCMGR_ASSIGN_OR_RETURN(KvEntry e, parts_->prefixes->Get(prefix));
  TenantId t = 0;
  auto [end, ec] = std::from_chars(e.value.data(), e.value.data() + e.value.size(), t);
  if (ec != std::errc() || end != e.value.data() + e.value.size() || t == 0) {
    return Status::Corruption(fmt::format("key prefix {} names \"{}\", not a tenant", prefix,
                                          e.value));
  }
  return t;
}

StatusOr<std::string> Node::LeaseHolderOf(TenantId tenant) const {
  StatusOr<KvEntry> entry = parts_->leases->Get(TenantLeaseKey(tenant));
  if (!entry.ok()) {
    if (entry.status().code() == Code::kNotFound) return std::string();
    return entry.status();
  }
  SYNCMGR_ASSIGN_OR_RETURN(ClusterMessage m, DecodeClusterMessage(entry->value));
  const auto* holder = std::get_if<LeaseHolder>(&m);
  if (holder == nullptr) return Status::Corruption("a lease holds another kind of message");
  return holder->node;
}

bool Node::CatchUp(Clock::time_point deadline) { return parts_->reader->CatchUp(deadline); }

void Node::SetReaderPaused(bool paused) {
  if (parts_->reader) parts_->reader->SetPaused(paused);
}

std::string Node::RenderPrometheus() const {
  const Parts& p = *parts_;
  if (!p.reader || !p.ownership) return "";
  const uint64_t applied = p.reader->position();
  const uint64_t last = std::max(p.reader->stream_last_seq(), applied);
  std::string out;
  auto gauge = [&](std::string_view name, std::string_view help, std::string_view type,
                   uint64_t value) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n{}{{node=\"{}\"}} {}\n", name, help, name,
                       type, name, options_.node, value);
  };
  gauge("syncmgr_cluster_stream_last_seq", "Last sequence of the log of record (read every second or so).",
        "gauge", last);
  gauge("syncmgr_cluster_applied_seq", "Stream sequence up to which this node folded the log.",
        "gauge", applied);
  gauge("syncmgr_cluster_lag_messages", "Stream messages this node has not folded yet.", "gauge",
        last - applied);
  gauge("syncmgr_cluster_owned_tenants", "Tenants this node writes (holds the lease of).", "gauge",
        p.ownership->owned_tenants());
  gauge("syncmgr_cluster_fenced_total", "Commits refused or superseded because another writer fenced.",
        "counter", p.ownership->fenced_total());
  gauge("syncmgr_cluster_fences_total", "Fences this node wrote (tenants taken).", "counter",
        p.ownership->fences_written());
  gauge("syncmgr_cluster_superseded_total", "Stored log messages that did not count (seen by this node).",
        "counter", p.reader->superseded_total());
  gauge("syncmgr_cluster_forwarded_total", "Writes this node forwarded to a tenant's owner.",
        "counter", forwarded_.load(std::memory_order_relaxed));
  gauge("syncmgr_cluster_reader_paused", "1 while the test hook pauses the reader.", "gauge",
        p.reader->paused() ? 1 : 0);
  gauge("syncmgr_cluster_reader_failed", "1 once the reader stopped on a message it cannot fold (rebuild the node).",
        "gauge", p.reader->error().ok() ? 0 : 1);
  return out;
}

}  // namespace syncmgr::cluster
