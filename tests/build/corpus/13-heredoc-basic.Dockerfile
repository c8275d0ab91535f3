# syntax=docker/dockerfile:1
FROM debian:bookworm
RUN <<EOF
apt-get update
apt-get install -y curl
EOF
RUN python3 <<EOF
print("hello from python")
EOF
RUN <<EOT bash
  set -ex
  echo "indented is kept"
EOT
CMD ["bash"]
