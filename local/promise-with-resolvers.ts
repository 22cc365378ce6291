/**
 * `Promise.withResolvers` for Node.js 20: aws-local-stepfunctions (which runs state machine definitions in
 * tests) calls it in every Task state, and it exists from Node.js 22 on (the Lambda runtime is 24).
 */
interface WithResolvers {
  withResolvers?: unknown;
}

if (typeof (Promise as WithResolvers).withResolvers !== 'function') {
  (Promise as WithResolvers).withResolvers = function withResolvers<T>() {
    let resolve!: (value: T | PromiseLike<T>) => void;
    let reject!: (reason?: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

export {};
