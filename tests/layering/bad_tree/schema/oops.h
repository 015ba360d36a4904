// A relative path to a higher folder is still a higher folder.
#pragma once
#include "../engine/status.h"
