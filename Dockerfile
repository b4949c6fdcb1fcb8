# The voucher engine in production mode: one image, three commands. The default runs the API;
# `node --import tsx scripts/worker.ts` runs the worker and `npm run db:migrate` the migrations
# (docker-compose.yml runs all three). Services and secrets come from the environment (README,
# Production mode); production mode refuses to start on any development default.
FROM node:20-bookworm-slim

WORKDIR /app
ENV PRISMA_SCHEMA_ENGINE_BINARY=/app/scripts/prisma-engine/schema-engine.mjs \
    APP_MODE=production \
    HOST=0.0.0.0 \
    PORT=3000

# Dependency layer first so source edits do not reinstall node_modules. The postinstall
# (prisma generate) needs the schema, the prisma config and the local schema-engine shim.
COPY package.json package-lock.json prisma.config.ts ./
COPY prisma ./prisma
COPY scripts/prisma-engine ./scripts/prisma-engine
# npm ci refuses a lockfile that lacks other platforms' optional packages (see .ci/run); fall
# back to npm install, which still honours the locked versions.
RUN npm ci --no-audit --no-fund || npm install --no-audit --no-fund

COPY . .
# The shop and POS pages, served by the API.
RUN npm run build:web
RUN mkdir -p .data && chown -R node:node .data

USER node
EXPOSE 3000
# Node itself is PID 1 (no npm in between), so SIGTERM reaches it and it shuts down gracefully.
CMD ["node", "--import", "tsx", "scripts/api.ts"]
