FROM nginx:alpine
COPY <<EOF /etc/nginx/conf.d/default.conf
server {
    listen 80;
    location / {
        return 200 'ok';
    }
}
EOF
COPY --chmod=0755 <<EOF /usr/local/bin/entry.sh
#!/bin/sh
exec "$@"
EOF
ADD <<EOF /tmp/added.txt
added via heredoc
EOF
ENTRYPOINT ["/usr/local/bin/entry.sh"]
