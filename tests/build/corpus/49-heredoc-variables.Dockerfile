FROM alpine
RUN <<$DELIM
delimiters are never expanded
$DELIM
RUN echo "<<NOTADOC" \<<ALSO_NOT
RUN cat <<EOF > /out
body line with <<INNER that is just text
EOF
RUN ["cat", "<<JSONFORM"]
CMD <<NOT_FOR_CMD
