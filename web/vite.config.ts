import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Built by `npm run build:web` (`vite build web`): root is web/, output web/dist, served by rolegate at `/`.
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // No source maps in the served bundle; the source is in the repository.
    sourcemap: false,
  },
});
