FROM alpine
RUN <<FILE1 cat > /file1 && <<FILE2 cat > /file2
I am
first
FILE1
I am
second
FILE2
RUN cat 3<<THREE 4<<FOUR /proc/self/fd/3 /proc/self/fd/4
three
THREE
four
FOUR
COPY <<one <<two /dest/
1
one
2
two
