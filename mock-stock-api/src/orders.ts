// Validation of the POST /orders body.
import { z } from 'zod';
import type { OrderRequest } from './accounts.ts';
import { ApiError } from './errors.ts';

export const MAX_ORDER_QUANTITY = 10_000;

/** "is required" when absent, otherwise "must be <what>". */
const expect = (what: string) => ({
  error: (issue: { input?: unknown }) => (issue.input === undefined ? 'is required' : `must be ${what}`),
});

const orderSchema = z.strictObject({
  symbol: z
    .string(expect('a string'))
    .trim()
    .min(1, 'must not be empty')
    .max(10, 'must be at most 10 characters')
    .regex(/^[A-Za-z]+$/, 'must contain letters only')
    .transform((s) => s.toUpperCase()),
  side: z.enum(['buy', 'sell'], expect('"buy" or "sell"')),
  quantity: z
    .number(expect('a number'))
    .int('must be an integer')
    .positive('must be positive')
    .max(MAX_ORDER_QUANTITY, `must be at most ${MAX_ORDER_QUANTITY}`),
  limit_price: z.number(expect('a number')).positive('must be positive').finite().optional(),
});

/** Parses the raw request text into an order request; throws invalid_json / invalid_order (with field messages). */
export function parseOrderRequest(text: string): OrderRequest {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new ApiError('invalid_json', 'Request body must be valid JSON.', { cause: err });
  }
  const result = orderSchema.safeParse(body);
  if (result.success) return result.data;
  const fields: Record<string, string> = {};
  for (const issue of result.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) fields[key.slice(0, 40)] ??= 'is not a recognized field';
    } else {
      fields[issue.path.join('.') || '(body)'] ??= issue.path.length ? issue.message : 'must be a JSON object';
    }
  }
  throw new ApiError('invalid_order', 'Order body is invalid; see "fields".', { fields });
}
