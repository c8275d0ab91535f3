FROM alpine
HEALTHCHECK NONE
HEALTHCHECK --interval=5m --timeout=3s CMD curl -f http://localhost/ || exit 1
HEALTHCHECK --interval=1m30s --timeout=10s --start-period=5s --start-interval=1s --retries=5 \
  CMD ["/bin/check", "--quick"]
HEALTHCHECK --interval=0.5s CMD true
healthcheck cmd ["true"]
HEALTHCHECK none
