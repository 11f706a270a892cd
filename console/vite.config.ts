// The console's build: served by the API server at /console/ (src/server/console.ts). The SDK is
// taken from its sources (the `source` export condition), so a fresh clone builds without
// building sdk/dist first. Hashed file names under assets/: cached for good; index.html is not.
import { defineConfig, defaultClientConditions } from 'vite';

export default defineConfig({
  base: '/console/',
  root: import.meta.dirname,
  resolve: { conditions: ['source', ...defaultClientConditions] },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    manifest: true,
    chunkSizeWarningLimit: 600,
  },
  oxc: { jsx: { runtime: 'automatic' } },
  // `npm run --workspace console dev`: the API of `npm start` (port 4000) behind the dev server.
  server: { proxy: { '/graphql': process.env['ARREARS_API'] ?? 'http://localhost:4000' } },
});
