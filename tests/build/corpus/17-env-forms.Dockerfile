FROM alpine
ENV LEGACY the value with   spaces
ENV MODERN=1
ENV A=1 B="two words" C='single $quoted' D=escaped\ space E=
ENV PATH=/opt/bin:$PATH
ENV QUOTED_KEY="a \"nested\" quote" MIXED=pre"mid"post
ENV url=http://x.example/?a=1&b=2 eq==leading
ENV abc=hello
ENV abc=bye def=$abc
ENV ghi=$abc
ENV LEGACYTAB	tab separated
