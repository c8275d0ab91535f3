FROM alpine
RUN echo space after escape \ 
    next
RUN echo tab after escape \	
    next
RUN echo both \ 	 
    next
