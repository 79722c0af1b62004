import { useEffect, useState } from 'preact/hooks';

/**
 * Hash routing (`#/payments?status=failed`): the server serves one page at /console and
 * needs no route of its own per view, a reload or a shared link lands on the same view,
 * and the back button works. Small enough not to need a router package.
 */

export interface Route {
  path: string;
  segments: string[];
  query: Record<string, string>;
}

export function parseHash(hash: string): Route {
  const raw = hash.startsWith('#/') ? hash.slice(1) : '/payments';
  const [path = '/payments', search = ''] = raw.split('?', 2);
  const query: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(search)) query[key] = value;
  return { path, segments: path.split('/').filter(Boolean).map(decodeURIComponent), query };
}

/** A hash link: `href('/payments', { status: 'failed' })`. */
export function href(path: string, params: Record<string, string | undefined> = {}): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== '') search.set(key, value);
  const text = search.toString();
  return `#${path}${text ? `?${text}` : ''}`;
}

export function navigate(path: string, params: Record<string, string | undefined> = {}): void {
  location.hash = href(path, params);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const update = () => {
      // Only route hashes (#/...) are views; anything else is ignored.
      if (location.hash === '' || location.hash.startsWith('#/')) setRoute(parseHash(location.hash));
    };
    addEventListener('hashchange', update);
    return () => removeEventListener('hashchange', update);
  }, []);
  return route;
}
