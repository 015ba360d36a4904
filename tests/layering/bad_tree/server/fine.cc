// Every include here is allowed: nothing of this file may be reported.
#include "cluster/log.h"
#include "delivery/sink.h"
#include "engine/status.h"
#include "events_generated.h"
#include "server/server.h"
#include "wire/json_writer.h"
#include <simdjson.h>
