FROM alpine
LABEL version="1.0" description="A \"quoted\" description" vendor=ACME
LABEL "com.example.multi word"="value with spaces"
LABEL org.opencontainers.image.authors=someone@example.com \
      org.opencontainers.image.licenses=MIT
LABEL legacy-form this is the value
LABEL empty=
LABEL multi.line="first \
second"
