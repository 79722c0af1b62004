/** Stylesheets imported for their side effect: Bun bundles them into dist/console.css. */
declare module '*.css';
