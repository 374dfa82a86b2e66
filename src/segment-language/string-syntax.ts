/**
 * The quoted-string syntax shared by the lexer (reading) and the printer (writing): double quotes,
 * JSON's escapes (\" \\ \/ \b \f \n \r \t \uXXXX), and no raw control characters.
 */
const SIMPLE_ESCAPES: ReadonlyMap<string, string> = new Map([
  ['"', '"'],
  ['\\', '\\'],
  ['/', '/'],
  ['b', '\b'],
  ['f', '\f'],
  ['n', '\n'],
  ['r', '\r'],
  ['t', '\t'],
]);

const PRINTED_ESCAPES: ReadonlyMap<string, string> = new Map([
  ['"', '\\"'],
  ['\\', '\\\\'],
  ['\b', '\\b'],
  ['\f', '\\f'],
  ['\n', '\\n'],
  ['\r', '\\r'],
  ['\t', '\\t'],
]);

export type EscapeResult =
  | { readonly ok: true; readonly value: string; readonly length: number }
  | { readonly ok: false; readonly reason: string };

/** Decodes the escape whose backslash is at `index`; `length` counts the backslash. */
export function decodeEscape(text: string, index: number): EscapeResult {
  const letter = text[index + 1];
  if (letter === undefined) return { ok: false, reason: 'unterminated string' };
  const simple = SIMPLE_ESCAPES.get(letter);
  if (simple !== undefined) return { ok: true, value: simple, length: 2 };
  if (letter === 'u') {
    const hex = text.slice(index + 2, index + 6);
    if (/^[0-9A-Fa-f]{4}$/.test(hex)) {
      return { ok: true, value: String.fromCharCode(parseInt(hex, 16)), length: 6 };
    }
    return { ok: false, reason: '\\u must be followed by four hexadecimal digits' };
  }
  return {
    ok: false,
    reason: `unknown escape "\\${letter}"; use \\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX`,
  };
}

/**
 * Quotes a string so that the lexer reads back exactly the same UTF-16 units. Control characters,
 * U+2028/U+2029 and lone surrogates are written as \uXXXX so the text survives UTF-8 storage.
 */
export function quoteString(value: string): string {
  let out = '"';
  for (let i = 0; i < value.length; i++) {
    const char = value[i] as string;
    const code = value.charCodeAt(i);
    const printed = PRINTED_ESCAPES.get(char);
    if (printed !== undefined) {
      out += printed;
    } else if (code >= 0xd800 && code <= 0xdbff && isLowSurrogate(value.charCodeAt(i + 1))) {
      out += value.slice(i, i + 2);
      i++;
    } else if (code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029) {
      out += unicodeEscape(code);
    } else if (code >= 0xd800 && code <= 0xdfff) {
      out += unicodeEscape(code);
    } else {
      out += char;
    }
  }
  return `${out}"`;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

function unicodeEscape(code: number): string {
  return `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`;
}
