import type { FastifyInstance } from 'fastify';

/** Everything but the console's own pages: nothing to load, nothing to frame. */
const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
/** One year; browsers then refuse plain HTTP to this host (and its subdomains) for that long. */
const HSTS = 'max-age=31536000; includeSubDomains';

/**
 * Security headers on every response, set on the raw response when the request arrives so
 * they also reach answers written outside Fastify's reply (the live event stream) and error
 * pages. Routes may override them (the console sets its own Content-Security-Policy).
 * HSTS only over HTTPS: a TLS socket, or `X-Forwarded-Proto: https` from a trusted proxy
 * (CDP_TRUST_PROXY=true); a browser ignores it over plain HTTP anyway, and sending it from a
 * plain-HTTP development server would only mislead.
 */
export function registerSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    const raw = reply.raw;
    raw.setHeader('X-Content-Type-Options', 'nosniff');
    raw.setHeader('Referrer-Policy', 'no-referrer');
    raw.setHeader('X-Frame-Options', 'DENY');
    raw.setHeader('Content-Security-Policy', API_CSP);
    raw.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    if (request.protocol === 'https') raw.setHeader('Strict-Transport-Security', HSTS);
    // Admin answers hold personal data: no shared or browser cache keeps them.
    if (request.url.startsWith('/api/')) raw.setHeader('Cache-Control', 'no-store');
  });
}
