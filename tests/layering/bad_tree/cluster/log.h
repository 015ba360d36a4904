// cluster/ sits below server/.
#pragma once
#include "server/server.h"
