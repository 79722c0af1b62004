/** What GET /console/config.json tells the page about the deployment (no secret, no tenant data). */
export interface ConsoleConfig {
  environment: 'development' | 'staging' | 'production';
  version: string;
  payment_methods: string[];
  processors: string[];
  statuses: string[];
}

export async function loadConfig(): Promise<ConsoleConfig> {
  const response = await fetch('/console/config.json', { credentials: 'omit', cache: 'no-store' });
  if (!response.ok) throw new Error(`GET /console/config.json answered ${response.status}`);
  return (await response.json()) as ConsoleConfig;
}

export interface Tenant {
  id: string;
  name: string;
}
