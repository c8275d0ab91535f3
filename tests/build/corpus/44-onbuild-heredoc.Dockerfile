FROM alpine
ONBUILD RUN <<EOF
echo trigger with a heredoc
EOF
ONBUILD COPY <<EOF /onbuild.txt
content
EOF
RUN echo after
