FROM alpine
RUN echo file ends inside a continuation \
    last