import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { render } from 'preact';
import { App } from './app';
import { loadConfig } from './lib/config';

/**
 * The support console's entry point, bundled by plugins/console/build.ts into
 * dist/console.js (and dist/console.css). The page (plugins/console/page.ts) loads it
 * as a module script under a CSP that allows script from this origin only.
 */
async function start(): Promise<void> {
  const root = document.getElementById('app')!;
  try {
    render(<App config={await loadConfig()} />, root);
  } catch (error) {
    root.textContent = `The console could not start: ${error instanceof Error ? error.message : String(error)}`;
  }
}

void start();
