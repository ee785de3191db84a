#!/usr/bin/env bash
# Makes `docker` and `docker compose` answer on a Debian 12 machine with no running engine and no container registry:
#   1. the engine from Debian 12 (`docker.io`, 20.10), started in the background when nothing answers;
#   2. Compose v2 (what Testcontainers runs as `docker compose`): not packaged for Debian 12, so the plugin binary is
#      taken from Debian 13's `docker-compose` .deb, fetched with apt from a separate sources list and lists dir
#      (the system stays on Debian 12), into /usr/local/lib/docker/cli-plugins.
# Idempotent: every step is skipped when what it provides already works. Needs root (or sudo) and the Debian mirror.
set -euo pipefail
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
log() { echo "install-docker: $*"; }
APT_ENV=(env DEBIAN_FRONTEND=noninteractive)

# 1. Engine and client from Debian 12.
if ! command -v dockerd >/dev/null 2>&1; then
  log "installing docker.io (Debian 12) ..."
  $SUDO apt-get update -qq
  $SUDO "${APT_ENV[@]}" apt-get install -y -qq --no-install-recommends docker.io iptables >/dev/null
fi

# 2. Compose v2 plugin from Debian 13's docker-compose package.
PLUGIN_DIR=/usr/local/lib/docker/cli-plugins
if ! docker compose version >/dev/null 2>&1; then
  log "installing the Compose v2 plugin from Debian 13's docker-compose package ..."
  work="$(mktemp -d)"
  chmod 755 "$work"   # apt downloads as the _apt user, which must be able to write here
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work/lists/partial" "$work/archives/partial"
  echo "deb http://deb.debian.org/debian trixie main" > "$work/trixie.list"
  apt_trixie=(apt-get -qq -o "Dir::Etc::SourceList=$work/trixie.list" -o Dir::Etc::SourceParts=/dev/null
              -o "Dir::State::Lists=$work/lists" -o "Dir::Cache::Archives=$work/archives" -o APT::Get::List-Cleanup=0)
  $SUDO "${apt_trixie[@]}" update
  (cd "$work" && $SUDO "${apt_trixie[@]}" download docker-compose)
  dpkg-deb -x "$work"/docker-compose_*.deb "$work/x"
  $SUDO install -D -m 0755 "$work/x/usr/libexec/docker/cli-plugins/docker-compose" "$PLUGIN_DIR/docker-compose"
  docker compose version
fi

# 3. The daemon, when nothing answers on the default socket.
if ! docker info >/dev/null 2>&1; then
  log "starting dockerd in the background (log: /var/log/dockerd.log) ..."
  $SUDO sh -c 'nohup setsid dockerd >/var/log/dockerd.log 2>&1 &'
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  if ! docker info >/dev/null 2>&1; then
    log "ERROR: dockerd did not answer within 60 s; the end of /var/log/dockerd.log:"
    tail -n 30 /var/log/dockerd.log >&2 || true
    exit 1
  fi
fi
log "engine $(docker version --format '{{.Server.Version}}'), storage $(docker info --format '{{.Driver}}'), $(docker compose version)"
