FROM alpine
RUN -- --not-a-flag
RUN --network=none -- echo --network=fake
RUN --mount=type=cache,target=/root/.cache \
    -- \
    echo separated
COPY -- --weird-name /dst
RUN ls --color=never
