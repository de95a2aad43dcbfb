import { useCallback, useEffect, useState } from 'react';

import { api, isAbort, type ApiError } from './api.js';

export const PRODUCT_NAME = 'Org Admin Portal';

export function useDocumentTitle(title: string): void {
  useEffect(() => {
    document.title = title === '' ? PRODUCT_NAME : `${title} · ${PRODUCT_NAME}`;
  }, [title]);
}

export function useDebounced<T>(value: T, delayMs: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = window.setTimeout(() => setDebounced(value), delayMs);
    return () => window.clearTimeout(timer);
  }, [value, delayMs]);
  return debounced;
}

export interface FetchState<T> {
  data: T | null;
  error: ApiError | Error | null;
  loading: boolean;
  /** Fetches the same URL again (keeps the current data on screen meanwhile). */
  reload: () => void;
  setData: (update: (current: T | null) => T | null) => void;
}

/**
 * GETs `url` (null: nothing) and again whenever it changes; a newer request aborts the one in flight, so a slow
 * stale answer can never overwrite a fresh one.
 */
export function useFetch<T>(url: string | null): FetchState<T> {
  const [data, setDataState] = useState<T | null>(null);
  const [error, setError] = useState<ApiError | Error | null>(null);
  const [loading, setLoading] = useState(url !== null);
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    if (url === null) {
      setLoading(false);
      return;
    }
    const controller = new AbortController();
    setLoading(true);
    api.get<T>(url, controller.signal).then(
      (result) => {
        setDataState(result);
        setError(null);
        setLoading(false);
      },
      (failure: unknown) => {
        if (isAbort(failure)) return;
        setError(failure instanceof Error ? failure : new Error(String(failure)));
        setLoading(false);
      },
    );
    return () => controller.abort();
  }, [url, generation]);

  const reload = useCallback(() => setGeneration((value) => value + 1), []);
  const setData = useCallback((update: (current: T | null) => T | null) => setDataState(update), []);
  return { data, error, loading, reload, setData };
}

export interface CursorStack {
  /** The cursor of the current page (null: the first). */
  cursor: string | null;
  page: number;
  hasPrevious: boolean;
  next: (nextCursor: string) => void;
  previous: () => void;
}

/** Cursor paging: a stack of the cursors of the pages before the current one. */
export function useCursorStack(resetKey: string): CursorStack {
  const [stack, setStack] = useState<(string | null)[]>([null]);
  const [key, setKey] = useState(resetKey);
  if (key !== resetKey) {
    // Filters changed: back to the first page (React re-renders at once, before anything is fetched).
    setKey(resetKey);
    setStack([null]);
  }
  const cursor = stack[stack.length - 1] ?? null;
  return {
    cursor,
    page: stack.length,
    hasPrevious: stack.length > 1,
    next: (nextCursor: string) => setStack((current) => [...current, nextCursor]),
    previous: () => setStack((current) => (current.length > 1 ? current.slice(0, -1) : current)),
  };
}

/** A value that becomes `true` a moment after `active`, to avoid flashing "Loading…" for fast answers. */
export function useDelayedFlag(active: boolean, delayMs = 250): boolean {
  const [shown, setShown] = useState(false);
  useEffect(() => {
    if (!active) {
      setShown(false);
      return;
    }
    const timer = window.setTimeout(() => setShown(true), delayMs);
    return () => window.clearTimeout(timer);
  }, [active, delayMs]);
  return shown;
}
