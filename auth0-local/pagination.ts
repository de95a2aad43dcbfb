/**
 * Auth0's two pagination styles (reference §2): offset (`page`, `per_page`, `include_totals`; a bare array unless
 * totals are asked for) and checkpoint (`from`, `take`; `{<key>: [...], next?}`). When `take` is present the server
 * uses checkpoint mode even if offset parameters are sent too. Checkpoint pages over a whole table cost O(log n +
 * page): the cursor is the position of the last row returned.
 */
import { badRequest } from './errors.js';
import type { Table } from './state/table.js';

export function queryValidationError(name: string, message: string): Error {
  return badRequest(`Query validation error: '${message}' on property ${name}.`, 'invalid_query_string');
}

export function intParam(query: URLSearchParams, name: string, min: number, max: number): number | undefined {
  const raw = query.get(name);
  if (raw === null || raw === '') return undefined;
  if (!/^-?\d+$/.test(raw)) throw queryValidationError(name, `Expected type integer but found type string`);
  const value = Number(raw);
  if (value < min) throw queryValidationError(name, `Value ${value} is less than minimum ${min}`);
  if (value > max) throw queryValidationError(name, `Value ${value} is greater than maximum ${max}`);
  return value;
}

export function boolParam(query: URLSearchParams, name: string): boolean | undefined {
  const raw = query.get(name);
  if (raw === null || raw === '') return undefined;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw queryValidationError(name, `Expected type boolean but found type string`);
}

// A table cursor names the sequence number of the last row returned, so rows deleted between pages do not shift
// the next page; a cursor over a filtered array is a position.
const encodeCursor = (kind: 'seq' | 'pos', value: number): string =>
  Buffer.from(`${kind}:${value}`).toString('base64url');

function decodeCursor(cursor: string): number {
  const match = /^(?:seq|pos):(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw badRequest('Invalid from parameter', 'invalid_query_string');
  return Number(match[1]);
}

export interface ListOptions<T> {
  /** Whether the endpoint supports checkpoint (`from`/`take`) and offset paging. */
  checkpoint: boolean;
  offset: boolean;
  /** The response omits `total` (the invitations list does). */
  withoutTotal?: boolean;
  defaultPerPage?: number;
  maxTake?: number;
  project?: (row: T) => unknown;
}

/** Pages a table (creation order) or an already-filtered array in the style the request asks for. */
export function listResponse<T extends object>(
  query: URLSearchParams,
  key: string,
  source: Table<T> | T[],
  options: ListOptions<T>,
): unknown {
  const project = options.project ?? ((row: T) => row);
  const take = intParam(query, 'take', 1, options.maxTake ?? 100);
  const from = query.get('from');
  const checkpoint = options.checkpoint && (take !== undefined || (from !== null && from !== ''));
  if (checkpoint || !options.offset) {
    const size = take ?? 50;
    const start = from ? decodeCursor(from) : 0;
    if (Array.isArray(source)) {
      const rows = source.slice(start, start + size);
      const page: Record<string, unknown> = { [key]: rows.map(project) };
      if (start + rows.length < source.length) page['next'] = encodeCursor('pos', start + rows.length);
      return page;
    }
    const { rows, lastSeq, more } = source.after(start, size);
    const page: Record<string, unknown> = { [key]: rows.map(project) };
    if (more && lastSeq !== undefined) page['next'] = encodeCursor('seq', lastSeq);
    return page;
  }
  const perPage = intParam(query, 'per_page', 0, 100) ?? options.defaultPerPage ?? 50;
  const pageIndex = intParam(query, 'page', 0, 1000) ?? 0;
  const start = pageIndex * perPage;
  const rows = Array.isArray(source) ? source.slice(start, start + perPage) : source.slice(start, perPage);
  const items = rows.map(project);
  if (boolParam(query, 'include_totals') !== true) return items;
  const total = Array.isArray(source) ? source.length : source.size;
  const page: Record<string, unknown> = { [key]: items, start, limit: perPage };
  if (!options.withoutTotal) page['total'] = total;
  return page;
}
