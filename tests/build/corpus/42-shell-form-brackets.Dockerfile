FROM alpine
RUN [ "$(id -u)" = "0" ] || exit 1
RUN [[ -d /tmp ]] && echo bashism
CMD [ -x /entry ] && exec /entry
HEALTHCHECK CMD [ -f /healthy ]
