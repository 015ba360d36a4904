# cmake -DINPUT=file -DOUTPUT=file.cc -DSYMBOL=name -P embed_file.cmake
# Writes a C++ source defining `std::string_view syncmgr::server::SYMBOL()`
# that returns the bytes of INPUT (no trailing NUL counted).
file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" hex_len)
math(EXPR size "${hex_len} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" bytes "${bytes}")
file(WRITE "${OUTPUT}.tmp"
"// Generated from ${INPUT} by embed_file.cmake. Do not edit.\n"
"#include <string_view>\n"
"namespace syncmgr::server {\n"
"namespace {\n"
"const unsigned char kBytes[] = {\n${bytes}0x00};\n"
"}  // namespace\n"
"std::string_view ${SYMBOL}() {\n"
"  return {reinterpret_cast<const char*>(kBytes), ${size}};\n"
"}\n"
"}  // namespace syncmgr::server\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
