# The voucher engine in production mode: one image, three commands, all plain JavaScript built
# by `npm run build` (no tsx at run time). The default runs the API; `node dist/worker.js` runs a
# worker and `node dist/migrate.js` the migrations (docker-compose.yml and deploy/k8s run all
# three). Services and secrets come from the environment (README, Production mode); production
# mode refuses to start on any development default.
FROM node:20-bookworm-slim AS build
WORKDIR /app
ENV PRISMA_SCHEMA_ENGINE_BINARY=/app/scripts/prisma-engine/schema-engine.mjs
# Dependency layer first so source edits do not reinstall node_modules. The postinstall
# (prisma generate) needs the schema, the prisma config and the local schema-engine shim.
COPY package.json package-lock.json prisma.config.ts ./
COPY prisma ./prisma
COPY scripts/prisma-engine ./scripts/prisma-engine
RUN npm ci --no-audit --no-fund
COPY . .
# dist/api.js, dist/worker.js, dist/migrate.js, the prebuilt workflow bundle, and web/dist.
RUN npm run build

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production \
    APP_MODE=production \
    PRISMA_SCHEMA_ENGINE_BINARY=/app/scripts/prisma-engine/schema-engine.mjs \
    HOST=0.0.0.0 \
    PORT=3000
COPY package.json package-lock.json prisma.config.ts ./
COPY prisma ./prisma
COPY scripts/prisma-engine ./scripts/prisma-engine
# Runtime dependencies only (the migrate command runs the Prisma CLI, a runtime dependency).
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY --from=build /app/web/dist ./web/dist
USER node
EXPOSE 3000 9091
# Node itself is PID 1 (no npm in between), so SIGTERM reaches it and it shuts down gracefully.
CMD ["node", "dist/api.js"]
