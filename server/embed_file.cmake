# Embeds files into the binary as C++ byte arrays. Two modes:
#
# One file:
#   cmake -DINPUT=file -DOUTPUT=file.cc -DSYMBOL=name -P embed_file.cmake
#   defines `std::string_view syncmgr::server::SYMBOL()` returning the bytes
#   of INPUT (no trailing NUL counted).
#
# A directory tree (the dashboard, server/ui_assets.h):
#   cmake -DINPUT_DIR=dir -DOUTPUT=file.cc -P embed_file.cmake
#   defines UiAssets(), a table of every file under INPUT_DIR sorted by its
#   path relative to INPUT_DIR ("app.js", "pages/target.js"), each with its
#   bytes and a Content-Type chosen here by extension, and UiBuildId(), a
#   digest of every path and content, so an asset URL holding it names one
#   build's bytes (server/routes_ui.cc). A file with an extension not in the
#   table below fails the build rather than being served with a guessed type.
#
# The output is rewritten only if its content changed, so an unchanged asset
# set does not recompile anything.

# HEX_VAR <- the C initializer of the bytes of FILE; SIZE_VAR <- their count.
function(embed_bytes file hex_var size_var)
  file(READ "${file}" hex HEX)
  string(LENGTH "${hex}" hex_len)
  math(EXPR size "${hex_len} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" bytes "${bytes}")
  set(${hex_var} "${bytes}" PARENT_SCOPE)
  set(${size_var} "${size}" PARENT_SCOPE)
endfunction()

function(content_type_of path out_var)
  get_filename_component(name "${path}" NAME)
  string(TOLOWER "${name}" name)
  if(name MATCHES "\\.html$")
    set(type "text/html; charset=utf-8")
  elseif(name MATCHES "\\.js$")
    set(type "text/javascript; charset=utf-8")
  elseif(name MATCHES "\\.css$")
    set(type "text/css; charset=utf-8")
  elseif(name MATCHES "\\.svg$")
    set(type "image/svg+xml")
  elseif(name MATCHES "\\.png$")
    set(type "image/png")
  elseif(name MATCHES "\\.json$")
    set(type "application/json")
  elseif(name MATCHES "\\.(txt|md)$" OR name MATCHES "^(license|copying|notice)$")
    set(type "text/plain; charset=utf-8")
  else()
    message(FATAL_ERROR "embed_file.cmake: no content type for ${path}; add its extension")
  endif()
  set(${out_var} "${type}" PARENT_SCOPE)
endfunction()

# Writes the value of the variable named TEXT_VAR to OUTPUT.
function(write_if_changed output text_var)
  file(WRITE "${output}.tmp" "${${text_var}}")
  file(COPY_FILE "${output}.tmp" "${output}" ONLY_IF_DIFFERENT)
  file(REMOVE "${output}.tmp")
endfunction()

if(DEFINED INPUT)
  embed_bytes("${INPUT}" bytes size)
  string(CONCAT text
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
  write_if_changed("${OUTPUT}" text)
elseif(DEFINED INPUT_DIR)
  file(GLOB_RECURSE files RELATIVE "${INPUT_DIR}" "${INPUT_DIR}/*")
  list(SORT files)  # byte order: UiAssets() is sorted for binary search
  set(arrays "")
  set(rows "")
  set(digest_input "")
  set(i 0)
  foreach(rel IN LISTS files)
    if(rel MATCHES "(^|/)\\.")  # editor swap files, .gitkeep
      continue()
    endif()
    if(NOT rel MATCHES "^[A-Za-z0-9._/-]+$")  # it becomes a C string literal and a URL path
      message(FATAL_ERROR "embed_file.cmake: unsupported file name ${rel}")
    endif()
    if(rel MATCHES "/.*/")  # server/routes_ui.cc serves /ui/{build}/{file} and /{dir}/{file}
      message(FATAL_ERROR "embed_file.cmake: ${rel} is more than one folder deep in ${INPUT_DIR}")
    endif()
    embed_bytes("${INPUT_DIR}/${rel}" bytes size)
    content_type_of("${rel}" type)
    file(SHA256 "${INPUT_DIR}/${rel}" sha)
    string(APPEND digest_input "${rel}\n${sha}\n")
    string(APPEND arrays "const unsigned char kAsset${i}[] = {\n${bytes}0x00};\n")
    string(APPEND rows "    {\"${rel}\", \"${type}\", {reinterpret_cast<const char*>(kAsset${i}), ${size}}},\n")
    math(EXPR i "${i} + 1")
  endforeach()
  string(SHA256 build_id "${digest_input}")
  string(SUBSTRING "${build_id}" 0 16 build_id)
  string(CONCAT text
"// Generated from ${INPUT_DIR} by embed_file.cmake. Do not edit.\n"
"#include \"server/ui_assets.h\"\n"
"namespace syncmgr::server {\n"
"namespace {\n"
"${arrays}"
"const UiAsset kAssets[] = {\n${rows}};\n"
"}  // namespace\n"
"std::span<const UiAsset> UiAssets() { return kAssets; }\n"
"std::string_view UiBuildId() { return \"${build_id}\"; }\n"
"}  // namespace syncmgr::server\n")
  write_if_changed("${OUTPUT}" text)
else()
  message(FATAL_ERROR "embed_file.cmake: pass -DINPUT=file or -DINPUT_DIR=dir")
endif()
