# syntax=docker/dockerfile:1
# The operator and the API server images, from one build stage (docs/images.md):
#   docker build --target operator   -t ghcr.io/edgartools/financialapi-operator:0.1.0 .
#   docker build --target api-server -t ghcr.io/edgartools/financial-api-server:0.1.0 .
# Both run as uid/gid 65532 with a read-only root filesystem in mind: nothing is written at run time.

# Pin by digest (debian:bookworm-slim@sha256:...) for reproducible images.
ARG DEBIAN=debian:bookworm-slim

FROM ${DEBIAN} AS build
# The build packages of hack/deps.sh, without the servers the tests need (and rsync, see below).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config ca-certificates rsync \
      libcpprest-dev libboost-dev libssl-dev zlib1g-dev nlohmann-json3-dev libyaml-cpp-dev libspdlog-dev libfmt-dev \
      prometheus-cpp-dev libpq-dev libhiredis-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY cmake/ cmake/
COPY common/ common/
COPY operator/ operator/
COPY api-server/ api-server/
# The CMake build directory lives in a cache mount (BuildKit and buildah keep it between builds), so
# a source change recompiles only what it touches. Ninja decides by modification times, which COPY
# takes from the build context; so the sources are mirrored into the cache with `rsync --checksum`
# first: only files whose content differs from the previous build's are rewritten (and so newer
# than their objects), whichever clone or checkout they come from. A different toolchain (any
# package of this stage changed) starts from an empty build directory. The binaries are copied out
# of the mount, which is not part of the image.
RUN --mount=type=cache,id=financialapi-cmake-build,target=/cache,sharing=locked \
    set -eu; \
    toolchain="$(dpkg-query -W -f '${Package} ${Version}\n' | sha256sum)"; \
    if [ "$(cat /cache/toolchain 2>/dev/null)" != "${toolchain}" ]; then rm -rf /cache/src /cache/build; fi; \
    mkdir -p /cache/src && echo "${toolchain}" > /cache/toolchain; \
    rsync --recursive --links --checksum --delete /src/ /cache/src/; \
    cmake -S /cache/src -B /cache/build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DFINANCIALAPI_BUILD_TESTS=OFF -DFINANCIALAPI_BUILD_BENCH=OFF; \
    cmake --build /cache/build --target financialapi-operator financial-api-server; \
    mkdir -p /out; \
    cp /cache/build/operator/financialapi-operator /cache/build/api-server/financial-api-server /out/; \
    strip --strip-debug /out/financialapi-operator /out/financial-api-server

# What both programs load at run time (from `ldd`), nothing else: no shell tools beyond the base image.
FROM ${DEBIAN} AS runtime
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates libcpprest2.10 libssl3 libbrotli1 libspdlog1.10 libfmt9 libyaml-cpp0.7 \
      libprometheus-cpp-core1.0 libpq5 libhiredis0.14 zlib1g \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 65532 nonroot && useradd --uid 65532 --gid 65532 --no-create-home --shell /usr/sbin/nologin nonroot

FROM runtime AS operator
COPY --from=build /out/financialapi-operator /usr/local/bin/financialapi-operator
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["/usr/local/bin/financialapi-operator"]

FROM runtime AS api-server
COPY --from=build /out/financial-api-server /usr/local/bin/financial-api-server
# The bundled SEC sample, for a loader Job: `financial-api-server load /usr/share/financial-api/sec`.
COPY data/sec/ /usr/share/financial-api/sec/
USER 65532:65532
EXPOSE 8000
ENTRYPOINT ["/usr/local/bin/financial-api-server"]
CMD ["serve"]
