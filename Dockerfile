# syntax=docker/dockerfile:1
# videogen-server images. Two variants, four stages:
#
#   CPU (default target "runtime"): Debian 12, LibTorch 1.13 from Debian.
#     docker build -t videogen:latest .
#   CUDA (target "cuda-runtime"): NVIDIA CUDA runtime base (Ubuntu 24.04, the
#     release whose gRPC 1.51 / protobuf 3.21 / abseil 20220623 match Debian 12,
#     so scripts/bootstrap's package list applies unchanged) with an official
#     CUDA LibTorch 2.x from download.pytorch.org, chosen by build args:
#     docker build --target cuda-runtime -t videogen:latest-cuda \
#       --build-arg LIBTORCH_VERSION=2.6.0 --build-arg LIBTORCH_CUDA=cu126 \
#       --build-arg CUDA_VERSION=12.6.3 \
#       --build-arg LIBTORCH_SHA256=<sha256 of the zip, recommended> .
#     The CUDA version of the base must be the one LibTorch was built for
#     (cu126 -> 12.6.x). LIBTORCH_URL overrides the whole download URL (a
#     mirror, or the "libtorch-shared-with-deps-<v>%2B<cuda>.zip" name that
#     LibTorch >= 2.7 uses). Run with `docker run --gpus all ...`.
#
# Both builds leave out the test-only fake models (VIDEOGEN_FAKE_MODELS=OFF).
# Both runtime stages: non-root user 10001, the model directory /models and
# the state directory /var/lib/videogen (VIDEOGEN_STATE_DIR: durable jobs) as
# volumes, gRPC on 50051 and metrics on 9090, HEALTHCHECK through the CLI's
# `health` command, and deploy/docker/entrypoint.sh turning VIDEOGEN_*
# environment variables into server flags (documented there). They carry
# videogen-make-tiny beside the server: `--model tiny` runs it to write the
# embedded tiny model on first use.

ARG DEBIAN_RELEASE=bookworm
ARG CUDA_VERSION=12.6.3
ARG CUDA_UBUNTU=ubuntu24.04

# ---- CPU build ----------------------------------------------------------------
FROM debian:${DEBIAN_RELEASE} AS build
ARG DEBIAN_FRONTEND=noninteractive
WORKDIR /src
# One source of truth for the toolchain and libraries.
COPY scripts/bootstrap scripts/bootstrap
RUN scripts/bootstrap && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DVIDEOGEN_FAKE_MODELS=OFF \
    && cmake --build /build --target videogen-server videogen videogen-make-tiny videogen-blas-check \
    && install -D -m 0755 /build/bin/videogen-server /opt/videogen/bin/videogen-server \
    && install -D -m 0755 /build/bin/videogen-make-tiny /opt/videogen/bin/videogen-make-tiny \
    && install -D -m 0755 /build/bin/videogen /opt/videogen/bin/videogen \
    && install -D -m 0755 /build/bin/videogen-blas-check /opt/videogen/bin/videogen-blas-check \
    && install -D -m 0755 deploy/docker/entrypoint.sh /opt/videogen/bin/entrypoint.sh \
    && install -D -m 0755 deploy/docker/healthcheck.sh /opt/videogen/bin/healthcheck.sh \
    && deploy/docker/runtime-packages.sh /opt/videogen/bin/videogen-server /opt/videogen/bin/videogen \
       /opt/videogen/bin/videogen-make-tiny \
       > /opt/videogen/runtime-packages.txt

