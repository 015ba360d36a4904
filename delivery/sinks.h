// The four push target types (SPEC §4 "Push delivery"), one validate /
// make pair each. delivery/sink.h's ValidateConfig and MakeSink dispatch on
// the target type to these. (How a config is shown, its secrets hidden, is
// one rule for every type: wire/redact.h.)
//
//   Validate<T>Config: InvalidArgument naming the bad member, or OK; applies
//     the outbound-safety rule to the destination host unless
//     env.allow_private.
//   Make<T>Sink: the sink. REQUIRES: Validate<T>Config passed.
//
// The members every type shares ("batch_size", "max_attempts", "on_failure";
// delivery/policy.h) are handled by sink.cc: both functions receive the
// config WITHOUT them, so a type refusing unknown members stays strict.
//
// Thread-safety: the functions are safe to call from any thread; a Sink is
// used by one thread at a time (see sink.h).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "delivery/sink.h"
#include "engine/status.h"

namespace syncmgr::delivery {

// webhook_sink.cc
Status ValidateWebhookConfig(std::string_view config_json, const SinkEnv& env);
StatusOr<std::unique_ptr<Sink>> MakeWebhookSink(std::string_view config_json, const SinkEnv& env);

// postgres_sink.cc
Status ValidatePostgresConfig(std::string_view config_json, const SinkEnv& env);
StatusOr<std::unique_ptr<Sink>> MakePostgresSink(std::string_view config_json, const SinkEnv& env);

// file_sink.cc
Status ValidateFileConfig(std::string_view config_json, const SinkEnv& env);
StatusOr<std::unique_ptr<Sink>> MakeFileSink(std::string_view config_json, const SinkEnv& env);

// ftp_sink.cc
Status ValidateFtpConfig(std::string_view config_json, const SinkEnv& env);
StatusOr<std::unique_ptr<Sink>> MakeFtpSink(std::string_view config_json, const SinkEnv& env);

}  // namespace syncmgr::delivery
