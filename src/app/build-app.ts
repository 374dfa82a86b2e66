import type { FastifyInstance } from 'fastify';
import { buildHttpApp } from '../http/build-http-app.ts';
import { buildCore, type Core, type CoreDependencies } from './build-core.ts';

export type AppDependencies = CoreDependencies;

export interface App extends Omit<Core, 'close'> {
  readonly http: FastifyInstance;
  /** Stops accepting, finishes in-flight work, stops consumers. Does not close the store. */
  close(): Promise<void>;
}

/** The services (build-core.ts) behind the HTTP API. */
export async function buildApp(deps: AppDependencies): Promise<App> {
  const core = await buildCore(deps);
  const http = await buildHttpApp(core.services);
  const { config } = deps;
  return {
    ...core,
    http,
    close: () =>
      core.close(async () => {
        // Requests still receiving their body after the grace period are cut: none of them was
        // acknowledged, so nothing acknowledged is lost, and shutdown stays within its limit.
        const grace = setTimeout(
          () => http.server.closeAllConnections(),
          Math.min(5_000, config.shutdownTimeoutMs / 2),
        );
        await http.close();
        clearTimeout(grace);
      }),
  };
}
