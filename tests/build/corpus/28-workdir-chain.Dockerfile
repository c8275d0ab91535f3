FROM alpine
WORKDIR /a
WORKDIR b
WORKDIR c
WORKDIR $HOME/work dir
WORKDIR ${BASE:-/srv}/app
RUN pwd
