import { useCallback, useEffect, useRef, useState } from 'react';

export interface Resource<T> {
  readonly data: T | undefined;
  readonly error: unknown;
  readonly loading: boolean;
  reload(): void;
}

/** Loads `load()` whenever `key` changes (and on reload()); answers of superseded loads are dropped. */
export function useResource<T>(key: string, load: () => Promise<T>): Resource<T> {
  const loader = useRef(load);
  loader.current = load;
  const [state, setState] = useState<{ key: string; data?: T; error?: unknown; loading: boolean }>({
    key,
    loading: true,
  });
  const [version, setVersion] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: key and version are the triggers; the loader is read from a ref
  useEffect(() => {
    let current = true;
    // A reload keeps showing the current data while it loads; another key starts afresh.
    setState((s) => ({ key, data: s.key === key ? s.data : undefined, loading: true }));
    loader.current().then(
      (data) => current && setState({ key, data, loading: false }),
      (error: unknown) => current && setState({ key, error, loading: false }),
    );
    return () => {
      current = false;
    };
  }, [key, version]);
  const reload = useCallback(() => setVersion((v) => v + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}
