# Warnings and sanitizers as INTERFACE targets: every project target links financialapi::options.
add_library(financialapi_options INTERFACE)
add_library(financialapi::options ALIAS financialapi_options)

target_compile_options(financialapi_options INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Wunused
  -Woverloaded-virtual -Wconversion -Wsign-conversion -Wnull-dereference -Wdouble-promotion
  -Wformat=2 -Wimplicit-fallthrough -Wmisleading-indentation
  # Designated initializers that leave defaulted members out are the intended style (GCC 12 warns).
  -Wno-missing-field-initializers)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(financialapi_options INTERFACE -Wduplicated-cond -Wlogical-op
    # GCC 12 at -O3 reports std::string concatenation as overlapping memcpy (GCC bug 105329).
    -Wno-restrict)
endif()
if(FINANCIALAPI_WARNINGS_AS_ERRORS)
  target_compile_options(financialapi_options INTERFACE -Werror)
endif()

# cpprestsdk's U() macro breaks fmt 9's format_as when cpprest headers come before spdlog's.
target_compile_definitions(financialapi_options INTERFACE _TURN_OFF_PLATFORM_STRING
  FINANCIALAPI_VERSION="${PROJECT_VERSION}")

if(FINANCIALAPI_SANITIZE)
  target_compile_options(financialapi_options INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_link_options(financialapi_options INTERFACE -fsanitize=address,undefined)
endif()

# The fuzz build (clang, make fuzz): every library is instrumented for libFuzzer's coverage and runs
# under ASan+UBSan; only the fuzz targets link libFuzzer itself (fuzz/CMakeLists.txt).
if(FINANCIALAPI_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "FINANCIALAPI_FUZZ needs clang (libFuzzer): -DCMAKE_CXX_COMPILER=clang++-14")
  endif()
  target_compile_options(financialapi_options INTERFACE
    -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_link_options(financialapi_options INTERFACE -fsanitize=address,undefined)
endif()

# financialapi_executable(target): what every executable of the project gets (sanitizer defaults).
function(financialapi_executable target)
  if(FINANCIALAPI_SANITIZE)
    target_sources(${target} PRIVATE ${PROJECT_SOURCE_DIR}/cmake/sanitizer_defaults.cc)
  endif()
endfunction()
