# The voucher engine (API + Temporal worker via `npm start`). Services come from
# docker-compose.yml through DATABASE_URL, REDIS_URL, TEMPORAL_ADDRESS, STRIPE_MOCK_URL, SMTP_URL.
FROM node:20-bookworm-slim

WORKDIR /app
ENV PRISMA_SCHEMA_ENGINE_BINARY=/app/scripts/prisma-engine/schema-engine.mjs

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
CMD ["npm", "start"]
