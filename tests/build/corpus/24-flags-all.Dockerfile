FROM --platform=linux/amd64 alpine:3.20 AS src
RUN --network=none --security=sandbox echo isolated
RUN --mount=type=bind,source=.,target=/ctx \
    --mount=type=cache,target=/var/cache/apk,sharing=locked \
    --mount=type=tmpfs,target=/tmp \
    --mount=type=secret,id=token,required=true \
    --mount=type=ssh \
    ls /ctx
RUN --network=host -- echo after double dash
FROM alpine:3.20
COPY --from=src --chown=1000:1000 --chmod=0644 --link /etc/os-release /os-release
COPY --link=false --parents --exclude=*.md --exclude=*.txt docs/ /docs/
COPY --from=docker.io/library/busybox:latest /bin/busybox /bin/busybox
ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://example.com/file.tar.gz /tmp/
ADD --keep-git-dir=true https://github.com/moby/buildkit.git#v0.12.5 /buildkit
ADD --chown=nobody --unpack=false archive.tar /opt/
