import type { FastifyInstance } from 'fastify';
import type { AppServices } from '../../app/app-services.ts';
import { AppError } from '../../errors/app-error.ts';

export async function operationsRoutes(app: FastifyInstance, services: AppServices): Promise<void> {
  app.get('/health', { schema: { hide: true } }, async (_request, reply) => {
    if (!services.isAcceptingTraffic()) throw new AppError('server.shutting_down', 'not accepting traffic');
    return reply.send({ status: 'ok' });
  });

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const registry = services.metrics.registry;
    return reply.header('Content-Type', registry.contentType).send(await registry.metrics());
  });

  app.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
