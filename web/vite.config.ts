// Builds the web app (shop at `/`, POS terminal at `/pos`) into web/dist, which the API serves
// from the same origin. `npm run build:web` builds; `npx vite --config web/vite.config.ts` runs
// the dev server on :5173 with /trpc and /v1 proxied to an API on 127.0.0.1:3000 (`npm start`).

import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const API = process.env.VITE_API_TARGET ?? 'http://127.0.0.1:3000';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [react()],
  // The app imports nothing from the project's .env files; keep Vite from reading them.
  envDir: false,
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    target: 'es2022',
  },
  server: {
    host: '127.0.0.1',
    port: 5173,
    proxy: {
      '/trpc': { target: API, changeOrigin: false },
      '/v1': { target: API, changeOrigin: false },
    },
  },
  preview: { host: '127.0.0.1', port: 4173 },
});
