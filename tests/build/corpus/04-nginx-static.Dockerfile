FROM nginx:1.27-alpine
MAINTAINER Web Team <web@example.com>
RUN rm -f /etc/nginx/conf.d/default.conf
COPY nginx.conf /etc/nginx/conf.d/site.conf
COPY public/ /usr/share/nginx/html/
EXPOSE 80/tcp 443/tcp
STOPSIGNAL SIGQUIT
HEALTHCHECK CMD wget -qO- http://127.0.0.1/ || exit 1
CMD ["nginx", "-g", "daemon off;"]
