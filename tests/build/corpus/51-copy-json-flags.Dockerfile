FROM alpine AS one
FROM alpine
COPY --from=one ["/etc/hostname", "/etc/hosts", "/dst/"]
ADD --chown=1:1 ["a.tar", "/opt/"]
COPY ["<<NOT_A_HEREDOC", "/x"]
