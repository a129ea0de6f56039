# Every dependency is a Debian package (hack/deps.sh installs them). Third-party headers are SYSTEM
# includes so their warnings do not fail our -Werror build.
find_package(Threads REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(ZLIB REQUIRED)
find_package(cpprestsdk REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(spdlog REQUIRED)
find_package(prometheus-cpp REQUIRED)
find_package(PostgreSQL REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET hiredis)
if(FINANCIALAPI_BUILD_TESTS)
  find_package(GTest REQUIRED)
  include(GoogleTest)
endif()

# The Debian cpprestsdk target does not carry OpenSSL; without it linking fails on ERR_* symbols.
add_library(financialapi_cpprest INTERFACE)
target_link_libraries(financialapi_cpprest INTERFACE cpprestsdk::cpprest OpenSSL::SSL OpenSSL::Crypto)
