import { defineConfig } from "vite";

export default defineConfig(({ mode }) => ({
  root: import.meta.dirname,
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  // Clerk's own frontend is one lazily loaded chunk of about 1.5 MB, fetched only when a publishable key is configured.
  // Source maps only for `npm start` (--mode development); a deployed client serves none.
  build: { outDir: "dist", emptyOutDir: true, sourcemap: mode === "development", chunkSizeWarningLimit: 1600 },
}));
