// engine/ may not know the server.
#include "engine/status.h"
#include "server/server.h"
