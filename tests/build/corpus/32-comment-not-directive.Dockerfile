# This comment ends the directive block.
# escape=`
FROM alpine
RUN echo backtick is not special `
RUN echo backslash continues \
    here
