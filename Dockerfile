# pvenroll's container image: a static binary, the nightly wrapper, CA
# certificates and a non-root user (10001, as samples/deploy/cronjob.yaml
# runs it).
#
#   make image                                    # pvenroll:VERSION and pvenroll:latest
#   make image IMAGE=registry.example.com/pvenroll
#
# The wrapper is a POSIX shell script, so the runtime stage is Alpine (sh,
# date, grep, sed), not an empty image.

ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION}-alpine AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=devel
# CGO_ENABLED=0: a static binary, which needs no C library in the image.
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/pvenroll/pvenroll/internal/cli.Version=${VERSION}" \
      -o /out/pvenroll . \
 && /out/pvenroll version

FROM alpine:3.22
RUN apk add --no-cache ca-certificates tzdata \
 && adduser -D -H -u 10001 -s /sbin/nologin pvenroll \
 && install -d -o 10001 -g 10001 -m 0700 /var/lib/pvenroll
COPY --from=build /out/pvenroll /usr/local/bin/pvenroll
COPY --chmod=0755 samples/deploy/pvenroll-nightly.sh /usr/local/lib/pvenroll/pvenroll-nightly.sh
COPY LICENSE /usr/share/doc/pvenroll/LICENSE
USER 10001:10001
WORKDIR /var/lib/pvenroll
ENV PVENROLL_HOME=/var/lib/pvenroll
ENTRYPOINT ["pvenroll"]
CMD ["--help"]
