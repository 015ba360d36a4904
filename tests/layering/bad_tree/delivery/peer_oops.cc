// delivery/ and cluster/ are peers: neither includes the other.
#include "wire/json_writer.h"
#include "cluster/log.h"
