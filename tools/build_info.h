// What this binary is, for `syncmgr --version`. Defined in build_info.cc,
// which the build writes into the build directory (tools/build_info.cmake)
// on every build but changes only when the commit does: it alone is
// recompiled then, and ccache keeps everything else.
#pragma once

namespace syncmgr::cli {

// The CMake project version ("0.1.0").
extern const char kBuildVersion[];
// The git commit built (12 hex digits, "-dirty" with uncommitted changes to
// tracked files), or "unknown" outside a git checkout.
extern const char kBuildCommit[];

}  // namespace syncmgr::cli
