import type { FastifyInstance } from 'fastify';
import { DEBUGGER_CSS, DEBUGGER_JS, LANDING_HTML } from '../console/landing-page.ts';

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

export async function consoleRoutes(app: FastifyInstance): Promise<void> {
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('Content-Security-Policy', CSP);
    return payload;
  });
  app.get('/', { schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(LANDING_HTML),
  );
  app.get('/console/debugger.js', { schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').send(DEBUGGER_JS),
  );
  app.get('/console/debugger.css', { schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/css; charset=utf-8').send(DEBUGGER_CSS),
  );
}
