FROM alpine
MAINTAINER Jane Doe <jane@example.com>
STOPSIGNAL 9
STOPSIGNAL SIGRTMIN+3
STOPSIGNAL $SIG
CMD ["sleep", "infinity"]
