/**
 * @internal
 * A single-response call as nice-grpc's middleware protocol wants `next()` to
 * answer: an async iterator that yields nothing and returns the response.
 * Written out instead of as an async generator: `yield*` on it costs no
 * generator of its own per call.
 */
export class ResponseAsNext implements AsyncGenerator<never, unknown, undefined> {
  private finished = false;

  constructor(private readonly response: () => Promise<unknown>) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<never, unknown>> {
    if (this.finished) return Promise.resolve({ done: true, value: undefined });
    this.finished = true;
    return this.response().then((value) => ({ done: true, value }));
  }

  return(value?: unknown): Promise<IteratorResult<never, unknown>> {
    this.finished = true;
    return Promise.resolve({ done: true, value });
  }

  throw(error?: unknown): Promise<IteratorResult<never, unknown>> {
    this.finished = true;
    return Promise.reject(error);
  }

  async [Symbol.asyncDispose](): Promise<void> {}
}
