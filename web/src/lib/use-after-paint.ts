/**
 * False on the first render, true once the browser has painted it. Lets a page show what matters
 * first (a run's verdict) and mount its heavier parts (output panes, charts) right after: on a
 * slow phone the verdict then appears before the work of laying those out.
 */
import { useEffect, useState } from 'react';

export function useAfterPaint(): boolean {
  const [painted, setPainted] = useState(false);
  useEffect(() => {
    // rAF runs before the next paint; the timeout queued there runs after it.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const frame = requestAnimationFrame(() => {
      timer = setTimeout(() => setPainted(true), 0);
    });
    return () => {
      cancelAnimationFrame(frame);
      clearTimeout(timer);
    };
  }, []);
  return painted;
}
