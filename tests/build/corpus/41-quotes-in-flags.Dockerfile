FROM alpine
COPY --chown="app:app" --chmod='0755' a /a
RUN --mount="type=bind,source=/,target=/host" ls /host
COPY --exclude="dir with space/*" . /dst
RUN --mount=type=secret,id=np\m ls
