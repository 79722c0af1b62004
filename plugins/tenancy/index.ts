export { tenancyRoutes, type TenancyDeps } from './routes';
export { createPlatformClient, createTenant } from './service';
