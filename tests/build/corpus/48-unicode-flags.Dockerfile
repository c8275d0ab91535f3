FROM alpine
RUN --mount=type=secret,id=clé ls
COPY --chown=ünïcode:staff a /b
