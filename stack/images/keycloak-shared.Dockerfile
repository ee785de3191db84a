# Keycloak in production mode for the shared profile (docker-compose.shared.yml): the local Keycloak image (Debian's
# OpenJDK 17 + the Maven Central distribution, keycloak.Dockerfile) with the sandbox's extension jar baked in and
# `kc.sh build` run once, so the nodes `start --optimized` on PostgreSQL. Built by `make images PROFILE=shared`
# (stack/src/shared-images.ts), which passes KC_BUILD_OPTIONS (--db=postgres, health, the laptop profile's features
# and hardening: stack/src/keycloak-dist.ts) and tags the image with a hash of them and of the extension.
ARG KEYCLOAK_IMAGE
FROM ${KEYCLOAK_IMAGE}
ARG KC_BUILD_OPTIONS
COPY --chown=1000:1000 sandbox-mcp-scopes.jar /opt/keycloak/providers/sandbox-mcp-scopes.jar
RUN test -n "${KC_BUILD_OPTIONS}" && /opt/keycloak/bin/kc.sh build ${KC_BUILD_OPTIONS}
# The base image sets it already; said again because production mode needs it as much: without it Keycloak binds to
# localhost inside the container (docs/compose.md, "Without a container registry").
ENV KC_RUN_IN_CONTAINER=true
