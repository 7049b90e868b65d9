/**
 * @internal
 * A response stream that never started: its first `next()` rejects with
 * `error`, as a started stream's would, so a stream call reports bad input
 * where it reports every other failure, never by throwing where it is made.
 */
export function failedStream(error: unknown): AsyncIterableIterator<never> {
  let thrown = false;
  const stream: AsyncIterableIterator<never> = {
    [Symbol.asyncIterator]: () => stream,
    next: () => {
      if (thrown) return Promise.resolve({ value: undefined, done: true });
      thrown = true;
      return Promise.reject(error);
    },
    return: () => {
      thrown = true;
      return Promise.resolve({ value: undefined, done: true });
    },
    throw: (reason?: unknown) => {
      thrown = true;
      return Promise.reject(reason);
    },
  };
  return stream;
}
