FROM alpine:3.20
RUN echo one \

    two \
   
    three
ENV X=1 \

    Y=2
CMD echo done
