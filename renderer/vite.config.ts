// The renderer's build: root renderer/, output dist/renderer, relative asset paths so the same
// bundle loads from file:// (Electron) and from the local server (browser fallback).
// This build config runs in Node (vite), not in the sandboxed renderer the lint zone is about.
// eslint-disable-next-line no-restricted-imports
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  plugins: [vue()],
  build: {
    outDir: fileURLToPath(new URL('../dist/renderer', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 4000,
    // No inline <script> or module preload polyfill: the CSP allows only 'self' scripts.
    modulePreload: { polyfill: false },
  },
})
