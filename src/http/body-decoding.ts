import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { AppError } from '../errors/app-error.ts';
import { INGESTION_LIMITS } from '../ingestion/ingestion-limits.ts';

const gunzipAsync = promisify(gunzip);

/**
 * Inflates a gzip body with a hard cap on the output, so a small bomb cannot allocate more
 * than the largest legal batch.
 */
export async function decodeBody(raw: Buffer, contentEncoding: string | undefined): Promise<Buffer> {
  const encoding = (contentEncoding ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity' || encoding === '') return raw;
  if (encoding !== 'gzip' && encoding !== 'x-gzip') {
    throw new AppError(
      'request.unsupported_encoding',
      `Content-Encoding "${encoding}" is not supported; use gzip or none`,
    );
  }
  try {
    return await gunzipAsync(raw, { maxOutputLength: INGESTION_LIMITS.maxDecompressedBytes + 1 });
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || error instanceof RangeError) {
      throw new AppError(
        'request.too_large',
        `the decompressed body exceeds ${INGESTION_LIMITS.maxDecompressedBytes} bytes`,
      );
    }
    throw new AppError('request.invalid_gzip', 'the body is not valid gzip data');
  }
}

/** JSON.parse keeps "__proto__" as an own data key, so client data can never reach a prototype. */
export function parseJsonBody(body: Buffer): unknown {
  const text = body.toString('utf8');
  if (text.trim() === '')
    throw new AppError('request.invalid_json', 'the body is empty; expected a JSON object');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new AppError('request.invalid_json', `the body is not valid JSON: ${(error as Error).message}`);
  }
}
