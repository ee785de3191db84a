# Local stand-in for the redis image, for machines that reach package registries but no container registry.
# Built by `make images` (stack/src/images.ts) from a debootstrap Debian 12 base and Debian's redis-server (7.0).
# docker-compose.yml passes --bind 0.0.0.0 --protected-mode no, which Debian's defaults need to serve other containers.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null \
 && rm -rf /var/lib/apt/lists/*
USER redis
WORKDIR /var/lib/redis
EXPOSE 6379
CMD ["redis-server", "--bind", "0.0.0.0", "--protected-mode", "no"]
