FROM alpine
RUN echo ends with escaped backslash \\
RUN echo three backslashes \\\
RUN echo lone escape line follows \
\
    continued
RUN echo done
