import { useCallback, useRef } from 'react';

/**
 * Runs `start` unless an earlier one is still on its way (a dropped call resolves undefined). A
 * double click on a job's button sent two jobs, and the page followed only the last: the first
 * held the worker with nothing on the page to cancel it.
 */
export function useOneAtATime(): <T>(start: () => Promise<T>) => Promise<T | undefined> {
  const busy = useRef(false);
  return useCallback(async <T,>(start: () => Promise<T>): Promise<T | undefined> => {
    if (busy.current) return undefined;
    busy.current = true;
    try {
      return await start();
    } finally {
      busy.current = false;
    }
  }, []);
}
