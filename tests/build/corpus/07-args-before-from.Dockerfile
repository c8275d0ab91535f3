ARG REGISTRY=docker.io
ARG VARIANT="bookworm"
ARG BUILDPLATFORM
FROM --platform=${BUILDPLATFORM} ${REGISTRY}/library/debian:${VARIANT} AS base
ARG VARIANT
ARG USERNAME=dev USER_UID=1000
RUN echo "variant is ${VARIANT}"
FROM base
ARG USER_UID
RUN useradd -u "$USER_UID" -m dev
