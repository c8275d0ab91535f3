FROM alpine
EXPOSE 80
EXPOSE 53/udp 53/tcp
EXPOSE 8000-8010
EXPOSE $PORT ${OTHER_PORT}/udp
VOLUME /var/lib/data /var/log
VOLUME ["/single"]
USER 1000
USER app:staff
USER ${RUNAS:-nobody}
