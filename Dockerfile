# Builds the hearth binary into a small runtime image.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/hearth ./cmd/hearth

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 hearth
COPY --from=build /out/hearth /usr/local/bin/hearth
USER hearth
EXPOSE 8080/tcp 7882/udp
ENTRYPOINT ["/usr/local/bin/hearth"]
CMD ["serve", "-listen", "0.0.0.0:8080", "-udp-port", "7882"]
