import type { ComponentChildren } from 'preact';
import { ApiError } from '../lib/api';
import { redactCards } from '../lib/format';
import { href } from '../lib/router';

/** A status word with a colour; the word itself carries the meaning (colour is never the only cue). */
export function Status({ value }: { value: string | null | undefined }) {
  if (!value) return null;
  return <span class={`status status-${value.replace(/[^a-z_]/g, '')}`}>{value.replace(/_/g, ' ')}</span>;
}

export function ErrorNotice({ error }: { error: Error | undefined }) {
  if (!error) return null;
  const api = error instanceof ApiError ? error : undefined;
  return (
    <div class="notice notice-error" role="alert">
      <strong>{api ? `${api.status} ${api.code}` : 'Error'}</strong>: {error.message}
      {api?.requestId ? <span class="muted"> (request {api.requestId})</span> : null}
    </div>
  );
}

export function Loading({ when }: { when: boolean }) {
  return when ? <p class="muted" role="status">Loading…</p> : null;
}

/** Raw JSON one click away, card data reduced to brand and last4. */
export function RawJson({ value, label = 'Raw JSON' }: { value: unknown; label?: string }) {
  return (
    <details class="raw">
      <summary>{label}</summary>
      <pre tabIndex={0}>{JSON.stringify(redactCards(value), null, 2)}</pre>
    </details>
  );
}

export function Section({ title, children, id }: { title: string; children: ComponentChildren; id?: string }) {
  return (
    <section aria-labelledby={id} class="panel">
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}

export interface PageInfo {
  first?: string;
  last?: string;
  hasMore: boolean;
}

/**
 * Newer / older pages by cursor (API.md "Lists"): `ending_before` the first row for
 * newer, `starting_after` the last row for older. `has_more` tells about the direction
 * the current page was asked in.
 */
export function Pager({ path, query, page }: { path: string; query: Record<string, string>; page: PageInfo }) {
  const { starting_after: after, ending_before: before, ...rest } = query;
  const walkedNewer = before !== undefined;
  const olderExists = walkedNewer ? true : page.hasMore;
  const newerExists = walkedNewer ? page.hasMore : after !== undefined;
  return (
    <nav class="pager" aria-label="Pages">
      {newerExists && page.first ? <a href={href(path, { ...rest, ending_before: page.first })}>← Newer</a> : <span aria-hidden="true" />}
      {olderExists && page.last ? <a href={href(path, { ...rest, starting_after: page.last })}>Older →</a> : <span aria-hidden="true" />}
    </nav>
  );
}

export function pageOf(rows: Array<{ id: string }>, hasMore: boolean): PageInfo {
  return { first: rows[0]?.id, last: rows[rows.length - 1]?.id, hasMore };
}
