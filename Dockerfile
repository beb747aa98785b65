# syntax=docker/dockerfile:1
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
RUN npm ci --ignore-scripts
COPY src ./src
RUN npm run build

FROM node:24-bookworm-slim AS production
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 DATA_DIR=/app/.data
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
# `npx knex migrate:list` reads the database through it.
COPY knexfile.js ./
# What GET /schema/drift compares against, read beside dist/ at run time.
COPY schema-snapshots ./schema-snapshots
# The status page's own files (hand-written modules and CSS), served from beside dist/.
COPY status-page ./status-page
# pg_dump and pg_restore for BACKUP_BEFORE_UPGRADE=pg_dump and restore-backup: PostgreSQL 17's
# client from the PostgreSQL project's apt repository (Debian's is 15), which dumps every server
# major the README supports (13 to 17); a pg_dump older than the server refuses it.
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
 && install -d /usr/share/postgresql-common/pgdg \
 && curl -fsSLo /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc https://www.postgresql.org/media/keys/ACCC4CF8.asc \
 && echo "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] https://apt.postgresql.org/pub/repos/apt bookworm-pgdg main" > /etc/apt/sources.list.d/pgdg.list \
 && apt-get update && apt-get install -y --no-install-recommends postgresql-client-17 \
 && apt-get purge -y curl && apt-get autoremove -y && rm -rf /var/lib/apt/lists/*
ENV PG_BIN_DIR=/usr/lib/postgresql/17/bin
# `docker run IMAGE aip-schema upgrade head`; the embedded database (no DATABASE_URL) needs a directory the service may write.
RUN ln -s /app/dist/cli/main.js /usr/local/bin/aip-schema && mkdir -p /app/.data /app/.compile-cache && chown node:node /app/.data /app/.compile-cache
USER node
# Node's module compile cache (relative to WORKDIR): the code V8 compiled for the modules a start
# loads, filled once here as the user the service runs as (the cache is per user). A pod's root
# filesystem is read-only and every pod starts from the image: this is the only cache its starts
# can read. Generating the OpenAPI document builds the whole app and loads the revisions, with no
# database.
ENV NODE_COMPILE_CACHE=.compile-cache
RUN node --input-type=module -e "await (await import('./dist/openapi/document.js')).generateOpenApiDocument()"
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/server.js"]
