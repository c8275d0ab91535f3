from alpine:3.20 as base
arg version=1
env app_version=$version
run echo building
workdir /srv
copy . /srv
add archive.tar.gz /srv/
user nobody
expose 8080
volume /srv/data
stopsignal SIGTERM
label lower=case
entrypoint ["/srv/run"]
cmd ["--help"]
From base AS final
Run echo Mixed Case
