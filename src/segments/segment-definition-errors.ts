import { AppError } from '../errors/app-error.ts';
import type { Diagnostic } from '../segment-language/index.ts';

/**
 * A definition that does not parse or validate, as the API's 400: the first problem's code and
 * message (`line 1, column 15: expected …`), its position and what was expected, and every
 * problem in `problems`.
 */
export function definitionError(errors: readonly Diagnostic[]): AppError {
  const [first] = errors;
  if (first === undefined || first.code === 'segment.trivial_count') {
    return new AppError('segment.parse_error', 'the definition is not valid');
  }
  return new AppError(first.code, first.message, {
    line: first.line,
    column: first.column,
    expected: first.expected,
    problems: errors.map(({ code, message, line, column, expected }) => ({
      code,
      message,
      line,
      column,
      expected,
    })),
  });
}
