/** `fields` / `include_fields` query handling shared by list and get endpoints. */
import type { Json } from './model.js';

export function projector(query: URLSearchParams): (row: Json) => Json {
  const fieldsParam = query.get('fields');
  if (!fieldsParam) return (row) => row;
  const fields = new Set(fieldsParam.split(',').map((field) => field.trim()));
  const include = query.get('include_fields') !== 'false';
  return (row) => Object.fromEntries(Object.entries(row).filter(([key]) => fields.has(key) === include));
}

export function withoutUndefined<T extends Json>(record: T): T {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)) as T;
}
