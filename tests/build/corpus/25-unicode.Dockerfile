FROM alpine
LABEL description="Ünïcödé label — with em dash" 作者="張三"
ENV GREETING="héllo wörld" EMOJI=🐳
RUN echo "日本語のテキスト" > /unicode.txt
COPY ["fïle.txt", "/dést/"]
WORKDIR /répertoire
CMD ["echo", "¡hola!"]
