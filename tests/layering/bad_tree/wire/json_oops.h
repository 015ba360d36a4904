// wire/ sits below delivery/.
#pragma once
#include "engine/types.h"
#include "delivery/sink.h"
