# Local stand-in for quay.io/keycloak/keycloak:<version>, for machines that reach package registries but no container
# registry. Built by `make images` (stack/src/images.ts) from a debootstrap Debian 12 base, Debian's OpenJDK 17 JRE and
# the Keycloak server distribution from Maven Central (the archive the native launcher fetched, SHA-1 checked).
# Same shape as upstream: /opt/keycloak, user 1000, entrypoint kc.sh, ports 8080 and 9000.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless >/dev/null \
 && rm -rf /var/lib/apt/lists/*
# data/ must belong to user 1000 before compose mounts the realm under data/import (else Docker creates it as root).
COPY keycloak.tar.gz /tmp/
RUN mkdir -p /opt/keycloak \
 && tar -xzf /tmp/keycloak.tar.gz -C /opt/keycloak --strip-components=1 \
 && rm /tmp/keycloak.tar.gz \
 && mkdir -p /opt/keycloak/data/import \
 && useradd --uid 1000 --user-group --no-create-home --home-dir /opt/keycloak keycloak \
 && chown -R 1000:1000 /opt/keycloak
USER 1000
# Since 26.6 `start-dev` binds 8080 to localhost unless it knows it runs in a container (the upstream image sets this);
# without it the management port still answers, so the healthcheck passes while nobody can reach Keycloak.
ENV KC_RUN_IN_CONTAINER=true LANG=C.UTF-8
EXPOSE 8080 9000
ENTRYPOINT ["/opt/keycloak/bin/kc.sh"]
