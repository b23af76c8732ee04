import { useCallback, useState } from 'react';

export interface Action<T> {
  readonly busy: boolean;
  readonly result: T | undefined;
  readonly error: unknown;
  /** Runs `work`, clearing the last result or error; `busy` meanwhile. */
  run(work: () => Promise<T>): Promise<void>;
}

/** A request that a click or a submit starts (a verification, an explanation), with what it answered. */
export function useAction<T>(): Action<T> {
  const [state, setState] = useState<{ busy: boolean; result?: T; error?: unknown }>({ busy: false });
  const run = useCallback(async (work: () => Promise<T>) => {
    setState({ busy: true });
    try {
      setState({ busy: false, result: await work() });
    } catch (error) {
      setState({ busy: false, error });
    }
  }, []);
  return { busy: state.busy, result: state.result, error: state.error, run };
}