# ---- CPU runtime --------------------------------------------------------------
FROM debian:${DEBIAN_RELEASE}-slim AS runtime
ARG DEBIAN_FRONTEND=noninteractive
COPY --from=build /opt/videogen/runtime-packages.txt /tmp/runtime-packages.txt
# Exactly the packages owning the libraries the binaries load; BLIS as
# libblas.so.3 (LibTorch on Debian resolves BLAS through the alternative).
RUN apt-get update \
    && xargs -a /tmp/runtime-packages.txt apt-get install -y --no-install-recommends \
    && rm -rf /var/lib/apt/lists/* /tmp/runtime-packages.txt \
    && blis="/usr/lib/$(uname -m)-linux-gnu/blis-openmp/libblas.so.3" \
    && if [ -e "$blis" ]; then update-alternatives --set "libblas.so.3-$(uname -m)-linux-gnu" "$blis"; fi \
    && groupadd --system --gid 10001 videogen \
    && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home \
       --shell /usr/sbin/nologin videogen \
    && mkdir -p /models /var/cache/videogen /var/lib/videogen \
    && chown 10001:10001 /models /var/cache/videogen /var/lib/videogen
COPY --from=build /opt/videogen/bin /opt/videogen/bin
# VIDEOGEN_CACHE_DIR: the BLAS kernel choice measured by the entrypoint.
ENV PATH=/opt/videogen/bin:$PATH \
    VIDEOGEN_CACHE_DIR=/var/cache/videogen \
    VIDEOGEN_LISTEN=0.0.0.0:50051 \
    VIDEOGEN_METRICS_LISTEN=0.0.0.0:9090 \
    VIDEOGEN_DEVICES=cpu \
    VIDEOGEN_STATE_DIR=/var/lib/videogen
VOLUME ["/models", "/var/lib/videogen"]
EXPOSE 50051 9090
USER 10001:10001
# Exit 0 only when grpc.health.v1 reports SERVING (weights loaded and warm).
# The start period covers loading a large model.
HEALTHCHECK --interval=30s --timeout=10s --start-period=15m --retries=3 \
    CMD ["/opt/videogen/bin/healthcheck.sh"]
ENTRYPOINT ["/opt/videogen/bin/entrypoint.sh"]

# ---- CUDA build -----------------------------------------------------------------
FROM nvidia/cuda:${CUDA_VERSION}-cudnn-devel-${CUDA_UBUNTU} AS cuda-build
ARG DEBIAN_FRONTEND=noninteractive
ARG LIBTORCH_VERSION=2.6.0
ARG LIBTORCH_CUDA=cu126
ARG LIBTORCH_URL=https://download.pytorch.org/libtorch/${LIBTORCH_CUDA}/libtorch-cxx11-abi-shared-with-deps-${LIBTORCH_VERSION}%2B${LIBTORCH_CUDA}.zip
ARG LIBTORCH_SHA256=
WORKDIR /src
COPY scripts/bootstrap scripts/bootstrap
# The distribution's CPU LibTorch is replaced by the CUDA one under /opt.
RUN scripts/bootstrap \
    && apt-get install -y --no-install-recommends ca-certificates curl unzip \
    && apt-get remove -y libtorch-dev \
    && rm -rf /var/lib/apt/lists/*
RUN curl -fsSL --retry 3 -o /tmp/libtorch.zip "${LIBTORCH_URL}" \
    && if [ -n "${LIBTORCH_SHA256}" ]; then echo "${LIBTORCH_SHA256}  /tmp/libtorch.zip" | sha256sum -c -; fi \
    && unzip -q /tmp/libtorch.zip -d /opt \
    && rm /tmp/libtorch.zip \
    && test -f /opt/libtorch/share/cmake/Torch/TorchConfig.cmake
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DVIDEOGEN_FAKE_MODELS=OFF \
       -DTorch_DIR=/opt/libtorch/share/cmake/Torch -DCMAKE_PREFIX_PATH=/opt/libtorch \
    && cmake --build /build --target videogen-server videogen videogen-make-tiny videogen-blas-check \
    && install -D -m 0755 /build/bin/videogen-server /opt/videogen/bin/videogen-server \
    && install -D -m 0755 /build/bin/videogen-make-tiny /opt/videogen/bin/videogen-make-tiny \
    && install -D -m 0755 /build/bin/videogen /opt/videogen/bin/videogen \
    && install -D -m 0755 /build/bin/videogen-blas-check /opt/videogen/bin/videogen-blas-check \
    && install -D -m 0755 deploy/docker/entrypoint.sh /opt/videogen/bin/entrypoint.sh \
    && install -D -m 0755 deploy/docker/healthcheck.sh /opt/videogen/bin/healthcheck.sh \
    && LD_LIBRARY_PATH=/opt/libtorch/lib deploy/docker/runtime-packages.sh \
       /opt/videogen/bin/videogen-server /opt/videogen/bin/videogen /opt/videogen/bin/videogen-make-tiny \
       > /opt/videogen/runtime-packages.txt

# ---- CUDA runtime ---------------------------------------------------------------
FROM nvidia/cuda:${CUDA_VERSION}-runtime-${CUDA_UBUNTU} AS cuda-runtime
ARG DEBIAN_FRONTEND=noninteractive
COPY --from=cuda-build /opt/videogen/runtime-packages.txt /tmp/runtime-packages.txt
RUN apt-get update \
    && xargs -a /tmp/runtime-packages.txt apt-get install -y --no-install-recommends \
    && rm -rf /var/lib/apt/lists/* /tmp/runtime-packages.txt \
    && groupadd --system --gid 10001 videogen \
    && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home \
       --shell /usr/sbin/nologin videogen \
    && mkdir -p /models /var/lib/videogen && chown 10001:10001 /models /var/lib/videogen
# LibTorch's shared libraries (with its bundled CUDA math libraries).
COPY --from=cuda-build /opt/libtorch/lib /opt/libtorch/lib
COPY --from=cuda-build /opt/videogen/bin /opt/videogen/bin
ENV PATH=/opt/videogen/bin:$PATH \
    LD_LIBRARY_PATH=/opt/libtorch/lib \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility \
    VIDEOGEN_LISTEN=0.0.0.0:50051 \
    VIDEOGEN_METRICS_LISTEN=0.0.0.0:9090 \
    VIDEOGEN_DEVICES=cuda:0 \
    VIDEOGEN_STATE_DIR=/var/lib/videogen
VOLUME ["/models", "/var/lib/videogen"]
EXPOSE 50051 9090
USER 10001:10001
HEALTHCHECK --interval=30s --timeout=10s --start-period=30m --retries=3 \
    CMD ["/opt/videogen/bin/healthcheck.sh"]
ENTRYPOINT ["/opt/videogen/bin/entrypoint.sh"]

# The default target (last stage wins otherwise) is the CPU image.
FROM runtime
