// syncmgr --version: the version, the commit built and the on-disk format.
#include <cstdio>

#include "engine/store.h"
#include "tools/build_info.h"
#include "tools/cli.h"
#include "wire/json_writer.h"

namespace syncmgr::cli {

int PrintVersion(bool json) {
  if (json) {
    std::string out;
    wire::JsonWriter w(&out);
    w.BeginObject().Key("version").String(kBuildVersion).Key("commit").String(kBuildCommit);
    w.Key("format_version").Int(kFormatVersion).EndObject();
    std::printf("%s\n", out.c_str());
  } else {
    std::printf("syncmgr %s\ncommit %s\non-disk format %d\n", kBuildVersion, kBuildCommit,
                kFormatVersion);
  }
  return kExitOk;
}

}  // namespace syncmgr::cli
