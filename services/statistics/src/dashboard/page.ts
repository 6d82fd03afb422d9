// The dashboard page (Swedish): placeholder until the charts land.
import type { AppEnv } from '@samsyn/platform';
import { Hono } from 'hono';

export function dashboardRoutes(): Hono<AppEnv> {
  return new Hono<AppEnv>();
}
