// The one mapping of NATS client errors to Status (connection.h lists what
// each code means to a caller).
#include <fmt/format.h>

#include "cluster/nats_internal.h"

namespace syncmgr::cluster {

bool IsTransientJsError(jsErrCode js_err) {
  switch (static_cast<int>(js_err)) {
    case JSClusterNotAvailErr:     // no meta leader yet
    case JSClusterNotLeaderErr:    // asked a server that is no longer leader
    case JSClusterNoPeersErr:      // too few servers up to place the replicas
    case JSClusterIncompleteErr:
    case JSStreamOfflineErr:       // the stream's group has no leader
    case JSRaftGeneralErr:
    case JSStreamStoreFailedErr:
    case JSInsufficientResourcesErr:
      return true;
    default:
      return false;
  }
}

Status NatsError(natsStatus s, jsErrCode js_err, std::string_view what) {
  if (s == NATS_OK) return Status::Ok();
  const char* last = nats_GetLastError(nullptr);
  std::string detail = natsStatus_GetText(s);
  if (last != nullptr && *last != '\0' && detail != last) detail = fmt::format("{}: {}", detail, last);
  return MapNatsError(s, js_err, fmt::format("{}: {}", what, detail));
}

Status MapNatsError(natsStatus s, jsErrCode js_err, std::string msg) {
  if (s == NATS_OK) return Status::Ok();
  if (js_err != 0) msg = fmt::format("{} (JetStream error {})", msg, static_cast<int>(js_err));

  switch (static_cast<int>(js_err)) {
    case 0:
      break;
    case JSStreamWrongLastSequenceErr:
      return Status::Conflict(fmt::format("fenced: {}", msg));
    case JSStreamNotFoundErr:
    case JSNoMessageFoundErr:
    case JSSequenceNotFoundErr:
      return Status::NotFound(std::move(msg));
    case JSStreamMessageExceedsMaximumErr:
      return Status::PayloadTooLarge(std::move(msg));
    case JSStreamInvalidConfig:
    case JSBadRequestErr:
    case JSStreamNameExistErr:
    case JSStreamSubjectOverlapErr:
    case JSStreamReplicasNotSupportedErr:
    case JSStreamReplicasNotUpdatableErr:
    case JSStreamUpdateErr:
      return Status::InvalidArgument(std::move(msg));
    default:
      if (IsTransientJsError(js_err)) return Status::Unavailable(std::move(msg));
      return Status::Internal(std::move(msg));
  }

  switch (s) {
    case NATS_TIMEOUT:
    case NATS_NO_RESPONDERS:
    case NATS_NO_SERVER:
    case NATS_CONNECTION_CLOSED:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_IO_ERROR:
    case NATS_STALE_CONNECTION:
    case NATS_NOT_YET_CONNECTED:
    case NATS_DRAINING:
    case NATS_MISSED_HEARTBEAT:
    case NATS_SLOW_CONSUMER:
      return Status::Unavailable(std::move(msg));
    case NATS_NOT_FOUND:
      return Status::NotFound(std::move(msg));
    case NATS_MAX_PAYLOAD:
      return Status::PayloadTooLarge(std::move(msg));
    case NATS_INVALID_ARG:
    case NATS_INVALID_SUBJECT:
    case NATS_ADDRESS_MISSING:
    case NATS_INVALID_TIMEOUT:
      return Status::InvalidArgument(std::move(msg));
    default:
      return Status::Internal(std::move(msg));
  }
}

}  // namespace syncmgr::cluster
