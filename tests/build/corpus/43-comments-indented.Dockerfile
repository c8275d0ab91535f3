

   # indented comment before anything

    FROM alpine
	# tab-indented comment

      RUN echo indented instruction


#
# 
CMD ["sh"]

