FROM alpine   
RUN echo trailing spaces   
ENV A=1   
RUN echo a \   
    b	
LABEL x=y	
CMD ["sh"]   
