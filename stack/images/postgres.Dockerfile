# PostgreSQL 15 for the shared profile (docker-compose.shared.yml), for machines that reach package registries but no
# container registry. Built by `make images PROFILE=shared` (stack/src/shared-images.ts) from the debootstrap Debian 12
# base and Debian's postgresql-15. postgres-entrypoint.sh makes the cluster on first start (POSTGRES_USER,
# POSTGRES_PASSWORD, POSTGRES_DB) and keeps it in /var/lib/postgresql/data, the named volume.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
# No "main" cluster at install time: the entrypoint makes one in the volume instead.
RUN mkdir -p /etc/postgresql-common/createcluster.d \
 && echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.d/sandbox.conf \
 && apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql-15 >/dev/null \
 && rm -rf /var/lib/apt/lists/* \
 && (pg_dropcluster --stop 15 main 2>/dev/null || true) \
 && mkdir -p /var/lib/postgresql/data /run/postgresql \
 && chown -R postgres:postgres /var/lib/postgresql /run/postgresql \
 && chmod 0700 /var/lib/postgresql/data
COPY postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint.sh
ENV PATH=/usr/lib/postgresql/15/bin:$PATH PGDATA=/var/lib/postgresql/data LANG=C.UTF-8
USER postgres
EXPOSE 5432
ENTRYPOINT ["/bin/sh", "/usr/local/bin/postgres-entrypoint.sh"]
