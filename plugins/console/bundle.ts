import { fileURLToPath } from 'node:url';

/** Where the console's sources and its committed bundle live (import.meta.url: Bun and Deno alike). */
export const UI_DIR = fileURLToPath(new URL('./ui/', import.meta.url));
export const DIST_DIR = fileURLToPath(new URL('./dist/', import.meta.url));
/** The files plugins/console/build.ts writes to dist/ and the page serves. */
export const BUNDLE_FILES = ['console.js', 'console.css'] as const;
