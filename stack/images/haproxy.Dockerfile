# HAProxy for the shared profile (docker-compose.shared.yml): TLS for SANDBOX_HOST in front of the Keycloak nodes, the
# MCP server replicas, the approval device and client-docs. Built by `make images PROFILE=shared`
# (stack/src/shared-images.ts) from the debootstrap Debian 12 base and Debian's haproxy (2.6 LTS). The configuration
# (stack/images/haproxy.cfg) and the certificate are mounted, not baked in.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends haproxy >/dev/null \
 && rm -rf /var/lib/apt/lists/* \
 && haproxy -v | head -1
USER haproxy
EXPOSE 9443 9444 9445 9446 8404
# -W master-worker (a reload would not drop connections), -db: stay in the foreground, logs to stdout.
CMD ["haproxy", "-W", "-db", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]
