FROM alpine AS Base
FROM base as Second
FROM second aS third-stage.v2
COPY --from=Base /etc/os-release /base-release
FROM third-stage.v2
