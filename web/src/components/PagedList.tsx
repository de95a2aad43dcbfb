/**
 * The cursor-paged lists (organizations, runs, audit log): one fetch per page with its cursor stack, and the states
 * such a list shows — error, first load, an empty first page, or the page with Previous/Next below it.
 */
import type { ReactNode } from 'react';

import { query, type Page } from '../api.js';
import { useCursorStack, useFetch, type CursorStack, type FetchState } from '../hooks.js';
import { ErrorState, Loading, Pager } from './ui.js';

const PAGE_SIZE = 50;

export interface PagedFetch<T> {
  list: FetchState<Page<T>>;
  paging: CursorStack;
}

/** GETs the page of `path` the cursor stack points at; any change of `filters` goes back to the first page. */
export function usePagedFetch<T>(path: string, filters: Record<string, string>): PagedFetch<T> {
  const paging = useCursorStack(JSON.stringify(filters));
  const list = useFetch<Page<T>>(`${path}${query({ ...filters, limit: PAGE_SIZE, cursor: paging.cursor })}`);
  return { list, paging };
}

export function PagedList<T>({
  list,
  paging,
  errorTitle,
  loadingLabel,
  pagerLabel,
  empty,
  children,
}: PagedFetch<T> & {
  errorTitle: string;
  loadingLabel: string;
  pagerLabel: string;
  /** Shown when the first page has no items (an empty later page keeps its pager, to go back). */
  empty: ReactNode;
  children: (page: Page<T>) => ReactNode;
}) {
  if (list.error && !list.loading)
    return <ErrorState title={errorTitle} error={list.error} onRetry={list.reload} />;
  if (!list.data) return <Loading label={loadingLabel} />;
  if (list.data.items.length === 0 && paging.page === 1) return empty;
  const { nextCursor } = list.data;
  return (
    <div aria-busy={list.loading}>
      {children(list.data)}
      <Pager
        label={pagerLabel}
        page={paging.page}
        hasPrevious={paging.hasPrevious}
        hasNext={nextCursor !== null}
        onPrevious={paging.previous}
        onNext={() => {
          if (nextCursor) paging.next(nextCursor);
        }}
      />
    </div>
  );
}
