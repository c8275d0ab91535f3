FROM alpine
ARG NAME=world
RUN <<"EOF"
echo "no expansion of $NAME here"
EOF
RUN <<'EOF'
echo 'single-quoted delimiter: $NAME stays'
EOF
RUN <<E"O"F
partially quoted
EOF
COPY <<EOF /greeting
hello $NAME
EOF
COPY <<"EOF" /raw
hello $NAME
EOF
