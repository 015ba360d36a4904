// Compiles Boost.Asio and Boost.Beast for syncmgr_http_client, only in builds
// without syncmgr_server (whose own beast.cpp is used otherwise: Beast is
// compiled once per program).
#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
