#   SYNTAX = docker/dockerfile:1.4
#Escape=`
# check=skip=JSONArgsRecommended;error=true
FROM alpine
RUN echo one `
    two
RUN echo C:\path\stays
