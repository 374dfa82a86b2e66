import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * Browser SDKs post from any origin; CORS is open on ingestion routes only. Credentials are
 * allowed for SDKs that send cookies along (RudderStack's XHRs may): nothing here reads them,
 * the write key is the only credential.
 */
export function allowCors(request: FastifyRequest, reply: FastifyReply): void {
  const origin = request.headers.origin;
  reply.header('Access-Control-Allow-Origin', origin ?? '*');
  if (origin !== undefined) reply.header('Access-Control-Allow-Credentials', 'true');
  reply.header('Vary', 'Origin');
}

const DEFAULT_ALLOWED_HEADERS = 'Content-Type, Authorization, Content-Encoding';
/** A list of header names (RFC 9110 tokens), as browsers send in a preflight. */
const HEADER_LIST = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+(?:\s*,\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+)*$/;

/**
 * Answers a preflight. The requested headers are allowed whatever they are (RudderStack's SDK
 * adds `AnonymousId` to every event, others add their own): the write key authenticates, and
 * no header can widen what a request may do here.
 */
export function preflight(methods: string) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const requested = request.headers['access-control-request-headers'];
    const allowed =
      typeof requested === 'string' && requested.length <= 1_000 && HEADER_LIST.test(requested.trim())
        ? requested.trim()
        : DEFAULT_ALLOWED_HEADERS;
    await reply
      .header('Access-Control-Allow-Methods', methods)
      .header('Access-Control-Allow-Headers', allowed)
      .header('Access-Control-Max-Age', '86400')
      .header('Vary', 'Origin, Access-Control-Request-Headers')
      .code(204)
      .send();
  };
}
