FROM alpine AS a
RUN echo a > /a
FROM alpine AS b
RUN echo b > /b
FROM a AS c
COPY --from=b /b /b
FROM alpine
COPY --from=0 /a /a
COPY --from=1 /b /b
COPY --from=c / /c
FROM scratch AS export
COPY --from=3 / /
