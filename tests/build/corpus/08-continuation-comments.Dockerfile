FROM debian:bookworm
# Comments between continued lines are skipped, even indented ones.
RUN apt-get update && \
    # tools we need at build time
    apt-get install -y \
        curl \
    # a comment in the middle of the package list
        git \
        # indented comment
        make && \
    rm -rf /var/lib/apt/lists/*
ENV A=1 \
# comment at column one inside ENV
    B=2
LABEL one=1 \
      # comment
      two=2
