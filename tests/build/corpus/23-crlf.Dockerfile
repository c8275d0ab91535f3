FROM alpine
RUN echo crlf \
    continued
ENV A=1 \
    B=2
# comment

RUN <<EOF
echo in heredoc
EOF
CMD ["sh", "-c", "echo done"]
