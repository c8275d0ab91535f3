FROM alpine
RUN <<-EOF
	echo tabs are stripped
		nested tab
	EOF
RUN <<-"END" sh
		quoted and chomped
		END
COPY <<-EOF /tabbed
	line1
  spaces stay
	EOF
