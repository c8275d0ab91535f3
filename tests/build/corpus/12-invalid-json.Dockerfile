FROM busybox
# Invalid JSON falls back to the shell form, as docker does.
CMD [ "missing", "bracket"
ENTRYPOINT ['single', 'quotes']
RUN [ -f /etc/passwd ] && echo found
RUN ["trailing", "comma",]
RUN {"an": "object"}
COPY [a b] /dst/
VOLUME [/not/json]
RUN ["valid", "then"] trailing text
